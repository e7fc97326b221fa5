"""Domain layer: MELD with death ranked worst, the DSMB's "keep the dead" comparison of two arms at a
landmark day. Two analyses of one ordering of patients: worst-rank scores (Lachin JM, Worst-rank score
analysis with informatively missing observations in clinical trials, Control Clin Trials 1999;20:408-422)
and the win ratio (Pocock SJ, Ariti CA, Collier TJ, Wang D, The win ratio, Eur Heart J 2012;33:176-182).

Input: one row per patient with the columns :data:`COMPOSITE_COLUMNS` and a group column (study days, day 1
the first infusion; a missing day or value is NaN):

- ``meld_baseline``: MELD at baseline; ``meld_landmark``: MELD at the landmark visit, NaN if not measured;
- ``death_day``, ``transplant_day``: study day of death / liver transplant, NaN if none;
- ``followup_day``: the last study day the patient was observed (alive, or the day of death).

The ordering at landmark day L, worst first (:func:`landmark_outcomes`):

1. death on or before day L, an earlier death worse (a transplanted patient who then died by day L is here);
2. liver transplant on or before day L, an earlier transplant worse: in liver failure a transplant is a
   treatment failure (the native liver did not recover), so it ranks below every survivor without one, but
   the patient lives, so it ranks above every death;
3. alive and not transplanted at day L: by MELD change from baseline to day L, a larger increase worse.

Left out, and counted in the result's note: patients without a baseline MELD; patients alive and not
transplanted whose follow-up ended before day L (withdrawn, lost, or not yet at day L at the data cut:
their outcome at L is unknown, not bad); and such patients with follow-up to day L but no MELD at the
landmark visit (missing at random is assumed for them; carrying an earlier value forward would credit a
patient who worsened after it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain.checks import check_conf_level, check_group_col, require_columns
from dashboard.errors import InsufficientData

__all__ = ["COMPOSITE_COLUMNS", "LEVELS", "WinRatioResult", "WorstRankResult", "landmark_outcomes", "win_ratio",
           "worst_rank_analysis"]

COMPOSITE_COLUMNS = ("usubjid", "meld_baseline", "meld_landmark", "death_day", "transplant_day", "followup_day")
# The outcome levels, worst first: the tier of a patient and the level at which a pair is decided.
DEATH, TRANSPLANT, MELD_CHANGE = "death", "transplant", "MELD change"
LEVELS = (DEATH, TRANSPLANT, MELD_CHANGE)


@dataclass(frozen=True)
class WorstRankResult:
    """Worst-rank composite at ``landmark_day``, ``active`` against ``reference``.

    ``scores``: one row per analysed patient (usubjid, group, outcome (a :data:`LEVELS` name), day (of death
    or transplant), meld_change, rank: 1 the worst, ties averaged); ``summary``: per group n, deaths,
    transplants, survivors, mean_rank; ``u_statistic``: the Mann-Whitney U of ``active`` (R wilcox.test's W,
    ``active`` first), ``win_probability`` = U / (n_active n_reference); ``p_wilcoxon``; the rank ANCOVA's
    arm coefficient ``ancova_difference`` (mean rank, ``active`` minus ``reference``, adjusted for the rank
    of baseline MELD) with ``ancova_se``, ``ancova_lower``, ``ancova_upper``, ``ancova_p``; ``excluded``
    (usubjid, group, reason); ``note`` (who was left out, for the page); ``method`` (a figure footnote)."""

    scores: pd.DataFrame
    summary: pd.DataFrame
    active: str
    reference: str
    landmark_day: float
    u_statistic: float
    win_probability: float
    p_wilcoxon: float
    ancova_difference: float
    ancova_se: float
    ancova_lower: float
    ancova_upper: float
    ancova_p: float
    conf_level: float
    excluded: pd.DataFrame
    note: str
    method: str


@dataclass(frozen=True)
class WinRatioResult:
    """Win ratio of ``active`` against ``reference`` at ``landmark_day``.

    ``levels``: per level of :data:`LEVELS` the pairs decided there (wins and losses of ``active``) and the
    pairs left tied there (ties; not compared further); ``wins``, ``losses``, ``ties``, ``pairs`` their
    totals; ``win_ratio`` = wins / losses with ``lower``, ``upper``, ``p`` and ``se_log`` (the SE of its
    log); NaN where wins or losses are 0. ``excluded``, ``note``, ``method`` as :class:`WorstRankResult`."""

    levels: pd.DataFrame
    active: str
    reference: str
    landmark_day: float
    wins: int
    losses: int
    ties: int
    pairs: int
    win_ratio: float
    se_log: float
    lower: float
    upper: float
    p: float
    conf_level: float
    excluded: pd.DataFrame
    note: str
    method: str


def landmark_outcomes(df: pd.DataFrame, *, group_col: str, active: str, reference: str,
                      landmark_day: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each patient's outcome at ``landmark_day`` under the module's rule, for the two arms.

    Returns ``(outcomes, excluded)``: ``outcomes`` has usubjid, group, outcome (a :data:`LEVELS` name),
    day (of death or transplant, else NaN), meld_baseline, meld_change (survivors only) and ``order``, an
    integer code that sorts the patients worst first with equal codes for equal outcomes; ``excluded``
    has usubjid, group, reason. Rows of other groups are dropped.
    """
    fn = "landmark_outcomes"
    require_columns(fn, df, COMPOSITE_COLUMNS)
    check_group_col(fn, df, group_col)
    if group_col is None:
        raise ValueError(f"{fn}: argument group_col=None; allowed values: a column of df (two arms are compared).")
    if active == reference:
        raise ValueError(f"{fn}: active and reference must differ, both are {active!r}.")
    if isinstance(landmark_day, bool) or not isinstance(landmark_day, (int, float)) or not landmark_day >= 1:
        raise ValueError(f"{fn}: argument landmark_day={landmark_day!r}; allowed values: a study day >= 1.")
    data = df[df[group_col].astype(str).isin([active, reference])]
    data = data.assign(group=data[group_col].astype(str))
    if data["usubjid"].duplicated().any():
        raise ValueError(f"{fn}: argument df has several rows for one usubjid; allowed: one row per patient.")
    numeric = {c: pd.to_numeric(data[c], errors="coerce") for c in COMPOSITE_COLUMNS[1:]}
    if numeric["followup_day"].isna().any():
        raise ValueError(f"{fn}: argument df has a missing followup_day; every patient needs the last day observed.")
    dead = numeric["death_day"] <= landmark_day
    transplanted = ~dead & (numeric["transplant_day"] <= landmark_day)
    alive = ~dead & ~transplanted
    day = numeric["death_day"].where(dead, numeric["transplant_day"].where(transplanted))
    reasons = pd.Series(None, index=data.index, dtype=object)
    reasons[alive & numeric["meld_landmark"].isna()] = f"alive without a MELD at day {landmark_day:g}"
    reasons[alive & (numeric["followup_day"] < landmark_day)] = f"alive, followed for less than {landmark_day:g} days"
    reasons[numeric["meld_baseline"].isna()] = "no baseline MELD"
    kept = reasons.isna()
    excluded = pd.DataFrame({"usubjid": data["usubjid"], "group": data["group"], "reason": reasons})[~kept]
    outcome = np.select([dead, transplanted], [DEATH, TRANSPLANT], MELD_CHANGE)
    change = (numeric["meld_landmark"] - numeric["meld_baseline"]).where(alive)
    out = pd.DataFrame({"usubjid": data["usubjid"], "group": data["group"], "outcome": outcome, "day": day,
                        "meld_baseline": numeric["meld_baseline"], "meld_change": change})[kept]
    # Within a level, larger is better: a later death or transplant, a smaller MELD change.
    within = out["day"].where(out["outcome"] != MELD_CHANGE, -out["meld_change"])
    tier = out["outcome"].map({name: i for i, name in enumerate(LEVELS)}).to_numpy()
    dense = np.zeros(len(out), dtype=np.int64)
    for i in range(len(LEVELS)):
        in_tier = tier == i
        dense[in_tier] = stats.rankdata(within[in_tier], method="dense")
    out["order"] = tier * (len(out) + 1) + dense
    return out.reset_index(drop=True), excluded.reset_index(drop=True)


