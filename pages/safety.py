"""Safety: do infusions cause fever, rash or allergy in the 0-24 h after them, which adverse events occur,
which occur more often on one arm (safety signals), when the first SAE happens and which SAEs and deaths follow
an infusion; by arm for the DSMB and pooled for blinded viewers. One section is computed at a time."""

import pandas as pd
import streamlit as st

from dashboard.analyses import safety as analyses
from dashboard.analyses.common import selected_arms
from dashboard.domain.disclosure import SUPPRESSED, is_small
from dashboard.domain.safety import FeverIncidence
from dashboard.domain.safety_signals import SafetySignals
from dashboard.errors import InsufficientData
from dashboard.figures.km import km_figure
from dashboard.figures.safety import ae_overview_figure, fever_incidence_figure, temperature_figure, volcano_figure
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


def rates_shown(table: pd.DataFrame) -> pd.DataFrame:
    """The rates table as the viewer may see it: in a blinded view a rate of 1-4 patients (or events) and its CI
    read "<5" too, since rate x years gives the count back."""
    if view.sees_arms:
        return table
    out = table.astype({c: object for c in ("eair", "eair_lower", "eair_upper", "eaer", "eaer_lower", "eaer_upper")})
    for count, rate in (("n_patients", "eair"), ("events", "eaer")):
        out.loc[table[count].map(is_small), [rate, f"{rate}_lower", f"{rate}_upper"]] = SUPPRESSED
    return out


def rates() -> None:
    result = analyses.exposure_adjusted_rates(view, f)
    st.markdown("**EAIR**: patients with a first event per 100 patient-years *at risk*: each patient's time at risk "
                "ends at their first event of the category. **EAER**: all events per 100 patient-years of follow-up.")
    show(rates_shown(result.table.drop(columns="category").round(2)), "ae_exposure_adjusted_rates", result.method)


def serious_and_deaths() -> None:
    st.subheader("Serious adverse events")
    show(analyses.sae_listing(view, f), "sae_listing", "One row per serious adverse event.",
         patient_links=True)
    st.subheader("Deaths")
    show(analyses.death_listing(view, f), "death_listing",
         "Study day 1 is the first infusion; fatal AEs are those with outcome FATAL or grade 5.", patient_links=True)


P_VALUE = st.column_config.NumberColumn(format="%.3g")


def comparison_table(result: SafetySignals) -> pd.DataFrame:
    """The DSMB's comparison per SOC and PT: both arms' patients and %, RD (percentage points) and RR with CIs,
    Fisher p, the BH and double-FDR adjusted p-values and flags."""
    c = result.comparison.round({"pct_active": 1, "pct_reference": 1, "risk_ratio": 2, "rr_lower": 2, "rr_upper": 2})
    active, reference = c["active"].iat[0], c["reference"].iat[0]
    return pd.DataFrame({
        "SOC": c["soc"], "PT": c["term"].fillna("(any PT of the SOC)"),
        f"{active} · patients": c["n_active"], f"{active} · %": c["pct_active"],
        f"{reference} · patients": c["n_reference"], f"{reference} · %": c["pct_reference"],
        **{name: (100 * c[column]).round(1) for name, column in (("RD, points", "risk_difference"),
                                                                  ("RD lower", "rd_lower"), ("RD upper", "rd_upper"))},
        "RR": c["risk_ratio"], "RR lower": c["rr_lower"], "RR upper": c["rr_upper"], "p (Fisher)": c["p"],
        "p BH": c["p_bh"], "double FDR: SOC p adjusted": c["soc_p_adj"],
        "double FDR: p adjusted within SOC": c["p_adj_in_soc"], "flag: double FDR": c["flagged"],
        "flag: BH": c["flagged_bh"],
    })


def selected_term(fig, event) -> tuple[str, str] | None:
    """The (SOC, PT) of the first point selected on the volcano plot (from the figure's own customdata)."""
    points = (getattr(event, "selection", None) or {}).get("points", [])
    for point in points:
        trace = fig.data[point["curve_number"]]
        soc, term = trace.customdata[point["point_index"]][:2]
        return str(soc), str(term)
    return None


