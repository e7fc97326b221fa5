"""Data layer: /ascites' shift, transition and resolution inputs aggregated in DuckDB, so a filter change
never fetches the ~640,000 assessment rows of a 100,000-patient trial into pandas (DESIGN §7).

Through their ``dashboard.domain.ascites`` tails these equal the pandas functions of the test oracle
``tests.oracle.ascites`` on ``queries.ascites_rows``: ``grade_shift_from_counts`` = ``grade_shift``, ``transitions_from_counts`` =
``grade_transitions``, ``resolution_km_from_times`` = ``resolution_km``; and, with the patients' exits, the
views that keep the dead: ``visit_population_from_counts`` = ``visit_population``, ``state_shift_from_counts`` =
``state_shift``, ``transitions_from_counts`` of the state counts = ``state_transitions``. As in ``queries``,
``group`` is the arm only when ``include_arm``; otherwise NULL and the SQL never reads ``arm`` (DESIGN §4).

Each query reads the assessments once and aggregates them per patient before joining ``subjects``
(the chosen visits as FILTERed aggregates: about twice as fast as grouping by patient and visit);
shifts and transitions then count patients per grade pattern, so the final sums run over a few hundred
rows instead of one per patient and visit.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from dashboard.data.filters import group_sql, selected_rows, subject_where
from dashboard.data.queries import exit_day_sql
from dashboard.domain.ascites import EXIT_STATES, NOT_ASSESSED, NOT_DUE
from dashboard.domain.subject_filter import SubjectFilter

Con = duckdb.DuckDBPyConnection
# Orders assessments by (study day, grade), so a same-day repeat is chosen as in pandas, not by row order:
# grades are 0-3 (both importers and the simulator enforce it), so day * 4 + grade is that order as one
# integer, cheaper than a (day, grade) struct in the five per-patient aggregates.
_DAY_GRADE = "a.study_day * 4 + a.grade"


def _grade_patterns(f: SubjectFilter, visits: Sequence[str], include_arm: bool) -> tuple[str, dict]:
    """CTE ``patterns``: selected patients with a graded assessment counted (``patients``) per ``group``,
    ``base`` (the last visit_num 0 grade by study day) and ``g1`` .. ``gk`` (the first grade by study day
    at each of ``visits``; NULL where not assessed), with ``first_usubjid``, the pattern's first patient."""
    where, params = subject_where(f, "s")
    params["visits"] = list(visits)
    group = group_sql(include_arm)
    # Only list positions are formatted in; the visit labels stay parameters.
    firsts = "".join(f", arg_min(a.grade, {_DAY_GRADE}) FILTER (WHERE a.visit = $visits[{i}]) AS g{i}"
                     for i in range(1, len(visits) + 1))
    columns = "".join(f", g{i}" for i in range(1, len(visits) + 1))
    return f"""
        WITH pp AS (
            SELECT a.usubjid, arg_max(a.grade, {_DAY_GRADE}) FILTER (WHERE a.visit_num = 0) AS base{firsts}
            FROM ascites a WHERE a.grade IS NOT NULL{selected_rows(where, "a")} GROUP BY a.usubjid),
        patterns AS (
            SELECT {group} AS "group", base{columns}, count(*) AS patients, min(pp.usubjid) AS first_usubjid
            FROM pp JOIN subjects s USING (usubjid) WHERE {where} GROUP BY ALL)""", params


def _grades(first: int, last: int) -> str:
    return "[" + ", ".join(f"g{i}" for i in range(first, last + 1)) + "]::INTEGER[]"


def ascites_shift_counts(con: Con, f: SubjectFilter, visits: Sequence[str], include_arm: bool) -> pd.DataFrame:
    """Per group (arm, or NULL when pooled) and visit of ``visits``: ``assessed`` (patients with a grade
    there), ``n`` (of them, with a baseline grade) and ``improved`` / ``stable`` / ``worsened`` against
    baseline; every group with an assessment appears for every visit, groups in order of their first patient."""
    ctes, params = _grade_patterns(f, visits, include_arm)
    return con.execute(f"""{ctes},
        at_visit AS (
            SELECT "group", first_usubjid, patients, base, unnest({_grades(1, len(visits))}) AS grade,
                   unnest($visits::VARCHAR[]) AS visit
            FROM patterns)
        SELECT "group", visit, coalesce(sum(patients) FILTER (WHERE grade IS NOT NULL), 0)::BIGINT AS assessed,
               coalesce(sum(patients) FILTER (WHERE grade IS NOT NULL AND base IS NOT NULL), 0)::BIGINT AS n,
               coalesce(sum(patients) FILTER (WHERE grade < base), 0)::BIGINT AS improved,
               coalesce(sum(patients) FILTER (WHERE grade = base), 0)::BIGINT AS stable,
               coalesce(sum(patients) FILTER (WHERE grade > base), 0)::BIGINT AS worsened
        FROM at_visit GROUP BY "group", visit ORDER BY min(first_usubjid), visit""", params).df()


