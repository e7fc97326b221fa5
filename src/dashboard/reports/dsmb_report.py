"""Reports layer: the open and closed DSMB reports of one meeting as PDF (issue 16, item 2).

:func:`build_report` turns a viewer-bound TrialView of the meeting's data cut into the document's bytes:
a cover page, a table of contents with page numbers, then one section per standard table of a DSMB
interim report (domain.md §9), each built from the analyses the pages call (:mod:`dashboard.analyses`).

- ``"open"``: pooled. Every analysis is called with a *blinded* view of the same cut, so it can only
  compute pooled results (nothing here filters or relabels arms); every count from 1 to 4 is printed
  as "<5" (the small-cell rule, :func:`small_cell`), and per-patient flags that hint at the arm
  (infusion-related) are left out of the listings.
- ``"closed"``: by arm, with totals, for the DSMB alone; the view must see arms (AccessDenied otherwise)
  and a numbered copy is required. Every page carries "CONFIDENTIAL — DSMB CLOSED SESSION" and
  "Copy N — recipient".

A section whose analysis does not exist yet in this installation, or cannot be computed for the cut,
says "Section not available" with the reason instead of failing the document.

Engine: tables are great-tables HTML (human labels, spanners, row groups, source notes), figures are
plotly PNGs rendered by kaleido exactly as the meeting deck renders them, and the HTML is printed by
WeasyPrint. WeasyPrint was chosen over printing through Chromium because it implements CSS paged media
itself: ``@page`` margin boxes give the running header and "Page N of M" (``counter(pages)``), and
``target-counter()`` puts the right page number beside every table-of-contents entry in one pass — with
Chromium the TOC needs two renders and reading the section pages back out of the first PDF. It is a
pure-Python package (pinned in requirements.txt) whose only system need is Pango (Debian
``libpango-1.0-0``/``libpangoft2-1.0-0``, which the Chromium package already pulls in), and it starts no
browser, so a report builds the same way in the app, the command line and CI.
"""

from __future__ import annotations

import base64
import html
import importlib
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pandas as pd
import plotly.graph_objects as go
from great_tables import GT, loc, style

from dashboard import __version__
from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.analyses import labs, overview, safety, survival
from dashboard.analyses.monitoring import monitoring
from dashboard.domain import POOLED_LABEL
from dashboard.domain import report_format as rf
from dashboard.domain.disclosure import SMALL_CELL, SUPPRESSED, is_small, suppress_small_cells
from dashboard.domain.endpoints import ENDPOINTS, MILESTONES, OVERALL_SURVIVAL
from dashboard.domain.lab_safety import MDISH_DEFAULT_CUTS, WHY_MDISH
from dashboard.domain.labs import lab
from dashboard.domain.monitoring_tables import looks_display, safety_rules_display
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import AccessDenied, InsufficientData
from dashboard.figures.export import figure_bytes
from dashboard.figures.km import default_tick_days, km_figure, risk_counts
from dashboard.figures.monitoring import boundary_figure
from dashboard.figures.overview import enrolment_figure
from dashboard.figures.style import arm_colors

MEDIA_TYPE = "application/pdf"
KINDS = ("open", "closed")
CLOSED_HEADER = "CONFIDENTIAL — DSMB CLOSED SESSION"
OPEN_HEADER = "DSMB OPEN SESSION — pooled data"
NOT_ESTIMABLE = "—"
EVERYONE = SubjectFilter()
SHIFT_LABS = ("ALT", "AST", "BILI", "ALB", "PTA", "CREAT")
FIGURE_WIDTH_PX = 820  # laid out at this CSS width, printed at the text width (about 174 mm)


@dataclass(frozen=True)
class ReportMeeting:
    """The DSMB meeting a report is for: what the cover page says and the data cut it reviews."""

    meeting_id: int
    title: str
    meeting_on: date
    cut_id: int
    cut_date: date
    attendees: tuple[str, ...]


@dataclass(frozen=True)
class ReportCopy:
    """One numbered copy of a report and the person it is issued to."""

    number: int
    recipient: str


@dataclass(frozen=True)
class Section:
    """One chapter of the report: anchor id, title (as listed in the contents) and its HTML body."""

    key: str
    title: str
    body: str


@dataclass(frozen=True)
class ReportContext:
    view: TrialView  # blinded for the open report
    kind: str
    groups: tuple[str, ...]  # arm names (closed) or (POOLED_LABEL,) (open)

    @property
    def closed(self) -> bool:
        return self.kind == "closed"

    @property
    def colors(self) -> dict[str, str]:
        return arm_colors(list(self.groups))


# --- the public entry point ------------------------------------------------------------------------

