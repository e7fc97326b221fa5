"""Overview: where the trial stands. What is new since the previous data cut, enrolment against plan,
disposition, follow-up completeness."""

import streamlit as st

from dashboard.analyses.overview import study_status
from dashboard.figures.overview import completeness_figure, disposition_figure, enrolment_figure
from dashboard.figures.style import arm_colors
from dashboard.ui.context import current
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.messages import stop_if_no_patients
from dashboard.ui.pooled import disclosed, numeric_columns

# Column headings of the "new since the previous cut" lists.
CHANGE_COLUMNS = {
    "usubjid": "Patient", "site_id": "Site", "status": "Status", "arm": "Arm", "death_cause": "Cause of death",
    "randomized_on": st.column_config.DateColumn("Randomised", format="YYYY-MM-DD"),
    "day1_on": st.column_config.DateColumn("Day 1", format="YYYY-MM-DD"),
    "death_on": st.column_config.DateColumn("Died on", format="YYYY-MM-DD"),
    "ae_id": "AE id", "term": "Term", "soc": "System organ class", "grade": "Grade", "onset_day": "Onset day",
    "outcome": "Outcome", "paramcd": "Test", "param": "Test name", "visit": "Visit", "study_day": "Study day",
    "previous_value": "Previous value", "value": "Value", "unit": "Unit",
}

ctx = current()
view, f = ctx.view, ctx.subject_filter
st.title("Overview")
status = study_status(view, f)
stop_if_no_patients(status.n_selected, f)
colors = arm_colors(view.arms())

changes = view.changes_since_previous_cut(f)
if changes is None:
    st.caption(f"No earlier data cut is kept for this database, so there is nothing to compare cut {view.cut_id} "
               "with yet: what is new shows here from the next cut on.")
else:
    with st.container(border=True, key="overview_changes"):
        st.markdown(f"**{changes.title}**")
        for col, (label, n) in zip(st.columns(5), changes.counts().items()):
            col.metric(label, n)
        listed = {label: rows for label, rows in changes.frames().items() if len(rows)}
        if listed:
            with st.expander("The patients and records"):
                for tab, (label, rows) in zip(st.tabs([f"{label} ({len(rows)})" for label, rows in listed.items()]),
                                              listed.items()):
                    tab.dataframe(rows, hide_index=True, column_config=CHANGE_COLUMNS,
                                  key=f"overview_changes_{label.lower().replace(' ', '_')}")
        st.caption(f"Selected patients, compared with the kept copy of cut {changes.previous_cut_id}. Serious AEs: "
                   "serious now, not before (same patient, term and onset day). Changed lab values: same patient, "
                   "test and study day, another value. The Patients list marks each patient's changes.")

# What changed since the previous cut lists records, for data management; the pooled summaries below it are
# not shown to a blinded viewer for fewer than 5 patients.
stop_if_no_patients(status.n_selected, f, blinded=not view.sees_arms)
left, right = st.columns(2)
with left:
    chart(ctx, enrolment_figure(status.enrolment, colors), key="overview_enrolment", name="enrolment", page="overview")
with right:
    chart(ctx, disposition_figure(status.disposition, colors, small_cells=not view.sees_arms), key="overview_disposition",
          name="disposition", page="overview")

chart(ctx, completeness_figure(status.completeness), key="overview_completeness", name="completeness", page="overview")
st.caption("Visits are due when their window closed before the data cut and before the patient left the study. "
           "Disposition as known at the data cut.")
disposition_table = status.disposition.pivot(index="status", columns="group", values="n").reset_index()
disposition_table = disclosed(view, disposition_table, numeric_columns(disposition_table))
st.dataframe(disposition_table, hide_index=True, key="overview_disposition_table")
download_table(ctx, disposition_table, "disposition", key="overview_disposition_download", page="overview")
