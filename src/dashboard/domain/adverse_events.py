"""Domain layer: adverse-event tables, listings and exposure-adjusted rates.

Pure functions on ``adverse_events`` and ``subjects`` rows (DESIGN §3). As in
:mod:`dashboard.domain.safety_common`, whose checks and :class:`SafetyTable` they share, every result names
its group column ``group``: the arm when ``group_col`` is given, otherwise :data:`dashboard.domain.POOLED_LABEL`, so a
blinded caller (``group_col=None``) never receives arm-level numbers (DESIGN §4).

Denominators are the patients in ``subjects`` (the filtered population), not the patients with an
event. Rates per 100 patient-years use the exact Poisson CI from the chi-square quantiles (as R
``poisson.test``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import check_group_col, require_columns
from dashboard.domain.labstats import with_group
from dashboard.domain.safety_common import (
    SafetyTable,
    _check_ae,
    _group_order,
)
from dashboard.errors import InsufficientData

FATAL_OUTCOME = "FATAL"
SUBJECT_COLUMNS = ("usubjid",)


def poisson_exact(count: int, exposure: float, conf_level: float = 0.95) -> tuple[float, float]:
    """Exact CI of count/exposure from chi-square quantiles (as R ``poisson.test``)."""
    alpha = 1 - conf_level
    lower = 0.0 if count == 0 else stats.chi2.ppf(alpha / 2, 2 * count) / 2
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return float(lower / exposure), float(upper / exposure)


# ---------------------------------------------------------------- adverse-event tables


def _ae_with_subjects(ae: pd.DataFrame, subjects: pd.DataFrame, group_col: str | None, func: str,
                      ae_required: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Checked AE rows with the subject's group, and the subjects (the denominators)."""
    require_columns(func, ae, ae_required, arg="ae")
    require_columns(func, subjects, SUBJECT_COLUMNS, arg="subjects")
    check_group_col(func, subjects, group_col, arg="subjects")
    subj = with_group(subjects, group_col).drop_duplicates("usubjid")
    if subj.empty:
        raise InsufficientData("No patients match the current selection, so there is no denominator.")
    unknown = sorted(set(ae["usubjid"]) - set(subj["usubjid"]))
    if unknown:
        raise ValueError(f"{func}: argument ae has usubjid(s) not in subjects: {', '.join(map(str, unknown[:5]))}.")
    # The group comes from subjects (one source of truth); any group column in ae is ignored.
    events = ae.drop(columns=[c for c in ("group", group_col) if c in ae.columns]).merge(
        subj[["usubjid", "group"]], on="usubjid", how="left"
    )
    return events, subj


def _pct(n: pd.Series, big_n: pd.Series) -> pd.Series:
    return 100.0 * n / big_n


OVERVIEW_CATEGORIES = (
    ("any", "Any adverse event"),
    ("serious", "Serious adverse event"),
    ("related", "Related adverse event"),
    ("infusion_related", "Infusion-related adverse event"),
    ("grade3", "Grade 3 or higher"),
    ("discontinuation", "Led to discontinuation"),
    ("fatal", "Fatal adverse event"),
)


OVERVIEW_COUNT_COLUMNS = ("group", "category", "N", "n_patients", "events")


def ae_overview_from_counts(counts: pd.DataFrame, *, arms: Sequence[str] | None = None) -> SafetyTable:
    """Patients (n, %) and events per AE category and group, from counts computed in SQL
    (``safety_aggregates.ae_overview_counts``).

    ``table`` columns: group, category, label, N, n_patients, pct, events. Categories: any, serious,
    related, infusion_related, grade3 (grade >= 3), discontinuation (only where the data record it;
    otherwise omitted and said so in ``method``), fatal (outcome FATAL or grade 5). Groups are listed in
    the order of ``arms`` (active first), otherwise alphabetically.

    ``counts`` columns: group (NULL when pooled), category (keys of :data:`OVERVIEW_CATEGORIES`; a
    category without rows is omitted and, for discontinuation, said so in ``method``), N (patients
    in the group), n_patients (with at least one event of the category), events. Every group of the
    population has a row per category, zeros included. Raises ``InsufficientData`` when empty.
    """
    func = "ae_overview_from_counts"
    require_columns(func, counts, OVERVIEW_COUNT_COLUMNS, arg="counts")
    unknown = sorted(set(counts["category"]) - {key for key, _ in OVERVIEW_CATEGORIES})
    if unknown:
        raise ValueError(f"{func}: argument counts has unknown categories {unknown}; "
                         f"allowed: {', '.join(key for key, _ in OVERVIEW_CATEGORIES)}.")
    return _overview_table(counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str)), arms)


