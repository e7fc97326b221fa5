"""Liver-failure grading: every cut-off on both sides, and worked examples with their arithmetic.

Sources of the cut-offs: Child-Pugh (Pugh 1973, INR version as tabulated in Cleve Clin J Med, Table 1:
bilirubin <2 / 2-3 / >3 mg/dL, albumin >3.5 / 2.8-3.5 / <2.8 g/dL, INR <1.7 / 1.7-2.3 / >2.3); CLIF-C OF
(Jalan 2014 J Hepatol 61:1038, Table 1); ACLF grades (Moreau 2013 Gastroenterology 144:1426, as listed
by the EF-CLIF calculator page efclif.com/research-infrastructure/score-calculators); AARC (Choudhury 2017
Gut 66:1464); ICA-AKI (Angeli 2015 J Hepatol 62:968, Table 2). No worked patient is published for these
scores in a form we could cite, so each example below is computed by hand from the published table.
Units: bilirubin umol/L = mg/dL x 17.1, creatinine umol/L = mg/dL x 88.4 (DESIGN §5).
"""

import math

import numpy as np
import pytest

from dashboard.domain import liver_scores as ls

NA = float("nan")
NORMAL = dict(bili=20.0, albumin=40.0, inr=1.0, ascites_grade=0, he_grade=0)  # 1 point each: Child-Pugh 5


def _same(got, expected):
    got = np.atleast_1d(got)
    assert len(got) == len(expected), (list(got), expected)
    for g, e in zip(got, expected):
        assert (math.isnan(g) and math.isnan(e)) or g == pytest.approx(e, abs=1e-9), (list(got), expected)


def _cp_varying(name, values):
    args = {k: np.full(len(values), v, dtype=float) for k, v in NORMAL.items()}
    args[name] = np.asarray(values, dtype=float)
    return ls.child_pugh_score(**args) - 4  # the other four inputs give 1 point each


@pytest.mark.parametrize("name, values, points", [
    ("bili", [34.1, 34.2, 51.3, 51.4], [1, 2, 2, 3]),          # 2 mg/dL = 34.2, 3 mg/dL = 51.3 umol/L
    ("albumin", [35.1, 35.0, 28.0, 27.9], [1, 2, 2, 3]),
    ("inr", [1.69, 1.7, 2.3, 2.31], [1, 2, 2, 3]),
    ("ascites_grade", [0, 1, 2, 3], [1, 2, 3, 3]),              # ICA: none, mild, moderate, severe
    ("he_grade", [0, 1, 2, 3, 4], [1, 2, 2, 3, 3]),              # West Haven
])
def test_child_pugh_points_at_every_cut_off(name, values, points):
    _same(_cp_varying(name, values), points)


def test_child_pugh_worked_example_class_b():
    # Bilirubin 2.5 mg/dL = 42.75 umol/L (2-3 mg/dL: 2 points), albumin 30 g/L (28-35: 2), INR 1.8 (1.7-2.3: 2),
    # mild ascites (2), no encephalopathy (1): 2 + 2 + 2 + 2 + 1 = 9 points, class B (7-9).
    score = ls.child_pugh_score(42.75, 30.0, 1.8, 1, 0)
    _same(score, [9])
    _same(ls.child_pugh_class(score), [2])


def test_child_pugh_class_boundaries_and_missing_inputs():
    _same(ls.child_pugh_class([5, 6, 7, 9, 10, 15, NA]), [1, 1, 2, 2, 3, 3, NA])
    _same(ls.child_pugh_score([20.0, 20.0], [40.0, 40.0], [1.0, 1.0], [NA, 0], [0, NA]), [NA, NA])


def organs(bili=20.0, creat=80.0, he=0, inr=1.0, map_mmhg=85.0, vaso=0, sf=450.0, rrt=0):
    return ls.clif_organs(bili, creat, he, inr, map_mmhg, vaso, sf, rrt)


