"""/ascites' sections: grade distribution, depth and volume, free of ascites, shift from baseline, time to
resolution and grade transitions, each counted in DuckDB (no assessment rows fetched)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import groups
from dashboard.domain.ascites import (
    MEASURES,
    FreeOfAscites,
    distribution_from_counts,
    free_from_distribution,
    grade_shift_from_counts,
    resolution_km_from_times,
    transitions_from_counts,
)
from dashboard.domain.labstats import VisitSummary, summary_from_aggregates
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.domain.survival import KMResult


@dataclass(frozen=True)
class AscitesSummaries:
    """Grade distribution, depth and volume by visit, proportion free of ascites."""

    grades: pd.DataFrame
    measures: dict[str, VisitSummary]
    free: FreeOfAscites

    @property
    def visit_order(self) -> list[str]:
        return self.grades.drop_duplicates("visit").sort_values("visit_num")["visit"].tolist()


@analysis
def summaries(view: TrialView, f: SubjectFilter) -> AscitesSummaries:
    grades = distribution_from_counts(view.ascites_grade_counts(f), groups=groups(view, f))
    stats = view.ascites_measure_summaries(f)
    measures = {m: summary_from_aggregates(stats[stats["measure"] == m].drop(columns="measure").reset_index(drop=True),
                                           value_col=m, groups=groups(view, f)) for m in MEASURES}
    return AscitesSummaries(grades=grades, measures=measures, free=free_from_distribution(grades))


@analysis
def shift(view: TrialView, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
    """Grade at each of ``visits`` against baseline."""
    return grade_shift_from_counts(view.ascites_shift_counts(f, visits), groups=groups(view, f), visits=visits)


@analysis
def resolution(view: TrialView, f: SubjectFilter) -> KMResult:
    """Kaplan-Meier of time to resolution for the arms with a patient at risk; InsufficientData when none is."""
    times = view.ascites_resolution_times(f)
    at_risk = set(times["group"])
    return resolution_km_from_times(times, groups=[g for g in groups(view, f) or [] if g in at_risk] or None)


@analysis
def transitions(view: TrialView, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
    """Sankey links between consecutive ``visits``."""
    return transitions_from_counts(view.ascites_transition_counts(f, visits), visits=visits, groups=groups(view, f))
