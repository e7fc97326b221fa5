"""Reports layer: what each slide of the meeting deck shows, as titles, formatted tables and figures.

Every number comes from the analyses the pages call (:mod:`dashboard.analyses`), with the same view,
filter and options, so a slide shows what its page shows. For a blinded viewer those results are pooled
under ``POOLED_LABEL`` and no slide can name an arm: nothing here hides anything.
A slide whose statistic cannot be computed for the selection says so instead of failing the deck.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go

from dashboard.access.trial_view import TrialView
from dashboard.analyses import ascites, labs, safety, survival
from dashboard.analyses.common import selected_arms
from dashboard.analyses.monitoring import monitoring
from dashboard.analyses.overview import study_status
from dashboard.domain import survival_tables
from dashboard.domain.disclosure import SMALL_CELL
from dashboard.domain.endpoints import ENDPOINTS, OVERALL_SURVIVAL
from dashboard.domain.labs import lab
from dashboard.domain.monitoring_tables import looks_display
from dashboard.domain.safety import FEVER_THRESHOLDS
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.domain.survival import SurvivalAnalysis
from dashboard.errors import InsufficientData
from dashboard.figures.ascites import grade_bars_figure
from dashboard.figures.km import km_figure
from dashboard.figures.labs import mean_by_visit_figure
from dashboard.figures.monitoring import boundary_figure
from dashboard.figures.overview import enrolment_figure
from dashboard.figures.style import arm_colors

KEY_LABS = ("ALB", "BILI", "MELD", "PTA")
NOT_REACHED, NOT_ESTIMABLE = "NR", "NE"


@dataclass(frozen=True)
class Slide:
    """One slide: a title, an optional line under it, text lines, figures, tables of text, speaker notes."""

    title: str = ""
    subtitle: str = ""
    lines: tuple[str, ...] = ()
    figures: tuple[go.Figure, ...] = ()
    tables: tuple[pd.DataFrame, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class DeckData:
    """What every slide builder needs: the view, the filter and the selection's arms in study order."""

    view: TrialView
    subject_filter: SubjectFilter
    arms: list[str]  # the selection's arms, active first, control last; [] for a blinded viewer

    @property
    def colors(self) -> dict[str, str]:
        # Colours of every arm of the trial, so an arm keeps its colour when the filter keeps it alone.
        return arm_colors(self.view.arms())


def deck_data(view: TrialView, subject_filter: SubjectFilter) -> DeckData:
    selected = view.count_subjects(subject_filter)[0]
    if selected == 0:
        raise InsufficientData(f"No patients match the selection ({subject_filter.describe()}). Widen the filters.")
    if not view.sees_arms and selected < SMALL_CELL:
        raise InsufficientData(f"Only {selected} patients match the selection ({subject_filter.describe()}): a blinded "
                               f"deck pools no fewer than {SMALL_CELL} patients. Widen the filters.")
    return DeckData(view, subject_filter, selected_arms(view, subject_filter))


def content_slides(data: DeckData) -> list[Slide]:
    """The deck's slides after the title slide, in meeting order (titles: :func:`content_titles`); the
    DSMB's deck of a cut with a charter ends with the interim-monitoring slide."""
    builders: list[Callable[[], Slide]] = [
        lambda: status_slide(data), lambda: survival_slide(data),
        *[lambda code=code: lab_slide(data, code) for code in KEY_LABS],
        lambda: ascites_slide(data), lambda: fever_slide(data), lambda: adverse_event_slide(data)]
    with_monitoring = monitored(data)
    if with_monitoring:
        builders.append(lambda: monitoring_slide(data))
    return [_titled(title, build) for title, build in zip(content_titles(with_monitoring), builders, strict=True)]


MONITORING_TITLE = "Interim monitoring: stopping boundaries (DSMB)"


def content_titles(with_monitoring: bool = False) -> list[str]:
    return ["Study status and enrolment", "Overall survival",
            *[f"Key labs over time: {lab(code).name}" for code in KEY_LABS],
            "Ascites", "Infusion safety: fever after infusion", "Adverse events",
            *([MONITORING_TITLE] if with_monitoring else [])]


def monitored(data: DeckData) -> bool:
    """The monitoring slide compares the arms against the charter: the DSMB's deck of a cut with one."""
    return len(selected_arms(data.view, SubjectFilter())) > 1 and data.view.charter() is not None


