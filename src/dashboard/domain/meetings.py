"""DSMB meetings and the recommendation on record: the records and the rules, pure (no storage, no UI).

A meeting reviews one data cut (its id, date and checksum, and the charter in force at that cut). Its open
and closed reports are numbered copies, per meeting and kind. After the closed session one DSMB member who
attended records the board's recommendation; every attendee confirms it with their own login, and when the
last one has confirmed it the record is locked: it is read and exported, never edited. A locked record is
corrected by a new record that names the one it corrects. Open-session minutes (pooled) and closed-session
minutes are separate texts; only the DSMB reads the closed ones.

The state store (:mod:`dashboard.state`) applies these rules before it writes and keeps them with triggers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from dashboard.errors import DashboardError

# Codes as stored, and the words a DSMB uses, in the order the form offers them.
RECOMMENDATIONS: dict[str, str] = {
    "continue": "Continue the trial unchanged",
    "continue_with_modification": "Continue with modification",
    "pause_enrolment": "Pause enrolment",
    "stop_for_efficacy": "Stop for efficacy",
    "stop_for_harm": "Stop for harm",
    "stop_for_futility": "Stop for futility",
}
REPORT_KINDS: dict[str, str] = {"open": "Open report (pooled)", "closed": "Closed report (by arm)"}
SESSIONS: dict[str, str] = {"open": "Open session (pooled)", "closed": "Closed session (DSMB only)"}
MAX_TITLE = 200
MAX_RATIONALE = 20_000
MAX_MINUTES = 200_000


class MeetingRuleError(DashboardError, ValueError):
    """An action that the meeting rules do not allow; the message says why and what to do instead."""


class LockedRecord(MeetingRuleError):
    """The recommendation is locked (every attendee confirmed it); record a correction instead."""


@dataclass(frozen=True)
class CutRef:
    """The data cut a meeting reviews: which trial, which cut, and its content checksum."""

    study_id: str
    cut_id: int
    cut_date: date
    checksum: str
    charter_sha256: str | None = None


@dataclass(frozen=True)
class Attendee:
    username: str
    display_name: str = ""

    @property
    def label(self) -> str:
        return f"{self.display_name} ({self.username})" if self.display_name else self.username


@dataclass(frozen=True)
class Meeting:
    meeting_id: int
    title: str
    meeting_on: date
    cut: CutRef
    attendees: tuple[Attendee, ...]
    created_by: str
    created_at: str
    trial_db: str = ""

    @property
    def usernames(self) -> tuple[str, ...]:
        return tuple(a.username for a in self.attendees)


@dataclass(frozen=True)
class ReportCopyRecord:
    copy_id: int
    meeting_id: int
    kind: str
    number: int
    recipient: str
    generated_by: str
    generated_at: str
    sha256: str | None = None  # None while being built (or when the build failed: the number stays used)


@dataclass(frozen=True)
class Confirmation:
    username: str
    confirmed_at: str


@dataclass(frozen=True)
class Recommendation:
    recommendation_id: int
    meeting_id: int
    decision: str
    rationale: str
    recorded_by: str
    recorded_at: str
    confirmations: tuple[Confirmation, ...] = ()
    locked_at: str | None = None
    corrects_id: int | None = None
    corrected_by_id: int | None = None

    @property
    def decision_label(self) -> str:
        return RECOMMENDATIONS.get(self.decision, self.decision)

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    @property
    def confirmed_by(self) -> tuple[str, ...]:
        return tuple(c.username for c in self.confirmations)


@dataclass(frozen=True)
class Minutes:
    meeting_id: int
    session: str
    text: str
    written_by: str
    written_at: str
    version: int


@dataclass(frozen=True)
class MeetingEvent:
    event_id: int
    meeting_id: int
    step: str
    actor: str
    at: str
    details: dict


def utc_label(timestamp: str | None) -> str:
    """A stored UTC time (ISO 8601) as people read it: '2026-03-09 10:04:31 UTC'."""
    if not timestamp:
        return ""
    try:
        return f"{datetime.fromisoformat(timestamp):%Y-%m-%d %H:%M:%S} UTC"
    except ValueError:
        return str(timestamp)


def default_title(cut_date: date) -> str:
    return f"DSMB meeting, data cut {cut_date:%Y-%m-%d}"


def check_meeting(title: str, attendees: Sequence[str], dsmb_users: Iterable[str]) -> None:
    """A meeting has a title and at least one attendee, each a DSMB user, none twice."""
    if not title.strip():
        raise MeetingRuleError("A meeting needs a title.")
    if len(title) > MAX_TITLE:
        raise MeetingRuleError(f"A meeting title has at most {MAX_TITLE} characters, got {len(title)}.")
    if not attendees:
        raise MeetingRuleError("A meeting needs at least one attending DSMB member.")
    if len(set(attendees)) != len(attendees):
        raise MeetingRuleError("An attendee is listed twice.")
    allowed = set(dsmb_users)
    outside = [a for a in attendees if a not in allowed]
    if outside:
        raise MeetingRuleError(f"Only DSMB members attend the closed session; not DSMB users: {', '.join(outside)}.")


def check_kind(kind: str) -> None:
    if kind not in REPORT_KINDS:
        raise MeetingRuleError(f"The report kind is one of {', '.join(REPORT_KINDS)}, got {kind!r}.")


def check_session(session: str) -> None:
    if session not in SESSIONS:
        raise MeetingRuleError(f"The minutes' session is one of {', '.join(SESSIONS)}, got {session!r}.")


def check_minutes(text: str) -> None:
    if len(text) > MAX_MINUTES:
        raise MeetingRuleError(f"Minutes have at most {MAX_MINUTES} characters, got {len(text)}.")


def check_recommendation(meeting: Meeting, decision: str, rationale: str, recorded_by: str) -> None:
    """The decision is one of RECOMMENDATIONS, with a rationale, recorded by a member who attended."""
    if decision not in RECOMMENDATIONS:
        raise MeetingRuleError(f"The recommendation is one of: {', '.join(RECOMMENDATIONS.values())}; got {decision!r}.")
    if not rationale.strip():
        raise MeetingRuleError("A recommendation needs its rationale.")
    if len(rationale) > MAX_RATIONALE:
        raise MeetingRuleError(f"A rationale has at most {MAX_RATIONALE} characters, got {len(rationale)}.")
    if recorded_by not in meeting.usernames:
        raise MeetingRuleError(f"{recorded_by} did not attend this meeting; an attending member records the "
                               "recommendation.")


def check_new_record(meeting: Meeting, existing: Sequence[Recommendation], corrects: Recommendation | None) -> None:
    """A meeting has one recommendation on record at a time: a first record while there is none; after that
    only a correction of the record on record, once it is locked."""
    current = on_record(existing)
    if corrects is None:
        if current is not None:
            raise MeetingRuleError(
                f"This meeting already has recommendation #{current.recommendation_id}; "
                + ("record a correction of it." if current.locked else "confirm or revise it."))
        return
    if corrects.meeting_id != meeting.meeting_id:
        raise MeetingRuleError("A correction belongs to the meeting of the record it corrects.")
    if not corrects.locked:
        raise MeetingRuleError(f"Recommendation #{corrects.recommendation_id} is not locked yet; revise it instead "
                               "of correcting it.")
    if corrects.corrected_by_id is not None:
        raise MeetingRuleError(f"Recommendation #{corrects.recommendation_id} was already corrected by "
                               f"#{corrects.corrected_by_id}; correct that one.")


def check_revision(rec: Recommendation, by: str) -> None:
    """Only the member who recorded an unlocked recommendation revises it (its confirmations are then void)."""
    if rec.locked:
        raise LockedRecord(f"Recommendation #{rec.recommendation_id} is locked and cannot be edited; record a "
                           "correction, which is kept linked to it.")
    if by != rec.recorded_by:
        raise MeetingRuleError(f"Only {rec.recorded_by}, who recorded it, may revise recommendation "
                               f"#{rec.recommendation_id}.")


def check_confirmation(meeting: Meeting, rec: Recommendation, username: str) -> None:
    """An attendee confirms a recommendation once, with their own login, before it is locked."""
    if rec.locked:
        raise LockedRecord(f"Recommendation #{rec.recommendation_id} is already locked.")
    if username not in meeting.usernames:
        raise MeetingRuleError(f"{username} did not attend this meeting; only attendees confirm its recommendation.")
    if username in rec.confirmed_by:
        raise MeetingRuleError(f"{username} has already confirmed recommendation #{rec.recommendation_id}.")


def awaiting(meeting: Meeting, rec: Recommendation) -> tuple[str, ...]:
    """Attendees who have not confirmed ``rec`` yet, in attendance order."""
    return tuple(u for u in meeting.usernames if u not in rec.confirmed_by)


def complete(meeting: Meeting, confirmed_by: Iterable[str]) -> bool:
    """Whether every attendee has confirmed (then the record is locked)."""
    return set(meeting.usernames) <= set(confirmed_by)


def on_record(recommendations: Sequence[Recommendation]) -> Recommendation | None:
    """The meeting's recommendation on record: the one no later record corrects (None before the first)."""
    current = [r for r in recommendations if r.corrected_by_id is None]
    return max(current, key=lambda r: r.recommendation_id) if current else None