def _overview_table(counts: pd.DataFrame, arms: Sequence[str] | None) -> SafetyTable:
    """Order (categories as listed, groups by ``arms``), label and percentage per-group category counts."""
    if counts.empty:
        raise InsufficientData("No patients match the current selection, so there is no denominator.")
    category_rank = {key: i for i, (key, _) in enumerate(OVERVIEW_CATEGORIES)}
    group_rank = {g: i for i, g in enumerate(_group_order(list(dict.fromkeys(counts["group"])), arms))}
    table = counts.assign(_c=counts["category"].map(category_rank), _g=counts["group"].map(group_rank))
    table = table.sort_values(["_c", "_g"]).reset_index(drop=True).astype({"N": int, "n_patients": int, "events": int})
    table = table.assign(label=table["category"].map(dict(OVERVIEW_CATEGORIES)), pct=_pct(table["n_patients"], table["N"]))
    table = table[["group", "category", "label", "N", "n_patients", "pct", "events"]]
    method = "Patients with at least one event (% of patients in the group) and number of events."
    if "discontinuation" not in set(table["category"]):
        method += " Discontinuation not shown: the AE data have no led_to_discontinuation column."
    return SafetyTable(table, method)


def _soc_pt_frame(events: pd.DataFrame, subj: pd.DataFrame) -> pd.DataFrame:
    """Long table (level, soc, term, group) of patients and events, zero rows included, sorted."""
    big_n = subj.groupby("group")["usubjid"].nunique()
    levels = [("any", None, None, events)]
    for soc, part in events.groupby("soc"):
        levels.append(("soc", soc, None, part))
        for term, sub in part.groupby("term"):
            levels.append(("term", soc, term, sub))
    rows = []
    for level, soc, term, part in levels:
        for g, n in big_n.items():
            p = part[part["group"] == g]
            rows.append((level, soc, term, g, int(n), int(p["usubjid"].nunique()), int(len(p)), part["usubjid"].nunique()))
    out = pd.DataFrame(rows, columns=["level", "soc", "term", "group", "N", "n_patients", "events", "total_patients"])
    out.insert(6, "pct", _pct(out["n_patients"], out["N"]))
    return out


def _sort_soc_pt(table: pd.DataFrame) -> pd.DataFrame:
    # SOCs by descending total patients (all groups), then terms within SOC the same way; ties by name.
    soc_total = table[table["level"] == "soc"].drop_duplicates("soc").set_index("soc")["total_patients"]
    key = table.assign(
        _lvl=table["level"].map({"any": 0, "soc": 1, "term": 2}),
        _soc_total=-table["soc"].map(soc_total).fillna(np.inf),
        _soc=table["soc"].fillna(""),
        _term_is=(table["level"] == "term").astype(int),
        _total=-table["total_patients"],
        _term=table["term"].fillna(""),
    )
    key["_any"] = (key["_lvl"] != 0).astype(int)
    key = key.sort_values(["_any", "_soc_total", "_soc", "_term_is", "_total", "_term"], kind="stable")
    return key[table.columns].reset_index(drop=True)


def ae_by_soc_pt(ae: pd.DataFrame, subjects: pd.DataFrame, *, group_col: str | None) -> SafetyTable:
    """Adverse events by system organ class (SOC) and preferred term, most frequent first.

    ``table`` columns: level ("any", "soc", "term"), soc, term, group, N, n_patients, pct, events,
    total_patients (patients in all groups, the sort key). Order: the any-AE row, then each SOC by
    descending total patients followed by its terms by descending total patients; ties by name.
    """
    func = "ae_by_soc_pt"
    events, subj = _ae_with_subjects(ae, subjects, group_col, func, ("usubjid", "term", "soc"))
    table = _sort_soc_pt(_soc_pt_frame(events, subj))
    method = "Patients counted once per SOC and per term (% of patients in the group); events counted each time."
    return SafetyTable(table, method)


