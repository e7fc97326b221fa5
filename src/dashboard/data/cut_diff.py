"""Data layer: what is new since the previous data cut ("new since cut N").

The previous cut is the ``data_cuts`` row before the current one, read from its kept copy
(``<db dir>/cuts/<db name>/cut-<id>.duckdb``, see :mod:`dashboard.data.importers.cuts`), ATTACHed
read-only beside the current file under its own alias. As everywhere in the data layer, values are
parameters and ``include_arm=False`` never selects ``arm``.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.data.filters import subject_where
from dashboard.data.importers.cuts import kept_cut_path
from dashboard.data.schema import arm_columns_sql
from dashboard.domain.cut_changes import CutChanges
from dashboard.domain.subject_filter import SubjectFilter

# {prev} is the previous cut's alias, {arm} ", s.arm" or "", {where} the filter on the current subjects.
_SQL = {
    "new_patients": """
        SELECT s.usubjid, s.site_id, s.randomized_on, s.day1_on, s.status{arm}
        FROM sel s WHERE s.usubjid NOT IN (SELECT usubjid FROM {prev}.subjects)
        ORDER BY s.usubjid""",
    "new_deaths": """
        SELECT s.usubjid, s.death_on, s.death_cause{arm}
        FROM sel s LEFT JOIN {prev}.subjects p ON p.usubjid = s.usubjid
        WHERE s.death_on IS NOT NULL AND p.death_on IS NULL
        ORDER BY s.death_on, s.usubjid""",
    # An AE is the same event across cuts by patient, term and onset day (ae_id may be renumbered).
    "new_serious_aes": """
        SELECT e.usubjid, e.ae_id, e.term, e.soc, e.grade, e.onset_day, e.outcome{arm}
        FROM adverse_events e JOIN sel s ON s.usubjid = e.usubjid
        WHERE e.serious AND NOT EXISTS (
            SELECT 1 FROM {prev}.adverse_events p
            WHERE p.usubjid = e.usubjid AND p.term = e.term AND p.onset_day = e.onset_day AND p.serious)
        ORDER BY e.usubjid, e.onset_day, e.ae_id""",
    "changed_labs": """
        SELECT l.usubjid, l.paramcd, l.param, l.visit, l.study_day, p.value AS previous_value, l.value,
               l.unit{arm}
        FROM lab_results l JOIN sel s ON s.usubjid = l.usubjid
        JOIN {prev}.lab_results p ON p.usubjid = l.usubjid AND p.paramcd = l.paramcd AND p.study_day = l.study_day
        WHERE p.value IS DISTINCT FROM l.value
        ORDER BY l.usubjid, l.study_day, l.paramcd""",
    "new_labs": """
        SELECT l.usubjid, l.paramcd, l.param, l.visit, l.study_day, l.value, l.unit{arm}
        FROM lab_results l JOIN sel s ON s.usubjid = l.usubjid
        WHERE NOT EXISTS (
            SELECT 1 FROM {prev}.lab_results p
            WHERE p.usubjid = l.usubjid AND p.paramcd = l.paramcd AND p.study_day = l.study_day)
        ORDER BY l.usubjid, l.study_day, l.paramcd""",
}


def previous_cut(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The data_cuts row before the current (latest) one, or None for a first cut."""
    df = con.execute("""
        SELECT cut_id, cut_date FROM data_cuts WHERE cut_id < (SELECT max(cut_id) FROM data_cuts)
        ORDER BY cut_id DESC LIMIT 1""").df()
    return None if df.empty else df.iloc[0].to_dict()


def _attach_previous(con: duckdb.DuckDBPyConnection, path: Path, cut_id: int) -> str:
    # The alias is fixed per cut, and IF NOT EXISTS makes a second call (another session's thread on
    # the same shared connection) reuse the attachment: DuckDB refuses one file under two aliases.
    # A kept cut is never rewritten, so it may stay attached for the connection's lifetime.
    alias = f"previous_cut_{int(cut_id)}"
    literal = str(path.resolve()).replace("'", "''")
    con.execute(f"ATTACH IF NOT EXISTS '{literal}' AS {alias} (READ_ONLY)")
    return alias


def changes_since_previous_cut(con: duckdb.DuckDBPyConnection, db_path: str | os.PathLike, f: SubjectFilter,
                               include_arm: bool) -> CutChanges | None:
    """Differences of the selected patients between the current cut and the previous kept cut.

    None when the database holds only one cut, or the previous cut's kept copy is not there.
    """
    previous = previous_cut(con)
    if previous is None:
        return None
    path = kept_cut_path(db_path, int(previous["cut_id"]))
    if not path.exists():
        return None
    prev = _attach_previous(con, path, previous["cut_id"])
    where, params = subject_where(f, "s")
    arm = arm_columns_sql("subjects", include_arm, "s")
    head = f"WITH sel AS (SELECT s.* FROM subjects s WHERE {where})"
    frames = {name: con.execute(f"{head} {sql.format(prev=prev, arm=arm)}", params).df()
              for name, sql in _SQL.items()}
    return CutChanges(int(previous["cut_id"]), pd.Timestamp(previous["cut_date"]).date(), **frames)
