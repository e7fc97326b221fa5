"""MELD test vectors of domain.md §5.5 (Medscape/ameld published case plus hand-computed rows)."""

import numpy as np
import pytest

from dashboard.domain.meld import meld, meld3, meld_na

MG = 17.1  # umol/L per mg/dL bilirubin
CR = 88.4  # umol/L per mg/dL creatinine

# (bili umol/L, INR, creat umol/L, Na, albumin g/L, female, dialysis, MELD, MELD-Na, MELD 3.0)
VECTORS = [
    # 1: Medscape example, raw 2.039 -> 20; MELD-Na at Na 137 = 20; MELD 3.0 male Alb 3.5 -> 21
    (4.2 * MG, 1.2, 1.9 * CR, 137, 35, 0, False, 20, 20, 21),
    # 1b: same at Na 125: MELD-Na 27.92 -> 28, MELD 3.0 -> 27
    (4.2 * MG, 1.2, 1.9 * CR, 125, 35, 0, False, 20, 28, 27),
    # 2: every lab below its floor -> 6 (female MELD 3.0 is 7.33 -> 7)
    (0.5 * MG, 0.9, 0.8 * CR, 140, 40, 0, False, 6, 6, 6),
    (0.5 * MG, 0.9, 0.8 * CR, 140, 40, 1, False, 6, 6, 7),
    # 3: dialysis sets creatinine to 4.0 (MELD) and 3.0 (MELD 3.0)
    (1 * MG, 1.0, 1.0 * CR, 137, 35, 0, True, 20, 20, 18),
    # 5: MELD 18.54 -> 19, MELD-Na 20.39 -> 20, MELD 3.0 -> 21
    (1.5 * MG, 1.1, 2.7 * CR, 135, 35, 0, False, 19, 20, 21),
    # 6: SI inputs, bilirubin 342 umol/L = 20.0 mg/dL, creatinine 80 umol/L floored to 1.0
    (342, 2.0, 80, 133, 30, 0, False, 26, 28, 27),
    # 7: medians of an HBV-ACLF cohort, female
    (442.5, 2.08, 81, 130, 29.7, 1, False, 27, 30, 30),
    # 8: severe case
    (600, 3.0, 150, 128, 28, 0, False, 37, 38, 38),
]


@pytest.mark.parametrize("bili,inr,creat,na,alb,female,dialysis,exp_meld,exp_na,exp_3", VECTORS)
def test_meld_versions_match_domain_vectors(bili, inr, creat, na, alb, female, dialysis, exp_meld, exp_na, exp_3):
    assert meld(bili, inr, creat, dialysis) == exp_meld
    assert meld_na(bili, inr, creat, na, dialysis) == exp_na
    assert meld3(bili, inr, creat, na, alb, female, dialysis) == exp_3


def test_meld_na_uses_rounded_meld_i_as_optn_does():
    # Vector 4: MELD(i) = 14.3 after OPTN rounding gives MELD-Na 23; the unrounded value would give 24.
    assert meld(2.0 * MG, 1.6, 1.0 * CR) == 14
    assert meld_na(2.0 * MG, 1.6, 1.0 * CR, 126) == 23


def test_meld_is_vectorised_and_capped_at_40():
    out = meld(np.array([4.2 * MG, 2000.0]), np.array([1.2, 8.0]), np.array([1.9 * CR, 600.0]))
    assert out.tolist() == [20, 40]
