"""Domain layer: hazard ratios per subgroup level with the treatment x subgroup interaction test, for the
forest plot, equal to R's ``coxph`` (Efron ties). Conventions (groups, pooling) as :mod:`dashboard.domain.km`,
checks :mod:`dashboard.domain.checks`.

Reported as ICH E9 (1998, section 5.7) and Wang R, Lagakos SW, Ware JH, Hunter DJ, Drazen JM, "Statistics in
medicine — reporting of subgroup analyses in clinical trials", N Engl J Med 2007;357:2189-2194 ask: whether
the effect differs between subgroups is judged by one interaction test per variable, never by a p-value per
level (a level's own p mostly reflects its size); the number of variables examined is stated; nothing is
adjusted for multiplicity, so every result is exploratory. Levels too small to estimate anything are
collapsed first (:func:`collapse_levels`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain.checks import check_conf_level
from dashboard.domain.cox import _cox_loglik, _cox_rows, _dummies, _reference_order
from dashboard.domain.km import _prepare, _z

MIN_EVENTS = 5
OTHER = "Other"
SUMMARY_COLUMNS = ["variable", "level", "group", "reference", "n", "events", "n_reference", "events_reference",
                   "hr", "lower", "upper", "interaction_p"]


@dataclass(frozen=True)
class SubgroupResult:
    """``summary``: one row per reported level and non-reference group (``SUMMARY_COLUMNS``; the variable's
    interaction p on each of its rows, no per-level p); ``labels``: every variable examined -> its display
    label; user-facing texts: ``notes`` (levels with groups without a hazard ratio, and why), ``collapsed``
    (which levels were pooled), ``not_analysed`` (variables left with one level), ``multiplicity`` (the caption)
    and ``footnote`` (its gist in one line, for the figure)."""

    summary: pd.DataFrame
    labels: dict[str, str]
    method: str
    notes: tuple[str, ...]
    collapsed: tuple[str, ...]
    not_analysed: tuple[str, ...]
    multiplicity: str
    footnote: str


def collapse_levels(events: pd.Series, *, ordered: bool, min_events: int = MIN_EVENTS) -> dict[str, str]:
    """The level each level is reported under, so that every reported level has ``min_events`` events.

    ``events`` holds the events per level (index: the levels, in their order when ``ordered``).

    Ordered variable: the level with the fewest events (the first on a tie) joins the neighbour with fewer
    events (the lower one on a tie), and again, until every level has ``min_events`` or one level is left;
    a run of merged levels is named "first to last". Nominal variable: every level with fewer than
    ``min_events`` events (and a level already called "Other") is pooled into "Other"; while "Other" still has
    fewer, the remaining level with the fewest events (the first by name on a tie) joins it.

    Hand-written: neither lifelines nor statsmodels collapses sparse subgroup levels; the rule is this
    project's (Wang et al. 2007 ask only that sparse subgroups not be over-read).
    """
    levels = [str(lv) for lv in events.index]
    counts = dict(zip(levels, (int(e) for e in events.to_numpy())))
    if ordered:
        runs, totals = [[lv] for lv in levels], [counts[lv] for lv in levels]
        while len(runs) > 1 and min(totals) < min_events:
            i = int(np.argmin(totals))
            j = min((k for k in (i - 1, i + 1) if 0 <= k < len(runs)), key=lambda k: totals[k])
            lo, hi = min(i, j), max(i, j)
            runs[lo:hi + 1], totals[lo:hi + 1] = [runs[lo] + runs[hi]], [totals[lo] + totals[hi]]
        return {lv: run[0] if len(run) == 1 else f"{run[0]} to {run[-1]}" for run in runs for lv in run}
    pooled = [lv for lv in levels if counts[lv] < min_events or lv == OTHER]
    named = sorted(lv for lv in levels if lv not in pooled)
    while pooled and named and sum(counts[lv] for lv in pooled) < min_events:
        smallest = min(named, key=lambda lv: counts[lv])
        named.remove(smallest)
        pooled.append(smallest)
    return {lv: OTHER if lv in pooled else lv for lv in levels}


def ordered_by(df: pd.DataFrame, sources: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``df`` whose subgroup columns named in ``sources`` are ordered categoricals, their levels in
    the order of the measurement each was cut from (``{"age_group": "age"}``: the level of the youngest
    patient first), which :func:`subgroup_hr` collapses as ordered levels."""
    out = df.copy()
    for variable, source in sources.items():
        order = df.groupby(variable, observed=True)[source].min().sort_values().index.astype(str)
        out[variable] = pd.Categorical(df[variable].astype(str).where(df[variable].notna()),
                                       categories=list(order), ordered=True)
    return out


