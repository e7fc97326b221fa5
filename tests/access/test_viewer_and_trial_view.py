"""Blinding below the UI: a blinded viewer's TrialView never returns arm-revealing data."""

import duckdb
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import BLINDED_BANNER, UNBLINDED_BANNER, Viewer, allowed, blinding_banner, sees_arms
from dashboard.data.schema import ARM_REVEALING_COLUMNS
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import AccessDenied
from tests.conftest import UNUSUAL_ARMS

DSMB = Viewer("d", "dsmb")
INVESTIGATOR = Viewer("i", "investigator")
DATA_MANAGER = Viewer("m", "data_manager")
ALL_COLUMNS_REVEALING = {c for cols in ARM_REVEALING_COLUMNS.values() for c in cols}


@pytest.mark.parametrize("viewer, trial_blinded, expected", [
    (DSMB, True, True), (INVESTIGATOR, True, False), (DATA_MANAGER, True, False),
    (DSMB, False, True), (INVESTIGATOR, False, True), (DATA_MANAGER, False, True),
])
def test_only_the_dsmb_sees_arms_while_the_trial_is_blinded(viewer, trial_blinded, expected):
    assert sees_arms(viewer, trial_blinded) is expected
    assert blinding_banner(viewer, trial_blinded) == (BLINDED_BANNER if not expected else
                                                      UNBLINDED_BANNER if trial_blinded else "UNBLINDED: trial unblinded")


def test_only_data_managers_may_import_or_read_the_audit_trail():
    assert [allowed(v, "import_data") for v in (DSMB, INVESTIGATOR, DATA_MANAGER)] == [False, False, True]
    assert [allowed(v, "view_audit") for v in (DSMB, INVESTIGATOR, DATA_MANAGER)] == [False, False, True]
    assert not allowed(DSMB, "no_such_action")


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="role"):
        Viewer("x", "sponsor")


@pytest.fixture(scope="module")
def con(unusual_arms_db):
    with duckdb.connect(str(unusual_arms_db), read_only=True) as c:
        yield c


def _every_result(view: TrialView):
    f = SubjectFilter()
    patient_id = view.subjects(f)["usubjid"].iloc[0]
    yield "study", view.study()
    yield "filter_choices", view.filter_choices()
    for name in ("subjects", "subject_dates", "fever_counts", "ae_overview_counts", "lab_rows", "ascites_rows",
                 "ascites_resolution_times", "subject_exits",
                 "infusion_rows", "vital_rows", "adverse_event_rows",
                 "time_to_event", "visit_completeness"):
        args = (f, ("ALB", "MELD")) if name == "lab_rows" else (f,)
        yield name, getattr(view, name)(*args)
    yield "lab_visit_summary", view.lab_visit_summary(f, "MELD", "chg")
    yield "ascites_grade_counts", view.ascites_grade_counts(f)
    yield "ascites_measure_summaries", view.ascites_measure_summaries(f)
    yield "temperature_summary", view.temperature_summary(f)
    for table, df in view.patient(patient_id).items():
        yield f"patient.{table}", df


def _text(result) -> str:
    if hasattr(result, "to_csv"):
        return result.to_csv() + " ".join(map(str, result.columns))
    return repr(result)


def test_blinded_investigator_never_receives_arm_names_or_columns(con):
    view = TrialView(con, INVESTIGATOR)
    assert not view.sees_arms and view.group_col is None and view.arms() == []
    for name, result in _every_result(view):
        text = _text(result)
        assert not any(arm in text for arm in UNUSUAL_ARMS), f"{name} leaks an arm name"
        if hasattr(result, "columns"):
            assert not ALL_COLUMNS_REVEALING & set(result.columns), f"{name} returns an arm-revealing column"


def test_the_same_check_finds_arms_for_the_dsmb_so_it_can_fail(con):
    view = TrialView(con, DSMB)
    leaked = {name for name, result in _every_result(view) if any(arm in _text(result) for arm in UNUSUAL_ARMS)}
    assert {"study", "subjects", "lab_rows", "infusion_rows", "patient.subject"} <= leaked


def test_an_arm_criterion_from_a_blinded_viewer_is_refused(con):
    view = TrialView(con, INVESTIGATOR)
    with pytest.raises(AccessDenied, match="unblind"):
        view.subjects(SubjectFilter(arm=(UNUSUAL_ARMS[0],)))


def test_a_blinded_viewer_cannot_ask_for_an_arm_comparison(con):
    view = TrialView(con, INVESTIGATOR)
    with pytest.raises(AccessDenied, match="unblind"):
        view.lab_comparison_aggregates(SubjectFilter(), "MELD", *UNUSUAL_ARMS)
    by_arm = TrialView(con, DSMB).lab_comparison_aggregates(SubjectFilter(), "MELD", *UNUSUAL_ARMS)
    assert set(by_arm["group"]) == set(UNUSUAL_ARMS)


def test_dsmb_arm_filter_selects_one_arm(con):
    view = TrialView(con, DSMB)
    rows = view.subjects(SubjectFilter(arm=(UNUSUAL_ARMS[1],)))
    assert len(rows) == 20 and set(rows["arm"]) == {UNUSUAL_ARMS[1]}


def test_cache_keys_differ_between_blinded_and_unblinded_viewers(con):
    assert TrialView(con, DSMB).cache_key != TrialView(con, INVESTIGATOR).cache_key
    assert TrialView(con, INVESTIGATOR).cache_key == TrialView(con, DATA_MANAGER).cache_key


def test_every_role_sees_arms_once_the_trial_is_unblinded(unusual_arms_db, tmp_path):
    copy = tmp_path / "unblinded.duckdb"
    copy.write_bytes(unusual_arms_db.read_bytes())
    with duckdb.connect(str(copy)) as c:
        c.execute("UPDATE study SET blinded = false")
        view = TrialView(c, INVESTIGATOR)
        assert view.sees_arms and set(view.subjects(SubjectFilter())["arm"]) == set(UNUSUAL_ARMS)
