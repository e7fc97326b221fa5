"""Domain layer: lab safety by reference range and liver injury: shift tables (baseline vs worst
post-baseline category) and the eDISH/mDISH plots of peak ALT and bilirubin.

Pure functions on lab rows, with the same rules as :mod:`dashboard.domain.labstats` (``group_col=None``
pools under ``POOLED_LABEL``; arms never relabelled), and "from counts/peaks" twins that turn the
aggregates computed in DuckDB (``data.shift_aggregates``, ``data.lab_aggregates``) into the same results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain import POOLED_LABEL
from dashboard.domain.labs import describe
from dashboard.domain.labstats import _check_group_col, _require_columns, add_change_from_baseline, with_group

HIGH_CATEGORIES = ("normal", ">1x ULN", ">3x ULN", ">10x ULN")
LOW_CATEGORIES = ("normal", "<LLN")
MISSING = "missing"
QUADRANTS = ("Hy's law", "Temple's corollary", "cholestasis", "normal range")


@dataclass(frozen=True)
class DishResult:
    """eDISH/mDISH: ``patients`` (usubjid, group, alt_peak, bili_peak, quadrant), ``counts``
    (group, quadrant, n), the cut-offs and the scale ("xULN" or "xbaseline")."""

    patients: pd.DataFrame
    counts: pd.DataFrame
    alt_cut: float
    bili_cut: float
    scale: str
    method: str


def _limits(df: pd.DataFrame, paramcd: str) -> tuple[pd.Series, pd.Series]:
    """Each record's own reference limits, falling back to the registry default where missing."""
    p = describe(paramcd)
    lo = df["lower_limit"] if "lower_limit" in df.columns else pd.Series(np.nan, index=df.index)
    hi = df["upper_limit"] if "upper_limit" in df.columns else pd.Series(np.nan, index=df.index)
    return (lo.astype(float).fillna(np.nan if p.lower_limit is None else p.lower_limit),
            hi.astype(float).fillna(np.nan if p.upper_limit is None else p.upper_limit))


