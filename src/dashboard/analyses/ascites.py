"""/ascites' sections: grade distribution, depth and volume, free of ascites, shift from baseline, time to
resolution and grade transitions, each counted in DuckDB (no assessment rows fetched).

By-visit summaries count the patients alive, on study and assessed at each visit; each result carries the
sentence saying whom it counts. The shift table, time to resolution and the Sankey also come in the form that
keeps the dead (the DSMB's default): death and transplant as absorbing states, or as competing events.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import groups
from dashboard.domain.ascites import (
    MEASURES,
    STATE_SHIFT_METHOD,
    VISIT_STATE_RULE,
    FreeOfAscites,
    ResolutionCIF,
    distribution_from_counts,
    free_from_distribution,
    grade_shift_from_counts,
    population_note,
    resolution_cif_from_times,
    resolution_km_from_times,
    state_shift_from_counts,
    transitions_from_counts,
    visit_population_from_counts,
)
from dashboard.domain.disclosure import shown_count
from dashboard.domain.labstats import VisitSummary, summary_from_aggregates
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.domain.survival import KMResult
from dashboard.errors import InsufficientData

# Where the cumulative incidence of resolution is read off: end of treatment, then follow-up.
CIF_VISITS = ("W4", "W12", "W24", "W48")


@dataclass(frozen=True)
class Population:
    """Who each visit's by-visit summaries count (``domain.ascites.visit_population_from_counts``) and the
    sentence saying it, small counts written "<5" for a blinded viewer."""

    table: pd.DataFrame
    note: str


@dataclass(frozen=True)
class AscitesSummaries:
    """Grade distribution, depth and volume by visit, proportion free of ascites, and whom they count."""

    grades: pd.DataFrame
    measures: dict[str, VisitSummary]
    free: FreeOfAscites
    population: Population

    @property
    def visit_order(self) -> list[str]:
        return self.grades.drop_duplicates("visit").sort_values("visit_num")["visit"].tolist()


@dataclass(frozen=True)
class Counted:
    """A shift table or Sankey links (``table``) and the sentence saying whom it counts."""

    table: pd.DataFrame
    population: str


@analysis
def population(view: TrialView, f: SubjectFilter) -> Population:
    table = visit_population_from_counts(view.ascites_visit_states(f), groups=groups(view, f))
    return Population(table, population_note(table, small_cells=not view.sees_arms))


@analysis
def summaries(view: TrialView, f: SubjectFilter) -> AscitesSummaries:
    grades = distribution_from_counts(view.ascites_grade_counts(f), groups=groups(view, f))
    stats = view.ascites_measure_summaries(f)
    measures = {m: summary_from_aggregates(stats[stats["measure"] == m].drop(columns="measure").reset_index(drop=True),
                                           value_col=m, groups=groups(view, f)) for m in MEASURES}
    return AscitesSummaries(grades=grades, measures=measures, free=free_from_distribution(grades),
                            population=population(view, f))


@analysis
def shift(view: TrialView, f: SubjectFilter, visits: tuple[str, ...]) -> Counted:
    """Grade at each of ``visits`` against baseline, among the patients assessed at both."""
    table = grade_shift_from_counts(view.ascites_shift_counts(f, visits), groups=groups(view, f), visits=visits)
    return Counted(table, "Survivors only: patients assessed at baseline and at the visit. "
                   + population(view, f).note)


def _scheduled(view: TrialView, visits: tuple[str, ...]) -> tuple[str, ...]:
    """The ``visits`` the schedule holds: the views that keep the dead need a visit's target day and window."""
    known = set(view.visit_schedule()["visit"])
    return tuple(v for v in visits if v in known)


@analysis
def state_shift(view: TrialView, f: SubjectFilter, visits: tuple[str, ...]) -> Counted:
    """Every patient with a baseline grade at each of ``visits`` (those scheduled): the shift, or died,
    transplanted, left."""
    visits = _scheduled(view, visits)
    table = state_shift_from_counts(view.ascites_state_shift_counts(f, visits), visits=visits, groups=groups(view, f))
    return Counted(table, STATE_SHIFT_METHOD)


@analysis
def resolution(view: TrialView, f: SubjectFilter) -> KMResult:
    """Kaplan-Meier of time to resolution for the arms with a patient at risk; InsufficientData when none is."""
    times = view.ascites_resolution_times(f)
    at_risk = set(times["group"])
    return resolution_km_from_times(times, groups=[g for g in groups(view, f) or [] if g in at_risk] or None)


@analysis
def resolution_competing(view: TrialView, f: SubjectFilter) -> ResolutionCIF:
    """Cumulative incidence of resolution with death and transplant competing, for the arms with a patient at
    risk, read off at the scheduled ``CIF_VISITS``; Gray's test between the arms for the DSMB (a blinded view
    is pooled: one curve, no test). InsufficientData when nobody is at risk."""
    times = view.ascites_resolution_times(f)
    at_risk = set(times["group"])
    schedule = view.visit_schedule()
    days = dict(zip(schedule["visit"], schedule["target_day"].astype(float)))
    return resolution_cif_from_times(times, groups=[g for g in groups(view, f) or [] if g in at_risk] or None,
                                     days={v: days[v] for v in CIF_VISITS if v in days})


@analysis
def transitions(view: TrialView, f: SubjectFilter, visits: tuple[str, ...]) -> Counted:
    """Sankey links between consecutive ``visits``, among the patients assessed at both visits of a pair."""
    links = transitions_from_counts(view.ascites_transition_counts(f, visits), visits=visits, groups=groups(view, f))
    return Counted(links, "Survivors only: patients assessed at both visits of each consecutive pair. "
                   + population(view, f).note)


@analysis
def state_transitions(view: TrialView, f: SubjectFilter, visits: tuple[str, ...]) -> Counted:
    """Sankey links between consecutive ``visits`` (those scheduled) with every selected patient in a state at
    every visit; InsufficientData when fewer than two of them are scheduled."""
    visits = _scheduled(view, visits)
    if len(visits) < 2:
        raise InsufficientData("fewer than two of the chosen visits are in the visit schedule.")
    links = transitions_from_counts(view.ascites_state_transition_counts(f, visits), visits=visits,
                                    groups=groups(view, f))
    first = links[links["source_visit"] == visits[0]].groupby("group", sort=False)["count"].sum()
    small = not view.sees_arms
    counted = ", ".join(f"{g}: {shown_count(n, small)}" if len(first) > 1 else shown_count(n, small)
                        for g, n in first.items())
    return Counted(links, f"Every selected patient is in every column ({counted} patients), so the columns add up; "
                          "died and transplanted are absorbing (assessments after leaving the study are not "
                          "counted). " + VISIT_STATE_RULE)
