"""/labs' sections: summary by visit with who left between visits, the arm comparison, box plots,
trajectories, the shift table and liver safety (eDISH/mDISH); each aggregated in DuckDB, no lab rows fetched."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import groups, selected_arms
from dashboard.domain import POOLED_LABEL, ctcae
from dashboard.domain.arm_comparison import ArmComparison, comparison_from_aggregates
from dashboard.domain.composite import WinRatioResult, WorstRankResult, win_ratio, worst_rank_analysis
from dashboard.domain.death_aware import (
    StateDistribution,
    observed_cases_note,
    state_distribution,
    state_scale,
    state_shift,
)
from dashboard.domain.lab_safety import DishResult, grade_shift_from_counts, mdish_from_peaks, shift_from_counts
from dashboard.domain.labplots import MAX_POINTS, BoxStats, Trajectories, box_stats_from_aggregates, trajectories_from_sample
from dashboard.domain.labstats import VisitSummary, deaths_between_visits, summary_from_aggregates
from dashboard.domain.meld import MELD_CODES
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import InsufficientData

SCALES = ("value", "chg", "pchg")  # the value, its change from baseline, its % change


@dataclass(frozen=True)
class LabCurve:
    """The per-visit summary, who left between the plotted visits, and whom the summary describes."""

    summary: VisitSummary
    exits: pd.DataFrame
    population: str


@analysis
def lab_curve(view: TrialView, f: SubjectFilter, code: str, scale: str) -> LabCurve | None:
    """Summary by visit of ``scale`` of one lab; None when no selected patient has a record of it."""
    aggregates = view.lab_visit_summary(f, code, scale)
    if aggregates.empty:
        return None
    summary = summary_from_aggregates(aggregates, value_col=scale, groups=groups(view, f))
    schedule = view.visit_schedule()
    plotted = schedule[schedule["visit_num"].isin(summary.summary["visit_num"])]
    exits = deaths_between_visits(view.subject_exits(f), plotted, group_col=view.group_col,
                                  groups=groups(view, f) or [POOLED_LABEL])
    return LabCurve(summary=summary, exits=exits, population=observed_cases_note(exits))


@analysis
def arm_comparison(view: TrialView, f: SubjectFilter, code: str) -> ArmComparison | None:
    """ANCOVA and Wilcoxon of change from baseline per visit, the first (active) arm vs the control arm (the
    last, as on /survival). None for a pooled view. Raises InsufficientData when the selection holds fewer
    than two arms or an arm has no patient with a baseline and a later value, UnsuitableData when a patient
    has several values at one visit."""
    if not view.sees_arms:
        return None
    arms = selected_arms(view, f)
    if len(arms) < 2:
        raise InsufficientData("A comparison needs two arms; the filter keeps only "
                               f"{', '.join(arms) or 'none'}. Remove the arm filter to compare.")
    active, reference = arms[0], arms[-1]
    aggregates = view.lab_comparison_aggregates(f, code, active, reference)
    if not {active, reference} <= set(aggregates["group"]):
        raise InsufficientData("A comparison needs patients of both arms with a baseline and a later value; "
                               "widen the filters in the sidebar.")
    return comparison_from_aggregates(aggregates, active=active, reference=reference)


@analysis
def box_stats(view: TrialView, f: SubjectFilter, code: str, scale: str) -> BoxStats:
    return box_stats_from_aggregates(view.lab_box_stats(f, code, scale), value_col=scale, groups=groups(view, f))


@analysis
def trajectories(view: TrialView, f: SubjectFilter, code: str, scale: str) -> Trajectories:
    """Whole patients' courses, a deterministic sample within the figure budget of DESIGN §7."""
    sample = view.lab_trajectory_sample(f, code, scale, MAX_POINTS)
    return trajectories_from_sample(sample, value_col=scale, max_points=MAX_POINTS)


@dataclass(frozen=True)
class ShiftTable:
    """One shift table of a lab: ``table`` has group, baseline, worst_post_baseline, n (every combination)."""

    title: str
    table: pd.DataFrame
    note: str


