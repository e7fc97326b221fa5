"""DSMB meetings, for the DSMB only: the meeting of the current data cut, its open and closed reports (each
download one numbered copy for the logged-in member, built from the meeting's own cut), the recommendation on
record confirmed by every attending member with their own login and then locked, and the minutes of the open
and closed sessions. The rules and the records are in dashboard.domain.meetings and dashboard.state."""

from datetime import date
from functools import partial

import pandas as pd
import streamlit as st

from dashboard import config
from dashboard.access.viewer import require
from dashboard.domain import meetings as rules
from dashboard.errors import DashboardError
from dashboard.state import StateStore, actions
from dashboard.state.store import DSMB_ACTION
from dashboard.ui.context import current as current_context
from dashboard.ui.context import record, trial_view

PAGE = "meetings"
PDF = "application/pdf"

ctx = current_context()
require(ctx.viewer, DSMB_ACTION)
viewer, view = ctx.viewer, ctx.view
store = StateStore(config.DASHBOARD_STATE.value())


def audit(name: str, **properties) -> None:
    record(ctx, name, PAGE, **properties)


def names(meeting: rules.Meeting) -> dict[str, str]:
    return {a.username: a.label for a in meeting.attendees}


def done(message: str) -> None:
    st.session_state["meetings_notice"] = message
    st.rerun()


st.title("DSMB meetings")
st.caption("Each meeting reviews one data cut; its reports are built from that cut whatever is published later. "
           "The recommendation is locked once every attending member has confirmed it with their own login.")
if notice := st.session_state.pop("meetings_notice", None):
    st.success(notice)

cut = actions.cut_ref(view)
dsmb = actions.dsmb_users(config.DASHBOARD_USERS.value())
if store.meeting_for_cut(cut) is None:
    with st.form("meetings_create"):
        st.subheader(f"Meeting for data cut {cut.cut_id} ({cut.cut_date:%Y-%m-%d})")
        title = st.text_input("Title", rules.default_title(cut.cut_date), max_chars=rules.MAX_TITLE)
        meeting_on = st.date_input("Meeting date", date.today())
        labels = {a.username: a.label for a in dsmb}
        chosen = st.multiselect("Attending DSMB members", list(labels), default=[viewer.username] if viewer.username
                                in labels else [], format_func=labels.get)
        if st.form_submit_button("Create meeting", type="primary"):
            try:
                created = actions.create_meeting(store, view, audit, title=title, meeting_on=meeting_on,
                                                 attendees=[a for a in dsmb if a.username in chosen], all_dsmb=dsmb)
            except DashboardError as exc:
                st.error(str(exc))
            else:
                done(f"Meeting #{created.meeting_id} created for data cut {cut.cut_id}.")

all_meetings = store.meetings(cut.study_id)
if not all_meetings:
    st.info("No DSMB meeting yet for this trial. Create the meeting for the current data cut above.")
    st.stop()
meeting = st.selectbox("Meeting", all_meetings, key="meetings_selected",
                       format_func=lambda m: f"#{m.meeting_id} {m.title} ({m.meeting_on:%Y-%m-%d}, data cut "
                                             f"{m.cut.cut_id})")
who = names(meeting)
st.markdown(f"**{meeting.title}** on {meeting.meeting_on:%Y-%m-%d}, reviewing data cut {meeting.cut.cut_id} of "
            f"{meeting.cut.cut_date:%Y-%m-%d}.")
st.caption(f"Cut checksum {meeting.cut.checksum[:16]}…"
           + (f" · charter SHA-256 {meeting.cut.charter_sha256[:16]}…" if meeting.cut.charter_sha256 else " · no charter")
           + f" · attendees: {', '.join(who.values())} · created by {meeting.created_by} at "
           f"{rules.utc_label(meeting.created_at)}")

# --- reports --------------------------------------------------------------------------------------------
st.subheader("Reports")
try:
    cut_view = actions.view_of_meeting_cut(meeting, view, lambda path: trial_view(viewer, path))
except DashboardError as exc:
    cut_view = None
    st.warning(str(exc))
left, right = st.columns(2)
for column, kind in ((left, "open"), (right, "closed")):
    column.download_button(
        f"Download {kind} report (PDF)",
        partial(lambda k: actions.issue_copy(store, meeting, k, cut_view, audit).pdf, kind),
        f"dsmb_{kind}_report_meeting{meeting.meeting_id}_cut{meeting.cut.cut_date:%Y-%m-%d}.pdf", PDF,
        key=f"meetings_{kind}_{meeting.meeting_id}", on_click="ignore", disabled=cut_view is None,
        icon=":material/picture_as_pdf:", type="primary" if kind == "closed" else "secondary",
        help=f"{rules.REPORT_KINDS[kind]}: one click is one numbered copy for {viewer.username}, recorded and audited.")
copies = store.copies(meeting.meeting_id)
if copies:
    st.dataframe(pd.DataFrame([{"report": c.kind, "copy": c.number, "recipient": c.recipient,
                                "generated": rules.utc_label(c.generated_at),
                                "SHA-256": (c.sha256 or "not delivered")[:16]} for c in copies]),
                 hide_index=True, key="meetings_copies")