def worst_rank_analysis(df: pd.DataFrame, *, group_col: str, active: str, reference: str, landmark_day: float,
                        conf_level: float = 0.95) -> WorstRankResult:
    """Worst-rank score analysis of MELD at ``landmark_day`` with death ranked worst (Lachin 1999).

    Every analysed patient gets a rank of the composite ordering (:func:`landmark_outcomes`; 1 the worst,
    ties averaged). The arms are compared by the Wilcoxon rank-sum (Mann-Whitney) test, two-sided normal
    approximation with tie and continuity correction (scipy ``mannwhitneyu(method="asymptotic")``, as R
    ``wilcox.test(exact = FALSE, correct = TRUE)``), and by the rank ANCOVA Lachin uses to adjust for a
    baseline covariate: least squares of the composite's rank on arm and the rank of baseline MELD (R
    ``lm(rank(y) ~ arm + rank(baseline))``), the arm coefficient with its t CI and p on n - 3 df (n - 2 when
    baseline MELD is the same for all, and the term drops out as in R). Raises InsufficientData unless each
    arm has an analysed patient and there are at least four.
    """
    check_conf_level("worst_rank_analysis", conf_level)
    out, excluded = landmark_outcomes(df, group_col=group_col, active=active, reference=reference,
                                      landmark_day=landmark_day)
    _require_both_arms(out, active, reference, 1)
    if len(out) < 4:
        raise InsufficientData("The rank ANCOVA needs at least four analysed patients.")
    out["rank"] = stats.rankdata(out["order"])
    is_active = (out["group"] == active).to_numpy()
    a_ranks, r_ranks = out.loc[is_active, "rank"], out.loc[~is_active, "rank"]
    mw = stats.mannwhitneyu(a_ranks, r_ranks, alternative="two-sided", method="asymptotic", use_continuity=True)
    u = float(mw.statistic)
    ancova = _rank_ancova(out["rank"].to_numpy(), is_active, stats.rankdata(out["meld_baseline"]), conf_level)
    summary = pd.DataFrame([dict(group=g, n=int(len(part)), deaths=int((part["outcome"] == DEATH).sum()),
                                 transplants=int((part["outcome"] == TRANSPLANT).sum()),
                                 survivors=int((part["outcome"] == MELD_CHANGE).sum()),
                                 mean_rank=float(part["rank"].mean()))
                            for g, part in ((g, out[out["group"] == g]) for g in (active, reference))])
    method = (f"Worst-rank composite at day {landmark_day:g} (Lachin 1999): {_ordering_text(landmark_day)} "
              "Rank 1 is the worst. Wilcoxon rank-sum test on the ranks (normal approximation with tie and "
              "continuity correction, as R wilcox.test(exact=FALSE)); rank ANCOVA: least squares of the rank on "
              f"arm and the rank of baseline MELD, difference in mean rank {active} - {reference} with "
              f"{conf_level:.0%} CI. {_exclusion_rule(landmark_day)} p-values nominal.")
    scores = out[["usubjid", "group", "outcome", "day", "meld_change", "rank"]]
    return WorstRankResult(scores, summary, active, reference, float(landmark_day), u,
                           u / (len(a_ranks) * len(r_ranks)), float(mw.pvalue), *ancova, conf_level, excluded,
                           _note(excluded, landmark_day), method)