def shift_table(df: pd.DataFrame, *, group_col: str | None, paramcd: str,
                groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Baseline category versus worst post-baseline category, counts per group.

    ``groups`` lists the groups to report and their order (default: order of first appearance in the
    rows); a listed group with no patient gets no rows.

    Returns
    -------
    DataFrame
        Columns ``group``, ``baseline``, ``worst_post_baseline``, ``n``: every combination of the
        categories (plus ``"missing"`` for a patient with no baseline or no post-baseline value),
        zero counts included so the table has a fixed shape.

    Notes
    -----
    worse="high" labs: "normal" (<= ULN, low values included), ">1x ULN", ">3x ULN", ">10x ULN"
    (strictly greater). worse="low" labs (ALB, CHE, PTA, SODIUM, PROT): "normal" (>= LLN), "<LLN".
    Limits are each record's own, else the registry default.
    """
    return _shift_grid("shift_table", shift_counts(df, group_col=group_col, paramcd=paramcd), paramcd, groups)


def shift_counts(df: pd.DataFrame, *, group_col: str | None, paramcd: str) -> pd.DataFrame:
    """Patients per group, baseline rank and worst post-baseline rank of lab rows: the ``SHIFT_COUNT_COLUMNS``
    frame ``shift_aggregates.lab_shift_counts`` computes in SQL, the input of :func:`shift_from_counts`."""
    func = "shift_table"
    _require_columns(func, "df", df, ("usubjid", "paramcd", "visit_num", "value"))
    _check_group_col(func, df, group_col)
    param = describe(paramcd)
    data = with_group(df[df["paramcd"] == paramcd], group_col).dropna(subset=["value", "visit_num"])
    lo, hi = _limits(data, paramcd)
    if param.worse == "high":
        limit = hi
        ratio = data["value"] / hi
        rank = np.select([ratio > 10, ratio > 3, ratio > 1], [3, 2, 1], default=0)
    else:
        limit = lo
        rank = np.where(data["value"] < lo, 1, 0)
    data = data.assign(rank=rank)
    # The last baseline by study day, the highest value on a tie (as add_change_from_baseline).
    base = (data[data["visit_num"] == 0].sort_values(["study_day" if "study_day" in data else "visit_num", "value"],
                                                     kind="stable")
            .groupby("usubjid")["rank"].last())
    worst = data[data["visit_num"] > 0].groupby("usubjid")["rank"].max()
    pats = data.drop_duplicates("usubjid")[["usubjid", "group"]].set_index("usubjid")
    pats["baseline_rank"] = base.reindex(pats.index)
    pats["worst_rank"] = worst.reindex(pats.index)
    pats["with_limit"] = pats.index.isin(data.loc[limit.notna(), "usubjid"]).astype(int)
    # Groups in order of first appearance, as in SQL.
    return (pats.groupby(["group", "baseline_rank", "worst_rank"], sort=False, dropna=False)["with_limit"]
            .agg(n="size", with_limit="sum").reset_index())


SHIFT_COUNT_COLUMNS = ("group", "baseline_rank", "worst_rank", "n", "with_limit")


def shift_from_counts(counts: pd.DataFrame, *, paramcd: str, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """``shift_table``'s result from patient counts computed elsewhere (``shift_aggregates.lab_shift_counts``).

    Parameters
    ----------
    counts : DataFrame
        Columns ``SHIFT_COUNT_COLUMNS``: ``group`` (None/NaN when pooled), ``baseline_rank`` and
        ``worst_rank`` (category ranks, 0 = "normal"; None/NaN = "missing"), ``n`` patients and
        ``with_limit`` (of them, patients with a record that has a reference limit).
    paramcd : str
        The lab counted; its registry entry gives the categories.
    groups : sequence of str, optional
        As in ``shift_table``; default: order of first appearance in ``counts``.

    Returns
    -------
    DataFrame
        The same grid, order and counts as ``shift_table``; the same ValueError for a lab with no
        reference range (derived, or no selected record has a limit).
    """
    _require_columns("shift_from_counts", "counts", counts, SHIFT_COUNT_COLUMNS)
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    return _shift_grid("shift_from_counts", data, paramcd, groups)


def _shift_grid(func: str, counts: pd.DataFrame, paramcd: str, groups: Sequence[str] | None) -> pd.DataFrame:
    """The shift table from ``SHIFT_COUNT_COLUMNS`` counts: the tail shared by the rows and the SQL path."""
    param = describe(paramcd)
    # An empty selection sums to 0 as well: shift_table has always refused it with this message too.
    if param.derived or counts["with_limit"].sum() == 0:
        raise ValueError(f"{func}: paramcd={paramcd!r} has no reference range; choose a measured lab.")
    cats = HIGH_CATEGORIES if param.worse == "high" else LOW_CATEGORIES
    labels = list(cats) + [MISSING]
    names = dict(enumerate(cats))
    present = list(pd.unique(counts.loc[counts["n"] > 0, "group"]))
    order = present if groups is None else [g for g in groups if g in present]
    cells = counts.assign(baseline=counts["baseline_rank"].map(names).fillna(MISSING),
                          worst_post_baseline=counts["worst_rank"].map(names).fillna(MISSING))
    grid = pd.MultiIndex.from_product([order, labels, labels], names=["group", "baseline", "worst_post_baseline"])
    n = cells.groupby(["group", "baseline", "worst_post_baseline"])["n"].sum().reindex(grid, fill_value=0)
    return n.astype("int64").reset_index()


# ---------------------------------------------------------------------------------------------------

DISH_PEAK_COLUMNS = ("group", "usubjid", "alt_xuln", "bili_xuln", "alt_base", "bili_base", "alt_xbase", "bili_xbase")
_DISH_ROW_COLUMNS = ("usubjid", "paramcd", "visit_num", "value")
# The peak columns each scale classifies, and the footnote naming its cut-offs.
_DISH_SCALES = {
    "xULN": (("alt_xuln", "bili_xuln"),
             "eDISH: peak post-baseline ALT and total bilirubin as multiples of ULN (each record's own ULN); Hy's law "
             "quadrant ALT >= {alt:g}x ULN and bilirubin >= {bili:g}x ULN."),
    "xbaseline": (("alt_xbase", "bili_xbase"),
                  "mDISH: peak post-baseline ALT and total bilirubin as multiples of the patient's baseline; cut-offs "
                  "ALT {alt:g}x and bilirubin {bili:g}x baseline."),
}


def edish(df_alt_bili: pd.DataFrame, *, group_col: str | None, alt_cut: float = 3.0,
          bili_cut: float = 2.0, groups: Sequence[str] | None = None) -> DishResult:
    """eDISH: per patient peak post-baseline ALT and total bilirubin as multiples of ULN.

    ``groups`` lists the groups to report and their order (default: order of first appearance in the
    rows); a listed group with no ALT or bilirubin record gets no counts.

    Notes
    -----
    Peaks are taken separately (not necessarily on the same day), as in the FDA eDISH plot. Quadrants:
    "Hy's law" ALT >= 3x ULN and BILI >= 2x ULN; "Temple's corollary" ALT >= 3x, BILI < 2x;
    "cholestasis" ALT < 3x, BILI >= 2x; "normal range" otherwise. Patients without a post-baseline
    value of both labs are left out.
    """
    _check_dish_input("edish", "df_alt_bili", df_alt_bili, _DISH_ROW_COLUMNS, alt_cut, bili_cut, group_col)
    data = _dish_rows(df_alt_bili, group_col)
    order = list(pd.unique(data["group"])) if groups is None else list(groups)
    return _dish(_dish_peaks(data), "xULN", alt_cut, bili_cut, order)


def mdish(df_alt_bili: pd.DataFrame, *, group_col: str | None, alt_cut: float = 3.8,
          bili_cut: float = 4.8, groups: Sequence[str] | None = None) -> DishResult:
    """mDISH: peak post-baseline ALT and bilirubin as multiples of each patient's own baseline.

    ``groups`` as in :func:`edish`; a listed group with no positive baseline gets no counts.

    Notes
    -----
    For patients with abnormal baseline liver tests (here, liver failure) multiples of ULN say little;
    the modified eDISH uses multiples of baseline with cut-offs 3.8x (ALT) and 4.8x (bilirubin)
    (Lewis/Regev mDISH proposal). Patients without a positive baseline of both labs are left out.
    """
    _check_dish_input("mdish", "df_alt_bili", df_alt_bili, _DISH_ROW_COLUMNS, alt_cut, bili_cut, group_col)
    data = _dish_rows(df_alt_bili, group_col)
    order = list(pd.unique(data.loc[data["base"] > 0, "group"])) if groups is None else list(groups)
    return _dish(_dish_peaks(data), "xbaseline", alt_cut, bili_cut, order)


def dish_peaks(df_alt_bili: pd.DataFrame, *, group_col: str | None) -> pd.DataFrame:
    """Per patient of ALT and bilirubin rows: the ``DISH_PEAK_COLUMNS`` frame that
    ``lab_aggregates.dish_peaks`` computes in SQL, the input of :func:`edish_from_peaks`."""
    _check_dish_input("dish_peaks", "df_alt_bili", df_alt_bili, _DISH_ROW_COLUMNS, 1.0, 1.0, group_col)
    return _dish_peaks(_dish_rows(df_alt_bili, group_col))


def edish_from_peaks(peaks: pd.DataFrame, *, alt_cut: float = 3.0, bili_cut: float = 2.0,
                     groups: Sequence[str] | None = None) -> DishResult:
    """:func:`edish`'s result from per-patient peaks computed elsewhere (``lab_aggregates.dish_peaks``).

    ``peaks`` has columns ``DISH_PEAK_COLUMNS`` (``group`` None when pooled), one row per patient with an
    ALT or bilirubin record, ordered by usubjid; ``groups`` as in :func:`edish` (default: order of first
    appearance in ``peaks``).
    """
    _check_dish_input("edish_from_peaks", "peaks", peaks, DISH_PEAK_COLUMNS, alt_cut, bili_cut)
    peaks, order = _pooled(peaks, groups)
    return _dish(peaks, "xULN", alt_cut, bili_cut, order)


def mdish_from_peaks(peaks: pd.DataFrame, *, alt_cut: float = 3.8, bili_cut: float = 4.8,
                     groups: Sequence[str] | None = None) -> DishResult:
    """:func:`mdish`'s result from per-patient peaks computed elsewhere, as :func:`edish_from_peaks`."""
    _check_dish_input("mdish_from_peaks", "peaks", peaks, DISH_PEAK_COLUMNS, alt_cut, bili_cut)
    peaks, order = _pooled(peaks, groups)
    return _dish(peaks, "xbaseline", alt_cut, bili_cut, order)


def _pooled(peaks: pd.DataFrame, groups: Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    peaks = peaks.assign(group=peaks["group"].fillna(POOLED_LABEL).astype(str))
    return peaks, list(pd.unique(peaks["group"])) if groups is None else list(groups)


def _check_dish_input(func: str, arg: str, df: pd.DataFrame, columns: Sequence[str], alt_cut: float,
                      bili_cut: float, group_col: str | None = None) -> None:
    _require_columns(func, arg, df, columns)
    _check_group_col(func, df, group_col)
    for name, v in (("alt_cut", alt_cut), ("bili_cut", bili_cut)):
        if not (isinstance(v, (int, float)) and v > 0):
            raise ValueError(f"{func}: {name} must be a positive number, got {v!r}.")


def _dish_rows(df: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    """ALT and bilirubin rows with a value and a visit, with ``group``, ``xuln`` (value / ULN) and
    ``base``/``xbase`` (value / baseline where the baseline is > 0)."""
    data = with_group(df[df["paramcd"].isin(["ALT", "BILI"])], group_col).dropna(subset=["value", "visit_num"])
    # Registry fallback is per parameter: a BILI row with no ULN takes BILI's default, not ALT's.
    uln = pd.Series(np.nan, index=data.index)
    for code in ("ALT", "BILI"):
        mask = data["paramcd"] == code
        uln[mask] = _limits(data[mask], code)[1]
    data = add_change_from_baseline(data.assign(xuln=data["value"] / uln))
    return data.assign(xbase=(data["value"] / data["base"]).where(data["base"] > 0))


def _dish_peaks(data: pd.DataFrame) -> pd.DataFrame:
    """Per patient of ``_dish_rows``: the ``DISH_PEAK_COLUMNS`` frame, ordered by usubjid."""
    post = data[data["visit_num"] > 0].groupby(["usubjid", "paramcd"])[["xuln", "xbase"]].max()
    base = data.groupby(["usubjid", "paramcd"])["base"].max()
    wide = pd.concat([post, base], axis=1).unstack("paramcd")
    patients = data.drop_duplicates("usubjid").set_index("usubjid")["group"].sort_index()
    out = pd.DataFrame({"group": patients.to_numpy(), "usubjid": patients.index.to_numpy()})
    for col in ("xuln", "base", "xbase"):
        for code in ("ALT", "BILI"):
            values = wide[(col, code)] if (col, code) in wide.columns else pd.Series(dtype=float)
            out[f"{code.lower()}_{col}"] = values.reindex(patients.index).to_numpy(float)
    return out[list(DISH_PEAK_COLUMNS)]


def _dish(peaks: pd.DataFrame, scale: str, alt_cut: float, bili_cut: float, groups: list[str]) -> DishResult:
    """Quadrants and counts per group from the peaks frame: the tail shared by the rows and the SQL path."""
    (alt_col, bili_col), method = _DISH_SCALES[scale]
    # A group is reported when it has a patient on this scale: any record for xULN, a positive baseline
    # for xbaseline (a patient without one has no multiple of baseline to show).
    on_scale = peaks if scale == "xULN" else peaks[(peaks["alt_base"] > 0) | (peaks["bili_base"] > 0)]
    present = set(on_scale["group"])
    order = [g for g in groups if g in present]
    pats = peaks[peaks[alt_col].notna() & peaks[bili_col].notna() & peaks["group"].isin(order)]
    pats = pd.DataFrame({"usubjid": pats["usubjid"].to_numpy(object), "group": pats["group"].to_numpy(object),
                         "alt_peak": pats[alt_col].to_numpy(float), "bili_peak": pats[bili_col].to_numpy(float)})
    a, b = pats["alt_peak"] >= alt_cut, pats["bili_peak"] >= bili_cut
    pats["quadrant"] = np.select([a & b, a & ~b, ~a & b], list(QUADRANTS[:3]), default=QUADRANTS[3])
    grid = pd.MultiIndex.from_product([order, list(QUADRANTS)], names=["group", "quadrant"])
    counts = pats.groupby(["group", "quadrant"]).size().reindex(grid, fill_value=0).rename("n").reset_index()
    return DishResult(patients=pats, counts=counts, alt_cut=alt_cut, bili_cut=bili_cut, scale=scale,
                      method=method.format(alt=alt_cut, bili=bili_cut))
