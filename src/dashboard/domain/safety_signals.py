"""Domain layer: safety signals (issue 17, item 3): which adverse events occur more often on one arm, when the
first serious adverse event (SAE) happens, which SAEs and deaths follow an infusion closely, and incidence
adjusted for the time patients were at risk.

- Incidence per MedDRA preferred term (PT) and system organ class (SOC): patients with at least one event
  (``n``) of the patients selected in the group (``N``), from counts aggregated in DuckDB
  (``safety_aggregates.ae_term_counts``). A patient counts once per term and once per SOC.
- Active minus reference per PT and SOC: risk difference with the Newcombe hybrid score CI (Newcombe RG, Stat
  Med 1998;17:873-890, method 10: Wilson limits without continuity correction combined per group,
  :func:`dashboard.domain.safety_common.newcombe_difference`); risk ratio with the Katz log CI (Katz D et al.,
  Biometrics 1978;34:469-474: SE of log RR = sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)), adding 1/2 to every cell of a
  2x2 table with a zero cell (as R ``metafor::escalc(measure="RR")``'s default ``add=1/2, to="only0"``);
  p from the two-sided Fisher exact test (as R ``fisher.test``).
- Multiplicity over the PTs, two ways (both are flags for review, not tests of a hypothesis):

  * Benjamini-Hochberg over all PTs (Benjamini Y, Hochberg Y, JRSS B 1995;57:289-300), adjusted p-values
    equal to R ``p.adjust(method="BH")`` (:func:`scipy.stats.false_discovery_control`);
  * the double FDR of Mehrotra DV, Heyse JF (Stat Methods Med Res 2004;13:227-238), a "two-step application
    of adjusted P values based on the Benjamini and Hochberg FDR" (their abstract): step 1, each SOC is
    represented by the smallest p-value of its PTs, those SOC p-values are BH-adjusted across SOCs and an SOC
    with an adjusted value <= alpha1 is flagged; step 2, the p-values of the PTs within each SOC are
    BH-adjusted within that SOC, and a PT is flagged when its SOC is flagged and its adjusted value <= alpha2
    (:func:`double_fdr`). This is the procedure of R ``MHTmult::DFDR.p.adjust``, which cites that paper; the
    later variant of Mehrotra and Adewale (Stat Med 2012;31:1918), which represents an SOC by its smallest
    within-SOC *adjusted* p-value, is not this one. alpha1 = alpha2 = 0.1 (:data:`FDR_ALPHA`), the level
    Mehrotra and Adewale's worked example (their Example 4.1) is flagged at.

  No Python library implements the double FDR (statsmodels and scipy offer single-family procedures only),
  so it is written out here from BH adjustments.
- Time to first SAE: one row per dosed patient (``safety_aggregates.first_sae_times``) for the Kaplan-Meier
  machinery of :mod:`dashboard.domain.km`.
- SAEs and deaths within 7 and 28 days after an infusion: days counted from the patient's last infusion on or
  before the event's study day, 0 on the infusion's day (the charter's rule,
  :func:`dashboard.domain.charter.days_since_last_infusion`).
- Exposure-adjusted incidence rate (EAIR): patients with a first event per 100 patient-years at risk, where a
  patient's time at risk ends at their first event of the category (or their last contact without one);
  the exposure-adjusted event rate (EAER) beside it counts every event over the whole follow-up. Exact
  Poisson CIs (as R ``poisson.test``).

Groups are the arm for a viewer who sees arms, or :data:`dashboard.domain.POOLED_LABEL` (blinded viewers get
pooled incidence and no comparison, DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.domain.adverse_events import OVERVIEW_CATEGORIES, poisson_exact
from dashboard.domain.charter import days_since_last_infusion
from dashboard.domain.checks import check_conf_level, require_columns
from dashboard.domain.safety_common import SafetyTable, _group_order, newcombe_difference
from dashboard.errors import InsufficientData

FDR_ALPHA = 0.1
WINDOWS_DAYS = (7, 28)
DAYS_PER_YEAR = 365.25

TERM_COUNT_COLUMNS = ("group", "soc", "term", "N", "n_patients", "events")
INCIDENCE_COLUMNS = ("level", "soc", "term", "group", "N", "n_patients", "pct", "events")
COMPARISON_COLUMNS = (
    "level", "soc", "term", "active", "reference", "n_active", "N_active", "pct_active", "events_active",
    "n_reference", "N_reference", "pct_reference", "events_reference", "risk_difference", "rd_lower", "rd_upper",
    "risk_ratio", "rr_lower", "rr_upper", "p", "p_bh", "flagged_bh", "soc_p", "soc_p_adj", "p_adj_in_soc", "flagged",
)
EXPOSURE_COUNT_COLUMNS = ("group", "category", "N", "n_patients", "events", "follow_up_days", "days_at_risk")
RATE_COLUMNS = ("group", "category", "label", "N", "n_patients", "years_at_risk", "eair", "eair_lower", "eair_upper",
                "events", "years_followed", "eaer", "eaer_lower", "eaer_upper")
FIRST_SAE_COLUMNS = ("usubjid", "group", "time_days", "event")
AFTER_INFUSION_COLUMNS = ("group", "usubjid", "event", "term", "soc", "grade", "study_day", "infusion_num",
                          "days_since_infusion", "window")


@dataclass(frozen=True)
class SafetySignals:
    """Incidence per PT and SOC and, with two arms, their comparison.

    ``incidence``: INCIDENCE_COLUMNS, one row per level ("soc", "term"), SOC, PT and group, SOCs by
    descending patients (all groups), each followed by its PTs the same way; ties by name.
    ``comparison``: COMPARISON_COLUMNS, one row per SOC and PT in the same order, active minus reference;
    empty unless the view has two arms. ``p_bh``, ``flagged_bh`` and ``p_adj_in_soc`` belong to PT rows
    (NaN / False on SOC rows); ``soc_p`` and ``soc_p_adj`` (the double FDR's step 1) are on both.
    """

    incidence: pd.DataFrame
    comparison: pd.DataFrame
    alpha: float
    method: str


# ---------------------------------------------------------------- statistics of one 2x2 table


def risk_ratio_katz(x1: int, n1: int, x2: int, n2: int, conf_level: float = 0.95) -> tuple[float, float, float]:
    """(x1/n1) / (x2/n2) with the Katz log CI; a table with a zero cell gets 1/2 added to each of its four
    cells first (as R ``metafor::escalc(measure="RR")``). NaN when neither group has an event (no ratio).

    Hand-written: scipy's ``relative_risk`` CI is the Katz one but refuses zero cells, and a 5:2 safety table
    of rare terms has zero cells in most rows.
    """
    check_conf_level("risk_ratio_katz", conf_level)
    if min(n1, n2) <= 0 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError(f"risk_ratio_katz: arguments x1={x1}, n1={n1}, x2={x2}, n2={n2}; allowed values: "
                         "0 <= x <= n and n > 0.")
    if x1 == 0 and x2 == 0:
        return (np.nan, np.nan, np.nan)
    a, b, c, d = float(x1), float(n1 - x1), float(x2), float(n2 - x2)
    if 0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    log_rr = np.log(a / (a + b)) - np.log(c / (c + d))
    se = np.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    return float(np.exp(log_rr)), float(np.exp(log_rr - z * se)), float(np.exp(log_rr + z * se))


def fisher_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact p of x1/n1 against x2/n2 (as R ``fisher.test``)."""
    return float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided").pvalue)


# ---------------------------------------------------------------- multiplicity


def _p_values(func: str, p: Sequence[float]) -> np.ndarray:
    """``p`` as an array, refused unless every value is a p-value (0 to 1, not missing)."""
    values = np.asarray(p, dtype=float)
    bad = np.isnan(values) | (values < 0) | (values > 1)
    if bad.any():
        raise ValueError(f"{func}: argument p must hold p-values between 0 and 1, found {values[bad][:5].tolist()}.")
    return values


def benjamini_hochberg(p: Sequence[float]) -> np.ndarray:
    """BH-adjusted p-values, equal to R ``p.adjust(p, method="BH")``; an empty input gives an empty array."""
    values = _p_values("benjamini_hochberg", p)
    return values if values.size == 0 else stats.false_discovery_control(values, method="bh")


def double_fdr(terms: pd.DataFrame, *, alpha_soc: float = FDR_ALPHA, alpha_term: float = FDR_ALPHA) -> pd.DataFrame:
    """The double FDR of Mehrotra and Heyse (2004) over ``terms`` (one row per PT: soc, term, p).

    Returns ``terms`` with: ``soc_p`` (the smallest p of the PT's SOC), ``soc_p_adj`` (the SOC p-values
    BH-adjusted across SOCs), ``soc_flagged`` (``soc_p_adj <= alpha_soc``), ``p_adj_in_soc`` (the PT p-values
    BH-adjusted within their SOC) and ``flagged`` (``soc_flagged`` and ``p_adj_in_soc <= alpha_term``).
    """
    func = "double_fdr"
    require_columns(func, terms, ("soc", "term", "p"), arg="terms")
    for name, alpha in (("alpha_soc", alpha_soc), ("alpha_term", alpha_term)):
        if not 0 < alpha < 1:
            raise ValueError(f"{func}: argument {name}={alpha!r}; allowed values: 0 < {name} < 1.")
    out = terms.copy()
    if out.empty:
        return out.assign(soc_p=[], soc_p_adj=[], soc_flagged=[], p_adj_in_soc=[], flagged=[])
    _p_values(func, out["p"])
    soc_p = out.groupby("soc", sort=True)["p"].min()
    soc_p_adj = pd.Series(benjamini_hochberg(soc_p.to_numpy()), index=soc_p.index)
    out["soc_p"] = out["soc"].map(soc_p)
    out["soc_p_adj"] = out["soc"].map(soc_p_adj)
    out["soc_flagged"] = out["soc_p_adj"] <= alpha_soc
    out["p_adj_in_soc"] = out.groupby("soc", sort=False)["p"].transform(lambda p: benjamini_hochberg(p.to_numpy()))
    out["flagged"] = out["soc_flagged"] & (out["p_adj_in_soc"] <= alpha_term)
    return out


# ---------------------------------------------------------------- incidence and comparison per PT and SOC


def _incidence(counts: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Counts with level and percentage, SOCs then their PTs by descending patients (all groups), then name."""
    table = counts.assign(level=np.where(counts["term"].isna(), "soc", "term"),
                          pct=100.0 * counts["n_patients"] / counts["N"])
    total = table.groupby(["soc", "term"], dropna=False)["n_patients"].transform("sum")
    soc_total = table["soc"].map(table[table["level"] == "soc"].groupby("soc")["n_patients"].sum())
    rank = {g: i for i, g in enumerate(order)}
    key = table.assign(_soc_total=-soc_total, _is_term=(table["level"] == "term").astype(int), _total=-total,
                       _term=table["term"].fillna(""), _group=table["group"].map(rank))
    key = key.sort_values(["_soc_total", "soc", "_is_term", "_total", "_term", "_group"], kind="stable")
    return key[list(INCIDENCE_COLUMNS)].reset_index(drop=True)


def _compare(incidence: pd.DataFrame, active: str, reference: str, conf_level: float, alpha: float) -> pd.DataFrame:
    """One row per SOC and PT: the two arms' counts, RD, RR, Fisher p and the multiplicity columns."""
    rows = []
    for (level, soc, term), part in incidence.groupby(["level", "soc", "term"], sort=False, dropna=False):
        a = part[part["group"] == active].iloc[0]
        r = part[part["group"] == reference].iloc[0]
        x1, n1, x2, n2 = int(a["n_patients"]), int(a["N"]), int(r["n_patients"]), int(r["N"])
        rd = newcombe_difference(x1, n1, x2, n2, conf_level)
        rr = risk_ratio_katz(x1, n1, x2, n2, conf_level)
        rows.append((level, soc, None if pd.isna(term) else term, active, reference, x1, n1, a["pct"],
                     int(a["events"]), x2, n2, r["pct"], int(r["events"]), *rd, *rr, fisher_p(x1, n1, x2, n2)))
    out = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS[:20]))
    terms = out["level"] == "term"
    flagged = double_fdr(out.loc[terms, ["soc", "term", "p"]], alpha_soc=alpha, alpha_term=alpha)
    out["p_bh"] = pd.Series(benjamini_hochberg(out.loc[terms, "p"].to_numpy()), index=out.index[terms])
    out["flagged_bh"] = out["p_bh"] <= alpha  # False on SOC rows (NaN)
    soc_adj = flagged.drop_duplicates("soc").set_index("soc")[["soc_p", "soc_p_adj"]]
    out = out.join(soc_adj, on="soc")
    out["p_adj_in_soc"] = flagged["p_adj_in_soc"]
    out["flagged"] = flagged["flagged"].reindex(out.index, fill_value=False).astype(bool)
    return out[list(COMPARISON_COLUMNS)]


