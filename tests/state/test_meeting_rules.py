"""The meeting rules of domain/meetings.py, on hand-built records."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.domain import meetings as m
from dashboard.domain.meetings import Attendee, Confirmation, CutRef, LockedRecord, Meeting, MeetingRuleError, Recommendation

MEETING = Meeting(7, "DSMB meeting, data cut 2026-03-01", date(2026, 3, 9),
                  CutRef("S", 2, date(2026, 3, 1), "c" * 64), (Attendee("a", "Ann"), Attendee("b")), "a", "t")


def rec(rec_id=1, confirmed=(), locked=None, corrects=None, corrected_by=None, by="a"):
    return Recommendation(rec_id, 7, "continue", "ok", by, "t0", tuple(Confirmation(u, "t") for u in confirmed),
                          locked, corrects, corrected_by)


def test_default_title():
    assert m.default_title(date(2026, 3, 1)) == "DSMB meeting, data cut 2026-03-01"


def test_the_six_recommendations():
    assert list(m.RECOMMENDATIONS) == ["continue", "continue_with_modification", "pause_enrolment",
                                       "stop_for_efficacy", "stop_for_harm", "stop_for_futility"]


@pytest.mark.parametrize("title, attendees, message", [
    ("  ", ["a"], "title"), ("t", [], "at least one"), ("t", ["a", "a"], "twice"), ("t", ["a", "x"], "not DSMB users: x"),
    ("t" * 201, ["a"], "at most 200")])
def test_check_meeting_refuses(title, attendees, message):
    with pytest.raises(MeetingRuleError, match=message):
        m.check_meeting(title, attendees, ["a", "b"])


def test_check_meeting_accepts_dsmb_attendees():
    m.check_meeting("t", ["b", "a"], ["a", "b", "c"])


@pytest.mark.parametrize("decision, rationale, by, message", [
    ("carry on", "x", "a", "one of"), ("continue", " ", "a", "rationale"), ("continue", "x", "z", "did not attend")])
def test_check_recommendation_refuses(decision, rationale, by, message):
    with pytest.raises(MeetingRuleError, match=message):
        m.check_recommendation(MEETING, decision, rationale, by)


def test_one_record_at_a_time_then_only_corrections_of_locked_records():
    m.check_new_record(MEETING, [], None)
    with pytest.raises(MeetingRuleError, match="confirm or revise"):
        m.check_new_record(MEETING, [rec()], None)
    with pytest.raises(MeetingRuleError, match="record a correction"):
        m.check_new_record(MEETING, [rec(locked="t")], None)
    with pytest.raises(MeetingRuleError, match="not locked yet"):
        m.check_new_record(MEETING, [rec()], rec())
    m.check_new_record(MEETING, [rec(locked="t")], rec(locked="t"))
    with pytest.raises(MeetingRuleError, match="already corrected by #2"):
        m.check_new_record(MEETING, [rec(locked="t", corrected_by=2), rec(2)], rec(locked="t", corrected_by=2))


def test_confirmation_rules():
    m.check_confirmation(MEETING, rec(), "b")
    with pytest.raises(MeetingRuleError, match="did not attend"):
        m.check_confirmation(MEETING, rec(), "z")
    with pytest.raises(MeetingRuleError, match="already confirmed"):
        m.check_confirmation(MEETING, rec(confirmed=("b",)), "b")
    with pytest.raises(LockedRecord):
        m.check_confirmation(MEETING, rec(confirmed=("a", "b"), locked="t"), "b")


def test_revision_only_by_the_recorder_and_never_when_locked():
    m.check_revision(rec(), "a")
    with pytest.raises(MeetingRuleError, match="Only a"):
        m.check_revision(rec(), "b")
    with pytest.raises(LockedRecord, match="correction"):
        m.check_revision(rec(locked="t"), "a")


def test_completion_awaiting_and_status():
    assert not m.complete(MEETING, ["a"]) and m.complete(MEETING, ["b", "a"])
    assert m.awaiting(MEETING, rec(confirmed=("b",))) == ("a",)
    assert m.status_line(MEETING, rec(confirmed=("b",))) == "Confirmed by 1 of 2 attendees; awaiting a."
    assert m.status_line(MEETING, rec(confirmed=("a", "b"), locked="2026-03-09T10:00:00+00:00")) == (
        "Locked 2026-03-09 10:00:00 UTC: confirmed by all 2 attendees.")


def test_on_record_and_the_correction_chain():
    first, second, third = rec(1, locked="t", corrected_by=2), rec(2, locked="t", corrects=1, corrected_by=3), rec(3, corrects=2)
    assert m.on_record([]) is None
    assert m.on_record([first, second, third]) == third
    assert [r.recommendation_id for r in m.correction_chain([first, second, third], third)] == [3, 2, 1]


def test_file_names_name_no_arm_and_carry_the_copy():
    assert m.copy_filename(MEETING, "closed", 3) == "dsmb_closed_report_meeting7_cut2026-03-01_copy3.pdf"
    assert m.record_filename(MEETING, rec(4)) == "dsmb_recommendation_meeting7_record4.pdf"


def test_utc_label():
    assert m.utc_label("2026-03-09T10:04:31+00:00") == "2026-03-09 10:04:31 UTC"
    assert m.utc_label(None) == ""