def ascites_transition_counts(con: Con, f: SubjectFilter, visits: Sequence[str], include_arm: bool) -> pd.DataFrame:
    """Per group and consecutive pair of ``visits`` (``pair`` 0 is the first two): patients assessed at
    both with each (``source_state``, ``target_state``), here the grades, a visit's grade being its first by
    study day; only pairs with a ``count`` > 0, groups in order of their first patient."""
    ctes, params = _grade_patterns(f, visits, include_arm)
    k = len(visits)
    return con.execute(f"""{ctes},
        links AS (
            SELECT "group", min(first_usubjid) OVER (PARTITION BY "group") AS group_first, patients,
                   unnest(range({max(k - 1, 0)})) AS pair, unnest({_grades(1, k - 1)}) AS source_state,
                   unnest({_grades(2, k)}) AS target_state
            FROM patterns)
        SELECT "group", pair, $visits[pair + 1] AS source_visit, source_state, $visits[pair + 2] AS target_visit,
               target_state, sum(patients)::BIGINT AS count
        FROM links WHERE source_state IS NOT NULL AND target_state IS NOT NULL
        GROUP BY ALL ORDER BY min(group_first), pair, source_state, target_state""", params).df()


# Per patient, from the assessments kept: baseline grade and day (the last visit_num 0 one), first
# grade-0 day after baseline and last day after baseline.
_RESOLUTION_AGGREGATES = f"""
    arg_max(a.grade, {_DAY_GRADE}) FILTER (WHERE a.visit_num = 0) AS base,
    max(a.study_day) FILTER (WHERE a.visit_num = 0) AS base_day,
    min(a.study_day) FILTER (WHERE a.visit_num > 0 AND a.grade = 0) AS first_free,
    max(a.study_day) FILTER (WHERE a.visit_num > 0) AS last_day"""


