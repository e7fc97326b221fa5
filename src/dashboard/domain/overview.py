"""Study status: enrolment against plan, disposition, follow-up completeness."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.domain import POOLED_LABEL

DISPOSITION_ORDER = ("on study", "completed", "died", "transplanted", "withdrawn", "lost to follow-up")


def _groups(df: pd.DataFrame, group_col: str | None) -> pd.Series:
    return df[group_col].astype(str) if group_col else pd.Series(POOLED_LABEL, index=df.index)


def enrolment_progress(subjects: pd.DataFrame, *, planned_n: int, start: date, months: float,
                       group_col: str | None = None) -> pd.DataFrame:
    """Cumulative randomisations per day (per group) and the linear plan from ``start`` over ``months``.

    Returns columns ``date``, ``group``, ``enrolled`` (actual rows) and rows with group "Plan"
    holding the planned cumulative count at the start and end of enrolment.
    """
    if planned_n < 1 or months <= 0:
        raise ValueError("enrolment_progress: planned_n must be >= 1 and months > 0")
    df = pd.DataFrame({"date": pd.to_datetime(subjects["randomized_on"]), "group": _groups(subjects, group_col)})
    if group_col:
        # The plan is for the whole trial, so the total is drawn beside the arms it is compared with.
        df = pd.concat([df, df.assign(group=POOLED_LABEL)], ignore_index=True)
    actual = (df.groupby(["group", "date"]).size().groupby(level=0).cumsum().rename("enrolled").reset_index())
    end = pd.Timestamp(start) + pd.Timedelta(days=round(months * 30.4375))
    plan = pd.DataFrame({"date": [pd.Timestamp(start), end], "group": "Plan", "enrolled": [0, planned_n]})
    return pd.concat([actual, plan], ignore_index=True)[["date", "group", "enrolled"]]


def disposition(subjects: pd.DataFrame, *, group_col: str | None = None) -> pd.DataFrame:
    """Patients per status and group, with percentages of the group; every status listed, zeros included."""
    groups = _groups(subjects, group_col)
    counts = pd.crosstab(subjects["status"], groups).reindex(DISPOSITION_ORDER, fill_value=0)
    out = counts.stack().rename("n").reset_index()
    out.columns = ["status", "group", "n"]
    totals = groups.value_counts()
    out["pct"] = 100.0 * out["n"] / out["group"].map(totals)
    return out


def follow_up_completeness(due: pd.DataFrame) -> pd.DataFrame:
    """Adds ``pct_observed`` = observed / expected visits (NaN where none were due yet)."""
    out = due.copy()
    expected = out["expected"].where(out["expected"] > 0)
    out["pct_observed"] = 100.0 * out["observed"] / expected
    return out
