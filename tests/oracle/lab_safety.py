"""Oracle of ``dashboard.domain.lab_safety``: shift tables and mDISH from lab rows.

``shift_counts`` is what ``shift_aggregates.lab_shift_counts`` counts in SQL and ``dish_peaks`` what
``lab_aggregates.dish_peaks`` computes; ``shift_table`` and ``mdish`` hand them to the domain module's own
tails (``_shift_grid``, ``_dish``), so they equal ``shift_from_counts`` and ``mdish_from_peaks`` on the same
rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboard.domain.checks import check_group_col, require_columns
from dashboard.domain.lab_safety import DISH_PEAK_COLUMNS, DishResult, _check_dish_input, _dish, _shift_grid
from dashboard.domain.labs import describe
from dashboard.domain.labstats import add_change_from_baseline, with_group

_DISH_ROW_COLUMNS = ("usubjid", "paramcd", "visit_num", "value")


def _limits(df: pd.DataFrame, paramcd: str) -> tuple[pd.Series, pd.Series]:
    """Each record's own reference limits, falling back to the registry default where missing."""
    p = describe(paramcd)
    lo = df["lower_limit"] if "lower_limit" in df.columns else pd.Series(np.nan, index=df.index)
    hi = df["upper_limit"] if "upper_limit" in df.columns else pd.Series(np.nan, index=df.index)
    return (lo.astype(float).fillna(np.nan if p.lower_limit is None else p.lower_limit),
            hi.astype(float).fillna(np.nan if p.upper_limit is None else p.upper_limit))


def shift_table(df: pd.DataFrame, *, group_col: str | None, paramcd: str,
                groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Baseline category versus worst post-baseline category, patients per group, from lab rows
    (``usubjid``, ``paramcd``, ``visit_num``, ``value``, ``study_day`` and the limits); ``group_col`` is the arm
    column, None pools. Counts (:func:`shift_counts`), categories, ``groups`` and the result as
    ``shift_from_counts``; limits are each record's own, else the registry default (:func:`_limits`).
    """
    return _shift_grid("shift_table", shift_counts(df, group_col=group_col, paramcd=paramcd), paramcd, groups)


def shift_counts(df: pd.DataFrame, *, group_col: str | None, paramcd: str) -> pd.DataFrame:
    """Patients per group, baseline rank and worst post-baseline rank of lab rows: the ``SHIFT_COUNT_COLUMNS``
    frame ``shift_aggregates.lab_shift_counts`` computes in SQL, the input of ``shift_from_counts``."""
    func = "shift_table"
    require_columns(func, df, ("usubjid", "paramcd", "visit_num", "value"))
    check_group_col(func, df, group_col)
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


def mdish(df_alt_bili: pd.DataFrame, *, group_col: str | None, alt_cut: float = 3.8,
          bili_cut: float = 4.8, groups: Sequence[str] | None = None) -> DishResult:
    """mDISH from ALT and bilirubin rows: per patient peak post-baseline values as multiples of the
    patient's baseline (:func:`dish_peaks`); ``group_col`` is the arm column, None pools. Cut-offs, ``groups``
    and the result as ``mdish_from_peaks``.
    """
    _check_dish_input("mdish", "df_alt_bili", df_alt_bili, _DISH_ROW_COLUMNS, alt_cut, bili_cut, group_col)
    data = _dish_rows(df_alt_bili, group_col)
    order = list(pd.unique(data.loc[data["base"] > 0, "group"])) if groups is None else list(groups)
    return _dish(_dish_peaks(data), alt_cut, bili_cut, order)


def dish_peaks(df_alt_bili: pd.DataFrame, *, group_col: str | None) -> pd.DataFrame:
    """Per patient of ALT and bilirubin rows: the ``DISH_PEAK_COLUMNS`` frame that
    ``lab_aggregates.dish_peaks`` computes in SQL, the input of ``mdish_from_peaks``."""
    _check_dish_input("dish_peaks", "df_alt_bili", df_alt_bili, _DISH_ROW_COLUMNS, 1.0, 1.0, group_col)
    return _dish_peaks(_dish_rows(df_alt_bili, group_col))


def _dish_rows(df: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    """ALT and bilirubin rows with a value and a visit, with ``group`` and ``base``/``xbase`` (value / baseline
    where the baseline is > 0)."""
    data = with_group(df[df["paramcd"].isin(["ALT", "BILI"])], group_col).dropna(subset=["value", "visit_num"])
    data = add_change_from_baseline(data)
    return data.assign(xbase=(data["value"] / data["base"]).where(data["base"] > 0))


def _dish_peaks(data: pd.DataFrame) -> pd.DataFrame:
    """Per patient of ``_dish_rows``: the ``DISH_PEAK_COLUMNS`` frame, ordered by usubjid."""
    post = data[data["visit_num"] > 0].groupby(["usubjid", "paramcd"])[["xbase"]].max()
    base = data.groupby(["usubjid", "paramcd"])["base"].max()
    wide = pd.concat([post, base], axis=1).unstack("paramcd")
    patients = data.drop_duplicates("usubjid").set_index("usubjid")["group"].sort_index()
    out = pd.DataFrame({"group": patients.to_numpy(), "usubjid": patients.index.to_numpy()})
    for col in ("base", "xbase"):
        for code in ("ALT", "BILI"):
            values = wide[(col, code)] if (col, code) in wide.columns else pd.Series(dtype=float)
            out[f"{code.lower()}_{col}"] = values.reindex(patients.index).to_numpy(float)
    return out[list(DISH_PEAK_COLUMNS)]
