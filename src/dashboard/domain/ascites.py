"""Domain layer: ascites by visit (grade distribution, free of ascites, shifts, time to resolution, Sankey).

From aggregates of the assessments (``grade``: ICA 0 none, 1 mild, 2 moderate, 3 severe) computed in DuckDB
by ``dashboard.data.ascites_aggregates``: ``distribution_from_counts``, ``grade_shift_from_counts``,
``transitions_from_counts``, ``resolution_km_from_times``; depth and volume by visit are
``labstats.summary_from_aggregates``. As everywhere, a pooled result has the one group ``POOLED_LABEL``
(DESIGN §4); baseline is visit_num 0. The pandas versions on assessment rows are the test oracle
``tests.oracle.ascites``; they compute the same aggregates and hand them to the same tails.

By-visit summaries describe the patients alive, on study and assessed at each visit: in liver failure the
sickest die first, so they describe survivors. The views that keep the dead give every selected patient a
state at every visit (:data:`VISIT_STATE_RULE`): ``visit_population_from_counts`` and ``population_note``
say who a by-visit summary leaves out, ``state_shift_from_counts`` and ``transitions_from_counts`` on state
counts are the shift table and Sankey with death and transplant as absorbing states, and
``resolution_cif_from_times`` is time to resolution with death and transplant as competing events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import check_conf_level, require_columns
from dashboard.domain.competing_risks import CIFResult, GrayTest, cif_at, cumulative_incidence, gray_test
from dashboard.domain.disclosure import shown_count
from dashboard.domain.labstats import _group_order
from dashboard.domain.survival import KMResult, km_estimate
from dashboard.errors import InsufficientData

GRADES = (0, 1, 2, 3)
GRADE_LABELS = {0: "none", 1: "mild", 2: "moderate", 3: "severe"}
SHIFT_VISITS = ("W4", "W12", "W24", "W48")
MEASURES = ("depth_cm", "volume_ml")

# A patient's state at a visit in the views that keep the dead: the ICA grade (0-3) when assessed there, else
# one of these codes, numbered after the grades so that a Sankey column lists them below the grades.
NOT_ASSESSED, LEFT, TRANSPLANTED, DIED, NOT_DUE = 4, 5, 6, 7, 8
STATE_LABELS = {**GRADE_LABELS, NOT_ASSESSED: "not assessed", LEFT: "withdrawn or lost",
                TRANSPLANTED: "transplanted", DIED: "died", NOT_DUE: "not yet due"}
# The subjects.status of each exit (labstats.EXIT_STATUSES) and the state it puts a patient in.
EXIT_STATES = {"died": DIED, "transplanted": TRANSPLANTED, "withdrawn": LEFT, "lost to follow-up": LEFT}
# Columns of the states that are not grades, in tables.
STATE_COLUMNS = {NOT_ASSESSED: "not_assessed", LEFT: "withdrawn_or_lost", TRANSPLANTED: "transplanted",
                 DIED: "died", NOT_DUE: "not_yet_due"}
VISIT_STATE_RULE = (
    "A patient's state at a visit: the ICA grade when assessed there; else died, transplanted, or withdrawn or "
    "lost when the patient left the study on or before the visit's target day (as the counts of who left "
    "between visits on /labs); else not yet due when the visit window closes after the data cut; else not "
    "assessed. The shift table counts a visit whose window closes after the cut as not yet due for everyone, "
    "dead or alive, so that the early deaths of late enrollees do not count at visits the living have not "
    "reached.")


@dataclass(frozen=True)
class FreeOfAscites:
    """Proportion with grade 0 per group and visit; ``summary`` columns group, visit_num, visit, n,
    n_free, proportion, ci_lower, ci_upper."""

    summary: pd.DataFrame
    conf_level: float
    method: str


GRADE_COUNT_COLUMNS = tuple(f"grade_{g}" for g in GRADES)
DISTRIBUTION_COLUMNS = ("group", "visit_num", "visit", "grade", "grade_label", "count", "n", "pct")


def distribution_from_counts(counts: pd.DataFrame, *, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Counts and percentages of each grade per group and visit, from counts computed in SQL.

    ``counts`` columns: ``group`` (None/NaN when pooled), ``visit_num``, ``visit``, ``n`` (patients
    assessed) and ``grade_0`` .. ``grade_3``; groups are ordered as ``groups`` lists them, else in order of
    first appearance.

    Returns
    -------
    DataFrame
        ``DISTRIBUTION_COLUMNS``: ``group``, ``visit_num``, ``visit``, ``grade``, ``grade_label``, ``count``,
        ``n`` (patients assessed at that visit), ``pct`` (100 * count / n); all four grades per group and
        visit, zeros included, so stacked bars always sum to 100.
    """
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    graded = data[list(GRADE_COUNT_COLUMNS)].sum(axis=1)
    if (graded != data["n"]).any():
        raise ValueError(f"distribution_from_counts: some assessments have a grade outside {list(GRADES)}.")
    return _distribution(data, _group_order(data, groups))


