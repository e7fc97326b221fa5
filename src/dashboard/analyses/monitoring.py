"""/monitoring's sections: the charter's group-sequential plan against the data, for the DSMB.

Information (pooled events over the charter's planned events), the looks done and ahead with the next
look's expected date, the efficacy (and futility) boundaries recomputed at the information each data cut
actually reached, the signed log-rank Z at every cut and at the first of every month (the survival
page's as-of dates) as a path, nominal p thresholds, repeated confidence intervals, conditional and
predictive power, and the charter's safety rules. The whole trial is monitored, whatever the page's
filters: boundaries apply to the trial the charter planned, not to a subset.

A blinded viewer's call computes only pooled numbers (its view has no arm): events, information, the
looks and the projection. Everything comparative is None for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboard.access.opening import open_trial_view
from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import reference_arm, selected_arms
from dashboard.analyses.safety_rules import safety_rules
from dashboard.analyses.survival import survival_rows
from dashboard.domain.charter import Charter, RuleResult
from dashboard.domain.cox import LogrankZ, logrank_z
from dashboard.domain.endpoints import ADMINISTRATIVE, ENDPOINTS, accrual_dates
from dashboard.domain.group_sequential import Design
from dashboard.domain.monitoring import (
    ConditionalPower,
    DesignPower,
    DesignSpec,
    EventProjection,
    ObservedLook,
    analysed_looks,
    conditional_power,
    design_power,
    hazard_ratio_from_z,
    look_fractions,
    project_events,
    repeated_ci,
)
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import InsufficientData

EVERYONE = SubjectFilter()


def design_spec(charter: Charter) -> DesignSpec:
    futility = charter.futility
    beta_spending = futility is not None and futility.rule == "beta_spending"
    return DesignSpec(
        charter.planned_events, tuple(charter.information_fractions), charter.alpha, charter.sides,
        charter.spending, charter.gamma, futility.beta if beta_spending else None,
        futility.spending if beta_spending else None, futility.gamma if beta_spending else None,
        charter.design_hazard_ratio, charter.allocation_ratio)


@dataclass(frozen=True)
class LookStatistic:
    """Pooled events and, for the DSMB, the signed log-rank statistic (None blinded or not estimable)."""

    events: int
    logrank: LogrankZ | None


@analysis
def look_statistic(view: TrialView, endpoint: str, as_of: date | None = None) -> LookStatistic:
    rows = survival_rows(view, EVERYONE, endpoint, as_of)
    events = int(rows["event"].sum()) if not rows.empty else 0
    arms = selected_arms(view, EVERYONE)
    if len(arms) < 2 or events == 0:
        return LookStatistic(events, None)
    try:
        statistic = logrank_z(rows, group_col=view.group_col, experimental=arms[0], control=reference_arm(view, EVERYONE))
    except InsufficientData:
        statistic = None
    return LookStatistic(events, statistic)


def _kept_cut_statistic(view: TrialView, path: str, endpoint: str) -> LookStatistic:
    """:func:`look_statistic` of a kept earlier cut, as delivered, for the same viewer."""
    return look_statistic(open_trial_view(view.viewer, path), endpoint)


@dataclass(frozen=True)
class NextLook:
    """The charter's next planned look: its number, "final analysis" or "interim look k", its events."""

    number: int
    label: str
    events: int
    expected_on: date | None
    note: str


@dataclass(frozen=True)
class BoundaryStatus:
    """Where the current look's Z stands against its boundaries (the DSMB decides; this only reports)."""

    efficacy_crossed: bool
    harm_crossed: bool
    futility_crossed: bool
    message: str


@dataclass(frozen=True)
class Monitoring:
    charter: Charter
    spec: DesignSpec
    endpoint_label: str
    cut_date: date
    events: int
    information: float
    planned_looks: pd.DataFrame
    next_look: NextLook | None
    projection: EventProjection | None
    cuts: tuple[ObservedLook, ...]  # every kept cut: pooled events; Z and HR only for the DSMB
    # Comparative: None (or empty) for a blinded viewer.
    power: DesignPower | None
    path: tuple[ObservedLook, ...]
    design: Design | None
    planned_design: Design | None
    looks_done: int
    conditional: ConditionalPower | None
    looks_table: pd.DataFrame | None
    status: BoundaryStatus | None
    safety: tuple[RuleResult, ...]


