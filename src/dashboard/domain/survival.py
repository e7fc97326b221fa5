"""Domain layer: time-to-event statistics that equal R's ``survival`` package to 1e-6.

Kaplan-Meier, log-rank, Cox (Efron), milestones and RMST on a DataFrame of ``usubjid``, ``time_days``,
``event`` and a group column (competing risks: :mod:`dashboard.domain.competing_risks`; subgroup hazard
ratios: :mod:`dashboard.domain.subgroups`).
Everything is computed here with numpy rather than lifelines: lifelines' KM has no ``log``/``plain``
CI, no R median-CI rule and its Cox fit stops at a looser tolerance, so R equality (DESIGN §5) is only
guaranteed by reimplementing R's formulas (``survfitKM``, ``survfit_confint``, ``quantile.survfit``,
``survmean``, ``survdiff``, ``coxph``). Reference fixtures: ``tests/domain/reference/*.R``.

Group order is the caller's ``groups`` (active arm first, control last) or sorted labels; with
``group_col=None`` all rows form one group labelled :data:`POOLED_LABEL` (blinded viewers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.errors import InsufficientData

CONF_TYPES = ("log-log", "log", "plain")
REQUIRED_COLUMNS = ("usubjid", "time_days", "event")
KM_COLUMNS = ("group", "time", "at_risk", "events", "censored", "survival", "std_err", "lower", "upper",
              "usubjids")
KM_SUMMARY_COLUMNS = ("group", "n", "events", "median", "median_lower", "median_upper", "q25", "q75")
COX_COLUMNS = ("group", "reference", "hr", "lower", "upper", "p")
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
class LogrankResult:
    chi2: float
    df: int
    p: float
    method: str


@dataclass(frozen=True)
class CoxResult:
    """``summary``: COX_COLUMNS, one row per non-reference group; ``loglik`` at the estimate."""

    summary: pd.DataFrame
    loglik: float
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


# --- input checks -----------------------------------------------------------------------------

def _check_columns(fn: str, df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{fn}: argument df lacks column(s) {missing}; required: {list(columns)}.")


def _check_conf(fn: str, conf_level: float, conf_type: str = "log-log") -> None:
    if conf_type not in CONF_TYPES:
        raise ValueError(f"{fn}: argument conf_type={conf_type!r}; allowed values: {list(CONF_TYPES)}.")
    if not 0 < conf_level < 1:
        raise ValueError(f"{fn}: argument conf_level={conf_level!r}; allowed values: 0 < conf_level < 1.")


def _prepare(fn: str, df: pd.DataFrame, group_col: str | None, groups: Sequence[str] | None,
             extra: Sequence[str] = ()) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Validated copy with a string ``group`` column, restricted to ``groups``, and the group order."""
    _check_columns(fn, df, [*REQUIRED_COLUMNS, *extra, *([group_col] if group_col else [])])
    if (df["time_days"] <= 0).any() or df["time_days"].isna().any():
        raise ValueError(f"{fn}: argument df has time_days <= 0 or missing; allowed values: time_days > 0.")
    if not df["event"].isin([0, 1]).all():
        raise ValueError(f"{fn}: argument df has event values other than 0/1; allowed values: 0, 1.")
    # Only the columns the estimators read: copying every covariate of 100,000 rows three times per
    # analysis cost more than the estimators themselves.
    out = df[list(dict.fromkeys([*REQUIRED_COLUMNS, *extra]))].copy()
    out["group"] = POOLED_LABEL if group_col is None else df[group_col].astype(str)
    if group_col is None:
        order: tuple[str, ...] = (POOLED_LABEL,)
    elif groups is None:
        order = tuple(sorted(out["group"].unique()))
    else:
        order = tuple(str(g) for g in groups)
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