def _titled(title: str, build: Callable[[], Slide]) -> Slide:
    try:
        return replace(build(), title=title)
    except InsufficientData as exc:
        return Slide(title, lines=(f"Not available for this selection: {exc}",))


# --- formatting -------------------------------------------------------------------------------

def _num(value: float, digits: int = 0, missing: str = NOT_ESTIMABLE) -> str:
    return missing if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _p(value: float) -> str:
    return NOT_ESTIMABLE if math.isnan(value) else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def _group_header(group: str, n: int) -> str:
    return f"{group} (N={n})"


def _count_pct(n: int, pct: float) -> str:
    return f"{n} ({pct:.0f}%)"


# --- slides -----------------------------------------------------------------------------------

def status_slide(data: DeckData) -> Slide:
    status = study_status(data.view, data.subject_filter)
    disp = status.disposition
    sizes = disp.groupby("group")["n"].sum()
    order = [g for g in data.arms if g in sizes.index] or list(sizes.index)  # active arm first
    table = disp.assign(cell=[_count_pct(n, p) for n, p in zip(disp["n"], disp["pct"])]).pivot(
        index="status", columns="group", values="cell")
    table = table.reindex(index=disp["status"].unique(), columns=order)
    table.columns = [_group_header(g, sizes[g]) for g in order]
    # The slide title names the figure; its own title would collide with the legend at slide font sizes.
    enrolment = enrolment_figure(status.enrolment, data.colors).update_layout(title=None)
    return Slide(subtitle=f"{status.n_selected} patients selected; {status.planned_n} planned in the trial",
                 figures=(enrolment,),
                 tables=(table.rename_axis("Status").reset_index(),),
                 notes="Disposition as known at the data cut: patients (% of the group) per status. "
                       "Enrolment: cumulative randomisations against the linear plan.")


def survival_slide(data: DeckData) -> Slide:
    analysis = survival.survival(data.view, data.subject_filter, OVERALL_SURVIVAL)
    summary = survival_tables.km_summary_table(analysis.km)
    numbers = pd.DataFrame({
        "Group": summary["Group"], "N": summary["N"].astype(str), "Deaths": summary["Events"].astype(str),
        "Median, days (95% CI)": [f"{_num(m, missing=NOT_REACHED)} ({_num(lo)}–{_num(hi)})"
                                  for m, lo, hi in zip(summary["Median"], summary["CI lower"], summary["CI upper"])]})
    tables = [numbers]
    if analysis.logrank is not None:
        tables.append(_comparison_table(analysis))
    lines = analysis.notes
    if not data.arms:
        lines += ("Blinded deck: all patients pooled; between-arm comparisons are not shown.",)
    return Slide(subtitle=f"{ENDPOINTS[OVERALL_SURVIVAL].label}; time from the first infusion (day 1)",
                 lines=lines, figures=(km_figure(analysis.km, colors=data.colors, small_cells=not data.arms),),
                 tables=tuple(tables),
                 notes=f"{analysis.method} NR: median not reached; NE: not estimable. Number at risk at day t: "
                       "patients still followed just before t.")


def _comparison_table(analysis: SurvivalAnalysis) -> pd.DataFrame:
    lr = analysis.logrank
    rows = [("Log-rank test", f"chi² = {lr.chi2:.2f}, {lr.df} df", _p(lr.p))]
    if analysis.cox is not None:
        cox = survival_tables.cox_table(analysis.cox)
        rows += [(f"Cox hazard ratio, {r.Comparison}", f"{r.HR:.2f} ({r.Lower:.2f}–{r.Upper:.2f})", _p(r.p))
                 for r in cox.itertuples()]
    return pd.DataFrame(rows, columns=["Comparison", "Estimate (95% CI)", "p"])


def lab_slide(data: DeckData, code: str) -> Slide:
    param = lab(code)
    curve = labs.lab_curve(data.view, data.subject_filter, code, "value")
    if curve is None:
        raise InsufficientData(f"no {param.name} results for the selected patients")
    summary = curve.summary
    fig = mean_by_visit_figure(summary, data.colors, exits=curve.exits, y_title=f"{param.name} ({param.unit})",
                               small_cells=not data.arms)
    return Slide(subtitle=f"Mean (95% CI) by visit, {param.unit}",
                 figures=(fig,),
                 notes=f"{summary.method} Under the axis: patients with a value at each visit (n), then patients "
                       "who left the study between visits († died, Tx transplanted, Wd withdrawn or lost). "
                       f"{curve.population}")


