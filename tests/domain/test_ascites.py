"""Tests of dashboard.domain.ascites against R binom.test (reference/ascites.R) and hand counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.ascites import grade_shift_from_counts, resolution_km_from_times, transitions_from_counts
from tests.oracle.ascites import (
    free_of_ascites,
    grade_distribution,
    grade_shift,
    grade_transitions,
    measure_by_visit,
    resolution_km,
    resolution_times,
)

REF = Path(__file__).parent / "reference"
DAYS = {"BL": 1, "W1": 8, "W4": 29, "W12": 85, "W24": 169, "W48": 337}
NUMS = {"BL": 0, "W1": 1, "W4": 3, "W12": 5, "W24": 6, "W48": 8}


def _asc(records):
    """records: (usubjid, arm, visit, grade) -> ascites rows; depth 2 cm per grade, volume 500 mL per grade."""
    return pd.DataFrame([dict(usubjid=u, arm=a, visit=v, visit_num=NUMS[v], study_day=DAYS[v], grade=g,
                              depth_cm=2.0 * g, volume_ml=500.0 * g) for u, a, v, g in records])


@pytest.fixture()
def small():
    return _asc([
        ("a", "X", "BL", 2), ("a", "X", "W4", 0), ("a", "X", "W12", 1),
        ("b", "X", "BL", 1), ("b", "X", "W4", 1), ("b", "X", "W12", 0),
        ("c", "X", "BL", 0), ("c", "X", "W4", 2),
        ("d", "Y", "BL", 3), ("d", "Y", "W4", 3), ("d", "Y", "W12", 2),
    ])


def test_grade_distribution_counts_and_percentages_include_zero_grades(small):
    d = grade_distribution(small, group_col="arm")
    bl_x = d[(d["group"] == "X") & (d["visit"] == "BL")].set_index("grade")
    # X at baseline: grades 2, 1, 0 -> one each of three; grade 3 none.
    assert bl_x["count"].tolist() == [1, 1, 1, 0] and (bl_x["n"] == 3).all()
    np.testing.assert_allclose(bl_x["pct"], [100 / 3, 100 / 3, 100 / 3, 0])
    assert d.groupby(["group", "visit_num"])["pct"].sum().round(10).eq(100).all()


def test_pooled_distribution_has_only_the_pooled_label(small):
    d = grade_distribution(small)
    assert set(d["group"]) == {POOLED_LABEL}
    assert d.loc[(d["visit"] == "BL") & (d["grade"] == 3), "count"].item() == 1


def test_free_of_ascites_ci_matches_r_binom_test():
    ref = pd.read_csv(REF / "ascites_binom.csv")
    records = []
    for k, (x, n) in enumerate(zip(ref["x"], ref["n"])):
        # one "visit" per reference case, told apart by group so each case is its own cell
        records += [(f"p{k}_{i}", f"case{k}", "W4", 0 if i < x else 2) for i in range(n)]
    res = free_of_ascites(_asc(records), group_col="arm")
    got = res.summary.set_index("group").loc[[f"case{k}" for k in range(len(ref))]]
    assert got["n_free"].tolist() == ref["x"].tolist() and got["n"].tolist() == ref["n"].tolist()
    np.testing.assert_allclose(got["ci_lower"], ref["ci_lower"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["ci_upper"], ref["ci_upper"], rtol=1e-9, atol=1e-12)
    assert "Clopper-Pearson" in res.method


def test_measure_by_visit_summarises_depth(small):
    s = measure_by_visit(small, measure="depth_cm", group_col="arm").summary
    # X baseline depths 4, 2, 0 -> mean 2, median 2.
    row = s[(s["group"] == "X") & (s["visit_num"] == 0)]
    assert row["mean"].item() == 2.0 and row["median"].item() == 2.0 and row["n"].item() == 3


def test_grade_shift_counts_improved_stable_worsened_against_baseline(small):
    t = grade_shift(small, group_col="arm", visits=["W4", "W12"]).set_index(["group", "visit"])
    # W4, X: a 2->0 improved, b 1->1 stable, c 0->2 worsened.
    assert t.loc[("X", "W4"), ["n", "improved", "stable", "worsened"]].tolist() == [3, 1, 1, 1]
    # W12, X: a 2->1 improved, b 1->0 improved; c not assessed.
    assert t.loc[("X", "W12"), ["n", "improved", "stable", "worsened"]].tolist() == [2, 2, 0, 0]
    assert t.loc[("Y", "W4"), "stable"] == 1


def test_resolution_times_event_at_first_grade_0_else_censored_at_last_assessment(small):
    r = resolution_times(small, group_col="arm").set_index("usubjid")
    # c had no ascites at baseline: not at risk.
    assert set(r.index) == {"a", "b", "d"}
    assert r.loc["a", ["time_days", "event"]].tolist() == [29, 1]   # grade 0 at W4 (day 29)
    assert r.loc["b", ["time_days", "event"]].tolist() == [85, 1]   # grade 0 at W12 (day 85)
    assert r.loc["d", ["time_days", "event"]].tolist() == [85, 0]   # never 0: censored at W12


def test_resolution_ignores_assessments_after_exit(small):
    # b left the study on day 50 (e.g. transplant): the W12 grade 0 does not count, censored at W4.
    r = resolution_times(small, {"b": 50}).set_index("usubjid")
    assert r.loc["b", ["time_days", "event"]].tolist() == [29, 0]
    assert set(r["group"]) == {POOLED_LABEL}


def test_grade_transitions_link_consecutive_chosen_visits(small):
    links = grade_transitions(small, visits=["BL", "W4", "W12"], group_col=None)
    got = {(s, t): c for s, t, c in zip(links["source"], links["target"], links["count"])}
    assert got == {("BL: moderate", "W4: none"): 1, ("BL: mild", "W4: mild"): 1, ("BL: none", "W4: moderate"): 1,
                   ("BL: severe", "W4: severe"): 1, ("W4: none", "W12: mild"): 1, ("W4: mild", "W12: none"): 1,
                   ("W4: severe", "W12: moderate"): 1}


@pytest.mark.parametrize("call, message", [
    (lambda d: grade_shift(d, visits=["W99"]), "grade_shift: visits ['W99'] not in df.visit"),
    (lambda d: grade_transitions(d, visits=["BL"]), "at least two"),
    (lambda d: measure_by_visit(d, measure="grade"), "measure must be one of"),
    (lambda d: free_of_ascites(d, conf_level=0), "conf_level"),
    (lambda d: grade_distribution(d.assign(grade=5)), "allowed grades"),
    (lambda d: grade_distribution(d, group_col="site"), "group_col='site'"),
])
def test_bad_arguments_raise_value_error(small, call, message):
    with pytest.raises(ValueError) as info:
        call(small)
    assert message in str(info.value)


def test_grade_transitions_follow_the_given_group_order(small):
    # Y before X although X appears first: the study's order (active first) must win.
    links = grade_transitions(small, visits=["BL", "W4"], group_col="arm", groups=["Y", "X"])
    assert list(pd.unique(links["group"])) == ["Y", "X"]
    assert links.loc[links["group"] == "Y", "count"].sum() == 1


def test_resolution_km_is_kaplan_meier_of_the_resolution_times(small):
    # a resolves day 29, b day 85, d censored day 85; c (no ascites at baseline) is not at risk.
    # KM by hand: S(29) = 2/3; S(85) = 2/3 * (1 - 1/2) = 1/3.
    km = resolution_km(small)
    assert km.table["time"].tolist() == [29, 85]
    np.testing.assert_allclose(km.table["survival"], [2 / 3, 1 / 3])
    assert km.summary["n"].item() == 3 and km.summary["events"].item() == 2
    assert km.groups == (POOLED_LABEL,) and "ascites at baseline" in km.method


def test_resolution_km_keeps_the_group_order_and_drops_patients_never_at_risk(small):
    # e: ascites at a baseline taken on day 0 and never seen again -> censored at day 0, never at risk.
    df = pd.concat([small, _asc([("e", "Y", "BL", 2)]).assign(study_day=0)], ignore_index=True)
    km = resolution_km(df, group_col="arm", groups=["Y", "X"])
    assert km.groups == ("Y", "X")
    assert km.summary.set_index("group").loc["Y", "n"] == 1  # d only


def test_shift_from_counts_fills_zeros_and_labels_pooled_counts():
    counts = pd.DataFrame({"group": [None, None], "visit": ["W4", "W12"], "assessed": [3, 2], "n": [3, 1],
                           "improved": [1, 1], "stable": [1, 0], "worsened": [1, 0]})
    t = grade_shift_from_counts(counts, visits=["W12", "W4"])
    assert t["group"].tolist() == [POOLED_LABEL] * 2 and t["visit"].tolist() == ["W12", "W4"]
    # A group asked for but absent from the counts gets zeros, as grade_shift gives a group without rows.
    z = grade_shift_from_counts(counts.assign(group="X"), groups=["Y", "X"], visits=["W4"])
    assert z[["group", "n", "improved", "stable", "worsened"]].values.tolist() == [["Y", 0, 0, 0, 0], ["X", 3, 1, 1, 1]]


def test_tails_equal_the_row_functions_on_hand_counts(small):
    # Transition counts as SQL returns them (any row order); the tail sorts by group, pair and grades.
    # BL -> W4 in ``small``: X a 2->0, b 1->1, c 0->2; Y d 3->3.
    counts = pd.DataFrame({"group": ["Y", "X", "X", "X"], "pair": [0] * 4, "source_visit": ["BL"] * 4,
                           "source_grade": [3, 2, 1, 0], "target_visit": ["W4"] * 4, "target_grade": [3, 0, 1, 2],
                           "count": [1, 1, 1, 1]})
    links = transitions_from_counts(counts, visits=["BL", "W4"], groups=["X", "Y"])
    pd.testing.assert_frame_equal(links, grade_transitions(small, visits=["BL", "W4"], group_col="arm", groups=["X", "Y"]))
    times = resolution_times(small)
    km = resolution_km_from_times(times.assign(group=None))
    assert km.summary["n"].item() == 3 and km.groups == (POOLED_LABEL,)
