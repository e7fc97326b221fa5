"""Comparisons of lab values with a clinical cut-off as it is written on paper.

A cut-off such as "1.5 x baseline" or "3.0 x ULN" is a product of binary floats: 1.5 x 88.4 is
132.60000000000002, so a creatinine of 132.6 would not be "at least 1.5 x baseline" although on paper
it is exactly that. The comparisons here allow a relative tolerance of 1e-9 (far below any lab's
precision), which is what the pharmaverse admiral package does with ``signif()`` before its CTCAE
comparisons. Missing values compare False; callers decide what a missing value means.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RELATIVE_TOLERANCE = 1e-9


def _margin(limit: npt.ArrayLike) -> np.ndarray:
    return RELATIVE_TOLERANCE * np.abs(np.asarray(limit, dtype=float))


def above(value: npt.ArrayLike, limit: npt.ArrayLike) -> np.ndarray:
    """``value > limit`` on paper."""
    return np.asarray(value, dtype=float) > np.asarray(limit, dtype=float) + _margin(limit)


def at_least(value: npt.ArrayLike, limit: npt.ArrayLike) -> np.ndarray:
    """``value >= limit`` on paper."""
    return np.asarray(value, dtype=float) >= np.asarray(limit, dtype=float) - _margin(limit)


def below(value: npt.ArrayLike, limit: npt.ArrayLike) -> np.ndarray:
    """``value < limit`` on paper."""
    return np.asarray(value, dtype=float) < np.asarray(limit, dtype=float) - _margin(limit)


def at_most(value: npt.ArrayLike, limit: npt.ArrayLike) -> np.ndarray:
    """``value <= limit`` on paper."""
    return np.asarray(value, dtype=float) <= np.asarray(limit, dtype=float) + _margin(limit)
