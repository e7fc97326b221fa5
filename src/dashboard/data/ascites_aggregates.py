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


def _schedule(con: Con, visits: Sequence[str] | None) -> list[tuple]:
    """(visit, visit_num, target_day, window_hi) of each of ``visits`` in that order (labels the schedule does
    not hold are left out), or of every scheduled visit by visit_num when None."""
    rows = con.execute("SELECT visit, visit_num, target_day, window_hi FROM visits ORDER BY visit_num", {}).fetchall()
    if visits is None:
        return rows
    by_label: dict[str, tuple] = {}
    for row in rows:
        by_label.setdefault(row[0], row)
    return [by_label[v] for v in visits if v in by_label]


def _state_patterns(f: SubjectFilter, schedule: Sequence[tuple], include_arm: bool, *,
                    kept: bool, due_first: bool = False) -> tuple[str, dict]:
    """CTE ``patterns``: selected patients counted (``patients``) per ``group``, baseline grade ``base`` (the
    last visit_num 0 grade by study day) and state ``s1`` .. ``sk`` at each visit of ``schedule``
    (:func:`_schedule`), with ``first_usubjid``, the pattern's first patient. A state follows
    ``dashboard.domain.ascites.VISIT_STATE_RULE``: the first grade by study day when assessed there (with
    ``kept``, only when that assessment is on or before the exit day), else the exit state when the patient
    left on or before the visit's target day, else not yet due when its window closes after the data cut,
    else not assessed. With ``due_first``, a visit whose window closes after the cut is not yet due for every
    patient, dead or alive: a table of percentages must not count the early deaths of late enrollees at a
    visit their living fellows have not reached.

    Each patient's first assessment at a visit is its smallest ``study_day * 4 + grade`` (``_DAY_GRADE``),
    so one pass of per-patient minima over the assessments gives day and grade alike (grade: that number
    modulo 4; on or before the exit day: below (exit day + 1) * 4), and the states are then set per patient,
    never per patient and visit: about five times faster on a 100,000-patient trial."""
    where, params = subject_where(f, "s")
    exit_day = exit_day_sql(params)
    # Statuses, codes and the schedule are parameters; only loop positions are formatted in.
    exit_cases = []
    for i, (status, code) in enumerate(EXIT_STATES.items()):
        params[f"state_status_{i}"], params[f"state_code_{i}"] = status, code
        exit_cases.append(f"WHEN $state_status_{i} THEN $state_code_{i}")
    params.update(not_due=NOT_DUE, not_assessed=NOT_ASSESSED)
    keys, states = [], []
    for i, (_, visit_num, target_day, window_hi) in enumerate(schedule, start=1):
        params.update({f"visit_num_{i}": visit_num, f"target_day_{i}": target_day, f"window_hi_{i}": window_hi})
        keys.append(f", min({_DAY_GRADE}) FILTER (WHERE a.visit_num = $visit_num_{i}) AS k{i}")
        assessed = f"k{i} IS NOT NULL" + (f" AND (sel.exit_day IS NULL OR k{i} < (sel.exit_day + 1) * 4)" if kept else "")
        not_due = f"WHEN sel.cut_day < $window_hi_{i} THEN $not_due"
        states.append(f""",
                   CASE {not_due if due_first else ""} WHEN {assessed} THEN (k{i} % 4 + 4) % 4
                        WHEN sel.exit_day <= $target_day_{i} THEN sel.exit_state
                        {"" if due_first else not_due} ELSE $not_assessed END AS s{i}""")
    return f"""
        WITH sel AS (
            SELECT s.usubjid, {group_sql(include_arm)} AS "group", {exit_day} AS exit_day,
                   CASE s.status {" ".join(exit_cases)} END AS exit_state,
                   date_diff('day', s.day1_on, (SELECT max(data_cut_date) FROM study)) + 1 AS cut_day
            FROM subjects s WHERE {where}),
        pp AS (
            SELECT a.usubjid, max({_DAY_GRADE}) FILTER (WHERE a.visit_num = 0) AS base_key{"".join(keys)}
            FROM ascites a WHERE TRUE{selected_rows(where, "a")} GROUP BY a.usubjid),
        patterns AS (
            SELECT sel."group", (pp.base_key % 4 + 4) % 4 AS base{"".join(states)},
                   count(*) AS patients, min(sel.usubjid) AS first_usubjid
            FROM sel LEFT JOIN pp USING (usubjid) GROUP BY ALL)""", params