def build_report(view: TrialView, kind: str, *, meeting: ReportMeeting, copy: ReportCopy | None,
                 generated: datetime | None = None) -> bytes:
    """The DSMB report of ``kind`` ("open" pooled, "closed" by arm) for ``meeting`` as PDF bytes.

    ``view`` is bound to the meeting's data cut and to the person asking; the closed report needs a view
    that sees arms (AccessDenied otherwise) and a ``copy``. ``generated`` defaults to now (UTC).
    """
    if kind not in KINDS:
        raise ValueError(f"build_report: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if meeting.cut_id != view.cut_id:
        raise ValueError(f"build_report: meeting {meeting.meeting_id} reviews data cut {meeting.cut_id}, "
                         f"but the view reads cut {view.cut_id}; open the meeting's cut.")
    if kind == "closed":
        if not view.sees_arms:
            raise AccessDenied(f"{view.viewer.label} may not see results by arm: the closed DSMB report is for "
                               "the DSMB only.")
        if copy is None:
            raise ValueError("build_report: every copy of the closed report is numbered; pass copy=ReportCopy(...).")
    generated = generated or datetime.now(timezone.utc)
    with _report_view(view, kind) as report_view:
        groups = tuple(report_view.arms()) or (POOLED_LABEL,)
        ctx = ReportContext(report_view, kind, groups)
        sections = report_sections(ctx)
        document = _document(ctx, meeting, copy, generated, sections)
        stylesheet = _stylesheet(ctx, meeting, copy, generated)
    return _pdf(document, stylesheet)


@contextmanager
def _report_view(view: TrialView, kind: str) -> Iterator[TrialView]:
    """The closed report reads ``view`` itself; the open report a blinded view of the same cut."""
    if kind == "closed":
        yield view
        return
    blinded, close = blinded_view(view)
    try:
        if (blinded.cut_id, blinded.checksum) != (view.cut_id, view.checksum):
            raise ValueError(f"build_report: {view.db_path} changed while the report was built (cut {blinded.cut_id} "
                             f"instead of {view.cut_id}); build it again.")
        yield blinded
    finally:
        close()


def blinded_view(view: TrialView) -> tuple[TrialView, Callable[[], None]]:
    """A view of the same trial file for the same person as a blinded investigator, and how to close it.

    Every analysis called with it computes pooled results only: the access layer gives it no arm. Where
    the file can be opened again it is, the way a blinded session opens it (without the randomisation,
    :func:`dashboard.access.opening.open_trial_view`); an in-memory trial is read through ``view``'s
    connection with the blinded role."""
    viewer = Viewer(view.viewer.username, "investigator", view.viewer.display_name)
    try:
        from dashboard.access.opening import open_trial_view
    except ImportError:
        open_trial_view = None
    if view.db_path and open_trial_view is not None:
        blinded = open_trial_view(viewer, view.db_path)
        return blinded, blinded._con.close
    return TrialView(view._con, viewer, view.db_path), lambda: None


def report_filename(study_id: str, kind: str, meeting: ReportMeeting, copy: ReportCopy | None) -> str:
    """A file name that says what the document is; never an arm name."""
    number = f"_copy{copy.number:03d}" if copy else ""
    return f"{study_id}_DSMB_{kind}_report_meeting{meeting.meeting_id}_cut{meeting.cut_date:%Y%m%d}{number}.pdf"


# --- formatting ------------------------------------------------------------------------------------
# Counts and n (%) are report_format's Count cells, so the one small-cell control
# (disclosure.suppress_small_cells, applied by table_html to every table of the open report) finds them.

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def count(n) -> str:
    return rf.fmt_count(n)


def n_pct(n, denominator) -> str:
    return rf.fmt_n_pct(n, denominator)


def fmt_p(p) -> str:
    return rf.fmt_p(p)


def fmt_date(value) -> str:
    return rf.fmt_date(value)


def fmt_ci(estimate, lower, upper, digits: int = 2, scale: float = 1.0) -> str:
    if _missing(estimate):
        return NOT_ESTIMABLE
    if _missing(lower) or _missing(upper):
        return f"{estimate * scale:.{digits}f} ({NOT_ESTIMABLE})"
    return f"{estimate * scale:.{digits}f} ({lower * scale:.{digits}f}–{upper * scale:.{digits}f})"


def _e(text) -> str:
    return html.escape(str(text))


def _group_header(group: str, n) -> str:
    return f"{group} (N={n})"


def _suppression_note(ctx: ReportContext) -> str:
    return "" if ctx.closed else f" Counts of 1 to {SMALL_CELL - 1} are shown as {SUPPRESSED}."


# --- tables and figures ----------------------------------------------------------------------------

_TABLE_IDS = itertools.count(1)


def table_html(ctx: ReportContext, df: pd.DataFrame, *, title: str = "", note: str = "", stub: str | None = None,
               group: str | None = None, spanners: dict[str, list[str]] | None = None,
               labels: dict[str, str] | None = None, left: Sequence[str] = (), widths: dict[str, str] | None = None,
               bold_rows: Sequence[int] = ()) -> str:
    """A display table as great-tables HTML: title, column spanners, row groups, a source note.

    The open report's tables pass through :func:`dashboard.domain.disclosure.suppress_small_cells` here,
    every one of them, so no section can forget the small-cell rule."""
    if df.empty:
        return _paragraphs(f"{title}: none." if title else "None.")
    if not ctx.closed:
        df = suppress_small_cells(df)
        note = (note + _suppression_note(ctx)).strip()
    df = df.map(lambda v: NOT_ESTIMABLE if _missing(v) or (isinstance(v, str) and v == rf.MISSING) else str(v))
    # A label indented with spaces (a statistic under its characteristic) keeps its indent: HTML would collapse
    # the spaces, and WeasyPrint lets great-tables' cell padding win over an inline padding.
    first = df.columns[0]
    df[first] = [f"{chr(0xA0) * 3 * (len(v) - len(v.lstrip(' ')))}{v.lstrip(' ')}" for v in df[first]]
    gt = GT(df, rowname_col=stub, groupname_col=group, id=f"t{next(_TABLE_IDS)}", auto_align=False)
    if title:
        gt = gt.tab_header(title=title)
    for label, columns in (spanners or {}).items():
        gt = gt.tab_spanner(label=label, columns=columns)
    if labels:
        gt = gt.cols_label(**labels)
    text_columns = [c for c in df.columns if c not in (stub, group)]
    aligned_left = [c for c in text_columns if c in left]
    centred = [c for c in text_columns if c not in left]
    if aligned_left:
        gt = gt.cols_align("left", columns=aligned_left)
    if centred:
        gt = gt.cols_align("center", columns=centred)
    if widths:
        gt = gt.cols_width(widths)
    if note:
        gt = gt.tab_source_note(note)
    if bold_rows:
        gt = gt.tab_style(style=style.text(weight="bold"), locations=loc.body(rows=list(bold_rows)))
    gt = gt.tab_options(table_font_size="8.5pt", heading_title_font_size="10pt", heading_align="left",
                        column_labels_font_weight="bold", data_row_padding="2px", column_labels_padding="3px",
                        source_notes_font_size="7.5pt", container_overflow_x="visible", table_margin_left="0",
                        # A pooled table of one or two columns at full width puts its numbers far from the labels.
                        table_width="100%" if len(df.columns) > 3 else "70%",
                        container_overflow_y="visible", container_padding_y="4px", row_group_font_weight="bold",
                        row_group_padding="3px", table_font_names=["Liberation Sans", "DejaVu Sans", "Arial",
                                                                   "sans-serif"])
    if group:
        gt = gt.tab_style(style=style.fill(color="#F2F4F7"), locations=loc.row_groups())
    return f'<div class="table">{gt.as_raw_html()}</div>'


def figure_html(fig: go.Figure, *, caption: str, height: int) -> str:
    """A plotly figure as a print-resolution PNG (kaleido, as the deck renders), with its caption."""
    png = figure_bytes(fig, "png", width=FIGURE_WIDTH_PX, height=height)
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
            f'<figcaption>{_e(caption)}</figcaption></figure>')


