"""What the /meetings page and ``python -m dashboard report`` do with a meeting, in one place: create the
meeting of a cut, issue a numbered report copy built from the meeting's own cut, record, confirm, revise and
correct the recommendation, save minutes. Each step is written to the state store (with its event, in the same
transaction) and to the app's audit trail through ``audit`` (``audit(name, **properties)``: the page passes
ui.context.record, the command dashboard.commands.record_action); a report copy is handed out only after its
audit event is written.

The report itself is built by :func:`dashboard.reports.dsmb_report.build_report`; it is looked up when first
needed and can be replaced (``engine``: any object with ``build_report``, ``ReportMeeting`` and
``ReportCopy``), so this module works and is tested before and apart from it.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dashboard.access.trial_view import TrialView
from dashboard.access.users import UserStore
from dashboard.access.viewer import Viewer, require
from dashboard.data.importers.cuts import kept_cut_path
from dashboard.domain import meetings as rules
from dashboard.domain.meetings import Attendee, CutRef, Meeting, Recommendation, ReportCopyRecord
from dashboard.errors import DashboardError
from dashboard.state.store import DSMB_ACTION, StateStore

Audit = Callable[..., None]  # audit(name, **properties)
PAGE = "meetings"
# The audit trail's event name for meeting steps other than exports.
STEP_EVENT = "dsmb_meeting"


class CutUnavailable(DashboardError):
    """The data cut a meeting reviews cannot be opened (its kept copy is missing or differs)."""


@dataclass(frozen=True)
class IssuedCopy:
    record: ReportCopyRecord
    pdf: bytes
    filename: str


def report_engine():
    return importlib.import_module("dashboard.reports.dsmb_report")


def cut_ref(view: TrialView) -> CutRef:
    """The view's current cut as a meeting records it (study, cut id and date, checksum, charter SHA-256)."""
    cut = view.cut()
    charter = view.charter_record()
    return CutRef(str(view.study()["study_id"]), int(view.cut_id), _as_date(cut["cut_date"]), view.checksum,
                  None if charter is None else str(charter["sha256"]))


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def dsmb_users(users_file: str | Path) -> list[Attendee]:
    """The DSMB accounts of the users file, in username order."""
    return [Attendee(u.username, u.display_name) for u in sorted(UserStore(users_file).load().values(),
                                                                  key=lambda u: u.username) if u.role == "dsmb"]


def record_step(audit: Audit, step: str, meeting_id: int, **properties) -> None:
    """A meeting step in the app's audit trail (the state store's meeting_events always has it). Details that
    could reveal an arm (rationales, minutes) never go there: only ids, the decision code and who."""
    audit(STEP_EVENT, step=step, meeting_id=meeting_id, **properties)


def create_meeting(store: StateStore, view: TrialView, audit: Audit, *, attendees: Sequence[Attendee],
                   all_dsmb: Sequence[Attendee], title: str | None = None, meeting_on: date | None = None) -> Meeting:
    """A meeting reviewing ``view``'s current cut, created by the view's (DSMB) viewer."""
    require(view.viewer, DSMB_ACTION)
    cut = cut_ref(view)
    meeting = store.create_meeting(title=title or rules.default_title(cut.cut_date),
                                   meeting_on=meeting_on or date.today(), cut=cut, attendees=attendees,
                                   created_by=view.viewer.username, dsmb_users=[a.username for a in all_dsmb],
                                   trial_db=str(view.db_path))
    record_step(audit, "meeting_created", meeting.meeting_id, cut_id=cut.cut_id,
                attendees=list(meeting.usernames))
    return meeting


def meeting_cut_path(meeting: Meeting, current: TrialView) -> Path:
    """The database file of the meeting's cut: the current database while it is that cut, else the cut's kept
    copy ``cuts/<db name>/cut-<id>.duckdb`` beside it."""
    if current.cut_id == meeting.cut.cut_id and current.checksum == meeting.cut.checksum:
        return Path(current.db_path)
    return kept_cut_path(current.db_path, meeting.cut.cut_id)


def view_of_meeting_cut(meeting: Meeting, current: TrialView, open_view: Callable[[Path], TrialView]) -> TrialView:
    """A view of exactly the cut the meeting reviews (same id and checksum), whatever is published now."""
    if str(current.study()["study_id"]) != meeting.cut.study_id:
        raise CutUnavailable(f"Meeting {meeting.meeting_id} reviews study {meeting.cut.study_id}, not the loaded "
                             f"trial {current.study()['study_id']}.")
    path = meeting_cut_path(meeting, current)
    if path == Path(current.db_path):
        return current
    if not path.exists():
        raise CutUnavailable(f"The kept copy of data cut {meeting.cut.cut_id} ({path}) is missing, so meeting "
                             f"{meeting.meeting_id}'s reports cannot be rebuilt from its cut.")
    view = open_view(path)
    if view.cut_id != meeting.cut.cut_id or view.checksum != meeting.cut.checksum:
        raise CutUnavailable(f"{path} is not the data cut meeting {meeting.meeting_id} reviewed (checksum "
                             f"{view.checksum[:12]} instead of {meeting.cut.checksum[:12]}).")
    return view


