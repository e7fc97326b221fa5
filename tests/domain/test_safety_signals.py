"""Safety signals (domain/safety_signals.py): incidence per PT and SOC, risk difference, risk ratio, Fisher p,
Benjamini-Hochberg and the double FDR, EAIR, time to first SAE and SAEs and deaths after an infusion.

Expected values come from R (tests/domain/reference/safety_signals.R: Epi::ci.pd, metafor::escalc,
fisher.test, p.adjust, poisson.test), from published worked examples (Newcombe 1998, Table II; Mehrotra and
Adewale 2012, Example 4.1) and from counts done by hand in the comments.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain import safety_signals as ss
from dashboard.domain.km import km_estimate
from dashboard.domain.safety_common import newcombe_difference
from dashboard.errors import InsufficientData
from tests.oracle import safety_signals as oracle

REFERENCE = Path(__file__).parent / "reference" / "safety_signals.csv"
TOL = 1e-9
ACTIVE, REFERENCE_ARM = "UC-MSC", "Placebo"
ARMS = (ACTIVE, REFERENCE_ARM)


def _reference() -> dict[tuple[str, str], float]:
    with REFERENCE.open() as fh:
        return {(row["case"], row["quantity"]): float(row["value"]) for row in csv.DictReader(fh)}


R = _reference()


def r(case: str, quantity: str) -> float:
    return R[(case, quantity)]


# ---------------------------------------------------------------- the signals fixture

# UC-MSC A01-A12, Placebo P01-P08 (P07 and P08 have no adverse event). A patient listed twice has two events.
TERMS = {
    ("General", "Pyrexia"): ["A01", "A02", "A02", "A02", "A03", "A04", "A07", "A08", "P02"],
    ("General", "Fatigue"): ["A01", "A09", "A10", "P02", "P03"],
    ("Infections", "Pneumonia"): ["A01", "A01", "A02", "A03", "A04", "A05", "A07", "A08", "A09"],
    ("Infections", "Sepsis"): ["A05", "A06", "P01"],
    ("Hepatobiliary", "Hepatic failure"): ["A05", "A12", "P04", "P05", "P06"],
    ("Skin", "Rash"): ["A11"],
}


def subjects_fixture() -> pd.DataFrame:
    ids = [f"A{i:02d}" for i in range(1, 13)] + [f"P{i:02d}" for i in range(1, 9)]
    return pd.DataFrame({"usubjid": ids, "arm": [ACTIVE if i.startswith("A") else REFERENCE_ARM for i in ids]})


def ae_fixture() -> pd.DataFrame:
    rows = [(usubjid, soc, term) for (soc, term), patients in TERMS.items() for usubjid in patients]
    ae = pd.DataFrame(rows, columns=["usubjid", "soc", "term"])
    return ae.assign(onset_day=range(1, len(ae) + 1), grade=2, serious=False)


def counts(group_col: str | None = "arm") -> pd.DataFrame:
    subjects = subjects_fixture()
    return oracle.ae_term_counts(ae_fixture(), subjects, group_col=group_col)


@pytest.fixture(scope="module")
def signals() -> ss.SafetySignals:
    return ss.signals_from_counts(counts(), arms=ARMS)


def _row(table: pd.DataFrame, soc: str, term: str | None) -> pd.Series:
    level = table["level"] == ("soc" if term is None else "term")
    match = table[level & (table["soc"] == soc) & ((table["term"] == term) if term else True)]
    assert len(match) == 1
    return match.iloc[0]


# ---------------------------------------------------------------- incidence


def test_incidence_counts_patients_once_per_term_and_soc_by_hand(signals):
    inc = signals.incidence
    pneumonia = inc[(inc["term"] == "Pneumonia")].set_index("group")
    # A01-A05, A07-A09 (A01 twice: 9 events) / none.
    assert pneumonia.loc[ACTIVE, ["N", "n_patients", "events"]].tolist() == [12, 8, 9]
    assert pneumonia.loc[REFERENCE_ARM, ["N", "n_patients", "events"]].tolist() == [8, 0, 0]
    assert pneumonia.loc[ACTIVE, "pct"] == pytest.approx(100 * 8 / 12)
    infections = inc[(inc["level"] == "soc") & (inc["soc"] == "Infections")].set_index("group")
    # A01-A09 (pneumonia or sepsis, A05 both) / P01; events 9 + 2 and 1.
    assert infections.loc[ACTIVE, ["n_patients", "events"]].tolist() == [9, 11]
    assert infections.loc[REFERENCE_ARM, ["n_patients", "events"]].tolist() == [1, 1]


def test_incidence_order_socs_then_their_terms_by_patients_ties_by_name(signals):
    inc = signals.incidence
    keys = list(dict.fromkeys(zip(inc["soc"], inc["term"].fillna(""))))
    # SOC totals (both arms): General 8 + 2 = 10, Infections 9 + 1 = 10 (a tie: by name), Hepatobiliary 5,
    # Skin 1; within General: Pyrexia 7, Fatigue 5; within Infections: Pneumonia 8, Sepsis 3.
    assert keys == [("General", ""), ("General", "Pyrexia"), ("General", "Fatigue"), ("Infections", ""),
                    ("Infections", "Pneumonia"), ("Infections", "Sepsis"), ("Hepatobiliary", ""),
                    ("Hepatobiliary", "Hepatic failure"), ("Skin", ""), ("Skin", "Rash")]
    assert list(inc["group"].head(2)) == [ACTIVE, REFERENCE_ARM]
    assert list(signals.comparison[["soc", "term"]].itertuples(index=False, name=None)) == \
        [(s, t or None) for s, t in keys]


def test_pooled_signals_have_one_group_and_no_comparison():
    pooled = ss.signals_from_counts(counts(group_col=None))
    assert set(pooled.incidence["group"]) == {POOLED_LABEL}
    assert pooled.comparison.empty and list(pooled.comparison.columns) == list(ss.COMPARISON_COLUMNS)
    pneumonia = pooled.incidence[pooled.incidence["term"] == "Pneumonia"].iloc[0]
    assert (pneumonia["N"], pneumonia["n_patients"], pneumonia["events"]) == (20, 8, 9)
    assert "minus" not in pooled.method and "Fisher" not in pooled.method


def test_two_groups_without_arms_order_are_not_compared():
    assert ss.signals_from_counts(counts()).comparison.empty


def test_signals_without_any_adverse_event_are_insufficient_data():
    with pytest.raises(InsufficientData, match="adverse event"):
        ss.signals_from_counts(counts().iloc[0:0], arms=ARMS)


@pytest.mark.parametrize("kwargs, message", [
    (dict(alpha=0), "alpha=0"), (dict(alpha=1.5), "alpha=1.5"), (dict(conf_level=95), "conf_level=95")])
def test_signals_reject_bad_arguments_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ss.signals_from_counts(counts(), arms=ARMS, **kwargs)


def test_signals_need_the_count_columns():
    with pytest.raises(ValueError, match=r"signals_from_counts: argument counts lacks column\(s\) \['events'\]"):
        ss.signals_from_counts(counts().drop(columns="events"), arms=ARMS)


# ---------------------------------------------------------------- comparison against R


PT_CASES = [("General", "Pyrexia"), ("General", "Fatigue"), ("Infections", "Pneumonia"), ("Infections", "Sepsis"),
            ("Hepatobiliary", "Hepatic failure"), ("Skin", "Rash")]
SOC_CASES = ["General", "Infections", "Hepatobiliary", "Skin"]
TABLE_QUANTITIES = ("risk_difference", "rd_lower", "rd_upper", "risk_ratio", "rr_lower", "rr_upper", "p")


@pytest.mark.parametrize("soc, term", PT_CASES)
def test_term_rd_rr_fisher_and_both_adjustments_match_r(signals, soc, term):
    row = _row(signals.comparison, soc, term)
    for quantity in (*TABLE_QUANTITIES, "p_bh", "soc_p", "soc_p_adj", "p_adj_in_soc"):
        assert row[quantity] == pytest.approx(r(f"pt_{term}", quantity), abs=TOL), quantity


@pytest.mark.parametrize("soc", SOC_CASES)
def test_soc_rd_rr_and_fisher_match_r_and_carry_no_term_adjustment(signals, soc):
    row = _row(signals.comparison, soc, None)
    for quantity in TABLE_QUANTITIES:
        assert row[quantity] == pytest.approx(r(f"soc_{soc}", quantity), abs=TOL), quantity
    assert np.isnan(row["p_bh"]) and np.isnan(row["p_adj_in_soc"]) and not row["flagged"] and not row["flagged_bh"]
    # The double FDR's SOC p (step 1) is the smallest PT p of the SOC, not the SOC's own Fisher p.
    first_term = next(t for s, t in PT_CASES if s == soc)
    assert row["soc_p"] == pytest.approx(r(f"pt_{first_term}", "soc_p"), abs=TOL)


def test_only_pneumonia_is_flagged_by_either_adjustment(signals):
    terms = signals.comparison[signals.comparison["level"] == "term"]
    # Pneumonia 8/12 vs 0/8: p 0.0047; BH over 6 PTs 0.028; Infections' SOC p 0.0047 x 4 SOCs = 0.019, within
    # Infections 0.0047 x 2 = 0.0094: all <= 0.1. Pyrexia, next smallest (p 0.158), is 0.32 within General.
    assert terms.loc[terms["flagged"], "term"].tolist() == ["Pneumonia"]
    assert terms.loc[terms["flagged_bh"], "term"].tolist() == ["Pneumonia"]
    assert "Mehrotra and Heyse" in signals.method and "Benjamini-Hochberg" in signals.method


def test_comparison_counts_and_events_of_both_arms(signals):
    row = _row(signals.comparison, "General", "Pyrexia")
    # A01, A02 (three times), A03, A04, A07, A08 / P02.
    assert (row["active"], row["reference"]) == ARMS
    assert row[["n_active", "N_active", "events_active", "n_reference", "N_reference", "events_reference"]].tolist() \
        == [6, 12, 8, 1, 8, 1]
    assert row["pct_active"] == pytest.approx(50.0) and row["pct_reference"] == pytest.approx(12.5)


# Newcombe RG. Interval estimation for the difference between independent proportions: comparison of eleven
# methods. Stat Med 1998;17:873-890, Table II, method 10 (hybrid score without continuity correction).
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),  # (a)
    ((9, 10, 3, 10), (0.1705, 0.8090)),  # (b)
    ((5, 56, 0, 29), (-0.0381, 0.1926)),  # (d)
    ((0, 10, 0, 20), (-0.1611, 0.2775)),  # (e)
    ((10, 10, 0, 20), (0.6791, 1.0000)),  # (g)
]


@pytest.mark.parametrize("table, published", NEWCOMBE_TABLE_II)
def test_risk_difference_ci_reproduces_newcombe_table_ii(table, published):
    _, lower, upper = newcombe_difference(*table)
    assert (round(lower, 4), round(upper, 4)) == published


def test_risk_ratio_adds_a_half_only_to_tables_with_a_zero_cell():
    # Pneumonia 8/12 vs 0/8 (zero cell): R metafor::escalc adds 1/2 to each cell; by hand RR = (8.5/13)/(0.5/9).
    rr, lower, upper = ss.risk_ratio_katz(8, 12, 0, 8)
    assert rr == pytest.approx((8.5 / 13) / (0.5 / 9)) == pytest.approx(r("pt_Pneumonia", "risk_ratio"), abs=TOL)
    assert (lower, upper) == pytest.approx((r("pt_Pneumonia", "rr_lower"), r("pt_Pneumonia", "rr_upper")), abs=TOL)
    # Pyrexia 6/12 vs 1/8: no zero cell, the plain ratio 0.5 / 0.125.
    assert ss.risk_ratio_katz(6, 12, 1, 8)[0] == pytest.approx(4.0)


def test_risk_ratio_without_any_event_is_not_a_number_and_bad_counts_are_refused():
    assert all(np.isnan(v) for v in ss.risk_ratio_katz(0, 12, 0, 8))
    with pytest.raises(ValueError, match="risk_ratio_katz: arguments x1=13, n1=12"):
        ss.risk_ratio_katz(13, 12, 0, 8)
    with pytest.raises(ValueError, match="conf_level=1"):
        ss.risk_ratio_katz(1, 12, 0, 8, conf_level=1)


# ---------------------------------------------------------------- multiplicity


def test_benjamini_hochberg_equals_r_p_adjust(signals):
    p = [r(f"pt_{term}", "p") for _, term in PT_CASES]
    expected = [r(f"pt_{term}", "p_bh") for _, term in PT_CASES]
    assert ss.benjamini_hochberg(p) == pytest.approx(expected, abs=TOL)
    # By hand: 0.005, 0.04, 0.03 -> 0.005 x 3, then min(0.04, 0.03 x 3 / 2) = 0.04, 0.045 -> 0.04.
    assert ss.benjamini_hochberg([0.005, 0.04, 0.03]) == pytest.approx([0.015, 0.04, 0.04])
    assert ss.benjamini_hochberg([]).size == 0


@pytest.mark.parametrize("p", [[0.1, np.nan], [-0.1], [1.2]])
def test_benjamini_hochberg_refuses_what_is_not_a_p_value(p):
    with pytest.raises(ValueError, match="benjamini_hochberg: argument p"):
        ss.benjamini_hochberg(p)


# Mehrotra DV, Adewale AJ. Flagging clinical adverse experiences. Stat Med 2012;31:1918-1930, Example 4.1:
# p-values of 40 AEs in six body systems (B1-B6), as reproduced in R MHTmult's DFDR.p.adjust documentation.
MA_EXAMPLE = [
    [0.031, 0.023, 0.029, 0.005, 0.031, 0.000, 0.874, 0.399, 0.293, 0.077],
    [0.216, 0.843, 0.864],
    [1, 0.878, 0.766, 0.598, 0.011, 0.864],
    [0.889, 0.557, 0.767, 0.009, 0.644],
    [1, 0.583, 0.147, 0.789, 0.217, 1, 0.02, 0.784, 0.579, 0.439],
    [0.898, 0.619, 0.193, 0.806, 0.611, 0.526, 0.702, 0.196],
]


@pytest.fixture(scope="module")
def ma_example() -> pd.DataFrame:
    rows = [(f"B{b}", f"B{b}_{j:02d}", p) for b, ps in enumerate(MA_EXAMPLE, 1) for j, p in enumerate(ps, 1)]
    return ss.double_fdr(pd.DataFrame(rows, columns=["soc", "term", "p"]))


def test_double_fdr_of_the_worked_example_equals_r(ma_example):
    for row in ma_example.itertuples():
        for quantity in ("soc_p", "soc_p_adj", "p_adj_in_soc"):
            assert getattr(row, quantity) == pytest.approx(r(f"ma_{row.term}", quantity), abs=TOL), (row.term, quantity)


def test_double_fdr_of_the_worked_example_by_hand(ma_example):
    # Step 1: SOC p = smallest p: B1 0.000, B2 0.216, B3 0.011, B4 0.009, B5 0.02, B6 0.193; BH across six:
    # B4 0.009 x 6/2 = 0.027 and B3 0.011 x 6/3 = 0.022 -> both 0.022, B5 0.02 x 6/4 = 0.03,
    # B6 0.193 x 6/5 = 0.2316 -> 0.216 (B2's 0.216 x 6/6): B1, B3, B4, B5 flagged at 0.1.
    socs = ma_example.drop_duplicates("soc").set_index("soc")
    assert socs["soc_p_adj"].to_dict() == pytest.approx({"B1": 0.0, "B2": 0.216, "B3": 0.022, "B4": 0.022,
                                                        "B5": 0.03, "B6": 0.216})
    assert sorted(socs.index[socs["soc_flagged"]]) == ["B1", "B3", "B4", "B5"]
    # Step 2 within each flagged SOC: B1's ten p-values x 10 / rank, step-up: 0.000, 0.005 -> 0.025, 0.023,
    # 0.029, 0.031, 0.031 -> 0.0517, 0.077 -> 0.11 (not flagged); B3 0.011 x 6 = 0.066; B4 0.009 x 5 = 0.045;
    # B5 0.02 x 10 = 0.2 (its SOC is flagged, the term is not).
    flagged = ma_example.loc[ma_example["flagged"], "p"].tolist()
    assert sorted(flagged) == [0.0, 0.005, 0.009, 0.011, 0.023, 0.029, 0.031, 0.031]
    assert ma_example.set_index("term").loc["B1_10", "p_adj_in_soc"] == pytest.approx(0.11)
    # The SOC is represented by the smallest raw p (Mehrotra and Heyse 2004), not by the smallest within-SOC
    # adjusted p (the 2012 variant), which would flag B1 alone: B3's would be 0.066, B4's 0.045.
    assert ma_example.loc[ma_example["soc"] == "B3", "soc_p"].iat[0] == 0.011


def test_double_fdr_flags_nothing_in_an_unflagged_soc_and_checks_its_levels():
    terms = pd.DataFrame({"soc": ["S1", "S1", "S2"], "term": ["a", "b", "c"], "p": [0.001, 0.5, 0.9]})
    out = ss.double_fdr(terms, alpha_soc=0.001, alpha_term=0.5)
    # S1's p 0.001 x 2 SOCs = 0.002 > 0.001: no SOC flagged, so no term, although a's own 0.002 <= 0.5.
    assert not out["flagged"].any() and out.loc[0, "p_adj_in_soc"] == pytest.approx(0.002)
    assert ss.double_fdr(terms.iloc[0:0]).empty
    with pytest.raises(ValueError, match="double_fdr: argument alpha_term=0"):
        ss.double_fdr(terms, alpha_term=0)
    with pytest.raises(ValueError, match=r"double_fdr: argument p must hold p-values .*\[2.0\]"):
        ss.double_fdr(terms.assign(p=[0.1, 2.0, 0.3]))


# ---------------------------------------------------------------- exposure-adjusted rates

DAY1 = date(2024, 1, 1)


def exposure_subjects() -> pd.DataFrame:
    days = {"A1": 365, "A2": 200, "A3": 300, "P1": 400, "P2": 100}
    return pd.DataFrame({"usubjid": list(days), "arm": [ACTIVE] * 3 + [REFERENCE_ARM] * 2, "day1_on": DAY1,
                         "last_contact_on": [DAY1 + timedelta(days=d - 1) for d in days.values()]})


def exposure_ae() -> pd.DataFrame:
    # A1: a serious event on day 10 and another on day 100; A2: day 50; P1: a serious event on day 200.
    return pd.DataFrame({"usubjid": ["A1", "A1", "A2", "P1"], "onset_day": [10, 100, 50, 200], "grade": [3, 1, 2, 3],
                         "serious": [True, False, False, True], "related": False, "infusion_related": False,
                         "outcome": "RECOVERED/RESOLVED", "led_to_discontinuation": False, "term": "Pneumonia",
                         "soc": "Infections"})


@pytest.fixture(scope="module")
def rates() -> pd.DataFrame:
    exposure = oracle.ae_exposure_counts(exposure_ae(), exposure_subjects(), group_col="arm")
    return ss.exposure_adjusted_from_counts(exposure, arms=ARMS).table.set_index(["category", "group"])


def test_time_at_risk_ends_at_the_first_event_by_hand(rates):
    # Any AE: UC-MSC 10 (A1) + 50 (A2) + 300 (A3, none) days at risk, 365 + 200 + 300 followed.
    assert rates.loc[("any", ACTIVE), "years_at_risk"] == pytest.approx(360 / 365.25)
    assert rates.loc[("any", ACTIVE), "years_followed"] == pytest.approx(865 / 365.25)
    assert rates.loc[("serious", ACTIVE), "years_at_risk"] == pytest.approx(510 / 365.25)
    assert rates.loc[("any", REFERENCE_ARM), ["n_patients", "events"]].tolist() == [1, 1]


@pytest.mark.parametrize("category, group, column, case", [
    ("any", ACTIVE, "eair", "eair_any_active"), ("any", ACTIVE, "eaer", "eaer_any_active"),
    ("any", REFERENCE_ARM, "eair", "eair_any_reference"), ("any", REFERENCE_ARM, "eaer", "eaer_any_reference"),
    ("serious", ACTIVE, "eair", "eair_serious_active"), ("serious", REFERENCE_ARM, "eair", "eair_serious_reference"),
    ("fatal", ACTIVE, "eair", "eair_fatal_active"),
])
def test_eair_and_eaer_with_exact_poisson_cis_match_r(rates, category, group, column, case):
    row = rates.loc[(category, group)]
    assert row[column] == pytest.approx(r(case, "rate"), abs=TOL)
    assert row[f"{column}_lower"] == pytest.approx(r(case, "lower"), abs=TOL)
    assert row[f"{column}_upper"] == pytest.approx(r(case, "upper"), abs=TOL)


def test_rates_keep_the_overview_categories_and_arms_order_and_say_how():
    exposure = oracle.ae_exposure_counts(exposure_ae(), exposure_subjects(), group_col="arm")
    result = ss.exposure_adjusted_from_counts(exposure, arms=ARMS)
    assert list(result.table["group"].head(2)) == list(ARMS)
    assert list(dict.fromkeys(result.table["category"]))[:2] == ["any", "serious"]
    assert "time at risk ends at their first event" in result.method and "poisson.test" in result.method
    pooled = ss.exposure_adjusted_from_counts(oracle.ae_exposure_counts(exposure_ae(), exposure_subjects(),
                                                                        group_col=None))
    assert set(pooled.table["group"]) == {POOLED_LABEL}
    with pytest.raises(InsufficientData):
        ss.exposure_adjusted_from_counts(exposure.iloc[0:0])


# ---------------------------------------------------------------- time to first SAE


def test_first_sae_times_and_their_kaplan_meier_by_hand():
    rows = oracle.first_sae_times(exposure_ae(), exposure_subjects(), group_col="arm")
    # A1's first SAE on day 10; A2 and A3 have none (censored at 200 and 300 days); P1 on day 200; P2 censored.
    assert rows.set_index("usubjid")[["time_days", "event"]].to_dict("index") == {
        "A1": {"time_days": 10.0, "event": 1}, "A2": {"time_days": 200.0, "event": 0},
        "A3": {"time_days": 300.0, "event": 0}, "P1": {"time_days": 200.0, "event": 1},
        "P2": {"time_days": 100.0, "event": 0}}
    km = km_estimate(rows, group_col="group", groups=ARMS).table.set_index(["group", "time"])
    assert km.loc[(ACTIVE, 10.0), "survival"] == pytest.approx(2 / 3)
    # P2 censored at 100 leaves P1 alone at risk at 200.
    assert km.loc[(REFERENCE_ARM, 200.0), "survival"] == pytest.approx(0.0)


# ---------------------------------------------------------------- SAEs and deaths after an infusion


def infusions_fixture() -> pd.DataFrame:
    given = {"A1": [1, 29, 57], "A2": [1, 29], "A3": [1, 29, 57], "P1": [1, 29, 57], "P2": [1]}
    return pd.DataFrame([(u, n, day) for u, days in given.items() for n, day in enumerate(days, 1)],
                        columns=["usubjid", "infusion_num", "study_day"])


def saes_fixture() -> pd.DataFrame:
    rows = [("A1", 10, "Pneumonia"), ("A1", 60, "Sepsis"), ("A3", 29, "Rash"), ("A3", -1, "Fall"),
            ("P1", 200, "Sepsis"), ("P2", 29, "Pneumonia"), ("P2", 30, "Sepsis")]
    out = pd.DataFrame(rows, columns=["usubjid", "onset_day", "term"])
    return out.assign(group=out["usubjid"].map(lambda u: ACTIVE if u.startswith("A") else REFERENCE_ARM),
                      soc="Infections", grade=3)


def deaths_fixture() -> pd.DataFrame:
    return pd.DataFrame({"group": [ACTIVE, REFERENCE_ARM], "usubjid": ["A2", "P1"], "death_day": [31, 300],
                         "death_cause": ["Hepatic failure", "Sepsis"]})


@pytest.fixture(scope="module")
def after() -> pd.DataFrame:
    return ss.events_after_infusion(saes_fixture(), deaths_fixture(), infusions_fixture())


def test_events_after_infusion_name_the_infusion_and_the_days_since_by_hand(after):
    got = after[["usubjid", "event", "study_day", "infusion_num", "days_since_infusion", "window"]]
    assert [tuple(x) for x in got.itertuples(index=False)] == [
        # P2's day-29 SAE is 28 days after its only infusion (in); its day-30 SAE 29 days (out).
        ("P2", "Serious adverse event", 29, 1, 28, "8-28 days"),
        ("A1", "Serious adverse event", 10, 1, 9, "8-28 days"),
        ("A1", "Serious adverse event", 60, 3, 3, "0-7 days"),
        ("A2", "Death", 31, 2, 2, "0-7 days"),
        # On the infusion's own day: 0 days. A3's day -1 event precedes every infusion and is not listed.
        ("A3", "Serious adverse event", 29, 2, 0, "0-7 days"),
    ]
    death = after[after["event"] == "Death"].iloc[0]
    assert death["term"] == "Hepatic failure" and pd.isna(death["grade"]) and death["soc"] is None


def test_after_infusion_counts_are_cumulative_by_window(after):
    table = ss.after_infusion_counts(after, ARMS).set_index(["group", "event", "within"])
    assert table.loc[(ACTIVE, "Serious adverse event", "0-7 days")].tolist() == [2, 2]  # A1 day 60, A3 day 29
    assert table.loc[(ACTIVE, "Serious adverse event", "0-28 days")].tolist() == [2, 3]  # and A1 day 10
    assert table.loc[(ACTIVE, "Death", "0-7 days")].tolist() == [1, 1]
    assert table.loc[(REFERENCE_ARM, "Serious adverse event", "0-7 days")].tolist() == [0, 0]
    assert table.loc[(REFERENCE_ARM, "Death", "0-28 days")].tolist() == [0, 0]  # P1 died 243 days after


def test_last_infusion_is_none_before_the_first_infusion():
    events = pd.DataFrame({"usubjid": ["A3", "A3", "Z9"], "day": [-1, 57, 5]})
    found = ss.last_infusion(events, infusions_fixture(), day_col="day")
    assert found["infusion_num"].tolist() == [pd.NA, 3, pd.NA]
    assert found["days_since"].tolist() == [pd.NA, 0, pd.NA]


def test_events_after_infusion_refuse_negative_windows():
    with pytest.raises(ValueError, match="windows"):
        ss.events_after_infusion(saes_fixture(), deaths_fixture(), infusions_fixture(), windows=(-1, 7))


# ---------------------------------------------------------------- the patients behind a point


def test_patients_with_term_lists_each_patient_once_with_their_events():
    ae = ae_fixture().merge(subjects_fixture(), on="usubjid")
    out = ss.patients_with_term(ae, soc="Infections", term="Pneumonia", group_col="arm")
    assert out["usubjid"].tolist() == ["A01", "A02", "A03", "A04", "A05", "A07", "A08", "A09"]
    assert out.set_index("usubjid").loc["A01", "n_events"] == 2 and set(out["group"]) == {ACTIVE}
    soc = ss.patients_with_term(ae, soc="Infections", term=None, group_col=None)
    assert len(soc) == 10 and set(soc["group"]) == {POOLED_LABEL}  # A01-A09 and P01
