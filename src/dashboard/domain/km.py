"""Domain layer: Kaplan-Meier estimates, equal to R's ``survival`` package to 1e-6 (DESIGN §5).

Kaplan-Meier with Greenwood SE and pointwise CI (R ``survfitKM``, ``survfit_confint``), medians and
quartiles (``survmean``, ``quantile.survfit``), survival at milestones (``summary(fit, times=)``) and
restricted mean survival time (``survmean`` with ``rmean``). Input: a DataFrame of ``usubjid``,
``time_days``, ``event`` and a group column; checks as :mod:`dashboard.domain.checks`.

Group order is the caller's ``groups`` (active arm first, control last) or sorted labels; with
``group_col=None`` all rows form one group labelled :data:`POOLED_LABEL` (blinded viewers).

lifelines (the product's survival library) is measured against this code and R by
``bench/survival_fitters.py``; it is slower everywhere here, and off R in places, so the estimators are
numpy, each with a one-line reason (:func:`_km_curve`, ``cox._logrank``, ``cox._cox_fit``,
``competing_risks.cumulative_incidence``). R's log and plain CIs and median-CI rule are not in lifelines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import (
    CONF_TYPES,
    check_conf_level,
    check_conf_type,
    check_group_col,
    group_labels,
    group_order,
    require_columns,
)
from dashboard.errors import InsufficientData

__all__ = ["CONF_TYPES", "KM_COLUMNS", "KM_SUMMARY_COLUMNS", "REQUIRED_COLUMNS", "KMResult", "MilestoneResult",
           "RMSTResult", "km_estimate", "rmst", "rmst_from_km", "survival_at"]

REQUIRED_COLUMNS = ("usubjid", "time_days", "event")
KM_COLUMNS = ("group", "time", "at_risk", "events", "censored", "survival", "std_err", "lower", "upper",
              "usubjids")
KM_SUMMARY_COLUMNS = ("group", "n", "events", "median", "median_lower", "median_upper", "q25", "q75")
# R's quantile.survfit / survmean tolerance for "the curve is exactly at p".
_TOL = math.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class KMResult:
    """Kaplan-Meier curves: ``table`` (KM_COLUMNS, one row per group and distinct time; ``std_err``
    is the Greenwood SE of survival) and ``summary`` (KM_SUMMARY_COLUMNS)."""

    table: pd.DataFrame
    summary: pd.DataFrame
    groups: tuple[str, ...]
    conf_level: float
    conf_type: str
    method: str


@dataclass(frozen=True)
class MilestoneResult:
    """``summary``: group, day, survival, std_err, lower, upper; ``difference``: group, reference,
    day, difference, lower, upper, p (each non-reference group minus the reference)."""

    summary: pd.DataFrame
    difference: pd.DataFrame
    method: str


@dataclass(frozen=True)
class RMSTResult:
    """``summary``: group, horizon, rmst, se, lower, upper; ``difference``: group, reference,
    difference, lower, upper, p."""

    summary: pd.DataFrame
    difference: pd.DataFrame
    method: str


# --- input ----------------------------------------------------------------------------------

def _prepare(fn: str, df: pd.DataFrame, group_col: str | None, groups: Sequence[str] | None,
             extra: Sequence[str] = ()) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Validated copy with a string ``group`` column, restricted to ``groups``, and the group order."""
    require_columns(fn, df, [*REQUIRED_COLUMNS, *extra])
    check_group_col(fn, df, group_col)
    if (df["time_days"] <= 0).any() or df["time_days"].isna().any():
        raise ValueError(f"{fn}: argument df has time_days <= 0 or missing; allowed values: time_days > 0.")
    if not df["event"].isin([0, 1]).all():
        raise ValueError(f"{fn}: argument df has event values other than 0/1; allowed values: 0, 1.")
    # Only the columns the estimators read: copying every covariate of 100,000 rows three times per
    # analysis cost more than the estimators themselves.
    out = df[list(dict.fromkeys([*REQUIRED_COLUMNS, *extra]))].copy()
    out["group"] = group_labels(df, group_col)
    order = (POOLED_LABEL,) if group_col is None else group_order(out["group"].unique(), groups)
    if groups is not None and group_col is not None:
        out = out[out["group"].isin(order)]
    empty = [g for g in order if not (out["group"] == g).any()]
    if empty or out.empty:
        raise InsufficientData(f"No patients in group(s) {empty or list(order)}. Widen the filters.")
    return out, order