def _distribution(counts: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    rows = []
    for g in order:
        for r in counts[counts["group"] == g].sort_values("visit_num").to_dict("records"):
            n = int(r["n"])
            for grade, col in zip(GRADES, GRADE_COUNT_COLUMNS):
                c = int(r[col])
                rows.append(dict(group=g, visit_num=int(r["visit_num"]), visit=r["visit"], grade=grade,
                                 grade_label=GRADE_LABELS[grade], count=c, n=n, pct=100.0 * c / n))
    return pd.DataFrame(rows, columns=list(DISTRIBUTION_COLUMNS))


def free_from_distribution(dist: pd.DataFrame, *, conf_level: float = 0.95) -> FreeOfAscites:
    """Proportion of assessed patients with grade 0, with the exact Clopper-Pearson CI, from the grade
    distribution (:func:`distribution_from_counts`).

    Notes
    -----
    Clopper-Pearson limits from beta quantiles: lower = Beta(a/2; x, n-x+1), upper =
    Beta(1-a/2; x+1, n-x), with lower 0 when x = 0 and upper 1 when x = n; identical to R
    ``binom.test(x, n)$conf.int`` and scipy ``binomtest(...).proportion_ci(method="exact")``.
    """
    check_conf_level("free_from_distribution", conf_level)
    free = dist[dist["grade"] == 0].rename(columns={"count": "n_free"})
    x, n = free["n_free"].to_numpy(float), free["n"].to_numpy(float)
    a = 1 - conf_level
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, stats.beta.ppf(a / 2, x, n - x + 1), 0.0)
        upper = np.where(x < n, stats.beta.ppf(1 - a / 2, x + 1, n - x), 1.0)
    summary = free[["group", "visit_num", "visit", "n", "n_free"]].reset_index(drop=True)
    summary["proportion"] = x / n
    summary["ci_lower"], summary["ci_upper"] = lower, upper
    method = (f"Proportion free of ascites (ICA grade 0) among patients assessed at the visit; exact "
              f"Clopper-Pearson {conf_level:.0%} CI (as R binom.test).")
    return FreeOfAscites(summary=summary, conf_level=conf_level, method=method)


SHIFT_COLUMNS = ("group", "visit", "n", "improved", "stable", "worsened")
GRADE_SHIFT_COUNT_COLUMNS = ("group", "visit", "assessed", "n", "improved", "stable", "worsened")


def grade_shift_from_counts(counts: pd.DataFrame, *, groups: Sequence[str] | None = None,
                      visits: Sequence[str] = SHIFT_VISITS) -> pd.DataFrame:
    """Grade at each chosen visit compared with baseline: improved (lower), stable, worsened (higher), from
    counts computed in SQL.

    ``counts`` columns: ``group`` (None/NaN when pooled), ``visit``, ``assessed`` (patients with a grade
    at the visit), ``n`` (patients with both a baseline and that visit), ``improved``, ``stable``,
    ``worsened``, for every group and chosen visit; baseline is the patient's last visit_num 0 grade and a
    visit's grade its first, by study day. Groups are ordered as given, else as in ``counts``. A visit
    nobody was assessed at is refused.

    Returns
    -------
    DataFrame
        ``SHIFT_COLUMNS``, one row per group and chosen visit in the given order.
    """
    func = "grade_shift_from_counts"
    require_columns(func, counts, GRADE_SHIFT_COUNT_COLUMNS, arg="counts")
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str), visit=counts["visit"].astype(str))
    assessed = set(data.loc[data["assessed"] > 0, "visit"])
    unknown = [v for v in visits if v not in assessed]
    if unknown:
        raise ValueError(f"{func}: visits {unknown} have no assessment in counts; choose visits the selected "
                         "patients were assessed at.")
    return _shift_table(data, _group_order(data, groups), visits)


