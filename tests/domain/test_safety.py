"""Tests of dashboard.domain.safety and dashboard.domain.adverse_events, against R
(tests/domain/reference/safety_reference.R) and by hand.

Fixtures are built here, row by row, so every expected count can be read off them. Reference
numbers: ``Rscript tests/domain/reference/safety_reference.R`` writes ``safety_reference.csv``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL, adverse_events, safety
from dashboard.errors import InsufficientData
from tests.oracle import adverse_events as oracle_aes
from tests.oracle import safety as safety_oracle

REF = pd.read_csv(Path(__file__).parent / "reference" / "safety_reference.csv")
TOL = 1e-9
HOURS = {"PRE": -1, "EOI": 0, "1H": 1, "2H": 2, "4H": 4, "8H": 8, "24H": 24}


def r(case: str, quantity: str) -> float:
    """One number written by safety_reference.R."""
    hit = REF[(REF["case"] == case) & (REF["quantity"] == quantity)]
    assert len(hit) == 1, f"{case}/{quantity} not in safety_reference.csv; rerun the R script"
    return float(hit["value"].iat[0])


# ---------------------------------------------------------------- fixtures

# Fever fixture: UC-MSC A1-A10, Placebo P1-P6, every reading 36.6 C except these (usubjid,
# infusion, hour) -> C. A5's 38.4 is pre-dose and must not count; A3 is exactly at 37.3.
OVERRIDES = {
    ("A1", 1, 2): 38.5, ("A2", 1, 4): 38.0, ("A3", 1, 1): 37.3, ("A4", 1, 8): 39.2,
    ("P1", 1, 2): 37.5, ("A5", 1, -1): 38.4, ("A6", 2, 1): 38.2, ("P2", 2, 4): 38.1,
}
ARM = {**{f"A{i}": "UC-MSC" for i in range(1, 11)}, **{f"P{i}": "Placebo" for i in range(1, 7)}}


def fever_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    infusions, vs = [], []
    for usubjid, arm in ARM.items():
        for inf in (1, 2) if usubjid == "P3" else (1, 2, 3):  # P3 missed infusion 3
            infusions.append((usubjid, inf, 1 + 28 * (inf - 1), arm))
            for tp, h in HOURS.items():
                if usubjid == "A7" and inf == 2 and h >= 0:  # A7 infusion 2: no post-dose reading
                    continue
                vs.append((usubjid, inf, tp, h, "TEMP", OVERRIDES.get((usubjid, inf, h), 36.6), arm))
    # Outside the 0-24 h window: must not make A8 febrile.
    vs.append(("A8", 3, "30H", 30, "TEMP", 39.0, "UC-MSC"))
    # Another vital sign: must be ignored.
    vs.append(("A9", 1, "2H", 2, "HR", 120.0, "UC-MSC"))
    inf_df = pd.DataFrame(infusions, columns=["usubjid", "infusion_num", "study_day", "arm"])
    vs_df = pd.DataFrame(vs, columns=["usubjid", "infusion_num", "timepoint", "hours_after", "paramcd", "value", "arm"])
    return vs_df, inf_df


AE_COLS = ["ae_id", "usubjid", "term", "soc", "grade", "serious", "related", "infusion_related",
           "infusion_num", "onset_hours_after", "onset_day", "end_day", "outcome"]
GEN, SKIN, GI, HEP = ("General disorders and administration site conditions",
                      "Skin and subcutaneous tissue disorders", "Gastrointestinal disorders",
                      "Hepatobiliary disorders")


def ae_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """S1-S3 UC-MSC (3.5 patient-years), S4-S5 Placebo (2 patient-years); S3 and S5 have no AE."""
    ae = pd.DataFrame([
        (1, "S1", "Pyrexia", GEN, 1, False, True, True, 1, 1.5, 1, 2, "RECOVERED/RESOLVED"),
        (2, "S1", "Pyrexia", GEN, 2, False, True, True, 2, 3.0, 29, 29, "RECOVERED/RESOLVED"),
        (3, "S1", "Rash", SKIN, 1, False, True, True, 2, 6.0, 29, 31, "RECOVERED/RESOLVED"),
        (4, "S2", "Ascites", GI, 3, True, False, False, None, None, 40, None, "NOT RECOVERED/NOT RESOLVED"),
        (5, "S2", "Hepatic failure", HEP, 5, True, False, False, None, None, 60, 60, "FATAL"),
        (6, "S4", "Pyrexia", GEN, 1, False, False, False, None, None, 10, 11, "RECOVERED/RESOLVED"),
    ], columns=AE_COLS)
    ae["infusion_num"] = ae["infusion_num"].astype("Int64")
    subjects = pd.DataFrame({
        "usubjid": ["S1", "S2", "S3", "S4", "S5"],
        "arm": ["UC-MSC"] * 3 + ["Placebo"] * 2,
        # UC-MSC 365.25 + 730.5 + 182.625 = 1278.375 days = 3.5 years; Placebo 730.5 days = 2 years.
        "exposure_days": [365.25, 730.5, 182.625, 365.25, 365.25],
        "status": ["completed", "died", "on study", "completed", "on study"],
        "day1_on": pd.to_datetime(["2024-01-01"] * 5),
        "death_on": pd.to_datetime([None, "2024-02-29", None, None, None]),
        "death_cause": [None, "Liver failure", None, None, None],
    })
    return ae, subjects


def reaction_ae() -> pd.DataFrame:
    rows = [
        # id, usubjid, term, infusion_related, infusion, onset h  -> expected window
        (1, "A1", "Pyrexia", True, 1, 0.5),                      # 0-2 h
        (2, "A1", "Rash", True, 1, 2.0),                         # 2-6 h (left-closed)
        (3, "A2", "Pyrexia", True, 1, 5.9),                      # 2-6 h
        (4, "A2", "Pyrexia", True, 2, 6.0),                      # 6-24 h
        (5, "A3", "Hypersensitivity", True, 1, 24.0),            # 6-24 h (24 h included)
        (6, "A3", "Pyrexia", True, 2, 30.0),                     # >24 h
        (7, "A4", "Infusion related reaction", True, 1, np.nan),  # onset not recorded
        (8, "A4", "Infusion related reaction", True, 2, -0.2),   # during infusion -> 0-2 h
        (9, "A1", "Pyrexia", True, 2, 1.0),                      # 0-2 h
        (10, "P1", "Pyrexia", False, 1, 1.0),                    # not infusion-related: excluded
        (11, "P1", "Headache", True, 1, 1.0),                    # not a reaction term: excluded
        (12, "P2", "Pyrexia", True, 1, 3.0),                     # 2-6 h
    ]
    df = pd.DataFrame(rows, columns=["ae_id", "usubjid", "term", "infusion_related", "infusion_num", "onset_hours_after"])
    df["arm"] = df["usubjid"].map(ARM)
    df["grade"] = 1
    df["serious"] = False
    df["outcome"] = "RECOVERED/RESOLVED"
    return df


def row(df: pd.DataFrame, **match) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in match.items():
        mask &= df[k].isna() if v is pd.NA else df[k] == v
    hit = df[mask]
    assert len(hit) == 1, f"expected one row for {match}, got {len(hit)}"
    return hit.iloc[0]


# ---------------------------------------------------------------- small statistics


def test_newcombe_hybrid_score_reproduces_the_published_example():
    # Newcombe RG, Stat Med 1998;17:873, Table II: 56/70 vs 48/80, method 10 gives 0.0524 to 0.3339.
    d, lo, hi = safety.newcombe_difference(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    assert lo == pytest.approx(r("rd_newcombe_paper", "rd_lower"), abs=TOL)
    assert hi == pytest.approx(r("rd_newcombe_paper", "rd_upper"), abs=TOL)


def test_clopper_pearson_by_hand_at_the_boundaries():
    # x = 0: lower 0, upper 1 - (alpha/2)^(1/n) = 1 - 0.025^(1/10); x = n mirrors it.
    assert safety.clopper_pearson(0, 10) == pytest.approx((0.0, 1 - 0.025 ** 0.1))
    assert safety.clopper_pearson(10, 10) == pytest.approx((0.025 ** 0.1, 1.0))


def test_poisson_exact_with_zero_events_by_hand():
    # x = 0: upper = -ln(alpha/2) / T = ln(40) / 2 per patient-year.
    assert adverse_events.poisson_exact(0, 2.0) == pytest.approx((0.0, np.log(40) / 2))


# ---------------------------------------------------------------- temperature


def test_temperature_by_hour_mean_and_t_ci_match_r_t_test():
    vs, _ = fever_data()
    res = safety_oracle.temperature_by_hour(vs, group_col="arm")
    hit = row(res.summary, group="UC-MSC", infusion_num=1, hours_after=2)
    assert hit["n"] == 10 and hit["timepoint"] == "2H"
    assert hit["mean"] == pytest.approx(r("t_inf1_h2", "mean"), abs=TOL)
    assert hit["ci_lower"] == pytest.approx(r("t_inf1_h2", "ci_lower"), abs=TOL)
    assert hit["ci_upper"] == pytest.approx(r("t_inf1_h2", "ci_upper"), abs=TOL)
    assert list(res.summary.columns) == ["group", "infusion_num", "hours_after", "timepoint", "n", "mean", "sd",
                                         "ci_lower", "ci_upper"]
    assert "t.test" in res.method


def test_temperature_by_hour_counts_patients_keeps_pre_dose_and_ignores_other_vitals():
    vs, _ = fever_data()
    s = safety_oracle.temperature_by_hour(vs, group_col="arm").summary
    assert row(s, group="UC-MSC", infusion_num=1, hours_after=-1)["mean"] == pytest.approx((38.4 + 9 * 36.6) / 10)
    assert row(s, group="UC-MSC", infusion_num=2, hours_after=1)["n"] == 9  # A7 not measured
    assert row(s, group="Placebo", infusion_num=3, hours_after=0)["n"] == 5  # P3 no infusion 3
    one = row(s, group="UC-MSC", infusion_num=3, hours_after=30)
    assert one["n"] == 1 and np.isnan(one["ci_lower"])  # one reading: no CI
    assert row(s, group="UC-MSC", infusion_num=1, hours_after=2)["mean"] < 37.0  # HR 120 not averaged in


def test_temperature_by_hour_pooled_has_only_the_pooled_label():
    vs, _ = fever_data()
    s = safety_oracle.temperature_by_hour(vs, group_col=None).summary
    assert set(s["group"]) == {POOLED_LABEL}
    assert row(s, infusion_num=1, hours_after=2)["n"] == 16


def test_temperature_readings_one_value_per_patient_agree_with_the_summary():
    vs, _ = fever_data()
    vs = pd.concat([vs, vs[(vs["usubjid"] == "A1") & (vs["hours_after"] == 2) & (vs["infusion_num"] == 1)]
                    .assign(value=38.1)])  # a repeat reading at A1 2 h: averaged, (38.5 + 38.1) / 2
    readings = safety.temperature_readings(vs, group_col=None)
    assert not readings.duplicated(["usubjid", "infusion_num", "hours_after"]).any()
    assert row(readings, usubjid="A1", infusion_num=1, hours_after=2)["value"] == pytest.approx(38.3)
    assert set(readings["group"]) == {POOLED_LABEL} and "arm" not in readings.columns
    summary = safety_oracle.temperature_by_hour(vs, group_col=None).summary
    assert row(summary, infusion_num=1, hours_after=2)["mean"] == pytest.approx(
        readings.query("infusion_num == 1 and hours_after == 2")["value"].mean())


def test_temperature_by_hour_without_temperatures_is_insufficient_data():
    vs, _ = fever_data()
    with pytest.raises(InsufficientData):
        safety_oracle.temperature_by_hour(vs[vs["paramcd"] != "TEMP"], group_col=None)


# ---------------------------------------------------------------- fever incidence

FEVER_38 = [
    # (infusion_num or NA for per patient, group, n_given, n_at_risk, n_fever, R case for the CI)
    (1, "UC-MSC", 10, 10, 3, "cp_3_10"),
    (1, "Placebo", 6, 6, 0, "cp_0_6"),
    (2, "UC-MSC", 10, 9, 1, "cp_1_9"),
    (2, "Placebo", 6, 6, 1, "cp_1_6"),
    (3, "UC-MSC", 10, 10, 0, "cp_0_10"),
    (3, "Placebo", 5, 5, 0, "cp_0_5"),
    (pd.NA, "UC-MSC", 10, 10, 4, "cp_4_10"),
    (pd.NA, "Placebo", 6, 6, 1, "cp_1_6"),
]


@pytest.mark.parametrize(("inf", "group", "n_given", "n_at_risk", "n_fever", "case"), FEVER_38)
def test_fever_incidence_at_38_counts_and_clopper_pearson_match_r(inf, group, n_given, n_at_risk, n_fever, case):
    vs, infusions = fever_data()
    s = safety_oracle.fever_incidence(vs, infusions, group_col="arm", threshold=38.0, arms=("UC-MSC", "Placebo")).summary
    hit = row(s, unit="patient" if inf is pd.NA else "infusion", infusion_num=inf, group=group)
    assert (hit["n_given"], hit["n_at_risk"], hit["n_fever"]) == (n_given, n_at_risk, n_fever)
    assert hit["proportion"] == pytest.approx(n_fever / n_at_risk)
    assert hit["ci_lower"] == pytest.approx(r(case, "ci_lower"), abs=TOL)
    assert hit["ci_upper"] == pytest.approx(r(case, "ci_upper"), abs=TOL)


@pytest.mark.parametrize(("threshold", "inf", "case", "counts"), [
    (38.0, 1, "rd_inf1_38", (3, 10, 0, 6)),
    (38.0, 2, "rd_inf2_38", (1, 9, 1, 6)),
    (38.0, 3, "rd_inf3_38", (0, 10, 0, 5)),
    (38.0, pd.NA, "rd_patient_38", (4, 10, 1, 6)),
    (37.3, 1, "rd_inf1_373", (4, 10, 1, 6)),      # A3 at exactly 37.3 and P1 at 37.5 now count
    (37.3, pd.NA, "rd_patient_373", (5, 10, 2, 6)),
])
def test_fever_risk_difference_newcombe_and_fisher_p_match_r(threshold, inf, case, counts):
    vs, infusions = fever_data()
    res = safety_oracle.fever_incidence(vs, infusions, group_col="arm", threshold=threshold, arms=("UC-MSC", "Placebo"))
    hit = row(res.comparison, unit="patient" if inf is pd.NA else "infusion", infusion_num=inf)
    assert (hit["active"], hit["reference"]) == ("UC-MSC", "Placebo")
    assert tuple(hit[["x_active", "n_active", "x_reference", "n_reference"]]) == counts
    for col in ("risk_difference", "rd_lower", "rd_upper", "p"):
        assert hit[col] == pytest.approx(r(case, col), abs=TOL), col
    assert "Newcombe" in res.method and "Fisher" in res.method


def test_fever_ignores_pre_dose_and_readings_after_24_hours():
    vs, infusions = fever_data()
    s = safety_oracle.fever_incidence(vs, infusions, group_col=None, threshold=38.0).summary
    # Pooled per patient: A1, A2, A4, A6, P2 = 5 of 16; A5 (38.4 pre-dose) and A8 (39.0 at 30 h) are not.
    hit = row(s, unit="patient", infusion_num=pd.NA)
    assert (hit["group"], hit["n_at_risk"], hit["n_fever"]) == (POOLED_LABEL, 16, 5)


def test_fever_pooled_result_has_no_arm_and_no_comparison():
    vs, infusions = fever_data()
    res = safety_oracle.fever_incidence(vs, infusions, group_col=None, threshold=37.3)
    assert set(res.summary["group"]) == {POOLED_LABEL}
    assert res.comparison.empty
    assert row(res.summary, unit="infusion", infusion_num=1)["n_fever"] == 5


def test_fever_two_arms_without_arms_order_does_not_guess_a_direction():
    vs, infusions = fever_data()
    res = safety_oracle.fever_incidence(vs, infusions, group_col="arm", threshold=38.0)
    assert res.comparison.empty and "arms=(active, reference)" in res.method


def test_fever_summary_is_ordered_active_first_when_arms_given():
    vs, infusions = fever_data()
    s = safety_oracle.fever_incidence(vs, infusions, group_col="arm", arms=("UC-MSC", "Placebo")).summary
    assert list(s["group"][:2]) == ["UC-MSC", "Placebo"]
    assert list(s["unit"]) == ["infusion"] * 6 + ["patient"] * 2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"threshold": 39.0}, "threshold must be one of"),
    ({"group_col": "site"}, "argument group_col='site'; allowed values: a column of vs"),
    ({"conf_level": 1.5}, "conf_level"),
])
def test_fever_incidence_rejects_bad_arguments_naming_them(kwargs, message):
    vs, infusions = fever_data()
    args = {"group_col": "arm", **kwargs}
    with pytest.raises(ValueError, match="fever_incidence") as err:
        safety_oracle.fever_incidence(vs, infusions, **args)
    assert message in str(err.value)


def test_fever_incidence_rejects_vs_without_value_column():
    vs, infusions = fever_data()
    with pytest.raises(ValueError, match=r"fever_incidence: argument vs lacks column\(s\) \['value'\]"):
        safety_oracle.fever_incidence(vs.drop(columns="value"), infusions, group_col=None)


def fever_counts_38(group_of=lambda g: g) -> pd.DataFrame:
    """FEVER_38 as the counts frame the SQL gives, plus a 37.3 row that must not be picked at 38.0."""
    rows = [(38.0, "patient" if inf is pd.NA else "infusion", inf, group_of(g), n, at_risk, fever)
            for inf, g, n, at_risk, fever, _ in FEVER_38]
    rows.append((37.3, "infusion", 1, group_of("UC-MSC"), 10, 10, 4))
    return pd.DataFrame(rows, columns=list(safety.FEVER_COUNT_COLUMNS))


def test_fever_from_counts_equals_fever_incidence_on_the_same_patients():
    vs, infusions = fever_data()
    arms = ("UC-MSC", "Placebo")
    expected = safety_oracle.fever_incidence(vs, infusions, group_col="arm", threshold=38.0, arms=arms)
    got = safety.fever_from_counts(fever_counts_38(), threshold=38.0, arms=arms)
    pd.testing.assert_frame_equal(got.summary, expected.summary, check_exact=False, rtol=TOL, atol=TOL)
    pd.testing.assert_frame_equal(got.comparison, expected.comparison, check_exact=False, rtol=TOL, atol=TOL)
    assert (got.threshold, got.method) == (expected.threshold, expected.method)


def test_fever_from_counts_labels_a_null_group_as_pooled():
    counts = fever_counts_38(lambda g: None)
    counts = counts[counts["group"].isna() & (counts["threshold"] == 38.0) & (counts["unit"] == "patient")].head(1)
    res = safety.fever_from_counts(counts, threshold=38.0)
    assert list(res.summary["group"]) == [POOLED_LABEL] and res.comparison.empty


def test_fever_from_counts_without_any_infusion_at_risk_is_insufficient_data():
    counts = fever_counts_38().assign(n_at_risk=0, n_fever=0)
    for frame in (counts, counts.iloc[:0]):
        with pytest.raises(InsufficientData, match="No infusion has a post-dose temperature"):
            safety.fever_from_counts(frame, threshold=38.0)
    with pytest.raises(InsufficientData):  # rows of another threshold only
        safety.fever_from_counts(fever_counts_38()[lambda d: d["threshold"] == 37.3], threshold=38.0)


@pytest.mark.parametrize(("counts", "kwargs", "message"), [
    (fever_counts_38(), {"threshold": 39.0}, "threshold must be one of"),
    (fever_counts_38().drop(columns="n_at_risk"), {}, r"argument counts lacks column\(s\) \['n_at_risk'\]"),
    (fever_counts_38(), {"conf_level": 0}, "conf_level"),
])
def test_fever_from_counts_rejects_bad_arguments_naming_them(counts, kwargs, message):
    with pytest.raises(ValueError, match="fever_from_counts") as err:
        safety.fever_from_counts(counts, **kwargs)
    assert re.search(message, str(err.value))


# ---------------------------------------------------------------- infusion reactions


def test_reactions_by_window_counts_each_window_by_hand():
    t = safety.reactions_by_window(reaction_ae(), group_col="arm", arms=("UC-MSC", "Placebo")).table
    assert len(t) == 2 * 4 * 5  # every group x term x window, zeros included
    expected = {  # (group, term, window) -> (events, patients); every other cell is zero
        ("UC-MSC", "Pyrexia", "0-2 h"): (2, 1),
        ("UC-MSC", "Pyrexia", "2-6 h"): (1, 1),
        ("UC-MSC", "Pyrexia", "6-24 h"): (1, 1),
        ("UC-MSC", "Pyrexia", ">24 h"): (1, 1),
        ("UC-MSC", "Rash", "2-6 h"): (1, 1),
        ("UC-MSC", "Hypersensitivity", "6-24 h"): (1, 1),
        ("UC-MSC", "Infusion related reaction", "0-2 h"): (1, 1),
        ("UC-MSC", "Infusion related reaction", "onset not recorded"): (1, 1),
        ("Placebo", "Pyrexia", "2-6 h"): (1, 1),
    }
    got = {(g, term, w): (e, p) for g, term, w, e, p in t.itertuples(index=False) if e}
    assert got == expected
    assert list(t["group"].unique()) == ["UC-MSC", "Placebo"]


def test_reactions_by_window_pooled_and_arm_without_events():
    ae = reaction_ae()
    pooled = safety.reactions_by_window(ae, group_col=None).table
    assert set(pooled["group"]) == {POOLED_LABEL} and pooled["events"].sum() == 10
    only_active = safety.reactions_by_window(ae[ae["arm"] == "UC-MSC"], group_col="arm", arms=("UC-MSC", "Placebo")).table
    assert only_active.loc[only_active["group"] == "Placebo", "events"].sum() == 0
    assert (only_active["group"] == "Placebo").sum() == 20


def test_reactions_by_window_for_one_infusion_counts_only_its_reactions():
    t = safety.reactions_by_window(reaction_ae(), group_col="arm", arms=("UC-MSC", "Placebo"), infusion_num=2).table
    got = {(g, term, w): (e, p) for g, term, w, e, p in t.itertuples(index=False) if e}
    assert got == {  # ids 4, 6, 8, 9 of reaction_ae are the reactions to infusion 2
        ("UC-MSC", "Pyrexia", "6-24 h"): (1, 1),
        ("UC-MSC", "Pyrexia", ">24 h"): (1, 1),
        ("UC-MSC", "Infusion related reaction", "0-2 h"): (1, 1),
        ("UC-MSC", "Pyrexia", "0-2 h"): (1, 1),
    }
    assert len(t) == 2 * 4 * 5  # the arm without reactions to infusion 2 still has its zero rows


def test_reaction_listing_gives_the_peak_temperature_of_that_infusion():
    vs, _ = fever_data()
    lst = safety.reaction_listing(vs, reaction_ae(), group_col="arm")
    assert len(lst) == 10
    a1 = row(lst, usubjid="A1", infusion_num=1, term="Pyrexia")
    assert (a1["peak_temp"], a1["peak_hour"], a1["window"]) == (38.5, 2, "0-2 h")
    a4 = row(lst, usubjid="A4", infusion_num=1)
    assert (a4["peak_temp"], a4["peak_hour"], a4["window"]) == (39.2, 8, "onset not recorded")
    assert list(lst.columns) == ["group", "usubjid", "infusion_num", "term", "grade", "onset_hours_after", "window",
                                 "peak_temp", "peak_hour", "serious", "outcome"]


# ---------------------------------------------------------------- AE tables

OVERVIEW = [
    # group, category, N, n_patients, events  (read off ae_data)
    ("UC-MSC", "any", 3, 2, 5), ("Placebo", "any", 2, 1, 1),
    ("UC-MSC", "serious", 3, 1, 2), ("Placebo", "serious", 2, 0, 0),
    ("UC-MSC", "related", 3, 1, 3), ("UC-MSC", "infusion_related", 3, 1, 3),
    ("UC-MSC", "grade3", 3, 1, 2), ("UC-MSC", "fatal", 3, 1, 1), ("Placebo", "fatal", 2, 0, 0),
]


@pytest.mark.parametrize(("group", "category", "big_n", "n_patients", "events"), OVERVIEW)
def test_ae_overview_counts_by_hand(group, category, big_n, n_patients, events):
    ae, subjects = ae_data()
    t = oracle_aes.ae_overview(ae, subjects, group_col="arm").table
    hit = row(t, group=group, category=category)
    assert (hit["N"], hit["n_patients"], hit["events"]) == (big_n, n_patients, events)
    assert hit["pct"] == pytest.approx(100 * n_patients / big_n)


def test_ae_overview_lists_groups_in_arms_order_else_alphabetically():
    ae, subjects = ae_data()
    default = oracle_aes.ae_overview(ae, subjects, group_col="arm").table
    ordered = oracle_aes.ae_overview(ae, subjects, group_col="arm", arms=("UC-MSC", "Placebo")).table
    assert list(dict.fromkeys(default["group"])) == ["Placebo", "UC-MSC"]
    assert list(dict.fromkeys(ordered["group"])) == ["UC-MSC", "Placebo"]
    pd.testing.assert_frame_equal(  # same rows, only the order differs
        ordered.sort_values(["group", "category"]).reset_index(drop=True),
        default.sort_values(["group", "category"]).reset_index(drop=True))


def test_ae_overview_discontinuation_only_when_the_column_exists():
    ae, subjects = ae_data()
    res = oracle_aes.ae_overview(ae, subjects, group_col=None)
    assert "discontinuation" not in set(res.table["category"]) and "led_to_discontinuation" in res.method
    ae["led_to_discontinuation"] = [False, False, False, True, False, False]
    t = oracle_aes.ae_overview(ae, subjects, group_col=None).table
    hit = row(t, category="discontinuation")
    assert (hit["group"], hit["N"], hit["n_patients"]) == (POOLED_LABEL, 5, 1)


def test_ae_overview_rejects_events_of_unknown_patients():
    ae, subjects = ae_data()
    with pytest.raises(ValueError, match="ae_overview: argument ae has usubjid"):
        oracle_aes.ae_overview(ae, subjects[subjects["usubjid"] != "S4"], group_col="arm")


def overview_counts(ae: pd.DataFrame, subjects: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    """ae_overview's own table cut back to the counts an SQL query returns, rows shuffled."""
    table = oracle_aes.ae_overview(ae, subjects, group_col=group_col).table
    return table[list(adverse_events.OVERVIEW_COUNT_COLUMNS)].sample(frac=1, random_state=1)


