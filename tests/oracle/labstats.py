"""Oracle of ``dashboard.domain.labstats``: the summary by visit and each patient's exit day from rows.

``summarise_by_visit`` equals ``labstats.summary_from_aggregates`` on ``lab_aggregates.lab_visit_summary``
(and on ``ascites_aggregates.ascites_measure_summaries`` for depth and volume); ``add_exit_day`` is what
``queries.exit_day_sql`` computes in SQL (``queries.subject_exits``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain.checks import check_conf_level, check_group_col, require_columns
from dashboard.domain.labstats import (
    EXIT_DATE_COLUMNS,
    EXIT_STATUSES,
    NON_EXIT_STATUSES,
    SUMMARY_COLUMNS,
    VisitSummary,
    _group_order,
    _summary_method,
    with_group,
)


def _check_single_param(func: str, df: pd.DataFrame) -> None:
    # Averaging ALT and BILI together is meaningless; callers filter to one parameter first.
    if "paramcd" in df.columns and df["paramcd"].nunique() > 1:
        raise ValueError(f"{func}: argument 'df' holds several paramcd values "
                         f"{sorted(df['paramcd'].unique())}; pass rows of one lab parameter.")


def _visit_labels(df: pd.DataFrame) -> dict[int, str]:
    if "visit" not in df.columns:
        return {}
    first = df.dropna(subset=["visit_num"]).drop_duplicates("visit_num")
    return dict(zip(first["visit_num"].astype(int), first["visit"].astype(str)))


def summarise_by_visit(df: pd.DataFrame, *, value_col: str = "value", group_col: str | None = None,
                       groups: Sequence[str] | None = None, conf_level: float = 0.95) -> VisitSummary:
    """n, mean, SD, SE, t-based CI of the mean, median, quartiles, min, max per group and visit, from
    rows of one parameter with ``visit_num``, ``visit`` (optional) and ``value_col``; ``group_col`` is the arm
    column, None pools every row. SD with n-1, quartiles by numpy "linear" interpolation (R ``quantile(type =
    7)``); for ``chg``/``pchg`` the baseline visit is left out. ``value_col``, ``groups``, ``conf_level`` and the
    result as ``summary_from_aggregates``.
    """
    func = "summarise_by_visit"
    require_columns(func, df, ("visit_num", value_col))
    check_group_col(func, df, group_col)
    check_conf_level(func, conf_level)
    _check_single_param(func, df)
    if not pd.api.types.is_numeric_dtype(df[value_col]):
        raise ValueError(f"{func}: value_col={value_col!r} must be numeric (e.g. 'value', 'chg', 'pchg').")
    data = with_group(df, group_col).dropna(subset=[value_col, "visit_num"])
    if value_col in ("chg", "pchg"):
        data = data[data["visit_num"] != 0]
    labels = _visit_labels(df)
    rows = []
    for g in _group_order(data, groups):
        sub = data[data["group"] == g]
        for vnum, part in sub.groupby("visit_num", sort=True):
            rows.append(_describe(g, int(vnum), labels.get(int(vnum), str(vnum)),
                                  part[value_col].to_numpy(float), conf_level))
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return VisitSummary(summary=summary, value_col=value_col, conf_level=conf_level,
                        method=_summary_method(value_col, conf_level))


def _describe(group: str, vnum: int, visit: str, x: np.ndarray, conf_level: float) -> dict:
    n = len(x)
    mean = x.mean()
    sd = x.std(ddof=1) if n >= 2 else np.nan
    se = sd / np.sqrt(n) if n >= 2 else np.nan
    half = stats.t.ppf((1 + conf_level) / 2, n - 1) * se if n >= 2 else np.nan
    q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75], method="linear")
    return dict(group=group, visit_num=vnum, visit=visit, n=n, mean=mean, sd=sd, se=se,
                ci_lower=mean - half, ci_upper=mean + half, median=median, q1=q1, q3=q3,
                min=x.min(), max=x.max())


def add_exit_day(subjects_df: pd.DataFrame) -> pd.DataFrame:
    """Copy of subject rows with ``exit_day``: the study day the patient left the study, NaN if still in.

    Parameters
    ----------
    subjects_df : DataFrame
        Subject rows with ``usubjid``, ``status``, ``day1_on``, ``death_on``, ``transplant_on``,
        ``withdrawn_on``, ``last_contact_on``.

    Returns
    -------
    DataFrame
        ``subjects_df`` plus ``exit_day`` = exit date - day1_on + 1 (day 1 is the first infusion), the
        input of ``deaths_between_visits`` and of ``tests.oracle.ascites.resolution_times``.

    Notes
    -----
    The exit date is ``death_on`` (died), ``transplant_on`` (transplanted), ``withdrawn_on``
    (withdrawn) or ``last_contact_on`` (lost to follow-up). If an exited patient's own date is missing,
    ``last_contact_on`` stands in: the last day the patient is known to have been in the study.
    "on study" and "completed" are not exits: ``exit_day`` is NaN.
    """
    func = "add_exit_day"
    require_columns(func, subjects_df, ("usubjid", "status", "day1_on", *dict.fromkeys(EXIT_DATE_COLUMNS.values())),
                    arg="subjects_df")
    allowed = set(EXIT_STATUSES) | set(NON_EXIT_STATUSES)
    bad = sorted(set(subjects_df["status"].dropna()) - allowed)
    if bad:
        raise ValueError(f"{func}: subjects_df.status has {bad}; allowed: {sorted(allowed)}.")
    out = subjects_df.copy()
    # Whole columns as datetime64 arrays: assigning per-status slices of a Series iterates over
    # Timestamps (twice the time on a 100,000-patient trial).
    status = out["status"].to_numpy()
    last_contact = pd.to_datetime(out["last_contact_on"]).to_numpy("datetime64[ns]")
    exit_on = np.full(len(out), np.datetime64("NaT"), dtype="datetime64[ns]")
    for exit_status, col in EXIT_DATE_COLUMNS.items():
        own = pd.to_datetime(out[col]).to_numpy("datetime64[ns]")
        exit_on = np.where(status == exit_status, np.where(np.isnat(own), last_contact, own), exit_on)
    day1 = pd.to_datetime(out["day1_on"]).to_numpy("datetime64[ns]")
    out["exit_day"] = (exit_on - day1) / np.timedelta64(1, "D") + 1.0
    return out
