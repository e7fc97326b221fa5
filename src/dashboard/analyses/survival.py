"""/survival's sections: Kaplan-Meier with log-rank, Cox and milestones; RMST; cumulative incidence with
the cause-specific hazard ratio; subgroup hazard ratios; curves as the data accrued; two cuts side by side.

Arms are the selection's (:func:`~dashboard.analyses.common.selected_arms`): an arm filter keeps that arm's
curve instead of failing on the other, and the control arm is the reference of every comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import groups, reference_arm, selected_arms
from dashboard.domain.competing_risks import (
    CIFResult,
    GrayTest,
    cause_specific_cox,
    cif_at,
    cumulative_incidence,
    gray_test,
)
from dashboard.domain.endpoints import (
    COMPETING_RISKS,
    DEATH,
    ENDPOINTS,
    MILESTONES,
    SUBGROUPS,
    TRANSPLANT,
    accrual_dates,
    endpoint_rows,
    outcome_label,
    subgroup_columns,
)
from dashboard.domain.subgroups import SubgroupResult, ordered_by, subgroup_hr
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.domain.survival import (
    CoxResult,
    KMResult,
    RMSTResult,
    SurvivalAnalysis,
    km_estimate,
    patients_in_window,
    rmst_from_km,
    survival_analysis,
)
from dashboard.errors import InsufficientData


@analysis
def survival_rows(view: TrialView, f: SubjectFilter, endpoint: str, as_of: date | None = None) -> pd.DataFrame:
    """One row per dosed patient for a derived endpoint (re-censored at ``as_of``) or an imported ADTTE one."""
    if endpoint in ENDPOINTS:
        return endpoint_rows(view.time_to_event(f, as_of), endpoint)
    return view.imported_tte_rows(f, endpoint)


@analysis
def survival(view: TrialView, f: SubjectFilter, endpoint: str, as_of: date | None = None,
             conf_type: str = "log-log", milestones: tuple[float, ...] = tuple(MILESTONES),
             reference: str | None = None) -> SurvivalAnalysis:
    """Kaplan-Meier, log-rank, Cox and survival at the milestones; each arm vs ``reference`` (default the
    control arm), the reference listed last. Raises InsufficientData when no selected patient has started
    treatment, ValueError for a reference that is not a selected arm."""
    rows = survival_rows(view, f, endpoint, as_of)
    if rows.empty:
        raise InsufficientData("No selected patient had started treatment by then.")
    arms = selected_arms(view, f)
    reference = reference or reference_arm(view, f)
    if arms and reference not in arms:
        raise ValueError(f"reference {reference!r} is not an arm of the selection; arms: {', '.join(arms)}.")
    order = tuple(a for a in arms if a != reference) + ((reference,) if arms else ())
    return survival_analysis(rows, group_col=view.group_col, groups=order or None, reference=reference,
                             conf_type=conf_type, milestones_days=list(milestones))


@analysis
def restricted_mean(view: TrialView, f: SubjectFilter, endpoint: str, as_of: date | None, conf_type: str,
                    horizon: float) -> RMSTResult:
    """Restricted mean survival time to ``horizon`` days from :func:`survival`'s own Kaplan-Meier estimate."""
    result = survival(view, f, endpoint, as_of, conf_type)
    return rmst_from_km(result.km, horizon=horizon, reference=result.reference)


@dataclass(frozen=True)
class CompetingRisks:
    """Cumulative incidence of death with transplant competing and of transplant with death competing, each with
    its pointwise CI; for the DSMB Gray's test per cause and the cause-specific HR of death (None pooled, or
    ``hr_note`` says why it is not estimable)."""

    cif: CIFResult
    transplant_cif: CIFResult
    at_milestones: pd.DataFrame
    transplant_at_milestones: pd.DataFrame
    cause_specific: CoxResult | None
    hr_note: str
    gray: dict[str, GrayTest] = field(default_factory=dict)


