"""Domain layer: interim monitoring of a time-to-event endpoint against the charter's group-sequential
design: information by look, boundaries at the observed information, conditional and predictive power,
repeated confidence intervals, and when the next look's events are expected.

The log-rank statistic's information is ``d r / (1 + r)^2`` for ``d`` events at allocation ratio ``r``
(Schoenfeld 1981), so the drift per unit information is ``-log(HR)``, the hazard ratio estimate from the
statistic is ``exp(-Z (1 + r) / sqrt(r d))`` and ``Z`` > 0 favours the experimental arm (as rpact with
``directionUpper = FALSE``). Every published data cut is a look: alpha is spent at each cut's
information fraction (Lan-DeMets), the looks the charter plans after the last cut keep their planned
fractions. When the events exceed the plan, the fractions are taken relative to the events observed,
so the last cut spends all of alpha.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy import optimize, special

from dashboard.domain.group_sequential import (
    Design,
    conditional_rejection,
    group_sequential_design,
    operating_characteristics,
    predictive_power,
)

# Study days at which the pooled event hazard of the projection may change: liver-failure deaths come
# mostly in the first four weeks, then weeks 4-12, then rarely (domain.md §4).
HAZARD_BREAKS = (28.0, 90.0, 365.0)


def information(events: float, allocation_ratio: float) -> float:
    """Fisher information of the log-rank statistic with ``events`` events (Schoenfeld)."""
    return events * allocation_ratio / (1.0 + allocation_ratio) ** 2


def hazard_ratio_from_z(z: float, events: float, allocation_ratio: float) -> float:
    return math.exp(-z / math.sqrt(information(events, allocation_ratio)))


def schoenfeld_events(hazard_ratio: float, alpha: float, power: float, allocation_ratio: float, sides: int = 1) -> float:
    """Events a fixed-sample log-rank test needs for ``power`` at ``hazard_ratio`` (Schoenfeld 1983)."""
    z = special.ndtri(1 - alpha / sides) + special.ndtri(power)
    return float(z * z * (1 + allocation_ratio) ** 2 / (allocation_ratio * math.log(hazard_ratio) ** 2))


@dataclass(frozen=True)
class DesignSpec:
    """The charter's design, as the monitoring functions need it."""

    planned_events: int
    fractions: tuple[float, ...]
    alpha: float
    sides: int
    spending: str
    gamma: float | None
    beta: float | None
    futility_spending: str | None
    futility_gamma: float | None
    design_hazard_ratio: float
    allocation_ratio: float

    def design(self, fractions: Sequence[float] | None = None) -> Design:
        return group_sequential_design(tuple(fractions or self.fractions), self.alpha, self.sides, self.spending,
                                       self.gamma, self.beta, self.futility_spending, self.futility_gamma)


def analysed_looks(observed_events: Sequence[int]) -> list[int]:
    """Indices of the data cuts that are looks: those that added events (the others spend nothing)."""
    kept: list[int] = []
    for i, d in enumerate(observed_events):
        if d > 0 and (not kept or d > observed_events[kept[-1]]):
            kept.append(i)
    return kept


def look_fractions(observed_events: Sequence[int], spec: DesignSpec) -> tuple[tuple[float, ...], int]:
    """Information fractions of the observed looks (:func:`analysed_looks`) followed by the planned looks still
    ahead, and how many of them are observed."""
    events = [int(observed_events[i]) for i in analysed_looks(observed_events)]
    if not events:
        return spec.fractions, 0
    scale = max(spec.planned_events, events[-1])
    observed = [d / scale for d in events]
    ahead = [f for f in spec.fractions if f > observed[-1] + 1e-9]
    return tuple(observed + ahead), len(observed)


@dataclass(frozen=True)
class ObservedLook:
    """The data at one point: a data cut (``cut_id``) or an as-of date of the current cut; the signed
    log-rank Z and its hazard ratio are None for a blinded viewer or before an event."""

    label: str
    on: date
    cut_id: int | None
    events: int
    information: float
    z: float | None
    hazard_ratio: float | None


@dataclass(frozen=True)
class DesignPower:
    """What the planned events buy: power under the design hazard ratio (efficacy boundaries only; with
    futility obeyed when the design has futility boundaries), and the events the same design would need
    for 80% and 90% power."""

    power: float
    power_with_futility: float | None
    events_for_80: float
    events_for_90: float
    fixed_sample_events_for_80: float


def design_power(spec: DesignSpec) -> DesignPower:
    design = spec.design()
    drift_per_info = -math.log(spec.design_hazard_ratio)
    drift = drift_per_info * math.sqrt(information(spec.planned_events, spec.allocation_ratio))
    operating = operating_characteristics(design, drift)
    efficacy_only = replace(spec, beta=None, futility_spending=None, futility_gamma=None).design()

    def events_for(power: float) -> float:
        # The drift giving ``power`` with efficacy boundaries only, then the events giving that drift.
        target = optimize.brentq(lambda x: operating_characteristics(efficacy_only, x).power - power, 0.0, 20.0,
                                 xtol=1e-10)
        return target ** 2 / (drift_per_info ** 2 * spec.allocation_ratio / (1 + spec.allocation_ratio) ** 2)

    return DesignPower(operating.power_ignoring_futility, operating.power if spec.beta is not None else None,
                       events_for(0.8), events_for(0.9),
                       schoenfeld_events(spec.design_hazard_ratio, spec.alpha, 0.8, spec.allocation_ratio, spec.sides))


