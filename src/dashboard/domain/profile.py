"""Domain layer: one patient's course assembled for /patient, and the patient list of /patients.

Pure pandas. Lab values are flagged against each record's own reference limits (an imported lab
reports its own range), falling back to the registry default only where a record has none.
Baseline is the visit-0 value (DESIGN §3, as in :func:`labstats.add_change_from_baseline`).
Nothing here looks for an arm: the arm appears in an output only when the input carried it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboard.domain.labs import BY_CODE, LAB_PARAMETERS, MEASURED_CODES
from dashboard.domain.labstats import add_change_from_baseline
from dashboard.domain.safety import POST_DOSE_HOURS

SCALES: dict[str, str] = {"raw": "Value", "uln": "Multiple of ULN", "chg": "Change from baseline"}
FLAG_HIGH, FLAG_LOW = "H", "L"
CHANGED_MARK = "✎"  # a lab value that changed since the previous data cut
LAB_COLUMNS = ("usubjid", "paramcd", "visit_num", "study_day", "value", "lower_limit", "upper_limit")
LIST_COLUMNS = ("usubjid", "site_id", "age", "sex", "etiology", "lf_type", "baseline_meld", "latest_meld",
                "status", "days_on_study")
LIST_LIMIT = 1000  # /patients shows at most this many rows; search or filter to reach the others
AE_LANE_COLUMNS = ("ae_id", "term", "grade", "serious", "infusion_related", "onset_day", "end_day")


def _need(func: str, arg: str, df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{func}: argument {arg!r} lacks column(s) {missing}; required: {list(cols)}.")


def _registry_order(codes: Sequence[str]) -> list[str]:
    """Registry codes first in registry order, then any other (imported) codes alphabetically."""
    known = [p.paramcd for p in LAB_PARAMETERS if p.paramcd in set(codes)]
    return known + sorted(set(codes) - set(known))


# --- patient list ----------------------------------------------------------------------------------

def list_rows(subjects: pd.DataFrame) -> pd.DataFrame:
    """One row per patient for /patients: the subject columns of ``TrialView.subjects``, in its order,
    with ``arm`` after the id when present."""
    _need("list_rows", "subjects", subjects, LIST_COLUMNS)
    # The arm, when visible, sits next to the id: it is what a DSMB member reads first.
    cols = ["usubjid"] + (["arm"] if "arm" in subjects.columns else []) + list(LIST_COLUMNS[1:])
    return subjects[cols].reset_index(drop=True)


def with_trends(table: pd.DataFrame, trends: pd.DataFrame) -> pd.DataFrame:
    """``table`` (rows with ``usubjid``) with a last column ``meld_trend`` from ``TrialView.meld_trends_of``:
    MELD values by study day, an empty list for a patient without any."""
    _need("with_trends", "trends", trends, ("usubjid", "meld_trend"))
    out = table.merge(trends[["usubjid", "meld_trend"]], on="usubjid", how="left")
    out["meld_trend"] = [list(t) if isinstance(t, (list, np.ndarray)) else [] for t in out["meld_trend"]]
    return out.reset_index(drop=True)


def search_rows(df: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows where any text or number column contains ``text`` (case-insensitive); all rows if blank."""
    needle = text.strip().lower()
    if not needle:
        return df
    # Sparkline lists are not searchable text.
    cols = [c for c in df.columns if not (len(df) and isinstance(df[c].iloc[0], (list, np.ndarray)))]
    hit = np.zeros(len(df), dtype=bool)
    for c in cols:
        hit |= df[c].astype(str).str.lower().str.contains(needle, regex=False).to_numpy()
    return df[hit]


def neighbours(ids: Sequence[str], usubjid: str) -> tuple[str | None, str | None]:
    """The previous and next id around ``usubjid`` in ``ids`` (None at either end or when absent)."""
    ids = list(ids)
    if usubjid not in ids:
        return None, None
    i = ids.index(usubjid)
    return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)


# --- header card -----------------------------------------------------------------------------------

