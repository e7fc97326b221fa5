"""Domain layer: hazard ratios per subgroup level with the interaction test, for the forest plot, equal to
R's ``coxph`` (Efron ties). Conventions (groups, pooling) as :mod:`dashboard.domain.km`, checks :mod:`dashboard.domain.checks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain.checks import check_conf_level
from dashboard.domain.cox import _cox_loglik, _cox_rows, _dummies, _reference_order
from dashboard.domain.km import _prepare, _z


@dataclass(frozen=True)
class SubgroupResult:
    """``summary``: variable, level, group, reference, n, events, n_reference, events_reference, hr,
    lower, upper, p, interaction_p (one row per subgroup level and non-reference group); ``notes``:
    user-facing, which levels have groups without a hazard ratio and why."""

    summary: pd.DataFrame
    labels: dict[str, str]
    method: str
    notes: tuple[str, ...] = ()


def _interaction_p(data: pd.DataFrame, order: Sequence[str], reference: str, variable: str) -> float:
    """Likelihood-ratio test of group x subgroup interaction in a Cox model (Efron ties), as R's
    ``anova(coxph(~ group + sub), coxph(~ group * sub))``: a cell without events makes coefficients
    diverge, and the test then uses the loglik's supremum, which R's coxph also reaches; degrees of
    freedom count the identifiable interaction terms (a cell without patients adds none)."""
    others = [g for g in order if g != reference]
    levels = sorted(data[variable].astype(str).unique())
    if len(levels) < 2:
        return math.nan  # one level: no interaction to test
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
    rows = [dict(r, n=int(counts.loc[r["group"], "size"]), events=int(counts.loc[r["group"], "sum"]), **ref)
            for r in fit.rows]
    return rows, fit.notes


def subgroup_hr(df: pd.DataFrame, *, group_col: str, reference: str, subgroups: dict[str, str],
                groups: Sequence[str] | None = None, conf_level: float = 0.95) -> SubgroupResult:
    """Per-level hazard ratios for a forest plot. ``subgroups`` maps a column of ``df`` to its display
    label. Rows with a missing subgroup value are left out of that variable. Within a level, groups
    without events get NaN HR and a note, the others are still compared (the rule of :func:`cox_hr`)."""
    check_conf_level("subgroup_hr", conf_level)
    data, order = _prepare("subgroup_hr", df, group_col, groups, list(subgroups))
    _reference_order("subgroup_hr", order, reference)
    z = _z(conf_level)
    rows, notes = [], []
    for variable, label in subgroups.items():
        part = data[data[variable].notna()]
        p_int = _interaction_p(part, order, reference, variable)
        for level in sorted(part[variable].astype(str).unique()):
            level_rows, level_notes = _level_rows(part[part[variable].astype(str) == level], order, reference, z)
            rows += [dict(variable=variable, level=level, **r, interaction_p=p_int) for r in level_rows]
            notes += [f"{label} {level}: {note}" for note in level_notes]
    columns = ["variable", "level", "group", "reference", "n", "events", "n_reference", "events_reference",
               "hr", "lower", "upper", "p", "interaction_p"]
    return SubgroupResult(pd.DataFrame(rows, columns=columns), dict(subgroups),
                          "Cox hazard ratios per subgroup level, Efron ties, Wald CI; interaction p from a "
                          "likelihood-ratio test of group x subgroup in a Cox model.", tuple(notes))
