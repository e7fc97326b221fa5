"""Figures: labelled ticks for log axes (mDISH, forest plot).

Plotly's log-axis ticks (``dtick="D2"``) label the ticks between decades with their leading digit only, so 20
and 50 read "2" and "5"; these axes get explicit ticks at 1, 2 and 5 times each power of ten, each written in
full (0.5, 1, 2, 5, 10, 20, 50), and a range that ends on a tick.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

_STEPS = (1, 2, 5)
# Beyond this many decades 1-2-5 ticks crowd a half-width figure: one tick per decade instead.
_MAX_DECADES_WITH_STEPS = 4
_PAD = 0.04  # decades left beyond the outer ticks, so a marker on the last tick is not cut in half


def log_ticks(values: Iterable[float]) -> dict:
    """Axis settings (``tickmode``, ``tickvals``, ``ticktext``, ``range`` in log10 units) for a log axis that
    shows every positive finite number in ``values``: ticks at 1, 2 and 5 x 10^k from the last one at or below
    the smallest value to the first one at or above the largest (only 10^k over more than four decades)."""
    x = np.asarray(list(values), float)
    x = x[np.isfinite(x) & (x > 0)]
    lo, hi = (float(x.min()), float(x.max())) if x.size else (1.0, 1.0)
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    steps = _STEPS if last - first <= _MAX_DECADES_WITH_STEPS else (1,)
    # Parsed from decimal text, so 0.2 is the float nearest 0.2, not 2 * 0.1.
    ticks = [float(f"{m}e{k}") for k in range(first, last + 1) for m in steps]
    below = max(t for t in ticks if t <= lo)
    above = min(t for t in ticks if t >= hi)
    shown = [t for t in ticks if below <= t <= above]
    if len(shown) == 1:  # every value on one tick: show the ticks either side too
        i = ticks.index(shown[0])
        shown = ticks[max(i - 1, 0):i + 2]
    return dict(tickmode="array", tickvals=shown, ticktext=[f"{t:g}" for t in shown],
                range=[math.log10(shown[0]) - _PAD, math.log10(shown[-1]) + _PAD])
