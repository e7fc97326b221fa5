"""Data layer: the /labs shift table's patient counts aggregated in DuckDB, so a filter change never fetches
a lab's ~640,000 rows of a 100,000-patient trial into pandas (DESIGN §7).

Through ``dashboard.domain.lab_safety.shift_from_counts`` the counts equal the test oracle
``tests.oracle.lab_safety.shift_table`` on ``queries.lab_rows``. As in ``queries``, ``group`` is the arm only
when ``include_arm``; otherwise NULL and the SQL never reads ``arm`` (DESIGN §4).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dashboard.data.filters import group_sql, selected_rows, subject_where
from dashboard.domain.labs import describe
from dashboard.domain.subject_filter import SubjectFilter

Con = duckdb.DuckDBPyConnection

# The category ranks of the shift table (as the oracle tests.oracle.lab_safety.shift_counts): 0 is "normal". A
# ratio or comparison with a NULL limit (a record without one and no registry default) is not true, so such a
# record ranks "normal" there as here. 0 / 0 is NaN, which numpy compares as false and DuckDB as greater than
# everything: hence the explicit NaN case.
_RANKS = {
    "high": """CASE WHEN isnan(value / lim) THEN 0 WHEN value / lim > 10 THEN 3 WHEN value / lim > 3 THEN 2
                    WHEN value / lim > 1 THEN 1 ELSE 0 END""",
    "low": "CASE WHEN value < lim THEN 1 ELSE 0 END",
}
_LIMIT_COLUMNS = {"high": "upper_limit", "low": "lower_limit"}


def lab_shift_counts(con: Con, f: SubjectFilter, paramcd: str, include_arm: bool) -> pd.DataFrame:
    """Selected patients with a ``paramcd`` record (a value and a visit) counted per group, baseline category
    and worst post-baseline category (``shift_from_counts``).

    Returns
    -------
    DataFrame
        Columns ``group`` (the arm, or NULL when pooled), ``baseline_rank`` (category rank of the patient's
        last visit_num 0 record by study day), ``worst_rank`` (highest rank of the visit_num > 0 records),
        both NULL where the patient has no such record, ``n`` patients and ``with_limit`` (of them, patients
        with a record that has a reference limit, its own or the registry default). Only combinations with
        patients; groups in order of their first patient by usubjid, as ``shift_table`` meets them.

    Notes
    -----
    Ranks as in ``shift_table``: high-is-worse labs 0 (<= ULN), 1 (> 1x), 2 (> 3x), 3 (> 10x ULN);
    low-is-worse labs 0 (>= LLN), 1 (< LLN). Limits are each record's own, else the registry default.
    """
    param = describe(paramcd)
    where, params = subject_where(f, "s")
    params.update(paramcd=paramcd, default=param.upper_limit if param.worse == "high" else param.lower_limit)
    group = group_sql(include_arm)
    return con.execute(f"""
        WITH r AS (
            SELECT usubjid, visit_num, study_day, value, lim, {_RANKS[param.worse]} AS rank
            FROM (SELECT l.usubjid, l.visit_num, l.study_day, l.value,
                         coalesce(l.{_LIMIT_COLUMNS[param.worse]}, $default::DOUBLE) AS lim
                  FROM lab_results l
                  WHERE l.paramcd = $paramcd AND l.value IS NOT NULL AND l.visit_num IS NOT NULL{selected_rows(where, "l")})),
        pp AS (
            SELECT usubjid, arg_max(rank, (study_day, value)) FILTER (WHERE visit_num = 0) AS base,
                   max(rank) FILTER (WHERE visit_num > 0) AS worst, bool_or(lim IS NOT NULL) AS limited
            FROM r GROUP BY usubjid),
        patterns AS (
            SELECT {group} AS "group", base, worst, count(*) AS n, count(*) FILTER (WHERE limited) AS with_limit,
                   min(pp.usubjid) AS first_usubjid
            FROM pp JOIN subjects s USING (usubjid) WHERE {where} GROUP BY ALL)
        SELECT "group", base AS baseline_rank, worst AS worst_rank, n, with_limit
        FROM patterns
        ORDER BY min(first_usubjid) OVER (PARTITION BY "group"), base NULLS LAST, worst NULLS LAST""", params).df()


def lab_grade_shift_counts(con: Con, f: SubjectFilter, paramcd: str, direction: str, include_arm: bool) -> pd.DataFrame:
    """Selected patients with a graded ``paramcd`` record per group, baseline CTCAE grade (of the last visit_num 0
    record by study day) and worst CTCAE grade after baseline, in ``direction`` "low" (``toxgr_low``, ADaM
    ATOXGRL) or "high" (``toxgr_high``): columns ``group``, ``baseline_grade``, ``worst_grade`` (NULL where the
    patient has no graded record there) and ``n``; only combinations with patients."""
    column = {"low": "toxgr_low", "high": "toxgr_high"}[direction]
    where, params = subject_where(f, "s")
    params["paramcd"] = paramcd
    return con.execute(f"""
        WITH pp AS (
            SELECT l.usubjid,
                   arg_max(l.{column}, (l.study_day, l.value)) FILTER (WHERE l.visit_num = 0) AS base,
                   max(l.{column}) FILTER (WHERE l.visit_num > 0) AS worst
            FROM lab_results l
            WHERE l.paramcd = $paramcd AND l.{column} IS NOT NULL AND l.visit_num IS NOT NULL{selected_rows(where, "l")}
            GROUP BY l.usubjid)
        SELECT {group_sql(include_arm)} AS "group", base AS baseline_grade, worst AS worst_grade, count(*) AS n
        FROM pp JOIN subjects s USING (usubjid) WHERE {where}
        GROUP BY ALL ORDER BY "group" NULLS FIRST, baseline_grade NULLS LAST, worst_grade NULLS LAST""", params).df()
