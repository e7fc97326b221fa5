"""Domain layer: lab statistics by visit, change from baseline, exits by interval (shift tables and eDISH/mDISH
are in :mod:`dashboard.domain.lab_safety`, the arm comparison in :mod:`dashboard.domain.arm_comparison`).

Pure functions on lab rows (``usubjid``, ``paramcd``, ``visit``, ``visit_num``, ``study_day``,
``value``, ``lower_limit``, ``upper_limit`` and an optional group column) and on the aggregates computed
from them in SQL. The rule this module keeps: ``group_col=None`` means pooled, and pooled results carry
exactly one group, ``POOLED_LABEL``; arms are never relabelled (DESIGN §4). Baseline is ``visit_num == 0``.
The row-level summary by visit and exit day are the test oracle ``tests.oracle.labstats``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import check_conf_level, check_group_col, group_labels, require_columns

SUMMARY_COLUMNS = ("group", "visit_num", "visit", "n", "mean", "sd", "se", "ci_lower", "ci_upper",
                   "median", "q1", "q3", "min", "max")
EXIT_STATUSES = {"died": "died", "transplanted": "transplanted", "withdrawn": "withdrawn",
                 "lost to follow-up": "lost_to_follow_up"}
# Statuses of patients still in (or regularly out of) the study: not exits, ignored by the count.
NON_EXIT_STATUSES = ("on study", "completed")

QUARTILE_NOTE = "quartiles by linear interpolation (numpy 'linear' = R quantile type 7)"


@dataclass(frozen=True)
class VisitSummary:
    """Descriptive statistics per group and visit; ``summary`` has columns ``SUMMARY_COLUMNS``."""

    summary: pd.DataFrame
    value_col: str
    conf_level: float
    method: str


def with_group(df: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    """Copy of ``df`` with a ``group`` column: the arm, or ``POOLED_LABEL`` for every row when pooled."""
    return df.assign(group=group_labels(df, group_col))


def _group_order(df: pd.DataFrame, groups: Sequence[str] | None) -> list[str]:
    present = list(pd.unique(df["group"]))
    return present if groups is None else [g for g in groups]


# ---------------------------------------------------------------------------------------------------

def add_change_from_baseline(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``base``, ``chg`` (value - base) and ``pchg`` (100 * chg / base) per usubjid and paramcd.

    Parameters
    ----------
    df : DataFrame
        Lab rows with ``usubjid``, ``paramcd``, ``visit_num``, ``value`` (``study_day`` optional).

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``base``, ``chg``, ``pchg``; NaN where the patient has no baseline,
        and ``pchg`` NaN where the baseline is 0 (a percentage of zero is undefined).

    Notes
    -----
    Baseline is the ``visit_num == 0`` row; if there are several, the last by ``study_day``
    (DESIGN §3: "the last value on or before day 1"), and of several on that day the highest value, so the
    choice never depends on row order (the SQL aggregates order by (study_day, value) too).
    """
    require_columns("add_change_from_baseline", df, ("usubjid", "paramcd", "visit_num", "value"))
    out = df.copy()
    base = out[out["visit_num"] == 0].dropna(subset=["value"])
    base = base.sort_values([c for c in ("study_day", "value") if c in base.columns], kind="stable")
    base = base.drop_duplicates(["usubjid", "paramcd"], keep="last")[["usubjid", "paramcd", "value"]]
    base = base.rename(columns={"value": "base"})
    out = out.drop(columns=[c for c in ("base", "chg", "pchg") if c in out.columns])
    out = out.merge(base, on=["usubjid", "paramcd"], how="left", validate="many_to_one")
    out.index = df.index
    out["chg"] = out["value"] - out["base"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pchg"] = np.where(out["base"] != 0, 100.0 * out["chg"] / out["base"], np.nan)
    return out


def _summary_method(value_col: str, conf_level: float) -> str:
    return f"{value_col}: mean with {conf_level:.0%} t-based CI (SD with n-1); median with IQR, {QUARTILE_NOTE}."


def summary_from_aggregates(agg: pd.DataFrame, *, value_col: str = "value", groups: Sequence[str] | None = None,
                            conf_level: float = 0.95) -> VisitSummary:
    """n, mean, SD, SE, t-based CI of the mean, median, quartiles, min, max per group and visit, from
    per-group, per-visit aggregates computed in SQL (``lab_aggregates.lab_visit_summary``,
    ``ascites_aggregates.ascites_measure_summaries``).

    Parameters
    ----------
    agg : DataFrame
        ``group`` (None/NaN when pooled), ``visit_num``, ``visit``, ``n``, ``mean``, ``sd`` (n-1),
        ``median``, ``q1``, ``q3`` (R type 7), ``min``, ``max``; rows with ``n`` = 0 are dropped.
    value_col : str
        ``"value"``, ``"chg"`` or ``"pchg"`` for labs (without the baseline visit for a change: it is zero by
        definition); any numeric column (``depth_cm``) otherwise.
    groups : sequence of str, optional
        Groups to report and their order (a listed group with no rows gets no summary rows).
    conf_level : float
        Confidence level of the mean's CI.

    Returns
    -------
    VisitSummary
        ``summary`` with columns ``SUMMARY_COLUMNS``; ``method`` for the footnote. SE and the t-based CI
        (mean +/- t(1-alpha/2, n-1) * SD/sqrt(n), as R ``t.test``) are computed here from n, mean and SD
        (NaN when n < 2).
    """
    check_conf_level("summary_from_aggregates", conf_level)
    data = agg[(agg["n"] > 0) & agg["visit_num"].notna()].copy()
    data["group"] = data["group"].fillna(POOLED_LABEL).astype(str)
    data["visit_num"] = data["visit_num"].astype(int)
    data["n"] = data["n"].astype(int)
    n = data["n"].to_numpy(float)
    small = n < 2
    data["sd"] = np.where(small, np.nan, data["sd"].to_numpy(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        data["se"] = np.where(small, np.nan, data["sd"] / np.sqrt(n))
        half = np.where(small, np.nan, stats.t.ppf((1 + conf_level) / 2, np.maximum(n - 1, 1)) * data["se"])
    data["ci_lower"], data["ci_upper"] = data["mean"] - half, data["mean"] + half
    order = _group_order(data, groups)
    data = data[data["group"].isin(order)]
    data = data.sort_values(["group", "visit_num"], key=lambda c: c.map({g: i for i, g in enumerate(order)})
                            if c.name == "group" else c, kind="stable")
    summary = data[list(SUMMARY_COLUMNS)].reset_index(drop=True)
    return VisitSummary(summary=summary, value_col=value_col, conf_level=conf_level,
                        method=_summary_method(value_col, conf_level))


# ---------------------------------------------------------------------------------------------------

# The date that ends each exit status; a lost patient left on the day of last contact (an exited patient
# without their own date too: it is the last day they are known to have been in the study).
EXIT_DATE_COLUMNS = {"died": "death_on", "transplanted": "transplant_on", "withdrawn": "withdrawn_on",
                     "lost to follow-up": "last_contact_on"}


def deaths_between_visits(subjects_df: pd.DataFrame, visits_df: pd.DataFrame, *,
                          group_col: str | None, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Deaths, transplants, withdrawals and losses to follow-up between consecutive scheduled visits.

    ``subjects_df`` holds the selected patients (or only those who left, as ``TrialView.subject_exits``
    gives them) with ``status`` and ``exit_day`` (the exit date's study day, ``queries.exit_day_sql``);
    ``groups`` lists the groups to report, in order (default: order of first appearance), so a group nobody
    left still gets its zero rows.

    Returns
    -------
    DataFrame
        Columns ``group``, ``interval``, ``from_visit``, ``to_visit``, ``from_day``, ``to_day``,
        ``died``, ``transplanted``, ``withdrawn``, ``lost_to_follow_up``, ``total``; one row per
        group and interval, zero rows included. Intervals are (from_day, to_day]: an exit on a
        visit's target day counts before that visit. Exits on or before the first visit's target day
        fall in ("", first]; after the last visit in (last, "") with ``to_visit`` "".
    """
    func = "deaths_between_visits"
    require_columns(func, subjects_df, ("usubjid", "status", "exit_day"), arg="subjects_df")
    require_columns(func, visits_df, ("visit", "visit_num", "target_day"), arg="visits_df")
    check_group_col(func, subjects_df, group_col, arg="subjects_df")
    allowed = set(EXIT_STATUSES) | set(NON_EXIT_STATUSES)
    bad = sorted(set(subjects_df["status"].dropna()) - allowed)
    if bad:
        raise ValueError(f"{func}: subjects_df.status has {bad}; allowed: {sorted(allowed)}.")
    subj = with_group(subjects_df, group_col)
    exits = subj[subj["status"].isin(list(EXIT_STATUSES))]
    if exits["exit_day"].isna().any():
        ids = exits.loc[exits["exit_day"].isna(), "usubjid"].tolist()[:5]
        raise ValueError(f"{func}: subjects_df.exit_day is missing for exited patients {ids}; "
                         "every died/transplanted/withdrawn/lost row needs its study day.")
    # Imported schedules can list unscheduled visits out of day order (the CDISC pilot's RETRIEVAL,
    # day 168, follows WEEK 26, day 182): intervals follow the target days, one visit per day.
    vis = visits_df.sort_values(["target_day", "visit_num"]).drop_duplicates("target_day")
    days = vis["target_day"].to_numpy(float)
    names = vis["visit"].astype(str).tolist()
    edges = [-np.inf, *days, np.inf]
    from_v, to_v = ["", *names], [*names, ""]
    labels = [f"{f or 'start'} - {t or 'end'}" for f, t in zip(from_v, to_v)]
    # right=True gives (lo, hi] bins: exit on a target day belongs to the interval ending there.
    idx = pd.cut(exits["exit_day"].astype(float), bins=edges, right=True, labels=False)
    exits = exits.assign(interval=idx.astype(int), kind=exits["status"].map(EXIT_STATUSES))
    kinds = list(EXIT_STATUSES.values())
    order = list(pd.unique(subj["group"])) if groups is None else list(groups)
    grid = pd.MultiIndex.from_product([order, range(len(labels)), kinds],
                                      names=["group", "interval", "kind"])
    counts = exits.groupby(["group", "interval", "kind"]).size().reindex(grid, fill_value=0)
    # unstack sorts the groups by name; keep their given order.
    rows = pd.MultiIndex.from_product([order, range(len(labels))], names=["group", "interval"])
    out = counts.unstack("kind")[kinds].reindex(rows).reset_index()
    out["total"] = out[kinds].sum(axis=1)
    i = out["interval"].to_numpy()
    out["from_visit"] = [from_v[k] for k in i]
    out["to_visit"] = [to_v[k] for k in i]
    out["from_day"] = [edges[k] for k in i]
    out["to_day"] = [edges[k + 1] for k in i]
    out["interval"] = [labels[k] for k in i]
    out.columns.name = None
    return out[["group", "interval", "from_visit", "to_visit", "from_day", "to_day", *kinds, "total"]]
