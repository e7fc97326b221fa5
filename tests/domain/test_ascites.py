"""Tests of dashboard.domain.ascites against R (reference/ascites.R: binom.test; survfit and cmprsk::cuminc for
time to resolution with death and transplant competing) and hand counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.ascites import (
    DIED,
    NOT_ASSESSED,
    NOT_DUE,
    TRANSPLANTED,
    competing_resolution_times,
    grade_shift_from_counts,
    population_note,
    resolution_cif_from_times,
    resolution_cif_table,
    resolution_km_from_times,
    state_shift_from_counts,
    transitions_from_counts,
    visit_population_from_counts,
)
from dashboard.domain.disclosure import SUPPRESSED
from tests.oracle.ascites import (
    free_of_ascites,
    grade_distribution,
    grade_shift,
    grade_transitions,
    measure_by_visit,
    resolution_km,
    resolution_times,
    state_shift,
    state_transitions,
    visit_population,
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
    r = resolution_times(small, pd.DataFrame({"usubjid": ["b"], "status": ["transplanted"], "exit_day": [50.0]}))
    r = r.set_index("usubjid")
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
                           "source_state": [3, 2, 1, 0], "target_visit": ["W4"] * 4, "target_state": [3, 0, 1, 2],
                           "count": [1, 1, 1, 1]})
    links = transitions_from_counts(counts, visits=["BL", "W4"], groups=["X", "Y"])
    pd.testing.assert_frame_equal(links, grade_transitions(small, visits=["BL", "W4"], group_col="arm", groups=["X", "Y"]))
    times = resolution_times(small)
    km = resolution_km_from_times(times.assign(group=None))
    assert km.summary["n"].item() == 3 and km.groups == (POOLED_LABEL,)



# --- The views that keep the dead ------------------------------------------------------------------------

SCHEDULE = pd.DataFrame({"visit": list(DAYS), "visit_num": list(NUMS.values()), "target_day": list(DAYS.values()),
                         "window_hi": [1, 10, 32, 92, 183, 351]})
# Day 1 on 2025-01-01 for everyone; the cut on day 201: W24's window (to day 183) has closed, W48's (351) has not.
CUT = pd.Timestamp("2025-07-20").date()


@pytest.fixture()
def followed(small):
    """``small`` with a W24 grade 0 for a, and who left: b transplanted on day 50 (still assessed at W12, after
    the transplant), c died on day 60 (not assessed after W4), d withdrew on day 100; a is on study."""
    rows = pd.concat([small, _asc([("a", "X", "W24", 0)])], ignore_index=True)
    subjects = pd.DataFrame({"usubjid": list("abcd"), "arm": list("XXXY"),
                             "status": ["on study", "transplanted", "died", "withdrawn"],
                             "day1_on": pd.Timestamp("2025-01-01"), "exit_day": [np.nan, 50.0, 60.0, 100.0]})
    return rows, subjects


def test_the_population_of_each_visit_says_who_left_and_adds_up(followed):
    rows, subjects = followed
    pop = visit_population(rows, subjects, SCHEDULE, CUT, group_col="arm", groups=["X", "Y"]).set_index(["group", "visit"])
    # W1 and W48: nobody assessed, so no summary and no row.
    assert list(pop.index.get_level_values("visit").unique()) == ["BL", "W4", "W12", "W24"]
    cols = ["patients", "assessed", "not_assessed", "withdrawn_or_lost", "transplanted", "died", "not_yet_due"]
    # W12, X: a assessed, b assessed after the transplant (the grade charts count every assessment), c died on
    # day 60 <= 85.
    assert pop.loc[("X", "W12"), cols].tolist() == [3, 2, 0, 0, 0, 1, 0]
    # W24, X: a assessed, b transplanted, c died; Y: d withdrew on day 100 <= 169.
    assert pop.loc[("X", "W24"), cols].tolist() == [3, 1, 0, 0, 1, 1, 0]
    assert pop.loc[("Y", "W24"), cols].tolist() == [1, 0, 0, 1, 0, 0, 0]
    assert (pop["patients"] == pop[cols[1:]].sum(axis=1)).all()


def test_the_population_note_names_the_left_out_at_the_last_visit_half_had_reached(followed):
    rows, subjects = followed
    pop = visit_population(rows, subjects, SCHEDULE, CUT, group_col="arm", groups=["X", "Y"])
    note = population_note(pop)
    assert note.endswith("Not counted at W24, the last visit at least half of the selected patients had reached: "
                         "X 1 died, 1 transplanted; Y 1 withdrawn or lost.")
    assert "alive, on study and assessed" in note
    blinded = population_note(visit_population(rows, subjects, SCHEDULE, CUT), small_cells=True)
    assert blinded.endswith(f": {SUPPRESSED} died, {SUPPRESSED} transplanted, {SUPPRESSED} withdrawn or lost.")


def test_the_population_note_moves_to_an_earlier_visit_when_fewer_than_half_reached_the_last():
    counts = pd.DataFrame({"group": None, "visit_num": [0, 3, 3, 3, 5, 5, 5],
                           "visit": ["BL", "W4", "W4", "W4", "W12", "W12", "W12"],
                           "state": [1, 0, DIED, NOT_ASSESSED, 0, DIED, NOT_DUE], "patients": [10, 6, 3, 1, 2, 3, 5]})
    pop = visit_population_from_counts(counts)
    # W12: 5 of 10 were due (exactly half): named; with 6 not yet due it would fall back to W4.
    assert "Not counted at W12" in population_note(pop) and "3 died, 5 not yet due" in population_note(pop)
    later = visit_population_from_counts(counts.assign(patients=[10, 6, 3, 1, 1, 3, 6]))
    assert "Not counted at W4" in population_note(later) and "3 died, 1 not assessed." in population_note(later)
    assert population_note(pop.assign(not_assessed=0, died=0, not_yet_due=0)).endswith(
        "Every selected patient was assessed at W12.")


def test_state_shift_keeps_the_dead_and_counts_the_not_yet_due_apart(followed):
    rows, subjects = followed
    t = state_shift(rows, subjects, SCHEDULE, CUT, visits=["W4", "W12", "W24", "W48"], group_col="arm",
                    groups=["X", "Y"]).set_index(["group", "visit"])
    cols = ["n", "improved", "stable", "worsened", "not_assessed", "withdrawn_or_lost", "transplanted", "died",
            "not_yet_due"]
    # Baselines a 2, b 1, c 0, d 3. W4: a 0 improved, b 1 stable, c 2 worsened; d 3 stable.
    assert t.loc[("X", "W4"), cols].tolist() == [3, 1, 1, 1, 0, 0, 0, 0, 0]
    # W12: a 1 improved; b's grade 0 after the transplant does not count (absorbing); c died; d 2 improved.
    assert t.loc[("X", "W12"), cols].tolist() == [3, 1, 0, 0, 0, 0, 1, 1, 0]
    assert t.loc[("Y", "W12"), cols].tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0]
    # W48 is not due for anyone (everyone's cut day is 201 < 351): all counted apart, the dead and transplanted
    # too, or the deaths of a visit the living have not reached would count against them.
    assert t.loc[("X", "W48"), cols].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 3]
    assert t.loc[("Y", "W48"), cols].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_state_transitions_flow_into_died_and_transplanted_and_stay_there(followed):
    rows, subjects = followed
    links = state_transitions(rows, subjects, SCHEDULE, CUT, visits=["BL", "W4", "W12", "W48"], group_col=None)
    got = {(s, t): c for s, t, c in zip(links["source"], links["target"], links["count"])}
    assert got == {("BL: moderate", "W4: none"): 1, ("BL: mild", "W4: mild"): 1, ("BL: none", "W4: moderate"): 1,
                   ("BL: severe", "W4: severe"): 1, ("W4: none", "W12: mild"): 1,
                   ("W4: mild", "W12: transplanted"): 1, ("W4: moderate", "W12: died"): 1,
                   ("W4: severe", "W12: moderate"): 1, ("W12: mild", "W48: not yet due"): 1,
                   ("W12: transplanted", "W48: transplanted"): 1, ("W12: died", "W48: died"): 1,
                   ("W12: moderate", "W48: withdrawn or lost"): 1}
    # Every patient is in every column: the flows add up.
    assert (links.groupby("source_visit")["count"].sum() == 4).all()


def test_state_shift_from_counts_fills_zeros_and_refuses_a_visit_not_in_the_counts():
    counts = pd.DataFrame({"group": None, "visit": ["W4", "W4", "W4", "W12"], "base": [2, 2, np.nan, 1],
                           "state": [1, DIED, 0, TRANSPLANTED], "patients": [3, 2, 4, 1]})
    t = state_shift_from_counts(counts, visits=["W12", "W4"])
    # W4: 3 improved, 2 died; 4 without a baseline grade are not counted.
    assert t[["visit", "n", "improved", "died", "transplanted"]].values.tolist() == [["W12", 1, 0, 0, 1],
                                                                                     ["W4", 5, 3, 2, 0]]
    with pytest.raises(ValueError, match=r"visits \['W99'\] are not in counts"):
        state_shift_from_counts(counts, visits=["W99"])


def test_competing_resolution_times_end_at_death_or_transplant_else_the_last_assessment():
    times = pd.DataFrame({"usubjid": list("abcdefg"), "time_days": [29.0, 15.0, 15.0, 8.0, 57.0, 0.0, 0.0],
                          "event": [1, 0, 0, 0, 1, 0, 0],
                          "status": ["died", "died", "transplanted", "withdrawn", "on study", "died", "on study"],
                          "exit_day": [90.0, 20.0, 21.0, 9.0, np.nan, 3.0, np.nan], "group": None})
    rows = competing_resolution_times(times).set_index("usubjid")
    # a resolved before dying: the resolution counts. b died and c was transplanted unresolved: their exit
    # day. d withdrew: censored at the last assessment. f and g had their baseline on day 0 and no later
    # assessment: f's death on day 3 is an event, g (censored on day 0) was never at risk.
    assert rows[["time_days", "event_type"]].values.tolist() == [[29, 1], [20, 2], [21, 3], [8, 0], [57, 1], [3, 2]]
    assert set(rows["group"]) == {POOLED_LABEL}


def test_resolution_cif_equals_r_survfit_and_cmprsk_gray_test():
    """reference/ascites.R: survfit on the multi-state Surv (CIF, std.err, log CI) and cuminc's Gray test."""
    times = pd.read_csv(REF / "ascites_resolution_data.csv")
    days = {"W4": 29, "W12": 85, "W24": 169, "W48": 337}
    res = resolution_cif_from_times(times, groups=["UC-MSC", "Placebo"], days=days)
    ref = pd.read_csv(REF / "ascites_resolution_cif.csv")
    got = res.at_visits.set_index(["group", "day"]).loc[list(zip(ref["group"], ref["day"]))]
    for column in ("cif", "std_err", "lower", "upper"):
        np.testing.assert_allclose(got[column], ref[column], rtol=1e-6, atol=1e-9, equal_nan=True)
    # The UC-MSC curve ends with an event (final from then on); Placebo's last patient is censored on day 251.
    assert got.loc[("Placebo", 337), "cif"] != got.loc[("Placebo", 337), "cif"]
    assert got["visit"].tolist() == ["W4", "W12", "W24", "W48"] * 2
    gray = pd.read_csv(REF / "ascites_resolution_gray.csv").iloc[0]
    assert res.gray is not None and res.gray.df == gray["df"] and res.gray.cause == 1
    np.testing.assert_allclose([res.gray.statistic, res.gray.p], [gray["statistic"], gray["p"]], rtol=1e-6)
    counts = res.counts.set_index("group")
    assert counts.loc["UC-MSC"].tolist() == [35, 29, 5, 1, 0] and counts.loc["Placebo"].tolist() == [13, 4, 5, 1, 3]
    assert "competing" in res.method and res.gray_note == ""