def _day(date, day1) -> int | None:
    if pd.isna(date) or pd.isna(day1):
        return None
    # CDISC study day: day 1 is the first infusion and there is no day 0 (DESIGN §3).
    diff = (pd.Timestamp(date) - pd.Timestamp(day1)).days
    return diff + 1 if diff >= 0 else diff


def _dated(label: str, date, day1) -> str:
    return f"{label} {pd.Timestamp(date):%Y-%m-%d} (day {_day(date, day1)})"


def status_text(subject: pd.Series) -> str:
    """Status with its dates, e.g. ``Died 2024-08-03 (day 152): liver failure``."""
    day1 = subject["day1_on"]
    if pd.notna(subject.get("death_on")):
        cause = subject.get("death_cause")
        return _dated("Died", subject["death_on"], day1) + (f": {cause}" if isinstance(cause, str) and cause else "")
    if pd.notna(subject.get("transplant_on")):
        return _dated("Transplanted", subject["transplant_on"], day1)
    if pd.notna(subject.get("withdrawn_on")):
        return _dated("Withdrawn", subject["withdrawn_on"], day1)
    return f"{str(subject['status']).capitalize()}; " + _dated("last contact", subject["last_contact_on"], day1)


def header_facts(subject: pd.DataFrame, infusions: pd.DataFrame) -> dict[str, str]:
    """Ordered label -> text for the header card; ``Arm`` only when ``subject`` has an arm column.

    ``subject`` is the one-row ``subject`` frame of ``TrialView.patient``; ``infusions`` its infusions.
    """
    _need("header_facts", "subject", subject, ("usubjid", "site_id", "age", "sex", "etiology", "lf_type",
                                               "status", "day1_on", "last_contact_on", "baseline_meld"))
    if len(subject) != 1:
        raise ValueError(f"header_facts: argument 'subject' must have one row, got {len(subject)}.")
    s = subject.iloc[0]
    weight = f", {s['weight_kg']:.0f} kg" if pd.notna(s.get("weight_kg")) else ""
    facts = {
        "Patient": f"{s['usubjid']} (site {s['site_id']})",
        "Age, sex": f"{s['age']} y, {s['sex']}{weight}",
        "Etiology": str(s["etiology"]),
        "Liver-failure type": str(s["lf_type"]),
        "Status": status_text(s),
        "First infusion (day 1)": f"{pd.Timestamp(s['day1_on']):%Y-%m-%d}",
        "Infusions received": str(len(infusions)),
        "Baseline MELD": "not available" if pd.isna(s["baseline_meld"]) else f"{s['baseline_meld']:.0f}",
    }
    if "arm" in subject.columns:
        facts["Arm"] = str(s["arm"])
    return facts


def outcome_days(subject: pd.DataFrame) -> pd.DataFrame:
    """Death and transplant as (label, study_day) rows, for the vertical markers on every panel."""
    s = subject.iloc[0]
    rows = [(label, _day(s.get(col), s["day1_on"])) for label, col in (("Death", "death_on"),
                                                                        ("Transplant", "transplant_on"))]
    return pd.DataFrame([r for r in rows if r[1] is not None], columns=["label", "study_day"])


# --- labs ------------------------------------------------------------------------------------------

def with_limits(labs: pd.DataFrame) -> pd.DataFrame:
    """Copy with record limits filled from the registry where missing and ``flag`` "H", "L" or ""."""
    _need("with_limits", "labs", labs, LAB_COLUMNS)
    out = labs.copy()
    for col in ("lower_limit", "upper_limit"):
        default = out["paramcd"].map(lambda c: getattr(BY_CODE[c], col) if c in BY_CODE else None)
        out[col] = out[col].astype(float).fillna(default.astype(float))
    out["flag"] = np.select([out["value"] > out["upper_limit"], out["value"] < out["lower_limit"]],
                            [FLAG_HIGH, FLAG_LOW], "")
    return out