def _z(conf_level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - conf_level) / 2))


# --- Kaplan-Meier -----------------------------------------------------------------------------

def _confint(surv: np.ndarray, logse: np.ndarray, conf_type: str, z: float) -> tuple[np.ndarray, np.ndarray]:
    """R ``survfit_confint`` with ``logse=TRUE`` (``logse`` is the SE of the cumulative hazard)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = logse * surv * z
            return np.maximum(surv - half, 0), np.minimum(surv + half, 1)
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            return np.exp(np.log(xx) - z * logse), np.minimum(np.exp(np.log(xx) + z * logse), 1)
        # log-log is undefined at survival 0 and 1; R leaves those limits NA.
        xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
        shift = z * logse / np.log(xx)
        loglog = np.log(-np.log(xx))
        return np.exp(-np.exp(loglog - shift)), np.exp(-np.exp(loglog + shift))


def _km_curve(time: np.ndarray, event: np.ndarray) -> dict[str, np.ndarray]:
    """Kaplan-Meier at each distinct time of ``time`` (sorted): counts, survival and the Greenwood SE of
    the cumulative hazard (``logse``), as R ``survfitKM``.

    Not lifelines' KaplanMeierFitter: equal to R (2e-15) but 28 vs 13 ms CPU for 2 arms at 100k (bench/survival_fitters.py).
    """
    uniq, first = np.unique(time, return_index=True)
    events = np.add.reduceat(event, first)
    at_risk = len(time) - first
    surv = np.cumprod(1 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Greenwood; a last event that empties the risk set makes the variance infinite (R: Inf).
        logse = np.sqrt(np.cumsum(np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)))
    return {"time": uniq, "first": first, "at_risk": at_risk, "events": events,
            "censored": np.diff(np.append(first, len(time))) - events, "survival": surv, "logse": logse}


def _km_group(g: pd.DataFrame, label: str, conf_type: str, z: float) -> pd.DataFrame:
    g = g.sort_values("time_days")
    c = _km_curve(g["time_days"].to_numpy(float), g["event"].to_numpy(int))
    with np.errstate(invalid="ignore"):
        std_err = c["survival"] * c["logse"]
    lower, upper = _confint(c["survival"], c["logse"], conf_type, z)
    ids = [tuple(map(str, chunk)) for chunk in np.split(g["usubjid"].to_numpy(), c["first"][1:])]
    return pd.DataFrame({"group": label, "time": c["time"], "at_risk": c["at_risk"], "events": c["events"],
                         "censored": c["censored"], "survival": c["survival"], "std_err": std_err,
                         "lower": lower, "upper": upper, "usubjids": ids})


def _minmin(y: np.ndarray, x: np.ndarray) -> float:
    """R ``survmean`` median: first time the curve is below 0.5, averaged over a flat 0.5 stretch."""
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return math.nan
    x, y = x[keep], y[keep]
    lower = np.flatnonzero(y < y[0])
    if abs(y[0] - 0.5) < _TOL and lower.size:
        return float((x[0] + x[lower[0]]) / 2)
    return float(x[0])


def _findq(x: np.ndarray, y: np.ndarray, p: float) -> float:
    """R ``quantile.survfit``'s findq: x from time 0, y = 1 - curve (a distribution function)."""
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return math.nan
    xmax = x[-1]
    _, first = np.unique(np.where(np.isnan(y), np.inf, y), return_index=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]

    def index(shift: float) -> int | None:
        # approx(y + shift, 1:n, p, "constant", f = 1): the point with the smallest y + shift >= p.
        cand = np.flatnonzero(~np.isnan(y) & (y + shift >= p))
        return int(cand[np.argmin(y[cand])]) if cand.size else None

    i1, i2 = index(_TOL), index(-_TOL)
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _TOL and i1 is not None:
        return float((x[i1] + xmax) / 2)
    return math.nan if i1 is None or i2 is None else float((x[i1] + x[i2]) / 2)