@pytest.mark.parametrize("discontinuation", [True, False])
@pytest.mark.parametrize("arms", [("UC-MSC", "Placebo"), None])
def test_ae_overview_from_counts_equals_ae_overview(arms, discontinuation):
    ae, subjects = ae_data()
    if discontinuation:
        ae["led_to_discontinuation"] = [False, False, False, True, False, False]
    expected = oracle_aes.ae_overview(ae, subjects, group_col="arm", arms=arms)
    got = adverse_events.ae_overview_from_counts(overview_counts(ae, subjects, "arm"), arms=arms)
    pd.testing.assert_frame_equal(got.table, expected.table)
    assert got.method == expected.method
    assert ("led_to_discontinuation column" in got.method) is not discontinuation


def test_ae_overview_from_counts_labels_a_null_group_as_pooled():
    ae, subjects = ae_data()
    counts = overview_counts(ae, subjects, None).assign(group=None)
    got = adverse_events.ae_overview_from_counts(counts)
    pd.testing.assert_frame_equal(got.table, oracle_aes.ae_overview(ae, subjects, group_col=None).table)


def test_ae_overview_from_counts_refuses_unknown_categories_and_has_no_denominator_when_empty():
    ae, subjects = ae_data()
    counts = overview_counts(ae, subjects, "arm")
    with pytest.raises(ValueError, match="ae_overview_from_counts: argument counts has unknown categories"):
        adverse_events.ae_overview_from_counts(counts.assign(category="mild"))
    with pytest.raises(InsufficientData, match="No patients match"):
        adverse_events.ae_overview_from_counts(counts.iloc[:0])


