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

from dashboard.data.filters import group_sql, selected_rows, subject_where
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


def ae_term_counts(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group, system organ class and preferred term: N (patients selected), n_patients (with at least one
    event) and events; ``term`` NULL on the SOC's own row (patients with any event of the SOC).

    Columns: group, soc, term, N, n_patients, events; every group has a row for every SOC and PT that occurs
    in the selection, zeros included (the comparison needs both arms' zeros).
    """
    where, params = subject_where(f, "s")
    # GROUPING SETS count a patient once per SOC and once per PT in one pass; the keys found in any group are
    # then crossed with every group's N, so a PT seen in one arm only still gets the other arm's zero row.
    return con.execute(f"""
        WITH sel AS (SELECT {group_sql(include_arm)} AS "group", s.usubjid FROM subjects s WHERE {where}),
        big_n AS (SELECT "group", count(*) AS "N" FROM sel GROUP BY ALL),
        per AS (
            SELECT sel."group", e.soc, e.term, count(DISTINCT e.usubjid) AS n_patients, count(*) AS events
            FROM adverse_events e JOIN sel USING (usubjid)
            GROUP BY GROUPING SETS ((sel."group", e.soc), (sel."group", e.soc, e.term))),
        keys AS (SELECT DISTINCT soc, term FROM per)
        SELECT b."group", k.soc, k.term, b."N", coalesce(p.n_patients, 0)::BIGINT AS n_patients,
               coalesce(p.events, 0)::BIGINT AS events
        FROM big_n b CROSS JOIN keys k
        LEFT JOIN per p ON p."group" IS NOT DISTINCT FROM b."group" AND p.soc = k.soc
                       AND p.term IS NOT DISTINCT FROM k.term
        ORDER BY b."group", k.soc, k.term NULLS FIRST""", params).df()


def ae_exposure_counts(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group and AE category (``_AE_CATEGORY_SQL``): N, n_patients, events, follow_up_days (days on study,
    summed) and days_at_risk (per patient the study day of the first event of the category, or the days on
    study without one, kept within 0 and the days on study; summed): the exposure of the EAIR and the EAER.

    Columns: group, category, N, n_patients, events, follow_up_days, days_at_risk; zeros included.
    """
    where, params = subject_where(f, "s")
    params["fatal"] = FATAL_OUTCOME
    per_patient = ", ".join(f'count(e.usubjid) FILTER (WHERE {cond}) AS "{key}_n", '
                            f'min(e.onset_day) FILTER (WHERE {cond}) AS "{key}_first"'
                            for key, cond in _AE_CATEGORY_SQL.items())
    per_group = ", ".join(
        f'count(*) FILTER (WHERE "{key}_n" > 0) AS "{key}_patients", sum("{key}_n")::BIGINT AS "{key}_events", '
        f'sum(days)::BIGINT AS "{key}_follow", '
        f'sum(greatest(least(coalesce("{key}_first", days), days), 0))::BIGINT AS "{key}_risk"'
        for key in _AE_CATEGORY_SQL)
    unpivot = ", ".join(f'("{key}_patients", "{key}_events", "{key}_follow", "{key}_risk") AS "{key}"'
                        for key in _AE_CATEGORY_SQL)
    return con.execute(f"""
        WITH per_patient AS (
            SELECT {group_sql(include_arm)} AS "group", s.usubjid,
                   date_diff('day', s.day1_on, s.last_contact_on) + 1 AS days, {per_patient}
            FROM subjects s LEFT JOIN adverse_events e USING (usubjid)
            WHERE {where} GROUP BY ALL),
        per_group AS (SELECT "group", count(*) AS "N", {per_group} FROM per_patient GROUP BY ALL)
        SELECT "group", category, "N", n_patients, events, follow_up_days, days_at_risk
        FROM (UNPIVOT per_group ON {unpivot}
              INTO NAME category VALUE n_patients, events, follow_up_days, days_at_risk)
        ORDER BY "group", category""", params).df()


def first_sae_times(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """One row per selected patient: time_days to the first serious adverse event with onset on or after study
    day 1 (event 1), or to the last contact (event 0; a death without an SAE is censored there).

    Columns: usubjid, group, time_days, event.
    """
    where, params = subject_where(f, "s")
    return con.execute(f"""
        WITH first_sae AS (
            SELECT e.usubjid, min(e.onset_day) AS day FROM adverse_events e
            WHERE e.serious AND e.onset_day >= 1 {selected_rows(where, "e")} GROUP BY e.usubjid)
        SELECT s.usubjid, {group_sql(include_arm)} AS "group",
               coalesce(fs.day, date_diff('day', s.day1_on, s.last_contact_on) + 1)::DOUBLE AS time_days,
               (fs.day IS NOT NULL)::INTEGER AS event
        FROM subjects s LEFT JOIN first_sae fs USING (usubjid)
        WHERE {where} ORDER BY s.usubjid""", params).df()
