"""Interim monitoring against R rpact 3.3.4: boundaries at the observed information, conditional power
under the trend, the design hazard ratio and H0, and repeated CIs (group_sequential_observed.R and
group_sequential.R write the fixtures); and the pooled projection of events."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.monitoring import (
    DesignSpec,
    conditional_power,
    design_power,
    hazard_ratio_from_z,
    look_fractions,
    piecewise_hazard,
    project_events,
    repeated_ci,
    schoenfeld_events,
)

REF = Path(__file__).parent / "reference"
OBSERVED = json.loads((REF / "group_sequential_observed.json").read_text())
PLANNED = json.loads((REF / "group_sequential_analysis.json").read_text())


def _spec(futility: bool, fractions=(0.5, 0.75, 1.0), sides=1, alpha=0.025, spending="obf") -> DesignSpec:
    return DesignSpec(24, fractions, alpha, sides, spending, None, 0.2 if futility else None,
                      "obf" if futility else None, None, 0.55, 2.5)


@pytest.mark.parametrize("case", OBSERVED["cases"], ids=lambda c: f"{c['events']}-{c['theta_h1']}-{c['futility']}")
def test_boundaries_at_observed_information_and_conditional_power_equal_rpact(case):
    spec = _spec(case["futility"])
    # jsonlite writes one-element vectors as scalars.
    observed_events, logranks = list(np.atleast_1d(case["events"])), list(np.atleast_1d(case["logranks"]))
    fractions, done = look_fractions(observed_events, spec)
    assert fractions == pytest.approx(case["information"], abs=1e-14)
    design = spec.design(fractions)
    assert design.efficacy_z == pytest.approx(case["critical_values"], abs=1e-6)
    if case["futility"]:
        assert design.futility_z[:-1] == pytest.approx(np.atleast_1d(case["futility_bounds"]), abs=1e-6)
    z, events = -logranks[-1], observed_events[-1]  # rpact's Z < 0 favours the experimental arm
    result = conditional_power(z, events, spec, design, done)
    expected = case["conditional_power"]
    if case["theta_h1"] == "observed":
        assert result.trend_hazard_ratio == pytest.approx(case["theta_h1_used"], abs=1e-12)
        assert result.trend == pytest.approx(expected, abs=1e-6)
    elif case["theta_h1"] == 1:
        assert result.null == pytest.approx(expected, abs=1e-6)
    else:
        assert result.design == pytest.approx(expected, abs=1e-6)
    lower, upper = repeated_ci(z, events, 2.5, design.efficacy_z[done - 1])
    # rpact finds the RCI by root search to 1e-6 in the hazard ratio.
    assert (lower, upper) == pytest.approx((case["rci_lower"], case["rci_upper"]), abs=1e-6)


PLANNED_DESIGNS = {d["id"]: d for d in PLANNED["designs"]}
ON_PLAN = [c for c in PLANNED["cases"] if not c["inputs"]["direction_upper"]
           and c["inputs"]["planned_cumulative_events"][:len(np.atleast_1d(c["inputs"]["overall_events"]))]
           == list(np.atleast_1d(c["inputs"]["overall_events"]))]


@pytest.mark.parametrize("case", ON_PLAN, ids=lambda c: c["id"])
def test_conditional_power_on_plan_equals_rpact_get_analysis_results(case):
    """Looks exactly at the planned events: the observed and the planned design coincide."""
    source = PLANNED_DESIGNS[case["design_id"]]
    spec = _spec("bsOF" in case["design_id"], tuple(source["information"]), source["sides"], source["alpha"],
                 "obf" if source["id"].startswith("obf") else "pocock")
    events = list(np.atleast_1d(case["inputs"]["overall_events"]))
    z = -float(np.atleast_1d(case["inputs"]["overall_logranks"])[-1])
    fractions, done = look_fractions(events, spec)
    design = spec.design(fractions)
    assert design.efficacy_z == pytest.approx(source["critical_values"], abs=1e-6)
    result = conditional_power(z, events[-1], spec, design, done)
    theta = case["inputs"]["thetaH1_meaning"]
    got = {"design_hr_0.55": result.design, "observed_hr": result.trend, "h0_1": result.null}[theta]
    assert got == pytest.approx([v for v in case["conditional_power"] if v is not None][-1], abs=1e-6)
    assert hazard_ratio_from_z(z, events[-1], 2.5) == pytest.approx(case["stage_results"]["effect_sizes_hr"], abs=1e-12)
    lower, upper = repeated_ci(z, events[-1], 2.5, design.efficacy_z[done - 1])
    assert lower == pytest.approx(case["repeated_ci_lower_hr"][done - 1], abs=1e-6)
    assert upper == pytest.approx(case["repeated_ci_upper_hr"][done - 1], abs=1e-6)


def test_looks_without_new_events_spend_nothing_and_overruns_end_the_trial():
    spec = _spec(False)
    assert look_fractions([0, 6, 6, 12], spec) == ((0.25, 0.5, 0.75, 1.0), 2)
    assert look_fractions([], spec) == ((0.5, 0.75, 1.0), 0)
    # 30 events against 24 planned: the fractions are relative to 30 and the last look is final.
    assert look_fractions([12, 30], spec) == ((0.4, 1.0), 2)
    assert conditional_power(2.0, 30, spec, spec.design((0.4, 1.0)), 2) is None


def test_schoenfeld_events_of_the_protocol():
    """HR 0.55, one-sided 0.025, 80% power, 5:2: (1.96 + 0.8416)^2 x 3.5^2 / (2.5 x log(0.55)^2) = 107.6."""
    assert schoenfeld_events(0.55, 0.025, 0.8, 2.5) == pytest.approx(107.6, abs=0.05)


def test_design_power_of_the_planned_events():
    """24 events buy sqrt(24 x 2.5 / 12.25) x -log(0.55) = 1.323 expected Z: about 26% power at one
    look (Phi(1.323 - 1.96)); three O'Brien-Fleming looks cost a little of it."""
    power = design_power(_spec(False))
    fixed = float(pd.Series([1.323 - 1.95996]).map(lambda x: 0.5 * math.erfc(-x / math.sqrt(2))).iloc[0])
    assert fixed - 0.01 < power.power < fixed
    assert power.events_for_80 > power.fixed_sample_events_for_80 > 100