GRADE_NOTE = ("CTCAE v5.0 grades from the laboratory value alone (criteria that need the clinical state, such as "
              "'symptomatic', are not applied). Bilirubin, ALT/AST and creatinine are graded against multiples of "
              "the patient's own baseline when it was abnormal, so in liver failure most patients are grade 0 at "
              "baseline and a grade after it means a rise from their own level; 'Keep the dead' shows the "
              "absolute bands. Patients who died count with their worst grade before death.")
LIMIT_NOTE = ("Patients by baseline category (rows) and worst post-baseline category (columns), against each "
              "record's reference limits (this lab has no CTCAE grade).")


@analysis
def shift_tables(view: TrialView, f: SubjectFilter, code: str) -> tuple[ShiftTable, ...]:
    """Baseline against the worst value after baseline: one table per CTCAE term the lab is graded by (low and
    high, ADaM ATOXGRL/ATOXGRH), else one against the reference limits; UnsuitableData for a lab with neither."""
    terms = [(direction, criteria[code]) for direction, criteria in (("low", ctcae.LOW), ("high", ctcae.HIGH))
             if code in criteria]
    if terms:
        return tuple(ShiftTable(f"{term.term}: CTCAE v5.0 grade",
                                grade_shift_from_counts(view.lab_grade_shift_counts(f, code, direction),
                                                        groups=groups(view, f)), GRADE_NOTE)
                     for direction, term in terms)
    return (ShiftTable("Against the reference limits",
                       shift_from_counts(view.lab_shift_counts(f, code), paramcd=code, groups=groups(view, f)),
                       LIMIT_NOTE),)


@analysis
def lab_states(view: TrialView, f: SubjectFilter, code: str) -> StateDistribution:
    """Patients per state at each visit, the dead and transplanted kept; UnsuitableData for a lab without bands."""
    return state_distribution(view.lab_state_counts(f, code), state_scale(code), groups=groups(view, f))


@analysis
def lab_state_shift(view: TrialView, f: SubjectFilter, code: str, visit: str) -> pd.DataFrame:
    """Baseline band against the state at ``visit``, exits included."""
    return state_shift(view.lab_state_counts(f, code), state_scale(code), visit, groups=groups(view, f))


@dataclass(frozen=True)
class DeathRankedWorst:
    """MELD at a visit with death and transplant ranked worst: worst-rank scores and the win ratio."""

    worst_rank: WorstRankResult
    win_ratio: WinRatioResult


@analysis
def death_ranked_worst(view: TrialView, f: SubjectFilter, code: str, visit: str) -> DeathRankedWorst | None:
    """The first (active) arm against the control arm at ``visit`` for a MELD score; None for a pooled view or
    another lab. Raises InsufficientData when the selection holds fewer than two arms or too few patients."""
    if not view.sees_arms or code not in MELD_CODES:
        return None
    arms = selected_arms(view, f)
    if len(arms) < 2:
        raise InsufficientData("A comparison needs two arms; remove the arm filter to compare.")
    schedule = view.visit_schedule().set_index("visit")
    rows = view.lab_landmark_rows(f, code, int(schedule.at[visit, "visit_num"]))
    rows = rows.rename(columns={"baseline": "meld_baseline", "value": "meld_landmark"})
    day = float(schedule.at[visit, "target_day"])
    options = dict(group_col="group", active=arms[0], reference=arms[-1], landmark_day=day)
    return DeathRankedWorst(worst_rank_analysis(rows, **options), win_ratio(rows, **options))


@analysis
def liver_safety(view: TrialView, f: SubjectFilter, mdish_alt_cut: float, mdish_bili_cut: float) -> DishResult:
    """mDISH: each patient's peak ALT and bilirubin after baseline as multiples of baseline, with the given
    cut-offs (eDISH's multiples of ULN mean nothing in liver failure: domain.lab_safety.WHY_MDISH)."""
    return mdish_from_peaks(view.dish_peaks(f), alt_cut=mdish_alt_cut, bili_cut=mdish_bili_cut, groups=groups(view, f))