def signals_from_counts(counts: pd.DataFrame, *, arms: Sequence[str] | None = None, conf_level: float = 0.95,
                        alpha: float = FDR_ALPHA) -> SafetySignals:
    """Incidence per PT and SOC by group and, when ``arms`` names two groups (active, reference), their
    comparison with both multiplicity adjustments at level ``alpha``.

    Parameters
    ----------
    counts : DataFrame
        ``safety_aggregates.ae_term_counts``: TERM_COUNT_COLUMNS, ``term`` NULL on an SOC's own row, ``group``
        NULL when pooled; every group has a row for every SOC and PT, zeros included.
    arms : sequence of str, optional
        The groups in study order (active first, reference last); None or empty when pooled.
    conf_level, alpha : CI level; FDR level of both flags (alpha1 = alpha2 of the double FDR).

    Raises ``InsufficientData`` when nobody is selected or no selected patient has an adverse event.
    """
    func = "signals_from_counts"
    require_columns(func, counts, TERM_COUNT_COLUMNS, arg="counts")
    check_conf_level(func, conf_level)
    if not 0 < alpha < 1:
        raise ValueError(f"{func}: argument alpha={alpha!r}; allowed values: 0 < alpha < 1.")
    if counts.empty:
        raise InsufficientData("No selected patient has an adverse event, so there is no incidence to compare.")
    counts = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    order = _group_order(list(dict.fromkeys(counts["group"])), arms or None)
    incidence = _incidence(counts.astype({"N": int, "n_patients": int, "events": int}), order)
    method = ("Patients with at least one event of the preferred term (PT) or system organ class (SOC), % of the "
              "patients selected in the group; a patient counts once per PT and once per SOC.")
    compared = bool(arms) and len(order) == 2 and order == [str(a) for a in arms]
    if not compared:
        return SafetySignals(incidence, pd.DataFrame(columns=list(COMPARISON_COLUMNS)), alpha, method)
    comparison = _compare(incidence, order[0], order[1], conf_level, alpha)
    method += (f" {order[0]} minus {order[1]}: risk difference with the Newcombe hybrid score {conf_level:.0%} CI "
               "(method 10), risk ratio with the Katz log CI (1/2 added to each cell of a table with a zero cell), "
               "two-sided Fisher exact p. Flags for review, not tests: the double FDR of Mehrotra and Heyse (2004; "
               f"SOC p = smallest PT p, BH across SOCs <= {alpha:g}, then BH within the SOC <= {alpha:g}) and, "
               f"simpler, Benjamini-Hochberg over all PTs <= {alpha:g}.")
    return SafetySignals(incidence, comparison, alpha, method)


