"""Oracle of ``dashboard.domain.ascites``: grade distribution, depth/volume, free of ascites, shifts, time to
resolution and Sankey links from ascites rows.

Input rows: ``usubjid``, ``visit``, ``visit_num``, ``study_day``, ``grade`` (ICA 0 none, 1 mild, 2 moderate,
3 severe), ``depth_cm``, ``volume_ml`` and an optional group column. Each function counts what
``data.ascites_aggregates`` counts in SQL and hands it to the domain module's tail
(``distribution_from_counts``' ``_distribution``, ``_shift_table``, ``resolution_km_from_times``, ``_links``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dashboard.domain.ascites import (
    GRADE_COUNT_COLUMNS,
    GRADES,
    MEASURES,
    SHIFT_COLUMNS,
    SHIFT_VISITS,
    FreeOfAscites,
    _check_transition_visits,
    _distribution,
    _links,
    _shift_table,
    free_from_distribution,
    resolution_km_from_times,
)
from dashboard.domain.checks import check_conf_level, check_group_col, require_columns
from dashboard.domain.labstats import (
    VisitSummary,
    _group_order,
    with_group,
)
from dashboard.domain.survival import KMResult
from tests.oracle.labstats import _visit_labels, summarise_by_visit

REQUIRED = ("usubjid", "visit", "visit_num", "grade")


def _check(func: str, df: pd.DataFrame, group_col: str | None) -> None:
    require_columns(func, df, REQUIRED)
    check_group_col(func, df, group_col)
    bad = sorted(set(df["grade"].dropna().astype(int)) - set(GRADES))
    if bad:
        raise ValueError(f"{func}: df.grade has {bad}; allowed grades: {list(GRADES)}.")


def grade_distribution(df: pd.DataFrame, *, group_col: str | None = None,
                       groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Counts and percentages of each grade per group and visit.

    Returns
    -------
    DataFrame
        Columns ``group``, ``visit_num``, ``visit``, ``grade``, ``grade_label``, ``count``, ``n``
        (patients assessed at that visit), ``pct`` (100 * count / n); all four grades per group and
        visit, zeros included, so stacked bars always sum to 100.
    """
    _check("grade_distribution", df, group_col)
    data = with_group(df, group_col).dropna(subset=["grade", "visit_num"])
    labels = _visit_labels(data)
    data = data.assign(visit_num=data["visit_num"].astype(int), grade=data["grade"].astype(int))
    counts = (data.groupby(["group", "visit_num"])["grade"].value_counts().unstack(fill_value=0)
              .reindex(columns=list(GRADES), fill_value=0))
    counts.columns = list(GRADE_COUNT_COLUMNS)
    counts = counts.reset_index()
    counts["n"] = counts[list(GRADE_COUNT_COLUMNS)].sum(axis=1)
    counts["visit"] = counts["visit_num"].map(labels)
    return _distribution(counts, _group_order(data, groups))


def measure_by_visit(df: pd.DataFrame, *, measure: str = "depth_cm", group_col: str | None = None,
                     groups: Sequence[str] | None = None, conf_level: float = 0.95) -> VisitSummary:
    """Mean (t CI), median and IQR of ``depth_cm`` or ``volume_ml`` by visit: see summarise_by_visit."""
    if measure not in MEASURES:
        raise ValueError(f"measure_by_visit: measure must be one of {list(MEASURES)}, got {measure!r}.")
    return summarise_by_visit(df, value_col=measure, group_col=group_col, groups=groups,
                              conf_level=conf_level)


def free_of_ascites(df: pd.DataFrame, *, group_col: str | None = None, groups: Sequence[str] | None = None,
                    conf_level: float = 0.95) -> FreeOfAscites:
    """Proportion of assessed patients with grade 0, with the exact Clopper-Pearson CI.

    Notes
    -----
    Clopper-Pearson limits from beta quantiles: lower = Beta(a/2; x, n-x+1), upper =
    Beta(1-a/2; x+1, n-x), with lower 0 when x = 0 and upper 1 when x = n; identical to R
    ``binom.test(x, n)$conf.int`` and scipy ``binomtest(...).proportion_ci(method="exact")``.
    """
    func = "free_of_ascites"
    _check(func, df, group_col)
    check_conf_level(func, conf_level)
    return free_from_distribution(grade_distribution(df, group_col=group_col, groups=groups), conf_level=conf_level)


def _check_visits(func: str, visits: Sequence[str], known: set[str]) -> None:
    unknown = [v for v in visits if v not in known]
    if unknown:
        raise ValueError(f"{func}: visits {unknown} not in df.visit; allowed: {sorted(known)}.")


def grade_shift(df: pd.DataFrame, *, group_col: str | None = None, groups: Sequence[str] | None = None,
                visits: Sequence[str] = SHIFT_VISITS) -> pd.DataFrame:
    """Grade at each chosen visit compared with baseline: improved (lower), stable, worsened (higher).

    Baseline is the patient's last visit_num 0 grade and a visit's grade its first, by study day (on a
    same-day tie the higher grade at baseline, the lower at a visit).

    Returns
    -------
    DataFrame
        Columns ``group``, ``visit``, ``n`` (patients with both a baseline and that visit),
        ``improved``, ``stable``, ``worsened``; one row per group and chosen visit in the given order.
    """
    func = "grade_shift"
    _check(func, df, group_col)
    _check_visits(func, visits, set(df["visit"].astype(str)))
    data = with_group(df, group_col).dropna(subset=["grade"])
    # Baseline: the last grade by study day; at a visit: the first. Same-day ties go to the higher grade
    # at baseline and the lower at a visit ((study_day, grade) order), as in SQL, whatever the row order.
    base = (data[data["visit_num"] == 0].sort_values(["study_day", "grade"], kind="stable")
            .drop_duplicates("usubjid", keep="last").set_index("usubjid")["grade"])
    data = data.assign(visit=data["visit"].astype(str))
    at = data[data["visit"].isin(visits)].sort_values(["study_day", "grade"], kind="stable").drop_duplicates(
        ["group", "visit", "usubjid"])
    b = at["usubjid"].map(base)
    d = np.sign(at["grade"] - b)
    counts = (at.assign(n=b.notna(), improved=d < 0, stable=d == 0, worsened=d > 0)
              .groupby(["group", "visit"])[list(SHIFT_COLUMNS[2:])].sum().reset_index())
    return _shift_table(counts, _group_order(data, groups), visits)


