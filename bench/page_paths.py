"""Each page's work as the page does it with its default widgets: queries, statistics, figures.

A path takes a *source* with TrialView's methods (the real TrialView, or the naive pandas source of
naive.py, so both run the same statistics and figure code) and returns the figures it built. It
marks when its data are ready (queries + domain statistics), so the benchmark can split the time
into "data" (the budget of DESIGN §7) and "figures".
"""

from __future__ import annotations

import time
from collections.abc import Callable

import plotly.graph_objects as go

from dashboard.domain import POOLED_LABEL, profile, safety
from dashboard.domain import adverse_events as aes
from dashboard.domain.arm_comparison import comparison_from_aggregates
from dashboard.domain.ascites import (
    MEASURES,
    SHIFT_VISITS,
    distribution_from_counts,
    free_from_distribution,
    grade_shift_from_counts,
    resolution_km_from_times,
    transitions_from_counts,
)
from dashboard.domain.endpoints import MILESTONES, endpoint_rows
from dashboard.domain.lab_safety import edish_from_peaks, mdish_from_peaks, shift_from_counts
from dashboard.domain.labplots import MAX_POINTS, box_stats_from_aggregates, trajectories_from_sample
from dashboard.domain.labstats import deaths_between_visits, summary_from_aggregates
from dashboard.domain.overview import disposition, enrolment_progress, follow_up_completeness
from dashboard.domain.survival import CONF_TYPES, rmst_from_km, survival_analysis
from dashboard.figures.ascites import free_of_ascites_figure, grade_bars_figure, sankey_figure
from dashboard.figures.km import km_figure
from dashboard.figures.labs import box_by_visit_figure, edish_figure, mean_by_visit_figure, spaghetti_figure
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


def _setup(src):
    arms = src.arms()
    return src.group_col, arms, (arms or None), arm_colors(arms)


def overview(src, f, m: Marks) -> list[go.Figure]:
    group_col, _, _, colors = _setup(src)
    subjects = src.subject_dates(f)
    study = src.study()
    progress = enrolment_progress(subjects, planned_n=int(study["planned_n"]), start=study["enrolment_start"],
                                  months=float(study["enrolment_months"]), group_col=group_col)
    disp = disposition(subjects, group_col=group_col)
    completeness = follow_up_completeness(src.visit_completeness(f))
    disp.pivot(index="status", columns="group", values="n").reset_index()
    m.mark("data")
    return [enrolment_figure(progress, colors), disposition_figure(disp, colors), completeness_figure(completeness)]


def patients(src, f, m: Marks) -> list[go.Figure]:
    subjects = src.subjects(f)
    # As the page: search the subject rows, then MELD trends for the rows it shows only.
    shown = profile.search_rows(profile.list_rows(subjects), "").head(profile.LIST_LIMIT)
    profile.with_trends(shown, src.meld_trends_of(tuple(shown["usubjid"])))
    m.mark("data")
    return []


def patient(src, f, m: Marks, usubjid: str) -> list[go.Figure]:
    course = src.patient(usubjid)
    ids = src.subject_ids(f)
    profile.neighbours(ids, usubjid)
    subject, labs = course["subject"], course["labs"]
    profile.header_facts(subject, course["infusions"])
    infusion_days = course["infusions"]["study_day"].tolist()
    outcomes = profile.outcome_days(subject)
    span = profile.day_span(subject, labs, course["ascites"], course["adverse_events"])
    panels = profile.lab_panels(labs, scale="raw")
    lane = profile.ae_lane(course["adverse_events"], last_day=int(span[1]))
    temps = profile.post_infusion_temperatures(course["vitals"], course["infusions"])
    profile.format_visit_lab_table(profile.visit_lab_table(labs))
    m.mark("data")
    figs = [lab_panels_figure(panels, scale="raw", infusion_days=infusion_days, outcomes=outcomes, x_range=span),
            course_figure(labs, course["ascites"], lane, infusion_days=infusion_days, outcomes=outcomes, x_range=span)]
    if not temps.empty:
        figs.append(post_infusion_temperature_figure(temps))
    return figs


