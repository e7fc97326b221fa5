"""Labs over time: did a lab or MELD score move differently on UC-MSC, visit by visit, and how sure are we.

For the DSMB (arms shown, between-arm comparison per visit) and for blinded viewers (the same views
pooled, no comparison). Patients who left between visits are counted under the curves, because the
sickest leave first and survivors' means then improve in both arms.
"""

import streamlit as st

from dashboard.analyses import labs as analyses
from dashboard.domain.death_aware import death_ranked_worst_tables
from dashboard.domain.lab_safety import MDISH_DEFAULT_CUTS, WHY_MDISH
from dashboard.domain.labs import BY_CODE, LAB_PARAMETERS, describe
from dashboard.errors import InsufficientData, UnsuitableData
from dashboard.figures.death_aware import state_bars_figure
from dashboard.figures.labs import box_by_visit_figure, mdish_figure, mean_by_visit_figure, spaghetti_figure
from dashboard.figures.style import arm_colors
from dashboard.ui.context import current
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.messages import stop_if_no_patients, stop_with_info
from dashboard.ui.pooled import disclosed
from dashboard.ui.sections import control
from dashboard.ui.selection import open_selected_patients

PAGE = "labs"
MODES = {"value": "Value", "chg": "Change from baseline", "pchg": "% change"}
STATS = {"mean": "Mean (95% CI)", "median": "Median (IQR)"}
SUMMARY_SHOWN = ["group", "visit", "n", "mean", "sd", "median", "q1", "q3", "min", "max"]

ctx = current()
view, f = ctx.view, ctx.subject_filter
colors = arm_colors(view.arms())
st.title("Labs over time")
stop_if_no_patients(view.count_subjects(f)[0], f, blinded=not view.sees_arms)

c1, c2, c3 = st.columns([2, 2, 1.4])
available = view.lab_parameters().set_index("paramcd")
if available.empty:
    stop_with_info("This data cut has no lab results.")
params = {c: describe(c, available.at[c, "param"], available.at[c, "unit"]) for c in available.index}
# Registry labs first in their clinical order, then any other test code an imported cut carries.
codes = [p.paramcd for p in LAB_PARAMETERS if p.paramcd in params] + sorted(set(params) - set(BY_CODE))
code = c1.selectbox("Lab", codes, index=codes.index("MELD") if "MELD" in codes else 0, key="labs_param",
                    bind="query-params", format_func=lambda c: f"{params[c].name} ({params[c].unit})")
scales, statistics = control("labs_mode"), control("labs_stat")
mode = c2.segmented_control(scales.label, scales.options, format_func=MODES.get, default=scales.default,
                            required=True, key=scales.key)
stat = c3.segmented_control(statistics.label, statistics.options, format_func=STATS.get, default=statistics.default,
                            required=True, key=statistics.key)
param = params[code]
curve = analyses.lab_curve(view, f, code, mode)
if curve is None:
    stop_with_info(f"No {param.name} results for the selected patients. Widen the filters in the sidebar.")
summary, exits = curve.summary, curve.exits
y_title = {"value": f"{param.name} ({param.unit})", "chg": f"Change in {param.name} ({param.unit})",
           "pchg": f"% change in {param.name}"}[mode]

chart(ctx, mean_by_visit_figure(summary, colors, stat=stat, exits=exits, y_title=y_title,
                                small_cells=not view.sees_arms), key="labs_mean", page="labs")
st.caption(f"{summary.method} Under the axis: patients with a value at each visit (n), then patients who left "
           "the study between visits (left: † died, Tx transplanted, Wd withdrawn or lost to follow-up; hover "
           "for details).")
st.caption(curve.population)


def show_states() -> None:
    try:
        states = analyses.lab_states(view, f, code)
    except UnsuitableData as exc:
        stop_with_info(str(exc))
    chart(ctx, state_bars_figure(states, small_cells=not view.sees_arms), key="labs_states", page=PAGE)
    st.caption(f"{states.population} {states.scale.description} A visit counts the patients whose visit window "
               "had closed by the data cut (n under each bar).")
    visits = states.table.loc[states.table["due"] > 0].drop_duplicates("visit_num")["visit"].tolist()[1:]
    if not visits:
        stop_with_info("No selected patient has reached a visit after baseline yet.")
    visit = st.selectbox("State at", visits, index=visits.index("W12") if "W12" in visits else 0, key="labs_state_visit")
    table = disclosed(view, analyses.lab_state_shift(view, f, code, visit))
    st.markdown(f"**Baseline band (rows) against the state at {visit} (columns)**")
    for k, (col, (g, part)) in enumerate(zip(st.columns(table["group"].nunique()), table.groupby("group", sort=False))):
        col.markdown(f"**{g}**")
        col.dataframe(part.pivot(index="baseline", columns="state", values="n")
                      .reindex(index=part["baseline"].unique(), columns=part["state"].unique()), key=f"labs_state_shift_{k}")
    download_table(ctx, table, f"{code}_states_at_{visit}", key="labs_state_download", page=PAGE)
    show_death_ranked_worst(visit)


def show_death_ranked_worst(visit: str) -> None:
    """For the DSMB and a MELD score: the arms compared at ``visit`` with death and transplant ranked worst."""
    try:
        result = analyses.death_ranked_worst(view, f, code, visit)
    except InsufficientData as exc:
        st.info(str(exc))
        return
    if result is None:
        return
    st.markdown(f"**{param.name} at {visit} with death ranked worst, {result.win_ratio.active} vs "
                f"{result.win_ratio.reference}**")
    outcomes, comparisons = death_ranked_worst_tables(result.worst_rank, result.win_ratio)
    st.dataframe(outcomes, hide_index=True, key="labs_composite_outcomes")
    st.dataframe(comparisons, hide_index=True, key="labs_composite_tests")
    if result.worst_rank.note:
        st.caption(result.worst_rank.note)
    st.caption(f"{result.worst_rank.method} {result.win_ratio.method}")