def patients_with_term(ae: pd.DataFrame, *, soc: str, term: str | None, group_col: str | None) -> pd.DataFrame:
    """The patients behind one point of the volcano plot: those with an event of ``term`` (of ``soc``), or of
    any PT of ``soc`` when ``term`` is None. Columns: group, usubjid, n_events, first_onset_day, worst_grade,
    serious (any serious event); by group then patient. (``n_events``, not ``events``: a patient's own count,
    which a blinded view's small-cell rule for pooled ``events`` columns must not hide.)"""
    func = "patients_with_term"
    require_columns(func, ae, ("usubjid", "soc", "term", "onset_day", "grade", "serious"), arg="ae")
    rows = ae[(ae["soc"] == soc) & ((ae["term"] == term) if term is not None else True)]
    rows = rows.assign(group=POOLED_LABEL if group_col is None else rows[group_col].astype(str))
    out = rows.groupby(["group", "usubjid"], as_index=False).agg(
        n_events=("term", "size"), first_onset_day=("onset_day", "min"), worst_grade=("grade", "max"),
        serious=("serious", "any"))
    return out.sort_values(["group", "usubjid"]).reset_index(drop=True)


# ---------------------------------------------------------------- SAEs and deaths after an infusion


def last_infusion(events: pd.DataFrame, infusions: pd.DataFrame, *, day_col: str) -> pd.DataFrame:
    """Per row of ``events`` (usubjid, ``day_col``: a study day): the patient's last infusion on or before that
    day (``infusion_num``, <NA> when none) and the days since it (``days_since``: 0 on the infusion's day,
    <NA> when none or the day is unknown), by the charter's rule. Indexed like ``events``."""
    require_columns("last_infusion", infusions, ("usubjid", "infusion_num", "study_day"), arg="infusions")
    since = days_since_last_infusion(events, infusions, day_col=day_col)
    given_on = events[day_col].astype("Float64") - since.astype("Float64")
    latest = infusions.groupby(["usubjid", "study_day"])["infusion_num"].max()
    numbers = [pd.NA if pd.isna(day) else latest.get((usubjid, int(day)), pd.NA)
               for usubjid, day in zip(events["usubjid"], given_on)]
    return pd.DataFrame({"infusion_num": pd.array(numbers, dtype="Int64"), "days_since": since}, index=events.index)


