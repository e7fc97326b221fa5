"""Roles, blinding state and the TrialView rules around them (every query's blinding: test_every_query_is_blinded)."""

import duckdb
import pytest

from dashboard.access.opening import open_trial_view
from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import BLINDED_BANNER, UNBLINDED_BANNER, Viewer, allowed, blinding_banner, sees_arms
from dashboard.data.database import randomization_path
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import AccessDenied
from tests.conftest import UNUSUAL_ARMS, connect_unblinded

DSMB = Viewer("d", "dsmb")
INVESTIGATOR = Viewer("i", "investigator")
DATA_MANAGER = Viewer("m", "data_manager")


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
    with connect_unblinded(unusual_arms_db) as c:
        yield c


def test_a_blinded_view_is_pooled(con):
    # Every query's results and SQL are checked for arms in test_every_query_is_blinded.py.
    view = TrialView(con, INVESTIGATOR)
    assert not view.sees_arms and view.group_col is None and view.arms() == []
    assert TrialView(con, DSMB).group_col == "arm"


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
    randomization_path(copy).write_bytes(randomization_path(unusual_arms_db).read_bytes())
    with duckdb.connect(str(copy)) as c:
        c.execute("UPDATE study SET blinded = false")
    view = open_trial_view(INVESTIGATOR, copy)
    assert view.sees_arms and set(view.subjects(SubjectFilter())["arm"]) == set(UNUSUAL_ARMS)
