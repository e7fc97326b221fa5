"""Audit trail: logins, page views with their filters, exports. The data manager reads it redacted (nothing
from a DSMB session or about arms), the auditor whole; the access layer decides (AuditLog.read_for)."""

from datetime import datetime, time, timedelta, timezone

import streamlit as st

from dashboard.access.audit import DSMB_VIEW
from dashboard.access.viewer import allowed, require
from dashboard.ui.context import current
from dashboard.ui.downloads import download_table

ctx = current()
require(ctx.viewer, "view_audit")
st.title("Audit trail")
since_day = st.date_input("Events since", value=datetime.now(timezone.utc).date() - timedelta(days=7), key="audit_since")
events = ctx.audit.read_for(ctx.viewer, datetime.combine(since_day, time.min, tzinfo=timezone.utc),
                            trial_blinded=ctx.view.trial_blinded)
names = st.multiselect("Event types", sorted(events["name"].unique()), key="audit_names")
if names:
    events = events[events["name"].isin(names)]
whole = allowed(ctx.viewer, "read_whole_audit") or not ctx.view.trial_blinded
redaction = ("The whole trail, DSMB sessions and arm values included." if whole else
             f"Redacted for a blinded reader: events of unblinded (DSMB) sessions show {DSMB_VIEW} instead of their "
             "details, and arm criteria and arm names are removed.")
st.caption(f"{len(events)} events, oldest first. The trail is append-only and kept outside the trial database. "
           + redaction)
st.dataframe(events, hide_index=True, key="audit_table")
download_table(ctx, events, "audit_trail", key="audit_download", page="audit")