def show_summary() -> None:
    table = disclosed(view, summary.summary[SUMMARY_SHOWN].round(param.decimals + 1))
    st.dataframe(table, hide_index=True, key="labs_summary_table")
    download_table(ctx, table, f"{code}_{mode}_by_visit", key="labs_summary_download", page=PAGE)


def show_comparison() -> None:
    try:
        result = analyses.arm_comparison(view, f, code)
    except UnsuitableData:
        stop_with_info(f"Some patients have several {param.name} values at one visit, so this comparison (one value "
                       "per patient and visit) cannot be made; the summary and box plots still show every value.")
    except InsufficientData as exc:
        stop_with_info(str(exc))
    if result is None:
        stop_with_info("Between-arm comparisons are not shown in a blinded view.")
    st.markdown(f"**Change from baseline in {param.name}, {result.active} vs {result.reference}.** "
                "p-values are nominal, not adjusted for multiplicity across visits and labs.")
    small = result.summary[result.summary["warning"] != ""]
    if len(small):
        st.warning(f"Fewer than 5 patients in an arm at {', '.join(small['visit'])}: read those rows with caution.")
    table = result.summary.drop(columns="visit_num").rename(columns={
        "n_active": f"n {result.active}", "n_reference": f"n {result.reference}",
        "diff": "adjusted difference", "lower": "95% CI lower", "upper": "95% CI upper",
        "p": "ANCOVA p (nominal)", "p_wilcoxon": "Wilcoxon p (nominal)"})
    st.dataframe(table.round(4), hide_index=True, key="labs_comparison_table")
    st.caption(result.method)
    download_table(ctx, table, f"{code}_arm_comparison", key="labs_comparison_download", page=PAGE)


def show_boxes() -> None:
    boxes = analyses.box_stats(view, f, code, mode)
    chart(ctx, box_by_visit_figure(boxes, colors, y_title=y_title), key="labs_box", page="labs")
    st.caption(boxes.method)


def show_trajectories() -> None:
    fig = spaghetti_figure(analyses.trajectories(view, f, code, mode), colors, y_title=y_title)
    event = chart(ctx, fig, key="labs_spaghetti", on_select="rerun", selection_mode=("points", "box", "lasso"), page="labs")
    st.caption("One line per patient. Click a point, or draw a box or lasso, to open the patient.")
    open_selected_patients(event)


def show_shift() -> None:
    try:
        shifts = analyses.shift_tables(view, f, code)
    except UnsuitableData:
        stop_with_info(f"{param.name} has no CTCAE grade and no reference range, so it has no shift table; choose "
                       "a measured lab, or 'Keep the dead' for its states by visit.")
    for i, shift in enumerate(shifts):
        st.markdown(f"**{shift.title}**: baseline (rows) against the worst after baseline (columns)")
        table = disclosed(view, shift.table)
        by_group = table.groupby("group", sort=False)
        for k, (col, (g, part)) in enumerate(zip(st.columns(by_group.ngroups), by_group)):
            order = part["baseline"].unique()
            col.markdown(f"**{g}**")
            col.dataframe(part.pivot(index="baseline", columns="worst_post_baseline", values="n")
                          .reindex(index=order, columns=order), key=f"labs_shift_{i}_{k}")
        download_table(ctx, table, f"{code}_shift_table_{i + 1}", key=f"labs_shift_download_{i}", page=PAGE)
    st.caption(shifts[0].note)


def show_liver_safety() -> None:
    st.info(WHY_MDISH)
    c1, c2 = st.columns(2)
    default_alt, default_bili = MDISH_DEFAULT_CUTS
    alt_cut = c1.number_input("mDISH ALT cut-off (x baseline)", 1.0, 50.0, default_alt, 0.1, key="labs_mdish_alt")
    bili_cut = c2.number_input("mDISH bilirubin cut-off (x baseline)", 1.0, 50.0, default_bili, 0.1,
                               key="labs_mdish_bili")
    mdish = analyses.liver_safety(view, f, float(alt_cut), float(bili_cut))
    figure, table = st.columns([3, 2])
    event = chart(ctx, mdish_figure(mdish, colors, title="Peak after baseline, multiples of baseline (mDISH)",
                                    small_cells=not view.sees_arms),
                  key="labs_dish", on_select="rerun", selection_mode=("points", "box"), page="labs", container=figure)
    counts = (mdish.counts.pivot(index="quadrant", columns="group", values="n")
              .reindex(index=list(mdish.quadrants), columns=mdish.counts["group"].unique()))
    table.dataframe(disclosed(view, counts, counts.columns), key="labs_dish_n")
    table.caption(mdish.method + " Click a point or draw a box to open the patient.")
    open_selected_patients(event)


views = control("labs_view")
view_choice = st.segmented_control(views.label, views.options, default=views.default, required=True, key=views.key)
# In the registry's order: Keep the dead, Summary table, Arm comparison, Box plots, Trajectories, Shift table,
# Liver safety.
shows = (show_states, show_summary, show_comparison, show_boxes, show_trajectories, show_shift, show_liver_safety)
dict(zip(views.options, shows, strict=True))[view_choice]()