def test_piecewise_hazard_counts_exposure_per_interval():
    time = np.array([10.0, 50.0, 400.0])
    event = np.array([1, 1, 0])
    edges, rates = piecewise_hazard(time, event, breaks=(28.0,))
    assert list(edges) == [0.0, 28.0, np.inf]
    assert rates == pytest.approx([1 / (10 + 28 + 28), 1 / (22 + 372)])


def test_projection_reaches_the_expected_events():
    """One rate everywhere (no breaks crossed): 100 followed patients at 1 event per 100 patient-days
    expect 100 (1 - exp(-d/100)) events after d days."""
    rows = pd.DataFrame({"time_days": [5.0] * 100 + [5.0], "event": [0] * 100 + [1],
                         "followed": [True] * 100 + [False]})
    # exposure 101 x 5 = 505 days, 1 event: rate 1/505 in the first interval only (follow-up ends at day 20)
    projection = project_events(rows, date(2026, 1, 1), 20, 0, None)
    expected_at_end = 100 * (1 - math.exp(-15 / 505))
    assert projection.most_events == pytest.approx(expected_at_end, rel=1e-12)
    assert projection.date_reaching(expected_at_end + 0.01) is None
    assert projection.date_reaching(100 * (1 - math.exp(-10 / 505))) == date(2026, 1, 11)


def test_projection_counts_the_patients_still_to_enrol():
    """Nobody followed; 10 patients enrol one a day from the cut and are followed 20 days at one rate."""
    rows = pd.DataFrame({"time_days": [5.0, 5.0], "event": [1, 0], "followed": [False, False]})
    rate = 1 / 10  # 1 event in 10 patient-days, all in the first interval
    projection = project_events(rows, date(2026, 1, 1), 20, 10, 1.0)
    day = 15
    expected = sum(1 - math.exp(-rate * min(max(day - j, 0), 20)) for j in range(1, 11))
    curve = projection.curve.set_index("date")["expected_events"]
    assert curve[date(2026, 1, 16)] == pytest.approx(expected, rel=1e-12)
    assert projection.to_enrol == 10 and projection.accrual_per_month == pytest.approx(30.4375)