def events_after_infusion(saes: pd.DataFrame, deaths: pd.DataFrame, infusions: pd.DataFrame, *,
                          windows: Sequence[int] = WINDOWS_DAYS) -> pd.DataFrame:
    """SAEs and deaths within ``max(windows)`` days after an infusion, one row each.

    Parameters
    ----------
    saes : DataFrame
        Serious adverse events (``adverse_events.sae_listing``): group, usubjid, term, soc, grade, onset_day.
    deaths : DataFrame
        Deaths (``adverse_events.death_listing``): group, usubjid, death_day, death_cause.
    infusions : DataFrame
        usubjid, infusion_num, study_day of the infusions given.
    windows : whole numbers of days, ascending: an event 0 to w days after the patient's last infusion on or
        before it is in the window of the smallest such w.

    Returns
    -------
    DataFrame
        AFTER_INFUSION_COLUMNS: event ("Serious adverse event" or "Death"), term (the AE term or the cause of
        death), soc and grade (empty for a death), study_day, infusion_num, days_since_infusion and window
        ("0-7 days", "8-28 days"); by group, patient, study day.
    """
    func = "events_after_infusion"
    require_columns(func, saes, ("group", "usubjid", "term", "soc", "grade", "onset_day"), arg="saes")
    require_columns(func, deaths, ("group", "usubjid", "death_day", "death_cause"), arg="deaths")
    windows = sorted(int(w) for w in windows)
    if not windows or windows[0] < 0:
        raise ValueError(f"{func}: argument windows={windows}; allowed values: whole numbers of days >= 0.")
    events = pd.concat([
        pd.DataFrame({"group": saes["group"], "usubjid": saes["usubjid"], "event": "Serious adverse event",
                      "term": saes["term"], "soc": saes["soc"], "grade": saes["grade"].astype("Int64"),
                      "study_day": saes["onset_day"].astype("Int64")}),
        pd.DataFrame({"group": deaths["group"], "usubjid": deaths["usubjid"], "event": "Death",
                      "term": deaths["death_cause"], "soc": None, "grade": pd.array([pd.NA] * len(deaths), "Int64"),
                      "study_day": deaths["death_day"].astype("Int64")}),
    ], ignore_index=True)
    found = last_infusion(events, infusions, day_col="study_day")
    events["infusion_num"], events["days_since_infusion"] = found["infusion_num"], found["days_since"]
    events = events[(events["days_since_infusion"] <= windows[-1]).fillna(False).astype(bool)].copy()
    edges = [-1, *windows]
    labels = [f"{lo + 1}-{hi} days" for lo, hi in zip(edges, edges[1:])]
    events["window"] = pd.cut(events["days_since_infusion"].astype(float), bins=edges, labels=labels).astype(str)
    events = events.sort_values(["group", "usubjid", "study_day", "event"], kind="stable")
    return events[list(AFTER_INFUSION_COLUMNS)].reset_index(drop=True)


