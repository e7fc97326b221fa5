"""Domain layer: ascites by visit (grade distribution, free of ascites, shifts, time to resolution, Sankey).

From aggregates of the assessments (``grade``: ICA 0 none, 1 mild, 2 moderate, 3 severe) computed in DuckDB
by ``dashboard.data.ascites_aggregates``: ``distribution_from_counts``, ``grade_shift_from_counts``,
``transitions_from_counts``, ``resolution_km_from_times``; depth and volume by visit are
``labstats.summary_from_aggregates``. As everywhere, a pooled result has the one group ``POOLED_LABEL``
(DESIGN §4); baseline is visit_num 0. The pandas versions on assessment rows are the test oracle
``tests.oracle.ascites``; they compute the same aggregates and hand them to the same tails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import check_conf_level, require_columns
from dashboard.domain.labstats import _group_order
from dashboard.domain.survival import KMResult, km_estimate

GRADES = (0, 1, 2, 3)
GRADE_LABELS = {0: "none", 1: "mild", 2: "moderate", 3: "severe"}
SHIFT_VISITS = ("W4", "W12", "W24", "W48")
MEASURES = ("depth_cm", "volume_ml")


@dataclass(frozen=True)
class FreeOfAscites:
    """Proportion with grade 0 per group and visit; ``summary`` columns group, visit_num, visit, n,
    n_free, proportion, ci_lower, ci_upper."""

    summary: pd.DataFrame
    conf_level: float
    method: str


GRADE_COUNT_COLUMNS = tuple(f"grade_{g}" for g in GRADES)
DISTRIBUTION_COLUMNS = ("group", "visit_num", "visit", "grade", "grade_label", "count", "n", "pct")


def distribution_from_counts(counts: pd.DataFrame, *, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Counts and percentages of each grade per group and visit, from counts computed in SQL.

    ``counts`` columns: ``group`` (None/NaN when pooled), ``visit_num``, ``visit``, ``n`` (patients
    assessed) and ``grade_0`` .. ``grade_3``; groups are ordered as ``groups`` lists them, else in order of
    first appearance.

    Returns
    -------
    DataFrame
        ``DISTRIBUTION_COLUMNS``: ``group``, ``visit_num``, ``visit``, ``grade``, ``grade_label``, ``count``,
        ``n`` (patients assessed at that visit), ``pct`` (100 * count / n); all four grades per group and
        visit, zeros included, so stacked bars always sum to 100.
    """
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    graded = data[list(GRADE_COUNT_COLUMNS)].sum(axis=1)
    if (graded != data["n"]).any():
        raise ValueError(f"distribution_from_counts: some assessments have a grade outside {list(GRADES)}.")
    return _distribution(data, _group_order(data, groups))


def _distribution(counts: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    rows = []
    for g in order:
        for r in counts[counts["group"] == g].sort_values("visit_num").to_dict("records"):
            n = int(r["n"])
            for grade, col in zip(GRADES, GRADE_COUNT_COLUMNS):
                c = int(r[col])
                rows.append(dict(group=g, visit_num=int(r["visit_num"]), visit=r["visit"], grade=grade,
                                 grade_label=GRADE_LABELS[grade], count=c, n=n, pct=100.0 * c / n))
    return pd.DataFrame(rows, columns=list(DISTRIBUTION_COLUMNS))


def free_from_distribution(dist: pd.DataFrame, *, conf_level: float = 0.95) -> FreeOfAscites:
    """Proportion of assessed patients with grade 0, with the exact Clopper-Pearson CI, from the grade
    distribution (:func:`distribution_from_counts`).

    Notes
    -----
    Clopper-Pearson limits from beta quantiles: lower = Beta(a/2; x, n-x+1), upper =
    Beta(1-a/2; x+1, n-x), with lower 0 when x = 0 and upper 1 when x = n; identical to R
    ``binom.test(x, n)$conf.int`` and scipy ``binomtest(...).proportion_ci(method="exact")``.
    """
    check_conf_level("free_from_distribution", conf_level)
    free = dist[dist["grade"] == 0].rename(columns={"count": "n_free"})
    x, n = free["n_free"].to_numpy(float), free["n"].to_numpy(float)
    a = 1 - conf_level
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, stats.beta.ppf(a / 2, x, n - x + 1), 0.0)
        upper = np.where(x < n, stats.beta.ppf(1 - a / 2, x + 1, n - x), 1.0)
    summary = free[["group", "visit_num", "visit", "n", "n_free"]].reset_index(drop=True)
    summary["proportion"] = x / n
    summary["ci_lower"], summary["ci_upper"] = lower, upper
    method = (f"Proportion free of ascites (ICA grade 0) among patients assessed at the visit; exact "
              f"Clopper-Pearson {conf_level:.0%} CI (as R binom.test).")
    return FreeOfAscites(summary=summary, conf_level=conf_level, method=method)


SHIFT_COLUMNS = ("group", "visit", "n", "improved", "stable", "worsened")
GRADE_SHIFT_COUNT_COLUMNS = ("group", "visit", "assessed", "n", "improved", "stable", "worsened")


