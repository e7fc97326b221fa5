"""The query interface pages use: every method is bound to one viewer and one database file.

For a blinded viewer the arm never leaves the data layer: queries run with ``include_arm=False``,
the study record carries no arm names, and an arm criterion in the filter is refused.

Every public query is declared ``@patient_level``, ``@aggregate`` or ``@metadata``
(:mod:`dashboard.access.query_registry`): registered for the blinding tests and cached by cut, blinding
and arguments, with the access check (:meth:`TrialView.authorise`) run on every call before the cache.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.access.query_registry import QuerySpec, aggregate, metadata, patient_level
from dashboard.access.viewer import Viewer, blinding_banner, require, sees_arms
from dashboard.data import (
    ascites_aggregates,
    comparison_aggregates,
    cut_diff,
    lab_aggregates,
    lab_state_aggregates,
    queries,
    safety_aggregates,
    shift_aggregates,
)
from dashboard.data.importers.cuts import kept_cut_path
from dashboard.data.schema import table_columns
from dashboard.domain.charter import Charter, parse_charter
from dashboard.domain.cut_changes import CutChanges
from dashboard.domain.death_aware import state_scale
from dashboard.domain.labplots import MAX_POINTS
from dashboard.domain.safety import FEVER_THRESHOLDS
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import AccessDenied


def kept_cuts_on_disk(view: TrialView) -> tuple:
    """The kept copies of the view's earlier cuts as they are on disk now, (cut_id, size, mtime) or
    (cut_id, None) when missing: what earlier_cuts and changes_since_previous_cut read beside the database."""
    state = []
    for cut_id in sorted(int(i) for i in view.cuts()["cut_id"] if i < view.cut_id):
        try:
            stat = kept_cut_path(view.db_path, cut_id).stat()
        except FileNotFoundError:
            state.append((cut_id, None))
        else:
            state.append((cut_id, stat.st_size, stat.st_mtime_ns))
    return tuple(state)


class TrialView:
    """Read-only view of one trial database for one viewer."""

    def __init__(self, con: duckdb.DuckDBPyConnection, viewer: Viewer, db_path: str | Path = ""):
        require(viewer, "view_trial")
        self._con = con
        # Found through a cursor: the shared connection itself is never queried (a query on it while another
        # session's thread runs one raises "connection is busy"). A cursor starts in the default catalog,
        # which beside connect_readonly's ATTACHed trial is an empty in-memory one; kept earlier cuts that
        # cut_diff attaches also hold a study table but are never the trial.
        self._catalog = con.cursor().execute(
            "SELECT table_catalog FROM information_schema.tables WHERE table_name = 'study' "
            "AND NOT starts_with(table_catalog, 'previous_cut_') "
            "ORDER BY table_catalog <> current_database() LIMIT 1").fetchone()[0]
        self.viewer = viewer
        self.db_path = str(db_path)
        blinded = bool(self._cursor().execute("SELECT blinded FROM study").fetchone()[0])
        self.trial_blinded = blinded
        self.sees_arms = sees_arms(viewer, blinded)
        if self.sees_arms and not self._catalog_has_arms():
            # Arms live in the randomisation file; this connection reads the trial file alone (opening.py).
            raise AccessDenied("This connection has no randomisation attached, so arms cannot be shown; open the "
                               "trial with dashboard.access.opening.open_trial_view.")
        self.banner = blinding_banner(viewer, blinded)
        cut = queries.latest_cut(self._cursor())
        self.cut_id = int(cut["cut_id"])
        self.checksum = str(cut["checksum"])
        # Cached results are keyed by this: the same file, cut and blinding state share answers. The file
        # is the one the connection reads (db_path may be left out); an in-memory database has no name
        # that outlives it, so its view shares nothing.
        file = self._cursor().execute(
            # An unblinded connection queries views in its in-memory catalog: the file is the attached trial's.
            "SELECT path FROM duckdb_databases() WHERE database_name IN (current_database(), 'trial') "
            "ORDER BY path IS NULL, database_name <> current_database() LIMIT 1").fetchone()[0]
        self.cache_key = (file or f"in-memory {uuid.uuid4().hex}", self.cut_id, self.checksum, self.sees_arms)

    def _catalog_has_arms(self) -> bool:
        return "arm" in table_columns(self._cursor(), "subjects")

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        # One connection is shared by Streamlit's threads; each query gets its own cursor (DuckDB docs).
        # A cursor starts in the default catalog, so it is pointed at the trial's (see connect_readonly).
        cursor = self._con.cursor()
        cursor.execute(f'USE "{self._catalog}"')
        return cursor

    def _checked(self, f: SubjectFilter) -> SubjectFilter:
        if f.arm and not self.sees_arms:
            raise AccessDenied("Filtering by arm would unblind this view; remove the arm criterion.")
        return f

    def authorise(self, spec: QuerySpec, args: tuple) -> None:
        """Refuse what this viewer may not ask, on every call of a declared query and before its cached
        answer is read: an arms-only query or an arm criterion from a viewer who may not see arms."""
        if spec.arms_only and not self.sees_arms:
            raise AccessDenied("Comparing arms would unblind this view; blinded views are pooled.")
        for arg in args:
            if isinstance(arg, SubjectFilter):
                self._checked(arg)

    @property
    def group_col(self) -> str | None:
        """The column results are grouped by: 'arm' when arms may be shown, otherwise pooled (None)."""
        return "arm" if self.sees_arms else None

    @metadata
    def study(self) -> dict:
        return queries.study(self._cursor(), self.sees_arms)

    @metadata
    def arms(self) -> list[str]:
        """Arm names in display order (active first), or an empty list for a blinded viewer."""
        return list(self.study()["arms"]) if self.sees_arms else []

    @metadata
    def cut(self) -> dict:
        return queries.latest_cut(self._cursor())

    @metadata
    def cuts(self) -> pd.DataFrame:
        return queries.all_cuts(self._cursor())

    @metadata
    def charter(self) -> Charter | None:
        """The DSMB charter in force for this cut (docs/charter.md), or None when the cut has none."""
        row = queries.charter_row(self._cursor())
        return None if row is None else parse_charter(row["text"], str(row["source"]))

    @metadata
    def charter_record(self) -> dict | None:
        """How this cut's charter was loaded: version, title, sha256, source, loaded_at (UTC); None without one."""
        row = queries.charter_row(self._cursor())
        return None if row is None else {k: v for k, v in row.items() if k != "text"}

    @metadata
    def filter_choices(self) -> dict[str, tuple[str, ...]]:
        return queries.filter_choices(self._cursor(), self.sees_arms)

    @aggregate
    def count_subjects(self, f: SubjectFilter) -> tuple[int, int]:
        return queries.count_subjects(self._cursor(), self._checked(f))

    @patient_level
    def subjects(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.subjects(self._cursor(), self._checked(f), self.sees_arms)

    @patient_level
    def subject_dates(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.subject_dates(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def first_randomized(self, f: SubjectFilter) -> date | None:
        return queries.first_randomized(self._cursor(), self._checked(f))

    @patient_level
    def subject_exits(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.subject_exits(self._cursor(), self._checked(f), self.sees_arms)

    @patient_level
    def meld_trends_of(self, usubjids: tuple[str, ...]) -> pd.DataFrame:
        return queries.meld_trends_of(self._cursor(), usubjids)

    @patient_level
    def lab_rows(self, f: SubjectFilter, paramcds: tuple[str, ...]) -> pd.DataFrame:
        return queries.lab_rows(self._cursor(), self._checked(f), paramcds, self.sees_arms)

    @aggregate
    def lab_visit_summary(self, f: SubjectFilter, paramcd: str, value_col: str) -> pd.DataFrame:
        return lab_aggregates.lab_visit_summary(self._cursor(), self._checked(f), paramcd, value_col, self.sees_arms)

    @patient_level
    def dish_peaks(self, f: SubjectFilter) -> pd.DataFrame:
        return lab_aggregates.dish_peaks(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def lab_box_stats(self, f: SubjectFilter, paramcd: str, value_col: str) -> pd.DataFrame:
        return lab_aggregates.lab_box_stats(self._cursor(), self._checked(f), paramcd, value_col, self.sees_arms)

    @patient_level
    def lab_trajectory_sample(self, f: SubjectFilter, paramcd: str, value_col: str,
                              max_points: int = MAX_POINTS) -> pd.DataFrame:
        return lab_aggregates.lab_trajectory_sample(self._cursor(), self._checked(f), paramcd, value_col, max_points,
                                                    self.sees_arms)

    @aggregate
    def lab_shift_counts(self, f: SubjectFilter, paramcd: str) -> pd.DataFrame:
        return shift_aggregates.lab_shift_counts(self._cursor(), self._checked(f), paramcd, self.sees_arms)

    @aggregate
    def lab_grade_shift_counts(self, f: SubjectFilter, paramcd: str, direction: str) -> pd.DataFrame:
        """Patients per baseline and worst post-baseline CTCAE grade of ``paramcd`` (``direction`` low or high)."""
        return shift_aggregates.lab_grade_shift_counts(self._cursor(), self._checked(f), paramcd, direction,
                                                       self.sees_arms)

    @aggregate
    def lab_state_counts(self, f: SubjectFilter, paramcd: str) -> pd.DataFrame:
        """Patients per state of ``paramcd`` at each visit, the dead kept (domain.death_aware)."""
        return lab_state_aggregates.lab_state_counts(self._cursor(), self._checked(f), state_scale(paramcd),
                                                     self.sees_arms)

    @patient_level(arms_only=True)
    def lab_landmark_rows(self, f: SubjectFilter, paramcd: str, visit_num: int) -> pd.DataFrame:
        """Per patient: ``paramcd`` at baseline and at ``visit_num``, death, transplant and last contact days."""
        return lab_state_aggregates.lab_landmark_rows(self._cursor(), self._checked(f), paramcd, visit_num,
                                                      include_arm=True)

    @aggregate(arms_only=True)
    def lab_comparison_aggregates(self, f: SubjectFilter, paramcd: str, active: str, reference: str) -> pd.DataFrame:
        """Per visit and arm, the sufficient statistics of the ANCOVA and Wilcoxon comparison of ``paramcd``."""
        return comparison_aggregates.lab_comparison_aggregates(self._cursor(), self._checked(f), paramcd, active,
                                                               reference, include_arm=True)

    @patient_level
    def ascites_rows(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.ascites_rows(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def ascites_grade_counts(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.ascites_grade_counts(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def ascites_measure_summaries(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.ascites_measure_summaries(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def ascites_shift_counts(self, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
        return ascites_aggregates.ascites_shift_counts(self._cursor(), self._checked(f), visits, self.sees_arms)

    @aggregate
    def ascites_transition_counts(self, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
        return ascites_aggregates.ascites_transition_counts(self._cursor(), self._checked(f), visits, self.sees_arms)

    @patient_level
    def ascites_resolution_times(self, f: SubjectFilter) -> pd.DataFrame:
        return ascites_aggregates.ascites_resolution_times(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def ascites_visit_states(self, f: SubjectFilter) -> pd.DataFrame:
        """Patients per state (assessed, died, transplanted, left, not assessed, not yet due) at each visit."""
        return ascites_aggregates.ascites_visit_states(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def ascites_state_shift_counts(self, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
        """Patients per baseline grade and state at each of ``visits``, the dead kept."""
        return ascites_aggregates.ascites_state_shift_counts(self._cursor(), self._checked(f), visits, self.sees_arms)

    @aggregate
    def ascites_state_transition_counts(self, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
        """Patients per pair of states between consecutive ``visits``, the dead kept."""
        return ascites_aggregates.ascites_state_transition_counts(self._cursor(), self._checked(f), visits,
                                                                  self.sees_arms)

    @aggregate
    def temperature_summary(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.temperature_summary(self._cursor(), self._checked(f), self.sees_arms)

    @patient_level
    def infusion_rows(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.infusion_rows(self._cursor(), self._checked(f), self.sees_arms)

    @patient_level
    def vital_rows(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.vital_rows(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def fever_counts(self, f: SubjectFilter) -> pd.DataFrame:
        return safety_aggregates.fever_counts(self._cursor(), self._checked(f), FEVER_THRESHOLDS, self.sees_arms)

    @aggregate
    def ae_overview_counts(self, f: SubjectFilter) -> pd.DataFrame:
        return safety_aggregates.ae_overview_counts(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def ae_term_counts(self, f: SubjectFilter) -> pd.DataFrame:
        """Per group, SOC and PT (NULL on the SOC's row): patients selected, patients with an event, events."""
        return safety_aggregates.ae_term_counts(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def ae_exposure_counts(self, f: SubjectFilter) -> pd.DataFrame:
        """Per group and AE category: patients, events, days followed and days at risk to the first event."""
        return safety_aggregates.ae_exposure_counts(self._cursor(), self._checked(f), self.sees_arms)

    @patient_level
    def first_sae_times(self, f: SubjectFilter) -> pd.DataFrame:
        """One row per selected patient: days to the first SAE (event 1) or to the last contact (event 0)."""
        return safety_aggregates.first_sae_times(self._cursor(), self._checked(f), self.sees_arms)

    @patient_level
    def adverse_event_rows(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.adverse_event_rows(self._cursor(), self._checked(f), self.sees_arms)

    @patient_level
    def time_to_event(self, f: SubjectFilter, as_of: date | None = None) -> pd.DataFrame:
        return queries.time_to_event(self._cursor(), self._checked(f), self.sees_arms, as_of)

    @patient_level
    def patient(self, usubjid: str) -> dict[str, pd.DataFrame]:
        return queries.patient(self._cursor(), usubjid, self.sees_arms)

    @metadata
    def visit_schedule(self) -> pd.DataFrame:
        return queries.visit_schedule(self._cursor())

    @aggregate
    def visit_completeness(self, f: SubjectFilter) -> pd.DataFrame:
        return queries.visit_completeness(self._cursor(), self._checked(f))

    @patient_level
    def subject_ids(self, f: SubjectFilter) -> tuple[str, ...]:
        return queries.subject_ids(self._cursor(), self._checked(f))

    @patient_level(depends_on_disk=kept_cuts_on_disk)
    def changes_since_previous_cut(self, f: SubjectFilter) -> CutChanges | None:
        """What is new for the selected patients since the previous kept cut (None for a first cut)."""
        return cut_diff.changes_since_previous_cut(self._cursor(), self.db_path, self._checked(f), self.sees_arms)

    @metadata
    def lab_parameters(self) -> pd.DataFrame:
        return queries.lab_parameters(self._cursor())

    @metadata
    def tte_parameters(self) -> pd.DataFrame:
        return queries.tte_parameters(self._cursor())

    @patient_level
    def imported_tte_rows(self, f: SubjectFilter, paramcd: str) -> pd.DataFrame:
        return queries.imported_tte_rows(self._cursor(), self._checked(f), paramcd, self.sees_arms)

    @metadata(depends_on_disk=kept_cuts_on_disk)
    def earlier_cuts(self) -> pd.DataFrame:
        """Earlier cuts of this database whose kept copy is on disk: cut_id, cut_date, path."""
        cuts = self.cuts()
        earlier = cuts[cuts["cut_id"] < self.cut_id].copy()
        earlier["path"] = [str(kept_cut_path(self.db_path, int(i))) for i in earlier["cut_id"]]
        # A boolean Series, not a list: an empty list would select no columns instead of no rows.
        on_disk = earlier["path"].map(lambda path: Path(path).exists()).astype(bool)
        return earlier.loc[on_disk, ["cut_id", "cut_date", "path"]]

    # --- DSMB report tables (issue 16): aggregates of data/report_queries.py ---------------------------------

    @aggregate
    def report_consort_counts(self, f: SubjectFilter) -> pd.DataFrame:
        """CONSORT counts per group (and the total over arms): randomised, infusions received, statuses."""
        from dashboard.data import report_queries
        return report_queries.consort_counts(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def report_enrolment_counts(self, f: SubjectFilter) -> pd.DataFrame:
        """Patients randomised per site and calendar month (never by arm)."""
        from dashboard.data import report_queries
        return report_queries.enrolment_counts(self._cursor(), self._checked(f))

    @aggregate
    def report_infusion_compliance(self, f: SubjectFilter) -> pd.DataFrame:
        """Per group and scheduled infusion: received, on time, early, late, missed, not due by reason."""
        from dashboard.data import report_queries
        return report_queries.infusion_compliance(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate(arms_only=True)
    def report_dose_summary(self, f: SubjectFilter) -> pd.DataFrame:
        """Per arm and infusion: dose received per kg against the plan (the dose reveals the arm)."""
        from dashboard.data import report_queries
        return report_queries.dose_summary(self._cursor(), self._checked(f), str(self.study()["active_arm"]))

    @aggregate
    def report_eligibility_counts(self, f: SubjectFilter) -> pd.DataFrame:
        """Per group and site: patients whose baseline breaks an entry criterion."""
        from dashboard.data import report_queries
        return report_queries.eligibility_counts(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def report_visit_window_counts(self, f: SubjectFilter) -> pd.DataFrame:
        """Per group and site: patient-visits assessed and those with an assessment outside the visit window."""
        from dashboard.data import report_queries
        return report_queries.visit_window_counts(self._cursor(), self._checked(f), self.sees_arms)

    @aggregate
    def report_baseline_continuous(self, f: SubjectFilter, paramcds: tuple[str, ...]) -> pd.DataFrame:
        """Per group and variable: n, mean, SD, median, quartiles, min, max of the baseline values."""
        from dashboard.data import report_queries
        return report_queries.baseline_continuous(self._cursor(), self._checked(f), self.sees_arms, paramcds)

    @aggregate
    def report_baseline_categorical(self, f: SubjectFilter) -> pd.DataFrame:
        """Per group, variable (sex, etiology, LF type, ascites grade) and category: patients."""
        from dashboard.data import report_queries
        return report_queries.baseline_categorical(self._cursor(), self._checked(f), self.sees_arms)
