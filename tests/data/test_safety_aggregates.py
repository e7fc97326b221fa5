"""Fever and adverse-event overview counted in DuckDB equal the pandas functions on the fetched rows.

Compared to 1e-9 on the demo trial and the unusual-arms trial, for a by-arm and a pooled (blinded)
viewer, all patients and women; and on the hand-built fixtures of tests/domain/test_safety.py loaded
into a database, whose edge cases (pre-dose and late readings, a missing reading, a NaN reading, a
reading of an infusion never given) the simulated trials do not have.
"""

import re
from datetime import date

import duckdb
import pandas as pd
import pytest

from dashboard.data import queries
from dashboard.data.safety_aggregates import _AE_CATEGORY_SQL, ae_overview_counts, fever_counts
from dashboard.data.schema import create_tables
from dashboard.domain import POOLED_LABEL, adverse_events, safety
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import connect_unblinded
from tests.domain.test_safety import ARM, FEVER_38, OVERVIEW, ae_data, fever_data
from tests.oracle import adverse_events as oracle_aes
from tests.oracle import safety as safety_oracle

ALL, WOMEN = SubjectFilter(), SubjectFilter(sex=("F",))
FILTERS = {"all": ALL, "women": WOMEN}
CLOSE = dict(check_exact=False, rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module", params=["trial_db", "unusual_arms_db"])
def con(request):
    with connect_unblinded(request.getfixturevalue(request.param)) as c:
        yield c


def _viewer(con, include_arm: bool) -> tuple[str | None, tuple[str, ...]]:
    """(group_col, arms) as TrialView gives them: the arm in study order, or pooled with no arms."""
    return ("arm", tuple(queries.study(con, True)["arms"])) if include_arm else (None, ())


def _assert_same_fever(got: safety.FeverIncidence, expected: safety.FeverIncidence) -> None:
    pd.testing.assert_frame_equal(got.summary, expected.summary, **CLOSE)
    pd.testing.assert_frame_equal(got.comparison, expected.comparison, **CLOSE)
    assert (got.threshold, got.conf_level, got.method) == (expected.threshold, expected.conf_level, expected.method)


# ---------------------------------------------------------------- the simulated trials


@pytest.mark.parametrize("include_arm", [True, False], ids=["by arm", "pooled"])
@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_fever_incidence_from_sql_counts_equals_pandas(con, f, include_arm):
    group_col, arms = _viewer(con, include_arm)
    vs, infusions = queries.vital_rows(con, f, include_arm), queries.infusion_rows(con, f, include_arm)
    counts = fever_counts(con, f, safety.FEVER_THRESHOLDS, include_arm)
    for threshold in safety.FEVER_THRESHOLDS:
        expected = safety_oracle.fever_incidence(vs, infusions, group_col=group_col, threshold=threshold, arms=arms)
        _assert_same_fever(safety.fever_from_counts(counts, threshold=threshold, arms=arms), expected)
        assert expected.summary["n_at_risk"].gt(0).all()
        assert len(expected.comparison) == (4 if include_arm else 0)


def test_fever_without_arms_order_from_sql_equals_pandas(con):
    vs, infusions = queries.vital_rows(con, ALL, True), queries.infusion_rows(con, ALL, True)
    expected = safety_oracle.fever_incidence(vs, infusions, group_col="arm", threshold=37.3)
    _assert_same_fever(safety.fever_from_counts(fever_counts(con, ALL, (37.3,), True), threshold=37.3), expected)
    assert expected.comparison.empty and "arms=(active, reference)" in expected.method


def test_the_compared_fever_counts_include_fevers(con):
    # Guards the equality tests: on all patients both thresholds have febrile infusions in each arm's data.
    counts = fever_counts(con, ALL, safety.FEVER_THRESHOLDS, True)
    assert set(counts["threshold"]) == set(safety.FEVER_THRESHOLDS)
    assert counts.groupby("threshold")["n_fever"].sum().gt(0).all()
    assert (counts["n_fever"] < counts["n_at_risk"]).any()


@pytest.mark.parametrize("include_arm", [True, False], ids=["by arm", "pooled"])
@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_ae_overview_from_sql_counts_equals_pandas(con, f, include_arm):
    group_col, arms = _viewer(con, include_arm)
    expected = oracle_aes.ae_overview(queries.adverse_event_rows(con, f, include_arm),
                                          queries.subjects(con, f, include_arm), group_col=group_col, arms=arms)
    got = adverse_events.ae_overview_from_counts(ae_overview_counts(con, f, include_arm), arms=arms)
    pd.testing.assert_frame_equal(got.table, expected.table, **CLOSE)
    assert got.method == expected.method
    assert len(expected.table) == 7 * (2 if include_arm else 1)
    assert expected.table["events"].sum() > 0 and expected.table["n_patients"].sum() > 0


def test_pooled_counts_have_no_arm_and_their_sql_never_names_it(con):
    seen: list[str] = []

    class Recording:
        def execute(self, sql, params=None):
            seen.append(sql)
            return con.execute(sql, params)

    for counts in (fever_counts(Recording(), ALL, safety.FEVER_THRESHOLDS, False), ae_overview_counts(Recording(), ALL, False)):
        assert counts["group"].isna().all() and "arm" not in counts.columns
    assert len(seen) == 2 and not any(re.search(r"\barm\b", sql, re.IGNORECASE) for sql in seen)
    assert set(adverse_events.ae_overview_from_counts(ae_overview_counts(con, ALL, False)).table["group"]) == {POOLED_LABEL}


def test_every_overview_category_has_one_sql_condition():
    assert set(_AE_CATEGORY_SQL) == {key for key, _ in adverse_events.OVERVIEW_CATEGORIES}


# ---------------------------------------------------------------- the hand-built fixtures in a database

WOMEN_IDS = {"A1", "A2", "A3", "A4", "A5", "P1", "P2", "P3", "S1", "S4"}


def _subjects(arms: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "usubjid": list(arms), "site_id": "01", "arm": list(arms.values()), "randomized_on": date(2024, 1, 1),
        "day1_on": date(2024, 1, 2), "sex": ["F" if u in WOMEN_IDS else "M" for u in arms], "status": "on study",
        "last_contact_on": date(2024, 12, 31),
    })