def ascites_slide(data: DeckData) -> Slide:
    summaries = ascites.summaries(data.view, data.subject_filter)
    grades = summaries.grades
    if grades.empty:
        raise InsufficientData("no ascites assessments for the selected patients")
    fig = grade_bars_figure(grades, small_cells=not data.arms)
    # A slide's large font would turn the many "visit, n" ticks sideways into the footer: keep them level.
    fig.update_xaxes(tickangle=0, tickfont=dict(size=12))
    return Slide(subtitle="ICA grade by visit, % of patients assessed at the visit",
                 figures=(fig,),
                 notes="Ascites grade (International Club of Ascites): none, mild, moderate, severe; "
                       f"n under each visit is the number of patients assessed. {summaries.population.note}")


def fever_slide(data: DeckData) -> Slide:
    by_threshold = {r.threshold: r for r in safety.fever_incidence(data.view, data.subject_filter)}
    results = [by_threshold[t] for t in sorted(FEVER_THRESHOLDS, reverse=True)]
    columns = {}
    for result in results:
        s = result.summary
        for group in pd.unique(s["group"]):
            part = s[s["group"] == group]
            columns[f"≥ {result.threshold:.1f} °C · {group}"] = [_fever_cell(r) for r in part.itertuples()]
    units = results[0].summary.drop_duplicates(["unit", "infusion_num"])
    labels = [f"Infusion {r.infusion_num}" if r.unit == "infusion" else "Any infusion (patients)"
              for r in units.itertuples()]
    table = pd.DataFrame({"": labels, **columns})
    return Slide(subtitle="Peak temperature from the end of infusion to 24 h; fever / evaluable (%, 95% CI)",
                 tables=(table,), notes=" ".join(r.method for r in results))


def _fever_cell(r) -> str:
    if r.n_at_risk == 0:
        return "no readings"
    return f"{r.n_fever}/{r.n_at_risk} ({100 * r.proportion:.0f}%; {100 * r.ci_lower:.0f}–{100 * r.ci_upper:.0f})"


def adverse_event_slide(data: DeckData) -> Slide:
    result = safety.ae_overview(data.view, data.subject_filter)
    t = result.table
    table = pd.DataFrame({"Category": pd.unique(t["label"])})
    for group in pd.unique(t["group"]):
        part = t[t["group"] == group]
        header = _group_header(group, int(part["N"].iloc[0]))
        table[f"{header}: patients"] = [_count_pct(n, p) for n, p in zip(part["n_patients"], part["pct"])]
        table[f"{header}: events"] = part["events"].astype(str).to_list()
    return Slide(subtitle="Patients with at least one event (% of the group) and number of events",
                 tables=(table,), notes=result.method)




def monitoring_slide(data: DeckData) -> Slide:
    """/monitoring's boundaries, looks and conditional power: always the whole trial, whatever the filter."""
    m = monitoring(data.view)
    lines = [f"{m.events} of {m.spec.planned_events} planned events ({m.information:.0%} information). "
             + (m.status.message if m.status else "")]
    if m.conditional is not None:
        cp = m.conditional
        lines.append(f"Conditional power: {cp.trend:.0%} under the current trend (HR {cp.trend_hazard_ratio:.2f}), "
                     f"{cp.design:.0%} under the design HR {cp.design_hazard_ratio:g}, {cp.null:.0%} under H0; "
                     f"predictive power {cp.predictive:.0%}.")
    if any(r.met for r in m.safety):
        lines.append("Safety rules met: " + "; ".join(r.rule.description for r in m.safety if r.met) + ".")
    arms = selected_arms(data.view, SubjectFilter())
    figure = boundary_figure(m.design, m.planned_design, m.cuts, m.path, arms[0], arms[-1])
    looks = looks_display(m.looks_table, m.spec.sides)[["Analysis", "Data", "Events", "Information", "Z",
                                                        "Boundary Z", "HR", "Repeated CI"]]
    return Slide(subtitle=f"DSMB charter {m.charter.version}: {m.design.describe()}; the whole trial",
                 lines=tuple(lines), figures=(figure,), tables=(looks,),
                 notes="Boundaries recomputed at the information each data cut reached (alpha spending), equal to R "
                       "rpact. Z > 0 favours the experimental arm. Repeated CIs keep their coverage at every look. "
                       "The DSMB decides; the charter's rules are guidance.")