@pytest.mark.parametrize("organ, inputs, points", [
    ("liver", [dict(bili=102.5), dict(bili=102.6), dict(bili=205.1), dict(bili=205.2)], [1, 2, 2, 3]),  # 6, 12 mg/dL
    ("kidney", [dict(creat=176.7), dict(creat=176.8), dict(creat=309.3), dict(creat=309.4), dict(creat=80.0, rrt=1)],
     [1, 2, 2, 3, 3]),                                                                                    # 2, 3.5 mg/dL
    ("brain", [dict(he=0), dict(he=1), dict(he=2), dict(he=3), dict(he=4)], [1, 2, 2, 3, 3]),
    ("coagulation", [dict(inr=1.99), dict(inr=2.0), dict(inr=2.49), dict(inr=2.5)], [1, 2, 2, 3]),
    ("circulation", [dict(map_mmhg=70.0), dict(map_mmhg=69.9), dict(map_mmhg=85.0, vaso=1)], [1, 2, 3]),
    ("respiration", [dict(sf=357.1), dict(sf=357.0), dict(sf=214.1), dict(sf=214.0)], [1, 2, 2, 3]),
])
def test_clif_of_subscores_at_every_cut_off(organ, inputs, points):
    _same([float(getattr(organs(**kw), organ)) for kw in inputs], points)


def test_missing_optional_organ_variables_count_as_normal_and_required_ones_give_nan():
    o = organs(map_mmhg=NA, vaso=NA, sf=NA, rrt=NA)
    _same([o.circulation, o.respiration, o.kidney, o.score()], [1, 1, 1, 6])
    for missing in (dict(bili=NA), dict(creat=NA), dict(he=NA), dict(inr=NA)):
        _same(organs(**missing).score(), [NA])
    _same(organs(creat=NA, rrt=1).kidney, [3])  # on RRT the kidney has failed whatever the creatinine


# ACLF grade (Moreau 2013): (organ inputs, number of failures, grade)
ACLF = [
    (dict(), 0, 0),                                      # no organ failure
    (dict(bili=205.2), 1, 0),                            # single liver failure, creatinine <1.5, no HE
    (dict(bili=205.2, creat=132.6), 1, 1),               # ... with creatinine 1.5 mg/dL
    (dict(bili=205.2, creat=167.9), 1, 1),               # ... with creatinine 1.9 mg/dL
    (dict(bili=205.2, he=1), 1, 1),                      # ... with HE grade 1
    (dict(inr=2.5, he=2), 1, 1),                         # single coagulation failure with HE grade 2
    (dict(vaso=1), 1, 0),                                # single circulatory failure alone
    (dict(sf=214.0, creat=140.0), 1, 1),                 # single respiratory failure, creatinine 1.58 mg/dL
    (dict(creat=176.8), 1, 1),                           # single kidney failure (2.0 mg/dL)
    (dict(rrt=1), 1, 1),                                 # single kidney failure by RRT
    (dict(he=3), 1, 0),                                  # single cerebral failure, creatinine <1.5
    (dict(he=3, creat=132.6), 1, 1),                     # ... with creatinine 1.5-1.9
    (dict(bili=205.2, creat=176.8), 2, 2),               # creatinine 2.0 is a second failure, not dysfunction
    (dict(inr=2.6, vaso=1), 2, 2),
    (dict(inr=2.6, vaso=1, he=4), 3, 3),
    (dict(bili=300.0, creat=400.0, he=3, inr=3.0, vaso=1, sf=150.0), 6, 3),
]


@pytest.mark.parametrize("inputs, failures, grade", ACLF, ids=[str(c[0]) for c in ACLF])
def test_organ_failures_and_aclf_grade_follow_canonic(inputs, failures, grade):
    o = organs(**inputs)
    kw = {"creat": 80.0, "he": 0, **inputs}
    _same(o.failures(), [failures])
    _same(ls.aclf_grade(o, kw["creat"], kw["he"]), [grade])