@pytest.fixture(scope="module")
def hand_db():
    """fever_data and ae_data in one database, with readings the pandas and SQL paths must both ignore, and
    repeat readings at 0 h and 24 h that count at 37.3 only (so the hand counts at 38.0 still hold)."""
    vs, infusions = fever_data()
    extra = pd.DataFrame([
        ("P3", 3, "2H", 2.0, "TEMP", 39.5),     # P3 never had infusion 3
        ("P4", 3, "24H", 24.0, "TEMP", 37.5),   # fever >= 37.3 at the window's ends, both included
        ("P5", 2, "EOI", 0.0, "TEMP", 37.4),
        ("A9", None, None, None, "TEMP", 39.9),  # not attached to an infusion
    ], columns=["usubjid", "infusion_num", "timepoint", "hours_after", "paramcd", "value"])
    vs = pd.concat([vs.drop(columns="arm"), extra], ignore_index=True).assign(unit="C")
    infusions = infusions.drop(columns="arm").assign(given_on=date(2024, 1, 2))
    ae, subjects = ae_data()
    ae["led_to_discontinuation"] = [False, False, False, True, False, False]
    tables = {"subjects": _subjects({**ARM, **dict(zip(subjects["usubjid"], subjects["arm"]))}),
              "infusions": infusions, "vital_signs": vs, "adverse_events": ae,
              "study": pd.DataFrame([{"study_id": "T", "title": "T", "planned_n": 21, "data_cut_date": date(2025, 1, 1),
                                      "blinded": True, "arms": ["UC-MSC", "Placebo"], "active_arm": "UC-MSC",
                                      "control_arm": "Placebo", "source": "test", "simulated": True,
                                      "follow_up_days": 365}])}
    with duckdb.connect() as c:
        create_tables(c, with_arms=True)
        for name, df in tables.items():
            c.register("frame", df)
            c.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            c.unregister("frame")
        # A NaN reading (a NaN in a DataFrame would arrive as NULL): DuckDB orders NaN above every
        # number, so taken as a value it would become A10's peak and a fever.
        c.execute("INSERT INTO vital_signs VALUES ('A10', 1, '1H', 1.0, 'TEMP', 'NaN'::DOUBLE, 'C')")
        yield c


@pytest.mark.parametrize("include_arm", [True, False], ids=["by arm", "pooled"])
@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_fever_counts_on_the_hand_fixture_equal_pandas(hand_db, f, include_arm):
    group_col, arms = _viewer(hand_db, include_arm)
    vs, infusions = queries.vital_rows(hand_db, f, include_arm), queries.infusion_rows(hand_db, f, include_arm)
    assert vs["value"].isna().sum() == (0 if f == WOMEN else 1)
    counts = fever_counts(hand_db, f, safety.FEVER_THRESHOLDS, include_arm)
    for threshold in safety.FEVER_THRESHOLDS:
        expected = safety_oracle.fever_incidence(vs, infusions, group_col=group_col, threshold=threshold, arms=arms)
        _assert_same_fever(safety.fever_from_counts(counts, threshold=threshold, arms=arms), expected)
        assert expected.summary["n_fever"].sum() > 0


@pytest.mark.parametrize(("inf", "group", "n_given", "n_at_risk", "n_fever", "case"), FEVER_38)
def test_fever_counts_on_the_hand_fixture_match_the_hand_counts(hand_db, inf, group, n_given, n_at_risk, n_fever, case):
    counts = fever_counts(hand_db, ALL, (38.0,), True)
    unit = "patient" if inf is pd.NA else "infusion"
    hit = counts[(counts["unit"] == unit) & (counts["group"] == group)
                 & (counts["infusion_num"].isna() if inf is pd.NA else counts["infusion_num"] == inf)]
    assert len(hit) == 1
    assert tuple(hit[["n_given", "n_at_risk", "n_fever"]].iloc[0]) == (n_given, n_at_risk, n_fever)


@pytest.mark.parametrize("include_arm", [True, False], ids=["by arm", "pooled"])
@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_ae_overview_counts_on_the_hand_fixture_equal_pandas(hand_db, f, include_arm):
    group_col, arms = _viewer(hand_db, include_arm)
    ae_subjects = SubjectFilter(id_search="S", sex=f.sex)
    expected = oracle_aes.ae_overview(queries.adverse_event_rows(hand_db, ae_subjects, include_arm),
                                          queries.subjects(hand_db, ae_subjects, include_arm), group_col=group_col,
                                          arms=arms)
    got = adverse_events.ae_overview_from_counts(ae_overview_counts(hand_db, ae_subjects, include_arm), arms=arms)
    pd.testing.assert_frame_equal(got.table, expected.table, **CLOSE)
    assert got.method == expected.method and expected.table["events"].sum() > 0


@pytest.mark.parametrize(("group", "category", "big_n", "n_patients", "events"), OVERVIEW)
def test_ae_overview_counts_on_the_hand_fixture_match_the_hand_counts(hand_db, group, category, big_n, n_patients,
                                                                       events):
    counts = ae_overview_counts(hand_db, SubjectFilter(id_search="S"), True)
    hit = counts[(counts["group"] == group) & (counts["category"] == category)]
    assert tuple(hit[["N", "n_patients", "events"]].iloc[0]) == (big_n, n_patients, events)
