"""CTCAE v5.0 lab grades: every grade boundary on both sides, from the CTCAE v5.0 table text (NCI, 27 Nov
2017), and the worked examples of the pharmaverse admiral package's CTCAE v5 tests
(tests/testthat/test-derive_var_atoxgr.R, pharmaverse/admiral: anemia, ALT, bilirubin, creatinine), which
grade the same rules in R. NaN expected = not gradable."""

import math

import numpy as np
import pytest

from dashboard.domain import ctcae

NA = float("nan")


def _check(got, expected):
    got = np.atleast_1d(got)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert (math.isnan(g) and math.isnan(e)) or g == e, (list(got), expected)


# --- low direction: (value, LLN, grade) ---------------------------------------------------------------

ALBUMIN = [  # Hypoalbuminemia g/L: 1 <LLN-30; 2 <30-20; 3 <20
    (35.0, 35.0, 0), (34.9, 35.0, 1), (30.0, 35.0, 1), (29.9, 35.0, 2), (20.0, 35.0, 2), (19.9, 35.0, 3),
    (34.0, NA, NA), (29.0, NA, 2), (NA, 35.0, NA),
]
SODIUM_LOW = [  # Hyponatremia mmol/L: 1 <LLN-130; 2 125-129; 3 120-124; 4 <120
    (135, 135, 0), (134, 135, 1), (130, 135, 1), (129, 135, 2), (129.5, 135, 2), (125, 135, 2), (124, 135, 3),
    (120, 135, 3), (119, 135, 4), (133, NA, NA), (128, NA, 2),
]
PLATELETS = [  # 10^9/L: 1 <LLN-75; 2 <75-50; 3 <50-25; 4 <25
    (125, 125, 0), (124, 125, 1), (75, 125, 1), (74.9, 125, 2), (50, 125, 2), (49.9, 125, 3), (25, 125, 3),
    (24.9, 125, 4), (100, NA, NA), (20, NA, 4),
]
HAEMOGLOBIN = [  # Anemia g/L, admiral's table: grade 3 <80, 2 <100-80, 1 <LLN-100
    (79, 140, 3), (80, 140, 2), (99, 140, 2), (100, 140, 1), (139, 140, 1), (140, 140, 0),
    (140, NA, NA), (139, NA, NA), (100, NA, NA), (99, NA, 2), (79, NA, 3), (NA, 140, NA),
]
WBC = [  # 10^9/L: 1 <LLN-3.0; 2 <3.0-2.0; 3 <2.0-1.0; 4 <1.0
    (3.5, 3.5, 0), (3.4, 3.5, 1), (3.0, 3.5, 1), (2.9, 3.5, 2), (2.0, 3.5, 2), (1.9, 3.5, 3), (1.0, 3.5, 3),
    (0.9, 3.5, 4),
]


@pytest.mark.parametrize("function, cases", [
    (ctcae.hypoalbuminaemia, ALBUMIN), (ctcae.hyponatraemia, SODIUM_LOW), (ctcae.platelet_count_decreased, PLATELETS),
    (ctcae.anaemia, HAEMOGLOBIN), (ctcae.wbc_decreased, WBC),
], ids=["hypoalbuminaemia", "hyponatraemia", "platelets", "anaemia", "wbc"])
def test_low_grades_at_every_boundary(function, cases):
    values, lln, expected = zip(*cases)
    _check(function(values, lln), expected)


# --- high direction -----------------------------------------------------------------------------------

def test_hypernatraemia_boundaries():
    values = [145, 146, 150, 151, 155, 156, 160, 161, 148, 152, NA]
    uln = [145] * 8 + [NA, NA, 145]
    _check(ctcae.hypernatraemia(values, uln), [0, 1, 1, 2, 2, 3, 3, 4, NA, 2, NA])


def test_inr_graded_by_its_absolute_limits_without_a_grade_4():
    # v5: 1 >1.2-1.5; 2 >1.5-2.5; 3 >2.5 (the anticoagulation rule, x baseline, is not applied)
    _check(ctcae.inr_increased([1.2, 1.21, 1.5, 1.51, 2.5, 2.51, 9.0, NA]), [0, 1, 1, 2, 2, 3, 3, NA])


# admiral test 18 (CTCAE v5 bilirubin): the same (value, grade) pairs with ULN 40 and a normal baseline (40),
# and with an abnormal baseline 40 above ULN 39, where the multiples apply to the baseline.
BILIRUBIN_PAIRS = [(401, 4), (400, 3), (121, 3), (120, 2), (61, 2), (60, 1), (41, 1), (40, 0)]


