"""Data layer: the aggregates behind the standard DSMB report tables (issue 16): CONSORT counts, enrolment by
site and month, infusion compliance and dose, eligibility and visit-window deviations, baseline
characteristics. Completeness by visit and site is ``queries.visit_completeness`` itself, called per site by
:mod:`dashboard.analyses.report` (one definition of "due"), so it has no query here.

Each query takes ``include_arm``; its ``"group"`` column is the arm, or NULL when pooled, so with False the SQL
never reads ``arm`` (DESIGN §4). Where arms are shown, the totals over arms come from the same statement
(GROUPING SETS), flagged ``total``; a pooled result has no separate total (its one group is the total). Values
are ``$name`` parameters; only identifiers built from this module's own constants are formatted in. The domain
functions named in each docstring turn these small frames into the report tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from dashboard.data.filters import group_sql, selected_rows, subject_where
from dashboard.data.lab_aggregates import BASELINE_CTE, lab_rows_cte
from dashboard.data.queries import exit_day_sql, visit_stats
from dashboard.domain.consort import STATUS_COUNTS
from dashboard.domain.deviations import ENTRY_CRITERIA
from dashboard.domain.exposure import DOSE_TOLERANCE, INFUSION_WINDOW_DAYS, PLANNED_DOSE_PER_KG
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.domain.visits import INFUSION_DAYS

Con = duckdb.DuckDBPyConnection


def _grouped(include_arm: bool, keys: Sequence[str] = (), rollup: Sequence[str] = ()) -> tuple[str, str]:
    """(select flags, GROUP BY clause): per ``"group"`` and ``keys``, plus the total over arms (flag ``total``)
    when arms are shown; each column of ``rollup`` is also rolled up into an all-values row (``all_<column>``)."""
    flags = ['grouping("group") = 1 AS total' if include_arm else "FALSE AS total"]
    flags += [f"grouping({c}) = 1 AS all_{c}" for c in rollup]
    dims = (['"group"'] if include_arm else []) + list(rollup)
    always = ([] if include_arm else ['"group"']) + list(keys)
    sets = []
    for mask in range(1 << len(dims)):
        chosen = [d for i, d in enumerate(dims) if mask & (1 << i)]
        sets.append("(" + ", ".join(chosen + always) + ")")
    return ", ".join(flags), f"GROUP BY GROUPING SETS ({', '.join(sets)})"


def consort_counts(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group (and ``total``): ``randomised`` patients, ``infusion_<k>`` patients who received infusion k
    (k = 1 .. len(INFUSION_DAYS)), and patients per status (``STATUS_COUNTS``: completed, died, transplanted,
    withdrawn, lost, on_study). The input of ``consort.consort_flow``."""
    where, params = subject_where(f, "s")
    flags, group_by = _grouped(include_arm)
    infusion_cols = []
    for k in range(1, len(INFUSION_DAYS) + 1):
        params[f"infusion_{k}"] = k
        infusion_cols.append(f"count(*) FILTER (WHERE list_contains(got, $infusion_{k})) AS infusion_{k}")
    status_cols = []
    for column, status in STATUS_COUNTS.items():
        params[f"status_{column}"] = status
        status_cols.append(f"count(*) FILTER (WHERE status = $status_{column}) AS {column}")
    return con.execute(f"""
        WITH sel AS (SELECT {group_sql(include_arm)} AS "group", s.usubjid, s.status FROM subjects s WHERE {where}),
        inf AS (SELECT i.usubjid, list(DISTINCT i.infusion_num) AS got FROM infusions i
                WHERE TRUE{selected_rows(where, "i")} GROUP BY i.usubjid)
        SELECT "group", {flags}, count(*) AS randomised, {", ".join(infusion_cols)}, {", ".join(status_cols)}
        FROM sel LEFT JOIN inf USING (usubjid)
        {group_by} ORDER BY total, "group" """, params).df()


def enrolment_counts(con: Con, f: SubjectFilter) -> pd.DataFrame:
    """Patients randomised per ``site_id`` and calendar ``month`` (first day of the month), ``n``; never by arm
    (the plan is for the trial). The input of ``consort.enrolment_against_plan``."""
    where, params = subject_where(f, "s")
    return con.execute(f"""
        SELECT s.site_id, date_trunc('month', s.randomized_on)::DATE AS month, count(*) AS n
        FROM subjects s WHERE {where} GROUP BY ALL ORDER BY month, s.site_id""", params).df()