def report_meeting(engine, meeting: Meeting):
    return engine.ReportMeeting(meeting.meeting_id, meeting.title, meeting.meeting_on, meeting.cut.cut_id,
                                meeting.cut.cut_date, tuple(a.label for a in meeting.attendees))


def issue_copy(store: StateStore, meeting: Meeting, kind: str, view: TrialView, audit: Audit, *,
               recipient: str | None = None, engine=None, generated: datetime | None = None) -> IssuedCopy:
    """One numbered copy of the meeting's ``kind`` report for ``recipient`` (default: the view's viewer),
    built from ``view`` (a view of the meeting's cut, :func:`view_of_meeting_cut`). The number is reserved
    first (it is printed on every page), the export is audited, then the copy is completed with its SHA-256."""
    rules.check_kind(kind)
    if view.cut_id != meeting.cut.cut_id or view.checksum != meeting.cut.checksum:
        raise CutUnavailable(f"Meeting {meeting.meeting_id}'s reports are built from data cut {meeting.cut.cut_id} "
                             f"only, not from cut {view.cut_id}.")
    if kind == "closed":
        require(view.viewer, DSMB_ACTION)
    engine = engine or report_engine()
    recipient = recipient or view.viewer.username
    copy = store.reserve_copy(meeting.meeting_id, kind, recipient=recipient, generated_by=view.viewer.username)
    pdf = engine.build_report(view, kind, meeting=report_meeting(engine, meeting),
                              copy=engine.ReportCopy(copy.number, recipient), generated=generated)
    sha = hashlib.sha256(pdf).hexdigest()
    filename = rules.copy_filename(meeting, kind, copy.number)
    audit("export", what=filename, meeting_id=meeting.meeting_id, kind=kind, copy=copy.number, recipient=recipient,
          cut_id=meeting.cut.cut_id, sha256=sha)
    return IssuedCopy(store.complete_copy(copy.copy_id, sha, by=view.viewer.username), pdf, filename)


def record_recommendation(store: StateStore, meeting: Meeting, viewer: Viewer, audit: Audit, decision: str,
                          rationale: str, *, corrects: int | None = None) -> Recommendation:
    require(viewer, DSMB_ACTION)
    rec = store.record_recommendation(meeting.meeting_id, decision, rationale, recorded_by=viewer.username,
                                      corrects=corrects)
    record_step(audit, "correction_recorded" if corrects else "recommendation_recorded", meeting.meeting_id,
                recommendation_id=rec.recommendation_id, decision=decision, corrects=corrects)
    return rec


def revise(store: StateStore, rec: Recommendation, viewer: Viewer, audit: Audit, decision: str,
           rationale: str) -> Recommendation:
    require(viewer, DSMB_ACTION)
    revised = store.revise(rec.recommendation_id, decision, rationale, by=viewer.username)
    record_step(audit, "recommendation_revised", rec.meeting_id, recommendation_id=rec.recommendation_id,
                decision=decision)
    return revised


def confirm(store: StateStore, rec: Recommendation, viewer: Viewer, audit: Audit) -> Recommendation:
    """The logged-in ``viewer`` confirms; returns the record, locked when this was the last confirmation."""
    confirmed = store.confirm(rec.recommendation_id, viewer)
    record_step(audit, "recommendation_confirmed", rec.meeting_id, recommendation_id=rec.recommendation_id)
    if confirmed.locked:
        record_step(audit, "recommendation_locked", rec.meeting_id, recommendation_id=rec.recommendation_id,
                    confirmed_by=list(confirmed.confirmed_by))
    return confirmed


def save_minutes(store: StateStore, meeting: Meeting, session: str, text: str, viewer: Viewer, audit: Audit):
    minutes = store.save_minutes(meeting.meeting_id, session, text, viewer=viewer)
    record_step(audit, "minutes_saved", meeting.meeting_id, session=session, version=minutes.version)
    return minutes


def export_record(store: StateStore, meeting: Meeting, rec: Recommendation, viewer: Viewer, audit: Audit) -> bytes:
    """The locked recommendation as PDF (decision, rationale, every confirmation with its time), audited."""
    from dashboard.state.record_pdf import record_pdf

    require(viewer, DSMB_ACTION)
    if not rec.locked:
        raise rules.MeetingRuleError(f"Recommendation #{rec.recommendation_id} is not locked yet: it is exported "
                                     "once every attendee has confirmed it.")
    chain = rules.correction_chain(store.recommendations(meeting.meeting_id), rec)
    pdf = record_pdf(meeting, rec, chain[1:])
    audit("export", what=rules.record_filename(meeting, rec), meeting_id=meeting.meeting_id,
          recommendation_id=rec.recommendation_id, sha256=hashlib.sha256(pdf).hexdigest())
    return pdf