def _km_group(g: pd.DataFrame, label: str, conf_type: str, z: float) -> pd.DataFrame:
    g = g.sort_values("time_days")
    time = g["time_days"].to_numpy(float)
    event = g["event"].to_numpy(int)
    uniq, first = np.unique(time, return_index=True)
    events = np.add.reduceat(event, first)
    counts = np.diff(np.append(first, len(time)))
    at_risk = len(time) - first
    surv = np.cumprod(1 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Greenwood; a last event that empties the risk set makes the variance infinite (R: Inf).
        logse = np.sqrt(np.cumsum(np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)))
        std_err = surv * logse
    lower, upper = _confint(surv, logse, conf_type, z)
    ids = [tuple(map(str, chunk)) for chunk in np.split(g["usubjid"].to_numpy(), first[1:])]
    return pd.DataFrame({"group": label, "time": uniq, "at_risk": at_risk, "events": events,
                         "censored": counts - events, "survival": surv, "std_err": std_err,
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
    _check_conf("km_estimate", conf_level, conf_type)
    data, order = _prepare("km_estimate", df, group_col, groups)
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


# --- log-rank and Cox -------------------------------------------------------------------------

def logrank_test(df: pd.DataFrame, *, group_col: str, groups: Sequence[str] | None = None) -> LogrankResult:
    """k-sample log-rank test, as R ``survdiff``: chi2 on k-1 df."""
    data, order = _prepare("logrank_test", df, group_col, groups)
    if len(order) < 2:
        raise InsufficientData("The log-rank test needs at least two groups with patients.")
    time = data["time_days"].to_numpy(float)
    event = data["event"].to_numpy(int)
    member = np.stack([(data["group"] == g).to_numpy() for g in order])
    event_times = np.unique(time[event == 1])
    if event_times.size == 0:
        raise InsufficientData("No events: the log-rank test needs at least one event.")
    # Per group: at risk at t = patients with time >= t; deaths at t counted by the event time's index.
    risk = np.stack([m.sum() - np.searchsorted(np.sort(time[m]), event_times, side="left") for m in member])  # k x T
    dead = np.stack([np.bincount(np.searchsorted(event_times, time[m & (event == 1)]), minlength=event_times.size)
                     for m in member])
    n, d = risk.sum(0), dead.sum(0)
    expected = (d * risk / n).sum(1)
    # Hypergeometric covariance; a single subject at risk contributes no variance (survdiff).
    factor = np.where(n > 1, d * (n - d) / np.maximum(n - 1, 1), 0.0) / n
    var = np.einsum("t,jt->j", factor, risk)[:, None] * np.eye(len(order)) - \
        np.einsum("t,jt,kt->jk", factor / n, risk, risk)
    keep = expected > 0
    diff = (dead.sum(1) - expected)[keep][1:]
    chi2 = float(diff @ np.linalg.solve(var[np.ix_(keep, keep)][1:, 1:], diff))
    dof = len(order) - 1
    return LogrankResult(chi2, dof, float(stats.chi2.sf(chi2, dof)), "Log-rank test (R survdiff).")


def _efron(x: np.ndarray, time: np.ndarray, event: np.ndarray, beta: np.ndarray):
    """Efron partial log-likelihood, score and information at ``beta`` (R coxph ties="efron").

    Vectorised: risk-set sums at every event time come from reverse cumulative sums over the rows
    sorted by time, and the Efron terms of all tied deaths are evaluated at once, so a fit on
    100,000 patients takes a fraction of a second instead of a loop over each event time.
    """
    eta = x @ beta
    w = np.exp(eta)
    order = np.argsort(time, kind="stable")
    t, xs, ws, dead = time[order], x[order], w[order], event[order] == 1
    wx = ws[:, None] * xs
    wxx = wx[:, :, None] * xs[:, None, :]
    times = np.unique(t[dead])
    first = np.searchsorted(t, times, side="left")  # risk set at time u: rows from here on (time >= u)
    s0, s1, s2 = (np.cumsum(a[::-1], axis=0)[::-1][first] for a in (ws, wx, wxx))
    k = np.searchsorted(times, t[dead])  # each death's event time
    nd = np.bincount(k, minlength=len(times))
    d0, d1, d2 = (_sum_by(k, a[dead], len(times)) for a in (ws, wx, wxx))
    # Efron: the j-th of nd tied deaths (j = 0..nd-1) removes j/nd of the deaths' weight from the risk set.
    rep = np.repeat(np.arange(len(times)), nd)
    f = (np.arange(len(rep)) - np.repeat(np.cumsum(nd) - nd, nd)) / nd[rep]
    a0 = s0[rep] - f * d0[rep]
    a1 = (s1[rep] - f[:, None] * d1[rep]) / a0[:, None]
    a2 = (s2[rep] - f[:, None, None] * d2[rep]) / a0[:, None, None]
    loglik = float(eta[event == 1].sum() - np.log(a0).sum())
    score = x[event == 1].sum(0) - a1.sum(0)
    info = a2.sum(0) - a1.T @ a1
    return loglik, score, info


def _sum_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sums of ``values`` rows (any trailing shape) per ``index`` in 0..size-1."""
    out = np.zeros((size, *values.shape[1:]))
    np.add.at(out, index, values)
    return out


def _cox_fit(x: np.ndarray, time: np.ndarray, event: np.ndarray):
    """Newton-Raphson with step halving, to a tighter tolerance than R's default so that both
    land within 1e-6 of the exact maximum. Returns (beta, covariance, loglik) or None if the
    likelihood has no finite maximum (e.g. a group without events)."""
    beta = np.zeros(x.shape[1])
    loglik, score, info = _efron(x, time, event, beta)
    scale = max(1.0, abs(loglik))
    for _ in range(50):
        try:
            new = beta + np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            return None
        new_loglik, new_score, new_info = _efron(x, time, event, new)
        # Halve only on a real decrease: near the maximum the loglik is flat to rounding noise.
        for _ in range(30):
            if new_loglik >= loglik - 1e-9 * scale:
                break
            new = (new + beta) / 2
            new_loglik, new_score, new_info = _efron(x, time, event, new)
        converged = abs(new_loglik - loglik) <= 1e-12 * scale
        beta, loglik, score, info = new, new_loglik, new_score, new_info
        if converged:
            break
    else:
        return None
    if np.abs(beta).max() > 15:
        return None
    return beta, np.linalg.inv(info), loglik


def _dummies(groups: pd.Series, levels: Sequence[str]) -> np.ndarray:
    return np.column_stack([(groups == g).to_numpy(float) for g in levels])


def _cox_rows(data: pd.DataFrame, order: Sequence[str], reference: str, z: float) -> tuple[list[dict], float]:
    others = [g for g in order if g != reference]
    fit = _cox_fit(_dummies(data["group"], others), data["time_days"].to_numpy(float),
                   data["event"].to_numpy(int))
    if fit is None:
        nan_rows = [dict(group=g, reference=reference, hr=math.nan, lower=math.nan, upper=math.nan, p=math.nan)
                    for g in others]
        return nan_rows, math.nan
    beta, cov, loglik = fit
    se = np.sqrt(np.diag(cov))
    rows = [dict(group=g, reference=reference, hr=math.exp(b), lower=math.exp(b - z * s),
                 upper=math.exp(b + z * s), p=float(2 * stats.norm.sf(abs(b / s))))
            for g, b, s in zip(others, beta, se)]
    return rows, loglik


def _reference_order(fn: str, order: tuple[str, ...], reference: str) -> None:
    if reference not in order:
        raise ValueError(f"{fn}: argument reference={reference!r}; allowed values: {list(order)}.")
    if len(order) < 2:
        raise InsufficientData("A hazard ratio needs at least two groups with patients.")


def cox_hr(df: pd.DataFrame, *, group_col: str, reference: str, groups: Sequence[str] | None = None,
           conf_level: float = 0.95) -> CoxResult:
    """Hazard ratio of each group vs ``reference``, Cox model with Efron ties and Wald CI/p, as R
    ``coxph(Surv(time_days, event) ~ group, ties="efron")``."""
    _check_conf("cox_hr", conf_level)
    data, order = _prepare("cox_hr", df, group_col, groups)
    _reference_order("cox_hr", order, reference)
    no_events = [g for g in order if data.loc[data["group"] == g, "event"].sum() == 0]
    if no_events:
        raise InsufficientData(f"No events in group(s) {no_events}: the hazard ratio is not estimable.")
    rows, loglik = _cox_rows(data, order, reference, _z(conf_level))
    return CoxResult(pd.DataFrame(rows, columns=COX_COLUMNS), loglik,
                     "Cox proportional hazards, Efron ties, Wald CI and p (R coxph).")


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
    follow-up), and each group minus ``reference`` (default: the last group) with a Wald CI from the
    Greenwood SEs and a z-test p."""
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
                lower, upper = _confint(np.array([1.0]), np.array([0.0]), km.conf_type, z)
                rows.append(dict(group=label, day=day, survival=1.0, std_err=0.0, lower=lower[0], upper=upper[0]))
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
    _check_conf("rmst", conf_level)
    km = km_estimate(df, group_col=group_col, groups=groups, conf_level=conf_level)
    return rmst_from_km(km, horizon=horizon, reference=reference, conf_level=conf_level)


def rmst_from_km(km: KMResult, *, horizon: float, reference: str | None = None, conf_level: float = 0.95) -> RMSTResult:
    """:func:`rmst` from a Kaplan-Meier estimate already made (its confidence settings do not matter: the
    RMST and its SE use only the survival, at-risk and event counts), so a page need not estimate twice."""
    _check_conf("rmst_from_km", conf_level)
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


# --- selection and report ---------------------------------------------------------------------

def patients_in_window(df: pd.DataFrame, start_day: float, end_day: float) -> pd.DataFrame:
    """Rows whose event or censoring falls in [start_day, end_day] (a range selected on a KM plot)."""
    _check_columns("patients_in_window", df, REQUIRED_COLUMNS)
    if start_day > end_day:
        raise ValueError(f"patients_in_window: argument start_day={start_day} > end_day={end_day}; "
                         "allowed values: start_day <= end_day.")
    inside = df["time_days"].between(start_day, end_day)
    return df[inside].sort_values(["time_days", "usubjid"]).reset_index(drop=True)


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    return frame[list(columns)].to_dict("records")


@dataclass(frozen=True)
class SurvivalAnalysis:
    """What the survival page and the ``survival`` command show. ``logrank``/``cox`` are None when
    pooled (one group) or not estimable; ``notes`` then says why (user-facing)."""

    km: KMResult
    logrank: LogrankResult | None
    cox: CoxResult | None
    milestones: MilestoneResult
    reference: str
    notes: tuple[str, ...]
    method: str


def survival_analysis(df: pd.DataFrame, *, group_col: str | None, groups: Sequence[str] | None = None,
                      reference: str | None = None, conf_type: str = "log-log",
                      milestones_days: Sequence[float] = ()) -> SurvivalAnalysis:
    """Kaplan-Meier, log-rank, Cox (each group vs ``reference``, default the last group) and survival
    at ``milestones_days``: one call, so the page and the command line show the same numbers."""
    km = km_estimate(df, group_col=group_col, groups=groups, conf_type=conf_type)
    reference = km.groups[-1] if reference is None else reference
    logrank = cox = None
    notes: list[str] = []
    if len(km.groups) > 1:
        try:
            logrank = logrank_test(df, group_col=group_col, groups=km.groups)
            cox = cox_hr(df, group_col=group_col, reference=reference, groups=km.groups)
        except InsufficientData as exc:
            notes.append(str(exc))
    milestones = survival_at(km, milestones_days, reference=reference if len(km.groups) > 1 else None)
    method = " ".join([km.method] + [r.method for r in (logrank, cox) if r is not None])
    return SurvivalAnalysis(km, logrank, cox, milestones, reference, tuple(notes), method)


def survival_report(df: pd.DataFrame, *, group_col: str | None, groups: Sequence[str] | None = None,
                    reference: str | None = None, conf_type: str = "log-log",
                    milestones_days: Sequence[float] = ()) -> dict:
    """:func:`survival_analysis` as a JSON-ready dict (NaN -> None). With one group (pooled), or when
    a comparison is not estimable, ``logrank`` and ``cox`` are None."""
    a = survival_analysis(df, group_col=group_col, groups=groups, reference=reference, conf_type=conf_type,
                          milestones_days=milestones_days)
    return _json_safe({
        "groups": _records(a.km.summary, ["group", "n", "events", "median", "median_lower", "median_upper"]),
        "logrank": {"chi2": a.logrank.chi2, "df": a.logrank.df, "p": a.logrank.p} if a.logrank else None,
        "cox": _records(a.cox.summary, COX_COLUMNS) if a.cox else None,
        "km": _records(a.km.table, ["group", "time", "at_risk", "events", "censored", "survival", "lower", "upper"]),
        "milestones": _records(a.milestones.summary, ["group", "day", "survival", "lower", "upper"]),
        "method": a.method,
    })
