"""Domain layer: change from baseline compared between two arms, visit by visit (DSMB only).

ANCOVA ``chg ~ arm + base`` with the Wilcoxon rank-sum test alongside, computed from per-arm, per-visit
sufficient statistics (``AGGREGATE_COLUMNS``) computed in SQL (``dashboard.data.comparison_aggregates``).
The rule this module keeps: there is one statistics implementation; the test oracle
``tests.oracle.arm_comparison`` reduces lab rows to the same statistics in pandas and hands them to the same
tail. A comparison needs arms, so there is no pooled variant (DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from dashboard.domain.checks import check_conf_level, require_columns
from dashboard.errors import UnsuitableData

COMPARISON_COLUMNS = ("visit_num", "visit", "n_active", "n_reference", "diff", "lower", "upper", "p",
                      "p_wilcoxon", "warning")
# Per arm and post-baseline visit: n, means and within-arm centred sums of squares / cross-products
# of chg and base, the arm's sum of average ranks of chg over the visit's pooled sample, and the
# visit's tie term sum(t^3 - t) over groups of equal chg.
AGGREGATE_COLUMNS = ("group", "visit_num", "visit", "n", "chg_mean", "base_mean", "ss_base", "ss_chg",
                     "sp_base_chg", "rank_sum", "tie_term")
# Below this many patients per arm a comparison is shown but flagged (brief; DSMB reading aid).
MIN_PER_ARM = 5
# R lm's QR drops a column whose norm, after removing the columns before it, is below 1e-7 times its
# own norm (lm.fit tol); base is then aliased with intercept + arm (constant within each arm).
_ALIAS_TOL = 1e-7


@dataclass(frozen=True)
class ArmComparison:
    """Change from baseline, active vs reference, per post-baseline visit (``COMPARISON_COLUMNS``)."""

    summary: pd.DataFrame
    active: str
    reference: str
    conf_level: float
    method: str


def comparison_from_aggregates(agg: pd.DataFrame, *, active: str, reference: str,
                               conf_level: float = 0.95) -> ArmComparison:
    """ANCOVA of change from baseline (chg ~ arm + base) with the Wilcoxon rank-sum test alongside, from
    per-arm, per-visit sufficient statistics computed in SQL.

    Parameters
    ----------
    agg : DataFrame
        ``AGGREGATE_COLUMNS``: one row per arm and post-baseline visit with a change from baseline
        (an arm without one at a visit has no row); optionally ``duplicate_rows``, the lab rows beyond
        one per patient and visit, which must be 0 (one value per patient and visit).
    active, reference : str
        Arm names; ``diff`` is active minus reference; rows of other arms are ignored.
    conf_level : float
        Confidence level of the adjusted difference.

    Returns
    -------
    ArmComparison
        ``summary`` with columns ``COMPARISON_COLUMNS`` per post-baseline visit.

    Notes
    -----
    ANCOVA by ordinary least squares with a common slope (as R ``lm(chg ~ arm + base)``); ``diff`` is
    the arm coefficient, the baseline-adjusted mean difference, with its t-based CI and p. The
    Wilcoxon rank-sum p is two-sided, always the normal approximation with tie correction and
    continuity correction (as scipy ``mannwhitneyu(method="asymptotic")`` and R ``wilcox.test(exact =
    FALSE, correct = TRUE)``), so the p does not switch method with sample size or ties. p-values are
    nominal, unadjusted for multiplicity across visits and parameters.

    Common-slope ANCOVA from within-arm sums: beta = sum Sby / sum Sbb; diff = (ybar_a - ybar_r) -
    beta (bbar_a - bbar_r); residual SS = sum Syy - beta sum Sby on n - 3 df; SE = sqrt(s2 (1/n_a +
    1/n_r + (bbar_a - bbar_r)^2 / sum Sbb)). When base is constant within both arms it is aliased and
    dropped as R ``lm`` does (beta = 0, n - 2 df). Wilcoxon: U = max(U1, n_a n_r - U1) with U1 = R_a -
    n_a (n_a + 1) / 2, z = (U - n_a n_r / 2 - 0.5) / sigma, sigma^2 = n_a n_r / 12 ((n + 1) - sum(t^3 -
    t) / (n (n - 1))), p = min(1, 2 Phi(-z)), as scipy ``mannwhitneyu`` (asymptotic, continuity).
    """
    func = "comparison_from_aggregates"
    require_columns(func, agg, AGGREGATE_COLUMNS, arg="agg")
    check_conf_level(func, conf_level)
    _check_arms_differ(func, active, reference)
    if "duplicate_rows" in agg.columns and (agg["duplicate_rows"] > 0).any():
        raise UnsuitableData(f"{func}: the lab rows have several post-baseline values for one usubjid and "
                             "visit_num; load a data cut with one value per patient and visit.")
    return _comparison(agg[agg["group"].isin([active, reference])], active, reference, conf_level)


def _check_arms_differ(func: str, active: str, reference: str) -> None:
    if active == reference:
        raise ValueError(f"{func}: active and reference must differ, both are {active!r}.")


def _comparison(agg: pd.DataFrame, active: str, reference: str, conf_level: float) -> ArmComparison:
    rows = []
    for vnum, part in agg.groupby("visit_num", sort=True):
        arm = {g: r for g, r in zip(part["group"], part.itertuples(index=False))}
        rows.append(_compare_one(int(vnum), part["visit"].iloc[0], arm.get(active), arm.get(reference),
                                 active, reference, conf_level))
    summary = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    method = (f"ANCOVA chg ~ arm + baseline (OLS, as R lm): adjusted mean difference {active} - {reference} "
              f"with {conf_level:.0%} CI; Wilcoxon rank-sum on chg (normal approximation with tie and "
              "continuity correction, as R wilcox.test(exact=FALSE)); p-values nominal, unadjusted for "
              "multiplicity.")
    return ArmComparison(summary=summary, active=active, reference=reference, conf_level=conf_level,
                         method=method)


def _compare_one(vnum: int, visit: str, a, r, active: str, reference: str, conf_level: float) -> dict:
    """One visit's row from the active (``a``) and reference (``r``) aggregate rows (None: no patients)."""
    n_a, n_r = (0 if x is None else int(x.n) for x in (a, r))
    row = dict(visit_num=vnum, visit=visit, n_active=n_a, n_reference=n_r, diff=np.nan, lower=np.nan,
               upper=np.nan, p=np.nan, p_wilcoxon=np.nan, warning="")
    small = [f"{arm} n={n}" for arm, n in ((active, n_a), (reference, n_r)) if n < MIN_PER_ARM]
    if small:
        row["warning"] = f"fewer than {MIN_PER_ARM} patients ({', '.join(small)}): interpret with caution"
    if n_a == 0 or n_r == 0:
        return row
    # Three coefficients (intercept, arm, base) need at least one residual degree of freedom.
    if n_a + n_r > 3:
        row.update(_ancova(a, r, n_a, n_r, conf_level))
    row["p_wilcoxon"] = _wilcoxon_p(float(a.rank_sum), n_a, n_r, float(a.tie_term))
    return row