def lab_panels(labs: pd.DataFrame, *, scale: str = "raw",
               paramcds: Sequence[str] = MEASURED_CODES) -> pd.DataFrame:
    """One patient's lab rows on the chosen scale, with the reference band on the same scale.

    Parameters
    ----------
    labs : DataFrame
        ``lab_results`` rows of one patient (usubjid, paramcd, visit_num, study_day, value,
        lower_limit, upper_limit).
    scale : {"raw", "uln", "chg"}
        ``raw`` value; ``uln`` value / upper limit of normal (the record's own); ``chg`` value minus
        the visit-0 baseline.
    paramcds : sequence of str
        Parameters to keep (default: the measured labs; MELD scores have their own chart).

    Returns
    -------
    DataFrame
        Input columns plus ``flag``, ``y`` (value on the scale), ``y_lower``/``y_upper`` (the
        reference limits on the same scale: /ULN, or minus baseline), rows in registry order then
        study day. ``y`` is NaN where the scale is undefined (no ULN, no baseline).
    """
    if scale not in SCALES:
        raise ValueError(f"lab_panels: scale must be one of {list(SCALES)}, got {scale!r}.")
    out = with_limits(labs[labs["paramcd"].isin(list(paramcds))])
    if scale == "raw":
        shift, divisor = 0.0, 1.0
    elif scale == "uln":
        shift, divisor = 0.0, out["upper_limit"].where(out["upper_limit"] > 0)
    else:
        shift, divisor = add_change_from_baseline(out)["base"], 1.0
    out["y"] = (out["value"] - shift) / divisor
    out["y_lower"] = (out["lower_limit"] - shift) / divisor
    out["y_upper"] = (out["upper_limit"] - shift) / divisor
    rank = {c: i for i, c in enumerate(_registry_order(out["paramcd"].unique()))}
    return out.sort_values(["paramcd", "study_day"], key=lambda c: c.map(rank) if c.name == "paramcd" else c,
                           kind="stable").reset_index(drop=True)


def _row_labels(labs: pd.DataFrame) -> pd.Series:
    # Scheduled visits are rows by their label; an unscheduled draw is its own row, named by its day.
    unscheduled = "Unscheduled day " + labs["study_day"].astype(str)
    return labs["visit"].where(labs["visit_num"].notna(), unscheduled) if "visit" in labs.columns else unscheduled


