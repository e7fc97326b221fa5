"""Domain layer: exposure and compliance (DSMB report, issue 16): infusions received, missed and delayed, and
the dose received against the plan.

Protocol (DESIGN §1): 0.5 x 10^6 UC-MSC cells/kg (or 50 ml saline) i.v. at weeks 0, 4 and 8, i.e. on study
days 1, 29 and 57 (:data:`dashboard.domain.visits.INFUSION_DAYS`). The protocol documents here (DESIGN.md,
domain.md, docs/) give no window for an infusion; the visits at the same weeks (W4, W8) have windows of
+-3 days (26-32, 54-60, :data:`dashboard.domain.visits.VISITS`), so an infusion is on time within
``INFUSION_WINDOW_DAYS`` = 3 days of its day. Infusion 1 defines study day 1, so it is on time by definition.

Definitions (per patient and scheduled infusion):

- received: an ``infusions`` row with that ``infusion_num``;
- delayed: received more than 3 days before or after its day (``early`` / ``late``), days outside the window
  counted beyond the window's edge;
- not due: the patient left the study (died, transplanted, withdrawn, lost) on or before the scheduled day;
  the reason is the exit status;
- missed: still on study after the scheduled day, the window closed before the data cut, and no infusion;
  the data record no reason for a missed infusion;
- not yet due: on study but the window still open at the data cut.

The dose (``infusions.dose_cells_1e6``) reveals the arm (schema.ARM_REVEALING_COLUMNS): only a viewer who
sees arms gets :func:`dose_table`; pooled compliance tables never mention it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.domain.checks import require_columns
from dashboard.domain.consort import display_order, label_groups
from dashboard.domain.report_format import MISSING, fmt_count, fmt_n_pct, fmt_number
from dashboard.domain.visits import INFUSION_DAYS

INFUSION_WINDOW_DAYS = 3
PLANNED_DOSE_PER_KG = 0.5  # x 10^6 cells/kg, UC-MSC arm; the placebo arm's plan is 0 cells
DOSE_TOLERANCE = 0.10  # an infusion more than 10% of the planned UC-MSC dose from its arm's plan is off plan
MISSED_REASON_NOTE = "The data record no reason for a missed infusion."
LEFT_REASONS = {"left_died": "died", "left_transplanted": "transplanted", "left_withdrawn": "withdrew",
                "left_lost": "lost to follow-up"}
COMPLIANCE_COLUMNS = ("group", "infusion_num", "due_day", "patients", "due", "received", "pct_received", "on_time",
                      "early", "late", "delayed", "pct_delayed", "max_days_outside", "missed", "pct_missed",
                      *LEFT_REASONS, "not_due", "not_yet_due")
DOSE_COLUMNS = ("group", "infusion_num", "infusions", "with_dose", "planned_per_kg", "mean_per_kg", "sd_per_kg",
                "min_per_kg", "max_per_kg", "pct_of_planned", "off_plan")
BLINDED_DOSE_NOTE = "The dose received reveals the arm; it is shown to unblinded viewers (closed report) only."


def _pct(n: pd.Series, d: pd.Series) -> pd.Series:
    return 100.0 * n / d.where(d > 0)


def compliance_table(counts: pd.DataFrame, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Infusions received, delayed and missed per group and scheduled infusion.

    Parameters
    ----------
    counts : DataFrame
        ``report_queries.infusion_compliance`` (per group, ``total`` and ``infusion_num``).
    groups : sequence of str, optional
        Arms in study order; None or empty when pooled.

    Returns
    -------
    DataFrame
        ``COMPLIANCE_COLUMNS``: ``due`` = received + missed; ``pct_received`` and ``pct_missed`` of ``due``,
        ``pct_delayed`` of ``received`` (NaN where the denominator is 0); ``delayed`` = early + late;
        ``not_due`` = the ``left_*`` counts (patients who left before the infusion, by reason). Groups in
        display order, then infusion number.
    """
    require_columns("compliance_table", counts, ("group", "infusion_num", "due_day", "patients", "received",
                                                 "on_time", "early", "late", "max_days_outside", "missed",
                                                 *LEFT_REASONS, "not_yet_due"))
    out = counts.assign(group=label_groups(counts))
    order = display_order(groups)
    out = out[out["group"].isin(order)].copy()
    out["due"] = out["received"] + out["missed"]
    out["delayed"] = out["early"] + out["late"]
    out["not_due"] = out[list(LEFT_REASONS)].sum(axis=1)
    out["pct_received"] = _pct(out["received"], out["due"])
    out["pct_missed"] = _pct(out["missed"], out["due"])
    out["pct_delayed"] = _pct(out["delayed"], out["received"])
    out["_order"] = out["group"].map({g: i for i, g in enumerate(order)})
    out = out.sort_values(["_order", "infusion_num"]).reset_index(drop=True)
    out = out[list(COMPLIANCE_COLUMNS)]
    out.attrs["note"] = (f"Infusions due on study days {', '.join(map(str, INFUSION_DAYS))} ± {INFUSION_WINDOW_DAYS} "
                         f"days (the protocol gives no infusion window; ±{INFUSION_WINDOW_DAYS} days is the window of "
                         "the visits at the same weeks). Due = received + missed; patients who left the study before "
                         f"an infusion were not due it. {MISSED_REASON_NOTE}")
    return out


