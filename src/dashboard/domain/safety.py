"""Domain layer: infusion safety (0-24 h temperature, fever incidence, infusion reactions).

Pure functions on DataFrames from the data layer (DESIGN §3: ``vital_signs``, ``infusions``,
``adverse_events``). Every result names its group column ``group``: the arm when ``group_col`` is
given, otherwise the single label :data:`POOLED_LABEL`. A blinded caller passes ``group_col=None``
and so can never receive arm-level numbers (DESIGN §4: pool, never relabel). Adverse-event tables,
listings and rates are in :mod:`dashboard.domain.adverse_events`, built on the checks and result
type defined here.

Conventions (shown on screen through each result's ``method`` string):

- proportions: exact Clopper-Pearson CI (as R ``binom.test``);
- risk difference active - reference: Newcombe hybrid score CI, method 10 of Newcombe (1998),
  from Wilson score limits without continuity correction (as R ``prop.test(correct=FALSE)``);
  p from the two-sided Fisher exact test (as R ``fisher.test``);
- mean temperature: t-based CI of the mean (as R ``t.test``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.errors import InsufficientData

# Protocol fever thresholds (axillary, deg C; domain.md §2.4). 38.0 is also CTCAE v5 grade 1.
FEVER_THRESHOLDS = (37.3, 38.0)
# Post-dose observation window: end of infusion (0 h) to 24 h; PRE (-1 h) is the baseline.
POST_DOSE_HOURS = (0.0, 24.0)
REACTION_TERMS = ("Pyrexia", "Rash", "Hypersensitivity", "Infusion related reaction")
# Left-closed windows; onset before the end of infusion (negative hours) counts in the first one.
REACTION_WINDOWS = ("0-2 h", "2-6 h", "6-24 h", ">24 h", "onset not recorded")
_WINDOW_EDGES = (2.0, 6.0, 24.0)

VS_COLUMNS = ("usubjid", "infusion_num", "hours_after", "paramcd", "value")
INFUSION_COLUMNS = ("usubjid", "infusion_num")
AE_COLUMNS = (
    "ae_id", "usubjid", "term", "soc", "grade", "serious", "related", "infusion_related",
    "infusion_num", "onset_hours_after", "onset_day", "end_day", "outcome",
)


@dataclass(frozen=True)
class TemperatureSummary:
    """Mean temperature by group, infusion and hour; ``summary`` columns: group, infusion_num,
    hours_after, timepoint, n, mean, sd, ci_lower, ci_upper."""

    summary: pd.DataFrame
    conf_level: float
    method: str


@dataclass(frozen=True)
class FeverIncidence:
    """Fever incidence; ``summary`` has one row per unit ("infusion" by infusion_num, "patient" for
    any infusion) and group; ``comparison`` has active-minus-reference rows (empty unless two arms)."""

    summary: pd.DataFrame
    comparison: pd.DataFrame
    threshold: float
    conf_level: float
    method: str


@dataclass(frozen=True)
class SafetyTable:
    """A safety table with fixed columns and the footnote describing how it was computed."""

    table: pd.DataFrame
    method: str


# ---------------------------------------------------------------- checks and small statistics


def _check_frame(df: object, func: str, arg: str, required: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{func}: argument {arg} must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(
            f"{func}: argument {arg} is missing column(s) {', '.join(missing)}; "
            f"required: {', '.join(required)}."
        )


def _check_group_col(df: pd.DataFrame, group_col: str | None, func: str, arg: str) -> None:
    if group_col is not None and group_col not in df.columns:
        raise ValueError(
            f"{func}: group_col={group_col!r} is not a column of {arg}; pass None for pooled results "
            f"or one of: {', '.join(map(str, df.columns))}."
        )


def _check_conf_level(conf_level: float, func: str) -> None:
    if not (isinstance(conf_level, (int, float)) and 0 < conf_level < 1):
        raise ValueError(f"{func}: conf_level must be a number strictly between 0 and 1, got {conf_level!r}.")


def _grouped(df: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    """Copy with a ``group`` column: the arm as text, or the pooled label (never a relabelled arm)."""
    out = df.copy()
    out["group"] = POOLED_LABEL if group_col is None else out[group_col].astype(str)
    return out


def _group_order(groups: Sequence[str], arms: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(groups))
    if arms is None:
        return sorted(present)
    return [a for a in arms if a in present] + sorted(g for g in present if g not in arms)


def clopper_pearson(x: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Exact binomial CI for x/n from beta quantiles (as R ``binom.test``); (nan, nan) when n == 0."""
    if n == 0:
        return (np.nan, np.nan)
    alpha = 1 - conf_level
    lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    upper = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return lower, upper