def visit_lab_table(labs: pd.DataFrame, changed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Visit x lab table: ``visit``, ``study_day`` then, per lab, ``<CODE>`` value and ``<CODE> flag``.

    One row per scheduled visit (unscheduled draws one row each), ordered by study day; labs in
    registry order; a repeat draw within a visit keeps the later value. Flags "H"/"L" against the
    record's limits, "" within range or without limits (MELD scores).

    ``changed`` (usubjid, paramcd, study_day, previous_value: values that changed since the previous
    data cut, ``CutChanges.changed_labs``) adds ``<CODE> was``, the previous value, for each lab with
    a changed value shown in the table.
    """
    flagged = with_limits(labs).assign(row=lambda d: _row_labels(d)).sort_values("study_day", kind="stable")
    last = flagged.drop_duplicates(["row", "paramcd"], keep="last")
    days = flagged.groupby("row")["study_day"].min()
    values = last.pivot(index="row", columns="paramcd", values="value")
    flags = last.pivot(index="row", columns="paramcd", values="flag").fillna("")
    was = pd.DataFrame()
    if changed is not None and len(changed):
        keys = ["usubjid", "paramcd", "study_day"]
        was = last.merge(changed[keys + ["previous_value"]], on=keys).pivot(index="row", columns="paramcd",
                                                                           values="previous_value")
    out = pd.DataFrame({"visit": days.index, "study_day": days.to_numpy()}, index=days.index.rename("row"))
    for code in _registry_order(list(values.columns)):
        out[code] = values[code]
        out[f"{code} flag"] = flags[code]
        if code in was.columns:
            out[f"{code} was"] = was[code]
    return out.sort_values("study_day", kind="stable").reset_index(drop=True)


def _format_value(value: float, flag: str, decimals: int, was: float = np.nan) -> str:
    if pd.isna(value):
        return ""
    arrow = {FLAG_HIGH: " ▲", FLAG_LOW: " ▼"}.get(flag, "")
    previous = f" {CHANGED_MARK} was {was:.{decimals}f}" if pd.notna(was) else ""
    return f"{value:.{decimals}f}{arrow}{previous}"


def format_visit_lab_table(table: pd.DataFrame) -> pd.DataFrame:
    """Display form of :func:`visit_lab_table`: one text column per lab, "▲" above / "▼" below range,
    and "✎ was x" after a value that changed since the previous data cut.

    Column headers carry the unit (``BILI (umol/L)``); values use the registry's decimals.
    """
    codes = [c for c in table.columns if f"{c} flag" in table.columns]
    out = table[["visit", "study_day"]].rename(columns={"visit": "Visit", "study_day": "Study day"})
    for code in codes:
        p = BY_CODE.get(code)
        header = f"{code} ({p.unit})" if p else code
        decimals = p.decimals if p else 2
        was = table[f"{code} was"] if f"{code} was" in table.columns else pd.Series(np.nan, index=table.index)
        out[header] = [_format_value(v, f, decimals, w) for v, f, w in zip(table[code], table[f"{code} flag"], was)]
    return out


# --- events ----------------------------------------------------------------------------------------

def ae_lane(ae: pd.DataFrame, *, last_day: int) -> pd.DataFrame:
    """Adverse events as bars: ``start`` (onset day), ``end``, ``ongoing``, ``lane`` (the term).

    An event without an end day is ongoing and drawn to ``last_day`` (last contact). A one-day event
    spans its whole day (start to start + 1) so that it stays visible. Rows ordered by onset.
    """
    _need("ae_lane", "ae", ae, AE_LANE_COLUMNS)
    out = ae[list(AE_LANE_COLUMNS)].copy()
    out["ongoing"] = out["end_day"].isna()
    end = out["end_day"].astype("Float64").fillna(max(last_day, 1)).astype(float)
    out["start"] = out["onset_day"].astype(float)
    out["end"] = np.maximum(end, out["start"]) + 1.0
    out["lane"] = out["term"].astype(str)
    for col in ("serious", "infusion_related"):
        out[col] = out[col].astype(bool)
    return out.sort_values(["start", "ae_id"]).reset_index(drop=True)


def post_infusion_temperatures(vitals: pd.DataFrame, infusions: pd.DataFrame) -> pd.DataFrame:
    """Temperatures from before each infusion to 24 h after: infusion_num, study_day, hours_after, value.

    The pre-dose reading (negative hours) is kept as each infusion's reference point.
    """
    _need("post_infusion_temperatures", "vitals", vitals, ("infusion_num", "hours_after", "paramcd", "value"))
    temp = vitals[(vitals["paramcd"] == "TEMP") & (vitals["hours_after"] <= POST_DOSE_HOURS[1])
                  & vitals["infusion_num"].notna()]
    days = infusions.set_index("infusion_num")["study_day"] if len(infusions) else pd.Series(dtype=float)
    out = temp.assign(infusion_num=temp["infusion_num"].astype(int))
    out["study_day"] = out["infusion_num"].map(days)
    cols = ["infusion_num", "study_day", "hours_after", "value"] + (["timepoint"] if "timepoint" in out else [])
    return out[cols].sort_values(["infusion_num", "hours_after"]).reset_index(drop=True)


def day_span(subject: pd.DataFrame, *frames: pd.DataFrame, margin: float = 10.0) -> tuple[float, float]:
    """Study-day range covering the course (last contact and every ``study_day``/``end_day`` given), padded.

    Every chart of one patient uses this one range so their day axes line up on the page.
    """
    days = [_day(subject.iloc[0]["last_contact_on"], subject.iloc[0]["day1_on"]) or 1]
    for frame in frames:
        for col in ("study_day", "onset_day", "end_day"):
            if col in frame.columns and frame[col].notna().any():
                days.append(float(frame[col].max()))
    return -margin, max(days) + margin
