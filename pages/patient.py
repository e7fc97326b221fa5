"""Patient profile (/patient?id=...): one patient's whole course on one screen.

For investigators following their patients and the DSMB reviewing each death: labs against their
reference ranges, MELD scores, ascites, adverse events and post-infusion temperature on one study-day
axis. The arm appears only when the data carry it (unblinded viewers).
"""

import streamlit as st

from dashboard.domain import profile
from dashboard.domain.cut_changes import patient_notes
from dashboard.domain.labs import LAB_PARAMETERS
from dashboard.figures.profile import course_figure, lab_panels_figure, post_infusion_temperature_figure
from dashboard.ui.context import current, record
from dashboard.ui.downloads import download_table
from dashboard.ui.messages import stop_with_info
from dashboard.ui.sections import PATIENTS_PAGE

ctx = current()
view, f = ctx.view, ctx.subject_filter
usubjid = st.query_params.get("id", "").strip()
st.page_link(PATIENTS_PAGE, label="Back to the patient list", icon=":material/arrow_back:")
if not usubjid:
    stop_with_info("No patient chosen. Pick one on the Patients page, or open /patient?id=<patient id>.")
course = view.patient(usubjid)
if course["subject"].empty:
    stop_with_info(f"There is no patient \"{usubjid}\" in this data cut. Check the id, or pick a patient on the "
                   "Patients page.")
ids = view.subject_ids(f)
if usubjid not in ids:
    stop_with_info(f"Patient {usubjid} is not among the patients selected by the current filters "
                   f"({f.describe()}). Widen or clear the filters in the sidebar to open this patient.")
# The shell audits page views per filter; which patient was opened matters too (DSMB reviews are audited).
if st.session_state.get("patient_audited_id") != usubjid:
    record(ctx, "page_view", "patient", usubjid=usubjid, cut_id=view.cut_id)
    st.session_state["patient_audited_id"] = usubjid

st.title(f"Patient {usubjid}")
changes = view.changes_since_previous_cut(f)
notes = patient_notes(changes, usubjid) if changes is not None else []
if notes:
    st.markdown(" ".join(f":orange-badge[:material/fiber_new: {note}]" for note in notes))
prev_id, next_id = profile.neighbours(ids, usubjid)


def _open(other: str) -> None:
    # A page_link to the page already shown does not navigate; changing our own URL key reruns with it.
    st.query_params["id"] = other


left, middle, right = st.columns([1, 1, 2])
left.button(f"Previous: {prev_id or '-'}", key="patient_prev", icon=":material/chevron_left:",
            disabled=prev_id is None, on_click=_open, args=(prev_id,))
middle.button(f"Next: {next_id or '-'}", key="patient_next", icon=":material/chevron_right:",
              disabled=next_id is None, on_click=_open, args=(next_id,))
right.caption(f"Patient {ids.index(usubjid) + 1} of {len(ids)} in the current selection.")

subject, labs = course["subject"], course["labs"]
with st.container(border=True, key="patient_header"):
    facts = list(profile.header_facts(subject, course["infusions"]).items())
    for start in range(0, len(facts), 5):
        for col, (label, text) in zip(st.columns(5), facts[start:start + 5]):
            col.markdown(f"**{label}**  \n{text}")

infusion_days = course["infusions"]["study_day"].tolist()
outcomes = profile.outcome_days(subject)
span = profile.day_span(subject, labs, course["ascites"], course["adverse_events"])


@st.fragment
def lab_section() -> None:
    # A fragment: switching the scale redraws the lab panels only, not the whole profile.
    st.subheader("Labs")
    scale = st.segmented_control("Scale", list(profile.SCALES), format_func=profile.SCALES.get, default="raw",
                                 required=True, key="patient_scale")
    panels = profile.lab_panels(labs, scale=scale)
    if panels.empty:
        st.info("No lab results recorded for this patient.")
        return
    st.plotly_chart(lab_panels_figure(panels, scale=scale, infusion_days=infusion_days, outcomes=outcomes,
                                      x_range=span), key="patient_labs")
    log_codes = ", ".join(p.paramcd for p in LAB_PARAMETERS if p.log_scale)
    st.caption("Green band: the reference range each record reports; open circles: outside it. Dotted blue lines: "
               f"infusions; dashed black: death or transplant. Log scale for {log_codes} (raw and x ULN). "
               "Change from baseline: minus the baseline (visit 0) value; x ULN: divided by the record's upper limit.")


lab_section()

st.subheader("MELD scores, ascites and adverse events")
lane = profile.ae_lane(course["adverse_events"], last_day=int(span[1]))
st.plotly_chart(course_figure(labs, course["ascites"], lane, infusion_days=infusion_days, outcomes=outcomes,
                              x_range=span), key="patient_course")
st.caption("MELD (UNOS), MELD-Na (OPTN 2016) and MELD 3.0 from each visit's labs. Ascites: grade bars and deepest "
           "pocket (cm). Adverse events from onset to end (ongoing: to last contact), coloured by CTCAE grade; "
           "thick outline = serious, star = infusion-related.")

st.subheader("Temperature in the 24 h after each infusion")
temps = profile.post_infusion_temperatures(course["vitals"], course["infusions"])
if temps.empty:
    st.info("No post-infusion temperatures recorded for this patient.")
else:
    st.plotly_chart(post_infusion_temperature_figure(temps), key="patient_temperature")
    st.caption("Axillary temperature before (PRE) and after the end of each infusion; dotted lines at the "
               "protocol fever thresholds 37.3 C and 38.0 C.")

st.subheader("Labs by visit")
table = profile.visit_lab_table(labs, changes.changed_labs if changes is not None else None)
st.dataframe(profile.format_visit_lab_table(table), hide_index=True, key="patient_visit_table")
changed_words = (f" {profile.CHANGED_MARK} was x: changed {changes.since}, where it was x (in the download: the "
                 "'was' column)." if changes is not None else "")
st.caption(f"▲ above, ▼ below the record's reference range.{changed_words} The download has one value and one flag "
           "column per lab.")
download_table(ctx, table, f"patient_{usubjid}_labs_by_visit", key="patient_visit_download", page="patient")
