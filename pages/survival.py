"""Survival: do patients on UC-MSC die (or need a transplant) less, or more? Kaplan-Meier or cumulative
incidence, log-rank, Cox, milestones and RMST, live at any as-of date. DSMB by arm; others pooled."""

import streamlit as st

from dashboard.domain.competing_risks import cumulative_incidence
from dashboard.domain.endpoints import ENDPOINTS
from dashboard.errors import InsufficientData
from dashboard.figures.km import cif_figure, km_figure
from dashboard.figures.style import arm_colors
from dashboard.ui import page_data
from dashboard.ui import survival_panels as panels
from dashboard.ui.cache import computed, query
from dashboard.ui.context import current
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.messages import stop_if_no_patients, stop_with_info

ctx = current()
view, f = ctx.view, ctx.subject_filter
arms = page_data.selected_arms(view, f)  # [active, control] or the one the filter keeps; [] when blinded
colors = arm_colors(view.arms())
groups = tuple(arms) or None  # study order, control arm last; None for a pooled (blinded) view
st.title("Survival")
stop_if_no_patients(query(view, "count_subjects", f)[0], f)
cut = query(view, "study")["data_cut_date"].date()
first = query(view, "first_randomized", f)

# Derived endpoints, then any time-to-event parameter imported from ADaM ADTTE (e.g. the pilot's TTDE).
imported = query(view, "tte_parameters").set_index("paramcd")["param"].to_dict()
labels = {k: e.short for k, e in ENDPOINTS.items()} | imported
endpoint = st.segmented_control("Endpoint", list(labels), default="os", key="survival_endpoint",
                               format_func=labels.get) or "os"
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
rows = page_data.survival_rows(view, f, endpoint, recensor_at)
if rows.empty:
    stop_with_info(f"No selected patient had started treatment by {as_of:%Y-%m-%d}. Choose a later as-of date.")
st.caption(f"{label} · data as of {as_of:%Y-%m-%d} · time from the first dose (day 1)"
           + ("" if arms else " · blinded view: all patients pooled; between-arm comparisons are not shown"))

selection = ("points", "box", "lasso")
try:
    if endpoint == "cr":
        cif = cumulative_incidence(rows, group_col=view.group_col, groups=groups)
        event = chart(ctx, cif_figure(cif, colors=colors, time_unit=options.time_unit), key="survival_cif",
                                on_select="rerun", selection_mode=selection, page="survival")
        st.caption(cif.method)
    else:
        analysis = computed(view, page_data.survival, f, endpoint, recensor_at, options.conf_type)
        fig = km_figure(analysis.km, colors=colors, show_ci=options.show_ci, time_unit=options.time_unit,
                        show_median=options.show_median, risk_table_rows=options.risk_rows)
        event = chart(ctx, fig, key="survival_km", on_select="rerun", selection_mode=selection, page="survival")
        st.caption(panels.AT_RISK_CONVENTION)
except InsufficientData as exc:
    stop_with_info(f"{exc} (as of {as_of:%Y-%m-%d}).")
panels.selected_patients(rows, panels.selected_days(event, options.per))

if endpoint == "cr":
    panels.cif_tables(rows, cif, arms)
else:
    panels.km_tables(analysis, options)
    milestones, restricted = st.columns(2)
    with milestones:
        panels.milestone_tables(analysis)
    with restricted:
        panels.rmst_tables(analysis, options)
    st.caption("Kaplan-Meier estimates at every distinct time:")
    download_table(ctx, analysis.km.table.drop(columns="usubjids"), f"km_{endpoint}_{as_of:%Y%m%d}",
                   key="survival_download", page="survival")

more = st.segmented_control(
    "More", ["Subgroup forest plot"] + (["Curves as the data accrued", "Compare with an earlier cut"] if derived else []),
    key="survival_more")
if more == "Subgroup forest plot":
    panels.subgroup_panel(rows, arms, colors)
elif more == "Curves as the data accrued":
    panels.accrual_panel(view, f, "tfs" if endpoint == "tfs" else "os", first, cut, groups, colors, options)
elif more == "Compare with an earlier cut":
    panels.cut_comparison_panel(f, "tfs" if endpoint == "tfs" else "os", colors, options)