def _paragraphs(*lines: str) -> str:
    return "".join(f"<p>{_e(line)}</p>" for line in lines if line)


def _unavailable(reason: str) -> str:
    return f'<p class="unavailable">Section not available: {_e(reason)}</p>'


# --- the sections ----------------------------------------------------------------------------------

class _NotAvailable(Exception):
    """A section whose analysis is not in this installation or has nothing to show."""


# (anchor, title, builder, closed report only) in report order.
SECTIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("status", "Study status and enrolment", "status_section", False),
    ("consort", "CONSORT flow", "consort_section", False),
    ("exposure", "Exposure and compliance", "exposure_section", False),
    ("deviations", "Protocol deviations", "deviations_section", False),
    ("baseline", "Baseline characteristics", "baseline_section", False),
    ("efficacy", "Efficacy: overall survival", "efficacy_section", False),
    ("monitoring", "Interim monitoring boundaries", "monitoring_section", True),
    ("reactions", "Safety: infusion reactions 0–24 h", "reactions_section", False),
    ("adverse-events", "Safety: adverse events", "adverse_events_section", False),
    ("sae-deaths", "Safety: serious adverse events and deaths", "sae_death_section", False),
    ("labs", "Laboratory abnormalities", "labs_section", False),
    ("completeness", "Data completeness", "completeness_section", False),
)


def section_titles(kind: str) -> list[str]:
    """The titles of a report's sections in order, as its table of contents lists them."""
    return [title for _, title, _, closed_only in SECTIONS if kind == "closed" or not closed_only]


def report_sections(ctx: ReportContext) -> list[Section]:
    """Every section in report order, each built on its own: one that cannot be computed says why."""
    return [build_section(ctx, key, title, globals()[builder])
            for key, title, builder, closed_only in SECTIONS if ctx.closed or not closed_only]


def build_section(ctx: ReportContext, key: str, title: str, build: Callable[[ReportContext], str]) -> Section:
    try:
        body = build(ctx)
    except (InsufficientData, _NotAvailable) as exc:
        body = _unavailable(str(exc))
    return Section(key, title, body)


def _report_analysis(name: str) -> Callable:
    """``dashboard.analyses.report.<name>``: the standard DSMB tables' analyses (their display formatters are
    in the domain modules named in each docstring); _NotAvailable where this installation lacks one."""
    try:
        module = importlib.import_module("dashboard.analyses.report")
    except ImportError as exc:
        raise _NotAvailable("the report analyses (dashboard.analyses.report) are not in this version.") from exc
    fn = getattr(module, name, None)
    if not callable(fn):
        raise _NotAvailable(f"the analysis dashboard.analyses.report.{name} is not in this version.")
    return fn


