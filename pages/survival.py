"""Survival: do patients on UC-MSC die (or need a transplant) less, or more? Kaplan-Meier or cumulative
incidence, log-rank, Cox, milestones and RMST, live at any as-of date. DSMB by arm; others pooled."""

import streamlit as st

from dashboard.analyses import survival as analyses
from dashboard.analyses.common import selected_arms
from dashboard.domain.endpoints import COMPETING_RISKS, ENDPOINTS, OVERALL_SURVIVAL, TRANSPLANT_FREE
from dashboard.errors import InsufficientData
from dashboard.figures.km import cif_figure, km_figure
from dashboard.figures.style import arm_colors
from dashboard.ui import survival_panels as panels
from dashboard.ui.context import current
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.messages import stop_if_no_patients, stop_with_info
from dashboard.ui.sections import control

ctx = current()
view, f = ctx.view, ctx.subject_filter
arms = selected_arms(view, f)  # [active, control] or the one the filter keeps; [] when blinded
colors = arm_colors(view.arms())
st.title("Survival")
stop_if_no_patients(view.count_subjects(f)[0], f, blinded=not view.sees_arms)
cut = view.study()["data_cut_date"].date()
first = view.first_randomized(f)

# Derived endpoints, then any time-to-event parameter imported from ADaM ADTTE (e.g. the pilot's TTDE).
imported = view.tte_parameters().set_index("paramcd")["param"].to_dict()
labels = {k: e.short for k, e in ENDPOINTS.items()} | imported
endpoints = control("survival_endpoint")
endpoint = st.segmented_control(endpoints.label, list(labels), default=endpoints.default, key=endpoints.key,
                                format_func=labels.get) or endpoints.default
derived = endpoint in ENDPOINTS
as_of_column, options_column = st.columns([8, 1], vertical_alignment="bottom")
as_of = as_of_column.slider("As of", min_value=first, max_value=cut, value=cut, format="YYYY-MM-DD",
                            key="survival_as_of", disabled=not derived,
                            help="Re-censors all data at this date: what the DSMB would have seen then. "
                                 "Ranges from the first randomisation to the data cut. Imported ADTTE "
                                 "parameters carry no event dates, so they cannot be re-censored.")
with options_column.popover("Figure"):
    options = panels.figure_options()

if derived:
    label = ENDPOINTS[endpoint].label
else:
    as_of, label = cut, f"{imported[endpoint]} (imported ADTTE)"
recensor_at = None if as_of == cut else as_of
st.caption(f"{label} · data as of {as_of:%Y-%m-%d} · time from the first dose (day 1)"
           + ("" if arms else " · blinded view: all patients pooled; between-arm comparisons are not shown"))

selection = ("points", "box", "lasso")
try:
    if endpoint == COMPETING_RISKS:
        competing = analyses.competing_risks(view, f, recensor_at)
        fig = cif_figure((("death", competing.cif), ("transplant", competing.transplant_cif)), colors=colors,
                         time_unit=options.time_unit, show_ci=options.show_ci)
        event = chart(ctx, fig, key="survival_cif",
                      on_select="rerun", selection_mode=selection, page="survival")
        st.caption(competing.cif.method)
    else:
        analysis = analyses.survival(view, f, endpoint, recensor_at, options.conf_type)
        fig = km_figure(analysis.km, colors=colors, show_ci=options.show_ci, time_unit=options.time_unit,
                        show_median=options.show_median, risk_table_rows=options.risk_rows,
                        small_cells=not view.sees_arms)
        event = chart(ctx, fig, key="survival_km", on_select="rerun", selection_mode=selection, page="survival")
        st.caption(panels.AT_RISK_CONVENTION)
except InsufficientData as exc:
    stop_with_info(f"{exc} (as of {as_of:%Y-%m-%d}). Choose a later as-of date or widen the filters.")
panels.selected_patients(f, endpoint, recensor_at, panels.selected_days(event, options.per))

if endpoint == COMPETING_RISKS:
    panels.cif_tables(competing, compared=len(arms) > 1)
else:
    panels.km_tables(analysis, options)
    milestones, restricted = st.columns(2)
    with milestones:
        panels.milestone_tables(analysis)
    with restricted:
        panels.rmst_tables(f, endpoint, recensor_at, options)
    st.caption("Kaplan-Meier estimates at every distinct time:")
    download_table(ctx, analysis.km.table.drop(columns="usubjids"), f"km_{endpoint}_{as_of:%Y%m%d}",
                   key="survival_download", page="survival")

more = control("survival_more")
# The accrual and cut comparison re-derive an endpoint from event dates: imported ADTTE parameters have none.
panels_shown = more.options if derived else more.options[:1]
chosen = st.segmented_control(more.label, panels_shown, key=more.key)
# Death with transplant competing animates and compares as overall survival (the same deaths).
curve_endpoint = TRANSPLANT_FREE if endpoint == TRANSPLANT_FREE else OVERALL_SURVIVAL
if chosen == more.options[0]:
    panels.subgroup_panel(f, endpoint if endpoint != COMPETING_RISKS else OVERALL_SURVIVAL, recensor_at, colors)
elif chosen == more.options[1]:
    panels.accrual_panel(f, curve_endpoint, colors, options)
elif chosen == more.options[2]:
    panels.cut_comparison_panel(f, curve_endpoint, colors, options)
