"""Liver-failure grading from SI-unit labs and bedside assessments: Child-Pugh, EASL-CLIF organ failures
and ACLF grade, CLIF-C ACLF, APASL AARC and ICA-AKI.

Inputs are arrays in the trial's registry units (bilirubin and creatinine umol/L, albumin g/L, lactate
mmol/L, WBC 10^9/L, MAP mmHg), West Haven hepatic encephalopathy (HE) grade 0-4, ICA ascites grade 0-3
and 0/1 flags for vasopressors and renal replacement therapy (RRT). The published cut-offs are in mg/dL;
they are converted once with the factors MELD uses (bilirubin 17.1, creatinine 88.4 umol/L per mg/dL,
DESIGN §5), so a value on a cut-off on paper is on it here too (domain.cutoffs).

Missing inputs give NaN, except the CLIF organ variables a ward does not always record: a missing MAP,
vasopressor flag, SpO2/FiO2 or RRT flag counts as normal, as the CLIF consortium counts an unmeasured
organ variable. Hand-written: no Python library implements these clinical scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dashboard.domain.cutoffs import above, at_least, at_most, below
from dashboard.domain.meld import BILI_UMOL_PER_MGDL, CREAT_UMOL_PER_MGDL

ArrayLike = npt.ArrayLike


def bili_umol(mg_dl: float) -> float:
    """A bilirubin cut-off in mg/dL as umol/L (rounded away from binary noise: 2 mg/dL is 34.2)."""
    return round(mg_dl * BILI_UMOL_PER_MGDL, 6)


def creat_umol(mg_dl: float) -> float:
    """A creatinine cut-off in mg/dL as umol/L (1.5 mg/dL is 132.6)."""
    return round(mg_dl * CREAT_UMOL_PER_MGDL, 6)


def _f(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _missing(*inputs: np.ndarray) -> np.ndarray:
    return np.logical_or.reduce([np.isnan(x) for x in inputs])


def _points(two: np.ndarray, three: np.ndarray) -> np.ndarray:
    """1, 2 or 3 points from the masks of the 2- and 3-point bands."""
    return np.where(three, 3.0, np.where(two, 2.0, 1.0))


def _he_points(he_grade: np.ndarray) -> np.ndarray:
    """West Haven grade 0 -> 1 point, 1-2 -> 2, 3-4 -> 3 (Child-Pugh, CLIF-C OF brain, AARC)."""
    return _points(he_grade >= 1, he_grade >= 3)


def child_pugh_score(bili: ArrayLike, albumin: ArrayLike, inr: ArrayLike, ascites_grade: ArrayLike,
                     he_grade: ArrayLike) -> np.ndarray:
    """Child-Pugh score 5-15 (Pugh RNH et al., Br J Surg 1973;60:646, with INR for prothrombin time).

    Points 1/2/3: bilirubin <2 / 2-3 / >3 mg/dL (<34.2 / 34.2-51.3 / >51.3 umol/L); albumin >35 / 28-35 /
    <28 g/L; INR <1.7 / 1.7-2.3 / >2.3; ascites none / mild / moderate-severe (ICA grade 0 / 1 / 2-3);
    HE none / West Haven 1-2 / 3-4.
    """
    b, a, i, asc, he = _f(bili), _f(albumin), _f(inr), _f(ascites_grade), _f(he_grade)
    total = (_points(at_least(b, bili_umol(2.0)), above(b, bili_umol(3.0)))
             + _points(at_most(a, 35.0), below(a, 28.0))
             + _points(at_least(i, 1.7), above(i, 2.3))
             + _points(asc >= 1, asc >= 2)
             + _he_points(he))
    return np.where(_missing(b, a, i, asc, he), np.nan, total)


def child_pugh_class(score: ArrayLike) -> np.ndarray:
    """Child-Pugh class as 1 = A (5-6 points), 2 = B (7-9), 3 = C (10-15)."""
    s = _f(score)
    return np.where(np.isnan(s), np.nan, np.where(s >= 10, 3.0, np.where(s >= 7, 2.0, 1.0)))


@dataclass(frozen=True)
class ClifOrgans:
    """CLIF-C OF sub-scores (1-3 points each) and which organs have failed (Jalan R et al., J Hepatol
    2014;61:1038, Table 1; failures as in CANONIC, Moreau R et al., Gastroenterology 2013;144:1426)."""

    liver: np.ndarray
    kidney: np.ndarray
    brain: np.ndarray
    coagulation: np.ndarray
    circulation: np.ndarray
    respiration: np.ndarray

    def subscores(self) -> tuple[np.ndarray, ...]:
        return self.liver, self.kidney, self.brain, self.coagulation, self.circulation, self.respiration

    def score(self) -> np.ndarray:
        """CLIF-C OF score 6-18: the sum of the six sub-scores."""
        return np.sum(self.subscores(), axis=0)

    def kidney_failure(self) -> np.ndarray:
        """Creatinine >= 2.0 mg/dL or RRT (the kidney's 2- and 3-point bands)."""
        return self.kidney >= 2

    def failures(self) -> np.ndarray:
        """Number of organ failures 0-6: kidney at 2 points or more, every other organ at 3 points."""
        others = (self.liver, self.brain, self.coagulation, self.circulation, self.respiration)
        count = self.kidney_failure().astype(float) + np.sum([s >= 3 for s in others], axis=0)
        return np.where(np.isnan(self.score()), np.nan, count)


def clif_organs(bili: ArrayLike, creat: ArrayLike, he_grade: ArrayLike, inr: ArrayLike, map_mmhg: ArrayLike,
                vasopressors: ArrayLike, spo2_fio2: ArrayLike, rrt: ArrayLike) -> ClifOrgans:
    """CLIF-C OF sub-scores, points 1/2/3 (Jalan 2014, Table 1):

    - liver, bilirubin: <6 / 6-<12 / >=12 mg/dL;
    - kidney, creatinine: <2 / 2-<3.5 / >=3.5 mg/dL or RRT;
    - brain, West Haven HE grade: 0 / 1-2 / 3-4;
    - coagulation, INR: <2.0 / 2.0-<2.5 / >=2.5;
    - circulation: MAP >=70 / MAP <70 mmHg / vasopressors;
    - respiration, SpO2/FiO2: >357 / >214-357 / <=214.

    Bilirubin, creatinine, HE grade and INR are required (NaN sub-score when missing); a missing MAP,
    vasopressor flag, SpO2/FiO2 or RRT flag counts as normal.
    """
    b, c, he, i = _f(bili), _f(creat), _f(he_grade), _f(inr)
    mp, vaso, sf, renal = _f(map_mmhg), _f(vasopressors), _f(spo2_fio2), _f(rrt)
    on_rrt = renal == 1
    liver = _points(at_least(b, bili_umol(6.0)), at_least(b, bili_umol(12.0)))
    kidney = _points(at_least(c, creat_umol(2.0)), at_least(c, creat_umol(3.5)) | on_rrt)
    nan = np.nan
    return ClifOrgans(
        liver=np.where(np.isnan(b), nan, liver),
        kidney=np.where(np.isnan(c) & ~on_rrt, nan, kidney),
        brain=np.where(np.isnan(he), nan, _he_points(he)),
        coagulation=np.where(np.isnan(i), nan, _points(at_least(i, 2.0), at_least(i, 2.5))),
        circulation=_points(below(mp, 70.0), vaso == 1),
        respiration=_points(at_most(sf, 357.0), at_most(sf, 214.0)),
    )


def aclf_grade(organs: ClifOrgans, creat: ArrayLike, he_grade: ArrayLike) -> np.ndarray:
    """EASL-CLIF ACLF grade 0-3 (CANONIC, Moreau 2013):

    - 0: no organ failure; or one failure of liver, coagulation, circulation or respiration with creatinine
      <1.5 mg/dL and no HE; or a single cerebral failure with creatinine <1.5 mg/dL;
    - 1: a single kidney failure; or one failure of liver, coagulation, circulation or respiration with
      creatinine 1.5-1.9 mg/dL and/or HE grade 1-2; or a single cerebral failure with creatinine 1.5-1.9;
    - 2: two organ failures; 3: three or more.
    """
    c, he = _f(creat), _f(he_grade)
    n = organs.failures()
    kidney_dysfunction = at_least(c, creat_umol(1.5)) & below(c, creat_umol(2.0))
    single_brain = organs.brain >= 3
    single_other_needs = np.where(single_brain, kidney_dysfunction, kidney_dysfunction | ((he >= 1) & (he <= 2)))
    single = np.where(organs.kidney_failure() | single_other_needs, 1.0, 0.0)
    grade = np.select([n >= 3, n == 2, n == 1], [3.0, 2.0, single], 0.0)
    return np.where(np.isnan(n), np.nan, grade)


def clif_c_aclf_score(of_score: ArrayLike, age: ArrayLike, wbc: ArrayLike, grade: ArrayLike) -> np.ndarray:
    """CLIF-C ACLF score = 10 x (0.33 x CLIF-C OF + 0.04 x age + 0.63 x ln(WBC 10^9/L) - 2) (Jalan 2014).

    Defined for patients with ACLF: NaN where the ACLF grade is 0 (the CLIF-C AD score serves them).
    """
    w = _f(wbc)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_wbc = np.where(w > 0, np.log(np.where(w > 0, w, 1.0)), np.nan)
    score = 10.0 * (0.33 * _f(of_score) + 0.04 * _f(age) + 0.63 * log_wbc - 2.0)
    return np.where(_f(grade) >= 1, score, np.nan)


def aarc_score(bili: ArrayLike, he_grade: ArrayLike, inr: ArrayLike, lactate: ArrayLike,
               creat: ArrayLike) -> np.ndarray:
    """APASL AARC score 5-15 (Choudhury A et al., Gut 2017;66:1464). Points 1/2/3:

    bilirubin <15 / 15-25 / >25 mg/dL; HE grade 0 / 1-2 / 3-4; INR <1.8 / 1.8-2.5 / >2.5;
    lactate <1.5 / 1.5-2.5 / >2.5 mmol/L; creatinine <0.7 / 0.7-1.5 / >1.5 mg/dL.
    """
    b, he, i, lac, c = _f(bili), _f(he_grade), _f(inr), _f(lactate), _f(creat)
    total = (_points(at_least(b, bili_umol(15.0)), above(b, bili_umol(25.0)))
             + _he_points(he)
             + _points(at_least(i, 1.8), above(i, 2.5))
             + _points(at_least(lac, 1.5), above(lac, 2.5))
             + _points(at_least(c, creat_umol(0.7)), above(c, creat_umol(1.5))))
    return np.where(_missing(b, he, i, lac, c), np.nan, total)


def aarc_grade(score: ArrayLike) -> np.ndarray:
    """AARC ACLF grade: I (1) 5-7 points, II (2) 8-10, III (3) 11-15."""
    s = _f(score)
    return np.where(np.isnan(s), np.nan, np.where(s >= 11, 3.0, np.where(s >= 8, 2.0, 1.0)))


def ica_aki_stage(creat: ArrayLike, baseline_creat: ArrayLike, rrt: ArrayLike) -> np.ndarray:
    """ICA-AKI stage 0-3 against the baseline creatinine (Angeli P et al., J Hepatol 2015;62:968, Table 2):

    - 1: increase >= 0.3 mg/dL (26.5 umol/L), or >= 1.5-fold to 2-fold of baseline;
    - 2: > 2-fold to 3-fold;
    - 3: > 3-fold, or creatinine >= 4.0 mg/dL (353.6 umol/L) with an increase >= 0.3 mg/dL, or RRT.

    The ICA's time windows (48 h, 7 days) are not applied: a visit is compared with the trial baseline.
    RRT (1) is stage 3 whatever the creatinine; a missing RRT flag counts as none.
    """
    c, base, on_rrt = _f(creat), _f(baseline_creat), _f(rrt) == 1
    rise = at_least(c - base, 26.5)
    stage = np.select(
        [above(c, 3.0 * base) | (at_least(c, 353.6) & rise), above(c, 2.0 * base), rise | at_least(c, 1.5 * base)],
        [3.0, 2.0, 1.0], 0.0)
    return np.where(on_rrt, 3.0, np.where(np.isnan(c) | np.isnan(base), np.nan, stage))
