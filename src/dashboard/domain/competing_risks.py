"""Domain layer: competing risks (death, with liver transplant competing), equal to R to 1e-6: the
Aalen-Johansen cumulative incidence with its pointwise CI (R ``survival``), Gray's test comparing cumulative
incidences (R ``cmprsk::cuminc``) and cause-specific Cox hazard ratios. Input: ``time_days`` and
``event_type`` (0 censored, 1 death, 2 transplant, ...: every value > 0 is an absorbing state) plus the
group column; conventions (groups, pooling) as :mod:`dashboard.domain.km`, checks :mod:`dashboard.domain.checks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain.checks import check_conf_level, require_columns
from dashboard.domain.cox import CoxResult, cox_hr
from dashboard.domain.km import _prepare, _z
from dashboard.errors import InsufficientData

__all__ = ["CIF_COLUMNS", "CIFResult", "GrayTest", "cause_specific_cox", "cif_at", "cumulative_incidence",
           "gray_test"]

CIF_COLUMNS = ("group", "time", "at_risk", "events", "competing", "censored", "cif", "std_err", "lower", "upper",
               "cmprsk_var")


@dataclass(frozen=True)
class CIFResult:
    """``table``: :data:`CIF_COLUMNS`, one row per group and distinct time. ``events`` counts the cause,
    ``competing`` the other event types; ``std_err`` is R ``survfit``'s (infinitesimal jackknife) SE of
    ``cif``, ``lower``/``upper`` its log-scale CI (NaN where ``cif`` is 0); ``cmprsk_var`` is R
    ``cmprsk::cuminc``'s variance of ``cif``, as ``cmprsk::timepoints`` reads it at that time."""

    table: pd.DataFrame
    groups: tuple[str, ...]
    method: str


@dataclass(frozen=True)
class GrayTest:
    """Gray's k-sample test of ``cause``'s cumulative incidence: chi-square ``statistic`` on ``df`` = groups - 1."""

    statistic: float
    df: int
    p: float
    cause: int
    method: str


def cumulative_incidence(df: pd.DataFrame, *, group_col: str | None, groups: Sequence[str] | None = None,
                         cause: int = 1, conf_level: float = 0.95) -> CIFResult:
    """Aalen-Johansen cumulative incidence of ``cause`` (default 1, death) with the other
    ``event_type`` values > 0 competing, as R ``survfit(Surv(time, factor(event_type)) ~ group)``
    ``pstate``, with its pointwise confidence interval and two variances (:class:`CIFResult`).

    ``std_err`` is R survfit's for a multi-state curve: the infinitesimal-jackknife SE of the probability
    itself (``logse = FALSE``; survival 3.5's ``survfitCI`` offers only this robust variance for multi-state
    curves, checked in competing_risks.R), with
    survfit's default ``conf.type = "log"`` for multi-state data: ``exp(log(cif) -/+ z * std_err / cif)``,
    the upper limit capped at 1. With one initial state and no case weights the jackknife influence of
    patient i on F(t) is a sum over the times u <= t at which i is at risk of
    ``a_iu (F(t) - F(u)) + S(u-) b_iu``, where a_iu = -(dN_i(u) - dN(u)/Y(u)) / (Y(u) - dN(u)) and
    b_iu = (dN_i,cause(u) - dN_cause(u)/Y(u)) / Y(u); the contributions of different times are orthogonal
    (a patient at risk at a later time had no event at an earlier one, and each time's contributions sum to
    zero), so the variance is a sum over times of three squared terms (the patients with the cause, with a
    competing event, without an event), which expands into cumulative sums (O(times), not O(patients x times)).

    ``cmprsk_var`` is Gray's delta-method variance in ``cmprsk``'s ``cinc`` (Aalen 1978, with cmprsk's
    correction for tied events, 1 - (d - 1) / (Y - 1)): at a cause event time t, the sum over u <= t of
    ``w1(u) (1 - (F(t) - F(u)) / S(u))^2 + w2(u) ((F(t) - F(u)) / S(u))^2`` with
    ``w(u) = S(u-)^2 * correction * d(u) / Y(u)^2`` for the cause (w1) and the competing events (w2);
    cmprsk reports it only at the cause's event times, so between them it is carried forward (0 before the
    first).

    Not lifelines' AalenJohansenFitter: it jitters tied times (0.1 off R on ties_cr); 1.8 s vs 60 ms CPU at 100k (bench).
    """
    require_columns("cumulative_incidence", df, ["event_type"])
    check_conf_level("cumulative_incidence", conf_level)
    data, order = _prepare("cumulative_incidence", df.assign(event=(df["event_type"] > 0).astype(int)),
                           group_col, groups, ["event_type"])
    z = _z(conf_level)
    tables = []
    for label in order:
        g = data[data["group"] == label].sort_values("time_days")
        time, etype = g["time_days"].to_numpy(float), g["event_type"].to_numpy(int)
        uniq, first = np.unique(time, return_index=True)
        at_risk = len(time) - first
        ev = np.add.reduceat((etype == cause).astype(int), first)
        any_ev = np.add.reduceat((etype > 0).astype(int), first)
        # With absorbing states, Aalen-Johansen = all-cause KM just before t times the cause hazard.
        surv_before = np.append(1.0, np.cumprod(1 - any_ev / at_risk)[:-1])
        cif = np.cumsum(surv_before * ev / at_risk)
        std_err = np.sqrt(_jackknife_variance(cif, surv_before, at_risk, ev, any_ev))
        lower, upper = _log_ci(cif, std_err, z)
        tables.append(pd.DataFrame({"group": label, "time": uniq, "at_risk": at_risk, "events": ev,
                                    "competing": any_ev - ev, "censored": np.diff(np.append(first, len(time))) - any_ev,
                                    "cif": cif, "std_err": std_err, "lower": lower, "upper": upper,
                                    "cmprsk_var": _cmprsk_variance(cif, surv_before, at_risk, ev, any_ev)}))
    return CIFResult(pd.concat(tables, ignore_index=True), order,
                     "Aalen-Johansen cumulative incidence, competing events as a separate state, pointwise "
                     f"{conf_level:.0%} CI on the log scale with the infinitesimal-jackknife standard error "
                     "(R survfit).")