def term_patients(result: SafetySignals, clicked: tuple[str, str] | None) -> None:
    """The patients behind a point: the one clicked on the volcano plot, else the one picked here."""
    terms = result.incidence[result.incidence["level"] == "term"].drop_duplicates(["soc", "term"])
    # Text options, "PT (SOC)" (a PT name can recur under another SOC).
    choices = {f"{term} ({soc})": (soc, term) for soc, term in zip(terms["soc"], terms["term"])}
    label = None if clicked is None else f"{clicked[1]} ({clicked[0]})"
    # A new click on the plot sets the picker (before it is drawn), so the two always name the same term.
    if label is not None and label != st.session_state.get("safety_signal_clicked") and label in choices:
        st.session_state["safety_signal_term"] = label
    st.session_state["safety_signal_clicked"] = label
    if st.session_state.get("safety_signal_term") not in choices:  # a term the new selection no longer has
        st.session_state.pop("safety_signal_term", None)
    picked = st.selectbox("Patients with the preferred term", list(choices), index=None, key="safety_signal_term",
                          placeholder="Choose a term, or click a point of the plot")
    if picked is None:
        return
    soc, term = choices[picked]
    show(analyses.term_patients(view, f, soc, term), "safety_signal_patients",
         f"Patients with {term}: their events of it, first onset (study day), worst grade, any serious.",
         patient_links=True)


def signals() -> None:
    result = analyses.safety_signals(view, f)
    clicked = None
    if result.comparison.empty:
        incidence = result.incidence.assign(term=result.incidence["term"].fillna("(any PT of the SOC)"),
                                            pct=result.incidence["pct"].round(1))
        show(wide(incidence, ["soc", "term"], {"n_patients": "patients", "pct": "%", "events": "events"}),
             "safety_signals_incidence", result.method + (
                 " Comparisons between arms and the volcano plot are shown to the DSMB only." if not view.sees_arms
                 else " Select both arms in the sidebar to compare them."))
    else:
        fig = volcano_figure(result)
        event = chart(ctx, fig, key="safety_volcano", page="safety", on_select="rerun", selection_mode="points")
        st.caption("Each point is a preferred term; ringed and labelled: flagged by the double FDR or by BH "
                   f"(level {result.alpha:g}). Click a point to list its patients.")
        clicked = selected_term(fig, event)
        show(comparison_table(result), "safety_signals", result.method,
             **{c: P_VALUE for c in ("p (Fisher)", "p BH", "double FDR: SOC p adjusted",
                                     "double FDR: p adjusted within SOC")})
    term_patients(result, clicked)


def first_sae() -> None:
    result = analyses.time_to_first_sae(view, f)
    chart(ctx, km_figure(result.km, colors=colors, y_title="Free of a serious adverse event",
                         small_cells=not view.sees_arms), key="safety_first_sae_chart", page="safety")
    st.caption(result.method)
    if result.logrank is not None:
        st.markdown(f"Log-rank test: chi-square {result.logrank.chi2:.2f} on {result.logrank.df} df, "
                    f"p = {result.logrank.p:.3g}.")
    show(result.km.summary, "first_sae_summary", "Patients (n), first SAEs (events), median and quartiles of the "
         "time to the first SAE in days (empty: not reached).")


def after_infusion() -> None:
    counts = analyses.events_after_infusion_counts(view, f)
    show(wide(counts, ["event", "within"], {"patients": "patients", "events": "events"}), "events_after_infusion_counts",
         "Patients and events with onset (a death: its day) 0 to 7 and 0 to 28 days after the patient's last infusion "
         "on or before it (0 = the infusion's day); within 28 days includes the first 7.")
    st.subheader("SAEs and deaths within 28 days after an infusion")
    show(analyses.events_after_infusion(view, f), "events_after_infusion", "One row per SAE or death, with the number "
         "of the infusion it followed and the days since it.", patient_links=True)


sections = control("safety_section")
# In the registry's order (ui/sections.py SAFETY_SECTIONS).
shows = (temperature, fever, reactions, reaction_listing, overview, by_soc_pt, worst_grade, rates, serious_and_deaths,
         signals, first_sae, after_infusion)
section = st.segmented_control(sections.label, sections.options, default=sections.default, key=sections.key)
try:
    dict(zip(sections.options, shows, strict=True))[section or sections.default]()
except InsufficientData as e:
    stop_with_info(str(e))