def test_pooled_resolution_cif_has_no_gray_test_and_the_death_curve_beside_it():
    times = pd.read_csv(REF / "ascites_resolution_data.csv").assign(group=None)
    res = resolution_cif_from_times(times)
    assert res.cif.groups == (POOLED_LABEL,) and res.gray is None and res.gray_note == ""
    # 10 of the 48 died unresolved: the death curve ends at 10 deaths' worth of incidence.
    assert res.death.table["events"].sum() == 10 and res.counts["died"].item() == 10
    assert res.cif.table["events"].sum() == 33


def test_resolution_cif_table_writes_the_incidence_at_each_visit_with_its_ci():
    times = pd.read_csv(REF / "ascites_resolution_data.csv")
    res = resolution_cif_from_times(times, groups=["UC-MSC", "Placebo"], days={"W4": 29, "W48": 337})
    table = resolution_cif_table(res).set_index("group")
    assert list(table.columns) == ["n", "resolved", "died", "transplanted", "censored", "W4 resolved (95% CI)",
                                   "W48 resolved (95% CI)"]
    # reference/ascites_resolution_cif.csv: UC-MSC at W4 0.628571 (0.487252-0.810878); Placebo's follow-up ends
    # on day 251 with a patient still at risk, so W48 is not estimable.
    assert table.loc["UC-MSC", "W4 resolved (95% CI)"] == "62.9% (48.7%-81.1%)"
    assert table.loc["UC-MSC", "W48 resolved (95% CI)"] == "82.9% (71.3%-96.3%)"
    assert table.loc["Placebo", "W48 resolved (95% CI)"] == "not estimable"