def _quadratic_in_cif(cif: np.ndarray, terms: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """At each time t: sum over u <= t and over ``terms`` (weight, alpha, beta) of
    ``weight(u) * (alpha(u) * (F(t) - F(u)) + beta(u))^2``, via cumulative sums of the expanded square."""
    q = sum(w * a * a for w, a, _ in terms)
    lin = sum(2 * w * a * b for w, a, b in terms)
    const = sum(w * b * b for w, _, b in terms)
    f = cif
    out = (f * f * np.cumsum(q) - 2 * f * np.cumsum(q * f) + np.cumsum(q * f * f)
           + f * np.cumsum(lin) - np.cumsum(lin * f) + np.cumsum(const))
    # Rounding can leave -1e-18 where the variance is 0 (before the first event).
    return np.maximum(out, 0.0)


def _jackknife_variance(cif: np.ndarray, surv_before: np.ndarray, at_risk: np.ndarray, ev: np.ndarray,
                        any_ev: np.ndarray) -> np.ndarray:
    """R survfit's infinitesimal-jackknife variance of the cumulative incidence (see cumulative_incidence)."""
    y, s = at_risk.astype(float), surv_before
    h_cause = ev / y
    left = y - any_ev
    with np.errstate(divide="ignore", invalid="ignore"):
        # Patients without an event at u; none when the risk set empties (then the term has weight 0).
        a_none = np.where(left > 0, (any_ev / y) / left, 0.0)
    return _quadratic_in_cif(cif, [(ev.astype(float), -1 / y, s * (1 - h_cause) / y),
                                   ((any_ev - ev).astype(float), -1 / y, -s * h_cause / y),
                                   (left.astype(float), a_none, -s * h_cause / y)])


def _cmprsk_variance(cif: np.ndarray, surv_before: np.ndarray, at_risk: np.ndarray, ev: np.ndarray,
                     any_ev: np.ndarray) -> np.ndarray:
    """cmprsk ``cinc``'s variance of the cumulative incidence (see cumulative_incidence), carried forward
    from the cause's event times."""
    y = at_risk.astype(float)
    surv_after = surv_before * (1 - any_ev / y)
    with np.errstate(divide="ignore"):
        inv_after = np.where(surv_after > 0, 1 / surv_after, 0.0)

    def weight(d: np.ndarray) -> np.ndarray:
        ties = np.where(d > 1, 1 - (d - 1) / np.maximum(y - 1, 1), 1.0)
        return surv_before ** 2 * ties * d / y ** 2

    competing = any_ev - ev
    var = _quadratic_in_cif(cif, [(weight(ev), -inv_after, np.ones_like(y)),
                                  (np.where(surv_after > 0, weight(competing), 0.0), -inv_after, np.zeros_like(y))])
    reported = pd.Series(np.where(ev > 0, var, np.nan))
    return reported.ffill().fillna(0.0).to_numpy()


def _log_ci(p: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """R ``survfit_confint(logse = FALSE, conf.type = "log")``: NaN where the probability is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.where(p > 0, p, np.nan)
        half = z * np.where(se == 0, 0.0, se / positive)
        return np.exp(np.log(positive) - half), np.minimum(np.exp(np.log(positive) + half), 1.0)


def cif_at(cif: CIFResult, days: Sequence[float]) -> pd.DataFrame:
    """Cumulative incidence per group at the given days with its standard error and CI (step function;
    NaN beyond a group's last follow-up, as R ``summary(fit, times=...)``): columns group, day, cif,
    std_err, lower, upper. Before a group's first time all four are 0, as R gives them (the initial state,
    CI 0-0), whereas at a time of the curve where the incidence is still 0 the CI is NaN."""
    columns = ["cif", "std_err", "lower", "upper"]
    rows = []
    for label in cif.groups:
        t = cif.table[cif.table["group"] == label]
        for day in days:
            before = t[t["time"] <= day]
            if day > t["time"].max():
                values = dict.fromkeys(columns, math.nan)
            elif before.empty:
                values = dict.fromkeys(columns, 0.0)
            else:
                values = {c: float(before[c].iloc[-1]) for c in columns}
            rows.append(dict(group=label, day=day, **values))
    return pd.DataFrame(rows, columns=["group", "day", *columns])


def gray_test(df: pd.DataFrame, *, group_col: str, groups: Sequence[str] | None = None, cause: int = 1,
              rho: float = 0.0) -> GrayTest:
    """Gray's k-sample test that ``cause``'s cumulative incidence is equal in every group, other event
    types competing (Gray RJ, Ann Stat 1988;16:1141-1154), equal to R
    ``cmprsk::cuminc(ftime, fstatus, group, rho = rho, cencode = 0)$Tests`` to 1e-6.

    The score of group k compares its subdistribution hazard of the cause with the pooled one over the
    distinct event times u: ``s_k = sum_u w(u) (d_k(u) - d(u) R_k(u) / sum_r R_r(u))``, where d counts the
    cause's events, ``R_k = Y_k (1 - F_k(u-)) / S_k(u-)`` is group k's risk set re-weighted to the
    subdistribution (Y at risk, S the all-cause Kaplan-Meier, F the Aalen-Johansen CIF, both of group k)
    and ``w = (1 - F_0(u-))^rho`` with F_0 the pooled estimate under the null (rho = 0, the default, weighs
    every time alike). The covariance of the first k - 1 scores is Gray's estimator (paper section 2, as
    coded by Gray in cmprsk's ``crstm``, including its corrections for tied events); the statistic is
    ``s' V^-1 s``, chi-square on k - 1 df.

    Hand-written because no established Python library has it: lifelines (AalenJohansenFitter, no test),
    statsmodels and scikit-survival compare survival curves only (log-rank); two packages added one in
    2026, SurPyval (an IPCW variant checked by simulation, not against cmprsk) and comprisk (pre-1.0);
    neither is a dependency worth adding for this one statistic.

    Raises InsufficientData with fewer than two groups, without an event of ``cause``, or when the score
    covariance is singular (where cmprsk reports -1).
    """
    require_columns("gray_test", df, ["event_type"])
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not math.isfinite(rho) or rho < 0:
        raise ValueError(f"gray_test: argument rho={rho!r}; allowed values: a number >= 0.")
    data, order = _prepare("gray_test", df.assign(event=(df["event_type"] > 0).astype(int)), group_col, groups,
                           ["event_type"])
    if len(order) < 2:
        raise InsufficientData("Gray's test compares groups; there is only one.")
    time, etype = data["time_days"].to_numpy(float), data["event_type"].to_numpy(int)
    if not (etype == cause).any():
        raise InsufficientData(f"Gray's test needs at least one event of type {cause}; there is none.")
    member = np.stack([(data["group"] == g).to_numpy() for g in order], axis=1)  # patients x groups
    score, cov = _gray_score(time, etype == cause, etype > 0, member, float(rho))
    if np.linalg.matrix_rank(cov) < cov.shape[0]:
        raise InsufficientData("Gray's test has no variance here (singular covariance of the scores).")
    statistic = float(score @ np.linalg.solve(cov, score))
    dof = len(order) - 1
    weight = "" if rho == 0 else f", weight (1 - F)^{rho:g}"
    return GrayTest(statistic, dof, float(stats.chi2.sf(statistic, dof)), cause,
                    f"Gray's test of equal cumulative incidence of event type {cause}, other events competing"
                    f"{weight}: chi-square on {dof} df (Gray 1988; R cmprsk::cuminc).")


def _gray_score(time: np.ndarray, is_cause: np.ndarray, is_event: np.ndarray, member: np.ndarray,
                rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Gray's scores of the first k - 1 groups and their covariance (see gray_test)."""
    event_times = np.unique(time[is_event])
    slot = np.searchsorted(event_times, time)
    in_slot = is_event[:, None] & member  # patients x groups: an event at its own time

    def count(mask: np.ndarray) -> np.ndarray:  # times x groups
        return np.stack([np.bincount(slot[m], minlength=event_times.size) for m in mask.T], axis=1).astype(float)

    d1, d_all = count(in_slot & is_cause[:, None]), count(in_slot)
    d2 = d_all - d1
    at_risk = np.stack([m.sum() - np.searchsorted(np.sort(time[m]), event_times, side="left") for m in member.T],
                       axis=1).astype(float)
    risk = at_risk > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(risk, 1 - d_all / at_risk, 1.0)
        surv_after = np.cumprod(step, axis=0)
        surv_before = np.vstack([np.ones(member.shape[1]), surv_after[:-1]])
        jump = np.where(risk, surv_before * d1 / at_risk, 0.0)
        f_before = np.vstack([np.zeros(member.shape[1]), np.cumsum(jump, axis=0)[:-1]])
        t1 = np.where(risk, at_risk / surv_before, 0.0)
        sub_risk = np.where(risk, at_risk * (1 - f_before) / surv_before, 0.0)
    n1 = d1.sum(axis=1)
    tr, tq = t1.sum(axis=1), sub_risk.sum(axis=1)
    f_pooled = np.cumsum(n1 / tr)
    f_pooled_before = np.append(0.0, f_pooled[:-1])
    w = (1 - f_pooled_before) ** rho
    k1 = member.shape[1] - 1
    score = (w[:, None] * np.where(risk, d1 - n1[:, None] * sub_risk / tq[:, None], 0.0)).sum(axis=0)[:k1]

    # a(u): w t1_i (delta_ij - t1_j / tr); c: its running sum weighted by the pooled hazard of the cause.
    a = w[:, None, None] * t1[:, :, None] * (np.eye(member.shape[1])[None] - t1[:, None, :] / tr[:, None, None])
    c = np.cumsum(a * (n1 / (tr * (1 - f_pooled_before)))[:, None, None], axis=0)
    c_end = c[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t4_cause = np.where(surv_after > 0, 1 - (1 - f_pooled[:, None]) / surv_after, 1.0)
        ties_cause = np.where(n1[:, None] > 1, 1 - (n1[:, None] - 1) / (tr[:, None] * surv_before - 1), 1.0)
        t3_cause = np.where(risk & (n1[:, None] > 0), ties_cause * surv_before * n1[:, None] / (tr[:, None] * at_risk), 0.0)
        t4_comp = np.where(surv_after > 0, (1 - f_pooled[:, None]) / surv_after, 0.0)
        ties_comp = np.where(d2 > 1, 1 - (d2 - 1) / (at_risk - 1), 1.0)
        t3_comp = np.where((surv_after > 0) & (d2 > 0), ties_comp * surv_before ** 2 * d2 / at_risk ** 2, 0.0)
    # b[u, i, k]: patient-group k's influence on score i at time u, the running c replaced by its total.
    b_cause = (a - t4_cause[:, None, :] * (c - c_end[None]))[:, :k1, :]
    b_comp = (t4_comp[:, None, :] * (c_end[None] - c))[:, :k1, :]
    cov = (np.einsum("uk,uik,ujk->ij", t3_cause, b_cause, b_cause)
           + np.einsum("uk,uik,ujk->ij", t3_comp, b_comp, b_comp))
    return score, cov


def cause_specific_cox(df: pd.DataFrame, *, group_col: str, reference: str, groups: Sequence[str] | None = None,
                       cause: int = 1, conf_level: float = 0.95) -> CoxResult:
    """Cause-specific hazard ratio for ``cause``: other event types are censored (Efron ties)."""
    require_columns("cause_specific_cox", df, ["event_type"])
    result = cox_hr(df.assign(event=(df["event_type"] == cause).astype(int)), group_col=group_col,
                    reference=reference, groups=groups, conf_level=conf_level)
    return CoxResult(result.summary, result.loglik,
                     "Cause-specific Cox model, competing events censored, Efron ties (R coxph).", result.notes)
