"""Small cells in blinded views (issue 16): a blinded viewer's pooled tables show counts of 1 to 4 as "<5"
(the threshold and the rule in :mod:`dashboard.domain.disclosure`); the DSMB's tables are shown as computed."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.domain.disclosure import suppress_pooled_counts


def disclosed(view: TrialView, table: pd.DataFrame, count_columns: Iterable[str] = ()) -> pd.DataFrame:
    """``table`` as ``view``'s viewer may see it (count columns found by name, or named: a cross-table)."""
    return table if view.sees_arms else suppress_pooled_counts(table, count_columns)


def numeric_columns(table: pd.DataFrame) -> list[str]:
    """The count columns of a cross-table of counts: every numeric one."""
    return [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
