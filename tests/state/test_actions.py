"""Meeting actions as the page and the command run them: the meeting of the current cut, numbered copies built
from the meeting's own cut (also after a later cut is published), each audited before it is handed out, the
recommendation steps recorded in the audit trail without their text, and the locked record's PDF."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import pytest

from dashboard.access.audit import EVENT_NAMES
from dashboard.access.opening import open_trial_view
from dashboard.access.viewer import Viewer
from dashboard.data.importers.cuts import kept_cut_path, write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.meetings import Attendee, MeetingRuleError, utc_label
from dashboard.errors import AccessDenied
from dashboard.state import StateStore, actions
from dashboard.state.record_pdf import record_html, record_pdf

DSMB = Viewer("dsmb", "dsmb", "DSMB member")
DSMB2 = Viewer("dsmb2", "dsmb", "DSMB member 2")
MEMBERS = (Attendee("dsmb", "DSMB member"), Attendee("dsmb2", "DSMB member 2"))


@dataclass(frozen=True)
class FakeMeeting:
    meeting_id: int
    title: str
    meeting_on: date
    cut_id: int
    cut_date: date
    attendees: tuple


@dataclass(frozen=True)
class FakeCopy:
    number: int
    recipient: str


def fake_engine(calls: list):
    def build_report(view, kind, *, meeting, copy, generated=None):
        calls.append((view.cut_id, view.checksum, kind, meeting, copy))
        return f"%PDF fake {kind} copy {copy.number} for {copy.recipient} cut {view.cut_id}".encode()

    return SimpleNamespace(build_report=build_report, ReportMeeting=FakeMeeting, ReportCopy=FakeCopy)


class Trail:
    def __init__(self, fail_on: str | None = None):
        self.events: list[tuple[str, dict]] = []
        self.fail_on = fail_on

    def __call__(self, name, **properties):
        if name == self.fail_on:
            raise OSError("audit trail not writable")
        self.events.append((name, properties))


@pytest.fixture
def store(tmp_path):
    return StateStore(tmp_path / "state.sqlite")


@pytest.fixture
def two_cuts(tmp_path):
    """A trial database with two published cuts (cut 1 kept beside it)."""
    db = tmp_path / "trial.duckdb"
    for day in (date(2026, 1, 31), date(2026, 4, 30)):
        write_cut(simulate_trial(SimulationSettings(patients=14, cut_date=day)), db, source=f"cut {day}")
    return db


def test_the_meeting_records_the_current_cut_and_its_charter(store, trial_db):
    view = open_trial_view(DSMB, trial_db)
    trail = Trail()
    meeting = actions.create_meeting(store, view, trail, attendees=MEMBERS, all_dsmb=MEMBERS)
    cut = view.cut()
    assert (meeting.cut.cut_id, meeting.cut.checksum) == (view.cut_id, view.checksum)
    assert meeting.cut.cut_date == actions._as_date(cut["cut_date"])
    assert meeting.cut.charter_sha256 == view.charter_record()["sha256"] and meeting.cut.charter_sha256
    assert meeting.title == f"DSMB meeting, data cut {meeting.cut.cut_date:%Y-%m-%d}"
    assert store.meeting_for_cut(actions.cut_ref(view)) == meeting
    assert meeting.created_by == "dsmb"


def test_a_blinded_viewer_cannot_create_a_meeting(store, trial_db):
    with pytest.raises(AccessDenied):
        actions.create_meeting(store, open_trial_view(Viewer("i", "investigator"), trial_db), Trail(),
                               attendees=MEMBERS, all_dsmb=MEMBERS)


def test_copies_are_numbered_built_for_the_recipient_and_audited(store, trial_db):
    view = open_trial_view(DSMB, trial_db)
    calls, trail = [], Trail()
    meeting = actions.create_meeting(store, view, trail, attendees=MEMBERS, all_dsmb=MEMBERS)
    first = actions.issue_copy(store, meeting, "closed", view, trail, engine=fake_engine(calls))
    second = actions.issue_copy(store, meeting, "closed", view, trail, engine=fake_engine(calls), recipient="dsmb2")
    opened = actions.issue_copy(store, meeting, "open", view, trail, engine=fake_engine(calls))
    assert [c.record.number for c in (first, second, opened)] == [1, 2, 1]
    assert [(c[2], c[4]) for c in calls] == [("closed", FakeCopy(1, "dsmb")), ("closed", FakeCopy(2, "dsmb2")),
                                             ("open", FakeCopy(1, "dsmb"))]
    assert calls[0][3] == FakeMeeting(meeting.meeting_id, meeting.title, meeting.meeting_on, meeting.cut.cut_id,
                                      meeting.cut.cut_date, ("DSMB member (dsmb)", "DSMB member 2 (dsmb2)"))
    exports = [p for name, p in trail.events if name == "export"]
    assert [(e["kind"], e["copy"], e["recipient"]) for e in exports] == [("closed", 1, "dsmb"), ("closed", 2, "dsmb2"),
                                                                         ("open", 1, "dsmb")]
    assert all(c.sha256 for c in store.copies(meeting.meeting_id))
    assert first.filename.endswith("_copy1.pdf") and "closed" in first.filename


def test_a_copy_whose_audit_event_cannot_be_written_is_not_handed_out(store, trial_db):
    view = open_trial_view(DSMB, trial_db)
    meeting = actions.create_meeting(store, view, Trail(), attendees=MEMBERS, all_dsmb=MEMBERS)
    with pytest.raises(OSError):
        actions.issue_copy(store, meeting, "closed", view, Trail(fail_on="export"), engine=fake_engine([]))
    (copy,) = store.copies(meeting.meeting_id)
    assert copy.number == 1 and copy.sha256 is None  # number used, nothing delivered


def test_a_blinded_viewer_gets_no_closed_copy(store, trial_db):
    meeting = actions.create_meeting(store, open_trial_view(DSMB, trial_db), Trail(), attendees=MEMBERS,
                                     all_dsmb=MEMBERS)
    with pytest.raises(AccessDenied):
        actions.issue_copy(store, meeting, "closed", open_trial_view(Viewer("i", "investigator"), trial_db), Trail(),
                           engine=fake_engine([]))
    assert store.copies(meeting.meeting_id) == []


def test_reports_are_built_from_the_meetings_cut_after_a_later_cut_is_published(store, two_cuts):
    view1 = open_trial_view(DSMB, two_cuts)
    assert view1.cut_id == 2
    # The meeting of cut 1, created while cut 1 was current, is simulated with a view of the kept copy.
    kept1 = open_trial_view(DSMB, kept_cut_path(two_cuts, 1))
    meeting1 = actions.create_meeting(store, kept1, Trail(), attendees=MEMBERS, all_dsmb=MEMBERS)
    current = open_trial_view(DSMB, two_cuts)
    view = actions.view_of_meeting_cut(meeting1, current, lambda p: open_trial_view(DSMB, p))
    assert (view.cut_id, view.checksum) == (1, meeting1.cut.checksum) and view.checksum != current.checksum
    calls = []
    actions.issue_copy(store, meeting1, "closed", view, Trail(), engine=fake_engine(calls))
    assert calls[0][:2] == (1, meeting1.cut.checksum)
    with pytest.raises(actions.CutUnavailable, match="only"):
        actions.issue_copy(store, meeting1, "open", current, Trail(), engine=fake_engine(calls))
    meeting2 = actions.create_meeting(store, current, Trail(), attendees=MEMBERS, all_dsmb=MEMBERS)
    assert actions.view_of_meeting_cut(meeting2, current, lambda p: pytest.fail("opened a kept copy")) is current


def test_a_missing_kept_cut_is_reported(store, two_cuts):
    meeting1 = actions.create_meeting(store, open_trial_view(DSMB, kept_cut_path(two_cuts, 1)), Trail(),
                                      attendees=MEMBERS, all_dsmb=MEMBERS)
    kept_cut_path(two_cuts, 1).unlink()
    with pytest.raises(actions.CutUnavailable, match="missing"):
        actions.view_of_meeting_cut(meeting1, open_trial_view(DSMB, two_cuts), lambda p: open_trial_view(DSMB, p))


def test_recommendation_steps_keep_their_text_out_of_the_audit_trail(store, trial_db):
    assert actions.STEP_EVENT in EVENT_NAMES
    trail = Trail()
    meeting = actions.create_meeting(store, open_trial_view(DSMB, trial_db), trail, attendees=MEMBERS,
                                     all_dsmb=MEMBERS)
    rec = actions.record_recommendation(store, meeting, DSMB, trail, "stop_for_harm", "Secret: 5 deaths on active.")
    actions.confirm(store, rec, DSMB, trail)
    locked = actions.confirm(store, rec, DSMB2, trail)
    actions.save_minutes(store, meeting, "closed", "Closed words", DSMB, trail)
    assert locked.locked
    steps = [p["step"] for name, p in trail.events if name == actions.STEP_EVENT]
    assert steps == ["meeting_created", "recommendation_recorded", "recommendation_confirmed",
                     "recommendation_confirmed", "recommendation_locked", "minutes_saved"]
    assert "Secret" not in repr(trail.events) and "Closed words" not in repr(trail.events)


def test_the_locked_record_exports_with_names_and_times(store, trial_db, tmp_path):
    trail = Trail()
    meeting = actions.create_meeting(store, open_trial_view(DSMB, trial_db), trail, attendees=MEMBERS,
                                     all_dsmb=MEMBERS)
    rec = actions.record_recommendation(store, meeting, DSMB, trail, "continue_with_modification",
                                        "Add a 24 h temperature check after each infusion.")
    with pytest.raises(MeetingRuleError, match="not locked"):
        actions.export_record(store, meeting, rec, DSMB, trail)
    actions.confirm(store, rec, DSMB2, trail)
    locked = actions.confirm(store, rec, DSMB, trail)
    pdf = actions.export_record(store, meeting, locked, DSMB, trail)
    assert pdf.startswith(b"%PDF") and trail.events[-1][0] == "export"
    out = tmp_path / "record.pdf"
    out.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("DSMB recommendation", "Continue with modification", "24 h temperature check",
                     "DSMB member (dsmb)", "DSMB member 2 (dsmb2)", utc_label(locked.confirmations[0].confirmed_at),
                     utc_label(locked.confirmations[1].confirmed_at), "2 of 2 attendees", meeting.cut.checksum[:20]):
        assert expected in " ".join(text.split()) or expected in text, expected


def test_a_correction_prints_the_record_it_corrects(store, trial_db):
    trail = Trail()
    meeting = actions.create_meeting(store, open_trial_view(DSMB, trial_db), trail, attendees=MEMBERS,
                                     all_dsmb=MEMBERS)
    rec = actions.record_recommendation(store, meeting, DSMB, trail, "continue", "Fine.")
    actions.confirm(store, rec, DSMB, trail)
    old = actions.confirm(store, rec, DSMB2, trail)
    fix = actions.record_recommendation(store, meeting, DSMB2, trail, "pause_enrolment", "Wrong decision typed.",
                                        corrects=old.recommendation_id)
    html = record_html(meeting, fix, [store.recommendation(old.recommendation_id)])
    assert f"Corrects</th><td>record #{old.recommendation_id}" in html and "Records this one corrects" in html
    assert "Corrected by" in record_html(meeting, store.recommendation(old.recommendation_id))
    assert record_pdf(meeting, fix).startswith(b"%PDF")
