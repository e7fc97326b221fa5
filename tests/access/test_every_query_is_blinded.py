"""Blinding below the UI, for every query TrialView declares (access/query_registry.py's QUERIES).

Each registered query is called with the arguments built here for the unusual-arms trial. For a blinded
viewer its result (frames, dicts, tuples, result objects, all serialised) holds neither arm name nor an
arm-revealing column, and the SQL it sends reads no arm-revealing column (DuckDB's plan of each
statement, so ``SELECT *`` counts). The same checks find the arms in a DSMB viewer's results and SQL, so
they can fail. A registered query without an argument builder here fails the suite: none can escape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest

from dashboard.access.query_registry import QUERIES
from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.cache import RESULTS
from dashboard.data.database import connect_readonly
from dashboard.data.importers.cuts import write_cut
from dashboard.data.schema import ARM_REVEALING_COLUMNS, RESTORED_FROM, TABLES
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import AccessDenied
from tests.access.sql_recording import ViewSqlRecorder, columns_read
from tests.conftest import UNUSUAL_ARMS, connect_unblinded

DSMB = Viewer("d", "dsmb")
BLINDED = (Viewer("i", "investigator"), Viewer("m", "data_manager"))
REVEALING = {c for columns in ARM_REVEALING_COLUMNS.values() for c in columns}
# Where a plan reads them: the randomisation tables an unblinded connection joins (a blinded one has none).
READ_FROM = {source: ARM_REVEALING_COLUMNS[table] for table, (source, _) in RESTORED_FROM.items()}
EVERYONE = SubjectFilter()


def _nothing(view: TrialView) -> tuple:
    return ()


def _everyone(view: TrialView) -> tuple:
    return (EVERYONE,)


def _first_visits(view: TrialView) -> tuple:
    return (EVERYONE, tuple(view.visit_schedule()["visit"].head(4)))


# Every registered query -> its arguments on the unusual-arms trial.
ARGUMENTS: dict[str, Callable[[TrialView], tuple]] = {
    **dict.fromkeys(("study", "arms", "cut", "cuts", "earlier_cuts", "filter_choices", "visit_schedule",
                     "lab_parameters", "tte_parameters", "charter", "charter_record"), _nothing),
    **dict.fromkeys(("count_subjects", "subjects", "subject_dates", "first_randomized", "subject_exits", "dish_peaks",
                     "ascites_rows", "ascites_grade_counts", "ascites_measure_summaries", "ascites_resolution_times",
                     "temperature_summary", "infusion_rows", "vital_rows", "fever_counts", "ae_overview_counts",
                     "adverse_event_rows", "time_to_event", "visit_completeness", "subject_ids",
                     "changes_since_previous_cut"), _everyone),
    "ascites_shift_counts": _first_visits,
    "ascites_transition_counts": _first_visits,
    "ascites_visit_states": _everyone,
    "ascites_state_shift_counts": _first_visits,
    "ascites_state_transition_counts": _first_visits,
    "meld_trends_of": lambda view: (view.subject_ids(EVERYONE)[:5],),
    "lab_rows": lambda view: (EVERYONE, ("ALB", "MELD")),
    "lab_visit_summary": lambda view: (EVERYONE, "MELD", "chg"),
    "lab_box_stats": lambda view: (EVERYONE, "MELD", "value"),
    "lab_trajectory_sample": lambda view: (EVERYONE, "MELD", "value"),
    "lab_shift_counts": lambda view: (EVERYONE, "ALT"),
    "lab_state_counts": lambda view: (EVERYONE, "MELD"),
    "lab_grade_shift_counts": lambda view: (EVERYONE, "ALB", "low"),
    "lab_landmark_rows": lambda view: (EVERYONE, "MELD", 5),
    "lab_comparison_aggregates": lambda view: (EVERYONE, "MELD", *UNUSUAL_ARMS),
    "patient": lambda view: (view.subject_ids(EVERYONE)[0],),
    "imported_tte_rows": lambda view: (EVERYONE, "OS"),
    # The DSMB report tables (analyses/report.py).
    **dict.fromkeys(("report_consort_counts", "report_enrolment_counts", "report_infusion_compliance",
                     "report_dose_summary", "report_eligibility_counts", "report_visit_window_counts",
                     "report_baseline_categorical"), _everyone),
    "report_baseline_continuous": lambda view: (EVERYONE, ("BILI", "INR", "SODIUM")),
    # The safety-signal view (issue 17): incidence per PT and SOC, EAIR exposure, time to first SAE.
    **dict.fromkeys(("ae_term_counts", "ae_exposure_counts", "first_sae_times"), _everyone),
}
# Patient-level and aggregate queries that never carry the arm, even for the DSMB (counts, ids, dates);
# every other one must show the DSMB the arm names. Metadata that names the arms for the DSMB:
POOLED_FOR_EVERYONE = {"count_subjects", "first_randomized", "subject_ids", "meld_trends_of", "visit_completeness",
                       "report_enrolment_counts"}
ARM_METADATA = {"study", "arms", "filter_choices"}


def _imported_os(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """ADTTE-like overall survival rows, so imported_tte_rows and tte_parameters have something to show."""
    s = tables["subjects"]
    end = s["death_on"].fillna(s["last_contact_on"])
    return pd.DataFrame({"usubjid": s["usubjid"], "paramcd": "OS", "param": "Overall survival",
                         "time_days": (pd.to_datetime(end) - pd.to_datetime(s["day1_on"])).dt.days + 1.0,
                         "event": s["death_on"].notna().astype(int), "censor_reason": None})


@pytest.fixture(scope="module")
def trial(unusual_arms_db, tmp_path_factory):
    """The unusual-arms trial as a second cut (with imported OS rows) after a kept earlier cut, so the
    cut comparisons have rows too: (database path, connection)."""
    db = tmp_path_factory.mktemp("two_cuts") / "trial.duckdb"
    write_cut(simulate_trial(SimulationSettings(arms=UNUSUAL_ARMS, seed=7, cut_date=date(2025, 6, 30))), db,
              source="earlier cut")
    with connect_unblinded(unusual_arms_db) as con:
        tables = {t: con.execute(f"SELECT * FROM {t}").df() for t in TABLES if t not in ("data_cuts", "time_to_event")}
    write_cut({**tables, "time_to_event": _imported_os(tables)}, db, source="unusual arms trial")
    # As the app opens them: a blinded viewer's connection has no randomisation attached, the DSMB's has.
    connections = {False: connect_readonly(db), True: connect_unblinded(db)}
    yield db, connections
    for con in connections.values():
        con.close()


def _run(trial, viewer: Viewer, name: str):
    """(result, arm-revealing (table, column) pairs the SQL read), from an empty cache so SQL is sent."""
    db, connections = trial
    recorder = ViewSqlRecorder(connections[viewer.role == "dsmb"])
    view = TrialView(recorder, viewer, db)
    args = ARGUMENTS[name](view)
    RESULTS.clear()
    recorder.statements.clear()
    result = getattr(view, name)(*args)
    return result, columns_read(recorder.statements, READ_FROM)


def _parts(result):
    """Every value inside a result: frames, dict keys and values, sequence items, dataclass fields."""
    yield result
    if isinstance(result, dict):
        for key, value in result.items():
            yield key
            yield from _parts(value)
    elif isinstance(result, (list, tuple)):
        for value in result:
            yield from _parts(value)
    elif dataclasses.is_dataclass(result):
        for field in dataclasses.fields(result):
            yield from _parts(getattr(result, field.name))


def _text(result) -> str:
    return " ".join(part.to_csv() + " ".join(map(str, part.columns)) if isinstance(part, pd.DataFrame) else repr(part)
                    for part in _parts(result))


def _columns(result) -> set[str]:
    names = set()
    for part in _parts(result):
        names |= set(map(str, part.columns)) if isinstance(part, pd.DataFrame) else set()
        names |= set(map(str, part)) if isinstance(part, dict) else set()
    return names


def test_every_registered_query_has_an_argument_builder():
    missing, stale = set(QUERIES) - set(ARGUMENTS), set(ARGUMENTS) - set(QUERIES)
    assert not missing, f"add argument builders for {sorted(missing)} to ARGUMENTS, so their blinding is tested"
    assert not stale, f"{sorted(stale)} are not registered queries any more"
    assert POOLED_FOR_EVERYONE | ARM_METADATA <= set(QUERIES)


def test_every_public_trial_view_method_is_a_declared_query():
    public = {name for name, member in vars(TrialView).items() if callable(member) and not name.startswith("_")}
    assert public - {"authorise"} == set(QUERIES)


@pytest.mark.parametrize("viewer", BLINDED, ids=lambda v: v.role)
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_a_blinded_viewer_never_receives_nor_reads_the_arm(trial, viewer, name):
    if QUERIES[name].arms_only:
        with pytest.raises(AccessDenied, match="unblind"):
            _run(trial, viewer, name)
        return
    result, read = _run(trial, viewer, name)
    text = _text(result)
    assert not [arm for arm in UNUSUAL_ARMS if arm in text], f"{name} returns an arm name"
    assert not REVEALING & _columns(result), f"{name} returns an arm-revealing column"
    assert not read, f"{name} reads {sorted(read)} for a blinded viewer"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_the_same_checks_find_the_arms_for_the_dsmb_so_they_can_fail(trial, name):
    result, read = _run(trial, DSMB, name)
    shown = {arm for arm in UNUSUAL_ARMS if arm in _text(result)}
    if name in ARM_METADATA or (QUERIES[name].kind != "metadata" and name not in POOLED_FOR_EVERYONE):
        # One patient's record names that patient's arm only.
        assert shown == set(UNUSUAL_ARMS) or (name == "patient" and shown), f"{name} does not show the DSMB the arms"
        assert read, f"{name} reads no arm-revealing column for the DSMB"
    else:
        assert not shown and not read, f"{name} carries the arm: remove it from POOLED_FOR_EVERYONE"


@pytest.mark.parametrize("name", sorted(POOLED_FOR_EVERYONE))
def test_pooled_queries_answer_every_viewer_alike(trial, name):
    assert _text(_run(trial, DSMB, name)[0]) == _text(_run(trial, BLINDED[0], name)[0])