def win_ratio(df: pd.DataFrame, *, group_col: str, active: str, reference: str, landmark_day: float,
              conf_level: float = 0.95) -> WinRatioResult:
    """Win ratio of ``active`` against ``reference`` at ``landmark_day`` (Pocock et al. 2012), death first.

    Every ``active`` patient is compared with every ``reference`` patient on the hierarchy of
    :func:`landmark_outcomes`: death by day L (if one died, the other wins; if both, the later death wins),
    then transplant by day L (the same), then MELD change (the smaller wins); a pair equal at the level where
    it is decided is a tie. The win ratio is wins / losses, the same pairs the worst-rank Mann-Whitney U
    counts (U = wins + ties / 2).

    CI and p: Bebu I, Lachin JM, Large sample inference for a win ratio analysis of a composite outcome
    based on prioritized components, Biostatistics 2016;17:178-187. The win and loss proportions
    theta_w = wins / (m n), theta_l = losses / (m n) (m active, n reference patients) are two-sample
    U-statistics with large-sample covariance ``Sigma = xi_10 / m + xi_01 / n``; xi_10 is the covariance of
    two pairs sharing an active patient, estimated over the distinct pairs:
    ``xi_10(w, l) = sum_i sum_{j != k} W_ij L_ik / (m n (n - 1)) - theta_w theta_l`` (and alike for w, w and
    l, l, and xi_01 over pairs sharing a reference patient). By the delta method
    ``Var(log WR) = S_ww / theta_w^2 + S_ll / theta_l^2 - 2 S_wl / (theta_w theta_l)``; CI
    ``exp(log WR -/+ z SE)``, p from ``z = log WR / SE`` (two-sided). Per-patient win and loss counts come
    from sorted ranks, so the pairs are never formed one by one (a 100,000-patient trial has 2e9).
    Hand-written: no Python package offers the win ratio with a variance (none on PyPI's list; lifelines,
    statsmodels and scipy have none).

    Raises InsufficientData unless each arm has at least two analysed patients.
    """
    check_conf_level("win_ratio", conf_level)
    out, excluded = landmark_outcomes(df, group_col=group_col, active=active, reference=reference,
                                      landmark_day=landmark_day)
    _require_both_arms(out, active, reference, 2)
    is_active = (out["group"] == active).to_numpy()
    code_a, code_r = out["order"].to_numpy()[is_active], out["order"].to_numpy()[~is_active]
    tier_of = out["outcome"].map({name: i for i, name in enumerate(LEVELS)}).to_numpy()
    tier_a, tier_r = tier_of[is_active], tier_of[~is_active]
    m, n = len(code_a), len(code_r)
    sorted_a, sorted_r = np.sort(code_a), np.sort(code_r)
    # Per active patient: reference patients it beats, loses to; per reference patient: active patients
    # that beat it, that it beats.
    wins_a = np.searchsorted(sorted_r, code_a, side="left").astype(float)
    losses_a = n - np.searchsorted(sorted_r, code_a, side="right").astype(float)
    wins_r = m - np.searchsorted(sorted_a, code_r, side="right").astype(float)
    losses_r = np.searchsorted(sorted_a, code_r, side="left").astype(float)
    ties_a = n - wins_a - losses_a
    # A pair is decided at the loser's level (the lower tier), a tie at the level both share.
    levels = pd.DataFrame({"level": list(LEVELS),
                           "wins": [int(wins_r[tier_r == i].sum()) for i in range(len(LEVELS))],
                           "losses": [int(losses_a[tier_a == i].sum()) for i in range(len(LEVELS))],
                           "ties": [int(ties_a[tier_a == i].sum()) for i in range(len(LEVELS))]})
    wins, losses, ties = (int(levels[c].sum()) for c in ("wins", "losses", "ties"))
    ratio, se_log, lower, upper, p = math.nan, math.nan, math.nan, math.nan, math.nan
    if wins and losses:
        theta_w, theta_l = wins / (m * n), losses / (m * n)

        def xi(per_patient_w: np.ndarray, per_patient_l: np.ndarray, others: int) -> np.ndarray:
            """xi over pairs sharing a patient: [[ww, wl], [wl, ll]] (W_ij L_ij = 0, so wl needs no diagonal)."""
            scale = len(per_patient_w) * others * (others - 1)
            ww = (per_patient_w ** 2 - per_patient_w).sum() / scale - theta_w ** 2
            ll = (per_patient_l ** 2 - per_patient_l).sum() / scale - theta_l ** 2
            wl = (per_patient_w * per_patient_l).sum() / scale - theta_w * theta_l
            return np.array([[ww, wl], [wl, ll]])

        sigma = xi(wins_a, losses_a, n) / m + xi(wins_r, losses_r, m) / n
        gradient = np.array([1 / theta_w, -1 / theta_l])
        se_log = float(math.sqrt(max(gradient @ sigma @ gradient, 0.0)))
        ratio = wins / losses
        z = float(stats.norm.ppf((1 + conf_level) / 2))
        lower, upper = ratio * math.exp(-z * se_log), ratio * math.exp(z * se_log)
        p = float(2 * stats.norm.sf(abs(math.log(ratio)) / se_log)) if se_log > 0 else math.nan
    note = _note(excluded, landmark_day)
    if not (wins and losses):
        note = " ".join(filter(None, [note, f"No {'wins' if not wins else 'losses'} for {active}: the win ratio "
                                             "has no confidence interval."]))
    method = (f"Win ratio at day {landmark_day:g} (Pocock 2012): every {active} patient compared with every "
              f"{reference} patient, first on death by day {landmark_day:g} (the later death wins), then on "
              f"transplant by day {landmark_day:g} (the later transplant wins), then on MELD change from baseline "
              f"(the smaller wins); win ratio = wins / losses with {conf_level:.0%} CI and p from the "
              f"large-sample U-statistic variance of its log (Bebu & Lachin 2016). "
              f"{_exclusion_rule(landmark_day)} p nominal.")
    return WinRatioResult(levels, active, reference, float(landmark_day), wins, losses, ties, m * n, ratio, se_log,
                          lower, upper, p, conf_level, excluded, note, method)


