"""The safety-signal counts aggregated in DuckDB (``ae_term_counts``, ``ae_exposure_counts``, ``first_sae_times``)
equal their pandas oracle (tests/oracle/safety_signals.py) on the fetched rows.

On the demo trial and the unusual-arms trial, by arm and pooled, all patients and women; and on a hand-built
database whose edge cases the simulated trials lack (an SAE before day 1, an event after the last contact, a
patient without any event, a filter that leaves one arm), with counts done by hand.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from dashboard.data import queries
from dashboard.data.safety_aggregates import ae_exposure_counts, ae_term_counts, first_sae_times
from dashboard.data.schema import create_tables
from dashboard.domain import POOLED_LABEL
from dashboard.domain import safety_signals as ss
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import connect_unblinded
from tests.oracle import safety_signals as oracle

ALL, WOMEN = SubjectFilter(), SubjectFilter(sex=("F",))
FILTERS = {"all": ALL, "women": WOMEN}
CLOSE = dict(check_exact=False, rtol=1e-9, atol=1e-9, check_dtype=False)
KEYS = {"ae_term_counts": ["group", "soc", "term"], "ae_exposure_counts": ["group", "category"],
        "first_sae_times": ["group", "usubjid"]}


@pytest.fixture(scope="module", params=["trial_db", "unusual_arms_db"])
def con(request):
    with connect_unblinded(request.getfixturevalue(request.param)) as c:
        yield c


def _sorted(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in key order with NULL keys as empty text (SQL NULL and pandas None alike)."""
    out = df.copy()
    for k in keys:
        out[k] = out[k].astype(object).where(out[k].notna(), "")
    return out.sort_values(keys).reset_index(drop=True)[list(df.columns)]