def test_ae_by_soc_pt_sorted_by_total_patients_then_name():
    ae, subjects = ae_data()
    t = adverse_events.ae_by_soc_pt(ae, subjects, group_col="arm").table
    order = t.drop_duplicates(["level", "soc", "term"])[["level", "soc", "term"]]
    got = [(lvl, soc if isinstance(soc, str) else None, term if isinstance(term, str) else None)
           for lvl, soc, term in order.itertuples(index=False)]
    assert got == [
        ("any", None, None),
        ("soc", GEN, None), ("term", GEN, "Pyrexia"),  # S1 and S4: 2 patients
        ("soc", GI, None), ("term", GI, "Ascites"),  # then 1 patient each, by SOC name
        ("soc", HEP, None), ("term", HEP, "Hepatic failure"),
        ("soc", SKIN, None), ("term", SKIN, "Rash"),
    ]
    pyr = row(t, level="term", term="Pyrexia", group="UC-MSC")
    assert (pyr["n_patients"], pyr["events"], pyr["N"]) == (1, 2, 3)
    assert pyr["pct"] == pytest.approx(100 / 3)
    assert row(t, level="term", term="Pyrexia", group="Placebo")["pct"] == pytest.approx(50.0)
    assert row(t, level="any", group="UC-MSC")["events"] == 5


