"""Data layer: patients per state of a lab at each scheduled visit, dead and transplanted patients included
(:mod:`dashboard.domain.death_aware` names the states and the rule), counted in DuckDB: one row per group,
visit, baseline state and state, never a patient's row. As in ``queries``, ``group`` is the arm only when
``include_arm``; otherwise NULL and the SQL never reads ``arm`` (DESIGN §4).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dashboard.data.filters import group_sql, selected_rows, subject_where
from dashboard.data.queries import exit_day_sql
from dashboard.domain.death_aware import DIED, EXIT_CODES, LEFT, NO_VALUE, TRANSPLANTED, StateScale
from dashboard.domain.labs import describe
from dashboard.domain.subject_filter import SubjectFilter

Con = duckdb.DuckDBPyConnection

# The measure each scale bands; the limit is the record's own, else the registry default ($default).
_MEASURES = {
    "value": "l.value",
    "ratio_upper": "l.value / coalesce(l.upper_limit, $default::DOUBLE)",
    "ratio_lower": "l.value / coalesce(l.lower_limit, $default::DOUBLE)",
}
_DEFAULT_LIMIT = {"value": None, "ratio_upper": "upper_limit", "ratio_lower": "lower_limit"}


def lab_state_counts(con: Con, f: SubjectFilter, scale: StateScale, include_arm: bool) -> pd.DataFrame:
    """Selected patients per ``group``, ``visit``, ``visit_num``, ``baseline_state`` (code of the state at
    visit_num 0) and ``state`` (code at this visit: a band index, or ``EXIT_CODES``), with ``n`` patients.

    A patient's value at a visit is the last one by study day; an exit on or before the visit's target day
    makes the patient Died/Transplanted/Withdrawn or lost there; a visit whose window ends after the cut and
    holds no value is not yet due and not counted. Rows only for combinations with patients.
    """
    where, params = subject_where(f, "s")
    limit_side = _DEFAULT_LIMIT[scale.measure]
    params.update(paramcd=scale.paramcd, cuts=list(scale.cuts),
                  died=EXIT_CODES[DIED], transplanted=EXIT_CODES[TRANSPLANTED], left=EXIT_CODES[LEFT],
                  no_value=EXIT_CODES[NO_VALUE])
    if limit_side:
        params["default"] = getattr(describe(scale.paramcd), limit_side)
    exit_day = exit_day_sql(params)
    group = group_sql(include_arm)
    # op comes from the fixed StateScale literals, never from user input.
    band = f"len(list_filter($cuts, lambda c: x {scale.op} c))"
    return con.execute(f"""
        WITH sel AS (
            SELECT s.usubjid, {group} AS "group", s.status, {exit_day} AS exit_day,
                   date_diff('day', s.day1_on, (SELECT max(data_cut_date) FROM study)) + 1 AS cut_day
            FROM subjects s WHERE {where}),
        vals AS (
            SELECT l.usubjid, l.visit_num, arg_max({_MEASURES[scale.measure]}, l.study_day) AS x
            FROM lab_results l
            WHERE l.paramcd = $paramcd AND l.value IS NOT NULL AND l.visit_num IS NOT NULL{selected_rows(where, "l")}
            GROUP BY ALL),
        states AS (
            SELECT sel.usubjid, sel."group", v.visit, v.visit_num,
                   CASE WHEN vals.x IS NOT NULL AND NOT isnan(vals.x) THEN {band}
                        WHEN sel.exit_day <= v.target_day THEN
                            CASE sel.status WHEN 'died' THEN $died WHEN 'transplanted' THEN $transplanted ELSE $left END
                        WHEN sel.cut_day < v.window_hi THEN NULL
                        ELSE $no_value END AS state
            FROM sel CROSS JOIN visits v
            LEFT JOIN vals ON vals.usubjid = sel.usubjid AND vals.visit_num = v.visit_num
            WHERE v.visit_num IS NOT NULL),
        with_baseline AS (
            SELECT st.*, b.state AS baseline_state
            FROM states st LEFT JOIN (SELECT usubjid, state FROM states WHERE visit_num = 0) b USING (usubjid)
            WHERE st.state IS NOT NULL)
        SELECT "group", visit, visit_num, baseline_state, state, count(*) AS n
        FROM with_baseline GROUP BY ALL
        ORDER BY "group" NULLS FIRST, visit_num, baseline_state NULLS LAST, state""", params).df()
