"""Tests of dashboard.domain.labstats against R (tests/domain/reference/labstats.R) and hand arithmetic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.lab_safety import HIGH_CATEGORIES, MDISH_QUADRANTS, shift_from_counts
from dashboard.domain.labstats import SUMMARY_COLUMNS, add_change_from_baseline, deaths_between_visits
from dashboard.errors import UnsuitableData
from tests.oracle.lab_safety import mdish, shift_table
from tests.oracle.labstats import add_exit_day, summarise_by_visit

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def alt() -> pd.DataFrame:
    return pd.read_csv(REF / "alt_fixture.csv")


def _rows(records, paramcd="ALT", upper=40.0, lower=0.0):
    """records: (usubjid, arm, visit_num, value) -> lab rows."""
    return pd.DataFrame([dict(usubjid=u, arm=a, paramcd=paramcd, visit=f"V{v}", visit_num=v, study_day=7 * v,
                              value=x, lower_limit=lower, upper_limit=upper) for u, a, v, x in records])


# --- change from baseline --------------------------------------------------------------------------

def test_change_from_baseline_is_value_minus_baseline_and_percent_of_baseline():
    df = _rows([("A", "X", 0, 50.0), ("A", "X", 1, 75.0), ("B", "X", 1, 10.0), ("C", "X", 0, 0.0),
                ("C", "X", 1, 5.0)])
    out = add_change_from_baseline(df).set_index(["usubjid", "visit_num"])
    # A: 75 - 50 = 25; 100 * 25 / 50 = 50 %.
    assert out.loc[("A", 1), ["base", "chg", "pchg"]].tolist() == [50.0, 25.0, 50.0]
    # B has no baseline row: all three NaN.
    assert out.loc[("B", 1), ["base", "chg", "pchg"]].isna().all()
    # C: baseline 0 gives a change of 5 but no percentage.
    assert out.loc[("C", 1), "chg"] == 5.0 and np.isnan(out.loc[("C", 1), "pchg"])


def test_change_from_baseline_uses_the_last_baseline_row_by_study_day():
    df = _rows([("A", "X", 0, 50.0), ("A", "X", 0, 60.0), ("A", "X", 1, 70.0)])
    df.loc[0, "study_day"], df.loc[1, "study_day"] = -3, 1
    out = add_change_from_baseline(df)
    assert out.loc[out["visit_num"] == 1, "chg"].item() == 10.0


# --- summaries ---------------------------------------------------------------------------------------

def test_summary_by_visit_matches_r_t_test_and_quantile_type_7(alt):
    ref = pd.read_csv(REF / "labstats_summary.csv")
    got = summarise_by_visit(alt, group_col="arm").summary
    assert list(got.columns) == list(SUMMARY_COLUMNS)
    merged = ref.merge(got, on=["group", "visit_num"], suffixes=("_r", ""))
    assert len(merged) == len(ref) == 8
    for col in ("n", "mean", "sd", "ci_lower", "ci_upper", "q1", "median", "q3"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=1e-10, err_msg=col)


def test_summary_pooled_has_only_the_pooled_label_and_all_patients(alt):
    got = summarise_by_visit(alt, group_col=None).summary
    assert set(got["group"]) == {POOLED_LABEL}
    assert got.loc[got["visit_num"] == 0, "n"].item() == 16


def test_summary_of_change_leaves_out_baseline_and_respects_group_order(alt):
    res = summarise_by_visit(add_change_from_baseline(alt), value_col="chg", group_col="arm",
                             groups=["Placebo", "UC-MSC"])
    assert 0 not in set(res.summary["visit_num"])
    assert res.summary["group"].iloc[0] == "Placebo"
    assert "R quantile type 7" in res.method


def test_summary_with_one_value_has_no_sd_or_ci():
    got = summarise_by_visit(_rows([("A", "X", 0, 50.0)]), group_col="arm").summary
    assert got["n"].item() == 1 and got["mean"].item() == 50.0
    assert got[["sd", "se", "ci_lower", "ci_upper"]].isna().all(axis=None)


# --- shift table --------------------------------------------------------------------------------------

def test_shift_table_high_lab_uses_worst_post_baseline_and_strict_multiples():
    # ULN 40: A baseline 30 (normal), post 50 (1.25x) and 130 (3.25x) -> worst ">3x ULN".
    # B baseline 120 = exactly 3x -> ">1x ULN" (categories are strictly greater), post 401 -> ">10x ULN".
    # C baseline only -> worst "missing".
    df = _rows([("A", "X", 0, 30.0), ("A", "X", 1, 50.0), ("A", "X", 2, 130.0),
                ("B", "X", 0, 120.0), ("B", "X", 1, 401.0), ("C", "X", 0, 10.0)])
    t = shift_table(df, group_col="arm", paramcd="ALT")
    assert len(t) == 25  # 5 x 5 grid incl. "missing", one group
    hit = t[t["n"] > 0].set_index(["baseline", "worst_post_baseline"])["n"].to_dict()
    assert hit == {("normal", ">3x ULN"): 1, (">1x ULN", ">10x ULN"): 1, ("normal", "missing"): 1}
    assert set(t["baseline"]) == set(HIGH_CATEGORIES) | {"missing"}


def test_shift_table_low_lab_compares_with_lln():
    df = _rows([("A", "X", 0, 40.0), ("A", "X", 1, 30.0), ("B", "X", 0, 30.0), ("B", "X", 1, 36.0)],
               paramcd="ALB", lower=35.0, upper=55.0)
    t = shift_table(df, group_col=None, paramcd="ALB")
    hit = t[t["n"] > 0].set_index(["group", "baseline", "worst_post_baseline"])["n"].to_dict()
    assert hit == {(POOLED_LABEL, "normal", "<LLN"): 1, (POOLED_LABEL, "<LLN", "normal"): 1}


def test_shift_table_falls_back_to_registry_limit_when_record_has_none():
    df = _rows([("A", "X", 0, 30.0), ("A", "X", 1, 100.0)], upper=np.nan)  # registry ALT ULN 40
    t = shift_table(df, group_col=None, paramcd="ALT")
    assert t.loc[t["n"] > 0, "worst_post_baseline"].item() == ">1x ULN"



def test_shift_table_orders_listed_groups_and_leaves_out_those_without_patients():
    df = _rows([("A", "X", 0, 30.0), ("A", "X", 1, 50.0), ("B", "Y", 0, 130.0)])
    assert list(pd.unique(shift_table(df, group_col="arm", paramcd="ALT")["group"])) == ["X", "Y"]
    t = shift_table(df, group_col="arm", paramcd="ALT", groups=["Y", "Z", "X"])
    assert list(pd.unique(t["group"])) == ["Y", "X"] and len(t) == 50
    assert t.set_index(["group", "baseline", "worst_post_baseline"]).loc[("Y", ">3x ULN", "missing"), "n"] == 1


def test_shift_from_counts_names_ranks_and_fills_the_grid():
    counts = pd.DataFrame({"group": [None, None], "baseline_rank": [1, None], "worst_rank": [0, 1],
                           "n": [3, 2], "with_limit": [3, 2]})
    t = shift_from_counts(counts, paramcd="ALB")
    assert len(t) == 9 and set(t["group"]) == {POOLED_LABEL} and t["n"].sum() == 5
    hit = t[t["n"] > 0].set_index(["baseline", "worst_post_baseline"])["n"].to_dict()
    assert hit == {("<LLN", "normal"): 3, ("missing", "<LLN"): 2}
    with pytest.raises(UnsuitableData, match="shift_from_counts: paramcd='ALB' has no reference range"):
        shift_from_counts(counts.assign(with_limit=0), paramcd="ALB")

# --- eDISH / mDISH ----------------------------------------------------------------------------------

def _alt_bili(patients):
    """patients: usubjid -> (arm, [(visit_num, alt, bili)]); ALT ULN 40, BILI ULN 20."""
    rows = []
    for u, (arm, visits) in patients.items():
        for v, a, b in visits:
            rows += [dict(usubjid=u, arm=arm, paramcd="ALT", visit_num=v, value=a, upper_limit=40.0),
                     dict(usubjid=u, arm=arm, paramcd="BILI", visit_num=v, value=b, upper_limit=20.0)]
    return pd.DataFrame(rows)


def test_mdish_uses_multiples_of_each_patients_baseline():
    df = _alt_bili({
        "A": ("X", [(0, 100, 50), (1, 380, 240)]),  # 3.8x / 4.8x -> both rise (>=)
        "B": ("X", [(0, 100, 50), (1, 379, 250)]),  # 3.79x -> below the ALT cut -> bilirubin rise only
        "Z": ("X", [(1, 500, 500)]),                # no baseline -> left out
    })
    r = mdish(df, group_col=None)
    q = r.patients.set_index("usubjid")
    assert set(q.index) == {"A", "B"}
    assert q.loc["A", "quadrant"] == "ALT and bilirubin rise" and q.loc["B", "quadrant"] == "bilirubin rise only"
    assert r.quadrants == MDISH_QUADRANTS and "Hy's law" not in set(r.counts["quadrant"])
    assert set(r.counts["group"]) == {POOLED_LABEL}


# --- exits between visits ------------------------------------------------------------------------------

def test_exits_are_counted_in_the_interval_ending_at_or_after_them():
    visits = pd.DataFrame(dict(visit=["BL", "W1", "W2"], visit_num=[0, 1, 2], target_day=[1, 8, 15]))
    subjects = pd.DataFrame(dict(
        usubjid=list("abcdef"), arm=["X", "X", "X", "Y", "Y", "Y"],
        status=["died", "died", "transplanted", "withdrawn", "lost to follow-up", "on study"],
        exit_day=[8, 9, 30, 1, 12, np.nan]))
    t = deaths_between_visits(subjects, visits, group_col="arm")
    assert len(t) == 8  # 2 groups x 4 intervals: start-BL, BL-W1, W1-W2, W2-end
    x = t[t["group"] == "X"].set_index("interval")
    # day 8 is W1's target day: (1, 8] -> "BL - W1"; day 9 -> "W1 - W2"; day 30 -> after W2.
    assert x.loc["BL - W1", "died"] == 1 and x.loc["W1 - W2", "died"] == 1
    assert x.loc["W2 - end", "transplanted"] == 1
    y = t[t["group"] == "Y"].set_index("interval")
    assert y.loc["start - BL", "withdrawn"] == 1 and y.loc["W1 - W2", "lost_to_follow_up"] == 1
    assert t["total"].sum() == 5


def _subject(usubjid, status, death=None, transplant=None, withdrawn=None, last="2025-06-30"):
    return dict(usubjid=usubjid, status=status, day1_on=pd.Timestamp("2025-01-01"), death_on=pd.Timestamp(death),
                transplant_on=pd.Timestamp(transplant), withdrawn_on=pd.Timestamp(withdrawn),
                last_contact_on=pd.Timestamp(last))


def test_exit_day_is_the_status_date_minus_day1_plus_one():
    subjects = pd.DataFrame([
        _subject("D", "died", death="2025-01-08"),                # day 8 (1 Jan is day 1)
        _subject("T", "transplanted", transplant="2025-02-01"),   # 31 days later: day 32
        _subject("W", "withdrawn", withdrawn="2025-01-01"),       # withdrew on day 1
        _subject("L", "lost to follow-up", last="2025-03-01"),    # lost: last contact, day 60
        _subject("M", "died", last="2025-01-20"),                 # death date unknown: last contact, day 20
        _subject("O", "on study"), _subject("C", "completed"),    # still in / completed: no exit
    ])
    out = add_exit_day(subjects).set_index("usubjid")["exit_day"]
    assert out[["D", "T", "W", "L", "M"]].tolist() == [8.0, 32.0, 1.0, 60.0, 20.0]
    assert out[["O", "C"]].isna().all()
    # The derived column is exactly what deaths_between_visits needs.
    visits = pd.DataFrame({"visit": ["BL", "W1", "W4"], "visit_num": [0, 1, 3], "target_day": [1, 8, 29]})
    t = deaths_between_visits(add_exit_day(subjects), visits, group_col=None).set_index("interval")
    assert t.loc["BL - W1", "died"] == 1 and t.loc["W1 - W4", "died"] == 1
    assert t.loc["start - BL", "withdrawn"] == 1
    assert t.loc["W4 - end", ["transplanted", "lost_to_follow_up"]].tolist() == [1, 1]


def test_exit_day_rejects_unknown_status():
    with pytest.raises(ValueError, match="add_exit_day: subjects_df.status has \\['gone'\\]"):
        add_exit_day(pd.DataFrame([_subject("X", "gone")]))


# --- input validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda d: summarise_by_visit(d, conf_level=1.5), "summarise_by_visit: argument conf_level=1.5"),
    (lambda d: summarise_by_visit(d, group_col="nope"), "group_col='nope'"),
    (lambda d: summarise_by_visit(d.drop(columns="value")), "lacks column(s) ['value']"),
    (lambda d: summarise_by_visit(pd.concat([d, d.assign(paramcd="BILI")])), "several paramcd"),
    (lambda d: shift_table(d, group_col=None, paramcd="MELD"), "no reference range"),
    (lambda d: shift_table(d, group_col=None, paramcd="XYZ"), "no reference range"),
    (lambda d: mdish(d, group_col=None, alt_cut=-1), "alt_cut must be a positive"),
    (lambda d: add_change_from_baseline(d.drop(columns="usubjid")), "add_change_from_baseline"),
])
def test_bad_arguments_raise_value_error_naming_function_and_argument(alt, call, message):
    with pytest.raises(ValueError, match=None) as info:
        call(alt)
    assert message in str(info.value)


def test_unknown_exit_status_is_rejected_with_the_allowed_values():
    visits = pd.DataFrame(dict(visit=["BL"], visit_num=[0], target_day=[1]))
    subjects = pd.DataFrame(dict(usubjid=["a"], status=["dead"], exit_day=[3]))
    with pytest.raises(ValueError, match="deaths_between_visits: subjects_df.status has \\['dead'\\]"):
        deaths_between_visits(subjects, visits, group_col=None)


def test_shift_table_works_for_an_imported_test_code_with_its_own_limits():
    # GGT is not in the registry; an imported cut carries each record's range (ULN 50 U/L).
    df = pd.DataFrame({"usubjid": ["a", "a", "b", "b"], "paramcd": "GGT", "visit_num": [0, 1, 0, 1],
                       "value": [40.0, 160.0, 60.0, 45.0], "lower_limit": 0.0, "upper_limit": 50.0})
    table = shift_table(df, group_col=None, paramcd="GGT").set_index(["baseline", "worst_post_baseline"])["n"]
    assert table[("normal", ">3x ULN")] == 1   # 160 > 3 x 50
    assert table[(">1x ULN", "normal")] == 1   # 60 > 50 at baseline, 45 afterwards


def test_exit_intervals_follow_target_days_when_visit_numbers_are_out_of_day_order():
    # As in the CDISC pilot: an unscheduled visit numbered after week 26 but targeted on day 168.
    visits = pd.DataFrame({"visit": ["BASELINE", "WEEK 24", "WEEK 26", "RETRIEVAL"], "visit_num": [1, 12, 13, 201],
                           "target_day": [1, 168, 182, 168]})
    subjects = pd.DataFrame({"usubjid": ["a"], "status": ["died"], "exit_day": [175]})
    out = deaths_between_visits(subjects, visits, group_col=None)
    assert out.loc[out["died"] == 1, "interval"].tolist() == ["WEEK 24 - WEEK 26"]


def test_summary_from_aggregates_orders_groups_drops_empty_visits_and_leaves_no_ci_for_one_value():
    from scipy import stats

    from dashboard.domain.labstats import summary_from_aggregates

    agg = pd.DataFrame({"group": ["B", "A", "A", "B"], "visit_num": [0, 1, 0, 1], "visit": ["D0", "D7", "D0", "D7"],
                        "n": [4, 1, 0, 4], "mean": [2.0, 5.0, np.nan, 3.0], "sd": [1.0, np.nan, np.nan, 2.0],
                        "median": 0.0, "q1": 0.0, "q3": 0.0, "min": 0.0, "max": 0.0})
    out = summary_from_aggregates(agg, groups=["A", "B"]).summary
    assert list(zip(out["group"], out["visit_num"])) == [("A", 1), ("B", 0), ("B", 1)]
    assert out.loc[0, ["sd", "se", "ci_lower", "ci_upper"]].isna().all()
    half = stats.t.ppf(0.975, 3) * 2.0 / 2
    assert out.loc[2, "ci_lower"] == pytest.approx(3.0 - half) and out.loc[2, "se"] == pytest.approx(1.0)