def _states(k: int, first: int = 1) -> str:
    return "[" + ", ".join(f"s{i}" for i in range(first, k + 1)) + "]::INTEGER[]"


def ascites_visit_states(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Who each scheduled visit's by-visit summaries count: per ``group``, ``visit_num`` and ``visit`` (the
    schedule's label), the selected ``patients`` in each ``state`` (a grade when assessed there at all, as the
    grade counts count them; else died, transplanted, withdrawn or lost, not yet due, not assessed). Only
    combinations with patients."""
    schedule = _schedule(con, None)
    if not schedule:
        return pd.DataFrame(columns=["group", "visit_num", "visit", "state", "patients"])
    ctes, params = _state_patterns(f, schedule, include_arm, kept=False)
    params.update(visit_nums=[r[1] for r in schedule], labels=[r[0] for r in schedule])
    return con.execute(f"""{ctes},
        at_visit AS (
            SELECT "group", patients, unnest($visit_nums::INTEGER[]) AS visit_num,
                   unnest($labels::VARCHAR[]) AS visit, unnest({_states(len(schedule))}) AS state
            FROM patterns)
        SELECT "group", visit_num, visit, state, sum(patients)::BIGINT AS patients
        FROM at_visit GROUP BY ALL ORDER BY "group" NULLS FIRST, visit_num, state""", params).df()


def ascites_state_shift_counts(con: Con, f: SubjectFilter, visits: Sequence[str], include_arm: bool) -> pd.DataFrame:
    """Per ``group``, ``visit`` of ``visits`` (those the schedule holds), baseline grade ``base`` (the last
    visit_num 0 grade by study day; NULL without one) and ``state`` at the visit (assessments after the exit
    day not counted; not yet due for everyone, dead or alive, whose window for it closes after the cut): the
    selected ``patients``. Only combinations with patients, groups in order of their
    first patient."""
    schedule = _schedule(con, visits)
    if not schedule:
        return pd.DataFrame(columns=["group", "visit", "base", "state", "patients"])
    ctes, params = _state_patterns(f, schedule, include_arm, kept=True, due_first=True)
    params.update(labels=[r[0] for r in schedule], positions=list(range(len(schedule))))
    return con.execute(f"""{ctes},
        at_visit AS (
            SELECT "group", first_usubjid, patients, base, unnest($positions::INTEGER[]) AS pos,
                   unnest($labels::VARCHAR[]) AS visit, unnest({_states(len(schedule))}) AS state
            FROM patterns)
        SELECT "group", visit, base, state, sum(patients)::BIGINT AS patients
        FROM at_visit GROUP BY "group", pos, visit, base, state
        ORDER BY min(min(first_usubjid)) OVER (PARTITION BY "group"), pos, base NULLS LAST, state""", params).df()


def ascites_state_transition_counts(con: Con, f: SubjectFilter, visits: Sequence[str],
                                    include_arm: bool) -> pd.DataFrame:
    """Per group and consecutive pair of ``visits`` (those the schedule holds; ``pair`` 0 is the first two):
    every selected patient's (``source_state``, ``target_state``), deaths, transplants, exits and visits not
    yet due included (assessments after the exit day not counted, so died and transplanted are absorbing); the
    columns of :func:`ascites_transition_counts`, groups in order of their first patient."""
    schedule = _schedule(con, visits)
    k = len(schedule)
    ctes, params = _state_patterns(f, schedule, include_arm, kept=True)
    params["labels"] = [r[0] for r in schedule]
    return con.execute(f"""{ctes},
        links AS (
            SELECT "group", min(first_usubjid) OVER (PARTITION BY "group") AS group_first, patients,
                   unnest(range({max(k - 1, 0)})) AS pair, unnest({_states(k - 1)}) AS source_state,
                   unnest({_states(k, 2)}) AS target_state
            FROM patterns)
        SELECT "group", pair, $labels[pair + 1] AS source_visit, source_state, $labels[pair + 2] AS target_visit,
               target_state, sum(patients)::BIGINT AS count
        FROM links GROUP BY ALL ORDER BY min(group_first), pair, source_state, target_state""", params).df()
