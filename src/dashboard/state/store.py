"""The state store: one SQLite file (``$DASHBOARD_STATE``, default ``data/state.sqlite``) in WAL mode, with
numbered schema migrations (:mod:`dashboard.state.migrations`), holding the DSMB meetings and the
recommendations on record; users, the login throttle, the audit trail and saved views are to follow.

Each call opens its own connection (sqlite3 connections belong to one thread and Streamlit runs each session in
its own), writes in one ``BEGIN IMMEDIATE`` transaction, and records the step in ``meeting_events`` in that same
transaction, so a change and its event are kept or lost together. The rules are
:mod:`dashboard.domain.meetings`'; the triggers of the migrations keep the ones that protect the record (a
locked recommendation, a delivered copy, saved minutes, the events) also against raw SQL.

Only the SQL here is SQLite's; a PostgreSQL store (``DASHBOARD_STATE_URL``) can follow with the same methods,
the same migration numbers and its own statements.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

from dashboard import config
from dashboard.access.viewer import Viewer, require
from dashboard.domain import meetings as rules
from dashboard.domain.meetings import (
    Attendee,
    Confirmation,
    CutRef,
    Meeting,
    MeetingEvent,
    MeetingRuleError,
    Minutes,
    Recommendation,
    ReportCopyRecord,
)
from dashboard.errors import DashboardError
from dashboard.state.migrations import LATEST, MIGRATIONS, Migration, check_numbering

BUSY_TIMEOUT_SECONDS = 15.0
# The permission a reader needs for the closed session's minutes (the PERMISSIONS line of access/viewer.py).
DSMB_ACTION = "attend_dsmb_meeting"


class StateStoreError(DashboardError):
    """The state store refused a change (a trigger fired) or is not usable; the message says which."""


class UnknownRecord(StateStoreError, LookupError):
    """No meeting or recommendation with that id."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def state_path() -> Path:
    return Path(config.DASHBOARD_STATE.value())


