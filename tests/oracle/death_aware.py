"""Oracle of ``dashboard.data.lab_state_aggregates.lab_state_counts``: each patient's state at each visit from the
fetched rows, a patient and a visit at a time (slow, obvious), as ``domain.death_aware`` states the rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dashboard.domain.death_aware import DIED, EXIT_CODES, LEFT, NO_VALUE, TRANSPLANTED, StateScale
from dashboard.domain.labs import describe

_PASSES = {">=": np.greater_equal, ">": np.greater, "<": np.less}


def _band(value: float, scale: StateScale) -> int:
    return int(sum(bool(_PASSES[scale.op](value, c)) for c in scale.cuts))


def _measure(row: pd.Series, scale: StateScale) -> float:
    param = describe(scale.paramcd)
    if scale.measure == "value":
        return row["value"]
    limit_col, default = (("upper_limit", param.upper_limit) if scale.measure == "ratio_upper"
                          else ("lower_limit", param.lower_limit))
    limit = row[limit_col] if pd.notna(row[limit_col]) else default
    return math.nan if limit is None or pd.isna(limit) else row["value"] / limit


def lab_state_counts(rows: pd.DataFrame, subjects: pd.DataFrame, visits: pd.DataFrame, cut_date, scale: StateScale,
                     group_col: str | None) -> pd.DataFrame:
    """``rows``: queries.lab_rows of one lab; ``subjects``: the selected patients with status, day1_on and
    ``exit_day`` (tests.oracle.labstats.add_exit_day); ``visits``: the schedule; ``cut_date``: the data cut."""
    exit_code = {"died": EXIT_CODES[DIED], "transplanted": EXIT_CODES[TRANSPLANTED],
                 "withdrawn": EXIT_CODES[LEFT], "lost to follow-up": EXIT_CODES[LEFT]}
    states = []
    for _, s in subjects.iterrows():
        mine = rows[(rows["usubjid"] == s["usubjid"]) & rows["visit_num"].notna() & rows["value"].notna()]
        cut_day = (pd.Timestamp(cut_date) - pd.Timestamp(s["day1_on"])).days + 1
        by_visit = {}
        for _, v in visits.iterrows():
            at = mine[mine["visit_num"] == v["visit_num"]].sort_values("study_day", kind="stable")
            x = _measure(at.iloc[-1], scale) if len(at) else math.nan
            if not math.isnan(x):
                state = _band(x, scale)
            elif s["status"] in exit_code and s["exit_day"] <= v["target_day"]:
                state = exit_code[s["status"]]
            elif cut_day < v["window_hi"]:
                continue
            else:
                state = EXIT_CODES[NO_VALUE]
            by_visit[v["visit_num"]] = (v["visit"], state)
        for visit_num, (visit, state) in by_visit.items():
            states.append(dict(group=s[group_col] if group_col else None, visit=visit, visit_num=visit_num,
                               baseline_state=by_visit.get(0, (None, None))[1], state=state))
    table = pd.DataFrame(states)
    return (table.groupby(["group", "visit", "visit_num", "baseline_state", "state"], dropna=False).size()
            .rename("n").reset_index())
