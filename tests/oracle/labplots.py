"""Oracle of ``dashboard.domain.labplots``: box statistics and the trajectory sample from lab rows.

``box_stats`` equals ``labplots.box_stats_from_aggregates`` on ``lab_aggregates.lab_box_stats`` and
``sample_trajectories`` equals ``labplots.trajectories_from_sample`` on ``lab_aggregates.lab_trajectory_sample``;
both end in the domain module's own tail (``_boxes``, ``_trimmed``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboard.domain.checks import check_group_col, require_columns
from dashboard.domain.labplots import (
    BOX_COLUMNS,
    MAX_POINTS,
    BoxStats,
    Trajectories,
    _boxes,
    _check_max_points,
    _trimmed,
)
from dashboard.domain.labstats import with_group

LAB_VALUES = ("value", "chg", "pchg")


def _check_rows(func: str, df: pd.DataFrame, columns: tuple[str, ...], value_col: str) -> None:
    if value_col not in LAB_VALUES:
        raise ValueError(f"{func}: value_col must be one of {list(LAB_VALUES)}, got {value_col!r}.")
    require_columns(func, df, (*columns, value_col))


def _type7(x: np.ndarray, q: float) -> float:
    """R quantile type 7 of sorted ``x``, with the arithmetic of ``lab_aggregates._type7`` (bit-identical)."""
    pos = (len(x) - 1) * q
    lo, hi = x[int(np.floor(pos))], x[int(np.ceil(pos))]
    return lo + (hi - lo) * (pos - np.floor(pos))


def box_stats(df: pd.DataFrame, *, value_col: str = "value", group_col: str | None = None,
              groups: Sequence[str] | None = None) -> BoxStats:
    """Quartiles, Tukey whisker ends and n per group and visit of one lab parameter, from rows with
    ``visit_num``, ``visit`` (optional) and ``value_col`` (``chg``/``pchg`` from ``add_change_from_baseline``);
    ``group_col`` is the arm column, None pools every row. Quartiles as R ``quantile(type = 7)`` at position
    (n - 1) q of the sorted values; ``value_col``, ``groups`` and the result as ``box_stats_from_aggregates``.
    """
    func = "box_stats"
    _check_rows(func, df, ("visit_num",), value_col)
    check_group_col(func, df, group_col)
    data = with_group(df, group_col).dropna(subset=[value_col, "visit_num"])
    if value_col in ("chg", "pchg"):
        data = data[data["visit_num"] != 0]
    labels = df.dropna(subset=["visit_num"]).drop_duplicates("visit_num").set_index("visit_num")["visit"] \
        if "visit" in df.columns else pd.Series(dtype=object)
    rows = []
    for (g, vnum), part in data.groupby(["group", "visit_num"], sort=False):
        x = np.sort(part[value_col].to_numpy(float))
        q1, median, q3 = (_type7(x, q) for q in (0.25, 0.5, 0.75))
        rows.append((g, vnum, labels.get(vnum, str(vnum)), len(x), q1, median, q3,
                     x[x >= q1 - 1.5 * (q3 - q1)][0], x[x <= q3 + 1.5 * (q3 - q1)][-1]))
    agg = pd.DataFrame(rows, columns=list(BOX_COLUMNS))
    return _boxes(agg, value_col, list(pd.unique(data["group"])) if groups is None else list(groups))


def sample_trajectories(df: pd.DataFrame, *, value_col: str = "value", group_col: str | None = None,
                        max_points: int = MAX_POINTS) -> Trajectories:
    """Every patient's course of one lab, or a sample of whole patients when they exceed
    ``max_points``, from rows with ``usubjid``, ``study_day`` and ``value_col`` (the baseline point stays: its
    change is 0); ``group_col`` is the arm column, None pools every row. Every k-th patient by usubjid is kept,
    as ``lab_aggregates.lab_trajectory_sample`` does in DuckDB, then trimmed as ``trajectories_from_sample``
    says.
    """
    func = "sample_trajectories"
    _check_rows(func, df, ("usubjid", "study_day"), value_col)
    check_group_col(func, df, group_col)
    _check_max_points(func, max_points)
    data = with_group(df, group_col).dropna(subset=["study_day", value_col])
    # Same-day values in value order, so the line does not depend on row order (as the SQL sample).
    data = data.sort_values(["usubjid", "study_day", value_col], kind="stable")
    ids = data["usubjid"].unique()
    step = max(1, int(np.ceil((len(data) + len(ids)) / max_points)))
    data = data[data["usubjid"].isin(ids[::step])]
    return _trimmed(data[["group", "usubjid", "study_day", value_col]], value_col, len(ids), max_points)
