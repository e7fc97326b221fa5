"""The heavy pages' default data: pure functions of ``(view, ...)`` that pages call through
``cache.computed``, so a rerun with the same filter reuses the statistics instead of recomputing them.

Each function takes the group column and arms from ``view`` (never from its arguments), so a blinded
viewer's call, whose ``view.cache_key`` differs, can only ever compute and get pooled results. Rows
come through ``cache.query``, so a page that also needs the rows shares one fetch with these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.domain import POOLED_LABEL, safety
from dashboard.domain.arm_comparison import ArmComparison, comparison_from_aggregates
from dashboard.domain.ascites import (
    MEASURES,
    FreeOfAscites,
    distribution_from_counts,
    free_from_distribution,
    grade_shift_from_counts,
    resolution_km_from_times,
    transitions_from_counts,
)
from dashboard.domain.endpoints import ENDPOINTS, MILESTONES, endpoint_rows
from dashboard.domain.labstats import (
    VisitSummary,
    deaths_between_visits,
    summary_from_aggregates,
)
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.domain.survival import KMResult, SurvivalAnalysis, survival_analysis
from dashboard.ui.cache import query


def selected_arms(view: TrialView, f: SubjectFilter) -> list[str]:
    """The arms the selection can hold, in study order (active first, control last); [] for a blinded view.
    An arm left out by the filter is not listed, so it gets no empty rows, curve or failed comparison."""
    return [a for a in view.arms() if not f.arm or a in f.arm]


def _groups(view: TrialView, f: SubjectFilter) -> list[str] | None:
    # None lets a pooled result name its one group.
    return selected_arms(view, f) or None


@dataclass(frozen=True)
class LabCurve:
    """/labs' default view: the per-visit summary and who left between the plotted visits."""

    summary: VisitSummary
    exits: pd.DataFrame


def lab_curve(view: TrialView, f: SubjectFilter, code: str, mode: str) -> LabCurve | None:
    """Summary by visit of ``mode`` (value, chg, pchg) of one lab, aggregated in DuckDB (no rows fetched);
    None when no selected patient has a record of it."""
    aggregates = view.lab_visit_summary(f, code, mode)
    if aggregates.empty:
        return None
    summary = summary_from_aggregates(aggregates, value_col=mode, groups=_groups(view, f))
    schedule = query(view, "visit_schedule")
    plotted = schedule[schedule["visit_num"].isin(summary.summary["visit_num"])]
    exits = deaths_between_visits(query(view, "subject_exits", f), plotted, group_col=view.group_col,
                                  groups=_groups(view, f) or [POOLED_LABEL])
    return LabCurve(summary=summary, exits=exits)


def arm_comparison(view: TrialView, f: SubjectFilter, code: str) -> ArmComparison | None:
    """ANCOVA and Wilcoxon of change from baseline per visit, the first (active) arm vs the control arm (the
    last, as on /survival), from SQL aggregates; None when either arm has no patient with a baseline and a
    later value (or the view is pooled). Raises ValueError when a patient has several values at one visit."""
    arms = view.arms()
    if len(arms) < 2:
        return None
    active, reference = arms[0], arms[-1]
    aggregates = view.lab_comparison_aggregates(f, code, active, reference)
    if not {active, reference} <= set(aggregates["group"]):
        return None
    return comparison_from_aggregates(aggregates, active=active, reference=reference)


@dataclass(frozen=True)
class AscitesSummaries:
    """/ascites' summaries: grade distribution, depth and volume by visit, proportion free of ascites."""

    grades: pd.DataFrame
    measures: dict[str, VisitSummary]
    free: FreeOfAscites


def ascites_summaries(view: TrialView, f: SubjectFilter) -> AscitesSummaries:
    """Aggregated in DuckDB (grade counts, per-visit depth and volume statistics); no rows fetched."""
    groups = _groups(view, f)
    grades = distribution_from_counts(view.ascites_grade_counts(f), groups=groups)
    stats = view.ascites_measure_summaries(f)
    return AscitesSummaries(
        grades=grades,
        measures={m: summary_from_aggregates(stats[stats["measure"] == m].drop(columns="measure").reset_index(drop=True),
                                             value_col=m, groups=groups) for m in MEASURES},
        free=free_from_distribution(grades))


def ascites_shift(view: TrialView, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
    """Grade at each of ``visits`` against baseline, counted in DuckDB."""
    return grade_shift_from_counts(view.ascites_shift_counts(f, visits), groups=_groups(view, f), visits=visits)


def ascites_resolution(view: TrialView, f: SubjectFilter) -> KMResult:
    """Kaplan-Meier of time to resolution from per-patient times computed in DuckDB, for the arms with a
    patient at risk; raises InsufficientData when there is none."""
    times = view.ascites_resolution_times(f)
    at_risk = set(times["group"])
    return resolution_km_from_times(times, groups=[g for g in _groups(view, f) or [] if g in at_risk] or None)


def ascites_transitions(view: TrialView, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
    """Sankey links between consecutive ``visits``, counted in DuckDB."""
    return transitions_from_counts(view.ascites_transition_counts(f, visits), visits=visits, groups=_groups(view, f))


def temperature_by_hour(view: TrialView, f: SubjectFilter) -> safety.TemperatureSummary:
    """Aggregated in DuckDB (one value per patient and time point first); no rows fetched."""
    return safety.temperature_from_aggregates(view.temperature_summary(f), arms=tuple(view.arms()))


def fever_incidence(view: TrialView, f: SubjectFilter) -> list[safety.FeverIncidence]:
    """Fever after infusions at each threshold of ``safety.FEVER_THRESHOLDS``, counted in DuckDB."""
    counts = view.fever_counts(f)
    return [safety.fever_from_counts(counts, threshold=t, arms=tuple(view.arms())) for t in safety.FEVER_THRESHOLDS]


def survival_rows(view: TrialView, f: SubjectFilter, endpoint: str, as_of: date | None) -> pd.DataFrame:
    """One row per dosed patient for a derived endpoint (re-censored at ``as_of``) or an imported one."""
    if endpoint in ENDPOINTS:
        return endpoint_rows(query(view, "time_to_event", f, as_of), endpoint)
    return query(view, "imported_tte_rows", f, endpoint)


def survival(view: TrialView, f: SubjectFilter, endpoint: str, as_of: date | None,
             conf_type: str) -> SurvivalAnalysis:
    """Kaplan-Meier, log-rank, Cox and milestones of ``survival_rows``; arms vs the control arm."""
    arms = selected_arms(view, f)
    return survival_analysis(survival_rows(view, f, endpoint, as_of), group_col=view.group_col,
                             groups=tuple(arms) if arms else None, reference=arms[-1] if arms else None,
                             conf_type=conf_type, milestones_days=list(MILESTONES))
