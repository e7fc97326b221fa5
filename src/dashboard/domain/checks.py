"""Domain layer: the argument checks every public domain function runs first (private helpers trust
their inputs). One message style: ``"<function>: argument <name>=<value>; allowed values: <...>."``.

Every check takes the calling function's name first, then the data (if any), then the value checked:

- :func:`require_columns` ``(fn, df, columns, *, arg="df")``: ``df`` is a DataFrame holding ``columns``.
- :func:`check_group_col` ``(fn, df, group_col, *, arg="df")``: ``group_col`` is None (pooled) or a
  column of ``df``.
- :func:`check_conf_level` ``(fn, conf_level)``: a number strictly between 0 and 1.
- :func:`check_conf_type` ``(fn, conf_type, allowed=CONF_TYPES)``: one of the CI scales.
- :func:`group_labels` ``(df, group_col)``: the group of each row as text, or :data:`POOLED_LABEL`.
- :func:`group_order` ``(labels, groups)``: the caller's group order, or the sorted labels present.

They replace ``survival._check_columns``/``_check_conf`` and ``labstats._require_columns``/
``_check_group_col``/``_check_conf_level`` (same checks, the argument order above; ``arg`` names the
DataFrame argument in the message when it is not ``df``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Real

import pandas as pd

from dashboard.domain import POOLED_LABEL

CONF_TYPES = ("log-log", "log", "plain")


def require_columns(fn: str, df: object, columns: Sequence[str], *, arg: str = "df") -> None:
    """``df`` must be a DataFrame holding every column in ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{fn}: argument {arg} must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{fn}: argument {arg} lacks column(s) {missing}; required: {list(columns)}.")


def check_group_col(fn: str, df: pd.DataFrame, group_col: str | None, *, arg: str = "df") -> None:
    """``group_col`` must be None (pooled: one group) or a column of ``df``."""
    if group_col is not None and group_col not in df.columns:
        raise ValueError(f"{fn}: argument group_col={group_col!r}; allowed values: a column of {arg} "
                         f"({list(df.columns)}) or None for pooled results.")


def check_conf_level(fn: str, conf_level: float) -> None:
    """``conf_level`` must be a number strictly between 0 and 1."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, Real) or not 0 < conf_level < 1:
        raise ValueError(f"{fn}: argument conf_level={conf_level!r}; allowed values: 0 < conf_level < 1.")


def check_conf_type(fn: str, conf_type: str, allowed: Sequence[str] = CONF_TYPES) -> None:
    """``conf_type`` must be one of ``allowed`` (default the Kaplan-Meier CI scales)."""
    if conf_type not in allowed:
        raise ValueError(f"{fn}: argument conf_type={conf_type!r}; allowed values: {list(allowed)}.")


def group_labels(df: pd.DataFrame, group_col: str | None) -> pd.Series | str:
    """The group of each row as text, or :data:`POOLED_LABEL` (a scalar) when ``group_col`` is None."""
    return POOLED_LABEL if group_col is None else df[group_col].astype(str)


def group_order(labels: Iterable[str], groups: Sequence[str] | None) -> tuple[str, ...]:
    """``groups`` as text (the caller's order: active arm first, control last), or the sorted labels."""
    return tuple(sorted(set(labels))) if groups is None else tuple(str(g) for g in groups)
