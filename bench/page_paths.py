"""Each page's work as the page does it with its default widgets: the same calls, then the same figures.

A path calls what the page in ``pages/`` calls, with the page's default options: the
``dashboard.analyses`` function of each section shown (the single production path of every number,
cached in ``dashboard.cache.RESULTS`` under ``view.cache_key``), and the TrialView queries the page
makes itself (counts, metadata; /patients and /patient call TrialView and ``domain.profile`` directly,
as those pages do). It takes a *view*: the real TrialView, or the naive pandas source of naive.py,
which answers the same queries from whole tables in memory, so both run the same analyses and figures.
A path marks when its data are ready (queries + analyses), so the benchmark can split the time into
"data" (the budget of DESIGN §7) and "figures". Streamlit calls (widgets, tables, downloads, audit) are
left out. The caller empties the result cache before each timed run (bench/run.py ``measure``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from dashboard.analyses import ascites as ascites_analyses
from dashboard.analyses import labs as lab_analyses
from dashboard.analyses import safety as safety_analyses
from dashboard.analyses import survival as survival_analyses
from dashboard.analyses.common import selected_arms
from dashboard.analyses.overview import study_status
from dashboard.domain import profile
from dashboard.domain.ascites import SHIFT_VISITS
from dashboard.domain.cut_changes import patient_notes, with_change_markers
from dashboard.domain.endpoints import OVERALL_SURVIVAL
from dashboard.domain.lab_safety import MDISH_DEFAULT_CUTS
from dashboard.domain.labs import describe
from dashboard.domain.survival import CONF_TYPES
from dashboard.errors import InsufficientData
from dashboard.figures.ascites import free_of_ascites_figure, grade_bars_figure, resolution_cif_figure, sankey_figure
from dashboard.figures.death_aware import state_bars_figure
from dashboard.figures.km import km_figure
from dashboard.figures.labs import box_by_visit_figure, mdish_figure, mean_by_visit_figure, spaghetti_figure
from dashboard.figures.overview import completeness_figure, disposition_figure, enrolment_figure
from dashboard.figures.profile import course_figure, lab_panels_figure, post_infusion_temperature_figure
from dashboard.figures.safety import ae_overview_figure, fever_incidence_figure, temperature_figure
from dashboard.figures.style import arm_colors


class Marks:
    """Time stamps a path sets as it goes (``data``: the page's data are ready)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.stamps: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.stamps[name] = time.perf_counter() - self.start


def overview(view, f, m: Marks) -> list[go.Figure]:
    """pages/overview.py: study_status, the changes since the previous cut, the disposition table."""
    status = study_status(view, f)
    colors = arm_colors(view.arms())
    view.changes_since_previous_cut(f)
    status.disposition.pivot(index="status", columns="group", values="n").reset_index()
    m.mark("data")
    return [enrolment_figure(status.enrolment, colors), disposition_figure(status.disposition, colors),
            completeness_figure(status.completeness)]


def patients(view, f, m: Marks) -> list[go.Figure]:
    """pages/patients.py with an empty search box: the first LIST_LIMIT rows, MELD trends for those only."""
    subjects = view.subjects(f)
    changes = view.changes_since_previous_cut(f)
    table = with_change_markers(profile.list_rows(subjects), changes)
    shown = profile.search_rows(table, "").head(profile.LIST_LIMIT)
    profile.with_trends(shown, view.meld_trends_of(tuple(shown["usubjid"])))
    m.mark("data")
    return []


def patient(view, f, m: Marks, usubjid: str) -> list[go.Figure]:
    """pages/patient.py (/patient?id=usubjid), lab panels on the default raw scale."""
    course = view.patient(usubjid)
    ids = view.subject_ids(f)
    changes = view.changes_since_previous_cut(f)
    if changes is not None:
        patient_notes(changes, usubjid)
    profile.neighbours(ids, usubjid)
    subject, labs = course["subject"], course["labs"]
    profile.header_facts(subject, course["infusions"])
    infusion_days = course["infusions"]["study_day"].tolist()
    outcomes = profile.outcome_days(subject)
    span = profile.day_span(subject, labs, course["ascites"], course["adverse_events"])
    panels = profile.lab_panels(labs, scale="raw")
    lane = profile.ae_lane(course["adverse_events"], last_day=int(span[1]))
    temps = profile.post_infusion_temperatures(course["vitals"], course["infusions"])
    table = profile.visit_lab_table(labs, changes.changed_labs if changes is not None else None)
    profile.format_visit_lab_table(table)
    m.mark("data")
    figs = [lab_panels_figure(panels, scale="raw", infusion_days=infusion_days, outcomes=outcomes, x_range=span),
            course_figure(labs, course["ascites"], lane, infusion_days=infusion_days, outcomes=outcomes, x_range=span)]
    if not temps.empty:
        figs.append(post_infusion_temperature_figure(temps))
    return figs


def labs(view, f, m: Marks, section: str = "Keep the dead", code: str = "MELD") -> list[go.Figure]:
    """pages/labs.py: the curve of ``code`` (scale "value", statistic "mean"), then the chosen view's analysis (the
    default: states by visit with the dead kept, the state at W12 and, for the DSMB, MELD with death ranked worst)."""
    colors = arm_colors(view.arms())
    view.count_subjects(f)
    available = view.lab_parameters().set_index("paramcd")
    param = describe(code, available.at[code, "param"], available.at[code, "unit"])
    curve = lab_analyses.lab_curve(view, f, code, "value")
    y_title = f"{param.name} ({param.unit})"
    extra: Callable[[], list[go.Figure]] = lambda: []  # noqa: E731 - the summary table draws nothing more
    if section == "Keep the dead":
        states = lab_analyses.lab_states(view, f, code)
        lab_analyses.lab_state_shift(view, f, code, "W12")
        try:
            lab_analyses.death_ranked_worst(view, f, code, "W12")
        except InsufficientData:
            pass  # the page says why in place of the comparison
        extra = lambda: [state_bars_figure(states)]  # noqa: E731
    elif section == "Arm comparison":
        lab_analyses.arm_comparison(view, f, code)
    elif section == "Box plots":
        boxes = lab_analyses.box_stats(view, f, code, "value")
        extra = lambda: [box_by_visit_figure(boxes, colors, y_title=y_title)]  # noqa: E731
    elif section == "Trajectories":
        sample = lab_analyses.trajectories(view, f, code, "value")
        extra = lambda: [spaghetti_figure(sample, colors, y_title=y_title)]  # noqa: E731
    elif section == "Shift table":
        lab_analyses.shift_tables(view, f, code)
    elif section == "Liver safety":
        dish = lab_analyses.liver_safety(view, f, *MDISH_DEFAULT_CUTS)
        extra = lambda: [mdish_figure(dish, colors, title="mDISH (x baseline)")]  # noqa: E731
    m.mark("data")
    return [mean_by_visit_figure(curve.summary, colors, stat="mean", exits=curve.exits, y_title=y_title), *extra()]


MEASURE_LABELS = {"depth_cm": "Depth (cm)", "volume_ml": "Volume (mL)"}
SANKEY_VISITS = ("Baseline", *SHIFT_VISITS)


def ascites(view, f, m: Marks) -> list[go.Figure]:
    """pages/ascites.py with the dead kept (its default): summaries, the state shift, resolution with death
    competing and the state transitions between the default Sankey visits."""
    colors = arm_colors(view.arms())
    view.count_subjects(f)
    data = ascites_analyses.summaries(view, f)
    visit_order = data.visit_order
    pd.concat([s.summary.assign(measure=k) for k, s in data.measures.items()], ignore_index=True)
    ascites_analyses.state_shift(view, f, tuple(v for v in SHIFT_VISITS if v in visit_order))
    try:
        resolved = ascites_analyses.resolution_competing(view, f)
    except InsufficientData:
        resolved = None
    chosen = tuple(v for v in SANKEY_VISITS if v in visit_order)
    links = ascites_analyses.state_transitions(view, f, chosen) if len(chosen) >= 2 else None
    m.mark("data")
    figs = [grade_bars_figure(data.grades),
            *(mean_by_visit_figure(s, colors, stat="mean", title=MEASURE_LABELS[k], y_title=MEASURE_LABELS[k])
              for k, s in data.measures.items()),
            free_of_ascites_figure(data.free, colors)]
    if resolved is not None:
        ticks = range(0, int(resolved.cif.table["time"].max()) + 28, 28)
        figs.append(resolution_cif_figure(resolved, colors, tick_days=ticks))
    if links is not None:
        figs.append(sankey_figure(links.table))
    return figs


def survival(view, f, m: Marks) -> list[go.Figure]:
    """pages/survival.py: overall survival at the data cut, the first CI transform, RMST to day 168."""
    selected_arms(view, f)
    colors = arm_colors(view.arms())
    view.count_subjects(f)
    view.study()
    view.first_randomized(f)
    view.tte_parameters()
    conf_type = CONF_TYPES[0]  # the "CI transform" selectbox's default
    analysis = survival_analyses.survival(view, f, OVERALL_SURVIVAL, None, conf_type)
    survival_analyses.restricted_mean(view, f, OVERALL_SURVIVAL, None, conf_type, 168.0)
    m.mark("data")
    return [km_figure(analysis.km, colors=colors, show_ci=True, time_unit="days", show_median=False,
                      risk_table_rows=("at_risk",))]


def safety_page(view, f, m: Marks, section: str = "Temperature 0-24 h") -> list[go.Figure]:
    """pages/safety.py: one section at a time (the default: temperature 0-24 h, no individual lines)."""
    selected_arms(view, f)
    colors = arm_colors(view.arms())
    view.count_subjects(f)
    if section == "Fever":
        results = safety_analyses.fever_incidence(view, f)
        m.mark("data")
        return [fever_incidence_figure(r, colors, title=f"Fever >= {r.threshold:.1f} C") for r in results]
    if section == "AE overview":
        result = safety_analyses.ae_overview(view, f)
        m.mark("data")
        return [ae_overview_figure(result, colors)]
    result = safety_analyses.temperature_by_hour(view, f)
    m.mark("data")
    return [temperature_figure(result, colors, individual=None)]


# Page name -> (url path of the page file, path function, extra keyword arguments). The first row of
# each page is its default view; the others are the heavier views a user switches to. The shift table
# is of ALT: the default lab (MELD) is derived and has no reference range, so the page shows none for it.
PATHS: dict[str, tuple[str, Callable, dict]] = {
    "overview": ("pages/overview.py", overview, {}),
    "patients": ("pages/patients.py", patients, {}),
    "patient": ("pages/patient.py", patient, {}),
    "labs": ("pages/labs.py", labs, {}),
    "labs: summary table": ("", labs, {"section": "Summary table"}),
    "labs: box plots": ("", labs, {"section": "Box plots"}),
    "labs: trajectories": ("", labs, {"section": "Trajectories"}),
    "labs: liver safety": ("", labs, {"section": "Liver safety"}),
    "labs: arm comparison": ("", labs, {"section": "Arm comparison"}),
    "labs: shift table": ("", labs, {"section": "Shift table", "code": "ALT"}),
    "ascites": ("pages/ascites.py", ascites, {}),
    "survival": ("pages/survival.py", survival, {}),
    "safety": ("pages/safety.py", safety_page, {}),
    "safety: fever": ("", safety_page, {"section": "Fever"}),
    "safety: AE overview": ("", safety_page, {"section": "AE overview"}),
}


def figure_points(fig: go.Figure) -> int:
    """Data points a figure sends: per trace the longest data array (x, y, values, link values, ...)."""
    total = 0
    for trace in fig.data:
        lengths = [0]
        for attr in ("x", "y", "z", "values", "q1", "lat", "customdata"):
            value = getattr(trace, attr, None)
            if value is not None and not isinstance(value, str):
                try:
                    lengths.append(len(value))
                except TypeError:
                    pass
        link = getattr(trace, "link", None)
        if link is not None and link.value is not None:
            lengths.append(len(link.value))
        total += max(lengths)
    return total