def _look(label: str, on: date, cut_id: int | None, statistic: LookStatistic, spec: DesignSpec) -> ObservedLook:
    z = statistic.logrank.z if statistic.logrank else None
    return ObservedLook(label, on, cut_id, statistic.events, statistic.events / spec.planned_events, z,
                None if z is None else hazard_ratio_from_z(z, statistic.events, spec.allocation_ratio))


def _cut_looks(view: TrialView, endpoint: str, spec: DesignSpec) -> tuple[ObservedLook, ...]:
    """The kept earlier cuts and the current cut: pooled events for everyone, Z for the DSMB."""
    earlier = view.earlier_cuts()
    cuts = [_look(f"Cut {cut_id}", pd.Timestamp(on).date(), int(cut_id), _kept_cut_statistic(view, path, endpoint), spec)
            for cut_id, on, path in earlier[["cut_id", "cut_date", "path"]].itertuples(index=False)]
    cut_date = view.study()["data_cut_date"].date()
    cuts.append(_look(f"Cut {view.cut_id}", cut_date, view.cut_id, look_statistic(view, endpoint), spec))
    return tuple(cuts)


def _monthly_path(view: TrialView, endpoint: str, spec: DesignSpec, current: ObservedLook) -> tuple[ObservedLook, ...]:
    """The current cut re-censored at the first of every month (the survival page's as-of dates), ending
    at the cut itself."""
    first = view.first_randomized(EVERYONE)
    return tuple(_look(f"As of {day:%Y-%m-%d}", day, None, look_statistic(view, endpoint, day), spec)
                 for day in (accrual_dates(first, current.on)[:-1] if first else ())) + (current,)


def _projection(view: TrialView, rows: pd.DataFrame, study: dict, cut_date: date) -> EventProjection | None:
    """Pooled projection of events from the cut (None before the first dose)."""
    if rows.empty:
        return None
    dates = view.subject_dates(EVERYONE)
    enrolled = len(dates)
    to_enrol = max(int(study["planned_n"]) - enrolled, 0)
    randomised = pd.to_datetime(dates["randomized_on"])
    span = (randomised.max() - randomised.min()).days
    accrual = (enrolled - 1) / span if to_enrol and enrolled > 1 and span > 0 else None
    followed = rows.assign(followed=(rows["event"] == 0) & (rows["censor_reason"] == ADMINISTRATIVE))
    return project_events(followed, cut_date, int(study["follow_up_days"]), to_enrol, accrual)


def _status(charter: Charter, design: Design, look: int, z: float,
            conditional: ConditionalPower | None) -> BoundaryStatus:
    """The current look (index ``look``) against its boundaries and the charter's futility rule."""
    bound = design.looks[look]
    efficacy = z >= bound.efficacy_z
    harm = design.sides == 2 and z <= -bound.efficacy_z
    futility_rule = charter.futility
    futility = False
    if futility_rule is not None and futility_rule.rule == "beta_spending" and bound.futility_z is not None:
        futility = z <= bound.futility_z
    elif futility_rule is not None and futility_rule.rule == "conditional_power" and conditional is not None:
        futility = conditional.design < futility_rule.threshold
    if efficacy:
        message = f"The efficacy boundary is crossed: Z = {z:.3f} ≥ {bound.efficacy_z:.3f}."
    elif harm:
        message = f"The lower boundary is crossed (the experimental arm does worse): Z = {z:.3f} ≤ {-bound.efficacy_z:.3f}."
    elif futility and futility_rule.rule == "beta_spending":
        message = f"The non-binding futility boundary is crossed: Z = {z:.3f} ≤ {bound.futility_z:.3f}."
    elif futility:
        message = (f"Conditional power under the design hazard ratio ({conditional.design:.1%}) is below the "
                   f"charter's non-binding futility threshold ({futility_rule.threshold:.0%}).")
    else:
        message = (f"No boundary is crossed at this look (Z = {z:.3f}; efficacy boundary {bound.efficacy_z:.3f}): "
                   "the charter's rules do not call for stopping.")
    return BoundaryStatus(efficacy, harm, futility, message)