def _km_summary(t: pd.DataFrame, label: str, n: int) -> dict:
    time = t["time"].to_numpy()
    x = np.append(0.0, time)
    curve = {c: t[c].to_numpy(float) for c in ("survival", "lower", "upper")}
    return {"group": label, "n": n, "events": int(t["events"].sum()),
            "median": _minmin(curve["survival"], time),
            "median_lower": _minmin(curve["lower"], time),
            "median_upper": _minmin(curve["upper"], time),
            "q25": _findq(x, np.append(0.0, 1 - curve["survival"]), 0.25),
            "q75": _findq(x, np.append(0.0, 1 - curve["survival"]), 0.75)}


def km_estimate(df: pd.DataFrame, *, group_col: str | None, groups: Sequence[str] | None = None,
                conf_level: float = 0.95, conf_type: str = "log-log") -> KMResult:
    """Kaplan-Meier survival per group, as R ``survfit(Surv(time_days, event) ~ group)``.

    Parameters
    ----------
    df : DataFrame with ``usubjid``, ``time_days`` (days, > 0), ``event`` (1 event, 0 censored).
    group_col : column holding the group, or None to pool all rows as :data:`POOLED_LABEL`.
    groups : group order (active first, control last); default sorted.
    conf_level, conf_type : pointwise CI level and scale (``"log-log"``, ``"log"``, ``"plain"``).

    Returns
    -------
    KMResult; ``summary`` medians and their CI follow R ``summary(fit)$table`` (``survmean``), ``q25``
    and ``q75`` are R ``quantile(fit, c(.25, .75))``: times by which 25 % / 75 % had the event.
    """
    check_conf_type("km_estimate", conf_type)
    check_conf_level("km_estimate", conf_level)
    return _km_of_prepared(*_prepare("km_estimate", df, group_col, groups), conf_level, conf_type)


def _km_of_prepared(data: pd.DataFrame, order: tuple[str, ...], conf_level: float, conf_type: str) -> KMResult:
    """:func:`km_estimate` of rows :func:`_prepare` already checked (one preparation serves a whole analysis)."""
    z = _z(conf_level)
    tables, rows = [], []
    for label in order:
        g = data[data["group"] == label]
        t = _km_group(g, label, conf_type, z)
        tables.append(t)
        rows.append(_km_summary(t, label, len(g)))
    method = (f"Kaplan-Meier, Greenwood variance, {conf_level:.0%} pointwise CI ({conf_type} scale); "
              "median CI where the CI curves cross 0.5 (R survfit).")
    return KMResult(pd.concat(tables, ignore_index=True), pd.DataFrame(rows, columns=KM_SUMMARY_COLUMNS),
                    order, conf_level, conf_type, method)


# --- milestones, RMST -------------------------------------------------------------------------

def _difference_rows(est: pd.DataFrame, value: str, se: str, reference: str, z: float, keys: Sequence[str]):
    ref = est[est["group"] == reference].set_index(list(keys))
    rows = []
    for _, r in est[est["group"] != reference].iterrows():
        key = tuple(r[k] for k in keys)
        other = ref.loc[key if len(keys) > 1 else key[0]]
        diff = r[value] - other[value]
        s = math.hypot(r[se], other[se])
        p = float(2 * stats.norm.sf(abs(diff / s))) if s > 0 else math.nan
        rows.append({**{k: r[k] for k in keys}, "group": r["group"], "reference": reference,
                     "difference": diff, "lower": diff - z * s, "upper": diff + z * s, "p": p})
    return rows