def _both(con, f: SubjectFilter, include_arm: bool, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(SQL result, oracle result) of query ``name`` for the same patients, sorted alike."""
    sql = {"ae_term_counts": ae_term_counts, "ae_exposure_counts": ae_exposure_counts,
           "first_sae_times": first_sae_times}[name](con, f, include_arm)
    expected = getattr(oracle, name)(queries.adverse_event_rows(con, f, include_arm),
                                     queries.subjects(con, f, include_arm), group_col="arm" if include_arm else None)
    return _sorted(sql, KEYS[name]), _sorted(expected[list(sql.columns)], KEYS[name])


@pytest.mark.parametrize("name", list(KEYS))
@pytest.mark.parametrize("include_arm", [True, False], ids=["by arm", "pooled"])
@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_sql_counts_equal_the_pandas_oracle(con, f, include_arm, name):
    got, expected = _both(con, f, include_arm, name)
    pd.testing.assert_frame_equal(got, expected, **CLOSE)
    # Guards the equality: there is something to count, in every group.
    count = "event" if name == "first_sae_times" else "n_patients"
    assert expected[count].sum() > 0
    assert set(got["group"]) == ({""} if not include_arm else set(queries.study(con, True)["arms"]))


@pytest.mark.parametrize("include_arm", [True, False], ids=["by arm", "pooled"])
def test_signals_and_rates_from_sql_equal_those_from_the_oracle(con, include_arm):
    arms = tuple(queries.study(con, True)["arms"]) if include_arm else None
    got, expected = _both(con, ALL, include_arm, "ae_term_counts")
    from_sql, from_rows = (ss.signals_from_counts(c.replace({"": None}), arms=arms) for c in (got, expected))
    pd.testing.assert_frame_equal(from_sql.incidence, from_rows.incidence, **CLOSE)
    pd.testing.assert_frame_equal(from_sql.comparison, from_rows.comparison, **CLOSE)
    assert len(from_sql.comparison) == (len(from_sql.incidence) // 2 if include_arm else 0)
    got, expected = _both(con, ALL, include_arm, "ae_exposure_counts")
    pd.testing.assert_frame_equal(ss.exposure_adjusted_from_counts(got.replace({"": None}), arms=arms).table,
                                  ss.exposure_adjusted_from_counts(expected.replace({"": None}), arms=arms).table,
                                  **CLOSE)


def test_pooled_queries_have_no_arm_and_their_sql_never_names_it(con):
    seen: list[str] = []

    class Recording:
        def execute(self, sql, params=None):
            seen.append(sql)
            return con.execute(sql, params)

    for query in (ae_term_counts, ae_exposure_counts, first_sae_times):
        result = query(Recording(), ALL, False)
        assert result["group"].isna().all() and "arm" not in result.columns
    assert len(seen) == 3 and not any(re.search(r"\barm\b", sql, re.IGNORECASE) for sql in seen)


# ---------------------------------------------------------------- a hand-built database

DAY1 = date(2024, 1, 2)
# usubjid -> (arm, sex, days on study)
PATIENTS = {"A1": ("UC-MSC", "F", 365), "A2": ("UC-MSC", "M", 200), "A3": ("UC-MSC", "F", 300),
            "P1": ("Placebo", "F", 400), "P2": ("Placebo", "M", 100)}
# usubjid, term, soc, serious, onset_day
EVENTS = [("A1", "Pneumonia", "Infections", True, 10), ("A1", "Pneumonia", "Infections", False, 100),
          ("A1", "Rash", "Skin", False, 400),        # after A1's last contact (day 365): at risk 365 days
          ("A2", "Sepsis", "Infections", False, 50),
          ("P1", "Sepsis", "Infections", True, 200),
          ("P2", "Fall", "Injury", True, 0)]         # before day 1: not a treatment-emergent SAE


@pytest.fixture(scope="module")
def hand_db():
    subjects = pd.DataFrame([{"usubjid": u, "site_id": "01", "arm": arm, "randomized_on": DAY1, "day1_on": DAY1,
                              "sex": sex, "status": "on study", "last_contact_on": DAY1 + timedelta(days=days - 1)}
                             for u, (arm, sex, days) in PATIENTS.items()])
    ae = pd.DataFrame(EVENTS, columns=["usubjid", "term", "soc", "serious", "onset_day"]).assign(
        ae_id=range(1, len(EVENTS) + 1), grade=2, related=False, infusion_related=False,
        outcome="RECOVERED/RESOLVED", led_to_discontinuation=False)
    with duckdb.connect() as c:
        create_tables(c, with_arms=True)
        for name, df in (("subjects", subjects), ("adverse_events", ae)):
            c.register("frame", df)
            c.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            c.unregister("frame")
        yield c


@pytest.mark.parametrize("name", list(KEYS))
@pytest.mark.parametrize("include_arm", [True, False], ids=["by arm", "pooled"])
@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_sql_counts_on_the_hand_database_equal_the_pandas_oracle(hand_db, f, include_arm, name):
    got, expected = _both(hand_db, f, include_arm, name)
    pd.testing.assert_frame_equal(got, expected, **CLOSE)


def test_term_counts_on_the_hand_database_by_hand(hand_db):
    counts = ae_term_counts(hand_db, ALL, True).set_index(["group", "soc", "term"])
    # Pneumonia: A1 twice; Placebo gets its zero row although none of its patients had it.
    assert counts.loc[("UC-MSC", "Infections", "Pneumonia"), ["N", "n_patients", "events"]].tolist() == [3, 1, 2]
    assert counts.loc[("Placebo", "Infections", "Pneumonia"), ["N", "n_patients", "events"]].tolist() == [2, 0, 0]
    soc = ae_term_counts(hand_db, ALL, True)
    infections = soc[soc["term"].isna() & (soc["soc"] == "Infections")].set_index("group")
    assert infections.loc["UC-MSC", ["n_patients", "events"]].tolist() == [2, 3]  # A1 (2), A2 (1)
    assert len(soc) == 2 * (3 + 4)  # two groups x (three SOCs and four PTs)
    assert set(soc["term"].dropna()) == {"Pneumonia", "Sepsis", "Rash", "Fall"}


def test_exposure_and_first_sae_on_the_hand_database_by_hand(hand_db):
    exposure = ae_exposure_counts(hand_db, ALL, True).set_index(["group", "category"])
    # Any AE, UC-MSC: A1 at risk to day 10, A2 to day 50, A3 all 300 days; the day-400 rash is after A1's
    # last contact and does not lengthen anything. Placebo: P1 to day 200, P2's day-0 event gives 0 days.
    assert exposure.loc[("UC-MSC", "any"), ["n_patients", "events", "follow_up_days", "days_at_risk"]].tolist() == \
        [2, 4, 865, 360]
    assert exposure.loc[("Placebo", "any"), ["n_patients", "events", "follow_up_days", "days_at_risk"]].tolist() == \
        [2, 2, 500, 200]
    first = first_sae_times(hand_db, ALL, False).set_index("usubjid")
    # P2's only SAE precedes day 1: censored at its 100 days.
    assert first.loc["P2", ["time_days", "event"]].tolist() == [100.0, 0]
    assert first.loc["A1", ["time_days", "event"]].tolist() == [10.0, 1]


def test_a_filter_that_leaves_one_arm_gives_that_arm_alone(hand_db):
    men = SubjectFilter(sex=("M",), arm=("Placebo",))
    counts = ae_term_counts(hand_db, men, True)
    assert set(counts["group"]) == {"Placebo"} and set(counts["term"].dropna()) == {"Fall"}
    result = ss.signals_from_counts(counts, arms=("Placebo",))
    assert result.comparison.empty and set(result.incidence["group"]) == {"Placebo"}
    assert POOLED_LABEL not in set(result.incidence["group"])
