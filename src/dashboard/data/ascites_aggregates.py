"""Data layer: /ascites' shift, transition and resolution inputs aggregated in DuckDB, so a filter change
never fetches the ~640,000 assessment rows of a 100,000-patient trial into pandas (DESIGN §7).

Through their ``dashboard.domain.ascites`` tails these equal the pandas functions of the test oracle
``tests.oracle.ascites`` on ``queries.ascites_rows``: ``grade_shift_from_counts`` = ``grade_shift``, ``transitions_from_counts`` =
``grade_transitions``, ``resolution_km_from_times`` = ``resolution_km``. As in ``queries``, ``group`` is
the arm only when ``include_arm``; otherwise NULL and the SQL never reads ``arm`` (DESIGN §4).

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
    both with each (``source_grade``, ``target_grade``), a visit's grade being its first by study day;
    only pairs with a ``count`` > 0, groups in order of their first patient."""
    ctes, params = _grade_patterns(f, visits, include_arm)
    k = len(visits)
    return con.execute(f"""{ctes},
        links AS (
            SELECT "group", min(first_usubjid) OVER (PARTITION BY "group") AS group_first, patients,
                   unnest(range({max(k - 1, 0)})) AS pair, unnest({_grades(1, k - 1)}) AS source_grade,
                   unnest({_grades(2, k)}) AS target_grade
            FROM patterns)
        SELECT "group", pair, $visits[pair + 1] AS source_visit, source_grade, $visits[pair + 2] AS target_visit,
               target_grade, sum(patients)::BIGINT AS count
        FROM links WHERE source_grade IS NOT NULL AND target_grade IS NOT NULL
        GROUP BY ALL ORDER BY min(group_first), pair, source_grade, target_grade""", params).df()


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
    censored), ``group``; assessments after the patient's exit day are ignored (as ``tests.oracle.ascites.resolution_times``)."""
    where, params = subject_where(f, "s")
    group = group_sql(include_arm)
    # The assessments are aggregated before the join (see filters.selected_rows); the few patients
    # assessed after their exit day are then aggregated again from the assessments they keep.
    return con.execute(f"""
        WITH sel AS (SELECT s.usubjid, {group} AS "group", {exit_day_sql(params)} AS exit_day FROM subjects s WHERE {where}),
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
               (first_free IS NOT NULL)::BIGINT AS event, "group"
        FROM kept JOIN sel USING (usubjid) WHERE base > 0 ORDER BY usubjid""", params).df()
