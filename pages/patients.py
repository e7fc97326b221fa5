"""Patients: who passes the global filters, each with a MELD trend; choosing a row opens the profile.

For investigators reviewing their patients and the DSMB going through deaths. The arm column is
shown only when the data carry it (unblinded viewers); blinded data have no arm column at all.
"""

import streamlit as st

from dashboard.domain.cut_changes import with_change_markers
from dashboard.domain.profile import LIST_LIMIT, list_rows, search_rows, with_trends
from dashboard.ui.context import current
from dashboard.ui.messages import stop_if_no_patients, stop_with_info
from dashboard.ui.sections import PATIENT_PAGE

ctx = current()
view, f = ctx.view, ctx.subject_filter
st.title("Patients")
subjects = view.subjects(f)
stop_if_no_patients(len(subjects), f)
changes = view.changes_since_previous_cut(f)
table = with_change_markers(list_rows(subjects), changes)

text = st.text_input("Search the list", key="patients_search", placeholder="id, site, etiology, status ...")
matches = search_rows(table, text)
if matches.empty:
    stop_with_info(f"None of the {len(table)} selected patients matches \"{text}\". Clear the search box.")
# A list longer than anyone reads is not sent: the first LIST_LIMIT matches, with MELD trends for those only.
shown = matches.head(LIST_LIMIT)
shown = with_trends(shown, view.meld_trends_of(tuple(shown["usubjid"])))

column_config = {
    "usubjid": st.column_config.TextColumn("Patient", pinned=True),
    "site_id": "Site",
    "age": st.column_config.NumberColumn("Age", format="%d"),
    "sex": "Sex",
    "etiology": "Etiology",
    "lf_type": "Liver-failure type",
    "baseline_meld": st.column_config.NumberColumn("Baseline MELD", format="%d"),
    "latest_meld": st.column_config.NumberColumn("Latest MELD", format="%d"),
    "status": st.column_config.TextColumn("Status", width="medium"),
    "days_on_study": st.column_config.NumberColumn("Days on study", format="%d"),
    "meld_trend": st.column_config.LineChartColumn("MELD trend", y_min=6, y_max=40, width="medium"),
}
if "arm" in shown.columns:
    column_config["arm"] = "Arm"
if changes is not None:
    column_config["since_previous_cut"] = st.column_config.TextColumn(
        f"New/changed {changes.since}", width="medium",
        help="New patient, death, new serious AE, changed lab value or new lab records since the previous cut.")
event = st.dataframe(shown, column_config=column_config, hide_index=True, on_select="rerun",
                     selection_mode="single-row", key="patients_table", height=min(36 * len(shown) + 40, 640))
if len(matches) > len(shown):
    st.caption(f"Showing the first {len(shown):,} of {len(matches):,} matching patients: search or narrow the "
               "filters in the sidebar to find the others.")
st.caption(f"{len(matches):,} of {len(table):,} selected patients. Click a row to open the patient's profile; click a "
           "column header to sort. MELD trend: MELD (UNOS) at each visit, axis 6 to 40. Days on study: first "
           "infusion (day 1) to last contact.")

if event.selection.rows:
    st.switch_page(PATIENT_PAGE, query_params={"id": shown.loc[event.selection.rows[0], "usubjid"]})