def _interaction_p(data: pd.DataFrame, order: Sequence[str], reference: str, variable: str) -> float:
    """Likelihood-ratio test of group x subgroup interaction in a Cox model (Efron ties), as R's
    ``anova(coxph(~ group + sub), coxph(~ group * sub))``: a cell without events makes coefficients
    diverge, and the test then uses the loglik's supremum, which R's coxph also reaches; degrees of
    freedom count the identifiable interaction terms (a cell without patients adds none)."""
    others = [g for g in order if g != reference]
    levels = sorted(data[variable].astype(str).unique())
    arm = _dummies(data["group"], others)
    sub = _dummies(data[variable].astype(str), levels[1:])
    inter = np.column_stack([a * s for a in arm.T for s in sub.T])
    time, event = data["time_days"].to_numpy(float), data["event"].to_numpy(int)
    (base, k_base), (full, k_full) = (_cox_loglik(np.hstack([arm, sub]), time, event),
                                      _cox_loglik(np.hstack([arm, sub, inter]), time, event))
    if k_full == k_base:
        return math.nan
    return float(stats.chi2.sf(max(2 * (full - base), 0.0), k_full - k_base))


def _level_rows(part: pd.DataFrame, order: Sequence[str], reference: str, z: float) -> tuple[list[dict], tuple[str, ...]]:
    """One level's rows (HRs by the event-free rule of :func:`dashboard.domain.cox._cox_rows`) and notes."""
    counts = part.groupby("group")["event"].agg(["size", "sum"]).reindex(order, fill_value=0)
    fit = _cox_rows(part, order, reference, z)
    ref = dict(n_reference=int(counts.loc[reference, "size"]), events_reference=int(counts.loc[reference, "sum"]))
    # The Wald p of each level is not carried: a per-level p invites reading sampling noise as an effect.
    rows = [dict({k: v for k, v in r.items() if k != "p"}, n=int(counts.loc[r["group"], "size"]),
                 events=int(counts.loc[r["group"], "sum"]), **ref) for r in fit.rows]
    return rows, fit.notes


def _is_ordered(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.CategoricalDtype) and bool(values.cat.ordered)


def _events_by_level(values: pd.Series, event: pd.Series) -> pd.Series:
    """Events per observed level: an ordered categorical's in category order, any other's sorted by name."""
    if _is_ordered(values):
        levels = [str(c) for c in values.cat.categories if (values == c).any()]
    else:
        levels = sorted(values.astype(str).unique())
    return event.groupby(values.astype(str).to_numpy()).sum().reindex(levels)


def _pooled_text(label: str, events: pd.Series, mapping: dict[str, str]) -> list[str]:
    """One line per reported level that is not simply one original level: "Age: 30 to 50 = 30 (1 event), ..."."""
    shown = pd.Series(mapping)
    texts = []
    for level, members in shown.groupby(shown, sort=False):
        if len(members) > 1 or level != members.index[0]:
            parts = ", ".join(f"{m} ({n} event{'' if n == 1 else 's'})" for m, n in
                              ((m, int(events[m])) for m in members.index))
            texts.append(f"{label}: {level} = {parts}.")
    return texts


def _method(labels: Mapping[str, str], ordered: list[str], min_events: int) -> str:
    kinds = (f"Ordered: {', '.join(labels[v] for v in ordered) or 'none'}; nominal: "
             f"{', '.join(labels[v] for v in labels if v not in ordered) or 'none'}.")
    return ("Cox hazard ratio per subgroup level, Efron ties, Wald CI; one interaction p per variable, from a "
            "likelihood-ratio test of group x subgroup in a Cox model; no p-value per level. "
            f"Levels with fewer than {min_events} events are collapsed before both: an ordered variable's smallest "
            "level joins the smaller of its neighbours, a nominal variable's small levels are pooled into "
            f"'{OTHER}' (which takes in the smallest remaining level while it has fewer than {min_events}); a "
            f"variable left with one level is not analysed. {kinds}")