def _display(module: str, name: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    try:
        fn = getattr(importlib.import_module(f"dashboard.domain.{module}"), name, None)
    except ImportError:
        fn = None
    if not callable(fn):
        raise _NotAvailable(f"the table formatter dashboard.domain.{module}.{name} is not in this version.")
    return fn


def _report_table(ctx: ReportContext, analysis: str, module: str, formatter: str) -> pd.DataFrame:
    return _display(module, formatter)(_report_analysis(analysis)(ctx.view, EVERYONE))


def _group_labels(ctx: ReportContext, columns: Sequence[str]) -> list[str]:
    """The display columns that hold a group's cells (arms, Total, All patients)."""
    heads = (*ctx.groups, rf.TOTAL_LABEL, POOLED_LABEL)
    return [c for c in columns if any(c == g or c.startswith(f"{g},") or c.startswith(f"{g}:") for g in heads)]


def status_section(ctx: ReportContext) -> str:
    status = overview.study_status(ctx.view, EVERYONE)
    study = ctx.view.study()
    body = _paragraphs(
        f"{status.n_selected} of {status.planned_n} planned patients randomised by the data cut "
        f"({fmt_date(study['data_cut_date'])}); enrolment planned over {study['enrolment_months']:.0f} months "
        f"from {fmt_date(study['enrolment_start'])}.")
    body += figure_html(enrolment_figure(status.enrolment, ctx.colors).update_layout(title=None),
                        caption="Figure: cumulative randomisations against the linear enrolment plan.", height=330)
    try:
        table = _report_table(ctx, "enrolment", "consort", "enrolment_display")
    except _NotAvailable as exc:
        return body + _disposition_table(ctx, status) + _unavailable(f"enrolment by site and month: {exc}")
    return body + table_html(ctx, table, title="Enrolment by site and month against the plan, patients randomised",
                             left=("Month",), note=table.attrs.get("note", ""))


def _disposition_table(ctx: ReportContext, status) -> str:
    """Patient status at the cut (overview's disposition): shown when the CONSORT analysis is not installed."""
    disp = status.disposition
    sizes = disp.groupby("group", sort=False)["n"].sum()
    statuses = list(pd.unique(disp["status"]))
    columns = {}
    for group in ctx.groups:
        part = disp[disp["group"] == group].set_index("status")["n"]
        columns[_group_header(group, int(sizes.get(group, 0)))] = [n_pct(part.get(s, 0), sizes.get(group, 0))
                                                                   for s in statuses]
    if ctx.closed:
        total, all_n = int(sizes.sum()), disp.groupby("status", sort=False)["n"].sum()
        columns[_group_header(rf.TOTAL_LABEL, total)] = [n_pct(all_n.get(s, 0), total) for s in statuses]
    table = pd.DataFrame({"Status at the data cut": [s.capitalize() for s in statuses], **columns})
    return table_html(ctx, table, title="Patient status at the data cut, n (%)", left=("Status at the data cut",),
                      note="Percent of the patients randomised to the column's group.")


def consort_section(ctx: ReportContext) -> str:
    table = _report_table(ctx, "consort", "consort", "consort_display")
    return table_html(ctx, table, title="Patient flow (CONSORT), n (%)", left=("Stage",),
                      note=table.attrs.get("note", ""))


def exposure_section(ctx: ReportContext) -> str:
    table = _report_table(ctx, "exposure", "exposure", "compliance_display").rename(columns={"": "Item"})
    body = table_html(ctx, table, title="Infusions due, received, delayed and missed", group="Infusion", stub="Item",
                      note=table.attrs.get("note", ""))
    dose = _report_table(ctx, "dose", "exposure", "dose_display")
    if dose.empty:
        return body + _paragraphs(dose.attrs.get("note", "Dose received: not shown."))
    return body + table_html(ctx, dose, title="Dose received against the planned dose", group="Infusion",
                             stub="Arm", note=dose.attrs.get("note", ""))


def deviations_section(ctx: ReportContext) -> str:
    table = _report_table(ctx, "deviations", "deviations", "deviation_display")
    table = table.assign(Deviation=[f"{c}: {d}" for c, d in zip(table["Category"], table["Deviation"])])
    table = table.drop(columns="Category")
    return table_html(ctx, table, title="Protocol deviations by site", group="Deviation", stub="Site",
                      note=table.attrs.get("note", ""))


def baseline_section(ctx: ReportContext) -> str:
    table = _report_table(ctx, "baseline", "baseline", "baseline_display")
    groups = _group_labels(ctx, table.columns)
    heading = [i for i, row in enumerate(table[groups].itertuples(index=False)) if all(str(v) == "" for v in row)]
    labels = {}
    if "SMD" in table.columns:
        labels["SMD"] = "Standardised difference"
    return table_html(ctx, table, title="Baseline characteristics", left=("Characteristic",), labels=labels,
                      bold_rows=heading, note=table.attrs.get("note", ""))


def efficacy_section(ctx: ReportContext) -> str:
    analysis = survival.survival(ctx.view, EVERYONE, OVERALL_SURVIVAL)
    km = analysis.km
    ticks = default_tick_days(float(km.table["time"].max()), "days")
    fig = km_figure(km, colors=ctx.colors, risk_table_rows=(), tick_days=ticks, title=None)
    # The number at risk is the table under the figure (small cells suppressed there), so the figure's own
    # risk-table row, left empty, gives its height to the curves; the time axis stays at the bottom.
    fig.update_yaxes(domain=[0.0, 1.0], row=1, col=1).update_yaxes(domain=[0.0, 0.0], visible=False, row=2, col=1)
    fig.update_xaxes(showticklabels=True, title_text="Time since the first infusion (days)", row=1, col=1)
    fig.update_xaxes(visible=False, row=2, col=1)
    body = figure_html(fig, caption=f"Figure: Kaplan-Meier estimate of {ENDPOINTS[OVERALL_SURVIVAL].label.lower()} "
                                    "with 95% pointwise confidence bands; + marks censored patients. "
                                    + km.method, height=330)
    risk = pd.DataFrame({"Group": list(km.groups), **{
        f"Day {d:g}": [count(risk_counts(km.table[km.table["group"] == g], d)["at_risk"]) for g in km.groups]
        for d in ticks}})
    body += table_html(ctx, risk, title="Number at risk", left=("Group",),
                       note="Patients still followed just before each day (day 1 = first infusion).")
    summary = km.summary
    table = pd.DataFrame({
        "Group": summary["group"],
        "Patients": [count(n) for n in summary["n"]],
        "Deaths": [count(n) for n in summary["events"]],
        "Censored": [count(n - e) for n, e in zip(summary["n"], summary["events"])],
        "Median survival, days (95% CI)": [_median(m, lo, hi) for m, lo, hi in
                                           zip(summary["median"], summary["median_lower"], summary["median_upper"])]})
    body += table_html(ctx, table, title=f"{ENDPOINTS[OVERALL_SURVIVAL].label}: deaths and median survival",
                       left=("Group",), note="NR: median not reached.")
    if analysis.logrank is not None:
        rows = [("Log-rank test", f"χ² = {analysis.logrank.chi2:.2f}, {analysis.logrank.df} df", fmt_p(analysis.logrank.p))]
        if analysis.cox is not None:
            rows += [(f"Cox hazard ratio, {r.group} vs {r.reference}", fmt_ci(r.hr, r.lower, r.upper), fmt_p(r.p))
                     for r in analysis.cox.summary.itertuples()]
        note = analysis.logrank.method + (" " + analysis.cox.method + " A hazard ratio below 1 favours the first-named "
                                          "arm." if analysis.cox is not None else "")
        body += table_html(ctx, pd.DataFrame(rows, columns=["Comparison", "Estimate (95% CI)", "p"]),
                           title="Comparison between arms", left=("Comparison",), note=note)
    milestones = analysis.milestones.summary
    days = list(pd.unique(milestones["day"]))
    ms = pd.DataFrame({"Milestone": [MILESTONES.get(int(d), f"Day {d:g}") for d in days], **{
        group: [fmt_ci(r.survival, r.lower, r.upper, digits=1, scale=100)
                for r in milestones[milestones["group"] == group].set_index("day").reindex(days).itertuples()]
        for group in km.groups}})
    difference = analysis.milestones.difference
    if not difference.empty:
        for (grp, ref), part in difference.groupby(["group", "reference"], sort=False):
            part = part.set_index("day").reindex(days)
            ms[f"Difference {grp} − {ref}"] = [fmt_ci(r.difference, r.lower, r.upper, digits=1, scale=100)
                                               for r in part.itertuples()]
            ms[f"p ({grp} vs {ref})"] = [fmt_p(p) for p in part["p"]]
    body += table_html(ctx, ms, title="Survival at milestones, % (95% CI)", left=("Milestone",),
                       note=analysis.milestones.method + f" {NOT_ESTIMABLE}: beyond the follow-up.")
    if not ctx.closed:
        body += _paragraphs("Open report: all patients pooled; the comparison between arms is in the closed report.")
    return body


def _median(median, lower, upper) -> str:
    def one(v):
        return "NR" if _missing(v) else f"{v:.0f}"
    return f"{one(median)} ({one(lower)}–{one(upper)})"


def monitoring_section(ctx: ReportContext) -> str:
    if ctx.view.charter() is None:
        raise _NotAvailable("this data cut has no DSMB charter, so no stopping boundaries are defined.")
    m = monitoring(ctx.view)
    if m.design is None:
        raise _NotAvailable("the boundaries could not be computed for this cut.")
    lines = [f"Charter {m.charter.version}: {m.design.describe()}.",
             f"{m.events} of {m.spec.planned_events} planned events ({m.information:.0%} information) at the data cut "
             f"{fmt_date(m.cut_date)}. " + (m.status.message if m.status else "")]
    if m.conditional is not None:
        cp = m.conditional
        lines.append(f"Conditional power: {cp.trend:.0%} under the current trend (HR {cp.trend_hazard_ratio:.2f}), "
                     f"{cp.design:.0%} under the design HR {cp.design_hazard_ratio:g}, {cp.null:.0%} under H0; "
                     f"predictive power {cp.predictive:.0%}.")
    arms = list(ctx.groups)
    fig = boundary_figure(m.design, m.planned_design, m.cuts, m.path, arms[0], arms[-1])
    # The figure's one-line axis title is longer than the printed plot is high: the same words on two lines.
    fig.update_yaxes(title_text=f"Log-rank Z, {arms[0]} vs {arms[-1]}<br>(> 0 favours {arms[0]})")
    body = _paragraphs(*lines) + figure_html(
        fig, caption="Figure: efficacy boundaries at the observed information with the log-rank Z at each data cut "
                     "and at the first of each month.", height=440)
    looks = looks_display(m.looks_table, m.spec.sides)
    body += table_html(ctx, looks, title="Analyses at the observed information and planned looks",
                       left=("Analysis", "Data"),
                       note="Boundaries recomputed at the information each data cut reached (alpha spending), equal to "
                            "R rpact. Z > 0 favours the experimental arm; repeated CIs keep their coverage at every look.")
    if m.safety:
        rules = safety_rules_display(m.safety)
        body += table_html(ctx, rules, title="Charter safety rules", left=tuple(c for c in rules.columns if c != "Status"))
    return body


def reactions_section(ctx: ReportContext) -> str:
    results = sorted(safety.fever_incidence(ctx.view, EVERYONE), key=lambda r: -r.threshold)
    rows = []
    for result in results:
        s = result.summary
        for (unit, number), part in s.groupby(["unit", "infusion_num"], sort=False, dropna=False):
            cells = part.set_index("group")
            row = {"Threshold": f"Peak temperature ≥ {result.threshold:.1f} °C",
                   "Infusion": f"Infusion {int(number)}" if unit == "infusion" else "Any infusion (patients)"}
            for group in ctx.groups:
                row[group] = _fever_cell(ctx, cells.loc[group]) if group in cells.index else NOT_ESTIMABLE
            rows.append(row)
    table = pd.DataFrame(rows)
    body = table_html(ctx, table, title="Fever from the end of infusion to 24 h: patients with fever / evaluable (%)",
                      stub="Infusion", group="Threshold", note=" ".join(dict.fromkeys(r.method for r in results)))
    windows = safety.reactions_by_window(ctx.view, EVERYONE)
    t = windows.table
    order = list(pd.unique(t["window"]))
    terms = list(pd.unique(t["term"]))
    out = pd.DataFrame({"Reaction": terms})
    spanners, labels = {}, {}
    for group in ctx.groups:
        part = t[t["group"] == group]
        names = []
        for k, window in enumerate(order):
            cells = part[part["window"] == window].set_index("term")["patients"]
            name = f"{group}|{k}"
            out[name] = [count(cells.get(term, 0)) for term in terms]
            names.append(name)
            labels[name] = window
        spanners[group] = names
    return body + table_html(ctx, out, title="Infusion-related reactions by onset after the end of infusion: patients",
                             left=("Reaction",), spanners=spanners, labels=labels, note=windows.method)


def _fever_cell(ctx: ReportContext, r) -> str:
    """``fever / evaluable (x.x%)``; in the open report either count of 1 to 4 is written <5 and the % left out."""
    if r.n_at_risk == 0:
        return "no readings"
    if not ctx.closed and (is_small(int(r.n_fever)) or is_small(int(r.n_at_risk))):
        def one(n):
            return SUPPRESSED if is_small(int(n)) else str(int(n))
        return f"{one(r.n_fever)} / {one(r.n_at_risk)}"
    if r.n_fever == 0:
        return f"0 / {int(r.n_at_risk)}"
    return f"{int(r.n_fever)} / {int(r.n_at_risk)} ({100 * r.proportion:.1f}%)"


def _group_sizes(t: pd.DataFrame) -> dict[str, int]:
    return {str(g): int(n) for g, n in t.drop_duplicates("group")[["group", "N"]].itertuples(index=False)}


def adverse_events_section(ctx: ReportContext) -> str:
    result = safety.ae_overview(ctx.view, EVERYONE)
    t = result.table
    sizes = _group_sizes(t)
    total = sum(sizes.values())
    categories = list(pd.unique(t["label"]))
    out = pd.DataFrame({"Category": categories})
    spanners = {}
    for group in ctx.groups:
        part = t[t["group"] == group].set_index("label")
        out[f"{group}|p"] = [n_pct(part.at[c, "n_patients"], sizes[group]) for c in categories]
        out[f"{group}|e"] = [count(part.at[c, "events"]) for c in categories]
        spanners[_group_header(group, sizes[group])] = [f"{group}|p", f"{group}|e"]
    if ctx.closed:
        sums = t.groupby("label", sort=False)[["n_patients", "events"]].sum()
        out["Total|p"] = [n_pct(sums.at[c, "n_patients"], total) for c in categories]
        out["Total|e"] = [count(sums.at[c, "events"]) for c in categories]
        spanners[_group_header(rf.TOTAL_LABEL, total)] = ["Total|p", "Total|e"]
    labels = {c: ("Patients, n (%)" if c.endswith("|p") else "Events") for c in out.columns if "|" in c}
    body = table_html(ctx, out, title="Overview of adverse events", left=("Category",), spanners=spanners,
                      labels=labels, note=result.method)
    body += _soc_pt_table(ctx, safety.ae_by_soc_pt(ctx.view, EVERYONE), sizes, total)
    return body + _worst_grade_table(ctx, safety.ae_by_worst_grade(ctx.view, EVERYONE), sizes, total)


def _soc_pt_table(ctx: ReportContext, result, sizes: dict[str, int], total: int) -> str:
    t = result.table
    t = t[t["level"] != "any"]
    rows = []
    for (level, soc, term), part in t.groupby(["level", "soc", t["term"].fillna("")], sort=False):
        by_group = part.set_index("group")["n_patients"]
        row = {"SOC": soc, "Term": "Any event in the class" if level == "soc" else term}
        for group in ctx.groups:
            row[group] = n_pct(by_group.get(group, 0), sizes[group])
        if ctx.closed:
            row[rf.TOTAL_LABEL] = n_pct(int(part["n_patients"].sum()), total)
        rows.append(row)
    labels = {g: _group_header(g, sizes[g]) for g in ctx.groups}
    if ctx.closed:
        labels[rf.TOTAL_LABEL] = _group_header(rf.TOTAL_LABEL, total)
    return table_html(ctx, pd.DataFrame(rows),
                      title="Patients with adverse events by system organ class and preferred term, n (%)",
                      stub="Term", group="SOC", labels=labels, note=result.method)


def _worst_grade_table(ctx: ReportContext, result, sizes: dict[str, int], total: int) -> str:
    t = result.table
    t = t[t["level"] == "any"]
    grades = sorted(int(g) for g in pd.unique(t["grade"]))
    out = pd.DataFrame({"Worst grade": [f"Grade {g}" for g in grades]})
    for group in ctx.groups:
        part = t[t["group"] == group].set_index("grade")["n_patients"]
        out[_group_header(group, sizes[group])] = [n_pct(part.get(g, 0), sizes[group]) for g in grades]
    if ctx.closed:
        sums = t.groupby("grade")["n_patients"].sum()
        out[_group_header(rf.TOTAL_LABEL, total)] = [n_pct(sums.get(g, 0), total) for g in grades]
    return table_html(ctx, out, title="Patients by worst CTCAE grade of any adverse event, n (%)",
                      left=("Worst grade",), note=result.method + " Grade 5: fatal.")


def sae_death_section(ctx: ReportContext) -> str:
    saes = safety.sae_listing(ctx.view, EVERYONE)
    columns = {"usubjid": "Patient", "term": "Event (preferred term)", "soc": "System organ class", "grade": "Grade",
               "related": "Related", "onset_day": "Onset day", "end_day": "End day", "outcome": "Outcome"}
    if ctx.closed:
        columns = {"group": "Arm", **columns, "infusion_related": "Infusion-related"}
    sae = pd.DataFrame({label: saes[col] for col, label in columns.items()})
    for col in ("Related", "Infusion-related"):
        if col in sae:
            sae[col] = sae[col].map(lambda v: NOT_ESTIMABLE if _missing(v) else ("Yes" if v else "No"))
    for col in ("Onset day", "End day", "Grade"):
        sae[col] = sae[col].map(lambda v: NOT_ESTIMABLE if _missing(v) else f"{int(v)}")
    sae["Outcome"] = sae["Outcome"].map(lambda v: NOT_ESTIMABLE if _missing(v) else str(v).capitalize())
    if ctx.closed:  # the arms in study order (active first), as every other table; rows keep their order within
        sae = sae.sort_values("Arm", key=lambda arm: arm.map(ctx.groups.index), kind="stable")
    body = table_html(ctx, sae, title=f"Listing of serious adverse events ({len(sae)} events)",
                      group="Arm" if ctx.closed else None,
                      left=("Event (preferred term)", "System organ class", "Outcome", "Patient"),
                      note="Study day 1 is the day of the first infusion." + (
                          "" if ctx.closed else " Infusion-related flags are in the closed report only."))
    return body + _death_listing(ctx, safety.death_listing(ctx.view, EVERYONE), saes)


def _death_listing(ctx: ReportContext, deaths: pd.DataFrame, saes: pd.DataFrame) -> str:
    if deaths.empty:
        return _paragraphs("No deaths by the data cut.")
    last = _last_infusions(ctx)
    rows = []
    for r in deaths.itertuples():
        infusion = last.get(r.usubjid)
        rows.append({"Arm": r.group, "Patient": r.usubjid, "Date of death": fmt_date(r.death_on),
                     "Study day": NOT_ESTIMABLE if _missing(r.death_day) else f"{int(r.death_day)}",
                     "Cause": r.death_cause if not _missing(r.death_cause) else NOT_ESTIMABLE,
                     "Days since last infusion": NOT_ESTIMABLE if infusion is None else str(infusion[1]),
                     "Narrative": _narrative(r, infusion, saes[saes["usubjid"] == r.usubjid])})
    table = pd.DataFrame(rows)
    if ctx.closed:
        table = table.sort_values("Arm", key=lambda arm: arm.map(ctx.groups.index), kind="stable")
    else:
        table = table.drop(columns="Arm")
    return table_html(ctx, table, title=f"Listing of deaths ({len(table)} patients)",
                      group="Arm" if ctx.closed else None, left=("Patient", "Cause", "Narrative"),
                      widths={"Narrative": "40%"},
                      note="Days since last infusion: from the last infusion on or before the day of death (0: the "
                           "same day). Narrative: infusions, the serious adverse events of the SAE listing, death.")


def _narrative(r, infusion: tuple[int | None, int] | None, saes: pd.DataFrame) -> str:
    """One line a DSMB member can read aloud: the patient's last infusion, serious events and death."""
    parts = ["No infusion before death."] if infusion is None and not _missing(r.death_day) else []
    if infusion is not None and infusion[0] is not None:
        parts.append(f"Last infusion: number {infusion[0]}.")
    events = [f"{e.term} (grade {int(e.grade)}, day {int(e.onset_day)}" + (", related" if e.related is True else "") + ")"
              for e in saes.sort_values("onset_day").itertuples() if not _missing(e.onset_day)]
    if events:
        parts.append("Serious events: " + "; ".join(events) + ".")
    day = "an unrecorded day" if _missing(r.death_day) else f"day {int(r.death_day)}"
    cause = str(r.death_cause) if not _missing(r.death_cause) else "an unrecorded cause"
    death = f"Died on {day} of {cause[0].lower() + cause[1:]}"
    if infusion is not None:
        death += f", {infusion[1]} day{'' if infusion[1] == 1 else 's'} after the last infusion"
    return " ".join([*parts, death + "."])


def _last_infusions(ctx: ReportContext) -> dict[str, tuple[int | None, int]]:
    """Patient -> (number, days since) of the last infusion on or before the day of death
    (:func:`dashboard.analyses.safety.last_infusion_before_death`)."""
    last = safety.last_infusion_before_death(ctx.view, EVERYONE)
    return {r.usubjid: (None if _missing(r.infusion_num) else int(r.infusion_num), int(r.days_since))
            for r in last.itertuples() if not _missing(r.days_since)}


def labs_section(ctx: ReportContext) -> str:
    body = ""
    for code in SHIFT_LABS:
        try:
            shifts = labs.shift_tables(ctx.view, EVERYONE, code)
        except (InsufficientData, ValueError) as exc:
            body += _unavailable(f"{lab(code).name}: {exc}")
            continue
        body += "".join(_shift_table(ctx, code, shift) for shift in shifts)
    mdish = labs.liver_safety(ctx.view, EVERYONE, *MDISH_DEFAULT_CUTS)
    counts = mdish.counts
    sizes = {g: int(counts[counts["group"] == g]["n"].sum()) for g in ctx.groups}
    out = pd.DataFrame({"Peaks after baseline": [q[0].upper() + q[1:] for q in mdish.quadrants]})
    for group in ctx.groups:
        part = counts[counts["group"] == group].set_index("quadrant")["n"]
        out[_group_header(group, sizes[group])] = [n_pct(part.get(q, 0), sizes[group]) for q in mdish.quadrants]
    return body + table_html(ctx, out, title="Peak ALT and total bilirubin after baseline as multiples of baseline "
                                             "(mDISH), patients n (%)",
                             left=("Peaks after baseline",), note=f"{mdish.method} {WHY_MDISH}")


def _shift_table(ctx: ReportContext, code: str, shift: labs.ShiftTable) -> str:
    param = lab(code)
    table = shift.table
    worst = list(pd.unique(table["worst_post_baseline"]))
    rows = []
    for group in ctx.groups:
        part = table[table["group"] == group]
        n_group = int(part["n"].sum())
        cells = part.set_index(["baseline", "worst_post_baseline"])["n"]
        for b in pd.unique(table["baseline"]):
            counts = [int(cells.get((b, w), 0)) for w in worst]
            if sum(counts):
                rows.append({"Group": _group_header(group, n_group), "Baseline": f"Baseline {b}",
                             **{w: count(n) for w, n in zip(worst, counts)}, "Total": count(sum(counts))})
    labels = {w: ("Missing" if w == "missing" else w[0].upper() + w[1:]) for w in worst}
    return table_html(ctx, pd.DataFrame(rows),
                      title=f"{param.name} ({param.unit}), {shift.title}: baseline vs worst value after baseline, "
                            "patients",
                      stub="Baseline", group="Group", labels=labels, spanners={"Worst value after baseline": worst},
                      note=f"{shift.note} Rows without patients left out.")


def completeness_section(ctx: ReportContext) -> str:
    try:
        table = _report_table(ctx, "completeness", "deviations", "completeness_display")
    except _NotAvailable as exc:
        return _completeness_by_visit(ctx) + _unavailable(f"completeness by site: {exc}")
    spanners, labels = {}, {}
    for column in table.columns[1:]:
        site, _, what = column.partition(": ")
        spanners.setdefault(site, []).append(column)
        labels[column] = what[0].upper() + what[1:] if what else column
    return table_html(ctx, table, title="Scheduled visits due and attended, by visit and site", left=("Visit",),
                      spanners=spanners, labels=labels, note=table.attrs.get("note", ""))


def _completeness_by_visit(ctx: ReportContext) -> str:
    """Follow-up completeness of /overview: shown when the by-site analysis is not installed."""
    c = overview.study_status(ctx.view, EVERYONE).completeness
    table = pd.DataFrame({"Visit": c["visit"], "Due": [count(n) for n in c["expected"]],
                          "Attended": [n_pct(o, e) for o, e in zip(c["observed"], c["expected"])]})
    return table_html(ctx, table, title="Scheduled visits due and attended, all sites", left=("Visit",),
                      note="Due: the visit's window closed before the data cut and before the patient left the study.")


# --- the document ----------------------------------------------------------------------------------

def _css_string(text: str) -> str:
    """``text`` as a CSS string literal: every character outside [A-Za-z0-9 .,-] hex-escaped (no quote,
backslash or newline of a recipient's name can end the string)."""
    # An escape ends at the space after it (which CSS consumes), so a following space is kept.
    safe = "".join(c if (c.isascii() and (c.isalnum() or c in " .,-")) else f"\\{ord(c):x} " for c in text)
    return f'"{safe}"'


def _copy_line(copy: ReportCopy | None) -> str:
    return "" if copy is None else f"Copy {copy.number} — {copy.recipient}"


def _document(ctx: ReportContext, meeting: ReportMeeting, copy: ReportCopy | None, generated: datetime,
              sections: list[Section]) -> str:
    study = ctx.view.study()
    kind_title = "Closed session report" if ctx.closed else "Open session report"
    audience = ("By treatment arm. For the members of the DSMB only: do not copy, forward or discuss outside the "
                "closed session." if ctx.closed else
                "Pooled data: no result in this report is shown by treatment arm. Counts of 1 to 4 patients or "
                f"events are shown as {SUPPRESSED}. For the DSMB, the investigators and the sponsor.")
    attendees = "".join(f"<li>{_e(a)}</li>" for a in meeting.attendees) or "<li>—</li>"
    cover_rows = [
        ("Study", f"{study['study_id']}: {study['title']}"),
        ("Meeting", f"{meeting.title} (meeting {meeting.meeting_id})"),
        ("Meeting date", fmt_date(meeting.meeting_on)),
        ("Data cut", f"cut {meeting.cut_id} of {fmt_date(meeting.cut_date)}"),
        ("Data checksum", ctx.view.checksum),
        ("Report", kind_title + (", trial unblinded" if not ctx.view.trial_blinded else "")),
    ]
    if copy is not None:
        cover_rows.append(("Copy", _copy_line(copy)))
    cover_rows.append(("Generated", f"{generated:%Y-%m-%d %H:%M} UTC, dashboard {__version__}"))
    cover_table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in cover_rows)
    toc = "".join(f'<li><a href="#{s.key}">{_e(s.title)}</a></li>' for s in sections)
    body = "".join(f'<section id="{s.key}"><h1>{k}. {_e(s.title)}</h1>{s.body}</section>'
                   for k, s in enumerate(sections, start=1))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{_e(study['study_id'])} DSMB {_e(kind_title.lower())}, {_e(meeting.title)}</title>