def after_infusion_counts(listing: pd.DataFrame, groups: Sequence[str], *,
                          windows: Sequence[int] = WINDOWS_DAYS) -> pd.DataFrame:
    """Patients and events of :func:`events_after_infusion` within each window (cumulative: within 28 days
    includes the first 7), per group and kind of event, zeros included. Columns: group, event, within,
    patients, events."""
    require_columns("after_infusion_counts", listing, AFTER_INFUSION_COLUMNS, arg="listing")
    rows = []
    for group in groups:
        for event in ("Serious adverse event", "Death"):
            for w in sorted(int(w) for w in windows):
                part = listing[(listing["group"] == group) & (listing["event"] == event)
                               & (listing["days_since_infusion"] <= w)]
                rows.append((group, event, f"0-{w} days", part["usubjid"].nunique(), len(part)))
    return pd.DataFrame(rows, columns=["group", "event", "within", "patients", "events"])


# ---------------------------------------------------------------- exposure-adjusted rates


def exposure_adjusted_from_counts(counts: pd.DataFrame, *, arms: Sequence[str] | None = None,
                                  conf_level: float = 0.95) -> SafetyTable:
    """EAIR and EAER per group and AE category (the AE overview's), per 100 patient-years, exact Poisson CIs.

    Parameters
    ----------
    counts : DataFrame
        ``safety_aggregates.ae_exposure_counts``: EXPOSURE_COUNT_COLUMNS per group (NULL when pooled) and
        category: N, n_patients (with an event of the category), events, follow_up_days (days on study,
        summed), days_at_risk (per patient the study day of their first event of the category, or their days
        on study without one, summed).
    arms : groups in study order; None when pooled.

    Returns
    -------
    SafetyTable
        ``table``: RATE_COLUMNS: ``eair`` = n_patients / years_at_risk x 100, ``eaer`` = events / years_followed x 100,
        years = days / 365.25; categories in the overview's order, groups by ``arms``.
    """
    func = "exposure_adjusted_from_counts"
    require_columns(func, counts, EXPOSURE_COUNT_COLUMNS, arg="counts")
    check_conf_level(func, conf_level)
    if counts.empty:
        raise InsufficientData("No patients match the current selection, so there is no exposure.")
    out = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    if (out["days_at_risk"] <= 0).any() or (out["follow_up_days"] <= 0).any():
        raise InsufficientData("A group has no follow-up time, so no rate per patient-year can be computed.")
    out["years_at_risk"] = out["days_at_risk"] / DAYS_PER_YEAR
    out["years_followed"] = out["follow_up_days"] / DAYS_PER_YEAR
    for count, years, rate in (("n_patients", "years_at_risk", "eair"), ("events", "years_followed", "eaer")):
        ci = [poisson_exact(int(x), t, conf_level) for x, t in zip(out[count], out[years])]
        out[rate] = 100 * out[count] / out[years]
        out[f"{rate}_lower"] = [100 * c[0] for c in ci]
        out[f"{rate}_upper"] = [100 * c[1] for c in ci]
    category_rank = {key: i for i, (key, _) in enumerate(OVERVIEW_CATEGORIES)}
    group_rank = {g: i for i, g in enumerate(_group_order(list(dict.fromkeys(out["group"])), arms or None))}
    out = out.assign(label=out["category"].map(dict(OVERVIEW_CATEGORIES)), _c=out["category"].map(category_rank),
                     _g=out["group"].map(group_rank)).sort_values(["_c", "_g"])
    out = out.astype({"N": int, "n_patients": int, "events": int})[list(RATE_COLUMNS)].reset_index(drop=True)
    method = (
        "EAIR: patients with a first event per 100 patient-years at risk; a patient's time at risk ends at their "
        "first event of the category (study day of onset), or at their last contact without one. EAER: all "
        "events per 100 patient-years of follow-up (days on study). Years = days / 365.25; "
        f"{conf_level:.0%} exact Poisson CIs (as R poisson.test).")
    return SafetyTable(out, method)