def correction_chain(recommendations: Sequence[Recommendation], rec: Recommendation) -> list[Recommendation]:
    """``rec`` and the records it corrects, newest first."""
    by_id = {r.recommendation_id: r for r in recommendations}
    chain = [rec]
    while chain[-1].corrects_id is not None and chain[-1].corrects_id in by_id:
        chain.append(by_id[chain[-1].corrects_id])
    return chain


def status_line(meeting: Meeting, rec: Recommendation) -> str:
    """'Locked on ...' or 'Confirmed by 1 of 2; awaiting dsmb2'."""
    if rec.locked:
        return f"Locked {utc_label(rec.locked_at)}: confirmed by all {len(meeting.attendees)} attendees."
    waiting = awaiting(meeting, rec)
    return (f"Confirmed by {len(rec.confirmations)} of {len(meeting.attendees)} attendees; awaiting "
            f"{', '.join(waiting)}.")


def copy_filename(meeting: Meeting, kind: str, number: int) -> str:
    return f"dsmb_{kind}_report_meeting{meeting.meeting_id}_cut{meeting.cut.cut_date:%Y-%m-%d}_copy{number}.pdf"


def record_filename(meeting: Meeting, rec: Recommendation) -> str:
    return f"dsmb_recommendation_meeting{meeting.meeting_id}_record{rec.recommendation_id}.pdf"