<meta name="description" content="{_e(audience)}"></head><body>
<div class="cover">
  <p class="kind {'closed' if ctx.closed else 'open'}">{_e(CLOSED_HEADER if ctx.closed else 'DSMB OPEN SESSION')}</p>
  <h1 class="title">Data and Safety Monitoring Board<br>{_e(kind_title)}</h1>
  <p class="study">{_e(study['title'])}</p>
  <table class="cover-table">{cover_table}</table>
  <h2>Attendees</h2><ul class="attendees">{attendees}</ul>
  <p class="audience">{_e(audience)}</p>
</div>
<nav class="toc"><h1>Contents</h1><ol>{toc}</ol></nav>
{body}
</body></html>"""


def _stylesheet(ctx: ReportContext, meeting: ReportMeeting, copy: ReportCopy | None, generated: datetime) -> str:
    study = ctx.view.study()
    header_left = CLOSED_HEADER if ctx.closed else OPEN_HEADER
    header_right = _copy_line(copy)
    footer_left = (f"{study['study_id']} · DSMB {ctx.kind} report · {meeting.title} · data cut {fmt_date(meeting.cut_date)}"
                   f" · generated {generated:%Y-%m-%d %H:%M} UTC")
    header_color = "#B01E1E" if ctx.closed else "#1F4E9E"
    return f"""
