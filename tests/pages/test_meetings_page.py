"""/meetings with AppTest: a DSMB member creates the meeting of the current cut with two attendees, records the
recommendation, both confirm with their own session and it shows locked; a correction is linked; minutes of the
two sessions are kept apart. Blinded roles cannot open the page."""

from __future__ import annotations

import pytest

from dashboard.access.users import UserStore
from dashboard.access.viewer import Viewer
from dashboard.state import StateStore
from dashboard.ui.navigation import page_paths
from tests.pages.apptest_helpers import run_page

PAGE = "pages/meetings.py"
DSMB2 = Viewer("dsmb2", "dsmb", "DSMB member 2 (demo)")


@pytest.fixture
def meetings_env(app_env, monkeypatch):
    monkeypatch.setenv("DASHBOARD_STATE", str(app_env / "state.sqlite"))
    UserStore(app_env / "users.toml").ensure_demo_accounts()
    return app_env


def _button(at, label):
    matches = [b for b in at.button if b.label.startswith(label)]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[0]


def _text(at) -> str:
    return " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.success, *at.info, *at.error))


def _create_and_record(at):
    at.multiselect[0].set_value(["dsmb", "dsmb2"])
    _button(at, "Create meeting").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.radio[0].set_value("continue_with_modification")
    at.text_area[0].set_value("Continue; add a temperature check 24 h after each infusion.")
    _button(at, "Record recommendation").click()
    return at.run()


def test_the_dsmb_creates_the_meeting_records_and_both_members_confirm(meetings_env):
    at = run_page(PAGE, "dsmb")
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input[0].value.startswith("DSMB meeting, data cut ")
    assert set(at.multiselect[0].options) >= {"DSMB member (demo) (dsmb)", "DSMB member 2 (demo) (dsmb2)"}
    at = _create_and_record(at)
    assert not at.exception, [e.value for e in at.exception]
    assert "Continue with modification" in _text(at) and "awaiting dsmb, dsmb2" in _text(at)
    assert [b.label for b in at.button if b.label.startswith("Confirm as")] == ["Confirm as DSMB member (DSMB)"]

    _button(at, "Confirm as").click()
    at.run()
    assert "awaiting dsmb2" in _text(at) and "You have confirmed" in _text(at)
    assert not [b for b in at.button if b.label.startswith("Confirm as")]

    at.session_state["viewer"] = DSMB2  # the second member's own login
    at.run()
    assert [b.label for b in at.button if b.label.startswith("Confirm as")] == ["Confirm as DSMB member 2 (demo) (DSMB)"]
    _button(at, "Confirm as").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Confirmed; the record is now locked." in _text(at) and "confirmed by all 2 attendees" in _text(at)
    store = StateStore(meetings_env / "state.sqlite")
    (meeting,) = store.meetings()
    (rec,) = store.recommendations(meeting.meeting_id)
    assert rec.locked and rec.confirmed_by == ("dsmb", "dsmb2")
    assert not [b for b in at.button if b.label.startswith("Confirm as")]
    assert [e.step for e in store.events(meeting.meeting_id)] == [
        "meeting_created", "recommendation_recorded", "recommendation_confirmed", "recommendation_confirmed",
        "recommendation_locked"]


def test_a_locked_record_is_corrected_by_a_linked_record(meetings_env):
    at = _create_and_record(run_page(PAGE, "dsmb"))
    store = StateStore(meetings_env / "state.sqlite")
    (meeting,) = store.meetings()
    (rec,) = store.recommendations(meeting.meeting_id)
    store.confirm(rec.recommendation_id, Viewer("dsmb", "dsmb"))
    store.confirm(rec.recommendation_id, DSMB2)
    at.run()
    assert "Record a correction" in [e.label for e in at.expander]
    at.radio[0].set_value("pause_enrolment")
    at.text_area[0].set_value("The board agreed to pause enrolment; 'continue' was recorded by mistake.")
    _button(at, "Record correction").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    fix = store.recommendations(meeting.meeting_id)[-1]
    assert fix.corrects_id == rec.recommendation_id and fix.decision == "pause_enrolment" and not fix.locked
    assert "Pause enrolment" in _text(at) and f"corrects record #{rec.recommendation_id}" in _text(at)
    assert any(e.label.startswith("Corrected records (1)") for e in at.expander)


def test_open_and_closed_minutes_are_saved_apart(meetings_env):
    at = _create_and_record(run_page(PAGE, "dsmb"))
    minutes = [t for t in at.text_area if t.label.startswith(("Open session", "Closed session"))]
    minutes[0].set_value("Open: enrolment 70 of 70.")
    minutes[1].set_value("Closed: deaths by arm reviewed.")
    forms = [b for b in at.button if b.label == "Save minutes"]
    forms[1].click()
    at.run()
    store = StateStore(meetings_env / "state.sqlite")
    (meeting,) = store.meetings()
    dsmb = Viewer("dsmb", "dsmb")
    assert store.minutes(meeting.meeting_id, "closed", reader=dsmb).text == "Closed: deaths by arm reviewed."
    assert store.minutes(meeting.meeting_id, "open", reader=dsmb) is None


def test_a_member_who_did_not_attend_cannot_record_or_confirm(meetings_env):
    at = run_page(PAGE, "dsmb")
    at.multiselect[0].set_value(["dsmb2"])
    _button(at, "Create meeting").click()
    at.run()
    assert not at.exception
    assert not [b for b in at.button if b.label.startswith(("Record recommendation", "Confirm as"))]
    assert "an attending member records it" in _text(at)


@pytest.mark.parametrize("role", ["investigator", "data_manager"])
def test_blinded_roles_cannot_open_meetings(meetings_env, role):
    viewer = Viewer("someone", role)
    assert "meetings" not in page_paths(viewer)
    with pytest.raises(ValueError):  # not registered in their navigation: AppTest cannot even switch to it
        run_page(PAGE, role)

