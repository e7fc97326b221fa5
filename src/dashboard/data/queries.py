"""Parameterised queries over the trial database. Each that returns patient data takes ``include_arm``; with
False the SQL never selects ``arm`` nor any arm-revealing column (DESIGN §4), so nothing downstream can leak
it. Counts, dates and ids (``count_subjects``, ``first_randomized``, ``subject_ids``) never select it.

Only the access layer calls these functions, and it decides ``include_arm`` from the viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import pandas as pd

from dashboard.data.filters import group_sql, subject_where
from dashboard.data.schema import arm_columns_sql, visible_columns
from dashboard.domain.ascites import MEASURES as ASCITES_MEASURES
from dashboard.domain.labstats import EXIT_DATE_COLUMNS, EXIT_STATUSES
from dashboard.domain.subject_filter import SubjectFilter

Con = duckdb.DuckDBPyConnection
SUBJECT_COLUMNS = ("usubjid", "site_id", "randomized_on", "day1_on", "age", "sex", "weight_kg", "etiology", "lf_type",
                   "status", "death_on", "death_cause", "transplant_on", "withdrawn_on", "last_contact_on",
                   "baseline_meld", "baseline_ascites_grade")


def _arm(include_arm: bool, alias: str = "s") -> str:
    return arm_columns_sql("subjects", include_arm, alias)


def study(con: Con, include_arm: bool) -> dict:
    """The study row; without arm names for blinded viewers (their SQL does not select them)."""
    columns = ", ".join(f'"{c}"' for c in visible_columns(con, "study", include_arm))
    return con.execute(f"SELECT {columns} FROM study").df().iloc[0].to_dict()


def latest_cut(con: Con) -> dict:
    """The most recent data_cuts row (id, date, checksum, row counts)."""
    return con.execute("SELECT * FROM data_cuts ORDER BY cut_id DESC LIMIT 1").df().iloc[0].to_dict()


def all_cuts(con: Con) -> pd.DataFrame:
    """Every cut loaded into this database's lineage, newest first."""
    return con.execute("SELECT * FROM data_cuts ORDER BY cut_id DESC").df()


def charter_row(con: Con) -> dict | None:
    """The cut's DSMB charter row (version, title, sha256, source, loaded_at, text), or None when the cut has
    none (files written before the charter table existed have no such table)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'charter' "
                         "AND table_catalog = current_database() AND table_schema = current_schema()").fetchone()[0]
    if not exists:
        return None
    rows = con.execute("SELECT version, title, sha256, source, loaded_at, text FROM charter LIMIT 1").df()
    return rows.iloc[0].to_dict() if len(rows) else None


def filter_choices(con: Con, include_arm: bool) -> dict[str, tuple[str, ...]]:
    """Distinct values for the sidebar's list filters (arms only when they may be shown)."""
    columns = {"site": "site_id", "sex": "sex", "etiology": "etiology", "lf_type": "lf_type", "status": "status"}
    if include_arm:
        columns["arm"] = "arm"
    return {key: tuple(r[0] for r in con.execute(
        f"SELECT DISTINCT {col} FROM subjects WHERE {col} IS NOT NULL ORDER BY 1").fetchall())
        for key, col in columns.items()}


def count_subjects(con: Con, f: SubjectFilter) -> tuple[int, int]:
    """(patients matching the filter, all randomised patients)."""
    where, params = subject_where(f, "s")
    return con.execute(
        f"SELECT count(*) FILTER (WHERE {where}), count(*) FROM subjects s", params).fetchone()


