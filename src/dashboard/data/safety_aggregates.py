"""Data layer: fever and adverse-event counts of the /safety page aggregated in DuckDB.

Each query returns a few rows per group that :func:`dashboard.domain.safety.fever_from_counts` and
:func:`dashboard.domain.adverse_events.ae_overview_from_counts` turn into exactly the results of the
pandas functions on the fetched rows (the test oracles ``tests.oracle.safety.fever_incidence`` and
``adverse_events.ae_overview``). ``group`` is the arm with ``include_arm``, otherwise NULL: a
blinded viewer's SQL never selects ``arm`` (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from dashboard.data.filters import group_sql, subject_where
from dashboard.domain.adverse_events import FATAL_OUTCOME
from dashboard.domain.safety import FEVER_TOLERANCE, POST_DOSE_HOURS
from dashboard.domain.subject_filter import SubjectFilter

Con = duckdb.DuckDBPyConnection


def fever_counts(con: Con, f: SubjectFilter, thresholds: Sequence[float], include_arm: bool) -> pd.DataFrame:
    """Per threshold, group and unit: infusions (or patients) given, at risk and with fever.

    Columns: threshold, unit ("infusion" per infusion_num, "patient" with infusion_num NULL), infusion_num,
    group, n_given, n_at_risk (a TEMP reading in the post-dose window), n_fever (peak >= threshold).
    """
    where, params = subject_where(f, "s")
    lo, hi = POST_DOSE_HOURS
    params.update(thresholds=[float(t) for t in thresholds], lo=lo, hi=hi, tolerance=FEVER_TOLERANCE)
    # A reading of an infusion not in ``infusions`` is ignored, as the pandas path's left join from the
    # infusions does. NaN is excluded because DuckDB orders it above every number (it would be the peak).
    # A patient has fever at a threshold when their highest infusion peak reaches it, so infusions and
    # patients are first tallied by peak value, and every threshold is then counted from that small tally.
    return con.execute(f"""
        WITH given AS (
            SELECT DISTINCT {group_sql(include_arm)} AS "group", i.usubjid, i.infusion_num
            FROM infusions i JOIN subjects s USING (usubjid) WHERE {where}),
        peak AS (
            SELECT v.usubjid, v.infusion_num, max(v.value) AS peak
            FROM vital_signs v
            WHERE v.usubjid IN (SELECT s.usubjid FROM subjects s WHERE {where})
                  AND v.paramcd = 'TEMP' AND v.value IS NOT NULL AND NOT isnan(v.value)
                  AND v.hours_after >= $lo AND v.hours_after <= $hi
            GROUP BY ALL),
        per_infusion AS (
            SELECT g."group", g.usubjid, g.infusion_num, p.peak FROM given g LEFT JOIN peak p USING (usubjid, infusion_num)),
        tally AS (
            SELECT 'infusion' AS unit, infusion_num, "group", peak, count(*) AS n FROM per_infusion GROUP BY ALL
            UNION ALL
            SELECT 'patient' AS unit, NULL::INTEGER AS infusion_num, "group", peak, count(*) AS n
            FROM (SELECT "group", usubjid, max(peak) AS peak FROM per_infusion GROUP BY ALL) GROUP BY ALL)
        SELECT t.threshold, unit, infusion_num, "group", sum(n)::BIGINT AS n_given,
               coalesce(sum(n) FILTER (WHERE peak IS NOT NULL), 0)::BIGINT AS n_at_risk,
               coalesce(sum(n) FILTER (WHERE peak >= t.threshold - $tolerance), 0)::BIGINT AS n_fever
        FROM tally CROSS JOIN (SELECT unnest($thresholds::DOUBLE[]) AS threshold) t
        GROUP BY ALL ORDER BY threshold, unit, infusion_num, "group"
        """, params).df()


# Conditions on an adverse_events row ``e``, one per key of OVERVIEW_CATEGORIES, the rules of ae_overview's masks.
_AE_CATEGORY_SQL = {
    "any": "TRUE",
    "serious": "e.serious",
    "related": "e.related",
    "infusion_related": "e.infusion_related",
    "grade3": "e.grade >= 3",
    "discontinuation": "e.led_to_discontinuation",
    "fatal": "e.outcome = $fatal OR e.grade = 5",
}


def ae_overview_counts(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group and AE category: N (patients selected), n_patients (with such an event) and events.

    Columns: group, category, N, n_patients, events; every group has a row per category, zeros included.
    """
    where, params = subject_where(f, "s")
    params["fatal"] = FATAL_OUTCOME
    per_patient = ", ".join(f'count(e.usubjid) FILTER (WHERE {cond}) AS "{key}"' for key, cond in _AE_CATEGORY_SQL.items())
    per_group = ", ".join(f'count(*) FILTER (WHERE "{key}" > 0) AS "{key}_patients", sum("{key}")::BIGINT AS "{key}_events"'
                          for key in _AE_CATEGORY_SQL)
    unpivot = ", ".join(f'("{key}_patients", "{key}_events") AS "{key}"' for key in _AE_CATEGORY_SQL)
    # Events are first counted per patient, so patients with an event are a plain count afterwards: one
    # grouping by patient is about three times faster than a count(DISTINCT) per category. The LEFT JOIN
    # keeps patients without any event in N and gives every group its zero rows.
    return con.execute(f"""
        WITH per_patient AS (
            SELECT {group_sql(include_arm)} AS "group", s.usubjid, {per_patient}
            FROM subjects s LEFT JOIN adverse_events e USING (usubjid)
            WHERE {where} GROUP BY ALL),
        per_group AS (SELECT "group", count(*) AS "N", {per_group} FROM per_patient GROUP BY ALL)
        SELECT "group", category, "N", n_patients, events
        FROM (UNPIVOT per_group ON {unpivot} INTO NAME category VALUE n_patients, events)
        ORDER BY "group", category""", params).df()
