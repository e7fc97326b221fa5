"""Data layer: sufficient statistics of one lab's change from baseline compared between two arms, per visit.

The query exists to compare arms, so it must select ``arm``: it only runs for viewers who may see arms
(``include_arm=True``, DESIGN §4) and refuses otherwise rather than pooling. The statistics are
computed by ``dashboard.domain.arm_comparison.comparison_from_aggregates`` from what it returns.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dashboard.data.lab_aggregates import BASELINE_CTE, VISIT_LABELS_CTE, lab_rows_cte
from dashboard.domain.subject_filter import SubjectFilter

Con = duckdb.DuckDBPyConnection

# Baseline as add_change_from_baseline: the last non-missing visit 0 value by study day. Ranks are
# average ranks over the visit's pooled sample of both arms: grouping equal changes first (t rows, t_a
# of the active arm) lets one running sum give each tie group's last rank, so the average rank is that
# minus (t - 1) / 2 and the sort is over distinct values, not rows. var_pop/covar_pop * n are the
# within-arm centred sums of squares and cross-products (DuckDB's streaming algorithm is stable).
_SQL = """{ctes},{baseline},{labels},
    -- Only the rows compared can be duplicates: unscheduled (no visit), repeated baseline or other arms' rows
    -- never enter the comparison.
    duplicates AS (
        SELECT count(*) - count(DISTINCT (usubjid, visit_num)) AS duplicate_rows FROM r
        WHERE visit_num > 0 AND "group" IN ($active, $reference) AND value IS NOT NULL),
    c AS (
        SELECT r.visit_num, r."group", r.value - b.base AS chg, b.base
        FROM r JOIN b USING (usubjid, paramcd)
        WHERE r.visit_num > 0 AND r."group" IN ($active, $reference) AND r.value IS NOT NULL),
    ties AS (
        SELECT visit_num, chg, count(*) AS t, count(*) FILTER (WHERE "group" = $active) AS t_a
        FROM c GROUP BY visit_num, chg),
    ranked AS (
        SELECT visit_num, t, t_a, sum(t) OVER (PARTITION BY visit_num ORDER BY chg) - (t - 1) / 2 AS avg_rank
        FROM ties),
    visit_ranks AS (
        SELECT visit_num, sum(t_a * avg_rank) AS rank_sum_active, sum((t - t_a) * avg_rank) AS rank_sum_reference,
               sum(t * t * t - t)::DOUBLE AS tie_term
        FROM ranked GROUP BY visit_num),
    arm_stats AS (
        SELECT visit_num, "group", count(*) AS n, avg(chg) AS chg_mean, avg(base) AS base_mean,
               var_pop(base) * count(*) AS ss_base, var_pop(chg) * count(*) AS ss_chg,
               covar_pop(base, chg) * count(*) AS sp_base_chg
        FROM c GROUP BY visit_num, "group")
    SELECT a."group", a.visit_num, labels.visit, a.n, a.chg_mean, a.base_mean, a.ss_base, a.ss_chg, a.sp_base_chg,
           CASE WHEN a."group" = $active THEN v.rank_sum_active ELSE v.rank_sum_reference END AS rank_sum,
           v.tie_term, duplicates.duplicate_rows
    FROM arm_stats a JOIN visit_ranks v USING (visit_num) JOIN labels USING (visit_num) CROSS JOIN duplicates
    ORDER BY a.visit_num, a."group"
"""


def lab_comparison_aggregates(con: Con, f: SubjectFilter, paramcd: str, active: str, reference: str,
                              include_arm: bool) -> pd.DataFrame:
    """Per post-baseline visit and arm (``active``/``reference``) of one lab: the columns of
    ``arm_comparison.AGGREGATE_COLUMNS`` plus ``duplicate_rows`` (post-baseline values of the two arms beyond one
    per patient and visit)."""
    if not include_arm:
        raise ValueError("lab_comparison_aggregates: include_arm must be True; comparing arms needs a viewer "
                         "who may see them (DESIGN §4), blinded views are pooled and have no comparison.")
    ctes, params = lab_rows_cte(f, True, "l.paramcd = $paramcd")
    params.update(paramcd=paramcd, active=active, reference=reference)
    return con.execute(_SQL.format(ctes=ctes, baseline=BASELINE_CTE, labels=VISIT_LABELS_CTE), params).df()
