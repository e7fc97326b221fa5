"""Numbered schema migrations of the state store, applied in order, each once, each in one transaction.

A migration is a tuple of statements (not one script, so that a runner executes them inside its own
transaction and a PostgreSQL runner can take the same list with its own dialect later). Never edit a
released migration: add the next number. ``schema_migrations`` records what was applied and when.

1. DSMB meetings: meetings, attendees, numbered report copies, recommendations with their confirmations and
   corrections, minutes per session, and the meetings' own event log. Locked recommendations, their
   confirmations, completed copies, minutes and events cannot be updated or deleted (triggers), so a raw SQL
   client cannot change the record either.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _immutable(table: str, what: str, when: str = "") -> tuple[str, str]:
    """Triggers refusing UPDATE and DELETE on ``table`` (optionally only ``WHEN`` the old row matches)."""
    condition = f" WHEN {when}" if when else ""
    return tuple(
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}{condition} "
        f"BEGIN SELECT RAISE(ABORT, '{what} cannot be {'changed' if verb == 'UPDATE' else 'deleted'}'); END"
        for verb in ("UPDATE", "DELETE"))


MEETINGS = Migration(1, "dsmb meetings and recommendations", (
    """CREATE TABLE meetings (
        meeting_id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL CHECK (length(trim(title)) > 0),
        meeting_on TEXT NOT NULL,
        study_id TEXT NOT NULL,
        trial_db TEXT NOT NULL DEFAULT '',
        cut_id INTEGER NOT NULL,
        cut_date TEXT NOT NULL,
        cut_checksum TEXT NOT NULL,
        charter_sha256 TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX meetings_cut ON meetings (study_id, cut_id, cut_checksum)",
    # The cut a meeting reviews never changes (its reports are built from that cut).
    """CREATE TRIGGER meetings_cut_fixed BEFORE UPDATE OF study_id, cut_id, cut_date, cut_checksum, charter_sha256,
        created_by, created_at ON meetings
        BEGIN SELECT RAISE(ABORT, 'the data cut a meeting reviews cannot be changed'); END""",
    "CREATE TRIGGER meetings_no_delete BEFORE DELETE ON meetings BEGIN SELECT RAISE(ABORT, 'meetings cannot be deleted'); END",
    """CREATE TABLE attendees (
        meeting_id INTEGER NOT NULL REFERENCES meetings (meeting_id),
        username TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        position INTEGER NOT NULL,
        PRIMARY KEY (meeting_id, username))""",
    # Attendance is fixed once a recommendation has been recorded: the set of confirmers must not move.
    """CREATE TRIGGER attendees_fixed_insert BEFORE INSERT ON attendees
        WHEN EXISTS (SELECT 1 FROM recommendations WHERE meeting_id = NEW.meeting_id)
        BEGIN SELECT RAISE(ABORT, 'attendance is fixed once a recommendation is recorded'); END""",
    """CREATE TRIGGER attendees_fixed_delete BEFORE DELETE ON attendees
        WHEN EXISTS (SELECT 1 FROM recommendations WHERE meeting_id = OLD.meeting_id)
        BEGIN SELECT RAISE(ABORT, 'attendance is fixed once a recommendation is recorded'); END""",
    """CREATE TRIGGER attendees_no_update BEFORE UPDATE ON attendees
        BEGIN SELECT RAISE(ABORT, 'attendees cannot be changed, only added or removed'); END""",
    """CREATE TABLE report_copies (
        copy_id INTEGER PRIMARY KEY AUTOINCREMENT,
        meeting_id INTEGER NOT NULL REFERENCES meetings (meeting_id),
        kind TEXT NOT NULL CHECK (kind IN ('open', 'closed')),
        number INTEGER NOT NULL CHECK (number >= 1),
        recipient TEXT NOT NULL,
        generated_by TEXT NOT NULL,
        generated_at TEXT NOT NULL,
        sha256 TEXT,
        UNIQUE (meeting_id, kind, number))""",
    *_immutable("report_copies", "a delivered report copy", "OLD.sha256 IS NOT NULL"),
    """CREATE TABLE recommendations (
        recommendation_id INTEGER PRIMARY KEY AUTOINCREMENT,
        meeting_id INTEGER NOT NULL REFERENCES meetings (meeting_id),
        decision TEXT NOT NULL CHECK (decision IN ('continue', 'continue_with_modification', 'pause_enrolment',
            'stop_for_efficacy', 'stop_for_harm', 'stop_for_futility')),
        rationale TEXT NOT NULL CHECK (length(trim(rationale)) > 0),
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        corrects_id INTEGER UNIQUE REFERENCES recommendations (recommendation_id),
        locked_at TEXT)""",
    *_immutable("recommendations", "a locked recommendation", "OLD.locked_at IS NOT NULL"),
    # Locking needs every attendee's confirmation.
    """CREATE TRIGGER recommendations_lock_needs_all BEFORE UPDATE OF locked_at ON recommendations
        WHEN NEW.locked_at IS NOT NULL AND EXISTS (
            SELECT 1 FROM attendees a WHERE a.meeting_id = NEW.meeting_id AND NOT EXISTS (
                SELECT 1 FROM confirmations c
                WHERE c.recommendation_id = NEW.recommendation_id AND c.username = a.username))
        BEGIN SELECT RAISE(ABORT, 'a recommendation is locked only when every attendee has confirmed it'); END""",
    # A correction corrects a locked record of the same meeting.
    """CREATE TRIGGER recommendations_correction_of_locked BEFORE INSERT ON recommendations
        WHEN NEW.corrects_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM recommendations r WHERE r.recommendation_id = NEW.corrects_id
            AND r.meeting_id = NEW.meeting_id AND r.locked_at IS NOT NULL)
        BEGIN SELECT RAISE(ABORT, 'a correction corrects a locked recommendation of the same meeting'); END""",
    """CREATE TABLE confirmations (
        recommendation_id INTEGER NOT NULL REFERENCES recommendations (recommendation_id),
        username TEXT NOT NULL,
        confirmed_at TEXT NOT NULL,
        PRIMARY KEY (recommendation_id, username))""",
    """CREATE TRIGGER confirmations_attendee_only BEFORE INSERT ON confirmations
        WHEN NOT EXISTS (SELECT 1 FROM attendees a JOIN recommendations r ON r.meeting_id = a.meeting_id
                         WHERE r.recommendation_id = NEW.recommendation_id AND a.username = NEW.username)
        BEGIN SELECT RAISE(ABORT, 'only an attendee confirms a recommendation'); END""",
    """CREATE TRIGGER confirmations_not_after_lock BEFORE INSERT ON confirmations
        WHEN EXISTS (SELECT 1 FROM recommendations r WHERE r.recommendation_id = NEW.recommendation_id
                     AND r.locked_at IS NOT NULL)
        BEGIN SELECT RAISE(ABORT, 'a locked recommendation cannot be changed'); END""",
    """CREATE TRIGGER confirmations_no_update BEFORE UPDATE ON confirmations
        BEGIN SELECT RAISE(ABORT, 'a confirmation cannot be changed'); END""",
    """CREATE TRIGGER confirmations_no_delete_locked BEFORE DELETE ON confirmations
        WHEN EXISTS (SELECT 1 FROM recommendations r WHERE r.recommendation_id = OLD.recommendation_id
                     AND r.locked_at IS NOT NULL)
        BEGIN SELECT RAISE(ABORT, 'a locked recommendation cannot be changed'); END""",
    """CREATE TABLE minutes (
        minutes_id INTEGER PRIMARY KEY AUTOINCREMENT,
        meeting_id INTEGER NOT NULL REFERENCES meetings (meeting_id),
        session TEXT NOT NULL CHECK (session IN ('open', 'closed')),
        text TEXT NOT NULL,
        written_by TEXT NOT NULL,
        written_at TEXT NOT NULL)""",
    "CREATE INDEX minutes_meeting ON minutes (meeting_id, session, minutes_id)",
    *_immutable("minutes", "saved minutes (save a new version instead)"),
    """CREATE TABLE meeting_events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        meeting_id INTEGER NOT NULL REFERENCES meetings (meeting_id),
        step TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}')""",
    *_immutable("meeting_events", "a meeting event"),
))

MIGRATIONS: tuple[Migration, ...] = (MEETINGS,)
LATEST = MIGRATIONS[-1].version


def check_numbering(migrations: tuple[Migration, ...] = MIGRATIONS) -> None:
    """Migrations are numbered 1, 2, 3 ... without gaps (a gap or a repeat is a programming error)."""
    numbers = [m.version for m in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"state migrations must be numbered 1..n in order, got {numbers}")
