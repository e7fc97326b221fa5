"""Ascites over time: did ascites recede more, or sooner, on UC-MSC than on placebo?

Grade distribution, depth and volume, proportion free of ascites, shifts from baseline, time to
resolution and grade transitions, by arm for the DSMB and pooled for blinded viewers. By-visit summaries
say whom they count; the shift table, time to resolution and the Sankey keep the dead by default (death and
transplant as absorbing states or competing events), or count survivors only.
"""

import pandas as pd
import streamlit as st

from dashboard.analyses import ascites as analyses
from dashboard.domain.ascites import SHIFT_VISITS, resolution_cif_table
from dashboard.errors import InsufficientData
from dashboard.figures.ascites import free_of_ascites_figure, grade_bars_figure, resolution_cif_figure, sankey_figure
from dashboard.figures.km import km_figure
from dashboard.figures.labs import mean_by_visit_figure
from dashboard.figures.style import arm_colors
from dashboard.ui.context import current
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.messages import stop_if_no_patients, stop_with_info
from dashboard.ui.pooled import disclosed, numeric_columns
from dashboard.ui.sections import ASCITES_POPULATIONS, control

PAGE = "ascites"
MEASURE_LABELS = {"depth_cm": "Depth (cm)", "volume_ml": "Volume (mL)"}
STATS = {"mean": "Mean (95% CI)", "median": "Median (IQR)"}
SANKEY_VISITS = ("Baseline", *SHIFT_VISITS)
CIF_COUNTS = ["n", "resolved", "died", "transplanted", "censored"]

ctx = current()
view, f = ctx.view, ctx.subject_filter
colors = arm_colors(view.arms())
small_cells = not view.sees_arms
st.title("Ascites")
stop_if_no_patients(view.count_subjects(f)[0], f, blinded=small_cells)
data = analyses.summaries(view, f)
if data.grades.empty:
    stop_with_info("No ascites assessments for the selected patients. Widen the filters in the sidebar.")
visit_order = data.visit_order
population = control("ascites_population")
keep_dead = st.segmented_control(population.label, population.options, default=population.default, required=True,
                                 key=population.key) == ASCITES_POPULATIONS[0]
st.caption("For the shift from baseline, time to resolution and grade transitions: keep the patients who died or "
           "were transplanted (as states that last, or as events that end the chance to resolve), or count the "
           "survivors assessed at each visit only.")

st.subheader("Grade by visit")
chart(ctx, grade_bars_figure(data.grades, small_cells=small_cells), key="ascites_grades", page="ascites")
st.caption("International Club of Ascites grade (none, mild, moderate, severe), n under each bar. "
           + data.population.note)
with st.expander("Who is counted at each visit"):
    counted = data.population.table.drop(columns="visit_num")
    counted = disclosed(view, counted, numeric_columns(counted))
    st.dataframe(counted, hide_index=True, key="ascites_population_table")
    download_table(ctx, counted, "ascites_population_by_visit", key="ascites_population_download", page=PAGE)

st.subheader("Depth and volume")
statistics = control("ascites_stat")
stat = st.segmented_control(statistics.label, statistics.options, format_func=STATS.get, default=statistics.default,
                            required=True, key=statistics.key)
for col, (m, s) in zip(st.columns(2), data.measures.items()):
    chart(ctx, mean_by_visit_figure(s, colors, stat=stat, title=MEASURE_LABELS[m], y_title=MEASURE_LABELS[m],
                                    small_cells=small_cells),
                     key=f"ascites_{m}", page="ascites", container=col)
    col.caption(s.method)
st.caption("Patients without ascites count as 0 cm and 0 mL. " + data.population.note)
with st.expander("Depth and volume table"):
    table = pd.concat([s.summary.assign(measure=m) for m, s in data.measures.items()], ignore_index=True)
    table = table[["measure", "group", "visit", "n", "mean", "ci_lower", "ci_upper", "median", "q1", "q3", "min",
                   "max"]]
    table = disclosed(view, table.round(2))
    st.dataframe(table, hide_index=True, key="ascites_measure_table")
    download_table(ctx, table, "ascites_depth_volume_by_visit", key="ascites_measure_download", page=PAGE)

st.subheader("Free of ascites")
chart(ctx, free_of_ascites_figure(data.free, colors, small_cells=small_cells), key="ascites_free",
      page="ascites")
st.caption(f"{data.free.method} {data.population.note}")

st.subheader("Shift from baseline")
shift_visits = tuple(v for v in SHIFT_VISITS if v in visit_order)
shift = (analyses.state_shift if keep_dead else analyses.shift)(view, f, shift_visits)
shown = disclosed(view, shift.table, numeric_columns(shift.table))
st.dataframe(shown, hide_index=True, key="ascites_shift")
st.caption(shift.population)
download_table(ctx, shown, "ascites_shift_from_baseline", key="ascites_shift_download", page=PAGE)

st.subheader("Time to resolution")
try:
    resolved = analyses.resolution_competing(view, f) if keep_dead else analyses.resolution(view, f)
except InsufficientData as exc:
    st.info(f"No time-to-resolution curve: {exc}")
else:
    if keep_dead:
        ticks = range(0, int(resolved.cif.table["time"].max()) + 28, 28)  # every 4 weeks, on the visit days' rhythm
        chart(ctx, resolution_cif_figure(resolved, colors, tick_days=ticks), key="ascites_cif", page="ascites")
        st.dataframe(disclosed(view, resolution_cif_table(resolved), CIF_COUNTS), hide_index=True,
                     key="ascites_cif_table")
        st.caption(resolved.method)
    else:
        ticks = range(0, int(resolved.table["time"].max()) + 28, 28)
        chart(ctx, km_figure(resolved, colors=colors, show_median=True, tick_days=ticks, small_cells=small_cells,
                             y_title="Probability of still having ascites"), key="ascites_km", page="ascites")
        st.dataframe(disclosed(view, resolved.summary[["group", "n", "events", "median", "median_lower",
                                                       "median_upper"]]).rename(
            columns={"events": "resolved", "median": "median (days)", "median_lower": "95% CI lower",
                     "median_upper": "95% CI upper"}), hide_index=True, key="ascites_km_table")
        st.caption("Deaths and transplants are censored here, as if the patient could still have resolved: this "
                   "overstates resolution where many die. " + resolved.method)

st.subheader("Grade transitions")
chosen = st.multiselect("Visits", visit_order, default=[v for v in SANKEY_VISITS if v in visit_order],
                        key="ascites_sankey_visits")
chosen = [v for v in visit_order if v in chosen]
if len(chosen) < 2:
    st.info("Choose at least two visits to see how patients move between grades.")
else:
    try:
        links = (analyses.state_transitions if keep_dead else analyses.transitions)(view, f, tuple(chosen))
    except InsufficientData as exc:
        st.info(f"No grade transitions: {exc}")
    else:
        chart(ctx, sankey_figure(links.table, small_cells=small_cells), key="ascites_sankey", page="ascites")
        st.caption(f"{links.population} Node colour darkens with grade.")