def _shift_table(counts: pd.DataFrame, order: Sequence[str], visits: Sequence[str],
                 columns: Sequence[str] = SHIFT_COLUMNS) -> pd.DataFrame:
    """One row per group of ``order`` and visit of ``visits`` with ``columns``, zeros where ``counts`` has none."""
    cells = pd.MultiIndex.from_product([list(order), list(visits)], names=["group", "visit"])
    values = list(columns[2:])
    out = counts.set_index(["group", "visit"])[values].reindex(cells, fill_value=0).reset_index()
    return out.astype({c: "int64" for c in values})


def resolution_km_from_times(times: pd.DataFrame, *, groups: Sequence[str] | None = None,
                             conf_level: float = 0.95) -> KMResult:
    """Kaplan-Meier of time to resolution (first grade-0 assessment) among patients with ascites at baseline,
    from resolution times computed in SQL (``ascites_aggregates.ascites_resolution_times``).

    The curve is the probability of still having ascites. ``times`` columns: ``usubjid``, ``time_days``
    (first post-baseline grade-0 day, else the last post-baseline assessment before leaving the study),
    ``event``, ``group`` (None/NaN when pooled). Patients censored on or before day 0 (no post-baseline
    assessment, baseline taken before day 1) are never at risk at a positive time, so they are left out,
    which is what the Kaplan-Meier estimate does with them anyway. Raises ``InsufficientData`` when a group
    has nobody at risk.
    """
    require_columns("resolution_km_from_times", times, ("usubjid", "time_days", "event", "group"), arg="times")
    times = times[times["time_days"] > 0]
    times = times.assign(group=times["group"].fillna(POOLED_LABEL))
    km = km_estimate(times, group_col="group", groups=groups or None, conf_level=conf_level)
    method = ("Time to resolution (first assessment with ICA grade 0) among patients with ascites at "
              "baseline; censored at the last assessment before leaving the study. " + km.method)
    return replace(km, method=method)


TRANSITION_COLUMNS = ("group", "source_visit", "source_state", "target_visit", "target_state", "source", "target",
                      "count")
TRANSITION_COUNT_COLUMNS = ("group", "pair", "source_visit", "source_state", "target_visit", "target_state", "count")


def _check_transition_visits(func: str, visits: Sequence[str]) -> None:
    if len(visits) < 2:
        raise ValueError(f"{func}: visits needs at least two visit labels, got {list(visits)}.")