@page {{
  size: A4; margin: 22mm 16mm 20mm 16mm;
  @top-left {{ content: {_css_string(header_left)}; font: bold 8.5pt 'Liberation Sans', sans-serif;
               color: {header_color}; vertical-align: bottom; padding-bottom: 3mm; }}
  @top-right {{ content: {_css_string(header_right)}; font: bold 8.5pt 'Liberation Sans', sans-serif;
                color: {header_color}; vertical-align: bottom; padding-bottom: 3mm; }}
  @bottom-left {{ content: {_css_string(footer_left)}; font: 7pt 'Liberation Sans', sans-serif; color: #555;
                  vertical-align: top; padding-top: 3mm; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font: 8pt 'Liberation Sans', sans-serif;
                   color: #333; vertical-align: top; padding-top: 3mm; }}
}}
html {{ font-family: 'Liberation Sans', 'DejaVu Sans', Arial, sans-serif; font-size: 9.5pt; color: #222; }}
body {{ margin: 0; }}
h1 {{ font-size: 15pt; margin: 0 0 4mm 0; color: #1a1a1a; }}
h2 {{ font-size: 11pt; margin: 5mm 0 2mm 0; }}
p {{ margin: 0 0 2.5mm 0; line-height: 1.35; }}
section {{ break-before: page; }}
.cover {{ padding-top: 18mm; }}
.cover .kind {{ font-weight: bold; font-size: 12pt; letter-spacing: 0.04em; }}
.cover .kind.closed {{ color: #B01E1E; }}
.cover .kind.open {{ color: #1F4E9E; }}
.cover h1.title {{ font-size: 24pt; line-height: 1.2; margin: 6mm 0 4mm 0; }}
.cover .study {{ font-size: 12pt; margin-bottom: 10mm; }}
.cover-table {{ border-collapse: collapse; width: 100%; font-size: 10pt; }}
.cover-table th {{ text-align: left; width: 32mm; vertical-align: top; padding: 1.6mm 3mm 1.6mm 0; color: #555;
                   font-weight: normal; }}
.cover-table td {{ padding: 1.6mm 0; border-bottom: 0.3pt solid #ccc; word-break: break-all; }}
.attendees {{ margin: 0 0 8mm 0; padding-left: 6mm; font-size: 10pt; }}
.audience {{ border: 1pt solid {header_color}; padding: 3mm; font-size: 10pt; color: {header_color}; }}
nav.toc {{ break-before: page; }}
nav.toc ol {{ padding-left: 0; list-style: none; counter-reset: toc; font-size: 11pt; }}
nav.toc li {{ counter-increment: toc; margin: 0 0 2.5mm 0; }}
nav.toc a {{ color: #222; text-decoration: none; }}
nav.toc a::before {{ content: counter(toc) ". "; }}
nav.toc a::after {{ content: leader('.') target-counter(attr(href), page); }}
figure {{ margin: 1mm 0 3mm 0; break-inside: avoid; }}
figure img {{ width: 100%; }}
figcaption {{ font-size: 8pt; color: #444; margin-top: 1mm; }}
.table {{ margin: 2mm 0 4mm 0; }}
.table table {{ break-inside: auto; }}
.table thead {{ display: table-header-group; }}
.table tr {{ break-inside: avoid; }}
.table .gt_heading, .table .gt_title {{ break-after: avoid; }}
.unavailable {{ color: #8a5a00; background: #FFF6E0; padding: 2mm 3mm; border-left: 2pt solid #E0A000; }}
.method {{ font-size: 8pt; color: #444; }}
.empty {{ font-style: italic; }}
"""


def _pdf(document: str, stylesheet: str) -> bytes:
    from weasyprint import CSS, HTML  # imported here: the app starts without loading Pango

    return HTML(string=document).write_pdf(stylesheets=[CSS(string=stylesheet)])