def test_clif_c_of_and_clif_c_aclf_worked_example():
    # Bilirubin 8 mg/dL = 136.8 umol/L (6-<12: 2), creatinine 2.5 mg/dL = 221 umol/L (2-<3.5: 2), HE grade 2 (2),
    # INR 2.6 (>=2.5: 3), MAP 65 (<70: 2), SpO2/FiO2 300 (>214-357: 2): CLIF-C OF = 2+2+2+3+2+2 = 13.
    # Failures: kidney (creatinine >= 2) and coagulation (INR >= 2.5) -> ACLF grade 2.
    # CLIF-C ACLF, age 50, WBC 12: 10 x (0.33 x 13 + 0.04 x 50 + 0.63 x ln 12 - 2)
    #   = 10 x (4.29 + 2.00 + 0.63 x 2.484906650 - 2) = 10 x 5.855491189 = 58.55491189.
    o = ls.clif_organs(136.8, 221.0, 2, 2.6, 65.0, 0, 300.0, 0)
    _same(o.score(), [13])
    grade = ls.aclf_grade(o, 221.0, 2)
    _same(grade, [2])
    assert float(ls.clif_c_aclf_score(o.score(), 50, 12.0, grade)) == pytest.approx(58.55491189, abs=1e-7)


def test_clif_c_aclf_score_only_with_aclf_and_a_positive_wbc():
    _same(ls.clif_c_aclf_score([9, 9, 9, 9], [50, 50, 50, NA], [10.0, 10.0, 0.0, 10.0], [0, NA, 1, 1]),
          [NA, NA, NA, NA])


@pytest.mark.parametrize("name, values, points", [
    ("bili", [256.4, 256.5, 427.5, 427.6], [1, 2, 2, 3]),        # 15 mg/dL = 256.5, 25 mg/dL = 427.5 umol/L
    ("he_grade", [0, 1, 2, 3, 4], [1, 2, 2, 3, 3]),
    ("inr", [1.79, 1.8, 2.5, 2.51], [1, 2, 2, 3]),
    ("lactate", [1.49, 1.5, 2.5, 2.51], [1, 2, 2, 3]),
    ("creat", [61.87, 61.88, 132.6, 132.7], [1, 2, 2, 3]),       # 0.7 mg/dL = 61.88, 1.5 mg/dL = 132.6 umol/L
])
def test_aarc_points_at_every_cut_off(name, values, points):
    base = dict(bili=100.0, he_grade=0, inr=1.0, lactate=1.0, creat=50.0)  # 1 point each
    args = {k: np.full(len(values), v, dtype=float) for k, v in base.items()}
    args[name] = np.asarray(values, dtype=float)
    _same(ls.aarc_score(**args) - 4, points)


def test_aarc_worked_example_grade_ii():
    # Bilirubin 20 mg/dL = 342 umol/L (15-25: 2), no HE (1), INR 2.6 (>2.5: 3), lactate 2.0 (1.5-2.5: 2),
    # creatinine 1.0 mg/dL = 88.4 umol/L (0.7-1.5: 2): 2 + 1 + 3 + 2 + 2 = 10 points, AARC grade II (8-10).
    score = ls.aarc_score(342.0, 0, 2.6, 2.0, 88.4)
    _same(score, [10])
    _same(ls.aarc_grade(score), [2])
    _same(ls.aarc_grade([5, 7, 8, 10, 11, 15, NA]), [1, 1, 2, 2, 3, 3, NA])
    _same(ls.aarc_score(342.0, 0, 2.6, NA, 88.4), [NA])


@pytest.mark.parametrize("creat, baseline, stage", [
    (114.8, 88.4, 0), (114.9, 88.4, 1),      # rise of 26.4 vs 26.5 umol/L (0.3 mg/dL)
    (59.9, 40.0, 0), (60.0, 40.0, 1),        # 1.5-fold (a rise of only 20 umol/L)
    (80.0, 40.0, 1), (80.1, 40.0, 2),        # >2-fold
    (120.0, 40.0, 2), (120.1, 40.0, 3),      # >3-fold
    (353.6, 327.1, 3), (353.6, 327.2, 0),    # >= 4.0 mg/dL with a rise >= 26.5 umol/L, or not
    (45.9, 30.6, 1),                         # 1.5 x 30.6 on paper (binary 45.900000000000006), rise 15.3
    (60.0, 80.0, 0), (NA, 80.0, NA), (100.0, NA, NA),
])
def test_ica_aki_stage_at_every_cut_off(creat, baseline, stage):
    _same(ls.ica_aki_stage(creat, baseline, NA), [stage])


def test_ica_aki_stage_3_on_renal_replacement_therapy():
    _same(ls.ica_aki_stage([80.0, 80.0, NA], [80.0, 80.0, NA], [1, 0, 1]), [3, 0, 3])