def labs(src, f, m: Marks, view: str = "Summary table", code: str = "MELD") -> list[go.Figure]:
    group_col, arms, groups, colors = _setup(src)
    src.count_subjects(f)
    # As the page: the curve and summary table are aggregated by the source; rows only for the views that need them.
    summary = summary_from_aggregates(src.lab_visit_summary(f, code, "value"), value_col="value", groups=groups)
    schedule = src.visit_schedule()
    plotted = schedule[schedule["visit_num"].isin(summary.summary["visit_num"])]
    exits = deaths_between_visits(src.subject_exits(f), plotted, group_col=group_col, groups=arms or [POOLED_LABEL])
    extra: Callable[[], list[go.Figure]] = lambda: []  # noqa: E731 - the summary table view draws nothing more
    if view == "Arm comparison" and group_col:
        comparison_from_aggregates(src.lab_comparison_aggregates(f, code, arms[0], arms[1]), active=arms[0],
                                   reference=arms[1])
    elif view == "Box plots":
        boxes = box_stats_from_aggregates(src.lab_box_stats(f, code, "value"), value_col="value", groups=groups)
        extra = lambda: [box_by_visit_figure(boxes, colors)]  # noqa: E731
    elif view == "Trajectories":
        sample = trajectories_from_sample(src.lab_trajectory_sample(f, code, "value", MAX_POINTS), value_col="value")
        extra = lambda: [spaghetti_figure(sample, colors)]  # noqa: E731
    elif view == "Shift table":
        shift_from_counts(src.lab_shift_counts(f, "ALT"), paramcd="ALT", groups=groups)
    elif view == "Liver safety":
        peaks = src.dish_peaks(f)
        results = [edish_from_peaks(peaks, groups=groups), mdish_from_peaks(peaks, groups=groups)]
        extra = lambda: [edish_figure(r, colors, title="DISH") for r in results]  # noqa: E731
    m.mark("data")
    return [mean_by_visit_figure(summary, colors, stat="mean", exits=exits, y_title="MELD"), *extra()]


def ascites(src, f, m: Marks) -> list[go.Figure]:
    _, _, groups, colors = _setup(src)
    src.count_subjects(f)
    # As the page (ui/page_data): everything aggregated by the source, no assessment rows fetched.
    distribution = distribution_from_counts(src.ascites_grade_counts(f), groups=groups)
    visit_order = distribution.drop_duplicates("visit").sort_values("visit_num")["visit"].tolist()
    stats = src.ascites_measure_summaries(f)
    summaries = {k: summary_from_aggregates(stats[stats["measure"] == k].drop(columns="measure").reset_index(drop=True),
                                            value_col=k, groups=groups) for k in MEASURES}
    free = free_from_distribution(distribution)
    shift_visits = tuple(v for v in SHIFT_VISITS if v in visit_order)
    grade_shift_from_counts(src.ascites_shift_counts(f, shift_visits), groups=groups, visits=shift_visits)
    km = resolution_km_from_times(src.ascites_resolution_times(f), groups=groups)
    chosen = tuple(v for v in ("Baseline", *SHIFT_VISITS) if v in visit_order)
    links = transitions_from_counts(src.ascites_transition_counts(f, chosen), visits=chosen, groups=groups)
    m.mark("data")
    return [grade_bars_figure(distribution),
            *(mean_by_visit_figure(s, colors, stat="mean") for s in summaries.values()),
            free_of_ascites_figure(free, colors), km_figure(km, colors=colors, show_median=True),
            sankey_figure(links)]


def survival(src, f, m: Marks) -> list[go.Figure]:
    group_col, arms, _, colors = _setup(src)
    groups, reference = (tuple(arms), arms[-1]) if arms else (None, None)
    src.count_subjects(f)
    src.study()
    src.first_randomized(f)
    rows = endpoint_rows(src.time_to_event(f, None), "os")
    analysis = survival_analysis(rows, group_col=group_col, groups=groups, reference=reference,
                                 conf_type=CONF_TYPES[0], milestones_days=list(MILESTONES))
    rmst_from_km(analysis.km, horizon=168, reference=analysis.reference)
    m.mark("data")
    return [km_figure(analysis.km, colors=colors, show_ci=True, time_unit="days", show_median=False,
                      risk_table_rows=("at_risk",))]


def safety_page(src, f, m: Marks, section: str = "Temperature 0-24 h") -> list[go.Figure]:
    group_col, arms, _, colors = _setup(src)
    arms = tuple(arms)
    src.count_subjects(f)
    if section == "Fever":
        counts = src.fever_counts(f)
        results = [safety.fever_from_counts(counts, threshold=t, arms=arms) for t in safety.FEVER_THRESHOLDS]
        m.mark("data")
        return [fever_incidence_figure(r, colors, title="Fever") for r in results]
    if section == "AE overview":
        result = aes.ae_overview_from_counts(src.ae_overview_counts(f), arms=arms)
        m.mark("data")
        return [ae_overview_figure(result, colors)]
    result = safety.temperature_from_aggregates(src.temperature_summary(f), arms=arms)
    m.mark("data")
    return [temperature_figure(result, colors)]


# Page name -> (url path of the page file, path function, extra keyword arguments). The first row of
# each page is its default view; the others are the heavier views a user switches to.
PATHS: dict[str, tuple[str, Callable, dict]] = {
    "overview": ("pages/overview.py", overview, {}),
    "patients": ("pages/patients.py", patients, {}),
    "patient": ("pages/patient.py", patient, {}),
    "labs": ("pages/labs.py", labs, {}),
    "labs: box plots": ("", labs, {"view": "Box plots"}),
    "labs: trajectories": ("", labs, {"view": "Trajectories"}),
    "labs: liver safety": ("", labs, {"view": "Liver safety"}),
    "labs: arm comparison": ("", labs, {"view": "Arm comparison"}),
    "labs: shift table": ("", labs, {"view": "Shift table"}),
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
