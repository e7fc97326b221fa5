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
from dashboard.domain.cox import _cox_fit, _cox_rows, _dummies, _reference_order
from dashboard.domain.km import _prepare, _z


@dataclass(frozen=True)
class SubgroupResult:
    """``summary``: variable, level, group, reference, n, events, n_reference, events_reference, hr,
    lower, upper, p, interaction_p (one row per subgroup level and non-reference group)."""

    summary: pd.DataFrame
    labels: dict[str, str]
    method: str


def _interaction_p(data: pd.DataFrame, order: Sequence[str], reference: str, variable: str) -> float:
    """Likelihood-ratio test of group x subgroup interaction in a Cox model (Efron ties)."""
    others = [g for g in order if g != reference]
    levels = sorted(data[variable].astype(str).unique())
    arm = _dummies(data["group"], others)
    sub = _dummies(data[variable].astype(str), levels[1:])
    inter = np.column_stack([a * s for a in arm.T for s in sub.T])
    time, event = data["time_days"].to_numpy(float), data["event"].to_numpy(int)
    base, full = _cox_fit(np.hstack([arm, sub]), time, event), _cox_fit(np.hstack([arm, sub, inter]), time, event)
    if base is None or full is None:
        return math.nan
    return float(stats.chi2.sf(2 * (full[2] - base[2]), inter.shape[1]))


def _level_rows(part: pd.DataFrame, order: Sequence[str], reference: str, z: float) -> list[dict]:
    counts = part.groupby("group")["event"].agg(["size", "sum"]).reindex(order, fill_value=0)
    with_events = [g for g in order if counts.loc[g, "sum"] > 0]
    rows = []
    if reference in with_events and len(with_events) > 1:
        rows, _ = _cox_rows(part[part["group"].isin(with_events)], with_events, reference, z)
    fitted = {r["group"]: r for r in rows}
    out = []
    for g in (g for g in order if g != reference):
        r = fitted.get(g, dict(hr=math.nan, lower=math.nan, upper=math.nan, p=math.nan))
        out.append(dict(group=g, reference=reference, n=int(counts.loc[g, "size"]), events=int(counts.loc[g, "sum"]),
                        n_reference=int(counts.loc[reference, "size"]),
                        events_reference=int(counts.loc[reference, "sum"]),
                        hr=r["hr"], lower=r["lower"], upper=r["upper"], p=r["p"]))
    return out


def subgroup_hr(df: pd.DataFrame, *, group_col: str, reference: str, subgroups: dict[str, str],
                groups: Sequence[str] | None = None, conf_level: float = 0.95) -> SubgroupResult:
    """Per-level hazard ratios for a forest plot. ``subgroups`` maps a column of ``df`` to its display
    label. Rows with a missing subgroup value are left out of that variable. A level where an arm has
    no events gets NaN HR."""
    check_conf_level("subgroup_hr", conf_level)
    data, order = _prepare("subgroup_hr", df, group_col, groups, list(subgroups))
    _reference_order("subgroup_hr", order, reference)
    z = _z(conf_level)
    rows = []
    for variable in subgroups:
        part = data[data[variable].notna()]
        p_int = _interaction_p(part, order, reference, variable)
        for level in sorted(part[variable].astype(str).unique()):
            level_rows = _level_rows(part[part[variable].astype(str) == level], order, reference, z)
            rows += [dict(variable=variable, level=level, **r, interaction_p=p_int) for r in level_rows]
    return SubgroupResult(pd.DataFrame(rows), dict(subgroups),
                          "Cox hazard ratios per subgroup level, Efron ties, Wald CI; interaction p from a "
                          "likelihood-ratio test of group x subgroup in a Cox model.")
