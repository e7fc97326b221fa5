"""Interim monitoring: the charter's stopping rules against the data. Information and the next look for
everyone; for the DSMB the boundaries at the observed information with the log-rank Z at every cut and
month, conditional and predictive power, repeated confidence intervals and the safety rules."""

import streamlit as st

from dashboard.analyses.common import selected_arms
from dashboard.analyses.monitoring import EVERYONE, monitoring
from dashboard.domain.charter import charter_summary
from dashboard.domain.monitoring_tables import looks_display, planned_looks_display, safety_rules_display
from dashboard.errors import InsufficientData
from dashboard.figures.monitoring import boundary_figure, events_figure
from dashboard.ui.context import current
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.messages import stop_with_info
from dashboard.ui.sections import PATIENT_PAGE

ctx = current()
view = ctx.view
st.title("Interim monitoring")
try:
    m = monitoring(view)
except InsufficientData as exc:
    stop_with_info(str(exc))
charter = m.charter
if ctx.subject_filter != EVERYONE:
    st.info(f"The sidebar's filters ({ctx.subject_filter.describe()}) do not apply here: the charter's stopping "
            "rules are about the whole trial, so every number on this page counts all patients.")
st.caption(f"{charter.title} (version {charter.version}) · {m.endpoint_label} · data cut {m.cut_date:%Y-%m-%d}. "
           "The whole trial is monitored: the sidebar's filters do not apply here.")

events_column, information_column, next_column = st.columns(3)
events_column.metric("Events (pooled)", f"{m.events} of {m.spec.planned_events}",
                     help="Events of the charter's primary endpoint in both arms together; the planned events are "
                          "the charter's.")
information_column.metric("Information fraction", f"{m.information:.0%}")
if m.next_look is None:
    next_column.metric("Next look", "final analysis reached")
else:
    next_column.metric(f"Next: {m.next_look.label} at {m.next_look.events} events",
                       f"{m.next_look.expected_on:%Y-%m-%d}" if m.next_look.expected_on else "not expected",
                       help=m.next_look.note)
    st.caption(f"Next: {m.next_look.label} at {m.next_look.events} events, {m.next_look.note}.")

left, right = st.columns([3, 2])
with left:
    chart(ctx, events_figure(m.events, m.cut_date, m.planned_looks, m.projection), key="monitoring_events",
          page="monitoring", name="events_and_projection")
with right:
    st.dataframe(planned_looks_display(m.planned_looks), hide_index=True, key="monitoring_planned_looks")
    st.caption("Every data cut is an analysis: a planned look that a cut went past is analysed at that cut.")
    if m.projection is not None:
        p = m.projection
        rates = ", ".join(f"{rate:.2f}" for rate in p.hazard_per_year)
        enrolling = (f", and to {p.to_enrol} patients still to enrol at {p.accrual_per_month:.1f} a month"
                     if p.to_enrol else "")
        silent = (" No event after day 365 so far, so none is projected after it." if p.hazard_per_year[-1] == 0
                  else "")
        st.caption(f"Projection: the pooled event rate so far per patient-year in study days 0-28, 29-90, 91-365 "
                   f"and later ({rates}), applied to the {p.followed} patients still followed to the end of their "
                   f"follow-up{enrolling}.{silent}")

with st.expander("The charter"):
    st.dataframe(charter_summary(charter), hide_index=True, key="monitoring_charter")

if m.design is None:
    st.info("Boundaries, the log-rank statistic, conditional power and the safety rules compare the arms: they are "
            "shown to the DSMB only. Blinded viewers see the pooled events, the information and the next look.")
    st.stop()

arms = selected_arms(view, EVERYONE)
experimental, control = arms[0], arms[-1]
st.subheader("Stopping boundaries")
if m.status is not None:
    shown = st.error if (m.status.efficacy_crossed or m.status.harm_crossed) else (
        st.warning if m.status.futility_crossed else st.success)
    shown(m.status.message + " The DSMB decides; the charter's rules are guidance.")
met = [r for r in m.safety if r.met]
if met:
    st.error("Safety rule met: " + "; ".join(f"{r.rule.description} ({', '.join(f'{g} {n}' for g, n in r.counts.items())})"
                                            f" — {r.rule.action}" for r in met) + ". See the safety rules below.")
chart(ctx, boundary_figure(m.design, m.planned_design, m.cuts, m.path, experimental, control), key="monitoring_boundaries",
      page="monitoring", name="stopping_boundaries")
looks = looks_display(m.looks_table, m.spec.sides)
st.dataframe(looks, hide_index=True, key="monitoring_looks", width="stretch")
st.caption(f"{m.design.describe()}. Boundaries are recomputed at the information each data cut reached "
           "(every cut is a look; the planned looks ahead keep their fractions) by recursive numerical integration "
           "(Jennison & Turnbull ch. 19), equal to R rpact. Z is the two-arm log-rank statistic, positive when "
           f"{experimental} has fewer events than expected; HR = exp(-Z (1 + r)/sqrt(r d)) with the charter's "
           f"allocation ratio r = {m.spec.allocation_ratio:g}. Repeated CIs keep their coverage however often the "
           "DSMB looks.")
download_table(ctx, looks, "monitoring_looks", key="monitoring_looks_download", page="monitoring")

st.subheader("Conditional and predictive power")
if m.conditional is None:
    st.info("The final analysis has been reached: there is no later look to predict.")
else:
    cp = m.conditional
    trend, design_hr, null, predictive = st.columns(4)
    trend.metric(f"Current trend (HR {cp.trend_hazard_ratio:.2f})", f"{cp.trend:.1%}")
    design_hr.metric(f"Design hazard ratio ({cp.design_hazard_ratio:g})", f"{cp.design:.1%}")
    null.metric("Under H0 (HR 1)", f"{cp.null:.1%}")
    predictive.metric("Predictive power (flat prior)", f"{cp.predictive:.1%}")
    st.caption(f"Probability of crossing the efficacy boundary at a later look given the data so far; "
               f"{cp.additional_events} more events to the final analysis at {m.spec.planned_events}. As rpact: the "
               "looks ahead stop at their efficacy and futility boundaries.")
power = m.power
st.caption(f"Power of the plan: {m.spec.planned_events} events give {power.power:.0%} power at the design hazard ratio "
           f"{m.spec.design_hazard_ratio:g} with these boundaries; 80% power would need about "
           f"{power.events_for_80:.0f} events ({power.fixed_sample_events_for_80:.0f} with a single analysis, "
           "Schoenfeld).")

st.subheader("Safety rules of the charter")
if not m.safety:
    st.info("The charter sets no safety rules.")
else:
    rules = safety_rules_display(m.safety)
    st.dataframe(rules.style.map(lambda v: "background-color: #F8D7DA; font-weight: bold" if v == "MET" else "",
                                 subset=["Status"]),
                 hide_index=True, key="monitoring_safety_rules", width="stretch",
                 column_config={"Rule": st.column_config.TextColumn(width="large"),
                                "Patients": st.column_config.TextColumn(width="medium")})
    download_table(ctx, rules, "monitoring_safety_rules", key="monitoring_safety_download", page="monitoring")
    counted = sorted({p for r in m.safety for p in r.patients})
    if counted:
        chosen = st.selectbox("Open a patient who counts toward a rule", counted, index=None,
                              key="monitoring_patient", placeholder="Patient")
        if chosen:
            st.switch_page(PATIENT_PAGE, query_params={"id": chosen})