def _require_both_arms(out: pd.DataFrame, active: str, reference: str, minimum: int) -> None:
    small = [g for g in (active, reference) if (out["group"] == g).sum() < minimum]
    if small:
        raise InsufficientData(f"Fewer than {minimum} analysed patient{'s' if minimum > 1 else ''} in "
                               f"{', '.join(small)}: the arms cannot be compared yet.")


def _rank_ancova(rank: np.ndarray, is_active: np.ndarray, base_rank: np.ndarray,
                 conf_level: float) -> tuple[float, float, float, float, float]:
    """Arm coefficient of ``rank ~ arm + base_rank`` by least squares: estimate, SE, CI, p."""
    columns = [np.ones_like(rank), is_active.astype(float)]
    if np.ptp(base_rank) > 0:
        columns.append(base_rank)
    x = np.column_stack(columns)
    beta, *_ = np.linalg.lstsq(x, rank, rcond=None)
    dof = len(rank) - x.shape[1]
    s2 = float(((rank - x @ beta) ** 2).sum()) / dof
    se = math.sqrt(s2 * np.linalg.inv(x.T @ x)[1, 1])
    diff = float(beta[1])
    half = float(stats.t.ppf((1 + conf_level) / 2, dof)) * se
    p = float(2 * stats.t.sf(abs(diff) / se, dof)) if se > 0 else math.nan
    return diff, se, diff - half, diff + half, p


def _ordering_text(landmark_day: float) -> str:
    return (f"death by day {landmark_day:g} ranks worst (earlier death worse), then liver transplant by day "
            f"{landmark_day:g} (earlier worse; a treatment failure, but alive), then survivors by MELD change "
            "from baseline (larger increase worse).")


def _exclusion_rule(landmark_day: float) -> str:
    return (f"Left out: no baseline MELD; alive without transplant but followed for less than {landmark_day:g} "
            f"days or without a MELD at day {landmark_day:g}.")


def _note(excluded: pd.DataFrame, landmark_day: float) -> str:
    if excluded.empty:
        return ""
    counts = excluded.groupby(["reason", "group"], sort=True).size()
    parts = [f"{reason}: {', '.join(f'{n} {g}' for g, n in by_group.droplevel(0).items())}"
             for reason, by_group in counts.groupby(level=0)]
    return f"{len(excluded)} patient(s) not analysed at day {landmark_day:g} ({'; '.join(parts)})."
