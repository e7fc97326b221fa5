"""Domain layer: body temperature in the 0-24 h after each infusion and fever incidence.

From aggregates computed in DuckDB (``dashboard.data.safety_aggregates``: one mean temperature per patient and
time point, then n, mean and SD per group; infusions given, at risk and with fever per group), plus the
individual readings a figure draws. The row-level versions of the summary and the incidence are the test
oracle ``tests.oracle.safety``, which ends in the same tails. Groups, checks and CIs: see
:mod:`dashboard.domain.safety_common`.

Conventions (shown on screen through each result's ``method`` string):

- mean temperature: t-based CI of the mean (as R ``t.test``);
- proportions with fever: exact Clopper-Pearson CI (as R ``binom.test``);
- risk difference active - reference: Newcombe hybrid score CI (Wilson limits, no continuity correction);
  p from the two-sided Fisher exact test (as R ``fisher.test``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import check_conf_level, check_group_col, require_columns
from dashboard.domain.labstats import with_group
from dashboard.domain.safety_common import (
    _group_order,
    clopper_pearson,
    newcombe_difference,
)
from dashboard.errors import InsufficientData

# Protocol fever thresholds (axillary, deg C; domain.md §2.4). 38.0 is also CTCAE v5 grade 1.
FEVER_THRESHOLDS = (37.3, 38.0)
# Post-dose observation window: end of infusion (0 h) to 24 h; PRE (-1 h) is the baseline.
POST_DOSE_HOURS = (0.0, 24.0)
VS_COLUMNS = ("usubjid", "infusion_num", "hours_after", "paramcd", "value")


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


def _temperatures(vs: pd.DataFrame) -> pd.DataFrame:
    temp = vs[vs["paramcd"] == "TEMP"]
    return temp[temp["value"].notna() & temp["infusion_num"].notna() & temp["hours_after"].notna()]


def _readings(vs: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    temp = with_group(_temperatures(vs), group_col)
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

    Columns: group, infusion_num, hours_after, usubjid, value, timepoint; the values whose mean
    :func:`temperature_from_aggregates` shows (``vs`` as described there).
    """
    func = "temperature_readings"
    require_columns(func, vs, VS_COLUMNS, arg="vs")
    check_group_col(func, vs, group_col, arg="vs")
    return _readings(vs, group_col)


_TEMPERATURE_KEYS = ("group", "infusion_num", "hours_after")


def temperature_from_aggregates(
    agg: pd.DataFrame, *, arms: Sequence[str] | None = None, conf_level: float = 0.95
) -> TemperatureSummary:
    """Mean body temperature (deg C) by group, infusion and hour after the end of infusion, from aggregates
    computed in SQL (``safety_aggregates.temperature_summary``).

    Parameters
    ----------
    agg : DataFrame
        Columns group (None/NaN when pooled), infusion_num, hours_after (-1 = PRE), timepoint, n (patients),
        mean and sd (n-1) of one value per patient and time point (repeat readings averaged) of the
        ``vital_signs`` rows with ``paramcd == "TEMP"``.
    arms : sequence of str, optional
        Group order (active arm first); groups not listed follow alphabetically.
    conf_level : float
        Confidence level of the t-based CI of the mean.

    Returns
    -------
    TemperatureSummary
        ``summary`` columns: group, infusion_num, hours_after, timepoint, n, mean, sd, ci_lower,
        ci_upper (NaN CI when n < 2). Raises ``InsufficientData`` when ``agg`` is empty.
    """
    check_conf_level("temperature_from_aggregates", conf_level)
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


def fever_from_counts(
    counts: pd.DataFrame, *, threshold: float = 38.0, arms: Sequence[str] | None = None, conf_level: float = 0.95
) -> FeverIncidence:
    """Infusions and patients with fever (peak post-dose temperature >= threshold in 0-24 h), from counts
    computed in SQL (``safety_aggregates.fever_counts``).

    Parameters
    ----------
    counts : DataFrame
        Columns threshold (deg C; may hold several thresholds, the rows of ``threshold`` are used),
        unit ("infusion" or "patient"), infusion_num (NULL for patient rows), group (NULL when
        pooled), n_given, n_at_risk, n_fever, counted as described in the notes.
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
        n_reference, risk_difference, rd_lower, rd_upper, p. Raises ``InsufficientData`` when no
        infusion of ``threshold`` has a post-dose temperature.

    Notes
    -----
    At risk = infusions with at least one post-dose (0-24 h) temperature; an infusion given but
    never measured is counted in ``n_given`` only, so a missing reading is not read as "no fever".
    A patient is at risk with at least one such infusion and has fever if any infusion had fever.
    """
    func = "fever_from_counts"
    require_columns(func, counts, FEVER_COUNT_COLUMNS, arg="counts")
    check_conf_level(func, conf_level)
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