class StateStore:
    """The meetings, report copies, recommendations, confirmations and minutes, in one SQLite file."""

    def __init__(self, path: str | os.PathLike | None = None, *, clock: Callable[[], str] = utc_now,
                 migrate: bool = True):
        self.path = Path(path) if path is not None else state_path()
        self._clock = clock
        if migrate:
            self.migrate()

    # -- connection and migrations -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys = ON")
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        return con

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before reading (BEGIN IMMEDIATE) so the rules checked inside it still
        hold when it commits; a trigger's refusal becomes StateStoreError and nothing is written."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            raise StateStoreError(f"The state store refused the change: {exc}.") from exc
        finally:
            con.close()

    def migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> int:
        """Apply the migrations not applied yet, each in its own transaction; return the schema version.
        Safe to run again and from several processes at once (each migration is applied exactly once)."""
        check_numbering(tuple(migrations))
        con = self._connect()
        try:
            if con.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise StateStoreError(f"{self.path}: SQLite could not switch to WAL mode.")
            con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                        "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
            for migration in migrations:
                con.execute("BEGIN IMMEDIATE")
                try:
                    done = con.execute("SELECT 1 FROM schema_migrations WHERE version = ?",
                                       (migration.version,)).fetchone()
                    if not done:
                        for statement in migration.statements:
                            con.execute(statement)
                        con.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                    (migration.version, migration.name, self._clock()))
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            return self._version(con)
        finally:
            con.close()

    @staticmethod
    def _version(con: sqlite3.Connection) -> int:
        row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def schema_version(self) -> int:
        with self._read() as con:
            exists = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone()
            return self._version(con) if exists else 0

    def applied_migrations(self) -> list[tuple[int, str, str]]:
        with self._read() as con:
            return [tuple(r) for r in con.execute(
                "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")]

    @property
    def latest_version(self) -> int:
        return LATEST

    # -- events --------------------------------------------------------------------------------------

    def _event(self, con: sqlite3.Connection, meeting_id: int, step: str, actor: str, **details) -> None:
        con.execute("INSERT INTO meeting_events (meeting_id, step, actor, at, details) VALUES (?, ?, ?, ?, ?)",
                    (meeting_id, step, actor, self._clock(), json.dumps(details, sort_keys=True, default=str)))

    def events(self, meeting_id: int) -> list[MeetingEvent]:
        with self._read() as con:
            return [MeetingEvent(r["event_id"], r["meeting_id"], r["step"], r["actor"], r["at"], json.loads(r["details"]))
                    for r in con.execute("SELECT * FROM meeting_events WHERE meeting_id = ? ORDER BY event_id",
                                         (meeting_id,))]

    # -- meetings ------------------------------------------------------------------------------------

    def create_meeting(self, *, title: str, meeting_on: date, cut: CutRef, attendees: Sequence[Attendee],
                       created_by: str, dsmb_users: Sequence[str], trial_db: str = "") -> Meeting:
        """A new meeting reviewing ``cut``; ``attendees`` must be among ``dsmb_users`` (the DSMB accounts)."""
        rules.check_meeting(title, [a.username for a in attendees], dsmb_users)
        with self._write() as con:
            meeting_id = con.execute(
                "INSERT INTO meetings (title, meeting_on, study_id, trial_db, cut_id, cut_date, cut_checksum, "
                "charter_sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (title.strip(), meeting_on.isoformat(), cut.study_id, trial_db, int(cut.cut_id),
                 cut.cut_date.isoformat(), cut.checksum, cut.charter_sha256, created_by, self._clock())).lastrowid
            self._insert_attendees(con, meeting_id, attendees)
            self._event(con, meeting_id, "meeting_created", created_by, title=title.strip(), cut_id=int(cut.cut_id),
                        cut_checksum=cut.checksum, attendees=[a.username for a in attendees])
        return self.meeting(meeting_id)

    @staticmethod
    def _insert_attendees(con: sqlite3.Connection, meeting_id: int, attendees: Sequence[Attendee]) -> None:
        con.executemany("INSERT INTO attendees (meeting_id, username, display_name, position) VALUES (?, ?, ?, ?)",
                        [(meeting_id, a.username, a.display_name, i) for i, a in enumerate(attendees)])

    def set_attendees(self, meeting_id: int, attendees: Sequence[Attendee], *, by: str,
                      dsmb_users: Sequence[str]) -> Meeting:
        """Change who attends, until a recommendation is recorded (then attendance is fixed)."""
        meeting = self.meeting(meeting_id)
        rules.check_meeting(meeting.title, [a.username for a in attendees], dsmb_users)
        if self.recommendations(meeting_id):
            raise MeetingRuleError("Attendance is fixed once a recommendation has been recorded.")
        with self._write() as con:
            con.execute("DELETE FROM attendees WHERE meeting_id = ?", (meeting_id,))
            self._insert_attendees(con, meeting_id, attendees)
            self._event(con, meeting_id, "attendees_changed", by, attendees=[a.username for a in attendees])
        return self.meeting(meeting_id)

    def _meeting(self, con: sqlite3.Connection, row: sqlite3.Row) -> Meeting:
        attendees = tuple(Attendee(a["username"], a["display_name"]) for a in con.execute(
            "SELECT username, display_name FROM attendees WHERE meeting_id = ? ORDER BY position", (row["meeting_id"],)))
        cut = CutRef(row["study_id"], row["cut_id"], date.fromisoformat(row["cut_date"]), row["cut_checksum"],
                     row["charter_sha256"])
        return Meeting(row["meeting_id"], row["title"], date.fromisoformat(row["meeting_on"]), cut, attendees,
                       row["created_by"], row["created_at"], row["trial_db"])

    def meeting(self, meeting_id: int) -> Meeting:
        with self._read() as con:
            row = con.execute("SELECT * FROM meetings WHERE meeting_id = ?", (int(meeting_id),)).fetchone()
            if row is None:
                raise UnknownRecord(f"No DSMB meeting {meeting_id}; `python -m dashboard report` or /meetings lists "
                                    "the meetings.")
            return self._meeting(con, row)

    def meetings(self, study_id: str | None = None) -> list[Meeting]:
        """Meetings (of one study when given), newest first."""
        with self._read() as con:
            rows = con.execute("SELECT * FROM meetings WHERE ? IS NULL OR study_id = ? ORDER BY meeting_id DESC",
                               (study_id, study_id)).fetchall()
            return [self._meeting(con, r) for r in rows]

    def meeting_for_cut(self, cut: CutRef) -> Meeting | None:
        """The latest meeting reviewing exactly this cut (same study, cut id and checksum), or None."""
        with self._read() as con:
            row = con.execute("SELECT * FROM meetings WHERE study_id = ? AND cut_id = ? AND cut_checksum = ? "
                              "ORDER BY meeting_id DESC LIMIT 1", (cut.study_id, int(cut.cut_id), cut.checksum)).fetchone()
            return None if row is None else self._meeting(con, row)

    # -- report copies -------------------------------------------------------------------------------

    def reserve_copy(self, meeting_id: int, kind: str, *, recipient: str, generated_by: str) -> ReportCopyRecord:
        """The next copy number of this meeting's ``kind`` report, taken now for ``recipient``: the number is
        printed in the document, so it is reserved before the document is built (a failed build leaves the
        number used and the copy without a checksum)."""
        rules.check_kind(kind)
        self.meeting(meeting_id)
        with self._write() as con:
            number = con.execute("SELECT coalesce(max(number), 0) + 1 FROM report_copies WHERE meeting_id = ? AND "
                                 "kind = ?", (meeting_id, kind)).fetchone()[0]
            copy_id = con.execute(
                "INSERT INTO report_copies (meeting_id, kind, number, recipient, generated_by, generated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (meeting_id, kind, number, recipient, generated_by, self._clock())).lastrowid
            self._event(con, meeting_id, "copy_reserved", generated_by, kind=kind, number=number, recipient=recipient)
        return self._copy(copy_id)

    def complete_copy(self, copy_id: int, sha256: str, *, by: str) -> ReportCopyRecord:
        """Record the delivered document's SHA-256; the copy is then final."""
        copy = self._copy(copy_id)
        with self._write() as con:
            con.execute("UPDATE report_copies SET sha256 = ? WHERE copy_id = ?", (sha256, copy_id))
            self._event(con, copy.meeting_id, "copy_generated", by, kind=copy.kind, number=copy.number,
                        recipient=copy.recipient, sha256=sha256)
        return self._copy(copy_id)

    def _copy(self, copy_id: int) -> ReportCopyRecord:
        with self._read() as con:
            row = con.execute("SELECT * FROM report_copies WHERE copy_id = ?", (copy_id,)).fetchone()
        if row is None:
            raise UnknownRecord(f"No report copy {copy_id}.")
        return ReportCopyRecord(row["copy_id"], row["meeting_id"], row["kind"], row["number"], row["recipient"],
                                row["generated_by"], row["generated_at"], row["sha256"])

    def copies(self, meeting_id: int) -> list[ReportCopyRecord]:
        with self._read() as con:
            ids = [r[0] for r in con.execute("SELECT copy_id FROM report_copies WHERE meeting_id = ? "
                                             "ORDER BY kind, number", (meeting_id,))]
        return [self._copy(i) for i in ids]

    # -- recommendations -----------------------------------------------------------------------------

    def _recommendation(self, con: sqlite3.Connection, row: sqlite3.Row) -> Recommendation:
        rec_id = row["recommendation_id"]
        confirmations = tuple(Confirmation(c["username"], c["confirmed_at"]) for c in con.execute(
            "SELECT username, confirmed_at FROM confirmations WHERE recommendation_id = ? ORDER BY confirmed_at, "
            "rowid", (rec_id,)))
        corrected_by = con.execute("SELECT recommendation_id FROM recommendations WHERE corrects_id = ?",
                                   (rec_id,)).fetchone()
        return Recommendation(rec_id, row["meeting_id"], row["decision"], row["rationale"], row["recorded_by"],
                              row["recorded_at"], confirmations, row["locked_at"], row["corrects_id"],
                              corrected_by[0] if corrected_by else None)

    def recommendation(self, recommendation_id: int) -> Recommendation:
        with self._read() as con:
            row = con.execute("SELECT * FROM recommendations WHERE recommendation_id = ?",
                              (int(recommendation_id),)).fetchone()
            if row is None:
                raise UnknownRecord(f"No recommendation {recommendation_id}.")
            return self._recommendation(con, row)

    def recommendations(self, meeting_id: int) -> list[Recommendation]:
        """The meeting's recommendations, oldest first (corrections after what they correct)."""
        with self._read() as con:
            rows = con.execute("SELECT * FROM recommendations WHERE meeting_id = ? ORDER BY recommendation_id",
                               (meeting_id,)).fetchall()
            return [self._recommendation(con, r) for r in rows]

    def record_recommendation(self, meeting_id: int, decision: str, rationale: str, *, recorded_by: str,
                              corrects: int | None = None) -> Recommendation:
        """Record the board's recommendation (or, with ``corrects``, a correction of a locked one)."""
        meeting = self.meeting(meeting_id)
        rules.check_recommendation(meeting, decision, rationale, recorded_by)
        with self._write() as con:
            existing = [self._recommendation(con, r) for r in con.execute(
                "SELECT * FROM recommendations WHERE meeting_id = ?", (meeting_id,)).fetchall()]
            corrected = next((r for r in existing if r.recommendation_id == corrects), None)
            if corrects is not None and corrected is None:
                raise UnknownRecord(f"No recommendation {corrects} in meeting {meeting_id}.")
            rules.check_new_record(meeting, existing, corrected)
            rec_id = con.execute(
                "INSERT INTO recommendations (meeting_id, decision, rationale, recorded_by, recorded_at, corrects_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (meeting_id, decision, rationale.strip(), recorded_by, self._clock(), corrects)).lastrowid
            self._event(con, meeting_id, "correction_recorded" if corrects else "recommendation_recorded",
                        recorded_by, recommendation_id=rec_id, decision=decision, corrects=corrects)
        return self.recommendation(rec_id)

    def correct(self, recommendation_id: int, decision: str, rationale: str, *, recorded_by: str) -> Recommendation:
        """A new record correcting the locked ``recommendation_id``; it needs every attendee's confirmation too."""
        rec = self.recommendation(recommendation_id)
        return self.record_recommendation(rec.meeting_id, decision, rationale, recorded_by=recorded_by,
                                          corrects=recommendation_id)

    def revise(self, recommendation_id: int, decision: str, rationale: str, *, by: str) -> Recommendation:
        """Change an unlocked recommendation (its recorder only); the confirmations given so far are void.
        A locked one is refused here and, against raw SQL, by a trigger."""
        rec = self.recommendation(recommendation_id)
        meeting = self.meeting(rec.meeting_id)
        rules.check_revision(rec, by)
        rules.check_recommendation(meeting, decision, rationale, by)
        with self._write() as con:
            con.execute("DELETE FROM confirmations WHERE recommendation_id = ?", (recommendation_id,))
            con.execute("UPDATE recommendations SET decision = ?, rationale = ? WHERE recommendation_id = ?",
                        (decision, rationale.strip(), recommendation_id))
            self._event(con, rec.meeting_id, "recommendation_revised", by, recommendation_id=recommendation_id,
                        decision=decision, voided_confirmations=list(rec.confirmed_by))
        return self.recommendation(recommendation_id)

    def confirm(self, recommendation_id: int, viewer: Viewer) -> Recommendation:
        """``viewer`` (the logged-in member, never a typed name) confirms; the last attendee's confirmation
        locks the record."""
        require(viewer, DSMB_ACTION)
        username = viewer.username
        with self._write() as con:
            row = con.execute("SELECT * FROM recommendations WHERE recommendation_id = ?",
                              (int(recommendation_id),)).fetchone()
            if row is None:
                raise UnknownRecord(f"No recommendation {recommendation_id}.")
            rec = self._recommendation(con, row)
            meeting = self._meeting(con, con.execute("SELECT * FROM meetings WHERE meeting_id = ?",
                                                     (rec.meeting_id,)).fetchone())
            rules.check_confirmation(meeting, rec, username)
            now = self._clock()
            con.execute("INSERT INTO confirmations (recommendation_id, username, confirmed_at) VALUES (?, ?, ?)",
                        (recommendation_id, username, now))
            self._event(con, meeting.meeting_id, "recommendation_confirmed", username,
                        recommendation_id=recommendation_id)
            if rules.complete(meeting, (*rec.confirmed_by, username)):
                con.execute("UPDATE recommendations SET locked_at = ? WHERE recommendation_id = ?",
                            (now, recommendation_id))
                self._event(con, meeting.meeting_id, "recommendation_locked", username,
                            recommendation_id=recommendation_id, confirmed_by=[*rec.confirmed_by, username])
        return self.recommendation(recommendation_id)

    # -- minutes -------------------------------------------------------------------------------------

    def save_minutes(self, meeting_id: int, session: str, text: str, *, viewer: Viewer) -> Minutes:
        """Save a new version of the session's minutes (earlier versions are kept)."""
        require(viewer, DSMB_ACTION)
        rules.check_session(session)
        rules.check_minutes(text)
        self.meeting(meeting_id)
        with self._write() as con:
            con.execute("INSERT INTO minutes (meeting_id, session, text, written_by, written_at) VALUES (?, ?, ?, ?, ?)",
                        (meeting_id, session, text, viewer.username, self._clock()))
            self._event(con, meeting_id, "minutes_saved", viewer.username, session=session)
        return self.minutes(meeting_id, session, reader=viewer)

    def minutes(self, meeting_id: int, session: str, *, reader: Viewer) -> Minutes | None:
        """The latest minutes of a session; the closed session's only for the DSMB."""
        rules.check_session(session)
        if session == "closed":
            require(reader, DSMB_ACTION)
        with self._read() as con:
            row = con.execute("SELECT *, (SELECT count(*) FROM minutes m WHERE m.meeting_id = minutes.meeting_id AND "
                              "m.session = minutes.session) AS versions FROM minutes WHERE meeting_id = ? AND "
                              "session = ? ORDER BY minutes_id DESC LIMIT 1", (meeting_id, session)).fetchone()
        if row is None:
            return None
        return Minutes(row["meeting_id"], row["session"], row["text"], row["written_by"], row["written_at"],
                       row["versions"])
