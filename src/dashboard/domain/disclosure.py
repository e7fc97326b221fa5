"""Domain layer: small-cell disclosure control, in one place.

The rule (issue 16): "The open report pools every arm-dependent table and suppresses any cell below 5
patients ("<5"), as does every blinded view of the app (a threshold in one place; tested)." A count of
1 to 4 patients (and the percentage written with it) becomes ``"<5"``; 0 stays 0 (an empty cell tells
nobody about a patient), and 5 or more is shown.

What is a count in a display table: a :class:`dashboard.domain.report_format.Count` cell (what the report
formatters write), a cell written ``n (x%)`` (``12 (17.1%)``, ``3 (4%)``) by anyone else, or a whole number
in a column the caller names in ``count_columns`` (the same text in, say, a median column is not a count).
Means, medians, SDs and dates are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from numbers import Integral

import pandas as pd

from dashboard.domain.report_format import Count

SMALL_CELL = 5
SUPPRESSED = f"<{SMALL_CELL}"
# "n (x%)" or "n (x.x%)", as written by fmt_n_pct and by hand.
_N_PCT = re.compile(r"^\s*(\d+)\s*\(\s*\d+(?:\.\d+)?\s*%\s*\)\s*$")
_N = re.compile(r"^\s*(\d+)\s*$")


def is_small(n: int) -> bool:
    """True for a count that must not be shown: 0 < n < SMALL_CELL."""
    return 0 < n < SMALL_CELL


def _count_of(cell, whole_numbers: bool) -> int | None:
    if isinstance(cell, Count):
        return cell.n
    if isinstance(cell, str):
        match = _N_PCT.match(cell) or (_N.match(cell) if whole_numbers else None)
        return int(match.group(1)) if match else None
    if whole_numbers and isinstance(cell, Integral) and not isinstance(cell, bool):
        return int(cell)
    if whole_numbers and isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return None


def suppress_small_cells(table: pd.DataFrame, count_columns: Iterable[str] = ()) -> pd.DataFrame:
    """A copy of the display ``table`` with every count of 1 to ``SMALL_CELL - 1`` (and its %) written ``"<5"``.

    Parameters
    ----------
    table : DataFrame
        A display table (strings), e.g. the output of a ``*_display`` formatter.
    count_columns : iterable of str
        Columns whose bare whole numbers are counts too (``Count`` cells and ``n (x%)`` cells are found in
        every column without being named).

    Returns
    -------
    DataFrame
        The same shape, index and columns; suppressed cells hold ``"<5"``, the rest are unchanged.
        ``attrs["suppressed"]`` is the number of cells replaced.
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"suppress_small_cells: argument table must be a pandas DataFrame, got {type(table).__name__}.")
    named = set(count_columns)
    unknown = named - set(table.columns)
    if unknown:
        raise ValueError(f"suppress_small_cells: argument count_columns={sorted(unknown)}; allowed values: columns "
                         f"of table ({list(table.columns)}).")
    out = table.astype(object)
    replaced = 0
    for j, column in enumerate(out.columns):
        values = out.iloc[:, j].tolist()
        whole_numbers = column in named
        new = []
        for cell in values:
            n = _count_of(cell, whole_numbers)
            if n is not None and is_small(n):
                new.append(SUPPRESSED)
                replaced += 1
            else:
                new.append(cell)
        out.iloc[:, j] = pd.Series(new, index=out.index, dtype=object).to_numpy()
    out.attrs = {**table.attrs, "suppressed": replaced,
                 "disclosure": f"Counts of 1 to {SMALL_CELL - 1} patients are shown as {SUPPRESSED}."}
    return out


# Headers (or the last " · " part of a wide table's header) of the app's pooled tables that hold counts of
# patients or events, and of the percentages written beside them.
COUNT_HEADERS = frozenset({"n", "patients", "n_patients", "events", "deaths", "at risk", "n at risk"})
PERCENT_HEADERS = frozenset({"%", "pct", "percent"})


def _header_parts(column: object) -> tuple[str, str]:
    text = str(column)
    prefix, _, last = text.rpartition(" · ")
    return prefix, last.strip().lower()


def suppress_pooled_counts(table: pd.DataFrame, count_columns: Iterable[str] = ()) -> pd.DataFrame:
    """A blinded view's copy of a pooled table (numbers, as the app shows them): every count of 1 to
    ``SMALL_CELL - 1`` in a count column (:data:`COUNT_HEADERS`, or named in ``count_columns``: a cross-table
    of counts) written ``"<5"``, and the percentage beside it (the same header prefix with a
    :data:`PERCENT_HEADERS` name) too, since it gives the count back."""
    named = set(count_columns)
    counts = [c for c in table.columns if c in named or _header_parts(c)[1] in COUNT_HEADERS]
    if not counts:
        return table
    out = table.copy()
    replaced = 0
    for column in counts:
        prefix = _header_parts(column)[0]
        small = pd.to_numeric(table[column], errors="coerce").map(lambda v: not pd.isna(v) and is_small(int(v)))
        if not small.any():
            continue
        replaced += int(small.sum())
        for target in [column, *(c for c in table.columns if _header_parts(c) in {(prefix, p) for p in PERCENT_HEADERS})]:
            # A column is one type to the table widget and the exports: the numbers left become text too.
            out[target] = [SUPPRESSED if hide else _as_text(v) for hide, v in zip(small, table[target])]
    out.attrs = {**table.attrs, "suppressed": replaced}
    return out


def _as_text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return f"{value:g}" if isinstance(value, float) else str(value)


def shown_count(n: int, small_cells: bool) -> str:
    """A count as a figure annotation writes it: ``"<5"`` for 1-4 when ``small_cells`` (a blinded view)."""
    return SUPPRESSED if small_cells and is_small(int(n)) else str(int(n))