def wilson(x: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Wilson score CI without continuity correction (as R ``prop.test(correct=FALSE)``)."""
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    p = x / n
    centre = (x + z * z / 2) / (n + z * z)
    half = z * np.sqrt(n * p * (1 - p) + z * z / 4) / (n + z * z)
    return float(centre - half), float(centre + half)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, conf_level: float = 0.95) -> tuple[float, float, float]:
    """p1 - p2 with the Newcombe (1998) hybrid score CI, method 10 (Wilson limits, no correction)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, conf_level)
    l2, u2 = wilson(x2, n2, conf_level)
    d = p1 - p2
    return d, d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


# ---------------------------------------------------------------- temperature and fever


def _temperatures(vs: pd.DataFrame) -> pd.DataFrame:
    temp = vs[vs["paramcd"] == "TEMP"]
    return temp[temp["value"].notna() & temp["infusion_num"].notna() & temp["hours_after"].notna()]


def _readings(vs: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    temp = _grouped(_temperatures(vs), group_col)
    if temp.empty:
        raise InsufficientData("No temperature (TEMP) records were found. Load a data cut with vital signs.")
    if "timepoint" not in temp.columns:
        temp["timepoint"] = temp["hours_after"].map(lambda h: "PRE" if h < 0 else f"{h:g}H")
    # One value per patient and time point (a repeat reading is averaged), so n counts patients.
    return temp.groupby(["group", "infusion_num", "hours_after", "usubjid"], as_index=False).agg(
        value=("value", "mean"), timepoint=("timepoint", "first")
    )


def temperature_readings(vs: pd.DataFrame, *, group_col: str | None) -> pd.DataFrame:
    """One temperature per patient, infusion and hour (repeat readings averaged), for individual lines.

    Columns: group, infusion_num, hours_after, usubjid, value, timepoint; the values that
    :func:`temperature_by_hour` summarises.
    """
    func = "temperature_readings"
    _check_frame(vs, func, "vs", VS_COLUMNS)
    _check_group_col(vs, group_col, func, "vs")
    return _readings(vs, group_col)


_TEMPERATURE_KEYS = ("group", "infusion_num", "hours_after")


def temperature_by_hour(
    vs: pd.DataFrame, *, group_col: str | None, arms: Sequence[str] | None = None, conf_level: float = 0.95
) -> TemperatureSummary:
    """Mean body temperature (deg C) by group, infusion and hour after the end of infusion.

    Parameters
    ----------
    vs : DataFrame
        ``vital_signs`` rows: usubjid, infusion_num, hours_after (-1 = PRE), paramcd, value (deg C);
        optional ``timepoint`` label. Only ``paramcd == "TEMP"`` is used.
    group_col : str or None
        Column holding the arm; None pools all patients under :data:`POOLED_LABEL`.
    arms : sequence of str, optional
        Group order (active arm first); groups not listed follow alphabetically.
    conf_level : float
        Confidence level of the t-based CI of the mean.

    Returns
    -------
    TemperatureSummary
        ``summary`` columns: group, infusion_num, hours_after, timepoint, n, mean, sd, ci_lower,
        ci_upper (NaN CI when n < 2).
    """
    func = "temperature_by_hour"
    _check_frame(vs, func, "vs", VS_COLUMNS)
    _check_group_col(vs, group_col, func, "vs")
    _check_conf_level(conf_level, func)
    per_patient = _readings(vs, group_col)
    out = per_patient.groupby(list(_TEMPERATURE_KEYS), as_index=False).agg(
        timepoint=("timepoint", "first"), n=("value", "size"), mean=("value", "mean"), sd=("value", "std")
    )
    return _temperature_summary(out, arms, conf_level)


def temperature_from_aggregates(
    agg: pd.DataFrame, *, arms: Sequence[str] | None = None, conf_level: float = 0.95
) -> TemperatureSummary:
    """``temperature_by_hour``'s result from aggregates computed elsewhere (in SQL).

    ``agg`` columns: group (None/NaN when pooled), infusion_num, hours_after, timepoint, n (patients),
    mean and sd (n-1) of one value per patient and time point. Raises ``InsufficientData`` when empty.
    """
    _check_conf_level(conf_level, "temperature_from_aggregates")
    if agg.empty:
        raise InsufficientData("No temperature (TEMP) records were found. Load a data cut with vital signs.")
    out = agg.assign(group=agg["group"].fillna(POOLED_LABEL).astype(str), n=agg["n"].astype(int))
    return _temperature_summary(out[["group", *_TEMPERATURE_KEYS[1:], "timepoint", "n", "mean", "sd"]], arms,
                                conf_level)


def _temperature_summary(out: pd.DataFrame, arms: Sequence[str] | None, conf_level: float) -> TemperatureSummary:
    """Add the t-based CI to per-group, per-time-point n, mean and SD; sort; name the method."""
    keys = list(_TEMPERATURE_KEYS)
    out = out.copy()
    tq = stats.t.ppf(1 - (1 - conf_level) / 2, np.maximum(out["n"] - 1, 1))
    half = np.where(out["n"] >= 2, tq * out["sd"] / np.sqrt(out["n"]), np.nan)
    out["ci_lower"], out["ci_upper"] = out["mean"] - half, out["mean"] + half
    out["infusion_num"] = out["infusion_num"].astype(int)
    rank = {g: i for i, g in enumerate(_group_order(out["group"].tolist(), arms))}
    out = out.sort_values(keys, key=lambda col: col.map(rank) if col.name == "group" else col).reset_index(drop=True)
    method = f"Mean with {conf_level:.0%} t-based CI (as R t.test); one value per patient and time point."
    return TemperatureSummary(out, conf_level, method)


def _post_dose(vs: pd.DataFrame) -> pd.DataFrame:
    """Temperature readings in the post-dose window, both ends included."""
    temp = _temperatures(vs)
    lo, hi = POST_DOSE_HOURS
    return temp[(temp["hours_after"] >= lo) & (temp["hours_after"] <= hi)]


def _peak_post_dose(vs: pd.DataFrame) -> pd.DataFrame:
    """Peak temperature and its hour per patient and infusion in the 0-24 h post-dose window."""
    temp = _post_dose(vs)
    idx = temp.groupby(["usubjid", "infusion_num"])["value"].idxmax()
    peak = temp.loc[idx, ["usubjid", "infusion_num", "value", "hours_after"]]
    return peak.rename(columns={"value": "peak_temp", "hours_after": "peak_hour"}).reset_index(drop=True)


# Readings are to 0.1 deg C, so 37.3 stored as 37.29999... must still count as reaching 37.3.
FEVER_TOLERANCE = 1e-9
FEVER_COUNT_COLUMNS = ("threshold", "unit", "infusion_num", "group", "n_given", "n_at_risk", "n_fever")


def _check_threshold(threshold: float, func: str) -> None:
    if threshold not in FEVER_THRESHOLDS:
        raise ValueError(f"{func}: threshold must be one of {FEVER_THRESHOLDS} deg C, got {threshold!r}.")


def fever_incidence(
    vs: pd.DataFrame,
    infusions: pd.DataFrame,
    *,
    group_col: str | None,
    threshold: float = 38.0,
    arms: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> FeverIncidence:
    """Infusions and patients with fever (peak post-dose temperature >= threshold in 0-24 h).

    Parameters
    ----------
    vs, infusions : DataFrame
        ``vital_signs`` (see :func:`temperature_by_hour`) and ``infusions`` (usubjid, infusion_num).
        When ``group_col`` is given it must be a column of both.
    group_col : str or None
        Arm column; None pools all patients.
    threshold : {37.3, 38.0}
        Fever threshold in deg C (protocol, domain.md §2.4); the reading must reach it (>=).
    arms : sequence of str, optional
        Group order, active arm first. With exactly two groups, ``arms=(active, reference)`` adds the
        risk difference; without it the comparison is left empty (the direction is never guessed).
    conf_level : float

    Returns
    -------
    FeverIncidence
        ``summary``: unit ("infusion" or "patient"), infusion_num (<NA> for patient rows), group,
        n_given, n_at_risk, n_fever, proportion, ci_lower, ci_upper.
        ``comparison``: unit, infusion_num, active, reference, x_active, n_active, x_reference,
        n_reference, risk_difference, rd_lower, rd_upper, p.

    Notes
    -----
    At risk = infusions with at least one post-dose (0-24 h) temperature; an infusion given but
    never measured is counted in ``n_given`` only, so a missing reading is not read as "no fever".
    A patient is at risk with at least one such infusion and has fever if any infusion had fever.
    :func:`fever_from_counts` gives the same result from counts computed in SQL.
    """
    func = "fever_incidence"
    _check_frame(vs, func, "vs", VS_COLUMNS)
    _check_frame(infusions, func, "infusions", INFUSION_COLUMNS)
    _check_group_col(vs, group_col, func, "vs")
    _check_group_col(infusions, group_col, func, "infusions")
    _check_conf_level(conf_level, func)
    _check_threshold(threshold, func)
    given = _grouped(infusions, group_col)[["usubjid", "infusion_num", "group"]].drop_duplicates(
        ["usubjid", "infusion_num"]
    )
    peak = _post_dose(vs).groupby(["usubjid", "infusion_num"], as_index=False).agg(peak_temp=("value", "max"))
    rows = given.merge(peak, on=["usubjid", "infusion_num"], how="left")
    rows["evaluable"] = rows["peak_temp"].notna()
    rows["fever"] = rows["evaluable"] & (rows["peak_temp"] >= threshold - FEVER_TOLERANCE)
    by_inf = rows.groupby(["group", "infusion_num"], as_index=False).agg(
        n_given=("usubjid", "size"), n_at_risk=("evaluable", "sum"), n_fever=("fever", "sum")
    )
    by_inf.insert(0, "unit", "infusion")
    by_pat = rows.groupby(["group", "usubjid"], as_index=False).agg(evaluable=("evaluable", "any"), fever=("fever", "any"))
    by_pat = by_pat.groupby("group", as_index=False).agg(
        n_given=("usubjid", "size"), n_at_risk=("evaluable", "sum"), n_fever=("fever", "sum")
    )
    by_pat.insert(0, "unit", "patient")
    by_pat.insert(1, "infusion_num", pd.NA)
    return _fever_result(pd.concat([by_inf, by_pat], ignore_index=True), threshold, arms, conf_level)


def fever_from_counts(
    counts: pd.DataFrame, *, threshold: float = 38.0, arms: Sequence[str] | None = None, conf_level: float = 0.95
) -> FeverIncidence:
    """``fever_incidence``'s result from counts computed elsewhere (in SQL).

    Parameters
    ----------
    counts : DataFrame
        Columns threshold (deg C; may hold several thresholds, the rows of ``threshold`` are used),
        unit ("infusion" or "patient"), infusion_num (NULL for patient rows), group (NULL when
        pooled), n_given, n_at_risk, n_fever, counted as described in :func:`fever_incidence`.
    threshold : {37.3, 38.0}
    arms : sequence of str, optional
        Group order and comparison direction, as in :func:`fever_incidence`.
    conf_level : float

    Returns
    -------
    FeverIncidence
        Equal to :func:`fever_incidence` on the rows the counts were made from; raises
        ``InsufficientData`` when no infusion of ``threshold`` has a post-dose temperature.
    """
    func = "fever_from_counts"
    _check_frame(counts, func, "counts", FEVER_COUNT_COLUMNS)
    _check_conf_level(conf_level, func)
    _check_threshold(threshold, func)
    part = counts[counts["threshold"] == threshold]
    part = part.assign(group=part["group"].fillna(POOLED_LABEL).astype(str))
    return _fever_result(part[list(FEVER_COUNT_COLUMNS[1:])], threshold, arms, conf_level)


def _fever_result(counts: pd.DataFrame, threshold: float, arms: Sequence[str] | None, conf_level: float) -> FeverIncidence:
    """Proportions, exact CIs, order, risk difference and method from per-unit counts of one threshold."""
    if not (counts["n_at_risk"] > 0).any():
        raise InsufficientData("No infusion has a post-dose temperature (0-24 h). Check that vital signs are loaded.")
    summary = counts.reset_index(drop=True)
    summary["infusion_num"] = summary["infusion_num"].astype("Int64")
    for c in ("n_given", "n_at_risk", "n_fever"):
        summary[c] = summary[c].astype(int)
    summary["proportion"] = np.where(summary["n_at_risk"] > 0, summary["n_fever"] / summary["n_at_risk"].clip(lower=1), np.nan)
    ci = [clopper_pearson(x, n, conf_level) for x, n in zip(summary["n_fever"], summary["n_at_risk"])]
    summary["ci_lower"], summary["ci_upper"] = [c[0] for c in ci], [c[1] for c in ci]
    order = _group_order(summary["group"].tolist(), arms)
    summary = _order_fever(summary, order)
    summary = summary[["unit", "infusion_num", "group", "n_given", "n_at_risk", "n_fever", "proportion", "ci_lower", "ci_upper"]]

    method = (
        f"Fever: peak temperature >= {threshold:.1f} C from end of infusion to 24 h (pre-dose excluded); "
        f"{conf_level:.0%} exact Clopper-Pearson CI."
    )
    comparison = pd.DataFrame(columns=list(_COMPARISON_COLUMNS))
    if len(order) == 2 and arms is not None:
        comparison = _compare_two(summary, order[0], order[1], conf_level)
        method += " Risk difference (active - reference) with Newcombe hybrid score CI; p from two-sided Fisher exact test."
    elif len(order) == 2:
        method += " Pass arms=(active, reference) for the risk difference."
    return FeverIncidence(summary, comparison, float(threshold), conf_level, method)


_COMPARISON_COLUMNS = (
    "unit", "infusion_num", "active", "reference", "x_active", "n_active", "x_reference", "n_reference",
    "risk_difference", "rd_lower", "rd_upper", "p",
)


def _order_fever(summary: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    rank = {g: i for i, g in enumerate(order)}
    key = summary.assign(
        _u=(summary["unit"] == "patient").astype(int),
        _i=summary["infusion_num"].fillna(0).astype(int),
        _g=summary["group"].map(rank),
    )
    return key.sort_values(["_u", "_i", "_g"]).drop(columns=["_u", "_i", "_g"]).reset_index(drop=True)


def _compare_two(summary: pd.DataFrame, active: str, reference: str, conf_level: float) -> pd.DataFrame:
    rows = []
    for (unit, inf), part in summary.groupby(["unit", summary["infusion_num"].fillna(0)], sort=False):
        a = part[part["group"] == active]
        r = part[part["group"] == reference]
        if a.empty or r.empty or a["n_at_risk"].iat[0] == 0 or r["n_at_risk"].iat[0] == 0:
            continue
        x1, n1, x2, n2 = (int(a["n_fever"].iat[0]), int(a["n_at_risk"].iat[0]),
                          int(r["n_fever"].iat[0]), int(r["n_at_risk"].iat[0]))
        d, lo, hi = newcombe_difference(x1, n1, x2, n2, conf_level)
        p = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided").pvalue
        rows.append((unit, part["infusion_num"].iat[0], active, reference, x1, n1, x2, n2, d, lo, hi, float(p)))
    out = pd.DataFrame(rows, columns=list(_COMPARISON_COLUMNS))
    out["infusion_num"] = out["infusion_num"].astype("Int64")
    return out


# ---------------------------------------------------------------- infusion reactions


def _check_ae(ae: pd.DataFrame, func: str, group_col: str | None, required: Sequence[str] = AE_COLUMNS) -> None:
    _check_frame(ae, func, "ae", required)
    _check_group_col(ae, group_col, func, "ae")


def _reactions(ae: pd.DataFrame) -> pd.DataFrame:
    out = ae[ae["infusion_related"].astype(bool) & ae["term"].isin(REACTION_TERMS)].copy()
    h = out["onset_hours_after"].astype(float)
    out["window"] = np.select(
        [h.isna(), h < _WINDOW_EDGES[0], h < _WINDOW_EDGES[1], h <= _WINDOW_EDGES[2]],
        list(REACTION_WINDOWS[4:5] + REACTION_WINDOWS[0:3]),
        default=REACTION_WINDOWS[3],
    )
    return out


def reactions_by_window(ae: pd.DataFrame, *, group_col: str | None, arms: Sequence[str] | None = None,
                        infusion_num: int | None = None) -> SafetyTable:
    """Infusion-related pyrexia, rash, hypersensitivity and infusion reactions by onset window.

    Returns a :class:`SafetyTable` whose ``table`` has one row per group x term x window (zeros
    included): group, term, window, events, patients. Windows are hours after the end of infusion:
    0-2 h (including onset during the infusion), 2-6 h, 6-24 h, then ">24 h" and "onset not
    recorded" so that no reaction is dropped silently. ``arms`` orders the groups (active first)
    and adds all-zero rows for an arm without any adverse event. ``infusion_num`` keeps only the
    reactions to that infusion (None: all infusions).
    """
    func = "reactions_by_window"
    required = ("usubjid", "term", "infusion_related", "onset_hours_after")
    _check_ae(ae, func, group_col, required if infusion_num is None else (*required, "infusion_num"))
    grouped = _grouped(ae, group_col)
    rx = _reactions(grouped)
    if infusion_num is not None:
        rx = rx[rx["infusion_num"] == infusion_num]
    if group_col is None:
        groups = [POOLED_LABEL]
    else:
        groups = _group_order(list(grouped["group"].unique()) + list(arms or ()), arms)
    counts = rx.groupby(["group", "term", "window"]).agg(events=("usubjid", "size"), patients=("usubjid", "nunique"))
    full = pd.MultiIndex.from_product([groups, REACTION_TERMS, REACTION_WINDOWS], names=["group", "term", "window"])
    table = counts.reindex(full, fill_value=0).reset_index()
    table[["events", "patients"]] = table[["events", "patients"]].astype(int)
    method = ("Infusion-related AEs with terms " + ", ".join(REACTION_TERMS) + "; onset in hours after the end of "
              "infusion, windows left-closed [0, 2), [2, 6), [6, 24]; patients counted once per window.")
    return SafetyTable(table, method)


def reaction_listing(vs: pd.DataFrame, ae: pd.DataFrame, *, group_col: str | None) -> pd.DataFrame:
    """One row per infusion reaction with the peak 0-24 h temperature after that infusion.

    Columns: group, usubjid, infusion_num, term, grade, onset_hours_after, window, peak_temp,
    peak_hour, serious, outcome. ``peak_temp`` is NaN when no post-dose temperature was taken or the
    reaction has no infusion number.
    """
    func = "reaction_listing"
    _check_frame(vs, func, "vs", VS_COLUMNS)
    _check_ae(ae, func, group_col, ("usubjid", "term", "grade", "serious", "infusion_related",
                                    "infusion_num", "onset_hours_after", "outcome"))
    rx = _reactions(_grouped(ae, group_col))
    peak = _peak_post_dose(vs)
    rx["infusion_num"] = rx["infusion_num"].astype("Int64")
    peak["infusion_num"] = peak["infusion_num"].astype("Int64")
    out = rx.merge(peak, on=["usubjid", "infusion_num"], how="left")
    cols = ["group", "usubjid", "infusion_num", "term", "grade", "onset_hours_after", "window",
            "peak_temp", "peak_hour", "serious", "outcome"]
    return out[cols].sort_values(["group", "usubjid", "infusion_num", "onset_hours_after"]).reset_index(drop=True)
