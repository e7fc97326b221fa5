"""Safety: do infusions cause fever, rash or allergy in the 0-24 h after them, and which adverse events
occur, by arm for the DSMB and pooled for blinded viewers. One section is computed at a time."""

import pandas as pd
import streamlit as st

from dashboard.analyses import safety as analyses
from dashboard.analyses.common import selected_arms
from dashboard.domain.safety import FeverIncidence
from dashboard.errors import InsufficientData
from dashboard.figures.safety import ae_overview_figure, fever_incidence_figure, temperature_figure
from dashboard.figures.style import arm_colors
from dashboard.ui.context import current
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.messages import stop_if_no_patients, stop_with_info
from dashboard.ui.pooled import disclosed
from dashboard.ui.sections import PATIENT_PAGE, control

ctx = current()
view, f = ctx.view, ctx.subject_filter
arms = tuple(selected_arms(view, f))
colors = arm_colors(view.arms())
PCT = st.column_config.NumberColumn(format="percent")
st.title("Safety")
stop_if_no_patients(view.count_subjects(f)[0], f, blinded=not view.sees_arms)


def wide(table: pd.DataFrame, index: list[str], values: dict[str, str], columns: tuple[str, ...] = ("group",)
         ) -> pd.DataFrame:
    """One row per ``index`` and one column per ``columns`` x value, in the table's order, active arm first."""
    rank = {g: i for i, g in enumerate(arms)}
    table = table.sort_values("group", key=lambda g: g.map(rank), kind="stable")
    out = table.pivot_table(index=index, columns=list(columns), values=list(values), aggfunc="first", sort=False)
    keys = list(dict.fromkeys(c[1:] for c in out.columns))
    out = out[[(v, *k) for k in keys for v in values]]
    out.columns = [" · ".join(p for p in [*map(str, k), values[v]] if p) for v, *k in out.columns]
    return out.reset_index()


def show(df: pd.DataFrame, name: str, caption: str, patient_links: bool = False, **config) -> None:
    """Table, its method caption and downloads; with ``patient_links`` a selected row opens the patient.
    A blinded viewer's counts of 1-4 read "<5" in both."""
    df = disclosed(view, df)
    event = st.dataframe(df, key=f"safety_{name}", hide_index=True, column_config=config,
                         **(dict(on_select="rerun", selection_mode="single-row") if patient_links else {}))
    st.caption(caption + (" Select a row to open the patient's profile." if patient_links else ""))
    download_table(ctx, df, f"safety_{name}", key=f"safety_{name}_download", page="safety")
    if patient_links and event.selection.rows:
        st.switch_page(PATIENT_PAGE, query_params={"id": df["usubjid"].iat[event.selection.rows[0]]})


def temperature() -> None:
    result = analyses.temperature_by_hour(view, f)
    lines = st.toggle(control("safety_temperature_lines").label, key="safety_temperature_lines")
    individual = analyses.temperature_readings(view, f) if lines else None
    chart(ctx, temperature_figure(result, colors, individual=individual), key="safety_temperature_chart", page="safety")
    show(result.summary, "temperature_by_hour", result.method)


def by_threshold(results: tuple[FeverIncidence, ...], part: str) -> pd.DataFrame | None:
    """The results' ``summary`` or ``comparison`` tables stacked, threshold first; None when all are empty."""
    frames = [getattr(r, part).assign(threshold=r.threshold) for r in results if not getattr(r, part).empty]
    return pd.concat(frames)[["threshold", *getattr(results[0], part)]] if frames else None


def fever() -> None:
    results = analyses.fever_incidence(view, f)
    for column, result in zip(st.columns(len(results)), results):
        chart(ctx, fever_incidence_figure(result, colors, title=f"Fever >= {result.threshold:.1f} C",
                                          small_cells=not view.sees_arms),
                            key=f"safety_fever_chart_{result.threshold}", page="safety", container=column)
        column.caption(result.method)
    show(by_threshold(results, "summary"), "fever_incidence", "Per infusion and per patient (any infusion), "
         "both thresholds; n_at_risk counts infusions with a post-dose temperature.",
         **{c: PCT for c in ("proportion", "ci_lower", "ci_upper")})
    # None for a blinded viewer: pooled data have one group and nothing to compare.
    comparison = by_threshold(results, "comparison")
    if comparison is not None:
        st.subheader("Risk difference between arms")
        show(comparison, "fever_risk_difference", "Active minus reference; Newcombe hybrid score CI, "
             "two-sided Fisher exact p.", **{c: PCT for c in ("risk_difference", "rd_lower", "rd_upper")},
             p=st.column_config.NumberColumn(format="%.3f"))


def reactions() -> None:
    numbers = analyses.infusion_numbers(view, f)
    infusion = st.selectbox("Infusion", [None, *numbers], key="safety_reaction_infusion",
                            format_func=lambda n: "All infusions" if n is None else f"Infusion {n}")
    result = analyses.reactions_by_window(view, f, infusion)
    show(wide(result.table, ["term", "window"], {"patients": "patients", "events": "events"}),
         "reactions_by_window", result.method)


def reaction_listing() -> None:
    listing = analyses.reaction_listing(view, f)
    show(listing, "reaction_listing", "Every infusion reaction with the peak 0-24 h temperature after that "
         "infusion.", patient_links=True)


def overview() -> None:
    result = analyses.ae_overview(view, f)
    chart(ctx, ae_overview_figure(result, colors, small_cells=not view.sees_arms), key="safety_ae_overview_chart",
          page="safety")
    show(wide(result.table, ["label"], {"N": "N", "n_patients": "patients", "pct": "%", "events": "events"}),
         "ae_overview", result.method)


def by_soc_pt() -> None:
    result = analyses.ae_by_soc_pt(view, f)
    table = result.table.fillna({"soc": "Any adverse event", "term": ""})
    show(wide(table, ["soc", "term"], {"n_patients": "patients", "pct": "%", "events": "events"}),
         "ae_by_soc_pt", result.method)


def worst_grade() -> None:
    result = analyses.ae_by_worst_grade(view, f)
    table = result.table.fillna({"soc": "Any adverse event", "term": ""})
    table = table.assign(grade="grade " + table["grade"].astype(str))
    show(wide(table, ["soc", "term"], {"n_patients": ""}, ("group", "grade")), "ae_by_worst_grade",
         "Number of patients by their worst CTCAE grade, each counted once per row at the highest grade.")


def rates() -> None:
    result = analyses.exposure_adjusted_rates(view, f)
    show(result.table.drop(columns="category"), "ae_exposure_adjusted_rates", result.method)


def serious_and_deaths() -> None:
    st.subheader("Serious adverse events")
    show(analyses.sae_listing(view, f), "sae_listing", "One row per serious adverse event.",
         patient_links=True)
    st.subheader("Deaths")
    show(analyses.death_listing(view, f), "death_listing",
         "Study day 1 is the first infusion; fatal AEs are those with outcome FATAL or grade 5.", patient_links=True)


sections = control("safety_section")
# In the registry's order (ui/sections.py SAFETY_SECTIONS).
shows = (temperature, fever, reactions, reaction_listing, overview, by_soc_pt, worst_grade, rates, serious_and_deaths)
section = st.segmented_control(sections.label, sections.options, default=sections.default, key=sections.key)
try:
    dict(zip(sections.options, shows, strict=True))[section or sections.default]()
except InsufficientData as e:
    stop_with_info(str(e))
