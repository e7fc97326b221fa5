"""Contract: every registered page x every role renders without exception; blinded roles see no arm."""

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access.viewer import PERMISSIONS
from dashboard.ui.navigation import PAGES
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import APP, ROLE_VIEWERS, run_page, sent_bytes

PAGE_ROLES = [(p, role) for p in PAGES for role in ("dsmb", "investigator", "data_manager")
              if role in PERMISSIONS[p.action]]


def _params(page, trial_db_path) -> dict:
    if page.url_path != "patient":
        return {}
    import duckdb

    with duckdb.connect(str(trial_db_path), read_only=True) as con:
        return {"id": con.execute("SELECT min(usubjid) FROM subjects").fetchone()[0]}


@pytest.mark.parametrize("page, role", PAGE_ROLES, ids=[f"{p.url_path}-{r}" for p, r in PAGE_ROLES])
def test_page_renders_for_role_without_exception(app_env, trial_db, page, role):
    at = run_page(page.file, role, _params(page, trial_db))
    assert not at.exception, [e.value for e in at.exception]
    banner = " ".join(m.value for m in at.markdown)
    words = "UNBLINDED: DSMB closed session" if role == "dsmb" else "BLINDED: pooled data"
    assert words in banner and ROLE_VIEWERS[role].label in banner


@pytest.fixture
def unusual_env(app_env, monkeypatch, unusual_arms_db):
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    return unusual_arms_db


BLINDED = [(p, role) for p, role in PAGE_ROLES if role != "dsmb"]


@pytest.mark.parametrize("page, role", BLINDED, ids=[f"{p.url_path}-{r}" for p, r in BLINDED])
def test_blinded_roles_receive_no_arm_name_on_any_page(unusual_env, page, role):
    at = run_page(page.file, role, _params(page, unusual_env))
    assert not at.exception
    sent = sent_bytes(at)
    for arm in UNUSUAL_ARMS:
        assert arm.encode() not in sent, f"{page.url_path} sent arm name {arm!r} to a {role}"


def test_the_leak_detector_finds_arm_names_sent_to_the_dsmb(unusual_env):
    sent = sent_bytes(run_page("pages/overview.py", "dsmb"))
    assert all(arm.encode() in sent for arm in UNUSUAL_ARMS)


@pytest.mark.parametrize("role", ["investigator", "data_manager"])
def test_blinded_frame_and_sidebar_carry_no_arm_name(unusual_env, role):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["viewer"] = ROLE_VIEWERS[role]
    at.run()
    assert not at.exception
    assert not any(arm.encode() in sent_bytes(at) for arm in UNUSUAL_ARMS)
    assert "Arm" not in [w.label for w in at.sidebar.multiselect]
