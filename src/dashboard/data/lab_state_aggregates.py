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

    A visit counts the patients whose window for it had closed by the cut (counted from each patient's day 1),
    dead or alive: counting the dead at a visit the living have not reached yet would inflate the deaths of
    the late visits. A patient's value at a visit is the last one by study day; without one, an exit on or before
    the visit's target day makes the patient Died/Transplanted/Withdrawn or lost there. Rows only for
    combinations with patients.
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
                   CASE WHEN sel.cut_day < v.window_hi THEN NULL
                        WHEN vals.x IS NOT NULL AND NOT isnan(vals.x) THEN {band}
                        WHEN sel.exit_day <= v.target_day THEN
                            CASE sel.status WHEN 'died' THEN $died WHEN 'transplanted' THEN $transplanted ELSE $left END
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



def lab_landmark_rows(con: Con, f: SubjectFilter, paramcd: str, visit_num: int, include_arm: bool) -> pd.DataFrame:
    """One row per selected patient whose window for ``visit_num`` had closed by the cut, dead or alive (a landmark
    analysis of the patients who could have reached the landmark, so that early deaths of late enrollees do not
    outweigh their survival): ``usubjid``, ``group``, ``baseline`` and ``value`` (the last value at visit 0 and at the visit,
    NULL when none), ``death_day``, ``transplant_day`` (study days, NULL when none by the cut) and
    ``followup_day`` (the study day of the last contact): the input of ``domain.composite``."""
    where, params = subject_where(f, "s")
    params.update(paramcd=paramcd, visit_num=visit_num)
    return con.execute(f"""
        WITH v AS (SELECT target_day, window_hi FROM visits WHERE visit_num = $visit_num),
        sel AS (
            SELECT s.usubjid, {group_sql(include_arm)} AS "group",
                   date_diff('day', s.day1_on, s.death_on) + 1 AS death_day,
                   date_diff('day', s.day1_on, s.transplant_on) + 1 AS transplant_day,
                   date_diff('day', s.day1_on, coalesce(s.death_on, s.last_contact_on)) + 1 AS followup_day,
                   date_diff('day', s.day1_on, (SELECT max(data_cut_date) FROM study)) + 1 AS cut_day
            FROM subjects s WHERE {where}),
        vals AS (
            SELECT l.usubjid, arg_max(l.value, l.study_day) FILTER (WHERE l.visit_num = 0) AS baseline,
                   arg_max(l.value, l.study_day) FILTER (WHERE l.visit_num = $visit_num) AS value
            FROM lab_results l
            WHERE l.paramcd = $paramcd AND l.value IS NOT NULL AND l.visit_num IN (0, $visit_num){selected_rows(where, "l")}
            GROUP BY ALL)
        SELECT sel.usubjid, sel."group", vals.baseline, vals.value, sel.death_day::DOUBLE AS death_day,
               sel.transplant_day::DOUBLE AS transplant_day, sel.followup_day::DOUBLE AS followup_day
        FROM sel CROSS JOIN v LEFT JOIN vals USING (usubjid)
        WHERE sel.cut_day >= v.window_hi
        ORDER BY sel.usubjid""", params).df()
