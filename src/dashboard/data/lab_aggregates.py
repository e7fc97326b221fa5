"""Data layer: the lab aggregates behind /labs: the summary by visit, box statistics, the trajectory sample
and the mDISH peaks, and the CTEs (selected rows, baseline, visit labels) other lab queries share.

Each query takes ``include_arm``; the result's ``"group"`` column is the arm, or NULL when pooled, so with
False the SQL never selects ``arm`` (DESIGN §4). Baseline is, as in ``add_change_from_baseline``, the
patient's last non-missing visit-0 value by study day (the highest on a same-day tie). The domain functions
named in each docstring turn these frames into exactly the results their pandas oracles (``tests.oracle``) compute from rows.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dashboard.data.filters import group_sql, subject_where
from dashboard.data.queries import visit_stats
from dashboard.domain.subject_filter import SubjectFilter

Con = duckdb.DuckDBPyConnection
_BOX_QUANTILES = {"q1": 0.25, "median": 0.5, "q3": 0.75}
# Trajectories keep the baseline point (change 0) and every dated row, as add_change_from_baseline
# gives them; the per-visit change statistics (LAB_SUMMARY_VALUES) leave the baseline visit out instead.
_TRAJECTORY_VALUES = {
    "value": "value",
    "chg": "value - base",
    "pchg": "CASE WHEN base <> 0 THEN 100.0 * (value - base) / base END",
}

# Value, change and % change per visit as add_change_from_baseline defines them; the baseline visit has
# no change.
LAB_SUMMARY_VALUES = {
    "value": "value",
    "chg": "CASE WHEN visit_num <> 0 THEN value - base END",
    "pchg": "CASE WHEN visit_num <> 0 AND base <> 0 THEN 100.0 * (value - base) / base END",
}


def lab_rows_cte(f: SubjectFilter, include_arm: bool, paramcd_where: str) -> tuple[str, dict]:
    """CTE ``r``: the selected patients' lab rows passing ``paramcd_where``, with ``group`` (and ``upper_limit``)."""
    where, params = subject_where(f, "s")
    group = group_sql(include_arm)
    return f"""
        WITH r AS (
            SELECT {group} AS "group", l.usubjid, l.paramcd, l.visit, l.visit_num, l.study_day,
                   l.value
            FROM lab_results l JOIN subjects s USING (usubjid)
            WHERE {paramcd_where} AND {where})""", params


# CTE ``b``: each patient's (and parameter's) baseline ``base`` from ``r``.
BASELINE_CTE = """
        b AS (
            SELECT usubjid, paramcd, arg_max(value, (study_day, value)) AS base FROM r
            WHERE visit_num = 0 AND value IS NOT NULL GROUP BY usubjid, paramcd)"""
# CTE ``labels``: each visit's label, from its first row by patient and study day.
VISIT_LABELS_CTE = """
        labels AS (SELECT visit_num, first(visit ORDER BY usubjid, study_day) AS visit FROM r GROUP BY visit_num)"""


def lab_visit_summary(con: Con, f: SubjectFilter, paramcd: str, value_col: str, include_arm: bool) -> pd.DataFrame:
    """Per visit (and arm when ``include_arm``) of one lab: n, mean, SD (n-1), median, q1, q3 (R type 7),
    min, max of ``value_col`` (value, chg or pchg), and the visit's label (``labstats.summary_from_aggregates``).

    One row per group and visit that has a lab record, ``n`` = 0 where none has a value; ``group`` is
    the arm, or NULL when pooled.
    """
    if value_col not in LAB_SUMMARY_VALUES:
        raise ValueError(f"lab_visit_summary: value_col must be one of {sorted(LAB_SUMMARY_VALUES)}, got {value_col!r}")
    ctes, params = lab_rows_cte(f, include_arm, "l.paramcd = $paramcd")
    params["paramcd"] = paramcd
    return con.execute(f"""{ctes},{BASELINE_CTE},{VISIT_LABELS_CTE},
        v AS (
            SELECT "group", visit_num, {LAB_SUMMARY_VALUES[value_col]} AS x
            FROM r LEFT JOIN b USING (usubjid, paramcd) WHERE visit_num IS NOT NULL)
        SELECT "group", visit_num, labels.visit, {visit_stats("x")}
        FROM v JOIN labels USING (visit_num)
        GROUP BY ALL ORDER BY "group", visit_num""", params).df()


def _dish_columns(code: str) -> str:
    """One pass over the patient's rows: baseline and peak post-baseline value."""
    c = code.lower()
    return (f"arg_max(value, (study_day, value)) FILTER (WHERE paramcd = '{code}' AND visit_num = 0) AS {c}_base, "
            f"max(value) FILTER (WHERE paramcd = '{code}' AND visit_num > 0) AS {c}_peak")