def test_ae_by_worst_grade_counts_each_patient_once_at_the_highest_grade():
    ae, subjects = ae_data()
    t = adverse_events.ae_by_worst_grade(ae, subjects, group_col="arm").table
    any_active = t[(t["level"] == "any") & (t["group"] == "UC-MSC")].set_index("grade")["n_patients"]
    assert any_active.to_dict() == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}  # S1 worst 2, S2 worst 5
    pyr = t[(t["term"] == "Pyrexia") & (t["group"] == "UC-MSC")].set_index("grade")["n_patients"]
    assert pyr.to_dict() == {1: 0, 2: 1, 3: 0, 4: 0, 5: 0}  # S1's grade 1 pyrexia not counted again
    assert row(t, level="any", group="Placebo", grade=1)["pct"] == pytest.approx(50.0)


# ---------------------------------------------------------------- listings


def test_sae_listing_has_only_serious_events():
    ae, _ = ae_data()
    ae["arm"] = ae["usubjid"].map({"S1": "UC-MSC", "S2": "UC-MSC", "S4": "Placebo"})
    lst = adverse_events.sae_listing(ae, group_col="arm")
    assert list(lst["ae_id"]) == [4, 5] and set(lst["group"]) == {"UC-MSC"}
    assert set(adverse_events.sae_listing(ae)["group"]) == {POOLED_LABEL}


def test_death_listing_study_day_counts_day1_as_day_one():
    ae, subjects = ae_data()
    lst = adverse_events.death_listing(subjects, ae)
    assert len(lst) == 1
    d = lst.iloc[0]
    # 2024-01-01 is day 1, so 2024-02-29 (59 days later; 2024 is a leap year) is day 60.
    assert (d["usubjid"], d["death_day"], d["death_cause"], d["fatal_ae"]) == ("S2", 60, "Liver failure", "Hepatic failure")
    assert d["group"] == POOLED_LABEL


def test_death_listing_study_day_before_day1_has_no_day_zero():
    ae, subjects = ae_data()
    subjects.loc[subjects["usubjid"] == "S3", "death_on"] = pd.Timestamp("2023-12-31")
    lst = adverse_events.death_listing(subjects, ae, group_col="arm")
    assert row(lst, usubjid="S3")["death_day"] == -1
    assert row(lst, usubjid="S2")["group"] == "UC-MSC"