@pytest.mark.parametrize("uln", [40.0, 39.0], ids=["baseline normal", "baseline abnormal"])
def test_bilirubin_matches_admiral_worked_examples(uln):
    values, expected = zip(*BILIRUBIN_PAIRS)
    _check(ctcae.bilirubin_increased(values, uln, 40.0), expected)


def test_bilirubin_cannot_be_graded_without_value_or_uln_and_a_missing_baseline_counts_as_normal():
    _check(ctcae.bilirubin_increased([100, NA, 61], [NA, 40, 40], [40, 40, NA]), [NA, NA, 2])


def test_bilirubin_in_liver_failure_is_graded_against_the_raised_baseline():
    # Entry bilirubin 342 umol/L (20 x ULN 17.1): 342 is grade 0, a rise to 513.1 (>1.5x) grade 2, and a fall
    # to 100 stays 0 - the v5 rule that makes baseline grade 4 in liver failure not a toxicity.
    _check(ctcae.bilirubin_increased([342.0, 400.0, 513.0, 513.1, 100.0], 17.1, 342.0), [0, 1, 1, 2, 0])


# admiral test 12 (CTCAE v5 ALT): normal baseline (= ULN 40) and abnormal baseline 40 above ULN 39.
ALT_NORMAL = [(801, 4), (800, 3), (201, 3), (200, 2), (121, 2), (120, 1), (41, 1), (40, 0)]
ALT_ABNORMAL = [(801, 4), (800, 3), (201, 3), (200, 2), (121, 2), (120, 1), (60, 1), (59, 0)]


@pytest.mark.parametrize("uln, pairs", [(40.0, ALT_NORMAL), (39.0, ALT_ABNORMAL)],
                         ids=["baseline normal", "baseline abnormal: grade 1 from 1.5x baseline inclusive"])
def test_aminotransferases_match_admiral_worked_examples(uln, pairs):
    values, expected = zip(*pairs)
    _check(ctcae.aminotransferase_increased(values, uln, 40.0), expected)


def test_aminotransferase_multiples_of_a_decimal_baseline_meet_their_limit_exactly():
    # 1.5 x 41.3 = 61.95 on paper (61.949999999999996 in binary): grade 1, as admiral's signif() comparison gives.
    _check(ctcae.aminotransferase_increased([61.95, 61.94], 40.0, 41.3), [1, 0])


# admiral test 26 (CTCAE v5 creatinine): (value, baseline, ULN, grade).
CREATININE = [
    (241, 241, 40, 4), (240, 230, 40, 3), (121, 120, 40, 3), (120, 119, 40, 2), (61, 60, 40, 2), (60, 60, 40, 1),
    (41, 41, 40, 1), (40, 40, 40, 0), (42, 6, 40, 3), (42, 13.9, 40, 3), (42, 14, 40, 2), (42.1, 28, 40, 2),
    (42, 42, NA, NA), (NA, 0, 40, NA),
]


def test_creatinine_matches_admiral_worked_examples():
    values, baseline, uln, expected = zip(*CREATININE)
    _check(ctcae.creatinine_increased(values, uln, baseline), expected)


def test_creatinine_baseline_criteria_grade_without_uln_and_uln_criteria_without_baseline():
    # >1.5x baseline is grade 2 even when the ULN is missing; without a baseline the ULN multiples decide.
    _check(ctcae.creatinine_increased([100, 134, 200, 400, 800], [NA, 133, 133, 133, 133], [60, NA, NA, NA, NA]),
           [2, 1, 2, 3, 4])


def test_registry_grades_each_lab_through_its_criterion():
    assert set(ctcae.LOW) == {"ALB", "SODIUM", "PLAT", "HGB", "WBC"}
    assert set(ctcae.HIGH) == {"BILI", "ALT", "AST", "INR", "CREAT", "SODIUM"}
    assert ctcae.HIGH["ALT"].needs_baseline and not ctcae.LOW["ALB"].needs_baseline
    got = ctcae.HIGH["CREAT"].grade(np.array([42.0]), lln=np.array([44.0]), uln=np.array([40.0]),
                                    baseline=np.array([14.0]))
    _check(got, [2])
    _check(ctcae.LOW["SODIUM"].grade([119.0], lln=[135.0], uln=[145.0], baseline=[NA]), [4])
