"""Domain layer: time-to-event rows per endpoint, from the rows ``TrialView.time_to_event`` returns.

Input rows have ``usubjid``, ``day1_on``, ``end_on``, ``event_type`` (0 censored, 1 death, 2 transplant),
``status`` and ``recensored`` (still followed after the as-of date). Output adds ``time_days``
(``end_on - day1_on + 1``: study day 1 is the first infusion, DESIGN §3), ``event`` (1 for the
endpoint's event) and ``censor_reason``. The rule kept here: an event type is either the endpoint's
event, a competing event (cumulative incidence) or a censoring, never silently dropped; and nothing
here reads or needs the arm, so the same rows serve blinded and unblinded viewers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

DEATH, TRANSPLANT = 1, 2
TTE_COLUMNS = ("usubjid", "day1_on", "end_on", "event_type", "status", "recensored")


@dataclass(frozen=True)
class Endpoint:
    key: str
    short: str                    # the endpoint's name on a button
    label: str
    events: tuple[int, ...]       # event_type values that are the endpoint's event
    competing: tuple[int, ...] = ()  # event_type values analysed as a competing state, not censored


# The endpoint codes pages, URLs, the deck and the command line use.
OVERALL_SURVIVAL, TRANSPLANT_FREE, COMPETING_RISKS = "os", "tfs", "cr"

ENDPOINTS: dict[str, Endpoint] = {
    OVERALL_SURVIVAL: Endpoint(OVERALL_SURVIVAL, "Overall survival", "Overall survival (death; transplant censored)", (DEATH,)),
    TRANSPLANT_FREE: Endpoint(TRANSPLANT_FREE, "Transplant-free survival",
                              "Transplant-free survival (death or transplant)", (DEATH, TRANSPLANT)),
    COMPETING_RISKS: Endpoint(COMPETING_RISKS, "Death and transplant, competing",
                              "Cumulative incidence of death and of transplant, each competing with the other",
                              (DEATH,), (TRANSPLANT,)),
}
# Why a patient without the endpoint's event stopped contributing time. "Alive at cut-off" means
# administrative censoring at the data cut or the chosen as-of date.
ADMINISTRATIVE = "alive at cut-off"
_STATUS_REASONS = {"completed": "completed follow-up", "withdrawn": "withdrawn",
                   "lost to follow-up": "lost to follow-up"}
# Study days of the milestones (DESIGN: day 28, day 90, week 24, week 48, week 96) and their labels.
MILESTONES: dict[int, str] = {28: "Day 28", 90: "Day 90", 168: "Week 24", 336: "Week 48", 672: "Week 96"}


def endpoint_rows(tte: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    """One row per patient for ``endpoint`` (``"os"``, ``"tfs"`` or ``"cr"``).

    Parameters
    ----------
    tte : DataFrame from ``TrialView.time_to_event`` (columns :data:`TTE_COLUMNS`, plus covariates and,
        for unblinded viewers, ``arm``; all kept).
    endpoint : key of :data:`ENDPOINTS`.

    Returns
    -------
    DataFrame with the input columns plus ``time_days`` (days, >= 1), ``event`` (0/1) and
    ``censor_reason`` (None for events and competing events; ``"transplant"`` when transplant is
    censored for OS; ``"alive at cut-off"`` when re-censored at the as-of date or still on study;
    otherwise the status: completed follow-up, withdrawn, lost to follow-up).

    Examples
    --------
    A patient dosed 2024-01-01 who died 2024-01-10 has ``time_days`` 10 and ``event`` 1 for OS.
    """
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint_rows: argument endpoint={endpoint!r}; allowed values: {list(ENDPOINTS)}.")
    missing = [c for c in TTE_COLUMNS if c not in tte.columns]
    if missing:
        raise ValueError(f"endpoint_rows: argument tte lacks column(s) {missing}; required: {list(TTE_COLUMNS)}.")
    spec = ENDPOINTS[endpoint]
    out = tte.copy()
    out["time_days"] = (pd.to_datetime(out["end_on"]) - pd.to_datetime(out["day1_on"])).dt.days + 1
    out["event"] = out["event_type"].isin(spec.events).astype(int)
    censored = ~out["event_type"].isin(spec.events + spec.competing)
    out["censor_reason"] = np.where(censored, _censor_reason(out), None)
    return out


def _censor_reason(rows: pd.DataFrame) -> pd.Series:
    reason = rows["status"].map(_STATUS_REASONS).fillna(ADMINISTRATIVE)
    reason = reason.where(~rows["recensored"].astype(bool), ADMINISTRATIVE)
    return reason.where(rows["event_type"] != TRANSPLANT, "transplant")


def outcome_label(rows: pd.DataFrame) -> pd.Series:
    """What happened at ``time_days``, in words: "death", "transplant" or "censored (<reason>)"."""
    named = rows["event_type"].map({DEATH: "death", TRANSPLANT: "transplant"})
    censored = "censored (" + rows["censor_reason"].astype(str) + ")"
    return censored.where(rows["censor_reason"].notna(), named)


# Subgroup variables of the forest plot: column added by subgroup_columns -> display label.
SUBGROUPS = {"sex": "Sex", "age_group": "Age", "etiology": "Etiology", "meld_group": "Baseline MELD",
             "ascites_group": "Baseline ascites", "lf_type": "Liver-failure type"}
AGE_CUTOFF = 45


def subgroup_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """Adds the derived subgroup columns of :data:`SUBGROUPS`: ``age_group`` (< 45 / >= 45 years),
    ``meld_group`` (below / at or above the median baseline MELD of these rows, the median written in
    the label) and ``ascites_group`` (baseline ascites grade 0 -> "no", >= 1 -> "yes"). Missing
    inputs stay missing."""
    missing = [c for c in ("age", "baseline_meld", "baseline_ascites_grade") if c not in rows.columns]
    if missing:
        raise ValueError(f"subgroup_columns: argument rows lacks column(s) {missing}.")
    out = rows.copy()
    out["age_group"] = np.where(out["age"] < AGE_CUTOFF, f"< {AGE_CUTOFF}", f">= {AGE_CUTOFF}")
    out["age_group"] = out["age_group"].where(out["age"].notna())
    median = out["baseline_meld"].median()
    out["meld_group"] = np.where(out["baseline_meld"] < median, f"< {median:g}", f">= {median:g}")
    out["meld_group"] = out["meld_group"].where(out["baseline_meld"].notna())
    out["ascites_group"] = np.where(out["baseline_ascites_grade"] > 0, "yes", "no")
    out["ascites_group"] = out["ascites_group"].where(out["baseline_ascites_grade"].notna())
    return out


def accrual_dates(start: date, end: date) -> list[date]:
    """As-of dates for animating accrual: the first day of each month after ``start``, then ``end``."""
    if start > end:
        raise ValueError(f"accrual_dates: argument start={start} is after end={end}; allowed: start <= end.")
    months = pd.date_range(pd.Timestamp(start) + pd.offsets.MonthBegin(1), pd.Timestamp(end), freq="MS")
    return [d.date() for d in months if d.date() < end] + [end]
