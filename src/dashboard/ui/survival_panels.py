"""UI pieces of the survival page (Streamlit only): figure options, tables, the selected-patients list,
the subgroup forest plot, the accrual animation and the comparison of two cuts.

Every number comes from :mod:`dashboard.analyses.survival`; for a blinded viewer its results are pooled
and the comparison tables do not exist, so nothing here needs to hide anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.analyses import survival as analyses
from dashboard.analyses.survival import CompetingRisks
from dashboard.domain import survival_tables as tables
from dashboard.domain.endpoints import ENDPOINTS, MILESTONES
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.domain.survival import CONF_TYPES, SurvivalAnalysis
from dashboard.errors import InsufficientData
from dashboard.figures.forest import forest_figure
from dashboard.figures.km import DAYS_PER_UNIT, RISK_LABELS, km_accrual_figure, km_cut_comparison_figure
from dashboard.ui.context import current, trial_view
from dashboard.ui.downloads import chart, download_table
from dashboard.ui.pooled import disclosed
from dashboard.ui.sections import PATIENT_PAGE

# km_figure's risk_counts: at risk at t = time_days >= t; events/censored are cumulative before t.
AT_RISK_CONVENTION = ("Number at risk at time t = patients with follow-up time ≥ t (still followed just before t); "
                      "the events and censored rows count those before t. + marks a censored patient.")
MAX_LINKS = 60


@dataclass(frozen=True)
class FigureOptions:
    time_unit: str
    conf_type: str
    show_ci: bool
    show_median: bool
    risk_rows: tuple[str, ...]

    @property
    def per(self) -> float:
        return DAYS_PER_UNIT[self.time_unit]


def figure_options() -> FigureOptions:
    """Widgets for the curve display; the CI transform also applies to the median and milestone CIs."""
    unit = st.segmented_control("Time unit", list(DAYS_PER_UNIT), default="days", key="survival_time_unit")
    conf_type = st.selectbox("CI transform (band, median and milestone CIs)", CONF_TYPES, key="survival_conf_type",
                             help="log-log is the SAS PROC LIFETEST default; log is R survfit's default.")
    show_ci = st.toggle("Confidence band", value=True, key="survival_show_ci")
    show_median = st.toggle("Median lines", value=False, key="survival_show_median")
    extra = st.pills("Extra risk-table rows", ["events", "censored"], selection_mode="multi",
                     format_func=RISK_LABELS.get, key="survival_risk_rows")
    return FigureOptions(unit or "days", conf_type, show_ci, show_median, ("at_risk", *(extra or ())))


def show_table(df: pd.DataFrame, key: str, digits: int = 3, missing: str = "—") -> None:
    """Numbers stay numbers where complete (the styler only formats them); p values in 3 significant
    digits. A column with missing values becomes text, because Streamlit shows a missing number as
    "None" whatever the styler says, and "None" is not what a missing median means."""
    def formatted(column: str):
        pattern = "{:.3g}" if column == "p" else f"{{:.{digits}f}}"
        return lambda v: missing if pd.isna(v) else pattern.format(v)

    df = disclosed(current().view, df)  # a blinded viewer's counts of 1-4 read "<5", shown and downloaded
    floats = df.select_dtypes("float").columns
    gaps = [c for c in floats if df[c].isna().any()]
    shown = df.assign(**{c: df[c].map(formatted(c)) for c in gaps})
    st.dataframe(shown.style.format({c: formatted(c) for c in floats if c not in gaps}), key=key, hide_index=True)
    download_table(current(), df, key, key=f"{key}_download", page="survival")


def km_tables(analysis: SurvivalAnalysis, options: FigureOptions) -> None:
    summary, tests = st.columns([3, 2])
    with summary:
        st.markdown(f"**Kaplan-Meier summary** (times in {options.time_unit}; median with 95% CI; Q25, Q75: times "
                    "by which 25% and 75% had the event; NR: not reached)")
        show_table(tables.km_summary_table(analysis.km, options.per), "survival_summary", digits=1, missing="NR")
        st.caption(analysis.method)
    with tests:
        if analysis.logrank is not None:
            st.markdown("**Log-rank test**")
            show_table(tables.logrank_table(analysis.logrank), "survival_logrank")
        if analysis.cox is not None:
            st.markdown("**Cox hazard ratio** (95% CI)")
            show_table(tables.cox_table(analysis.cox), "survival_cox")
        for note in analysis.notes:
            st.info(note)


def cif_tables(result: CompetingRisks, compared: bool) -> None:
    """Counts and cumulative incidence of each cause at the milestones; for the DSMB Gray's test per cause and the
    cause-specific hazard ratio of death."""
    counts, milestones = st.columns([3, 2])
    with counts:
        st.markdown("**Patients and events**")
        show_table(tables.cif_count_table(result.cif), "survival_cif_counts")
        if compared:
            st.markdown("**Gray's test** (equality of the cumulative incidence curves)")
            show_table(tables.gray_table(result.gray), "survival_gray")
            st.caption(next(iter(result.gray.values())).method)
            st.markdown("**Cause-specific hazard ratio of death** (95% CI)")
            if result.cause_specific is None:
                st.info(result.hr_note)
            else:
                show_table(tables.cox_table(result.cause_specific), "survival_cs_cox")
                st.caption(" ".join([result.cause_specific.method, *result.cause_specific.notes]))
    with milestones:
        st.markdown("**Cumulative incidence at milestones**")
        show_table(tables.cif_milestone_table({"death": result.at_milestones,
                                               "transplant": result.transplant_at_milestones}, MILESTONES),
                   "survival_cif_at")


def milestone_tables(analysis: SurvivalAnalysis) -> None:
    st.subheader("Survival at milestones")
    show_table(tables.milestone_table(analysis.milestones, MILESTONES), "survival_milestones")
    differences = tables.milestone_difference_table(analysis.milestones, MILESTONES)
    if not differences.empty:
        show_table(differences, "survival_milestone_differences")
    st.caption(_method(analysis.milestones.method, not differences.empty) + " —: no patient followed that long.")


def rmst_tables(f: SubjectFilter, endpoint: str, as_of: date | None, options: FigureOptions) -> None:
    st.subheader("Restricted mean survival time")
    horizon = st.select_slider("Horizon", options=list(MILESTONES)[1:], value=168, format_func=MILESTONES.get,
                               key="survival_rmst_horizon")
    result = analyses.restricted_mean(current().view, f, endpoint, as_of, options.conf_type, float(horizon))
    per_group, difference = tables.rmst_tables(result, options.per)
    show_table(per_group, "survival_rmst", digits=1)
    if not difference.empty:
        show_table(difference, "survival_rmst_difference", digits=1)
    st.caption(f"{_method(result.method, not difference.empty)} Times in {options.time_unit}.")


def _method(text: str, compared: bool) -> str:
    """The method footnote; without a comparison (pooled) only its estimation clause, so a blinded
    viewer is not told about differences that are not there."""
    return text if compared else text.split(";")[0] + "."


def selected_days(event, per: float) -> tuple[float, float] | None:
    """The x-range (in days) of a box, lasso or point selection on a curve figure, or None."""
    selection = getattr(event, "selection", None) or {}
    xs = [x for region in [*selection.get("box", []), *selection.get("lasso", [])] for x in region.get("x", [])]
    xs = xs or [p["x"] for p in selection.get("points", []) if "x" in p]
    # A tolerance so that a point clicked in weeks or months maps back onto its whole day.
    return (min(xs) * per - 1e-6, max(xs) * per + 1e-6) if xs else None


def selected_patients(f: SubjectFilter, endpoint: str, as_of: date | None,
                      window: tuple[float, float] | None) -> None:
    """Patients whose event or censoring falls in the selected stretch, each linking to /patient."""
    if window is None:
        st.caption("Select a stretch of a curve (box or lasso, or click a step) to list the patients with an event "
                   "or censoring there.")
        return
    found = analyses.patients_between(current().view, f, endpoint, as_of, *window)
    st.markdown(f"**{len(found)} patients with an event or censoring between day {max(window[0], 0):.0f} "
                f"and day {window[1]:.0f}**")
    columns = st.columns(2)
    for i, r in enumerate(found.head(MAX_LINKS).itertuples()):
        arm = f" · {r.arm}" if "arm" in found.columns else ""
        columns[i % 2].page_link(PATIENT_PAGE, label=f"{r.usubjid}{arm} · day {r.time_days} · {r.outcome}",
                                 query_params={"id": r.usubjid})
    if len(found) > MAX_LINKS:
        st.caption(f"First {MAX_LINKS} shown; select a shorter stretch to see the others.")


def subgroup_panel(f: SubjectFilter, endpoint: str, as_of: date | None, colors: dict[str, str]) -> None:
    ctx = current()
    try:
        result = analyses.subgroups(ctx.view, f, endpoint, as_of)
    except InsufficientData as exc:
        st.info(str(exc))
        return
    if result is None:
        st.info("Subgroup comparisons by arm are not available in a blinded view: a hazard ratio between arms "
                "needs the treatment assignment, which blinded viewers do not receive.")
        return
    if result.summary.empty:
        st.info(f"No subgroup comparison: {result.footnote} " + " ".join(result.not_analysed))
        return
    chart(ctx, forest_figure(result, colors), key="survival_forest", page="survival")
    st.caption(result.multiplicity)
    show_table(tables.subgroup_table(result), "survival_subgroups")
    st.caption(result.method + " Baseline MELD split at the median of the selected patients; "
               "levels without events in an arm have no estimate.")
    collapsed = [*result.collapsed, *result.not_analysed]
    if collapsed:
        st.markdown("**Collapsed levels**\n" + "\n".join(f"- {line}" for line in collapsed))
    if result.notes:
        with st.expander(f"Levels without an estimate ({len(result.notes)})"):
            st.markdown("\n".join(f"- {note}" for note in result.notes))


def accrual_panel(f: SubjectFilter, endpoint: str, colors: dict[str, str], options: FigureOptions) -> None:
    """Kaplan-Meier curves re-censored at the first of each month, played as an animation."""
    ctx = current()
    frames = analyses.accrual(ctx.view, f, endpoint, options.conf_type)
    if not frames:
        st.info("No patient had been treated by the as-of dates available.")
        return
    chart(ctx, km_accrual_figure(list(frames), colors=colors, time_unit=options.time_unit), key="survival_accrual",
          page="survival")
    st.caption(f"{ENDPOINTS[endpoint].label}. Each frame re-censors all data at the first of a month, as the data "
               "stood then; press play or drag the slider.")


def cut_comparison_panel(f: SubjectFilter, endpoint: str, colors: dict[str, str], options: FigureOptions) -> None:
    """The current cut's curves, medians and hazard ratios beside an earlier kept cut's."""
    ctx = current()
    earlier = ctx.view.earlier_cuts()
    if earlier.empty:
        st.info("No earlier data cut of this database is kept, so there is nothing to compare with yet. "
                "Each imported cut is kept under cuts/ beside the database.")
        return
    dates = dict(zip(earlier["cut_id"], earlier["cut_date"]))
    chosen = st.selectbox("Earlier cut", list(dates)[::-1], key="survival_compare_cut",
                          format_func=lambda i: f"cut {i} of {dates[i]:%Y-%m-%d}")
    views = {f"cut {ctx.view.cut_id} (current)": ctx.view,
             f"cut {chosen}": trial_view(ctx.viewer, Path(earlier.set_index("cut_id").at[chosen, "path"]))}
    try:
        results = analyses.cut_comparison(views, f, endpoint, options.conf_type)
    except InsufficientData as exc:
        st.info(f"The cuts cannot be compared for this selection: {exc}")
        return
    chart(ctx, km_cut_comparison_figure([(k, a.km) for k, a in results.items()], colors=colors,
                                        time_unit=options.time_unit), key="survival_cut_comparison", page="survival")
    show_table(tables.cut_comparison_table(results, options.per), "survival_cut_comparison_table")
    st.caption(f"{ENDPOINTS[endpoint].label}. The current cut is drawn solid, the earlier cut dashed; each cut "
               "as it was delivered (same filters).")