@analysis
def competing_risks(view: TrialView, f: SubjectFilter, as_of: date | None = None) -> CompetingRisks:
    rows = survival_rows(view, f, COMPETING_RISKS, as_of)
    if rows.empty:
        raise InsufficientData("No selected patient had started treatment by then.")
    arms = selected_arms(view, f)
    groups_shown = tuple(arms) or None
    cif = cumulative_incidence(rows, group_col=view.group_col, groups=groups_shown, cause=DEATH)
    transplant = cumulative_incidence(rows, group_col=view.group_col, groups=groups_shown, cause=TRANSPLANT)
    cause_specific, note, gray = None, "", {}
    if len(arms) > 1:
        gray = {name: gray_test(rows, group_col=view.group_col, groups=arms, cause=cause)
                for name, cause in (("death", DEATH), ("transplant", TRANSPLANT))}
        try:
            cause_specific = cause_specific_cox(rows, group_col=view.group_col, reference=arms[-1], groups=arms)
        except InsufficientData as exc:
            note = str(exc)
    return CompetingRisks(cif, transplant, cif_at(cif, list(MILESTONES)), cif_at(transplant, list(MILESTONES)),
                          cause_specific, note, gray)


# The subgroup variables with ordered levels, each ordered by the baseline measurement it was cut from (their
# sparse levels merge with a neighbour); sex, etiology and liver-failure type are nominal (pooled into "Other").
ORDERED_SUBGROUPS = {"age_group": "age", "meld_group": "baseline_meld", "ascites_group": "baseline_ascites_grade"}


@analysis
def subgroups(view: TrialView, f: SubjectFilter, endpoint: str, as_of: date | None = None) -> SubgroupResult | None:
    """Hazard ratio per subgroup level (levels with fewer than 5 events collapsed) with one interaction test per
    variable; None for a pooled view (no arms to compare). Raises InsufficientData when fewer than two arms are
    selected or no comparison is estimable."""
    arms = selected_arms(view, f)
    if not arms:
        return None
    if len(arms) < 2:
        raise InsufficientData("Subgroup hazard ratios compare two arms; the filter keeps only "
                               f"{arms[0]}. Remove the arm filter to compare.")
    rows = ordered_by(subgroup_columns(survival_rows(view, f, endpoint, as_of)), ORDERED_SUBGROUPS)
    return subgroup_hr(rows, group_col=view.group_col, reference=arms[-1], subgroups=SUBGROUPS, groups=arms)


@analysis
def accrual(view: TrialView, f: SubjectFilter, endpoint: str, conf_type: str) -> tuple[tuple[str, KMResult], ...]:
    """Kaplan-Meier curves re-censored at the first of each month from the first randomisation to the cut."""
    first, cut = view.first_randomized(f), view.study()["data_cut_date"].date()
    if first is None:
        return ()
    frames = []
    for day in accrual_dates(first, cut):
        rows = survival_rows(view, f, endpoint, None if day == cut else day)
        try:
            frames.append((f"{day:%Y-%m-%d}", km_estimate(rows, group_col=view.group_col, groups=groups(view, f),
                                                          conf_type=conf_type)))
        except InsufficientData:
            continue  # before the first patient of every arm was treated
    return tuple(frames)


def cut_comparison(views: dict[str, TrialView], f: SubjectFilter, endpoint: str,
                   conf_type: str) -> dict[str, SurvivalAnalysis]:
    """:func:`survival` of each labelled cut's view (each cached on its own cut), same filter and options."""
    return {label: survival(view, f, endpoint, None, conf_type) for label, view in views.items()}


@analysis
def patients_between(view: TrialView, f: SubjectFilter, endpoint: str, as_of: date | None, start_day: float,
                     end_day: float) -> pd.DataFrame:
    """Patients whose event or censoring falls in [start_day, end_day], with an ``outcome`` label."""
    found = patients_in_window(survival_rows(view, f, endpoint, as_of), max(start_day, 0.0), end_day)
    return found.assign(outcome=outcome_label(found).to_list())