def _ancova(a, r, n_a: int, n_r: int, conf_level: float) -> dict:
    sbb, sby, syy = (float(getattr(a, c)) + float(getattr(r, c)) for c in ("ss_base", "sp_base_chg", "ss_chg"))
    d_base = float(a.base_mean) - float(r.base_mean)
    aliased = sbb <= _ALIAS_TOL ** 2 * (sbb + n_a * float(a.base_mean) ** 2 + n_r * float(r.base_mean) ** 2)
    beta = 0.0 if aliased else sby / sbb
    df = n_a + n_r - (2 if aliased else 3)
    diff = (float(a.chg_mean) - float(r.chg_mean)) - beta * d_base
    # Rounding can leave a perfect fit's residual SS a hair below zero.
    s2 = max(syy - beta * sby, 0.0) / df
    se = np.sqrt(s2 * (1 / n_a + 1 / n_r + (0.0 if aliased else d_base ** 2 / sbb)))
    half = stats.t.ppf((1 + conf_level) / 2, df) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(diff / np.float64(se)), df)
    return dict(diff=diff, lower=diff - half, upper=diff + half, p=float(p))


def _wilcoxon_p(rank_sum: float, n_a: int, n_r: int, tie_term: float) -> float:
    n = n_a + n_r
    u1 = rank_sum - n_a * (n_a + 1) / 2
    u = max(u1, n_a * n_r - u1)
    sigma = np.sqrt(n_a * n_r / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    # All values tied: sigma = 0 and z = -inf, which scipy turns into p = 1.
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u - n_a * n_r / 2 - 0.5) / np.float64(sigma)
    return float(np.clip(2 * special.ndtr(-z), 0.0, 1.0))
