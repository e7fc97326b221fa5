"""Oracle of ``dashboard.domain.ascites``: grade distribution, depth/volume, free of ascites, shifts, time to
resolution and Sankey links from ascites rows, and the views that keep the dead (population per visit,
shift and Sankey with absorbing states, cumulative incidence of resolution).

Input rows: ``usubjid``, ``visit``, ``visit_num``, ``study_day``, ``grade`` (ICA 0 none, 1 mild, 2 moderate,
3 severe), ``depth_cm``, ``volume_ml`` and an optional group column; the views that keep the dead also take
the selected patients (``usubjid``, ``status``, ``day1_on``, ``exit_day`` as ``tests.oracle.labstats.add_exit_day``
gives it, the group column), the visit schedule and the data cut date. Each function counts what
``data.ascites_aggregates`` counts in SQL and hands it to the domain module's tail
(``distribution_from_counts``' ``_distribution``, ``_shift_table``, ``resolution_km_from_times``, ``_links``,
``visit_population_from_counts``, ``state_shift_from_counts``, ``resolution_cif_from_times``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dashboard.domain.ascites import (
    EXIT_STATES,
    GRADE_COUNT_COLUMNS,
    GRADES,
    MEASURES,
    NOT_ASSESSED,
    NOT_DUE,
    SHIFT_COLUMNS,
    SHIFT_VISITS,
    FreeOfAscites,
    ResolutionCIF,
    _check_transition_visits,
    _distribution,
    _links,
    _shift_table,
    free_from_distribution,
    resolution_cif_from_times,
    resolution_km_from_times,
    state_shift_from_counts,
    visit_population_from_counts,
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


def resolution_times(df: pd.DataFrame, exits: pd.DataFrame | None = None, *,
                     group_col: str | None = None) -> pd.DataFrame:
    """Time to resolution (first grade-0 assessment) for patients with ascites at baseline.

    Parameters
    ----------
    df : DataFrame
        Ascites rows with ``usubjid``, ``visit_num``, ``study_day``, ``grade``.
    exits : DataFrame, optional
        The patients' ``usubjid``, ``status`` and ``exit_day`` (the day the patient left the study: death,
        transplant, withdrawal; NaN if still in), as ``tests.oracle.labstats.add_exit_day`` gives them.
        Assessments after the exit day are ignored: ascites gone after a transplant is surgery, not resolution.
    group_col : str or None
        Arm column; None pools under ``POOLED_LABEL``.

    Returns
    -------
    DataFrame
        Columns ``usubjid``, ``time_days``, ``event``, ``status``, ``exit_day``, ``group``; ``time_days`` is
        the study day of the first post-baseline grade-0 assessment (``event`` 1), else of the last
        post-baseline assessment (``event`` 0, censored; patients with no post-baseline assessment are
        censored at their baseline day). Patients with grade 0 or no baseline assessment are not at risk
        and left out. ``status`` and ``exit_day`` are None/NaN without ``exits``.
    """
    func = "resolution_times"
    require_columns(func, df, ("usubjid", "visit_num", "study_day", "grade"))
    check_group_col(func, df, group_col)
    data = with_group(df, group_col).dropna(subset=["grade", "study_day"])
    if exits is None:
        exits = pd.DataFrame({"usubjid": pd.Series(dtype=object), "status": pd.Series(dtype=object),
                              "exit_day": pd.Series(dtype=float)})
    require_columns(func, exits, ("usubjid", "status", "exit_day"), arg="exits")
    exit_of = exits.set_index("usubjid")
    limit = data["usubjid"].map(exit_of["exit_day"])
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
    out["status"] = out.index.map(exit_of["status"])
    out["exit_day"] = out.index.map(exit_of["exit_day"]).astype(float)
    return out.reset_index()[["usubjid", "time_days", "event", "status", "exit_day", "group"]]


def resolution_km(df: pd.DataFrame, exits: pd.DataFrame | None = None, *,
                  group_col: str | None = None, groups: Sequence[str] | None = None,
                  conf_level: float = 0.95) -> KMResult:
    """Kaplan-Meier of time to resolution among patients with ascites at baseline.

    The curve is the probability of still having ascites; times and censoring come from
    :func:`resolution_times` (assessments after the exit days ignored), the estimate from
    ``resolution_km_from_times``.
    """
    return resolution_km_from_times(resolution_times(df, exits, group_col=group_col), groups=groups,
                                    conf_level=conf_level)


def resolution_cif(df: pd.DataFrame, exits: pd.DataFrame, *, group_col: str | None = None,
                   groups: Sequence[str] | None = None, days: Mapping[str, float] | None = None) -> ResolutionCIF:
    """Cumulative incidence of resolution with death and transplant competing, from :func:`resolution_times`."""
    return resolution_cif_from_times(resolution_times(df, exits, group_col=group_col), groups=groups, days=days)


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
        pair = pd.DataFrame({"group": patient_group, "source_state": wide[a], "target_state": wide[b]}).dropna()
        c = pair.astype({"source_state": int, "target_state": int}).groupby(
            ["group", "source_state", "target_state"]).size().rename("count").reset_index()
        parts.append(c.assign(pair=i, source_visit=a, target_visit=b))
    return _links(pd.concat(parts, ignore_index=True), _group_order(data, groups))


# --- The views that keep the dead -----------------------------------------------------------------------


def visit_states(df: pd.DataFrame, subjects: pd.DataFrame, schedule: pd.DataFrame, cut_date, *,
                 group_col: str | None = None, visits: Sequence[str] | None = None, kept: bool = True,
                 due_first: bool = False) -> pd.DataFrame:
    """Each selected patient's state at each visit, by ``dashboard.domain.ascites.VISIT_STATE_RULE`` (with
    ``due_first``, not yet due for everyone whose window closes after the cut, as the shift table counts).

    Parameters
    ----------
    df : DataFrame
        Ascites rows (``usubjid``, ``visit_num``, ``study_day``, ``grade``).
    subjects : DataFrame
        The selected patients: ``usubjid``, ``status``, ``day1_on``, ``exit_day`` (``add_exit_day``) and the
        group column.
    schedule : DataFrame
        The visits table: ``visit``, ``visit_num``, ``target_day``, ``window_hi``.
    cut_date : date
        The data cut; a visit whose window closes after it (counted from the patient's day 1) is not yet due.
    visits : sequence of str, optional
        Visit labels, in the order wanted (``pos`` 1, 2, ...); every scheduled visit when None.
    kept : bool
        Count only assessments on or before the exit day (the shift and Sankey that keep the dead); False
        counts every assessment (who the by-visit summaries count).

    Returns
    -------
    DataFrame
        ``usubjid``, ``group``, ``pos``, ``visit``, ``visit_num``, ``state``: one row per patient and visit.
    """
    func = "visit_states"
    require_columns(func, subjects, ("usubjid", "status", "day1_on", "exit_day"), arg="subjects")
    require_columns(func, schedule, ("visit", "visit_num", "target_day", "window_hi"), arg="schedule")
    subj = with_group(subjects, group_col)
    sched = schedule.sort_values("visit_num")
    if visits is not None:
        sched = sched[sched["visit"].isin(visits)].assign(pos=lambda v: v["visit"].map(
            {label: i + 1 for i, label in enumerate(visits)}))
    else:
        sched = sched.assign(pos=np.arange(1, len(sched) + 1))
    rows = df.dropna(subset=["grade"]).merge(subj[["usubjid", "exit_day"]], on="usubjid")
    if kept:
        rows = rows[rows["exit_day"].isna() | (rows["study_day"] <= rows["exit_day"])]
    first = (rows.sort_values(["study_day", "grade"], kind="stable").drop_duplicates(["usubjid", "visit_num"])
             [["usubjid", "visit_num", "grade"]])
    grid = subj[["usubjid", "group", "status", "day1_on", "exit_day"]].merge(
        sched[["pos", "visit", "visit_num", "target_day", "window_hi"]], how="cross")
    grid = grid.merge(first, on=["usubjid", "visit_num"], how="left")
    cut_day = (pd.Timestamp(cut_date) - pd.to_datetime(grid["day1_on"])).dt.days + 1
    state = np.where(grid["grade"].notna(), grid["grade"],
                     np.where(grid["exit_day"] <= grid["target_day"], grid["status"].map(EXIT_STATES),
                              np.where(cut_day < grid["window_hi"], NOT_DUE, NOT_ASSESSED)))
    if due_first:
        state = np.where(cut_day < grid["window_hi"], NOT_DUE, state)
    return grid.assign(state=state.astype(int))[["usubjid", "group", "pos", "visit", "visit_num", "state"]]


def visit_state_counts(df: pd.DataFrame, subjects: pd.DataFrame, schedule: pd.DataFrame, cut_date, *,
                       group_col: str | None = None) -> pd.DataFrame:
    """``ascites_aggregates.ascites_visit_states`` from rows: patients per group, visit and state (every
    assessment counts)."""
    states = visit_states(df, subjects, schedule, cut_date, group_col=group_col, kept=False)
    return states.groupby(["group", "visit_num", "visit", "state"]).size().rename("patients").reset_index()


def visit_population(df: pd.DataFrame, subjects: pd.DataFrame, schedule: pd.DataFrame, cut_date, *,
                     group_col: str | None = None, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Who each visit's by-visit summaries count, per group and visit."""
    return visit_population_from_counts(visit_state_counts(df, subjects, schedule, cut_date, group_col=group_col),
                                        groups=groups)


def state_shift_counts(df: pd.DataFrame, subjects: pd.DataFrame, schedule: pd.DataFrame, cut_date, *,
                       visits: Sequence[str], group_col: str | None = None) -> pd.DataFrame:
    """``ascites_aggregates.ascites_state_shift_counts`` from rows: patients per group, visit, baseline grade
    (the last visit_num 0 grade by (study day, grade), as :func:`grade_shift`) and state."""
    states = visit_states(df, subjects, schedule, cut_date, group_col=group_col, visits=visits, due_first=True)
    graded = df.dropna(subset=["grade"])
    base = (graded[graded["visit_num"] == 0].sort_values(["study_day", "grade"], kind="stable")
            .drop_duplicates("usubjid", keep="last").set_index("usubjid")["grade"])
    return (states.assign(base=states["usubjid"].map(base))
            .groupby(["group", "visit", "base", "state"], dropna=False).size().rename("patients").reset_index())


def state_shift(df: pd.DataFrame, subjects: pd.DataFrame, schedule: pd.DataFrame, cut_date, *,
                visits: Sequence[str], group_col: str | None = None,
                groups: Sequence[str] | None = None) -> pd.DataFrame:
    """The shift table with death and transplant as absorbing states."""
    counts = state_shift_counts(df, subjects, schedule, cut_date, visits=visits, group_col=group_col)
    return state_shift_from_counts(counts, visits=visits, groups=groups)


def state_transition_counts(df: pd.DataFrame, subjects: pd.DataFrame, schedule: pd.DataFrame, cut_date, *,
                            visits: Sequence[str], group_col: str | None = None) -> pd.DataFrame:
    """``ascites_aggregates.ascites_state_transition_counts`` from rows: every selected patient's pair of
    states between consecutive ``visits``, counted per group."""
    _check_transition_visits("state_transition_counts", visits)
    states = visit_states(df, subjects, schedule, cut_date, group_col=group_col, visits=visits)
    wide = states.pivot(index=["usubjid", "group"], columns="pos", values="state").reset_index()
    parts = []
    for i, (a, b) in enumerate(zip(visits[:-1], visits[1:])):
        c = (wide.rename(columns={i + 1: "source_state", i + 2: "target_state"})
             .groupby(["group", "source_state", "target_state"]).size().rename("count").reset_index())
        parts.append(c.assign(pair=i, source_visit=a, target_visit=b))
    return pd.concat(parts, ignore_index=True)


def state_transitions(df: pd.DataFrame, subjects: pd.DataFrame, schedule: pd.DataFrame, cut_date, *,
                      visits: Sequence[str], group_col: str | None = None,
                      groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Sankey links with every selected patient in a state at every chosen visit (the dead kept)."""
    counts = state_transition_counts(df, subjects, schedule, cut_date, visits=visits, group_col=group_col)
    return _links(counts, _group_order(with_group(subjects, group_col), groups))