def _looks_table(design: Design, observed: list[ObservedLook], spec: DesignSpec) -> pd.DataFrame:
    """One row per look of the design at the observed information: observed looks with their statistic,
    hazard ratio and repeated CI, then the planned looks ahead."""
    scale = max(spec.planned_events, observed[-1].events if observed else 0)
    rows = []
    for k, bound in enumerate(design.looks):
        seen = observed[k] if k < len(observed) else None
        lower = upper = None
        if seen is not None and seen.z is not None:
            lower, upper = repeated_ci(seen.z, seen.events, spec.allocation_ratio, bound.efficacy_z)
        planned = "planned final analysis" if k == len(design.looks) - 1 else "planned interim look"
        rows.append({
            "analysis": k + 1, "label": seen.label if seen else planned, "date": seen.on if seen else None,
            "events": seen.events if seen else round(bound.information * scale),
            "information": bound.information, "z": seen.z if seen else None,
            "efficacy_z": bound.efficacy_z, "nominal_p": bound.efficacy_p_nominal,
            "cumulative_alpha": bound.cumulative_alpha, "futility_z": bound.futility_z,
            "hazard_ratio": seen.hazard_ratio if seen else None, "rci_lower": lower, "rci_upper": upper})
    return pd.DataFrame(rows)


def _comparative(view: TrialView, charter: Charter, spec: DesignSpec, endpoint: str,
                 current: LookStatistic, cuts: tuple[ObservedLook, ...]) -> dict:
    path = _monthly_path(view, endpoint, spec, cuts[-1])
    observed = [cuts[i] for i in analysed_looks([c.events for c in cuts])]
    fractions, looks_done = look_fractions([c.events for c in cuts], spec)
    design = spec.design(fractions)
    conditional = status = None
    if current.logrank is not None and looks_done:
        conditional = conditional_power(current.logrank.z, current.events, spec, design, looks_done)
        status = _status(charter, design, looks_done - 1, current.logrank.z, conditional)
    return dict(power=design_power(spec), path=path, design=design, planned_design=spec.design(),
                looks_done=looks_done, conditional=conditional, looks_table=_looks_table(design, observed, spec),
                status=status)


@analysis
def monitoring(view: TrialView, charter: Charter | None = None) -> Monitoring:
    """The monitoring page for the cut of ``view`` against ``charter`` (default the cut's own). Raises
    InsufficientData when the cut has no charter."""
    charter = charter or view.charter()
    if charter is None:
        raise InsufficientData("This data cut has no DSMB charter, so there are no stopping rules to monitor "
                               "against. The data manager loads the charter with a data cut (docs/charter.md).")
    spec = design_spec(charter)
    endpoint = charter.endpoint
    study = view.study()
    cut_date = study["data_cut_date"].date()
    rows = survival_rows(view, EVERYONE, endpoint)
    current = look_statistic(view, endpoint)
    planned_events = list(charter.planned_looks_events)
    next_number = next((i for i, e in enumerate(planned_events) if e > current.events), None)
    projection = _projection(view, rows, study, cut_date)
    next_look = None
    if next_number is not None:
        needed = planned_events[next_number] - current.events
        expected_on = projection.date_reaching(needed) if projection else None
        if expected_on is not None:
            note = f"{needed} more events expected by {expected_on:%Y-%m-%d}"
        elif projection is not None:
            note = (f"not expected to be reached: only about {projection.most_events:.1f} of the {needed} missing "
                    "events are expected before follow-up ends, at the event rate so far")
        else:
            note = f"{needed} more events needed; no event rate to project from yet"
        final = next_number == len(planned_events) - 1
        next_look = NextLook(next_number + 1, "final analysis" if final else f"interim look {next_number + 1}",
                             planned_events[next_number], expected_on, note)
    cuts = _cut_looks(view, endpoint, spec)
    planned_looks = pd.DataFrame({
        "look": range(1, len(planned_events) + 1), "information": spec.fractions, "events": planned_events,
        "reached_by": [next((c.label for c in cuts if c.events >= e), None) for e in planned_events]})
    blinded = not view.sees_arms or len(selected_arms(view, EVERYONE)) < 2
    comparative = dict(power=None, path=(), design=None, planned_design=None, looks_done=0,
                       conditional=None, looks_table=None, status=None)
    if not blinded:
        comparative = _comparative(view, charter, spec, endpoint, current, cuts)
    return Monitoring(charter, spec, ENDPOINTS[endpoint].label, cut_date, current.events,
                      current.events / spec.planned_events, planned_looks, next_look, projection, cuts=cuts,
                      safety=() if blinded else safety_rules(view, EVERYONE, charter), **comparative)
