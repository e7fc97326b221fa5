"""MELD (UNOS), MELD-Na (OPTN 2016) and MELD 3.0 from SI-unit labs (domain.md §5).

Inputs are arrays in the trial's SI units; conversions and bounds follow OPTN:
bilirubin umol/L / 17.1 = mg/dL, creatinine umol/L / 88.4 = mg/dL, albumin g/L / 10 = g/dL.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# The registry codes of the three MELD scores (domain.labs), in the order they are shown.
MELD_CODES = ("MELD", "MELDNA", "MELD3")
BILI_UMOL_PER_MGDL = 17.1
CREAT_UMOL_PER_MGDL = 88.4

ArrayLike = npt.ArrayLike


def _round_half_up(x: np.ndarray) -> np.ndarray:
    # OPTN rounds halves up; numpy's round() rounds halves to even (20.5 -> 20), which is not OPTN.
    return np.floor(np.asarray(x, dtype=float) + 0.5)


def _meld_i(bili_umol: ArrayLike, inr: ArrayLike, creat_umol: ArrayLike, dialysis: ArrayLike) -> np.ndarray:
    bili = np.maximum(np.asarray(bili_umol, dtype=float) / BILI_UMOL_PER_MGDL, 1.0)
    inr_ = np.maximum(np.asarray(inr, dtype=float), 1.0)
    creat = np.asarray(creat_umol, dtype=float) / CREAT_UMOL_PER_MGDL
    creat = np.where(np.asarray(dialysis, dtype=bool), 4.0, np.clip(creat, 1.0, 4.0))
    raw = 0.957 * np.log(creat) + 0.378 * np.log(bili) + 1.120 * np.log(inr_) + 0.643
    # OPTN: round MELD(i) to the tenth *before* multiplying by 10, so 2.55 -> 2.6 -> 26. MELD-Na
    # then starts from this whole number; using 25.5 instead moves MELD-Na by a point (domain.md §5.5 #4).
    return _round_half_up(raw * 10.0)


def meld(bili_umol: ArrayLike, inr: ArrayLike, creat_umol: ArrayLike, dialysis: ArrayLike = False) -> np.ndarray:
    """Original MELD as implemented by UNOS: bounds at 1.0, creatinine cap 4.0 (4.0 on dialysis), 6-40.

    Examples
    --------
    >>> int(meld(4.2 * 17.1, 1.2, 1.9 * 88.4)[()])
    20
    """
    return np.clip(_round_half_up(_meld_i(bili_umol, inr, creat_umol, dialysis)), 6, 40)


def meld_na(bili_umol: ArrayLike, inr: ArrayLike, creat_umol: ArrayLike, sodium: ArrayLike,
            dialysis: ArrayLike = False) -> np.ndarray:
    """MELD-Na (OPTN policy 9.1, 2016): sodium bounded 125-137, applied when the rounded MELD(i) > 11."""
    mi = _meld_i(bili_umol, inr, creat_umol, dialysis)
    na = np.clip(np.asarray(sodium, dtype=float), 125.0, 137.0)
    with_na = mi + 1.32 * (137.0 - na) - 0.033 * mi * (137.0 - na)
    return np.clip(_round_half_up(np.where(mi > 11.0, with_na, mi)), 6, 40)


def meld3(bili_umol: ArrayLike, inr: ArrayLike, creat_umol: ArrayLike, sodium: ArrayLike,
          albumin_g_l: ArrayLike, female: ArrayLike, dialysis: ArrayLike = False) -> np.ndarray:
    """MELD 3.0 (Kim et al. 2021): creatinine cap 3.0 (3.0 on dialysis), Na 125-137, albumin 1.5-3.5 g/dL.

    Bounded below at 6 like the other versions; no cap at 40 (the 2021 model sets none, domain.md §5.4).
    """
    bili = np.maximum(np.asarray(bili_umol, dtype=float) / BILI_UMOL_PER_MGDL, 1.0)
    inr_ = np.maximum(np.asarray(inr, dtype=float), 1.0)
    creat = np.asarray(creat_umol, dtype=float) / CREAT_UMOL_PER_MGDL
    creat = np.where(np.asarray(dialysis, dtype=bool), 3.0, np.clip(creat, 1.0, 3.0))
    na = np.clip(np.asarray(sodium, dtype=float), 125.0, 137.0)
    alb = np.clip(np.asarray(albumin_g_l, dtype=float) / 10.0, 1.5, 3.5)
    score = (
        1.33 * np.asarray(female, dtype=float)
        + 4.56 * np.log(bili)
        + 0.82 * (137.0 - na)
        - 0.24 * (137.0 - na) * np.log(bili)
        + 9.09 * np.log(inr_)
        + 11.14 * np.log(creat)
        + 1.85 * (3.5 - alb)
        - 1.83 * (3.5 - alb) * np.log(creat)
        + 6.0
    )
    return np.maximum(_round_half_up(score), 6)