def _exploratory(n_examined: int, n_tested: int) -> str:
    return (f"Exploratory: {n_examined} subgroup variable{'' if n_examined == 1 else 's'} examined, {n_tested} "
            f"interaction test{'' if n_tested == 1 else 's'}, none adjusted for multiplicity.")


def _multiplicity(n_examined: int, n_tested: int) -> str:
    """The caption Wang et al. (2007) ask for: how many variables were looked at, and what that costs."""
    chance = (f" With {n_tested} independent tests at the 5% level, the chance that at least one gives p < 0.05 "
              f"when the effect is the same in every subgroup is {1 - 0.95 ** n_tested:.0%}." if n_tested > 1 else "")
    return (f"{_exploratory(n_examined, n_tested)}{chance} Read each subgroup against the overall hazard ratio, not "
            "on its own (ICH E9 section 5.7; Wang et al., N Engl J Med 2007;357:2189).")


def subgroup_hr(df: pd.DataFrame, *, group_col: str, reference: str, subgroups: dict[str, str],
                groups: Sequence[str] | None = None, conf_level: float = 0.95,
                min_events: int = MIN_EVENTS) -> SubgroupResult:
    """Per-level hazard ratios and one interaction p per variable, for a forest plot.

    ``subgroups`` maps a column of ``df`` to its display label; a column that is an ordered categorical
    (:func:`ordered_by`) has ordered levels, any other is nominal. Rows with a missing subgroup value are
    left out of that variable. Levels with fewer than ``min_events`` events (all groups together) are
    collapsed by :func:`collapse_levels` before the hazard ratios and the interaction test; a variable left
    with one level gets no rows and is listed in ``not_analysed``. Within a level, groups without events get
    NaN HR and a note, the others are still compared (the rule of :func:`dashboard.domain.cox.cox_hr`).
    """
    check_conf_level("subgroup_hr", conf_level)
    if not (isinstance(min_events, int) and min_events >= 1):
        raise ValueError(f"subgroup_hr: argument min_events={min_events!r}; allowed values: a whole number >= 1.")
    data, order = _prepare("subgroup_hr", df, group_col, groups, list(subgroups))
    _reference_order("subgroup_hr", order, reference)
    z = _z(conf_level)
    rows, notes, collapsed, not_analysed, tested = [], [], [], [], 0
    ordered = [v for v in subgroups if _is_ordered(data[v])]
    for variable, label in subgroups.items():
        part = data[data[variable].notna()]
        events = _events_by_level(part[variable], part["event"])
        mapping = collapse_levels(events, ordered=variable in ordered, min_events=min_events)
        collapsed += _pooled_text(label, events, mapping)
        reported = list(dict.fromkeys(mapping.values()))
        if OTHER in reported and variable not in ordered:
            reported = [lv for lv in reported if lv != OTHER] + [OTHER]
        if len(reported) < 2:
            not_analysed.append(f"{label}: fewer than two levels with at least {min_events} events; no subgroup "
                                "hazard ratios or interaction test.")
            continue
        part = part.assign(**{variable: part[variable].astype(str).map(mapping)})
        p_int = _interaction_p(part, order, reference, variable)
        tested += not math.isnan(p_int)
        for level in reported:
            level_rows, level_notes = _level_rows(part[part[variable] == level], order, reference, z)
            rows += [dict(variable=variable, level=level, **r, interaction_p=p_int) for r in level_rows]
            notes += [f"{label} {level}: {note}" for note in level_notes]
    return SubgroupResult(pd.DataFrame(rows, columns=SUMMARY_COLUMNS), dict(subgroups),
                          _method(subgroups, ordered, min_events), tuple(notes), tuple(collapsed),
                          tuple(not_analysed), _multiplicity(len(subgroups), tested),
                          f"{_exploratory(len(subgroups), tested)} Levels with fewer than {min_events} events collapsed.")