def ae_by_worst_grade(ae: pd.DataFrame, subjects: pd.DataFrame, *, group_col: str | None) -> SafetyTable:
    """Patients by their worst CTCAE grade (1-5), overall and per preferred term.

    ``table`` columns: level ("any" or "term"), soc, term, group, N, grade, n_patients, pct. A patient
    counts once per row set, under the highest grade of any of their events in it.
    """
    func = "ae_by_worst_grade"
    events, subj = _ae_with_subjects(ae, subjects, group_col, func, ("usubjid", "term", "soc", "grade"))
    bad = sorted(set(events["grade"].dropna()) - {1, 2, 3, 4, 5})
    if bad or events["grade"].isna().any():
        raise ValueError(f"{func}: argument ae column grade must be 1-5 (CTCAE), found {bad or 'missing'}.")
    big_n = subj.groupby("group")["usubjid"].nunique()
    order = _sort_soc_pt(_soc_pt_frame(events, subj))
    order = order[order["level"].isin(["any", "term"])].drop_duplicates(["level", "soc", "term"])
    rows = []
    for level, soc, term in order[["level", "soc", "term"]].itertuples(index=False):
        part = events if level == "any" else events[(events["soc"] == soc) & (events["term"] == term)]
        worst = part.groupby(["group", "usubjid"])["grade"].max()
        for g, n in big_n.items():
            w = worst.loc[g] if g in worst.index.get_level_values(0) else pd.Series(dtype=float)
            for grade in range(1, 6):
                rows.append((level, soc, term, g, int(n), grade, int((w == grade).sum())))
    table = pd.DataFrame(rows, columns=["level", "soc", "term", "group", "N", "grade", "n_patients"])
    table["pct"] = _pct(table["n_patients"], table["N"])
    return SafetyTable(table, "Worst CTCAE grade per patient (% of patients in the group).")


# ---------------------------------------------------------------- listings


def sae_listing(ae: pd.DataFrame, *, group_col: str | None = None) -> pd.DataFrame:
    """Serious adverse events, one row each, by patient and onset day.

    Columns: group, usubjid, ae_id, term, soc, grade, related, infusion_related, infusion_num,
    onset_day, end_day, outcome.
    """
    func = "sae_listing"
    _check_ae(ae, func, group_col, ("ae_id", "usubjid", "term", "soc", "grade", "serious", "related",
                                    "infusion_related", "infusion_num", "onset_day", "end_day", "outcome"))
    out = with_group(ae[ae["serious"].astype(bool)], group_col)
    cols = ["group", "usubjid", "ae_id", "term", "soc", "grade", "related", "infusion_related", "infusion_num",
            "onset_day", "end_day", "outcome"]
    return out[cols].sort_values(["group", "usubjid", "onset_day", "ae_id"]).reset_index(drop=True)


def study_day(date: pd.Series, day1: pd.Series) -> pd.Series:
    """CDISC study day of ``date``: day 1 is the first infusion (``day1``) and there is no day 0 (DESIGN §3).
    Shared by the death listing and the charter's safety rules (days since the last infusion)."""
    diff = (pd.to_datetime(date) - pd.to_datetime(day1)).dt.days
    return diff.where(diff < 0, diff + 1).astype("Int64")


def death_listing(subjects: pd.DataFrame, ae: pd.DataFrame, *, group_col: str | None = None) -> pd.DataFrame:
    """Deaths, one row per patient: cause, study day of death and the fatal adverse events.

    ``subjects`` needs usubjid, death_on, death_cause and either ``death_day`` or ``day1_on`` (to
    derive the study day). Columns: group, usubjid, death_on, death_day, death_cause, fatal_ae
    (terms of AEs with outcome FATAL or grade 5, "; "-joined, empty when none).
    """
    func = "death_listing"
    require_columns(func, subjects, ("usubjid", "death_on", "death_cause"), arg="subjects")
    check_group_col(func, subjects, group_col, arg="subjects")
    require_columns(func, ae, ("usubjid", "term", "grade", "outcome"), arg="ae")
    if "death_day" not in subjects.columns and "day1_on" not in subjects.columns:
        raise ValueError(f"{func}: argument subjects needs a death_day or a day1_on column to give the study day.")
    dead = with_group(subjects[subjects["death_on"].notna()], group_col)
    if "death_day" not in dead.columns:
        dead["death_day"] = study_day(dead["death_on"], dead["day1_on"])
    fatal = ae[(ae["outcome"] == FATAL_OUTCOME) | (ae["grade"] == 5)]
    terms = fatal.groupby("usubjid")["term"].agg(lambda t: "; ".join(dict.fromkeys(t)))
    dead["fatal_ae"] = dead["usubjid"].map(terms).fillna("")
    cols = ["group", "usubjid", "death_on", "death_day", "death_cause", "fatal_ae"]
    return dead[cols].sort_values(["group", "death_day", "usubjid"]).reset_index(drop=True)
