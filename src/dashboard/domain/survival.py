"""Domain layer: the survival analysis the survival page and the ``survival`` command show, equal to R's
``survival`` package to 1e-6 (DESIGN §5).

The statistics live in :mod:`dashboard.domain.km` (Kaplan-Meier, medians, milestones, RMST) and
:mod:`dashboard.domain.cox` (log-rank, Efron Cox); this module combines them (:func:`survival_analysis`,
:func:`survival_report`), selects patients on a KM plot (:func:`patients_in_window`) and re-exports the
names other modules import from here. Competing risks: :mod:`dashboard.domain.competing_risks`; subgroup
hazard ratios: :mod:`dashboard.domain.subgroups`. Reference fixtures: ``tests/domain/reference/*.R``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain.checks import check_conf_level, check_conf_type, require_columns
from dashboard.domain.cox import (
    COX_COLUMNS,
    CoxResult,
    LogrankResult,
    _cox_fit,
    _cox_of_prepared,
    _cox_rows,
    _dummies,
    _efron,
    _logrank_of_prepared,
    _reference_order,
    cox_hr,
    logrank_test,
)
from dashboard.domain.km import (
    CONF_TYPES,
    KM_COLUMNS,
    KM_SUMMARY_COLUMNS,
    REQUIRED_COLUMNS,
    KMResult,
    MilestoneResult,
    RMSTResult,
    _confint,
    _km_of_prepared,
    _prepare,
    _z,
    km_estimate,
    rmst,
    rmst_from_km,
    survival_at,
)
from dashboard.errors import InsufficientData

__all__ = ["CONF_TYPES", "COX_COLUMNS", "KM_COLUMNS", "KM_SUMMARY_COLUMNS", "REQUIRED_COLUMNS", "CoxResult",
           "KMResult", "LogrankResult", "MilestoneResult", "RMSTResult", "SurvivalAnalysis", "cox_hr",
           "km_estimate", "logrank_test", "patients_in_window", "rmst", "rmst_from_km", "survival_analysis",
           "survival_at", "survival_report",
           # private helpers other survival modules imported from here before the split
           "_check_columns", "_check_conf", "_confint", "_cox_fit", "_cox_rows", "_dummies", "_efron", "_prepare",
           "_reference_order", "_z"]


def _check_columns(fn: str, df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Former name of :func:`dashboard.domain.checks.require_columns`."""
    require_columns(fn, df, columns)


def _check_conf(fn: str, conf_level: float, conf_type: str = "log-log") -> None:
    """Former combined check: :func:`~dashboard.domain.checks.check_conf_type` and ``check_conf_level``."""
    check_conf_type(fn, conf_type)
    check_conf_level(fn, conf_level)


# --- selection and report ---------------------------------------------------------------------

def patients_in_window(df: pd.DataFrame, start_day: float, end_day: float) -> pd.DataFrame:
    """Rows whose event or censoring falls in [start_day, end_day] (a range selected on a KM plot)."""
    require_columns("patients_in_window", df, REQUIRED_COLUMNS)
    if start_day > end_day:
        raise ValueError(f"patients_in_window: argument start_day={start_day} > end_day={end_day}; "
                         "allowed values: start_day <= end_day.")
    inside = df["time_days"].between(start_day, end_day)
    return df[inside].sort_values(["time_days", "usubjid"]).reset_index(drop=True)


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    return frame[list(columns)].to_dict("records")


@dataclass(frozen=True)
class SurvivalAnalysis:
    """What the survival page and the ``survival`` command show. ``logrank``/``cox`` are None when
    pooled (one group) or not estimable; ``notes`` then says why (user-facing)."""

    km: KMResult
    logrank: LogrankResult | None
    cox: CoxResult | None
    milestones: MilestoneResult
    reference: str
    notes: tuple[str, ...]
    method: str


def survival_analysis(df: pd.DataFrame, *, group_col: str | None, groups: Sequence[str] | None = None,
                      reference: str | None = None, conf_type: str = "log-log",
                      milestones_days: Sequence[float] = ()) -> SurvivalAnalysis:
    """Kaplan-Meier, log-rank, Cox (each group vs ``reference``, default the last group) and survival
    at ``milestones_days``: one call, so the page and the command line show the same numbers. The
    log-rank test needs one event; groups without events get no hazard ratio (``notes`` says which)."""
    check_conf_type("survival_analysis", conf_type)
    # Checked and reduced once for the three estimators: at 100,000 patients each preparation costs 25-55 ms.
    data, order = _prepare("survival_analysis", df, group_col, groups)
    km = _km_of_prepared(data, order, 0.95, conf_type)
    reference = km.groups[-1] if reference is None else reference
    logrank = cox = None
    notes: list[str] = []
    if len(km.groups) > 1:
        try:
            logrank = _logrank_of_prepared(data, order)
            cox = _cox_of_prepared(data, order, reference, 0.95)
            notes += cox.notes
        except InsufficientData as exc:  # no events at all, or none in the reference: no hazard ratio
            notes.append(str(exc))
    milestones = survival_at(km, milestones_days, reference=reference if len(km.groups) > 1 else None)
    method = " ".join([km.method] + [r.method for r in (logrank, cox) if r is not None])
    return SurvivalAnalysis(km, logrank, cox, milestones, reference, tuple(notes), method)


def survival_report(df: pd.DataFrame, *, group_col: str | None, groups: Sequence[str] | None = None,
                    reference: str | None = None, conf_type: str = "log-log",
                    milestones_days: Sequence[float] = ()) -> dict:
    """:func:`survival_analysis` as a JSON-ready dict (NaN -> None). With one group (pooled), or when
    a comparison is not estimable, ``logrank`` and ``cox`` are None."""
    return analysis_report(survival_analysis(df, group_col=group_col, groups=groups, reference=reference,
                                             conf_type=conf_type, milestones_days=milestones_days))


def analysis_report(a: SurvivalAnalysis) -> dict:
    """A survival analysis already made, as :func:`survival_report`'s JSON-ready dict."""
    return _json_safe({
        "groups": _records(a.km.summary, ["group", "n", "events", "median", "median_lower", "median_upper"]),
        "logrank": {"chi2": a.logrank.chi2, "df": a.logrank.df, "p": a.logrank.p} if a.logrank else None,
        "cox": _records(a.cox.summary, COX_COLUMNS) if a.cox else None,
        "km": _records(a.km.table, ["group", "time", "at_risk", "events", "censored", "survival", "lower", "upper"]),
        "milestones": _records(a.milestones.summary, ["group", "day", "survival", "lower", "upper"]),
        "notes": list(a.notes),
        "method": a.method,
    })
