"""The state store: migrations applied once and idempotent, WAL mode, meetings and numbered report copies,
the recommendation locked by the last attendee's confirmation and then unchangeable (by the store and, through
the triggers, by raw SQL), corrections linked to what they correct, minutes per session, events per step."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date

import pytest

from dashboard.access.viewer import Viewer
from dashboard.domain.meetings import Attendee, CutRef, LockedRecord, MeetingRuleError
from dashboard.errors import AccessDenied
from dashboard.state import StateStore, StateStoreError
from dashboard.state.migrations import LATEST, MIGRATIONS, Migration

CUT = CutRef("UCMSC-LF-302", 1, date(2026, 3, 1), "abc123", "charter-sha")
DSMB_USERS = ("dsmb", "dsmb2", "dsmb3")
DSMB = Viewer("dsmb", "dsmb", "DSMB member")
DSMB2 = Viewer("dsmb2", "dsmb", "DSMB member 2")
DSMB3 = Viewer("dsmb3", "dsmb", "DSMB member 3")
INVESTIGATOR = Viewer("investigator", "investigator")


@pytest.fixture
def store(tmp_path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite")


def _meeting(store, attendees=("dsmb", "dsmb2")):
    return store.create_meeting(title="DSMB meeting, data cut 2026-03-01", meeting_on=date(2026, 3, 10), cut=CUT,
                                attendees=[Attendee(a, a.upper()) for a in attendees], created_by="dsmb",
                                dsmb_users=DSMB_USERS, trial_db="data/trial.duckdb")


def _locked(store):
    meeting = _meeting(store)
    rec = store.record_recommendation(meeting.meeting_id, "continue", "No safety signal.", recorded_by="dsmb")
    store.confirm(rec.recommendation_id, DSMB)
    return meeting, store.confirm(rec.recommendation_id, DSMB2)


def test_migrations_are_applied_once_and_rerunning_changes_nothing(tmp_path):
    path = tmp_path / "state.sqlite"
    store = StateStore(path)
    assert store.schema_version() == LATEST == len(MIGRATIONS)
    first = store.applied_migrations()
    _meeting(store)
    assert StateStore(path).migrate() == LATEST
    assert StateStore(path).applied_migrations() == first
    assert len(StateStore(path).meetings()) == 1  # data kept
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == LATEST


def test_a_new_migration_is_applied_after_the_others_and_only_once(tmp_path):
    path = tmp_path / "state.sqlite"
    StateStore(path)
    extra = Migration(LATEST + 1, "a test column", ("ALTER TABLE meetings ADD COLUMN venue TEXT",))
    store = StateStore(path, migrate=False)
    assert store.migrate((*MIGRATIONS, extra)) == LATEST + 1
    assert store.migrate((*MIGRATIONS, extra)) == LATEST + 1  # the ALTER would fail if run twice
    with pytest.raises(RuntimeError, match="numbered"):
        store.migrate((extra,))


def test_a_failing_migration_leaves_the_version_unchanged(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    broken = Migration(LATEST + 1, "broken", ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        store.migrate((*MIGRATIONS, broken))
    assert store.schema_version() == LATEST
    with sqlite3.connect(store.path) as con:  # the first statement was rolled back with the second
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0


def test_concurrent_first_migrations_apply_each_migration_once(tmp_path):
    path = tmp_path / "state.sqlite"
    errors = []

    def open_store():
        try:
            StateStore(path)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [v for v, *_ in StateStore(path).applied_migrations()] == list(range(1, LATEST + 1))


def test_meeting_round_trip_and_lookup_by_cut(store):
    meeting = _meeting(store)
    again = store.meeting(meeting.meeting_id)
    assert again == meeting
    assert again.cut == CUT and again.usernames == ("dsmb", "dsmb2") and again.attendees[1].display_name == "DSMB2"
    assert store.meeting_for_cut(CUT) == meeting
    assert store.meeting_for_cut(CutRef(CUT.study_id, 1, CUT.cut_date, "other checksum")) is None
    assert [e.step for e in store.events(meeting.meeting_id)] == ["meeting_created"]


def test_meeting_attendees_must_be_dsmb_users(store):
    with pytest.raises(MeetingRuleError, match="not DSMB users: investigator"):
        _meeting(store, ("dsmb", "investigator"))
    with pytest.raises(MeetingRuleError, match="at least one"):
        _meeting(store, ())


def test_the_cut_of_a_meeting_cannot_be_changed_by_sql(store):
    meeting = _meeting(store)
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        con.execute("UPDATE meetings SET cut_id = 2 WHERE meeting_id = ?", (meeting.meeting_id,))


def test_report_copies_are_numbered_per_meeting_and_kind(store):
    meeting = _meeting(store)
    other = _meeting(store)
    numbers = [store.reserve_copy(meeting.meeting_id, kind, recipient=r, generated_by=r).number
               for kind, r in (("open", "dsmb"), ("closed", "dsmb"), ("open", "dsmb2"), ("closed", "dsmb2"),
                               ("closed", "dsmb"))]
    assert numbers == [1, 1, 2, 2, 3]
    assert store.reserve_copy(other.meeting_id, "closed", recipient="dsmb", generated_by="dsmb").number == 1
    copies = store.copies(meeting.meeting_id)
    assert [(c.kind, c.number, c.recipient) for c in copies] == [
        ("closed", 1, "dsmb"), ("closed", 2, "dsmb2"), ("closed", 3, "dsmb"), ("open", 1, "dsmb"), ("open", 2, "dsmb2")]
    with pytest.raises(MeetingRuleError, match="kind"):
        store.reserve_copy(meeting.meeting_id, "draft", recipient="dsmb", generated_by="dsmb")


def test_a_delivered_copy_cannot_be_changed(store):
    meeting = _meeting(store)
    copy = store.reserve_copy(meeting.meeting_id, "closed", recipient="dsmb", generated_by="dsmb")
    done = store.complete_copy(copy.copy_id, "f" * 64, by="dsmb")
    assert done.sha256 == "f" * 64
    with pytest.raises(StateStoreError, match="delivered report copy cannot be changed"):
        store.complete_copy(copy.copy_id, "0" * 64, by="dsmb")
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.IntegrityError):
        con.execute("UPDATE report_copies SET recipient = 'someone else' WHERE copy_id = ?", (copy.copy_id,))
    assert [e.step for e in store.events(meeting.meeting_id)][-2:] == ["copy_reserved", "copy_generated"]


def test_every_attendee_confirms_then_the_record_is_locked(store):
    meeting = _meeting(store)
    rec = store.record_recommendation(meeting.meeting_id, "continue_with_modification", "Add a fever check.",
                                      recorded_by="dsmb2")
    assert not rec.locked and rec.confirmations == ()
    first = store.confirm(rec.recommendation_id, DSMB)
    assert first.confirmed_by == ("dsmb",) and not first.locked
    with pytest.raises(MeetingRuleError, match="already confirmed"):
        store.confirm(rec.recommendation_id, DSMB)
    last = store.confirm(rec.recommendation_id, DSMB2)
    assert last.locked and last.confirmed_by == ("dsmb", "dsmb2") and last.locked_at == last.confirmations[-1].confirmed_at
    assert [e.step for e in store.events(meeting.meeting_id)] == [
        "meeting_created", "recommendation_recorded", "recommendation_confirmed", "recommendation_confirmed",
        "recommendation_locked"]


def test_only_attendees_confirm_and_only_as_themselves(store):
    meeting = _meeting(store)
    rec = store.record_recommendation(meeting.meeting_id, "continue", "Fine.", recorded_by="dsmb")
    with pytest.raises(MeetingRuleError, match="dsmb3 did not attend"):
        store.confirm(rec.recommendation_id, DSMB3)
    with pytest.raises(AccessDenied):
        store.confirm(rec.recommendation_id, Viewer("dsmb2", "investigator"))
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.IntegrityError, match="only an attendee"):
        con.execute("INSERT INTO confirmations VALUES (?, 'dsmb3', '2026-01-01T00:00:00+00:00')",
                    (rec.recommendation_id,))


def test_a_record_cannot_be_locked_without_every_confirmation_even_by_sql(store):
    meeting = _meeting(store)
    rec = store.record_recommendation(meeting.meeting_id, "continue", "Fine.", recorded_by="dsmb")
    store.confirm(rec.recommendation_id, DSMB)
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.IntegrityError, match="every attendee"):
        con.execute("UPDATE recommendations SET locked_at = 'now' WHERE recommendation_id = ?", (rec.recommendation_id,))


def test_the_store_refuses_to_edit_a_locked_record(store):
    _, rec = _locked(store)
    with pytest.raises(LockedRecord, match="locked"):
        store.revise(rec.recommendation_id, "stop_for_harm", "Changed my mind.", by="dsmb")
    with pytest.raises(LockedRecord):
        store.confirm(rec.recommendation_id, DSMB)
    assert store.recommendation(rec.recommendation_id) == rec


@pytest.mark.parametrize("sql", [
    "UPDATE recommendations SET decision = 'stop_for_harm' WHERE recommendation_id = ?",
    "UPDATE recommendations SET rationale = 'edited' WHERE recommendation_id = ?",
    "UPDATE recommendations SET locked_at = NULL WHERE recommendation_id = ?",
    "DELETE FROM recommendations WHERE recommendation_id = ?",
    "DELETE FROM confirmations WHERE recommendation_id = ?",
    "UPDATE confirmations SET confirmed_at = 'yesterday' WHERE recommendation_id = ?",
    "INSERT INTO confirmations VALUES (?, 'dsmb3', 'now')",
])
def test_a_locked_record_cannot_be_changed_by_raw_sql(store, sql):
    _, rec = _locked(store)
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.IntegrityError):
        con.execute(sql, (rec.recommendation_id,))
    assert store.recommendation(rec.recommendation_id) == rec


def test_an_unlocked_record_is_revised_by_its_recorder_and_loses_its_confirmations(store):
    meeting = _meeting(store)
    rec = store.record_recommendation(meeting.meeting_id, "continue", "Fine.", recorded_by="dsmb")
    store.confirm(rec.recommendation_id, DSMB2)
    with pytest.raises(MeetingRuleError, match="Only dsmb"):
        store.revise(rec.recommendation_id, "pause_enrolment", "Wait.", by="dsmb2")
    revised = store.revise(rec.recommendation_id, "pause_enrolment", "Wait for the SAE review.", by="dsmb")
    assert (revised.decision, revised.confirmations) == ("pause_enrolment", ())
    assert store.events(meeting.meeting_id)[-1].details["voided_confirmations"] == ["dsmb2"]


def test_a_correction_is_a_new_record_linked_to_the_locked_one(store):
    meeting, rec = _locked(store)
    with pytest.raises(MeetingRuleError, match="record a correction"):
        store.record_recommendation(meeting.meeting_id, "stop_for_harm", "Second try.", recorded_by="dsmb")
    fix = store.correct(rec.recommendation_id, "continue_with_modification", "Typo: a fever check was agreed.",
                        recorded_by="dsmb2")
    assert fix.corrects_id == rec.recommendation_id and not fix.locked
    original = store.recommendation(rec.recommendation_id)
    assert original.corrected_by_id == fix.recommendation_id
    assert (original.decision, original.rationale, original.locked_at) == (rec.decision, rec.rationale, rec.locked_at)
    with pytest.raises(MeetingRuleError, match="already corrected"):
        store.correct(rec.recommendation_id, "continue", "Again.", recorded_by="dsmb")
    with pytest.raises(MeetingRuleError, match="not locked yet"):
        store.correct(fix.recommendation_id, "continue", "Too early.", recorded_by="dsmb")
    store.confirm(fix.recommendation_id, DSMB)
    assert store.confirm(fix.recommendation_id, DSMB2).locked
    assert "correction_recorded" in [e.step for e in store.events(meeting.meeting_id)]


def test_a_correction_of_an_unlocked_record_is_refused_by_sql(store):
    meeting = _meeting(store)
    rec = store.record_recommendation(meeting.meeting_id, "continue", "Fine.", recorded_by="dsmb")
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.IntegrityError, match="corrects a locked"):
        con.execute("INSERT INTO recommendations (meeting_id, decision, rationale, recorded_by, recorded_at, "
                    "corrects_id) VALUES (?, 'continue', 'x', 'dsmb', 'now', ?)",
                    (meeting.meeting_id, rec.recommendation_id))


def test_attendance_is_fixed_once_a_recommendation_exists(store):
    meeting = _meeting(store)
    changed = store.set_attendees(meeting.meeting_id, [Attendee("dsmb"), Attendee("dsmb3")], by="dsmb",
                                  dsmb_users=DSMB_USERS)
    assert changed.usernames == ("dsmb", "dsmb3")
    store.record_recommendation(meeting.meeting_id, "continue", "Fine.", recorded_by="dsmb")
    with pytest.raises(MeetingRuleError, match="fixed"):
        store.set_attendees(meeting.meeting_id, [Attendee("dsmb")], by="dsmb", dsmb_users=DSMB_USERS)
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.IntegrityError, match="fixed"):
        con.execute("DELETE FROM attendees WHERE meeting_id = ? AND username = 'dsmb3'", (meeting.meeting_id,))


def test_open_and_closed_minutes_are_kept_apart_and_closed_only_for_the_dsmb(store):
    meeting = _meeting(store)
    store.save_minutes(meeting.meeting_id, "open", "Enrolment on track.", viewer=DSMB)
    store.save_minutes(meeting.meeting_id, "closed", "Deaths 3 vs 1, not significant.", viewer=DSMB)
    latest = store.save_minutes(meeting.meeting_id, "closed", "Deaths 3 vs 1; revisit at next cut.", viewer=DSMB2)
    assert (latest.version, latest.written_by) == (2, "dsmb2")
    assert store.minutes(meeting.meeting_id, "open", reader=INVESTIGATOR).text == "Enrolment on track."
    assert store.minutes(meeting.meeting_id, "closed", reader=DSMB).text.startswith("Deaths 3 vs 1; revisit")
    with pytest.raises(AccessDenied):
        store.minutes(meeting.meeting_id, "closed", reader=INVESTIGATOR)
    with pytest.raises(AccessDenied):
        store.save_minutes(meeting.meeting_id, "open", "x", viewer=INVESTIGATOR)
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.IntegrityError):
        con.execute("UPDATE minutes SET text = 'rewritten'")


def test_meeting_events_are_append_only(store):
    meeting = _meeting(store)
    with sqlite3.connect(store.path) as con:
        for sql in ("UPDATE meeting_events SET actor = 'x'", "DELETE FROM meeting_events"):
            with pytest.raises(sqlite3.IntegrityError):
                con.execute(sql)
    assert len(store.events(meeting.meeting_id)) == 1