def transitions_from_counts(counts: pd.DataFrame, *, visits: Sequence[str],
                            groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Links for a Sankey: patients moving from each state at one chosen visit to a state at the next, from
    per-group, per-pair counts computed in SQL.

    ``counts`` columns: ``group`` (None/NaN when pooled), ``pair`` (0 for ``visits[0]`` -> ``visits[1]``,
    ...), ``source_visit``, ``source_state``, ``target_visit``, ``target_state``, ``count``. The states are
    grades (``ascites_transition_counts``: patients assessed at both visits of the pair) or the codes of
    :data:`STATE_LABELS` (``ascites_state_transition_counts``: every selected patient, the dead kept).
    Groups are ordered as given, else as in ``counts``. The visits are not checked against the assessments
    (there are none here): a visit nobody attended just has no links.

    Returns
    -------
    DataFrame
        ``TRANSITION_COLUMNS``, with node labels ``source``/``target`` ("W4: mild", "W12: died"), by group,
        pair, source and target state.
    """
    func = "transitions_from_counts"
    require_columns(func, counts, TRANSITION_COUNT_COLUMNS, arg="counts")
    _check_transition_visits(func, visits)
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    return _links(data, _group_order(data, groups))


def _links(counts: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Sankey links of ``order``'s groups: by group (the study's order, active first), pair, source and
    target state, with the node labels."""
    rank = {g: i for i, g in enumerate(order)}
    out = counts[counts["group"].isin(order)].astype({"source_state": "int64", "target_state": "int64",
                                                      "count": "int64"})
    out = out.assign(_rank=out["group"].map(rank)).sort_values(
        ["_rank", "pair", "source_state", "target_state"], kind="stable").reset_index(drop=True)
    out["source"] = out["source_visit"] + ": " + out["source_state"].map(STATE_LABELS)
    out["target"] = out["target_visit"] + ": " + out["target_state"].map(STATE_LABELS)
    return out[list(TRANSITION_COLUMNS)]


# --- The views that keep the dead ---------------------------------------------------------------------

POPULATION_COLUMNS = ("group", "visit_num", "visit", "patients", "assessed", *STATE_COLUMNS.values())
VISIT_STATE_COUNT_COLUMNS = ("group", "visit_num", "visit", "state", "patients")


def visit_population_from_counts(counts: pd.DataFrame, *, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Who each visit's by-visit summaries count, from ``ascites_aggregates.ascites_visit_states``.

    ``counts`` columns: ``group`` (None/NaN when pooled), ``visit_num``, ``visit``, ``state`` (a grade when
    the patient was assessed at the visit, else a code of :data:`STATE_LABELS`, by :data:`VISIT_STATE_RULE`)
    and ``patients``. Visits at which no selected patient was assessed are left out (the summaries show none).

    Returns
    -------
    DataFrame
        ``POPULATION_COLUMNS``: per group and visit, the selected ``patients``, those ``assessed`` there (the
        summaries' n) and those not, by reason: ``not_assessed``, ``withdrawn_or_lost``, ``transplanted``,
        ``died``, ``not_yet_due``; these add up to ``patients``.
    """
    func = "visit_population_from_counts"
    require_columns(func, counts, VISIT_STATE_COUNT_COLUMNS, arg="counts")
    unknown = sorted(set(counts["state"].astype(int)) - set(STATE_LABELS))
    if unknown:
        raise ValueError(f"{func}: counts.state has {unknown}; allowed: {sorted(STATE_LABELS)}.")
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str),
                         column=counts["state"].astype(int).map(lambda c: STATE_COLUMNS.get(c, "assessed")))
    wide = (data.pivot_table(index=["group", "visit_num", "visit"], columns="column", values="patients",
                             aggfunc="sum", fill_value=0)
            .reindex(columns=["assessed", *STATE_COLUMNS.values()], fill_value=0).reset_index())
    wide = wide[wide.groupby("visit_num")["assessed"].transform("sum") > 0]
    wide.insert(3, "patients", wide[["assessed", *STATE_COLUMNS.values()]].sum(axis=1))
    rank = {g: i for i, g in enumerate(_group_order(data, groups))}
    wide = wide[wide["group"].isin(rank)]
    wide = wide.assign(_rank=wide["group"].map(rank)).sort_values(["_rank", "visit_num"], kind="stable")
    wide.columns.name = None
    out = wide[list(POPULATION_COLUMNS)].reset_index(drop=True)
    return out.astype({c: "int64" for c in POPULATION_COLUMNS[3:]})


# The reasons a patient is not in a visit's summaries, in the order a sentence names them.
_LEFT_OUT = (("died", "died"), ("transplanted", "transplanted"), ("withdrawn_or_lost", "withdrawn or lost"),
             ("not_assessed", "not assessed"), ("not_yet_due", "not yet due"))


def population_note(population: pd.DataFrame, *, small_cells: bool = False) -> str:
    """The sentence under a by-visit summary saying whom it counts and whom it leaves out, from
    :func:`visit_population_from_counts`: at the last visit that at least half of the selected patients
    had reached (their visit due, or left the study before it), the patients not assessed there by reason,
    per group. ``small_cells`` (a blinded view): counts of 1-4 read "<5" (``disclosure.shown_count``)."""
    require_columns("population_note", population, POPULATION_COLUMNS, arg="population")
    rule = "Each visit counts the patients alive, on study and assessed there (n)."
    totals = population.groupby("visit_num")[["patients", "not_yet_due"]].sum()
    reached = totals[totals["patients"] - totals["not_yet_due"] >= totals["patients"] / 2]
    if reached.empty:
        return rule
    at = population[population["visit_num"] == reached.index.max()]
    visit = at["visit"].iloc[0]
    parts = []
    for row in at.to_dict("records"):
        reasons = ", ".join(f"{shown_count(row[c], small_cells)} {label}" for c, label in _LEFT_OUT if row[c] > 0)
        if reasons:
            parts.append(reasons if len(at) == 1 else f"{row['group']} {reasons}")
    if not parts:
        return f"{rule} Every selected patient was assessed at {visit}."
    return (f"{rule} Not counted at {visit}, the last visit at least half of the selected patients had reached: "
            f"{'; '.join(parts)}.")


STATE_SHIFT_COLUMNS = ("group", "visit", "n", "improved", "stable", "worsened", "not_assessed", "withdrawn_or_lost",
                       "transplanted", "died", "not_yet_due")
STATE_SHIFT_COUNT_COLUMNS = ("group", "visit", "base", "state", "patients")
STATE_SHIFT_METHOD = (
    "Every selected patient with a baseline grade, the dead kept: the grade at the visit against baseline "
    "(improved: lower, worsened: higher) when assessed there, else died or transplanted (absorbing: "
    "assessments after leaving the study are not counted), withdrawn or lost, or not assessed; n adds these "
    "up. Patients whose visit window had not closed by the data cut are counted apart (not yet due), not in n. "
    + VISIT_STATE_RULE)


def state_shift_from_counts(counts: pd.DataFrame, *, visits: Sequence[str],
                            groups: Sequence[str] | None = None) -> pd.DataFrame:
    """The shift table with death and transplant as absorbing states, from
    ``ascites_aggregates.ascites_state_shift_counts``.

    ``counts`` columns: ``group`` (None/NaN when pooled), ``visit``, ``base`` (baseline grade, NaN without
    one), ``state`` (grade or :data:`STATE_LABELS` code at the visit), ``patients``. Patients without a
    baseline grade are left out, as in :func:`grade_shift_from_counts`. Groups are ordered as given, else as
    in ``counts``.

    Returns
    -------
    DataFrame
        ``STATE_SHIFT_COLUMNS``, one row per group and visit of ``visits`` in that order: ``n`` = improved +
        stable + worsened + not_assessed + withdrawn_or_lost + transplanted + died; ``not_yet_due`` apart.
    """
    func = "state_shift_from_counts"
    require_columns(func, counts, STATE_SHIFT_COUNT_COLUMNS, arg="counts")
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str), visit=counts["visit"].astype(str))
    unknown = [v for v in visits if v not in set(data["visit"])]
    if unknown:
        raise ValueError(f"{func}: visits {unknown} are not in counts; choose visits of the schedule.")
    order = _group_order(data, groups)
    data = data.dropna(subset=["base"])
    state, base = data["state"].astype(int), data["base"].astype(int)
    direction = np.sign(state - base).map({-1: "improved", 0: "stable", 1: "worsened"})
    column = state.map(STATE_COLUMNS).where(state > max(GRADES), direction)
    wide = (data.assign(column=column).pivot_table(index=["group", "visit"], columns="column", values="patients",
                                                   aggfunc="sum", fill_value=0)
            .reindex(columns=list(STATE_SHIFT_COLUMNS[3:]), fill_value=0).reset_index())
    wide.insert(2, "n", wide[list(STATE_SHIFT_COLUMNS[3:-1])].sum(axis=1))
    wide.columns.name = None
    return _shift_table(wide, order, visits, STATE_SHIFT_COLUMNS)


# The competing events of time to resolution: the subjects.status that ends follow-up and its event type.
COMPETING_EVENTS = {"died": 2, "transplanted": 3}


@dataclass(frozen=True)
class ResolutionCIF:
    """Time to resolution with death and transplant competing: ``cif`` (resolution, cause 1) and ``death``
    (cause 2) cumulative incidences, ``counts`` (group, n, resolved, died, transplanted, censored),
    ``at_visits`` (group, visit, day, cif, std_err, lower, upper; ``conf_level`` CI), Gray's test between the
    groups (None when pooled, a single group, or not computable: ``gray_note`` says why) and the ``method`` text
    with the test's result."""

    cif: CIFResult
    death: CIFResult
    counts: pd.DataFrame
    at_visits: pd.DataFrame
    gray: GrayTest | None
    gray_note: str
    conf_level: float
    method: str


def competing_resolution_times(times: pd.DataFrame) -> pd.DataFrame:
    """Time to resolution as competing-risks rows: ``usubjid``, ``time_days``, ``event_type`` (1 resolved, 2
    died, 3 transplanted, 0 censored), ``group``, from ``ascites_aggregates.ascites_resolution_times``.

    A patient who died or was transplanted before resolving has that event on the exit day; one still
    unresolved on study, withdrawn or lost is censored at the last assessment (as the Kaplan-Meier view).
    Patients never at risk at a positive time (their time, so taken, <= 0: censored at a baseline before day
    1) are left out.
    """
    require_columns("competing_resolution_times", times,
                    ("usubjid", "time_days", "event", "status", "exit_day", "group"), arg="times")
    competing = times["status"].map(COMPETING_EVENTS).where(times["event"] == 0)
    out = pd.DataFrame({
        "usubjid": times["usubjid"],
        "time_days": times["exit_day"].where(competing.notna(), times["time_days"]).astype(float),
        "event_type": np.where(times["event"] == 1, 1, competing.fillna(0)).astype(int),
        "group": times["group"].fillna(POOLED_LABEL).astype(str)})
    return out[out["time_days"] > 0].reset_index(drop=True)


def resolution_cif_from_times(times: pd.DataFrame, *, groups: Sequence[str] | None = None,
                              days: Mapping[str, float] | None = None, conf_level: float = 0.95) -> ResolutionCIF:
    """Cumulative incidence of resolution (first grade-0 assessment) among patients with ascites at baseline,
    with death and transplant as competing events (Aalen-Johansen, ``competing_risks.cumulative_incidence``),
    the cumulative incidence of death beside it, the values at ``days`` (visit label -> study day, as
    ``competing_risks.cif_at``) and, with two or more groups, Gray's test of equal resolution CIFs (Gray 1988,
    Ann Stat 16:1141; ``competing_risks.gray_test``).

    ``times`` as :func:`competing_resolution_times` takes it. Death and transplant end the chance to resolve:
    treating them as censoring (the Kaplan-Meier view) assumes the patient could still have resolved, and
    overstates resolution where many die. Raises ``InsufficientData`` when a group has nobody at risk.
    """
    rows = competing_resolution_times(times)
    cif = cumulative_incidence(rows, group_col="group", groups=tuple(groups) if groups else None, cause=1,
                               conf_level=conf_level)
    death = cumulative_incidence(rows, group_col="group", groups=cif.groups, cause=COMPETING_EVENTS["died"],
                                 conf_level=conf_level)
    gray, gray_note = None, ""
    if len(cif.groups) > 1:
        try:
            gray = gray_test(rows, group_col="group", groups=cif.groups, cause=1)
        except InsufficientData as exc:
            gray_note = f"No Gray's test: {exc}"
    kinds = rows["event_type"].map({0: "censored", 1: "resolved", 2: "died", 3: "transplanted"})
    counts = (pd.crosstab(rows["group"], kinds).reindex(index=list(cif.groups),
                                                        columns=["resolved", "died", "transplanted", "censored"],
                                                        fill_value=0))
    counts.insert(0, "n", counts.sum(axis=1))
    counts = counts.rename_axis(index="group", columns=None).reset_index().astype(
        {c: "int64" for c in ("n", "resolved", "died", "transplanted", "censored")})
    method = ("Time to resolution (first assessment with ICA grade 0) among patients with ascites at baseline, "
              "as cumulative incidence with death and transplant as competing events (an event on the exit day "
              "stops the patient from resolving); others censored at their last assessment. " + cif.method)
    if gray is not None:
        method += (f" Gray's test, {' vs '.join(cif.groups)}: chi-square {gray.statistic:.2f} on {gray.df} df, "
                   f"p = {gray.p:.3g} (R cmprsk::cuminc).")
    elif gray_note:
        method += f" {gray_note}"
    labels = dict(days or {})
    at_visits = cif_at(cif, list(labels.values()))
    at_visits.insert(1, "visit", at_visits["day"].map({d: v for v, d in labels.items()}))
    # cif_at leaves days after a group's last time NaN (R summary(fit, times=)); when the last patients at risk
    # all had an event, nobody is left who could still change the incidence, so it is final from then on.
    last = cif.table.groupby("group").tail(1).set_index("group")
    final = last.index[last["censored"] == 0]
    values = ["cif", "std_err", "lower", "upper"]
    open_ = at_visits["group"].isin(final) & at_visits["cif"].isna()
    at_visits.loc[open_, values] = last.loc[at_visits.loc[open_, "group"], values].to_numpy()
    return ResolutionCIF(cif=cif, death=death, counts=counts, at_visits=at_visits, gray=gray, gray_note=gray_note,
                         conf_level=conf_level, method=method)


def resolution_cif_table(result: ResolutionCIF) -> pd.DataFrame:
    """The table under the cumulative-incidence figure: per group ``n`` (patients with ascites at baseline),
    ``resolved``, ``died``, ``transplanted``, ``censored``, then the incidence of resolution at each visit of
    ``result.at_visits`` with its CI as text ("35.2% (22.1%-48.0%)"; "not estimable" after a group's follow-up
    ends with patients still at risk)."""
    table = result.counts.copy()
    level = f"{result.conf_level:.0%}"
    for visit, part in result.at_visits.groupby("visit", sort=False):
        values = part.set_index("group").reindex(table["group"])
        table[f"{visit} resolved ({level} CI)"] = [
            "not estimable" if pd.isna(c) else f"{c:.1%}" if pd.isna(lo) else f"{c:.1%} ({lo:.1%}-{hi:.1%})"
            for c, lo, hi in zip(values["cif"], values["lower"], values["upper"])]
    return table
