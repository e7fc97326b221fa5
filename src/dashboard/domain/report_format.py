"""Domain layer: how the DSMB report tables write their numbers (the ``*_display`` formatters of
:mod:`consort`, :mod:`baseline`, :mod:`exposure`, :mod:`deviations` use these, and nothing else does it
differently).

Conventions (issue 16, "publication quality"): counts as ``n (x.x%)``; mean (SD) and median (Q1–Q3) to
the variable's decimals; p-values ``<0.001`` else three significant digits; dates ``2025-03-04``; groups in
study order, the active arm first, the control arm last, then ``Total``; a pooled (blinded) table has the one
column ``All patients`` (:data:`dashboard.domain.POOLED_LABEL`), which is its total.

Counts are written as :class:`Count` strings, which remember their number, so small-cell control
(:func:`dashboard.domain.disclosure.suppress_small_cells`) finds every count of a display table exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd

from dashboard.domain import POOLED_LABEL

TOTAL_LABEL = "Total"
MISSING = "–"


class Count(str):
    """A display cell holding a count of patients (or patient-visits), e.g. ``"12 (17.1%)"``; ``n`` is the count."""

    n: int

    def __new__(cls, text: str, n: int) -> Count:
        cell = super().__new__(cls, text)
        cell.n = int(n)
        return cell


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is pd.NaT


def fmt_number(x, decimals: int = 1) -> str:
    """``x`` to ``decimals`` places (half away from zero is not promised: Python's round-half-even on binary)."""
    return MISSING if _missing(x) else f"{float(x):.{decimals}f}"


def fmt_count(n) -> str:
    """A bare count as a :class:`Count`; ``–`` when unknown."""
    return MISSING if _missing(n) else Count(f"{int(n)}", int(n))


def fmt_n_pct(n, denominator, decimals: int = 1) -> str:
    """``n (x.x%)`` of ``denominator``; ``n`` alone when the denominator is 0 or unknown."""
    if _missing(n):
        return MISSING
    n = int(n)
    if _missing(denominator) or int(denominator) == 0:
        return Count(f"{n}", n)
    return Count(f"{n} ({100.0 * n / int(denominator):.{decimals}f}%)", n)


def fmt_mean_sd(mean, sd, decimals: int = 1) -> str:
    """``mean (SD)``; the SD of one value is unknown and shown as ``–``."""
    if _missing(mean):
        return MISSING
    return f"{fmt_number(mean, decimals)} ({fmt_number(sd, decimals)})"


def fmt_median_iqr(median, q1, q3, decimals: int = 1) -> str:
    """``median (Q1–Q3)``."""
    if _missing(median):
        return MISSING
    return f"{fmt_number(median, decimals)} ({fmt_number(q1, decimals)}–{fmt_number(q3, decimals)})"


def fmt_p(p) -> str:
    """A p-value: ``<0.001`` below 0.001, else three significant digits (``0.0123``, ``0.500``, ``1.00``)."""
    if _missing(p):
        return MISSING
    p = float(p)
    if p < 0.001:
        return "<0.001"
    digits = 3 - 1 - math.floor(math.log10(abs(p)))
    return f"{p:.{max(digits, 0)}f}"


def fmt_date(d) -> str:
    """A plain date ``YYYY-MM-DD`` (no time of day)."""
    if _missing(d):
        return MISSING
    if isinstance(d, (pd.Timestamp, datetime)):
        return d.date().isoformat()
    if isinstance(d, date):
        return d.isoformat()
    return pd.Timestamp(d).date().isoformat()


def fmt_month(d) -> str:
    """A calendar month ``YYYY-MM``."""
    return MISSING if _missing(d) else pd.Timestamp(d).strftime("%Y-%m")


def group_columns(groups: Sequence[str]) -> list[str]:
    """The display columns of a report table: the arms in study order then ``Total``, or ``All patients``."""
    groups = list(groups)
    if groups == [POOLED_LABEL]:
        return groups
    return [*groups, TOTAL_LABEL]


def ordered_groups(df: pd.DataFrame, groups: Sequence[str]) -> list[str]:
    """The group labels of a result in display order (arms in study order, ``Total`` last)."""
    present = set(df["group"]) if "group" in df.columns else set()
    return [g for g in group_columns(groups) if g in present]