def compliance_display(table: pd.DataFrame) -> pd.DataFrame:
    """The publication compliance table: per infusion (``Infusion``) the rows Due, Received, Delayed (outside
    the window), Missed, Not due (left the study before it, by reason), Not yet due; one column per group."""
    require_columns("compliance_display", table, COMPLIANCE_COLUMNS)
    groups = list(dict.fromkeys(table["group"]))
    rows: list[tuple[str, str, dict]] = []
    for k in sorted(table["infusion_num"].unique()):
        part = table[table["infusion_num"] == k].set_index("group")
        day = int(part["due_day"].iloc[0])
        head = f"Infusion {k} (day {day} ± {INFUSION_WINDOW_DAYS})"

        def line(label: str, cell) -> None:
            rows.append((head, label, {g: cell(part.loc[g]) for g in groups}))

        line("Due, n", lambda r: fmt_count(r["due"]))
        line("Received, n (% of due)", lambda r: fmt_n_pct(r["received"], r["due"]))
        line("Delayed: outside the window, n (% of received)", lambda r: fmt_n_pct(r["delayed"], r["received"]))
        line("  early / late, n", lambda r: f"{int(r['early'])} / {int(r['late'])}")
        line("  most days outside the window", lambda r: fmt_number(r["max_days_outside"], 0))
        line("Missed, n (% of due)", lambda r: fmt_n_pct(r["missed"], r["due"]))
        for column, reason in LEFT_REASONS.items():
            line(f"Not due: {reason} before it, n", lambda r, c=column: fmt_count(r[c]))
        line("Not yet due at the data cut, n", lambda r: fmt_count(r["not_yet_due"]))
    out = pd.DataFrame([{"Infusion": head, "": label, **cells} for head, label, cells in rows])
    out.attrs["note"] = table.attrs.get("note", "")
    return out


def dose_table(dose: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """Dose received against the plan per arm and infusion (unblinded viewers only).

    Parameters
    ----------
    dose : DataFrame
        ``report_queries.dose_summary``: per arm and ``infusion_num``.
    groups : sequence of str
        Arms in study order.

    Returns
    -------
    DataFrame
        ``DOSE_COLUMNS`` in study order of the arms then infusion; doses in 10^6 cells/kg.
    """
    require_columns("dose_table", dose, DOSE_COLUMNS)
    order = {g: i for i, g in enumerate(groups)}
    out = dose[dose["group"].isin(order)].copy()
    out["_order"] = out["group"].map(order)
    out = out.sort_values(["_order", "infusion_num"]).reset_index(drop=True)[list(DOSE_COLUMNS)]
    out.attrs["note"] = (f"Planned dose {PLANNED_DOSE_PER_KG} x 10^6 cells/kg in the UC-MSC arm, 0 cells (saline) in the "
                         f"placebo arm; off plan: more than {DOSE_TOLERANCE:.0%} of the planned UC-MSC dose away from "
                         "the arm's plan. Dose per kg = cells given / body weight at baseline.")
    return out


def dose_display(table: pd.DataFrame) -> pd.DataFrame:
    """The publication dose table: per infusion and arm, infusions, planned and received dose (mean (SD),
    range) in 10^6 cells/kg, % of plan and infusions off plan."""
    require_columns("dose_display", table, DOSE_COLUMNS)
    rows = []
    for _, r in table.iterrows():
        rows.append({
            "Infusion": f"Infusion {int(r['infusion_num'])}",
            "Arm": r["group"],
            "Infusions, n": fmt_count(r["infusions"]),
            "Planned, 10^6 cells/kg": fmt_number(r["planned_per_kg"], 2),
            "Received, 10^6 cells/kg, mean (SD)": MISSING if pd.isna(r["mean_per_kg"]) else
            f"{r['mean_per_kg']:.2f} ({fmt_number(r['sd_per_kg'], 2)})",
            "Received, range": MISSING if pd.isna(r["min_per_kg"]) else f"{r['min_per_kg']:.2f}–{r['max_per_kg']:.2f}",
            "% of planned, mean": fmt_number(r["pct_of_planned"], 1),
            "Off plan, n (%)": fmt_n_pct(r["off_plan"], r["with_dose"]),
        })
    out = pd.DataFrame(rows)
    out.attrs["note"] = table.attrs.get("note", "")
    return out


def blinded_dose_table() -> pd.DataFrame:
    """What a viewer who may not see arms gets instead of the dose table: no rows, the columns, and why."""
    out = pd.DataFrame({c: pd.Series(dtype=object if c == "group" else float) for c in DOSE_COLUMNS})
    out.attrs["note"] = BLINDED_DOSE_NOTE
    return out

