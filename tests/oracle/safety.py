"""Oracle of ``dashboard.domain.safety``: the temperature summary and fever incidence from vital-sign rows.

``temperature_by_hour`` equals ``safety.temperature_from_aggregates`` on ``safety_aggregates.temperature_summary``
and ``fever_incidence`` equals ``safety.fever_from_counts`` on ``safety_aggregates.fever_counts``; both end in
the domain module's own tails (``_temperature_summary``, ``_fever_result``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.domain.checks import check_conf_level, check_group_col, require_columns
from dashboard.domain.infusion_temperature import (
    _TEMPERATURE_KEYS,
    FEVER_TOLERANCE,
    VS_COLUMNS,
    FeverIncidence,
    TemperatureSummary,
    _check_threshold,
    _fever_result,
    _post_dose,
    _readings,
    _temperature_summary,
)
from dashboard.domain.labstats import with_group

INFUSION_COLUMNS = ("usubjid", "infusion_num")


def temperature_by_hour(
    vs: pd.DataFrame, *, group_col: str | None, arms: Sequence[str] | None = None, conf_level: float = 0.95
) -> TemperatureSummary:
    """Mean body temperature (deg C) by group, infusion and hour after the end of infusion, from
    ``vital_signs`` rows (usubjid, infusion_num, hours_after (-1 = PRE), paramcd, value; optional ``timepoint``;
    only ``paramcd == "TEMP"`` is used); ``group_col`` is the arm column, None pools all patients. One value per
    patient and time point, then n, mean and SD per group; ``arms``, ``conf_level`` and the result as
    ``temperature_from_aggregates``.
    """
    func = "temperature_by_hour"
    require_columns(func, vs, VS_COLUMNS, arg="vs")
    check_group_col(func, vs, group_col, arg="vs")
    check_conf_level(func, conf_level)
    per_patient = _readings(vs, group_col)
    out = per_patient.groupby(list(_TEMPERATURE_KEYS), as_index=False).agg(
        timepoint=("timepoint", "first"), n=("value", "size"), mean=("value", "mean"), sd=("value", "std")
    )
    return _temperature_summary(out, arms, conf_level)


def fever_incidence(
    vs: pd.DataFrame,
    infusions: pd.DataFrame,
    *,
    group_col: str | None,
    threshold: float = 38.0,
    arms: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> FeverIncidence:
    """Infusions and patients with fever (peak post-dose temperature >= threshold in 0-24 h), from
    ``vital_signs`` rows (as :func:`temperature_by_hour`) and ``infusions`` rows (usubjid, infusion_num);
    ``group_col``, when given, is a column of both, None pools all patients. Counted as the notes of
    ``fever_from_counts`` say; ``threshold``, ``arms``, ``conf_level`` and the result as there.
    """
    func = "fever_incidence"
    require_columns(func, vs, VS_COLUMNS, arg="vs")
    require_columns(func, infusions, INFUSION_COLUMNS, arg="infusions")
    check_group_col(func, vs, group_col, arg="vs")
    check_group_col(func, infusions, group_col, arg="infusions")
    check_conf_level(func, conf_level)
    _check_threshold(threshold, func)
    given = with_group(infusions, group_col)[["usubjid", "infusion_num", "group"]].drop_duplicates(
        ["usubjid", "infusion_num"]
    )
    peak = _post_dose(vs).groupby(["usubjid", "infusion_num"], as_index=False).agg(peak_temp=("value", "max"))
    rows = given.merge(peak, on=["usubjid", "infusion_num"], how="left")
    rows["evaluable"] = rows["peak_temp"].notna()
    rows["fever"] = rows["evaluable"] & (rows["peak_temp"] >= threshold - FEVER_TOLERANCE)
    by_inf = rows.groupby(["group", "infusion_num"], as_index=False).agg(
        n_given=("usubjid", "size"), n_at_risk=("evaluable", "sum"), n_fever=("fever", "sum")
    )
    by_inf.insert(0, "unit", "infusion")
    by_pat = rows.groupby(["group", "usubjid"], as_index=False).agg(evaluable=("evaluable", "any"), fever=("fever", "any"))
    by_pat = by_pat.groupby("group", as_index=False).agg(
        n_given=("usubjid", "size"), n_at_risk=("evaluable", "sum"), n_fever=("fever", "sum")
    )
    by_pat.insert(0, "unit", "patient")
    by_pat.insert(1, "infusion_num", pd.NA)
    return _fever_result(pd.concat([by_inf, by_pat], ignore_index=True), threshold, arms, conf_level)
