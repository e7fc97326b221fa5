"""Domain layer: what the lab box plots and trajectory (spaghetti) plots draw.

Box statistics per group and visit, and the sample of whole patients a trajectory plot can afford, from
what ``dashboard.data.lab_aggregates`` computed in DuckDB (``lab_box_stats``, ``lab_trajectory_sample``);
their pandas versions on lab rows are the test oracle ``tests.oracle.labplots``, which ends in the same
private tails. The rule this module keeps: a pooled result has every row under ``POOLED_LABEL`` (DESIGN §4).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain import POOLED_LABEL

BOX_COLUMNS = ("group", "visit_num", "visit", "n", "q1", "median", "q3", "whisker_lo", "whisker_hi")
BOX_METHOD = ("Box: quartiles (R quantile type 7: linear interpolation between order statistics); whiskers: "
              "the most extreme values within 1.5 IQR of the box (Tukey); values beyond are not drawn.")
# The figure budget of DESIGN §7: points sent to the browser, line breaks included.
MAX_POINTS = 100_000


@dataclass(frozen=True)
class BoxStats:
    """Box statistics per group and visit: ``summary`` has columns ``BOX_COLUMNS``."""

    summary: pd.DataFrame
    value_col: str
    method: str


@dataclass(frozen=True)
class Trajectories:
    """Per-patient courses to draw: ``rows`` (``group``, ``usubjid``, ``study_day`` and ``value_col``),
    sorted by usubjid and study day, of ``n_shown`` whole patients out of the ``n_patients`` with a value."""

    rows: pd.DataFrame
    value_col: str
    n_shown: int
    n_patients: int


def box_stats_from_aggregates(agg: pd.DataFrame, *, value_col: str = "value",
                              groups: Sequence[str] | None = None) -> BoxStats:
    """Quartiles, Tukey whisker ends and n per group and visit of one lab, from ``lab_aggregates.lab_box_stats``.

    Parameters
    ----------
    agg : DataFrame
        ``BOX_COLUMNS`` per group and visit, ``group`` None/NaN when pooled; quartiles as R ``quantile(type =
        7)``, whiskers at the most extreme values within 1.5 IQR of the box (Tukey); for ``chg``/``pchg``
        without the baseline visit (its change is zero by definition).
    value_col : str
        ``"value"``, ``"chg"`` or ``"pchg"``: what was summarised.
    groups : sequence of str, optional
        Groups to report and their order (default: order of first appearance); a listed group with no
        values gets no rows.

    Returns
    -------
    BoxStats
        ``summary`` with columns ``BOX_COLUMNS`` ordered by group then visit; ``method`` for the caption.
    """
    missing = [c for c in BOX_COLUMNS if c not in agg.columns]
    if missing:
        raise ValueError(f"box_stats_from_aggregates: argument 'agg' lacks column(s) {missing}.")
    agg = agg.assign(group=agg["group"].fillna(POOLED_LABEL).astype(str))
    return _boxes(agg, value_col, list(pd.unique(agg["group"])) if groups is None else list(groups))


def _boxes(agg: pd.DataFrame, value_col: str, order: list[str]) -> BoxStats:
    data = agg[(agg["n"] > 0) & agg["group"].isin(order)].astype({"visit_num": int, "n": int})
    rank = {g: i for i, g in enumerate(order)}
    data = data.sort_values(["group", "visit_num"], key=lambda c: c.map(rank) if c.name == "group" else c,
                            kind="stable")
    summary = data[list(BOX_COLUMNS)].astype({c: float for c in BOX_COLUMNS[4:]}).reset_index(drop=True)
    return BoxStats(summary=summary, value_col=value_col, method=BOX_METHOD)


def trajectories_from_sample(sample: pd.DataFrame, *, value_col: str = "value",
                             max_points: int = MAX_POINTS) -> Trajectories:
    """Every patient's course of one lab, or a sample of whole patients when they exceed ``max_points``.

    ``sample`` holds the rows ``lab_aggregates.lab_trajectory_sample`` kept (``group`` None when pooled,
    ``n_patients`` on every row), called with the same ``max_points``: a patient costs their points plus one
    line break, and when all patients cost more than ``max_points`` every k-th patient by usubjid is kept, k =
    ceil(cost / max_points), so the figure is stable between reruns. If uneven patients still cost too much,
    the kept list is cut here to 90% of its length (by usubjid) until they fit.
    """
    func = "trajectories_from_sample"
    missing = [c for c in ("group", "usubjid", "study_day", value_col, "n_patients") if c not in sample.columns]
    if missing:
        raise ValueError(f"{func}: argument 'sample' lacks column(s) {missing}.")
    _check_max_points(func, max_points)
    n_patients = int(sample["n_patients"].iloc[0]) if len(sample) else 0
    rows = sample.assign(group=sample["group"].fillna(POOLED_LABEL).astype(str))
    return _trimmed(rows[["group", "usubjid", "study_day", value_col]], value_col, n_patients, max_points)


def _check_max_points(func: str, max_points: int) -> None:
    if not (isinstance(max_points, int) and max_points > 0):
        raise ValueError(f"{func}: max_points must be a positive integer, got {max_points!r}.")


def _trimmed(rows: pd.DataFrame, value_col: str, n_patients: int, max_points: int) -> Trajectories:
    """Cut the kept patients (sorted by usubjid) to 90% of their number until their cost fits."""
    ids, counts = np.unique(rows["usubjid"].to_numpy(), return_counts=True)
    cost = np.cumsum(counts + 1)
    keep = len(ids)
    while keep and cost[keep - 1] > max_points:
        keep = int(keep * 0.9)
    if keep < len(ids):
        rows = rows[rows["usubjid"].isin(ids[:keep])]
    return Trajectories(rows=rows.reset_index(drop=True), value_col=value_col, n_shown=keep, n_patients=n_patients)
