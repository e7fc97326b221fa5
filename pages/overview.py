"""Overview: where the trial stands. Enrolment against plan, disposition, follow-up completeness."""

import streamlit as st

from dashboard.domain.overview import disposition, enrolment_progress, follow_up_completeness
from dashboard.figures.overview import completeness_figure, disposition_figure, enrolment_figure
from dashboard.figures.style import arm_colors
from dashboard.ui.cache import query
from dashboard.ui.context import current
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.messages import stop_if_no_patients

ctx = current()
view, f = ctx.view, ctx.subject_filter
st.title("Overview")
subjects = query(view, "subjects", f)
stop_if_no_patients(len(subjects), f)
study = query(view, "study")
colors = arm_colors(view.arms())

left, right = st.columns(2)
progress = enrolment_progress(subjects, planned_n=int(study["planned_n"]), start=study["enrolment_start"],
                              months=float(study["enrolment_months"]), group_col=view.group_col)
with left:
    chart(ctx, enrolment_figure(progress, colors), key="overview_enrolment", name="enrolment", page="overview")
disp = disposition(subjects, group_col=view.group_col)
with right:
    chart(ctx, disposition_figure(disp, colors), key="overview_disposition", name="disposition", page="overview")

completeness = follow_up_completeness(query(view, "visit_completeness", f))
chart(ctx, completeness_figure(completeness), key="overview_completeness", name="completeness", page="overview")
st.caption("Visits are due when their window closed before the data cut and before the patient left the study. "
           "Disposition as known at the data cut.")
disposition_table = disp.pivot(index="status", columns="group", values="n").reset_index()
st.dataframe(disposition_table, hide_index=True, key="overview_disposition_table")
download_table(ctx, disposition_table, "disposition", key="overview_disposition_download", page="overview")