def grade_shift_from_counts(counts: pd.DataFrame, *, groups: Sequence[str] | None = None,
                      visits: Sequence[str] = SHIFT_VISITS) -> pd.DataFrame:
    """Grade at each chosen visit compared with baseline: improved (lower), stable, worsened (higher), from
    counts computed in SQL.

    ``counts`` columns: ``group`` (None/NaN when pooled), ``visit``, ``assessed`` (patients with a grade
    at the visit), ``n`` (patients with both a baseline and that visit), ``improved``, ``stable``,
    ``worsened``, for every group and chosen visit; baseline is the patient's last visit_num 0 grade and a
    visit's grade its first, by study day. Groups are ordered as given, else as in ``counts``. A visit
    nobody was assessed at is refused.

    Returns
    -------
    DataFrame
        ``SHIFT_COLUMNS``, one row per group and chosen visit in the given order.
    """
    func = "grade_shift_from_counts"
    require_columns(func, counts, GRADE_SHIFT_COUNT_COLUMNS, arg="counts")
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str), visit=counts["visit"].astype(str))
    assessed = set(data.loc[data["assessed"] > 0, "visit"])
    unknown = [v for v in visits if v not in assessed]
    if unknown:
        raise ValueError(f"{func}: visits {unknown} have no assessment in counts; choose visits the selected "
                         "patients were assessed at.")
    return _shift_table(data, _group_order(data, groups), visits)


def _shift_table(counts: pd.DataFrame, order: Sequence[str], visits: Sequence[str]) -> pd.DataFrame:
    """One row per group of ``order`` and visit of ``visits``, zeros where ``counts`` has none."""
    cells = pd.MultiIndex.from_product([list(order), list(visits)], names=["group", "visit"])
    values = list(SHIFT_COLUMNS[2:])
    out = counts.set_index(["group", "visit"])[values].reindex(cells, fill_value=0).reset_index()
    return out.astype({c: "int64" for c in values})


def resolution_km_from_times(times: pd.DataFrame, *, groups: Sequence[str] | None = None,
                             conf_level: float = 0.95) -> KMResult:
    """Kaplan-Meier of time to resolution (first grade-0 assessment) among patients with ascites at baseline,
    from resolution times computed in SQL (``ascites_aggregates.ascites_resolution_times``).

    The curve is the probability of still having ascites. ``times`` columns: ``usubjid``, ``time_days``
    (first post-baseline grade-0 day, else the last post-baseline assessment before leaving the study),
    ``event``, ``group`` (None/NaN when pooled). Patients censored on or before day 0 (no post-baseline
    assessment, baseline taken before day 1) are never at risk at a positive time, so they are left out,
    which is what the Kaplan-Meier estimate does with them anyway. Raises ``InsufficientData`` when a group
    has nobody at risk.
    """
    require_columns("resolution_km_from_times", times, ("usubjid", "time_days", "event", "group"), arg="times")
    times = times[times["time_days"] > 0]
    times = times.assign(group=times["group"].fillna(POOLED_LABEL))
    km = km_estimate(times, group_col="group", groups=groups or None, conf_level=conf_level)
    method = ("Time to resolution (first assessment with ICA grade 0) among patients with ascites at "
              "baseline; censored at the last assessment before leaving the study. " + km.method)
    return replace(km, method=method)


TRANSITION_COLUMNS = ("group", "source_visit", "source_grade", "target_visit", "target_grade", "source", "target",
                      "count")
TRANSITION_COUNT_COLUMNS = ("group", "pair", "source_visit", "source_grade", "target_visit", "target_grade", "count")


def _check_transition_visits(func: str, visits: Sequence[str]) -> None:
    if len(visits) < 2:
        raise ValueError(f"{func}: visits needs at least two visit labels, got {list(visits)}.")


def transitions_from_counts(counts: pd.DataFrame, *, visits: Sequence[str],
                            groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Links for a Sankey: patients moving from each grade at one chosen visit to a grade at the next, from
    per-group, per-pair grade counts computed in SQL.

    ``counts`` columns: ``group`` (None/NaN when pooled), ``pair`` (0 for ``visits[0]`` -> ``visits[1]``,
    ...), ``source_visit``, ``source_grade``, ``target_visit``, ``target_grade``, ``count`` (patients
    assessed at both visits of the pair); groups are ordered as given, else as in ``counts``. The visits are
    not checked against the assessments (there are none here): a visit nobody attended just has no links.

    Returns
    -------
    DataFrame
        ``TRANSITION_COLUMNS``, with node labels ``source``/``target`` ("W4: mild"), by group, pair, source
        and target grade.
    """
    func = "transitions_from_counts"
    require_columns(func, counts, TRANSITION_COUNT_COLUMNS, arg="counts")
    _check_transition_visits(func, visits)
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    return _links(data, _group_order(data, groups))


def _links(counts: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Sankey links of ``order``'s groups: by group (the study's order, active first), pair, source and
    target grade, with the node labels."""
    rank = {g: i for i, g in enumerate(order)}
    out = counts[counts["group"].isin(order)].astype({"source_grade": "int64", "target_grade": "int64",
                                                      "count": "int64"})
    out = out.assign(_rank=out["group"].map(rank)).sort_values(
        ["_rank", "pair", "source_grade", "target_grade"], kind="stable").reset_index(drop=True)
    out["source"] = out["source_visit"] + ": " + out["source_grade"].map(GRADE_LABELS)
    out["target"] = out["target_visit"] + ": " + out["target_grade"].map(GRADE_LABELS)
    return out[list(TRANSITION_COLUMNS)]