def infusion_compliance(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group (and ``total``) and scheduled infusion (``infusion_num``, ``due_day`` from INFUSION_DAYS),
    patient counts: ``patients`` selected, ``received``; of those received ``on_time`` (study day within
    ``due_day`` +- INFUSION_WINDOW_DAYS), ``early``, ``late`` and ``max_days_outside`` (days beyond the
    window); not received: ``missed`` (on study after the scheduled day and the window closed before the
    cut), ``left_died`` / ``left_transplanted`` / ``left_withdrawn`` / ``left_lost`` (left the study on or
    before the scheduled day: not due), ``not_yet_due`` (window still open at the cut). The input of
    ``exposure.compliance_table``."""
    where, params = subject_where(f, "s")
    flags, group_by = _grouped(include_arm, ["infusion_num"])
    params |= {"due_days": list(INFUSION_DAYS), "window": INFUSION_WINDOW_DAYS}
    exit_day = exit_day_sql(params)
    left = []
    for column, status in STATUS_COUNTS.items():
        if column in ("completed", "on_study"):
            continue
        params[f"left_{column}"] = status
        left.append(f"count(*) FILTER (WHERE NOT received AND left_before AND status = $left_{column}) AS left_{column}")
    return con.execute(f"""
        WITH sel AS (SELECT {group_sql(include_arm)} AS "group", s.usubjid, s.status, s.day1_on, {exit_day} AS exit_day
                     FROM subjects s WHERE {where}),
        sched AS (SELECT unnest($due_days) AS due_day, generate_subscripts($due_days, 1) AS infusion_num),
        given AS (SELECT i.usubjid, i.infusion_num, min(i.study_day) AS given_day FROM infusions i
                  WHERE TRUE{selected_rows(where, "i")} GROUP BY ALL),
        pairs AS (
            SELECT sel."group", sel.status, sched.infusion_num, sched.due_day, g.given_day,
                   g.usubjid IS NOT NULL AS received,
                   coalesce(sel.exit_day <= sched.due_day, FALSE) AS left_before,
                   sel.day1_on + sched.due_day + $window - 1 <= (SELECT data_cut_date FROM study) AS window_closed
            FROM sel CROSS JOIN sched
            LEFT JOIN given g ON g.usubjid = sel.usubjid AND g.infusion_num = sched.infusion_num)
        SELECT "group", {flags}, infusion_num, any_value(due_day) AS due_day, count(*) AS patients,
               count(*) FILTER (WHERE received) AS received,
               count(*) FILTER (WHERE received AND abs(given_day - due_day) <= $window) AS on_time,
               count(*) FILTER (WHERE received AND given_day < due_day - $window) AS early,
               count(*) FILTER (WHERE received AND given_day > due_day + $window) AS late,
               max(abs(given_day - due_day) - $window) FILTER (WHERE received AND abs(given_day - due_day) > $window)
                   AS max_days_outside,
               count(*) FILTER (WHERE NOT received AND NOT left_before AND window_closed) AS missed,
               {", ".join(left)},
               count(*) FILTER (WHERE NOT received AND NOT left_before AND NOT window_closed) AS not_yet_due
        FROM pairs {group_by} ORDER BY total, "group", infusion_num""", params).df()


def dose_summary(con: Con, f: SubjectFilter, active_arm: str) -> pd.DataFrame:
    """Per arm and ``infusion_num`` (arms only: the dose reveals the arm): ``infusions`` given, ``with_dose``
    (dose and weight recorded), ``planned_per_kg`` (PLANNED_DOSE_PER_KG x 10^6 cells/kg for ``active_arm``,
    0 for the others), ``mean_per_kg``, ``sd_per_kg``, ``min_per_kg``, ``max_per_kg`` (dose_cells_1e6 /
    weight_kg), ``pct_of_planned`` (mean, where planned > 0) and ``off_plan`` (infusions more than
    DOSE_TOLERANCE x the planned active dose away from the arm's plan). The input of ``exposure.dose_table``."""
    where, params = subject_where(f, "s")
    params |= {"active_arm": active_arm, "planned": PLANNED_DOSE_PER_KG, "tolerance": DOSE_TOLERANCE}
    return con.execute(f"""
        WITH d AS (
            SELECT s.arm AS "group", i.infusion_num, i.dose_cells_1e6 / nullif(s.weight_kg, 0) AS per_kg,
                   CASE WHEN s.arm = $active_arm THEN $planned ELSE 0.0 END AS planned
            FROM infusions i JOIN subjects s USING (usubjid) WHERE {where})
        SELECT "group", infusion_num, count(*) AS infusions, count(per_kg) AS with_dose,
               any_value(planned) AS planned_per_kg, avg(per_kg) AS mean_per_kg, stddev_samp(per_kg) AS sd_per_kg,
               min(per_kg) AS min_per_kg, max(per_kg) AS max_per_kg,
               avg(100.0 * per_kg / planned) FILTER (WHERE planned > 0) AS pct_of_planned,
               count(*) FILTER (WHERE abs(per_kg - planned) > $tolerance * $planned) AS off_plan
        FROM d GROUP BY ALL ORDER BY "group", infusion_num""", params).df()


def eligibility_counts(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group, ``site_id`` (``all_site_id`` rows over sites) and ``total``: ``patients``, and patients whose
    baseline (the labs' BASELINE_CTE: last visit-0 value) breaks an entry criterion of ``ENTRY_CRITERIA``:
    ``age_out`` (age outside age_min..age_max), ``bili_low`` (total bilirubin below bili_min),
    ``coag_not_met`` (neither PTA <= pta_max nor INR >= inr_min, one of them known), ``any_criterion``, and
    ``not_assessable`` (no deviation found but a value needed is missing). The input of
    ``deviations.deviation_table``."""
    c = ENTRY_CRITERIA
    ctes, params = lab_rows_cte(f, include_arm, "l.paramcd IN (SELECT unnest($paramcds))")
    where, _ = subject_where(f, "s")
    params |= {"paramcds": ["BILI", "PTA", "INR"], "bili": "BILI", "pta": "PTA", "inr": "INR",
               "age_min": c.age_min, "age_max": c.age_max, "bili_min": c.bili_min, "pta_max": c.pta_max,
               "inr_min": c.inr_min}
    flags, group_by = _grouped(include_arm, rollup=["site_id"])
    return con.execute(f"""{ctes},{BASELINE_CTE},
        sel AS (SELECT {group_sql(include_arm)} AS "group", s.usubjid, s.site_id, s.age FROM subjects s WHERE {where}),
        p AS (
            SELECT sel."group", sel.usubjid, sel.site_id, sel.age,
                   max(b.base) FILTER (WHERE b.paramcd = $bili) AS bili,
                   max(b.base) FILTER (WHERE b.paramcd = $pta) AS pta,
                   max(b.base) FILTER (WHERE b.paramcd = $inr) AS inr
            FROM sel LEFT JOIN b USING (usubjid) GROUP BY ALL),
        flagged AS (
            SELECT *, coalesce(age < $age_min OR age > $age_max, FALSE) AS age_out,
                   coalesce(bili < $bili_min, FALSE) AS bili_low,
                   NOT (coalesce(pta <= $pta_max, FALSE) OR coalesce(inr >= $inr_min, FALSE))
                       AND (pta IS NOT NULL OR inr IS NOT NULL) AS coag_not_met,
                   age IS NULL OR bili IS NULL OR (pta IS NULL AND inr IS NULL) AS some_missing
            FROM p)
        SELECT "group", site_id, {flags}, count(*) AS patients,
               count(*) FILTER (WHERE age_out) AS age_out, count(*) FILTER (WHERE bili_low) AS bili_low,
               count(*) FILTER (WHERE coag_not_met) AS coag_not_met,
               count(*) FILTER (WHERE age_out OR bili_low OR coag_not_met) AS any_criterion,
               count(*) FILTER (WHERE some_missing AND NOT (age_out OR bili_low OR coag_not_met)) AS not_assessable
        FROM flagged {group_by} ORDER BY total, "group", all_site_id, site_id""", params).df()


def visit_window_counts(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group, ``site_id`` (``all_site_id`` rows over sites) and ``total``: ``patient_visits`` with an
    assessment (a lab or ascites record with a scheduled visit), ``outside`` (patient-visits with an
    assessment dated outside the visit's window_lo..window_hi) and ``max_days_outside``. The input of
    ``deviations.deviation_table``."""
    where, params = subject_where(f, "s")
    flags, group_by = _grouped(include_arm, rollup=["site_id"])
    return con.execute(f"""
        WITH sel AS (SELECT {group_sql(include_arm)} AS "group", s.usubjid, s.site_id FROM subjects s WHERE {where}),
        a AS (SELECT l.usubjid, l.visit_num, l.study_day FROM lab_results l
              WHERE l.visit_num IS NOT NULL{selected_rows(where, "l")}
              UNION
              SELECT a.usubjid, a.visit_num, a.study_day FROM ascites a
              WHERE a.visit_num IS NOT NULL{selected_rows(where, "a")}),
        pv AS (SELECT a.usubjid, a.visit_num,
                      max(greatest(v.window_lo - a.study_day, a.study_day - v.window_hi)) AS days_outside
               FROM a JOIN visits v USING (visit_num) GROUP BY ALL)
        SELECT "group", site_id, {flags}, count(*) AS patient_visits,
               count(*) FILTER (WHERE days_outside > 0) AS outside,
               max(days_outside) FILTER (WHERE days_outside > 0) AS max_days_outside
        FROM pv JOIN sel USING (usubjid) {group_by} ORDER BY total, "group", all_site_id, site_id""", params).df()


def baseline_continuous(con: Con, f: SubjectFilter, include_arm: bool, paramcds: Sequence[str]) -> pd.DataFrame:
    """Per group (and ``total``) and ``variable``: ``patients``, ``n`` with a value and the statistics of
    ``queries.visit_stats`` (mean, SD n-1, median, q1, q3 as R type 7, min, max) of the baseline of ``AGE``,
    ``WEIGHT``, ``MELD`` (subjects.baseline_meld) and each lab of ``paramcds`` (the labs' BASELINE_CTE: the last
    visit-0 value). The input of ``baseline.baseline_table``."""
    ctes, params = lab_rows_cte(f, include_arm, "l.paramcd IN (SELECT unnest($paramcds))")
    where, _ = subject_where(f, "s")
    params["paramcds"] = list(paramcds)
    flags, group_by = _grouped(include_arm, ["variable"])
    return con.execute(f"""{ctes},{BASELINE_CTE},
        sel AS (SELECT {group_sql(include_arm)} AS "group", s.usubjid, s.age, s.weight_kg, s.baseline_meld
                FROM subjects s WHERE {where}),
        long AS (
            SELECT "group", 'AGE' AS variable, age::DOUBLE AS value FROM sel
            UNION ALL SELECT "group", 'WEIGHT', weight_kg::DOUBLE FROM sel
            UNION ALL SELECT "group", 'MELD', baseline_meld::DOUBLE FROM sel
            UNION ALL
            SELECT sel."group", pc.paramcd, b.base FROM sel CROSS JOIN (SELECT unnest($paramcds) AS paramcd) pc
            LEFT JOIN b ON b.usubjid = sel.usubjid AND b.paramcd = pc.paramcd)
        SELECT "group", variable, {flags}, count(*) AS patients, {visit_stats("value")}
        FROM long {group_by} ORDER BY total, "group", variable""", params).df()


def baseline_categorical(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group (and ``total``), ``variable`` (SEX, ETIOLOGY, LF_TYPE, ASCITES: subjects.baseline_ascites_grade)
    and ``category`` (NULL when missing): ``n`` patients. The input of ``baseline.baseline_table``."""
    where, params = subject_where(f, "s")
    flags, group_by = _grouped(include_arm, ["variable", "category"])
    return con.execute(f"""
        WITH sel AS (SELECT {group_sql(include_arm)} AS "group", s.sex, s.etiology, s.lf_type, s.baseline_ascites_grade
                     FROM subjects s WHERE {where}),
        long AS (
            SELECT "group", 'SEX' AS variable, sex AS category FROM sel
            UNION ALL SELECT "group", 'ETIOLOGY', etiology FROM sel
            UNION ALL SELECT "group", 'LF_TYPE', lf_type FROM sel
            UNION ALL SELECT "group", 'ASCITES', CAST(baseline_ascites_grade AS VARCHAR) FROM sel)
        SELECT "group", variable, category, {flags}, count(*) AS n
        FROM long {group_by} ORDER BY total, "group", variable, category""", params).df()
