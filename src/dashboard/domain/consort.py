"""Domain layer: the CONSORT flow by arm and enrolment against plan by site and month (DSMB report, issue 16).

Both start from the counts of :mod:`dashboard.data.report_queries` (``consort_counts``, ``enrolment_counts``);
the ``*_display`` functions write the publication tables (:mod:`dashboard.domain.report_format`).
Screening is not recorded in this data model (DESIGN §3 has no screening table), so the flow starts at
randomisation and says so; it never invents a number screened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import require_columns
from dashboard.domain.report_format import (
    MISSING,
    TOTAL_LABEL,
    fmt_count,
    fmt_month,
    fmt_n_pct,
    fmt_number,
    group_columns,
)

# Result column -> subjects.status counted in it (schema.SUBJECT_STATUSES).
STATUS_COUNTS: dict[str, str] = {"completed": "completed", "died": "died", "transplanted": "transplanted",
                                 "withdrawn": "withdrawn", "lost": "lost to follow-up", "on_study": "on study"}
SCREENING_NOTE = "Not recorded: the trial data hold no screening log, so the number screened is unknown."
# (stage, label) in flow order; infusion stages follow the schedule (visits.INFUSION_DAYS).
STAGES: tuple[tuple[str, str], ...] = (
    ("screened", "Screened"),
    ("randomised", "Randomised"),
    ("infusion_1", "Received infusion 1 (week 0)"),
    ("infusion_2", "Received infusion 2 (week 4)"),
    ("infusion_3", "Received infusion 3 (week 8)"),
    ("completed", "Completed follow-up"),
    ("died", "Died"),
    ("transplanted", "Liver transplant"),
    ("withdrawn", "Withdrawn"),
    ("lost", "Lost to follow-up"),
    ("on_study", "Still in follow-up at the data cut"),
)
CONSORT_COLUMNS = ("stage", "label", "group", "n", "pct", "note")
# Average Gregorian month, as overview.enrolment_progress draws the plan.
DAYS_PER_MONTH = 30.4375
ALL_SITES = "All sites"
ENROLMENT_COLUMNS = ("site_id", "month", "n", "cumulative", "planned_cumulative", "difference")


def label_groups(counts: pd.DataFrame) -> pd.Series:
    """The group label of each row of a report query: the arm, ``Total`` where ``total``, ``All patients``
    where the group is NULL (pooled)."""
    total = counts["total"].astype(bool) if "total" in counts.columns else pd.Series(False, index=counts.index)
    group = counts["group"].astype(object).where(counts["group"].notna(), POOLED_LABEL)
    return group.where(~total, TOTAL_LABEL).astype(str)


def display_order(groups: Sequence[str] | None) -> list[str]:
    """Arms in study order then ``Total``; ``[All patients]`` when pooled (``groups`` None or empty)."""
    return group_columns(list(groups) if groups else [POOLED_LABEL])


def consort_flow(counts: pd.DataFrame, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """The CONSORT flow: per stage and group, patients ``n`` and ``pct`` of those randomised in the group.

    Parameters
    ----------
    counts : DataFrame
        ``report_queries.consort_counts``: per group (``group`` NULL when pooled; ``total`` True for the row
        over arms) ``randomised``, ``infusion_1`` .. ``infusion_3`` and the ``STATUS_COUNTS`` columns.
    groups : sequence of str, optional
        The arms in study order (active first, control last); None or empty when pooled.

    Returns
    -------
    DataFrame
        ``CONSORT_COLUMNS``, stages in ``STAGES`` order, groups in display order (arms, ``Total``; or
        ``All patients``). ``screened`` has no number (NaN) and its ``note`` says why; every group listed gets
        every stage (zeros included). ``attrs["note"]`` repeats the screening note.
    """
    require_columns("consort_flow", counts, ("group", "randomised", *(s for s, _ in STAGES[2:])))
    by_group = counts.assign(label=label_groups(counts)).set_index("label")
    rows = []
    for group in display_order(groups):
        row = by_group.loc[group] if group in by_group.index else None
        randomised = int(row["randomised"]) if row is not None else 0
        for stage, label in STAGES:
            if stage == "screened":
                rows.append((stage, label, group, np.nan, np.nan, SCREENING_NOTE))
                continue
            n = int(row[stage]) if row is not None else 0
            pct = 100.0 * n / randomised if randomised else np.nan
            rows.append((stage, label, group, n, pct, ""))
    out = pd.DataFrame(rows, columns=list(CONSORT_COLUMNS))
    out.attrs["note"] = SCREENING_NOTE
    return out


def consort_display(flow: pd.DataFrame) -> pd.DataFrame:
    """The publication CONSORT table: one row per stage (column ``Stage``), one column per group holding
    ``n (x.x%)`` of those randomised (``n`` alone for Randomised), "Not recorded" for Screened."""
    require_columns("consort_display", flow, CONSORT_COLUMNS)
    groups = list(dict.fromkeys(flow["group"]))
    table = {"Stage": [label for _, label in STAGES if label in set(flow["label"])]}
    for group in groups:
        part = flow[flow["group"] == group].set_index("stage")
        randomised = part.loc["randomised", "n"]
        cells = []
        for stage, _ in STAGES:
            if stage not in part.index:
                continue
            n = part.loc[stage, "n"]
            if stage == "screened":
                cells.append("Not recorded")
            elif stage == "randomised":
                cells.append(fmt_count(n))
            else:
                cells.append(fmt_n_pct(n, randomised))
        table[f"{group}, n (%)"] = cells
    out = pd.DataFrame(table)
    out.attrs["note"] = f"Percentages of patients randomised. {SCREENING_NOTE}"
    return out


def _month_ends(months: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return months + pd.offsets.MonthEnd(0)


def planned_cumulative(on: pd.Series | pd.DatetimeIndex, *, planned_n: int, start: date,
                       months: float) -> np.ndarray:
    """Patients planned to be randomised by each date of ``on``: the linear plan from 0 at ``start`` to
    ``planned_n`` at ``start + round(months x 30.4375)`` days (the line /overview draws), flat after it."""
    days = round(months * DAYS_PER_MONTH)
    if planned_n < 1 or days <= 0:
        raise ValueError(f"planned_cumulative: arguments planned_n={planned_n!r} and months={months!r}; allowed "
                         "values: planned_n >= 1 and months > 0.")
    elapsed = (pd.DatetimeIndex(on) - pd.Timestamp(start)).days.to_numpy(dtype=float)
    return planned_n * np.clip(elapsed / days, 0.0, 1.0)


def enrolment_against_plan(counts: pd.DataFrame, *, planned_n: int | None, start: date | None,
                           months: float | None, cut_date: date, sites: Sequence[str] | None = None) -> pd.DataFrame:
    """Patients randomised per site and calendar month, cumulative, against the linear plan.

    Parameters
    ----------
    counts : DataFrame
        ``report_queries.enrolment_counts``: ``site_id``, ``month`` (first day), ``n``.
    planned_n, start, months : the study's plan (``study.planned_n``, ``enrolment_start``,
        ``enrolment_months``); without ``start`` or ``months`` there is no plan (NaN, ``attrs["note"]`` says so).
    cut_date : the data cut: months run from the first of (plan start, first randomisation) to its month.
    sites : the sites to list (default those in ``counts``), each with every month, zeros included.

    Returns
    -------
    DataFrame
        ``ENROLMENT_COLUMNS``: one row per site and month, then ``All sites`` per month; ``cumulative`` runs
        per site; ``planned_cumulative`` (at the month's last day, not rounded) and ``difference``
        (cumulative - planned) on the ``All sites`` rows only (the plan is for the trial, not per site).
    """
    require_columns("enrolment_against_plan", counts, ("site_id", "month", "n"))
    has_plan = start is not None and not pd.isna(start) and months is not None and not pd.isna(months) \
        and planned_n is not None and months > 0
    firsts = [pd.Timestamp(cut_date).to_period("M")]
    if len(counts):
        firsts.append(pd.to_datetime(counts["month"]).min().to_period("M"))
    if has_plan:
        firsts.append(pd.Timestamp(start).to_period("M"))
    last = max([pd.Timestamp(cut_date).to_period("M")]
               + ([pd.to_datetime(counts["month"]).max().to_period("M")] if len(counts) else []))
    month_index = pd.period_range(min(firsts), last, freq="M").to_timestamp()
    site_list = list(sites) if sites is not None else sorted(counts["site_id"].astype(str).unique())
    c = counts.assign(month=pd.to_datetime(counts["month"]), site_id=counts["site_id"].astype(str))
    grid = (c.groupby(["site_id", "month"])["n"].sum()
            .reindex(pd.MultiIndex.from_product([site_list, month_index], names=["site_id", "month"]), fill_value=0)
            .reset_index())
    grid["n"] = grid["n"].astype(int)
    grid["cumulative"] = grid.groupby("site_id")["n"].cumsum()
    total = grid.groupby("month", as_index=False)["n"].sum()
    total["site_id"] = ALL_SITES
    total["cumulative"] = total["n"].cumsum()
    out = pd.concat([grid, total], ignore_index=True)
    out["planned_cumulative"] = np.nan
    is_all = out["site_id"] == ALL_SITES
    if has_plan:
        out.loc[is_all, "planned_cumulative"] = planned_cumulative(
            _month_ends(pd.DatetimeIndex(out.loc[is_all, "month"])), planned_n=int(planned_n), start=start,
            months=float(months))
    out["difference"] = out["cumulative"] - out["planned_cumulative"]
    out = out[list(ENROLMENT_COLUMNS)]
    out.attrs["note"] = (f"Plan: {planned_n} patients randomised at a constant rate from {pd.Timestamp(start).date()} "
                         f"over {months:.1f} months." if has_plan else
                         "No enrolment plan in the data (study.enrolment_start or enrolment_months missing).")
    return out


def enrolment_display(enrolment: pd.DataFrame) -> pd.DataFrame:
    """The publication enrolment table: one row per month (``Month``), patients randomised per site and in
    total, cumulative, planned cumulative (whole patients) and the difference."""
    require_columns("enrolment_display", enrolment, ENROLMENT_COLUMNS)
    wide = enrolment.pivot(index="month", columns="site_id", values="n")
    sites = [s for s in dict.fromkeys(enrolment["site_id"]) if s != ALL_SITES]
    totals = enrolment[enrolment["site_id"] == ALL_SITES].set_index("month")
    table: dict[str, list] = {"Month": [fmt_month(m) for m in wide.index]}
    for site in sites:
        table[f"Site {site}, n"] = [fmt_count(v) for v in wide[site]]
    table["All sites, n"] = [fmt_count(v) for v in totals["n"]]
    table["Cumulative, n"] = [fmt_count(v) for v in totals["cumulative"]]
    table["Planned cumulative, n"] = [fmt_number(v, 0) for v in totals["planned_cumulative"]]
    table["Cumulative − planned, n"] = [MISSING if pd.isna(v) else f"{v:+.0f}" for v in totals["difference"]]
    out = pd.DataFrame(table)
    out.attrs["note"] = enrolment.attrs.get("note", "")
    return out