def survival_at(km: KMResult, times: Sequence[float], *, reference: str | None = None) -> MilestoneResult:
    """Survival with CI at the given days, as R ``summary(fit, times=...)`` (NaN beyond a group's last
    follow-up; survival 1 with CI 1-1 before its first time), and each group minus ``reference``
    (default: the last group) with a Wald CI from the Greenwood SEs and a z-test p."""
    reference = km.groups[-1] if reference is None else reference
    if reference not in km.groups:
        raise ValueError(f"survival_at: argument reference={reference!r}; allowed values: {list(km.groups)}.")
    z = _z(km.conf_level)
    rows = []
    for label in km.groups:
        t = km.table[km.table["group"] == label]
        for day in times:
            before = t[t["time"] <= day]
            if day > t["time"].max():
                rows.append(dict(group=label, day=day, survival=math.nan, std_err=math.nan,
                                 lower=math.nan, upper=math.nan))
            elif before.empty:
                # Before the group's first time R reports the CI 1-1 whatever the scale (at an observed
                # time with survival 1 it reports the curve's own limits: NA on the log-log scale).
                rows.append(dict(group=label, day=day, survival=1.0, std_err=0.0, lower=1.0, upper=1.0))
            else:
                last = before.iloc[-1]
                rows.append(dict(group=label, day=day, survival=last["survival"], std_err=last["std_err"],
                                 lower=last["lower"], upper=last["upper"]))
    est = pd.DataFrame(rows, columns=["group", "day", "survival", "std_err", "lower", "upper"])
    diff = pd.DataFrame(_difference_rows(est, "survival", "std_err", reference, z, ["day"]),
                        columns=["day", "group", "reference", "difference", "lower", "upper", "p"])
    return MilestoneResult(est, diff, "Kaplan-Meier survival at fixed days; difference with Wald CI "
                                      "from Greenwood standard errors and z-test p.")


def _rmst_group(t: pd.DataFrame, horizon: float) -> tuple[float, float]:
    """R ``survmean`` with ``rmean=horizon``: area under the curve to ``horizon`` and its SE."""
    time, surv = t["time"].to_numpy(float), t["survival"].to_numpy(float)
    n, d = t["at_risk"].to_numpy(float), t["events"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    keep = time <= horizon
    if not keep.any():
        return float(horizon), 0.0
    temptime = np.append(time[keep], horizon)
    tempsurv = np.append(surv[keep], surv[keep][-1])
    hh = np.append(hh[keep], 0.0)
    rect = np.diff(np.append(0.0, temptime)) * np.append(1.0, tempsurv[:-1])
    var = np.sum(np.cumsum(rect[1:][::-1]) ** 2 * hh[::-1][1:])
    return float(rect.sum()), float(math.sqrt(var))


def rmst(df: pd.DataFrame, *, group_col: str | None, horizon: float, groups: Sequence[str] | None = None,
         reference: str | None = None, conf_level: float = 0.95) -> RMSTResult:
    """Restricted mean survival time to ``horizon`` days per group with SE as R
    ``summary(survfit(...), rmean=horizon)$table``; Wald CI; each group minus ``reference`` (default
    the last group) with a z-test."""
    check_conf_level("rmst", conf_level)
    km = km_estimate(df, group_col=group_col, groups=groups, conf_level=conf_level)
    return rmst_from_km(km, horizon=horizon, reference=reference, conf_level=conf_level)


def rmst_from_km(km: KMResult, *, horizon: float, reference: str | None = None, conf_level: float = 0.95) -> RMSTResult:
    """:func:`rmst` from a Kaplan-Meier estimate already made (its confidence settings do not matter: the
    RMST and its SE use only the survival, at-risk and event counts), so a page need not estimate twice."""
    check_conf_level("rmst_from_km", conf_level)
    if not horizon > 0:
        raise ValueError(f"rmst: argument horizon={horizon!r}; allowed values: horizon > 0 (days).")
    z = _z(conf_level)
    rows = []
    for label in km.groups:
        value, se = _rmst_group(km.table[km.table["group"] == label], horizon)
        rows.append(dict(group=label, horizon=horizon, rmst=value, se=se, lower=value - z * se, upper=value + z * se))
    est = pd.DataFrame(rows)
    reference = km.groups[-1] if reference is None else reference
    diff = pd.DataFrame(_difference_rows(est, "rmst", "se", reference, z, ["horizon"]),
                        columns=["horizon", "group", "reference", "difference", "lower", "upper", "p"])
    return RMSTResult(est, diff, f"Restricted mean survival time to day {horizon:g} (R survfit rmean); "
                                 "Wald CI; difference by z-test.")
