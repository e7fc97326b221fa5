"""Group-sequential boundaries and operating characteristics against R rpact 3.3.4
(``Rscript tests/domain/reference/group_sequential.R`` writes the fixtures), to 1e-6."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from dashboard.domain.group_sequential import (
    conditional_rejection,
    efficacy_boundaries,
    group_sequential_design,
    operating_characteristics,
    predictive_power,
    spent,
)

REFERENCE = json.loads((Path(__file__).parent / "reference" / "group_sequential_designs.json").read_text())
FUTILITY = {"bsOF": "obf", "bsP": "pocock", "bsHSD": "hsd", None: None}
# rpact 3.3.4 marks two-sided beta spending experimental; the engine refuses it (test below).
CASES = [c for c in REFERENCE["cases"] if not (c["sides"] == 2 and c["beta"] is not None)]
TOLERANCE = 1e-6


def _design(case: dict, **kwargs):
    return group_sequential_design(case["information"], case["alpha"], case["sides"], case["spending"], case["gamma"],
                                   case["beta"], FUTILITY[case["futility_spending"]], case["futility_gamma"], **kwargs)


def test_the_reference_covers_what_the_charter_can_ask():
    ids = {c["id"] for c in CASES}
    for spending in ("obf", "pocock", "hsd_gm4", "hsd_g1"):
        for looks in (2, 3, 5):
            assert f"{spending}_k{looks}_sided1_futility" in ids
            assert f"{spending}_k{looks}_sided1_nofutility" in ids
            assert f"{spending}_k{looks}_sided2_nofutility" in ids


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_boundaries_equal_rpact(case):
    design = _design(case)
    for look, expected in zip(design.looks, case["looks"], strict=True):
        assert look.information == pytest.approx(expected["information"], abs=1e-12)
        assert look.efficacy_z == pytest.approx(expected["efficacy_z"], abs=TOLERANCE)
        assert look.cumulative_alpha == pytest.approx(expected["cumulative_alpha"], abs=TOLERANCE)
        # rpact's stageLevels are one-sided; a two-sided design's nominal p threshold is twice that.
        assert look.efficacy_p_nominal == pytest.approx(case["sides"] * expected["efficacy_p_nominal"], abs=TOLERANCE)
        if expected["futility_z"] is None:
            assert look.futility_z is None
        else:
            assert look.futility_z == pytest.approx(expected["futility_z"], abs=TOLERANCE)
        if expected["cumulative_beta"] is not None:
            assert look.cumulative_beta == pytest.approx(expected["cumulative_beta"], abs=TOLERANCE)
    if case["beta"] is not None:
        # rpact's "shift" is the squared drift at full information under the beta-spending alternative.
        assert design.drift ** 2 == pytest.approx(case["shift"], abs=1e-5)


@pytest.mark.parametrize("case", REFERENCE["power_cases"], ids=[c["design_id"] for c in REFERENCE["power_cases"]])
def test_rejection_and_futility_probabilities_equal_rpact(case):
    design = _design(next(c for c in REFERENCE["cases"] if c["id"] == case["design_id"]))
    for i, theta in enumerate(case["theta"]):
        operating = operating_characteristics(design, theta * math.sqrt(case["nMax"]))
        assert operating.power == pytest.approx(case["overall_reject"][i], abs=TOLERANCE)
        assert operating.reject_by_look == pytest.approx(case["reject_per_stage"][i], abs=TOLERANCE)
        if design.beta is not None:
            assert operating.futility_by_look[:-1] == pytest.approx(case["futility_stop"][i], abs=TOLERANCE)


def test_beta_spending_design_has_the_power_it_spends_for():
    case = next(c for c in CASES if c["id"] == "obf_k3_sided1_futility")
    design = _design(case)
    assert operating_characteristics(design, design.drift).power == pytest.approx(1 - case["beta"], abs=1e-8)


def test_grid_is_fine_enough():
    """The default grid against one four times finer: far inside the 1e-6 asked of the R comparison."""
    case = next(c for c in CASES if c["id"] == "obf_k5_sided1_futility")
    coarse, fine = _design(case), _design(case, r=160)
    assert np.max(np.abs(coarse.efficacy_z - fine.efficacy_z)) < 1e-7
    assert np.max(np.abs(coarse.futility_z[:-1] - fine.futility_z[:-1])) < 1e-7


def test_one_look_is_the_fixed_sample_test():
    assert efficacy_boundaries([1.0], 0.025, 1, "obf")[0] == pytest.approx(stats.norm.isf(0.025), abs=1e-10)
    assert efficacy_boundaries([1.0], 0.05, 2, "pocock")[0] == pytest.approx(stats.norm.isf(0.025), abs=1e-10)


def test_spending_functions_spend_alpha_by_the_end():
    for kind, gamma in (("obf", None), ("pocock", None), ("hsd", -4.0), ("hsd", 1.0), ("hsd", 0.0)):
        assert spent(kind, 0.025, 1.0, gamma) == pytest.approx(0.025, abs=1e-15)
        assert spent(kind, 0.025, 0.0, gamma) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("bad, message", [
    (dict(information=[0.5, 0.4, 1]), "increase strictly"),
    (dict(information=[0.5, 0.8]), "last information fraction is 1"),
    (dict(information=[0.5, 1], alpha=0.6), "alpha"),
    (dict(information=[0.5, 1], sides=3), "sides"),
    (dict(information=[0.5, 1], spending="linear"), "Unknown spending"),
    (dict(information=[0.5, 1], spending="hsd"), "needs gamma"),
    (dict(information=[0.5, 1], sides=2, alpha=0.05, beta=0.2, futility_spending="obf"), "one-sided designs only"),
])
def test_refuses_what_it_cannot_compute(bad, message):
    with pytest.raises(ValueError, match=message):
        group_sequential_design(**bad)


def test_predictive_power_with_one_look_left_is_the_closed_form():
    """Spiegelhalter, Freedman & Blackburn (1986): with one analysis left and a flat prior,
    PP = Phi((S (I_K / I) - c sqrt(I_K)) / sqrt((I_K - I) I_K / I))."""
    z, info, final, c = 1.3, 4.0, 10.0, 1.96
    s = z * math.sqrt(info)
    expected = stats.norm.cdf((s * final / info - c * math.sqrt(final)) / math.sqrt((final - info) * final / info))
    assert predictive_power(z, info, [final], [c]) == pytest.approx(expected, abs=1e-9)


def test_conditional_power_with_one_look_left_is_the_closed_form():
    z, info, final, c, theta = 1.3, 4.0, 10.0, 1.96, 0.4
    s = z * math.sqrt(info)
    expected = stats.norm.sf((c * math.sqrt(final) - s - theta * (final - info)) / math.sqrt(final - info))
    assert conditional_rejection(z, info, [final], [c], theta) == pytest.approx(expected, abs=1e-12)