else:
    st.caption("No copy issued yet.")

# --- recommendation -------------------------------------------------------------------------------------
st.subheader("Recommendation")
attending = viewer.username in meeting.usernames
recommendations = store.recommendations(meeting.meeting_id)
on_record = rules.on_record(recommendations)
choices = list(rules.RECOMMENDATIONS)


def recommendation_form(key: str, submit: str, corrects: int | None = None, start: rules.Recommendation | None = None):
    with st.form(key):
        decision = st.radio("Recommendation", choices, format_func=rules.RECOMMENDATIONS.get,
                            index=choices.index(start.decision) if start else 0)
        rationale = st.text_area("Rationale", start.rationale if start else "", max_chars=rules.MAX_RATIONALE)
        if st.form_submit_button(submit, type="primary"):
            try:
                if start is not None:
                    actions.revise(store, start, viewer, audit, decision, rationale)
                else:
                    actions.record_recommendation(store, meeting, viewer, audit, decision, rationale, corrects=corrects)
            except DashboardError as exc:
                st.error(str(exc))
            else:
                done(f"{submit}: done.")


if on_record is None:
    if attending:
        st.caption("After the closed session, record the board's recommendation; every attending member then "
                   "confirms it with their own login.")
        recommendation_form(f"meetings_record_{meeting.meeting_id}", "Record recommendation")
    else:
        st.info("No recommendation recorded yet; an attending member records it.")
else:
    rec = on_record
    with st.container(border=True):
        st.markdown(f"### {rec.decision_label}")
        st.markdown(rec.rationale)
        st.caption(f"Record #{rec.recommendation_id}, recorded by {who.get(rec.recorded_by, rec.recorded_by)} at "
                   f"{rules.utc_label(rec.recorded_at)}" + (f"; corrects record #{rec.corrects_id}" if rec.corrects_id else ""))
        if rec.confirmations:
            st.dataframe(pd.DataFrame([{"member": who.get(c.username, c.username),
                                        "confirmed at": rules.utc_label(c.confirmed_at)} for c in rec.confirmations]),
                         hide_index=True, key="meetings_confirmations")
        if rec.locked:
            st.success(rules.status_line(meeting, rec), icon=":material/lock:")
            st.download_button("Download the record (PDF)",
                               partial(actions.export_record, store, meeting, rec, viewer, audit),
                               rules.record_filename(meeting, rec), PDF, key=f"meetings_record_pdf_{rec.recommendation_id}",
                               on_click="ignore", icon=":material/picture_as_pdf:")
        else:
            st.info(rules.status_line(meeting, rec))
            if attending and viewer.username not in rec.confirmed_by:
                if st.button(f"Confirm as {viewer.label}", key=f"meetings_confirm_{rec.recommendation_id}", type="primary"):
                    try:
                        confirmed = actions.confirm(store, rec, viewer, audit)
                    except DashboardError as exc:
                        st.error(str(exc))
                    else:
                        done("Confirmed; the record is now locked." if confirmed.locked else "Confirmed.")
            elif viewer.username in rec.confirmed_by:
                st.caption("You have confirmed this record.")
    if rec.locked and attending:
        with st.expander("Record a correction"):
            st.caption("A locked record is never edited. A correction is a new record, linked to this one, that "
                       "every attendee confirms again.")
            recommendation_form(f"meetings_correct_{rec.recommendation_id}", "Record correction",
                                corrects=rec.recommendation_id)
    elif not rec.locked and viewer.username == rec.recorded_by:
        with st.expander("Revise (before everyone has confirmed)"):
            st.caption("Revising voids the confirmations given so far.")
            recommendation_form(f"meetings_revise_{rec.recommendation_id}", "Save revision", start=rec)
    earlier = rules.correction_chain(recommendations, rec)[1:]
    if earlier:
        with st.expander(f"Corrected records ({len(earlier)})"):
            for old in earlier:
                st.markdown(f"**#{old.recommendation_id}: {old.decision_label}** (locked {rules.utc_label(old.locked_at)}, "
                            f"corrected by #{old.corrected_by_id})\n\n{old.rationale}")

# --- minutes --------------------------------------------------------------------------------------------
st.subheader("Minutes")
st.caption("The open session's minutes are pooled (no result by arm); the closed session's are for the DSMB only.")
for tab, session in zip(st.tabs(list(rules.SESSIONS.values())), rules.SESSIONS, strict=True):
    with tab:
        saved = store.minutes(meeting.meeting_id, session, reader=viewer)
        with st.form(f"meetings_minutes_{session}_{meeting.meeting_id}"):
            text = st.text_area(rules.SESSIONS[session], saved.text if saved else "", height=200,
                                max_chars=rules.MAX_MINUTES)
            if saved:
                st.caption(f"Version {saved.version}, saved by {saved.written_by} at "
                           f"{rules.utc_label(saved.written_at)}; earlier versions are kept.")
            if st.form_submit_button("Save minutes", disabled=not attending):
                try:
                    actions.save_minutes(store, meeting, session, text, viewer, audit)
                except DashboardError as exc:
                    st.error(str(exc))
                else:
                    done(f"{rules.SESSIONS[session]} minutes saved.")