def subjects(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Subject-level rows that pass the filter, with days on study, latest MELD and infusions received."""
    where, params = subject_where(f, "s")
    cols = ", ".join(f"s.{c}" for c in SUBJECT_COLUMNS)
    sql = f"""
        SELECT {cols}{_arm(include_arm)},
               date_diff('day', s.day1_on, s.last_contact_on) + 1 AS days_on_study,
               m.latest_meld, coalesce(i.infusions, 0) AS infusions_received
        FROM subjects s
        LEFT JOIN (SELECT usubjid, arg_max(value, (study_day, value)) AS latest_meld FROM lab_results
                   WHERE paramcd = 'MELD' GROUP BY usubjid) m USING (usubjid)
        LEFT JOIN (SELECT usubjid, count(*) AS infusions FROM infusions GROUP BY usubjid) i USING (usubjid)
        WHERE {where}
        ORDER BY s.usubjid"""
    return con.execute(sql, params).df()


SUBJECT_DATE_COLUMNS = ("usubjid", "randomized_on", "day1_on", "status", "death_on", "transplant_on", "withdrawn_on",
                        "last_contact_on")


def subject_dates(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """The selected patients' status and the dates that place them in time (randomisation, day 1, exits):
    what exit days and enrolment need, a fraction of the cost of :func:`subjects` on a large trial."""
    where, params = subject_where(f, "s")
    cols = ", ".join(f"s.{c}" for c in SUBJECT_DATE_COLUMNS)
    return con.execute(f"SELECT {cols}{_arm(include_arm)} FROM subjects s WHERE {where} ORDER BY s.usubjid",
                       params).df()


def exit_day_sql(params: dict) -> str:
    """The exit day (the test oracle ``tests.oracle.labstats.add_exit_day``) in SQL over ``subjects s``: the
    status's own exit date, else ``last_contact_on``, as a study day; NULL for statuses that are not exits. Adds
    the statuses to ``params`` ($exit_status_<i>); column names come from ``EXIT_DATE_COLUMNS`` only."""
    cases = []
    for i, (status, column) in enumerate(EXIT_DATE_COLUMNS.items()):
        params[f"exit_status_{i}"] = status
        cases.append(f"WHEN $exit_status_{i} THEN coalesce(s.{column}, s.last_contact_on)")
    return f"date_diff('day', s.day1_on, CASE s.status {' '.join(cases)} END) + 1"


def first_randomized(con: Con, f: SubjectFilter) -> date | None:
    """The earliest randomisation date among the selected patients (None when nobody is selected)."""
    where, params = subject_where(f, "s")
    return con.execute(f"SELECT min(s.randomized_on) FROM subjects s WHERE {where}", params).fetchone()[0]


def subject_exits(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """The selected patients who left the study: ``usubjid``, ``status``, ``exit_day`` (as
    ``exit_day_sql``) and ``arm`` when arms may be shown; the input of ``deaths_between_visits``."""
    where, params = subject_where(f, "s")
    params["exit_statuses"] = list(EXIT_STATUSES)
    return con.execute(f"""
        SELECT s.usubjid, s.status, {exit_day_sql(params)}::DOUBLE AS exit_day{_arm(include_arm)}
        FROM subjects s WHERE {where} AND s.status IN (SELECT unnest($exit_statuses)) ORDER BY s.usubjid""",
                       params).df()


def lab_rows(con: Con, f: SubjectFilter, paramcds: Sequence[str], include_arm: bool) -> pd.DataFrame:
    """Lab records of the selected patients for the given parameters."""
    where, params = subject_where(f, "s")
    params["paramcds"] = list(paramcds)
    return con.execute(f"""
        SELECT l.usubjid, l.paramcd, l.param, l.unit, l.visit, l.visit_num, l.study_day, l.collected_on,
               l.value, l.lower_limit, l.upper_limit{_arm(include_arm)}
        FROM lab_results l JOIN subjects s USING (usubjid)
        WHERE l.paramcd IN (SELECT unnest($paramcds)) AND {where}
        ORDER BY l.paramcd, l.usubjid, l.study_day""", params).df()


def ascites_rows(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Ascites assessments of the selected patients."""
    where, params = subject_where(f, "s")
    return con.execute(f"""
        SELECT a.*{_arm(include_arm)} FROM ascites a JOIN subjects s USING (usubjid)
        WHERE {where} ORDER BY a.usubjid, a.study_day""", params).df()


def infusion_rows(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Infusions given; product, dose and volume only when arms may be shown (they reveal the arm)."""
    where, params = subject_where(f, "s")
    product = arm_columns_sql("infusions", include_arm, "i")
    return con.execute(f"""
        SELECT i.usubjid, i.infusion_num, i.given_on, i.study_day{product}{_arm(include_arm)}
        FROM infusions i JOIN subjects s USING (usubjid)
        WHERE {where} ORDER BY i.usubjid, i.infusion_num""", params).df()


def vital_rows(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Post-infusion vital signs of the selected patients."""
    where, params = subject_where(f, "s")
    return con.execute(f"""
        SELECT v.*{_arm(include_arm)} FROM vital_signs v JOIN subjects s USING (usubjid)
        WHERE {where} ORDER BY v.usubjid, v.infusion_num, v.hours_after""", params).df()


def adverse_event_rows(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Adverse events of the selected patients."""
    where, params = subject_where(f, "s")
    return con.execute(f"""
        SELECT e.*{_arm(include_arm)} FROM adverse_events e JOIN subjects s USING (usubjid)
        WHERE {where} ORDER BY e.usubjid, e.onset_day, e.ae_id""", params).df()


def time_to_event(con: Con, f: SubjectFilter, include_arm: bool, as_of: date | None = None) -> pd.DataFrame:
    """One row per dosed patient: end date, ``event_type`` (0 censored, 1 death, 2 transplant), covariates.

    With ``as_of`` the data are re-censored at that calendar date: later events do not exist yet and
    patients still on study are censored at their last assessment on or before it.
    """
    where, params = subject_where(f, "s")
    params["as_of"] = as_of or con.execute("SELECT data_cut_date FROM study").fetchone()[0]
    return con.execute(f"""
        WITH sel AS (SELECT * FROM subjects s WHERE {where} AND s.day1_on <= $as_of),
        -- Only patients still in follow-up at as_of are censored at their last visit: at the data cut
        -- nobody is, so the assessments are not read at all.
        last_visit AS (
            SELECT a.usubjid, max(sel.day1_on + a.study_day - 1) AS last_visit_on
            FROM ascites a JOIN sel USING (usubjid)
            WHERE sel.last_contact_on > $as_of AND sel.day1_on + a.study_day - 1 <= $as_of GROUP BY a.usubjid)
        SELECT s.usubjid, s.site_id, s.sex, s.age, s.etiology, s.lf_type, s.baseline_meld,
               s.baseline_ascites_grade, s.status, s.day1_on{_arm(include_arm)},
               CASE WHEN s.death_on <= $as_of THEN 1 WHEN s.transplant_on <= $as_of THEN 2 ELSE 0 END AS event_type,
               CASE WHEN s.death_on <= $as_of THEN s.death_on
                    WHEN s.transplant_on <= $as_of THEN s.transplant_on
                    WHEN s.last_contact_on <= $as_of THEN s.last_contact_on
                    ELSE greatest(coalesce(lv.last_visit_on, s.day1_on), s.day1_on) END AS end_on,
               s.last_contact_on > $as_of AS recensored
        FROM sel s LEFT JOIN last_visit lv USING (usubjid)
        ORDER BY s.usubjid""", params).df()


def patient(con: Con, usubjid: str, include_arm: bool) -> dict[str, pd.DataFrame]:
    """Everything about one patient, one DataFrame per table (one indexed lookup each)."""
    p = {"id": usubjid}
    arm, product = arm_columns_sql("subjects", include_arm), arm_columns_sql("infusions", include_arm)
    cols = ", ".join(SUBJECT_COLUMNS)
    return {
        "subject": con.execute(f"SELECT {cols}{arm} FROM subjects WHERE usubjid = $id", p).df(),
        "labs": con.execute("SELECT * FROM lab_results WHERE usubjid = $id ORDER BY paramcd, study_day", p).df(),
        "infusions": con.execute(
            f"SELECT usubjid, infusion_num, given_on, study_day{product} FROM infusions WHERE usubjid = $id "
            "ORDER BY infusion_num", p).df(),
        "vitals": con.execute("SELECT * FROM vital_signs WHERE usubjid = $id ORDER BY infusion_num, hours_after", p).df(),
        "adverse_events": con.execute("SELECT * FROM adverse_events WHERE usubjid = $id ORDER BY onset_day", p).df(),
        "ascites": con.execute("SELECT * FROM ascites WHERE usubjid = $id ORDER BY study_day", p).df(),
    }


def visit_schedule(con: Con) -> pd.DataFrame:
    """The protocol's scheduled visits and windows."""
    return con.execute("SELECT * FROM visits ORDER BY visit_num").df()


def visit_completeness(con: Con, f: SubjectFilter) -> pd.DataFrame:
    """Per scheduled visit: patient-visits due (window closed before the cut and before the patient
    left) and how many of those were attended. Visits attended early, before their window closed,
    count as due too, so the observed share never exceeds 100%."""
    where, params = subject_where(f, "s")
    return con.execute(f"""
        WITH sel AS (SELECT s.* FROM subjects s WHERE {where}),
        pairs AS (
            SELECT sel.usubjid, v.visit_num, v.visit,
                   (v.visit_num = 0 OR sel.day1_on + v.window_hi - 1
                        <= least((SELECT data_cut_date FROM study), sel.last_contact_on)) AS window_closed
            FROM sel CROSS JOIN visits v),
        marked AS (
            SELECT p.visit_num, p.visit, p.window_closed, a.usubjid IS NOT NULL AS attended
            FROM pairs p LEFT JOIN ascites a ON a.usubjid = p.usubjid AND a.visit_num = p.visit_num)
        SELECT visit_num, visit, count(*) FILTER (WHERE window_closed OR attended) AS expected,
               count(*) FILTER (WHERE attended) AS observed
        FROM marked GROUP BY visit_num, visit HAVING expected > 0 ORDER BY visit_num""", params).df()


def subject_ids(con: Con, f: SubjectFilter) -> tuple[str, ...]:
    """Ids of the patients passing the filter, in ``subjects`` order (previous/next on /patient)."""
    where, params = subject_where(f, "s")
    return tuple(r[0] for r in con.execute(
        f"SELECT s.usubjid FROM subjects s WHERE {where} ORDER BY s.usubjid", params).fetchall())


def lab_parameters(con: Con) -> pd.DataFrame:
    """The lab parameters present in this cut: ``paramcd``, ``param``, ``unit`` (imports carry any test code)."""
    return con.execute("""
        SELECT paramcd, any_value(param) AS param, any_value(unit) AS unit
        FROM lab_results GROUP BY paramcd ORDER BY paramcd""").df()


def tte_parameters(con: Con) -> pd.DataFrame:
    """Time-to-event parameters imported from ADaM ADTTE: ``paramcd``, ``param``."""
    return con.execute("SELECT paramcd, any_value(param) AS param FROM time_to_event GROUP BY paramcd ORDER BY paramcd").df()


def imported_tte_rows(con: Con, f: SubjectFilter, paramcd: str, include_arm: bool) -> pd.DataFrame:
    """One imported ADTTE parameter's rows for the selected patients, with the subgroup covariates."""
    where, params = subject_where(f, "s")
    params["paramcd"] = paramcd
    return con.execute(f"""
        SELECT t.usubjid, t.time_days, t.event, t.censor_reason, s.site_id, s.sex, s.age, s.etiology, s.lf_type,
               s.baseline_meld, s.baseline_ascites_grade, s.status, s.day1_on{_arm(include_arm)}
        FROM time_to_event t JOIN subjects s USING (usubjid)
        WHERE t.paramcd = $paramcd AND {where}
        ORDER BY t.usubjid""", params).df()


def visit_stats(x: str) -> str:
    """The statistics of column ``x`` that ``labstats.summary_from_aggregates`` takes: SD with n-1, quartiles as R type 7."""
    return (f"count({x}) AS n, avg({x}) AS mean, stddev_samp({x}) AS sd, quantile_cont({x}, 0.5) AS median, "
            f"quantile_cont({x}, 0.25) AS q1, quantile_cont({x}, 0.75) AS q3, min({x}) AS min, max({x}) AS max")


def _ascites_with_labels(f: SubjectFilter, include_arm: bool, where_rows: str) -> tuple[str, dict]:
    """CTEs ``r`` (the selected patients' ascites rows passing ``where_rows``, with ``group``: the arm, or
    NULL when pooled) and ``labels`` (each visit's label from its first row by patient and study day)."""
    where, params = subject_where(f, "s")
    group = group_sql(include_arm)
    return f"""
        WITH r AS (
            SELECT {group} AS "group", a.usubjid, a.visit, a.visit_num, a.study_day, a.grade, a.depth_cm, a.volume_ml
            FROM ascites a JOIN subjects s USING (usubjid)
            WHERE {where} AND a.visit_num IS NOT NULL AND {where_rows}),
        labels AS (SELECT visit_num, first(visit ORDER BY usubjid, study_day) AS visit FROM r GROUP BY visit_num)""", params


def ascites_grade_counts(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per group (arm, or NULL when pooled) and visit: ``n`` patients assessed (a grade recorded) and
    ``grade_0`` .. ``grade_3`` patients at each ICA grade, with the visit's label."""
    ctes, params = _ascites_with_labels(f, include_arm, "a.grade IS NOT NULL")
    grades = ", ".join(f"count(*) FILTER (WHERE grade = {g}) AS grade_{g}" for g in range(4))
    return con.execute(f"""{ctes}
        SELECT "group", visit_num, labels.visit, count(*) AS n, {grades}
        FROM r JOIN labels USING (visit_num)
        GROUP BY ALL ORDER BY "group", visit_num""", params).df()


def ascites_measure_summaries(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Per measure (``depth_cm``, ``volume_ml``), group and visit: the columns of ``lab_visit_summary``, with
    ``measure`` first. Both measures in one pass over the assessments."""
    ctes, params = _ascites_with_labels(f, include_arm, "TRUE")
    stats = ", ".join(visit_stats(m).replace(" AS ", f" AS {m}__") for m in ASCITES_MEASURES)
    wide = con.execute(f"""{ctes}
        SELECT "group", visit_num, labels.visit, {stats}
        FROM r JOIN labels USING (visit_num)
        GROUP BY ALL ORDER BY "group", visit_num""", params).df()
    keys = ["group", "visit_num", "visit"]
    parts = []
    for m in ASCITES_MEASURES:
        part = wide[keys + [c for c in wide.columns if c.startswith(f"{m}__")]]
        part = part.rename(columns=lambda c: c.removeprefix(f"{m}__"))
        part.insert(0, "measure", m)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def temperature_summary(con: Con, f: SubjectFilter, include_arm: bool) -> pd.DataFrame:
    """Post-infusion temperature per group (arm, or NULL when pooled), infusion and hour: ``n`` patients,
    ``mean`` and ``sd`` (n-1) of one value per patient and time point (repeat readings averaged first),
    and the time point's label."""
    where, params = subject_where(f, "s")
    group = group_sql(include_arm)
    return con.execute(f"""
        WITH per_patient AS (
            SELECT {group} AS "group", v.infusion_num, v.hours_after, v.usubjid, avg(v.value) AS value,
                   first(v.timepoint) FILTER (WHERE v.timepoint IS NOT NULL) AS timepoint
            FROM vital_signs v JOIN subjects s USING (usubjid)
            WHERE {where} AND v.paramcd = 'TEMP' AND v.value IS NOT NULL AND v.infusion_num IS NOT NULL
                  AND v.hours_after IS NOT NULL
            GROUP BY ALL)
        SELECT "group", infusion_num, hours_after,
               first(timepoint ORDER BY usubjid) FILTER (WHERE timepoint IS NOT NULL) AS timepoint,
               count(*) AS n, avg(value) AS mean, stddev_samp(value) AS sd
        FROM per_patient GROUP BY ALL ORDER BY "group", infusion_num, hours_after""", params).df()


def meld_trends_of(con: Con, usubjids: Sequence[str]) -> pd.DataFrame:
    """MELD by study day of the given patients (the sparklines of the rows /patients shows)."""
    return con.execute("""
        SELECT usubjid, list(value ORDER BY study_day) AS meld_trend FROM lab_results
        WHERE paramcd = 'MELD' AND usubjid IN (SELECT unnest($ids)) GROUP BY usubjid ORDER BY usubjid""",
                       {"ids": list(usubjids)}).df()
