"""Audit trail, for data managers: logins, page views with their filters, exports."""

from datetime import datetime, time, timedelta, timezone

import streamlit as st

from dashboard.access.viewer import require
from dashboard.ui.context import current
from dashboard.ui.downloads import download_table

ctx = current()
require(ctx.viewer, "view_audit")
st.title("Audit trail")
since_day = st.date_input("Events since", value=datetime.now(timezone.utc).date() - timedelta(days=7), key="audit_since")
events = ctx.audit.read(datetime.combine(since_day, time.min, tzinfo=timezone.utc))
names = st.multiselect("Event types", sorted(events["name"].unique()), key="audit_names")
if names:
    events = events[events["name"].isin(names)]
st.caption(f"{len(events)} events, oldest first. The trail is append-only and kept outside the trial database.")
st.dataframe(events, hide_index=True, key="audit_table")
download_table(ctx, events, "audit_trail", key="audit_download", page="audit")