def resolution_times(df: pd.DataFrame, exit_days: Mapping[str, float] | pd.Series | None = None, *,
                     group_col: str | None = None) -> pd.DataFrame:
    """Time to resolution (first grade-0 assessment) for patients with ascites at baseline.

    Parameters
    ----------
    df : DataFrame
        Ascites rows with ``usubjid``, ``visit_num``, ``study_day``, ``grade``.
    exit_days : mapping or Series usubjid -> study day, optional
        Day the patient left the study (death, transplant, withdrawal). Assessments after it are
        ignored: ascites gone after a transplant is surgery, not resolution.
    group_col : str or None
        Arm column; None pools under ``POOLED_LABEL``.

    Returns
    -------
    DataFrame
        Columns ``usubjid``, ``time_days``, ``event``, ``group``; ``time_days`` is the study day of the
        first post-baseline grade-0 assessment (``event`` 1), else of the last post-baseline assessment
        (``event`` 0, censored; patients with no post-baseline assessment are censored at their
        baseline day). Patients with grade 0 or no baseline assessment are not at risk and left out.
    """
    func = "resolution_times"
    require_columns(func, df, ("usubjid", "visit_num", "study_day", "grade"))
    check_group_col(func, df, group_col)
    data = with_group(df, group_col).dropna(subset=["grade", "study_day"])
    if exit_days is not None:
        ex = pd.Series(exit_days, dtype=float)
        limit = data["usubjid"].map(ex)
        data = data[limit.isna() | (data["study_day"] <= limit)]
    data = data.sort_values(["usubjid", "study_day", "grade"], kind="stable")
    base = data[data["visit_num"] == 0].drop_duplicates("usubjid", keep="last")
    at_risk = base[base["grade"] > 0]
    post = data[(data["visit_num"] > 0) & data["usubjid"].isin(at_risk["usubjid"])]
    first_free = post[post["grade"] == 0].groupby("usubjid")["study_day"].min()
    last = post.groupby("usubjid")["study_day"].max()
    out = at_risk[["usubjid", "group", "study_day"]].set_index("usubjid")
    event = out.index.isin(first_free.index)
    out["time_days"] = np.where(event, first_free.reindex(out.index),
                                last.reindex(out.index).fillna(out["study_day"]))
    out["event"] = event.astype(int)
    return out.reset_index()[["usubjid", "time_days", "event", "group"]]


def resolution_km(df: pd.DataFrame, exit_days: Mapping[str, float] | pd.Series | None = None, *,
                  group_col: str | None = None, groups: Sequence[str] | None = None,
                  conf_level: float = 0.95) -> KMResult:
    """Kaplan-Meier of time to resolution among patients with ascites at baseline.

    The curve is the probability of still having ascites; times and censoring come from
    :func:`resolution_times` (assessments after ``exit_days`` ignored), the estimate from
    ``resolution_km_from_times``.
    """
    return resolution_km_from_times(resolution_times(df, exit_days, group_col=group_col), groups=groups,
                                    conf_level=conf_level)


def grade_transitions(df: pd.DataFrame, *, visits: Sequence[str], group_col: str | None = None,
                      groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Links for a Sankey: patients moving from each grade at one chosen visit to a grade at the next.

    Returns
    -------
    DataFrame
        Columns ``group``, ``source_visit``, ``source_grade``, ``target_visit``, ``target_grade``,
        ``source`` and ``target`` (node labels "W4: mild"), ``count`` > 0. Only patients assessed at
        both visits of a pair contribute (a visit's grade is its first row's); with ``group_col`` set,
        one set of links per group, in the order of ``groups`` (default: order of first appearance).
    """
    func = "grade_transitions"
    _check(func, df, group_col)
    _check_transition_visits(func, visits)
    _check_visits(func, visits, set(df["visit"].astype(str)))
    data = with_group(df, group_col).dropna(subset=["grade"])
    wide = (data[data["visit"].astype(str).isin(visits)].sort_values(["study_day", "grade"], kind="stable")
            .drop_duplicates(["usubjid", "visit"])
            .pivot(index="usubjid", columns="visit", values="grade"))
    # Not named ``groups``: that argument still gives the display order below.
    patient_group = data.drop_duplicates("usubjid").set_index("usubjid")["group"].reindex(wide.index)
    parts = []
    for i, (a, b) in enumerate(zip(visits[:-1], visits[1:])):
        pair = pd.DataFrame({"group": patient_group, "source_grade": wide[a], "target_grade": wide[b]}).dropna()
        c = pair.astype({"source_grade": int, "target_grade": int}).groupby(
            ["group", "source_grade", "target_grade"]).size().rename("count").reset_index()
        parts.append(c.assign(pair=i, source_visit=a, target_visit=b))
    return _links(pd.concat(parts, ignore_index=True), _group_order(data, groups))
