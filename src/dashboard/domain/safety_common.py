"""Domain layer: what infusion safety and adverse-event tables share: the result table type, the check of
adverse-event rows, the group order, and the exact and score CIs of proportions (argument checks and the
group column: :mod:`dashboard.domain.checks`, ``labstats.with_group``).

Every safety result names its group column ``group``: the arm when ``group_col`` is given, otherwise the
single label :data:`POOLED_LABEL`, so a blinded caller (``group_col=None``) never receives arm-level numbers
(DESIGN §4: pool, never relabel). Groups are listed in the order of ``arms`` (active first), others after it
alphabetically.

Conventions (shown on screen through each result's ``method`` string):

- proportions: exact Clopper-Pearson CI (as R ``binom.test``);
- risk difference active - reference: Newcombe hybrid score CI, method 10 of Newcombe (1998),
  from Wilson score limits without continuity correction (as R ``prop.test(correct=FALSE)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.domain.checks import check_group_col, require_columns


@dataclass(frozen=True)
class SafetyTable:
    """A safety table with fixed columns and the footnote describing how it was computed."""

    table: pd.DataFrame
    method: str


# ---------------------------------------------------------------- adverse-event rows and groups


def _check_ae(ae: pd.DataFrame, func: str, group_col: str | None, required: Sequence[str]) -> None:
    require_columns(func, ae, required, arg="ae")
    check_group_col(func, ae, group_col, arg="ae")


def _group_order(groups: Sequence[str], arms: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(groups))
    if arms is None:
        return sorted(present)
    return [a for a in arms if a in present] + sorted(g for g in present if g not in arms)


# ---------------------------------------------------------------- proportions


def clopper_pearson(x: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Exact binomial CI for x/n from beta quantiles (as R ``binom.test``); (nan, nan) when n == 0."""
    if n == 0:
        return (np.nan, np.nan)
    alpha = 1 - conf_level
    lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    upper = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return lower, upper


def wilson(x: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Wilson score CI without continuity correction (as R ``prop.test(correct=FALSE)``)."""
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    p = x / n
    centre = (x + z * z / 2) / (n + z * z)
    half = z * np.sqrt(n * p * (1 - p) + z * z / 4) / (n + z * z)
    return float(centre - half), float(centre + half)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, conf_level: float = 0.95) -> tuple[float, float, float]:
    """p1 - p2 with the Newcombe (1998) hybrid score CI, method 10 (Wilson limits, no correction)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, conf_level)
    l2, u2 = wilson(x2, n2, conf_level)
    d = p1 - p2
    return d, d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