def ascites_resolution_times(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """One row per selected patient with ascites at baseline: ``usubjid``, ``time_days`` (first grade-0
    assessment after baseline, else the last one, else the baseline day), ``event`` (1 resolved, 0
    censored), ``status`` and ``exit_day`` (the study day the patient left, NULL if still in: what the
    competing-risks view needs), ``group``; assessments after the patient's exit day are ignored (as
    ``tests.oracle.ascites.resolution_times``)."""
    where, params = subject_where(f, "s")
    group = group_sql(include_arm)
    # The assessments are aggregated before the join (see filters.selected_rows); the few patients
    # assessed after their exit day are then aggregated again from the assessments they keep.
    return con.execute(f"""
        WITH sel AS (SELECT s.usubjid, {group} AS "group", s.status, {exit_day_sql(params)} AS exit_day
                     FROM subjects s WHERE {where}),
        pp AS (
            SELECT a.usubjid, max(a.study_day) AS max_day, {_RESOLUTION_AGGREGATES}
            FROM ascites a WHERE a.grade IS NOT NULL AND a.study_day IS NOT NULL{selected_rows(where, "a")}
            GROUP BY a.usubjid),
        late AS (SELECT sel.* FROM pp JOIN sel USING (usubjid) WHERE pp.max_day > sel.exit_day),
        kept AS (
            SELECT * EXCLUDE (max_day) FROM pp WHERE usubjid NOT IN (SELECT usubjid FROM late)
            UNION ALL
            SELECT a.usubjid, {_RESOLUTION_AGGREGATES}
            FROM ascites a JOIN late USING (usubjid)
            WHERE a.grade IS NOT NULL AND a.study_day <= late.exit_day GROUP BY a.usubjid)
        SELECT usubjid, coalesce(first_free, last_day, base_day)::DOUBLE AS time_days,
               (first_free IS NOT NULL)::BIGINT AS event, status, exit_day::DOUBLE AS exit_day, "group"
        FROM kept JOIN sel USING (usubjid) WHERE base > 0 ORDER BY usubjid""", params).df()


def _visit_states(f: SubjectFilter, visits: Sequence[str] | None, include_arm: bool, *,
                  kept: bool) -> tuple[str, dict]:
    """CTEs ending in ``states``: each selected patient's (``usubjid``, ``group``) state code at each visit
    (``pos`` 1.. in the order of ``visits``, labels of the schedule; every scheduled visit when None), by the
    rule of ``dashboard.domain.ascites.VISIT_STATE_RULE``: the first grade by study day when assessed there
    (with ``kept``, only assessments on or before the exit day count), else the exit state when the patient
    left on or before the visit's target day, else not yet due when its window closes after the data cut,
    else not assessed."""
    where, params = subject_where(f, "s")
    exit_day = exit_day_sql(params)
    # Statuses and codes are parameters; only the loop positions are formatted in.
    exit_cases = []
    for i, (status, code) in enumerate(EXIT_STATES.items()):
        params[f"state_status_{i}"], params[f"state_code_{i}"] = status, code
        exit_cases.append(f"WHEN $state_status_{i} THEN $state_code_{i}")
    params.update(not_due=NOT_DUE, not_assessed=NOT_ASSESSED)
    if visits is None:
        chosen = "row_number() OVER (ORDER BY v.visit_num) AS pos FROM visits v"
    else:
        params["visits"] = list(visits)
        chosen = "list_position($visits, v.visit) AS pos FROM visits v WHERE list_contains($visits, v.visit)"
    before_exit = " AND (sel.exit_day IS NULL OR a.study_day <= sel.exit_day)" if kept else ""
    return f"""
        WITH sel AS (
            SELECT s.usubjid, {group_sql(include_arm)} AS "group", {exit_day} AS exit_day,
                   CASE s.status {" ".join(exit_cases)} END AS exit_state,
                   date_diff('day', s.day1_on, (SELECT max(data_cut_date) FROM study)) + 1 AS cut_day
            FROM subjects s WHERE {where}),
        chosen AS (SELECT v.visit, v.visit_num, v.target_day, v.window_hi, {chosen}),
        firsts AS (
            SELECT a.usubjid, a.visit_num, arg_min(a.grade, {_DAY_GRADE}) AS grade
            FROM ascites a JOIN sel USING (usubjid)
            WHERE a.visit_num IN (SELECT visit_num FROM chosen){before_exit}
            GROUP BY ALL),
        states AS (
            SELECT sel.usubjid, sel."group", c.pos, c.visit, c.visit_num,
                   CASE WHEN fi.grade IS NOT NULL THEN fi.grade
                        WHEN sel.exit_day <= c.target_day THEN sel.exit_state
                        WHEN sel.cut_day < c.window_hi THEN $not_due
                        ELSE $not_assessed END AS state
            FROM sel CROSS JOIN chosen c
            LEFT JOIN firsts fi ON fi.usubjid = sel.usubjid AND fi.visit_num = c.visit_num)""", params


def ascites_visit_states(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Who each scheduled visit's by-visit summaries count: per ``group``, ``visit_num`` and ``visit`` (the
    schedule's label), the selected ``patients`` in each ``state`` (a grade when assessed there at all, as the
    grade counts count them; else died, transplanted, withdrawn or lost, not yet due, not assessed). Only
    combinations with patients."""
    ctes, params = _visit_states(f, None, include_arm, kept=False)
    return con.execute(f"""{ctes}
        SELECT "group", visit_num, visit, state, count(*)::BIGINT AS patients
        FROM states GROUP BY ALL ORDER BY "group" NULLS FIRST, visit_num, state""", params).df()


def ascites_state_shift_counts(con: Con, f: SubjectFilter, visits: Sequence[str], include_arm: bool) -> pd.DataFrame:
    """Per ``group``, ``visit`` of ``visits``, baseline grade ``base`` (the last visit_num 0 grade by study
    day; NULL without one) and ``state`` at the visit (assessments after the exit day not counted): the
    selected ``patients``. Only combinations with patients."""
    ctes, params = _visit_states(f, visits, include_arm, kept=True)
    return con.execute(f"""{ctes},
        base AS (
            SELECT a.usubjid, arg_max(a.grade, {_DAY_GRADE}) AS base
            FROM ascites a JOIN sel USING (usubjid) WHERE a.visit_num = 0 GROUP BY a.usubjid)
        SELECT st."group", st.visit, b.base, st.state, count(*)::BIGINT AS patients
        FROM states st LEFT JOIN base b USING (usubjid)
        GROUP BY ALL ORDER BY st."group" NULLS FIRST, min(st.pos), b.base NULLS LAST, st.state""", params).df()


def ascites_state_transition_counts(con: Con, f: SubjectFilter, visits: Sequence[str],
                                    include_arm: bool) -> pd.DataFrame:
    """Per group and consecutive pair of ``visits`` (``pair`` 0 is the first two): every selected patient's
    (``source_state``, ``target_state``), deaths, transplants, exits and visits not yet due included
    (assessments after the exit day not counted, so died and transplanted are absorbing); the columns of
    :func:`ascites_transition_counts`."""
    ctes, params = _visit_states(f, visits, include_arm, kept=True)
    return con.execute(f"""{ctes},
        links AS (
            SELECT "group", pos, visit AS source_visit, state AS source_state,
                   lead(visit) OVER w AS target_visit, lead(state) OVER w AS target_state
            FROM states WINDOW w AS (PARTITION BY usubjid ORDER BY pos))
        SELECT "group", (pos - 1)::BIGINT AS pair, source_visit, source_state, target_visit, target_state,
               count(*)::BIGINT AS count
        FROM links WHERE target_visit IS NOT NULL
        GROUP BY ALL ORDER BY "group" NULLS FIRST, pair, source_state, target_state""", params).df()