def dish_peaks(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """One row per selected patient with an ALT or bilirubin record (``mdish_from_peaks``).

    Columns ``group``, ``usubjid``; ``alt_base``, ``bili_base``: baselines; ``alt_xbase``, ``bili_xbase``: peak
    post-baseline value / baseline where the baseline is > 0. NULL where the patient has no such value. Ordered
    by usubjid.
    """
    ctes, params = lab_rows_cte(f, include_arm, "l.paramcd IN ('ALT', 'BILI')")
    # value / base peaks at the peak value: division by one positive number keeps the order, exactly.
    return con.execute(f"""{ctes},
        p AS (
            SELECT usubjid, any_value("group") AS "group", {_dish_columns("ALT")}, {_dish_columns("BILI")}
            FROM r WHERE value IS NOT NULL AND visit_num IS NOT NULL
            GROUP BY usubjid)
        SELECT "group", usubjid, alt_base, bili_base,
               CASE WHEN alt_base > 0 THEN alt_peak / alt_base END AS alt_xbase,
               CASE WHEN bili_base > 0 THEN bili_peak / bili_base END AS bili_xbase
        FROM p ORDER BY usubjid""", params).df()


def _type7(xs: str, q: float) -> str:
    """R quantile type 7 of the sorted list ``xs``: x[lo] + (x[hi] - x[lo]) * frac at position (n - 1) * q.

    Written out rather than ``quantile_cont``, whose interpolation differs from numpy's in the last bit,
    so that the pandas oracle (``tests.oracle.labplots._type7``) computes bit-identical quartiles: the Tukey fences built
    on them decide which values the whiskers reach.
    """
    pos = f"((len({xs}) - 1) * {q!r}::DOUBLE)"
    lo, hi = f"{xs}[floor({pos})::BIGINT + 1]", f"{xs}[ceil({pos})::BIGINT + 1]"
    return f"({lo} + ({hi} - {lo}) * ({pos} - floor({pos})))"


def lab_box_stats(con: Con, f: SubjectFilter, paramcd: str, value_col: str, include_arm: bool) -> pd.DataFrame:
    """Per group and visit of one lab's ``value_col`` (value, chg or pchg): ``n``, ``q1``, ``median``, ``q3``
    (R type 7), ``whisker_lo``/``whisker_hi`` (the most extreme values within 1.5 IQR of the box) and the
    visit's label (``box_stats_from_aggregates``). chg/pchg leave the baseline visit out."""
    if value_col not in LAB_SUMMARY_VALUES:
        raise ValueError(f"lab_box_stats: value_col must be one of {sorted(LAB_SUMMARY_VALUES)}, got {value_col!r}")
    ctes, params = lab_rows_cte(f, include_arm, "l.paramcd = $paramcd")
    params["paramcd"] = paramcd
    quartiles = ", ".join(f"{_type7('xs', q)} AS {name}" for name, q in _BOX_QUANTILES.items())
    return con.execute(f"""{ctes},{BASELINE_CTE},{VISIT_LABELS_CTE},
        v AS (
            SELECT "group", visit_num, {LAB_SUMMARY_VALUES[value_col]} AS x
            FROM r LEFT JOIN b USING (usubjid, paramcd) WHERE visit_num IS NOT NULL),
        sorted AS (SELECT "group", visit_num, list_sort(list(x)) AS xs FROM v WHERE x IS NOT NULL GROUP BY ALL),
        boxes AS (SELECT "group", visit_num, xs, len(xs) AS n, {quartiles} FROM sorted)
        SELECT "group", visit_num, labels.visit, n, q1, median, q3,
               list_filter(xs, lambda x: x >= q1 - 1.5::DOUBLE * (q3 - q1))[1] AS whisker_lo,
               list_filter(xs, lambda x: x <= q3 + 1.5::DOUBLE * (q3 - q1))[-1] AS whisker_hi
        FROM boxes JOIN labels USING (visit_num)
        ORDER BY "group", visit_num""", params).df()


def lab_trajectory_sample(con: Con, f: SubjectFilter, paramcd: str, value_col: str, max_points: int,
                          include_arm: bool) -> pd.DataFrame:
    """The rows (``group``, ``usubjid``, ``study_day``, ``value_col``) of the patients
    ``tests.oracle.labplots.sample_trajectories`` would keep before trimming, by usubjid and study day, with
    ``n_patients``: how many selected patients have a point (``trajectories_from_sample``).

    The sample is every k-th patient by usubjid, k = ceil((points + patients) / max_points), each patient
    costing its points plus one line break; only those patients' rows leave the database.
    """
    if value_col not in _TRAJECTORY_VALUES:
        raise ValueError(f"lab_trajectory_sample: value_col must be one of {sorted(_TRAJECTORY_VALUES)}, "
                         f"got {value_col!r}")
    if not (isinstance(max_points, int) and max_points > 0):
        raise ValueError(f"lab_trajectory_sample: max_points must be a positive integer, got {max_points!r}")
    ctes, params = lab_rows_cte(f, include_arm, "l.paramcd = $paramcd")
    params.update(paramcd=paramcd, max_points=max_points)
    return con.execute(f"""{ctes},{BASELINE_CTE},
        pts AS (
            SELECT "group", usubjid, study_day, {_TRAJECTORY_VALUES[value_col]} AS y
            FROM r LEFT JOIN b USING (usubjid, paramcd)),
        per AS (SELECT usubjid, count(*) AS k FROM pts WHERE study_day IS NOT NULL AND y IS NOT NULL GROUP BY usubjid),
        ranked AS (
            SELECT usubjid, row_number() OVER (ORDER BY usubjid) - 1 AS i, count(*) OVER () AS n_patients,
                   sum(k) OVER () + count(*) OVER () AS cost
            FROM per),
        chosen AS (
            SELECT usubjid, n_patients FROM ranked
            WHERE i % greatest(1, ceil(cost::DOUBLE / $max_points))::BIGINT = 0)
        SELECT p."group", p.usubjid, p.study_day, p.y AS {value_col}, c.n_patients
        FROM pts p JOIN chosen c USING (usubjid)
        WHERE p.study_day IS NOT NULL AND p.y IS NOT NULL
        ORDER BY p.usubjid, p.study_day, p.y""", params).df()