@dataclass(frozen=True)
class ConditionalPower:
    """At the current look: conditional power under the current trend, the design hazard ratio and H0;
    predictive power (flat prior); the hazard ratios they assume; events still to the final analysis."""

    trend: float
    design: float
    null: float
    predictive: float
    trend_hazard_ratio: float
    design_hazard_ratio: float
    additional_events: int


def conditional_power(z: float, events: int, spec: DesignSpec, design: Design,
                      looks_done: int) -> ConditionalPower | None:
    """Conditional power at the last observed look of ``design`` (the design at the observed fractions, as
    rpact's ``getConditionalPower`` with ``nPlanned`` the events still planned per look): the looks ahead
    stop at their efficacy and futility boundaries. None at or after the final analysis."""
    fractions = design.information
    if looks_done >= len(fractions):
        return None
    scale = max(spec.planned_events, events)
    r = spec.allocation_ratio
    info_now = information(events, r)
    future_info = [information(f * scale, r) for f in fractions[looks_done:]]
    ahead = design.looks[looks_done:]
    efficacy = [look.efficacy_z for look in ahead]
    futility = [look.futility_z for look in ahead]
    trend = z / math.sqrt(info_now)

    def cp(theta: float) -> float:
        return conditional_rejection(z, info_now, future_info, efficacy, theta, spec.sides, futility)

    return ConditionalPower(cp(trend), cp(-math.log(spec.design_hazard_ratio)), cp(0.0),
                            predictive_power(z, info_now, future_info, efficacy, spec.sides, futility),
                            math.exp(-trend), spec.design_hazard_ratio, max(spec.planned_events - events, 0))


def repeated_ci(z: float, events: int, allocation_ratio: float, critical_z: float) -> tuple[float, float]:
    """Repeated confidence interval of the hazard ratio at a look whose efficacy boundary is ``critical_z``
    (Jennison & Turnbull 1989): ``exp(-(Z -/+ c) / sqrt(I))``; coverage 1 - 2 alpha for a one-sided design."""
    root_info = math.sqrt(information(events, allocation_ratio))
    return math.exp(-(z + critical_z) / root_info), math.exp(-(z - critical_z) / root_info)


def piecewise_hazard(time_days: np.ndarray, event: np.ndarray,
                     breaks: Sequence[float] = HAZARD_BREAKS) -> tuple[np.ndarray, np.ndarray]:
    """Pooled events per patient-day in each study-day interval ``(0, b1], (b1, b2], ..., (bn, inf)``."""
    edges = np.concatenate(([0.0], np.asarray(breaks, float), [np.inf]))
    exposure = np.array([np.clip(time_days - lo, 0.0, hi - lo).sum() for lo, hi in zip(edges[:-1], edges[1:])])
    interval = np.searchsorted(edges[1:], time_days, side="left")
    events = np.bincount(interval[event == 1], minlength=edges.size - 1)
    return edges, np.divide(events, exposure, out=np.zeros(exposure.size), where=exposure > 0)


def _cumulative_hazard(days: np.ndarray, edges: np.ndarray, rates: np.ndarray) -> np.ndarray:
    days = np.asarray(days, float)[..., None]
    return (np.clip(days - edges[:-1], 0.0, edges[1:] - edges[:-1]) * rates).sum(-1)


@dataclass(frozen=True)
class EventProjection:
    """Expected pooled events from the cut on (``curve``: date, expected_events), from the pooled
    piecewise-constant hazard so far, the patients still followed and the patients still to enrol."""

    curve: pd.DataFrame
    hazard_per_year: tuple[float, ...]
    followed: int
    to_enrol: int
    accrual_per_month: float | None

    def date_reaching(self, events: float) -> date | None:
        reached = self.curve[self.curve["expected_events"] >= events - 1e-9]
        return None if reached.empty else reached["date"].iloc[0]

    @property
    def most_events(self) -> float:
        return float(self.curve["expected_events"].iloc[-1])


def project_events(rows: pd.DataFrame, cut: date, follow_up_days: int, to_enrol: int,
                   accrual_per_day: float | None) -> EventProjection:
    """Project pooled events after ``cut``. ``rows``: one per dosed patient with ``time_days``, ``event`` and
    ``followed`` (still in follow-up at the cut: administratively censored). Patients still to enrol arrive
    at ``accrual_per_day`` from the cut and are followed ``follow_up_days``."""
    time = rows["time_days"].to_numpy(float)
    edges, rates = piecewise_hazard(time, rows["event"].to_numpy(int))
    followed = time[rows["followed"].to_numpy(bool)]
    pending = to_enrol if accrual_per_day else 0
    horizon = int(follow_up_days + (pending / accrual_per_day if pending else 0)) + 1
    days = np.arange(horizon + 1, dtype=float)
    # Patients on the same study day share a future: one column per distinct day, weighted by how many.
    on_day, count = np.unique(followed, return_counts=True)
    start = _cumulative_hazard(on_day, edges, rates)
    ends = np.minimum(on_day[None, :] + days[:, None], max(follow_up_days, 0))
    expected = (1.0 - np.exp(-(_cumulative_hazard(ends, edges, rates) - start[None, :]))) @ count
    if pending:
        entry_day, entering = np.unique(np.ceil(np.arange(1, pending + 1) / accrual_per_day), return_counts=True)
        on_study = np.clip(days[:, None] - entry_day[None, :], 0.0, follow_up_days)
        expected += (1.0 - np.exp(-_cumulative_hazard(on_study, edges, rates))) @ entering
    curve = pd.DataFrame({"date": [cut + timedelta(days=int(d)) for d in days], "expected_events": expected})
    return EventProjection(curve, tuple(float(v) * 365.25 for v in rates), int(followed.size), pending,
                           accrual_per_day * 30.4375 if accrual_per_day else None)
