"""Figures layer: one patient's course (lab small multiples, MELD/ascites/AE lanes, post-infusion temperature).

Pure builders: frames from :mod:`dashboard.domain.profile` in, ``go.Figure`` out. Every panel shares
the study-day axis (``make_subplots(shared_xaxes=...)``) so zooming one zooms all, and the lab and
course figures take the same ``x_range`` so they line up on the page. Nothing is coloured by arm:
a single patient has one arm, and colouring by it would unblind.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.domain.labs import BY_CODE
from dashboard.domain.meld import MELD_CODES
from dashboard.domain.profile import SCALES
from dashboard.domain.safety import FEVER_THRESHOLDS
from dashboard.figures.style import POOLED_COLOR, base_layout

VALUE_COLOR = POOLED_COLOR
OUT_OF_RANGE_COLOR = "#D55E00"
BAND_COLOR = "rgba(0, 158, 115, 0.13)"
INFUSION_COLOR = "#0072B2"
OUTCOME_COLOR = "#000000"
# CTCAE grade 1 (mild) to 5 (death), light to dark so severity reads without the legend.
GRADE_COLORS = {1: "#FDD49E", 2: "#FC8D59", 3: "#D7301F", 4: "#7F0000", 5: "#000000"}
SCORE_COLORS = {"MELD": "#009E73", "MELDNA": "#CC79A7", "MELD3": "#56B4E9"}
ASCITES_TICKS = {0: "none", 1: "mild", 2: "moderate", 3: "severe"}


def _need(func: str, arg: str, df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{func}: argument {arg!r} lacks column(s) {missing}; required: {list(cols)}.")


def _panel_title(code: str, scale: str) -> str:
    p = BY_CODE.get(code)
    name, unit = (p.name, p.unit) if p else (code, "")
    return {"raw": f"{name} ({unit})", "uln": f"{name} (x ULN)", "chg": f"{name} (change, {unit})"}[scale]


def _markers(fig: go.Figure, infusion_days: Sequence[float], outcomes: pd.DataFrame | None) -> None:
    """Vertical lines on every panel: infusions dotted blue, death/transplant dashed black (one legend entry each).

    The same shapes ``add_vline(row="all", col="all")`` draws (one per non-empty panel, spanning its
    y domain), but set in one layout update: add_vline re-validates every shape on each call, which
    took half a second for a 15-panel profile.
    """
    marks = [(day, "Infusion", "infusion", dict(color=INFUSION_COLOR, dash="dot", width=1.2)) for day in infusion_days]
    if outcomes is not None:
        marks += [(day, label, label, dict(color=OUTCOME_COLOR, dash="dash", width=1.6))
                  for label, day in zip(outcomes["label"], outcomes["study_day"])]
    panels = _filled_panels(fig)
    seen: set[str] = set()
    shapes = []
    for day, name, group, line in marks:
        for x, y in panels:
            shapes.append(dict(type="line", x0=day, x1=day, xref=x, y0=0, y1=1, yref=f"{y} domain", line=line,
                               name=name, legendgroup=group, showlegend=name not in seen))
            seen.add(name)
    fig.layout.shapes = [*fig.layout.shapes, *shapes]


def _filled_panels(fig: go.Figure) -> list[tuple[str, str]]:
    """(x axis, primary y axis) of each subplot holding a trace, row by row (plotly's order for row="all").

    make_subplots numbers axes row by row, and a secondary y axis after its subplot's primary one.
    """
    def number(axis: str) -> int:
        return int(axis[1:] or 1)

    y_by_x: dict[str, set[str]] = {}
    for trace in fig.data:
        y_by_x.setdefault(trace.xaxis or "x", set()).add(trace.yaxis or "y")
    return [(x, min(y_by_x[x], key=number)) for x in sorted(y_by_x, key=number)]


def _band(part: pd.DataFrame, x_range: Sequence[float] | None, log: bool) -> tuple[np.ndarray, ...]:
    """Reference band as steps over the record days, extended to the axis ends."""
    x = part["study_day"].to_numpy(float)
    lo, hi = part["y_lower"].to_numpy(float), part["y_upper"].to_numpy(float)
    if log:
        # A lower limit of 0 has no place on a log axis: the band then starts below the lowest point.
        positive = np.concatenate([part["y"].to_numpy(float), hi])
        positive = positive[np.isfinite(positive) & (positive > 0)]
        floor = positive.min() / 3 if positive.size else np.nan
        lo = np.where(lo > 0, lo, floor)
    if x_range is not None and len(x):
        x = np.concatenate([[x_range[0]], x, [x_range[1]]])
        lo, hi = (np.concatenate([[v[0]], v, [v[-1]]]) for v in (lo, hi))
    return x, lo, hi


def lab_panels_figure(panels: pd.DataFrame, *, scale: str = "raw", infusion_days: Sequence[float] = (),
                      outcomes: pd.DataFrame | None = None, x_range: Sequence[float] | None = None,
                      cols: int = 3, panel_height: int = 190, title: str | None = None) -> go.Figure:
    """Small multiples, one panel per lab, all sharing the study-day axis.

    ``panels`` is :func:`dashboard.domain.profile.lab_panels` output (paramcd, study_day, y,
    y_lower, y_upper, flag, value, visit). Each panel: the reference band (filled), the value line,
    out-of-range points in a separate trace; log y axis for registry ``log_scale`` labs except on
    the change-from-baseline scale (changes can be negative).
    """
    func = "lab_panels_figure"
    _need(func, "panels", panels, ("paramcd", "study_day", "y", "y_lower", "y_upper", "flag", "value"))
    if scale not in SCALES:
        raise ValueError(f"{func}: scale must be one of {list(SCALES)}, got {scale!r}.")
    if cols < 1:
        raise ValueError(f"{func}: cols must be at least 1, got {cols!r}.")
    codes = list(dict.fromkeys(panels["paramcd"]))
    rows = max(ceil(len(codes) / cols), 1)
    fig = make_subplots(rows=rows, cols=cols, shared_xaxes="all", vertical_spacing=0.35 / rows + 0.02,
                        horizontal_spacing=0.06, subplot_titles=[_panel_title(c, scale) for c in codes])
    for k, code in enumerate(codes):
        r, c = k // cols + 1, k % cols + 1
        part = panels[panels["paramcd"] == code].sort_values("study_day")
        log = scale != "chg" and code in BY_CODE and BY_CODE[code].log_scale
        bx, lo, hi = _band(part, x_range, log)
        fig.add_trace(go.Scatter(x=bx, y=lo, mode="lines", line=dict(width=0, shape="hv"), hoverinfo="skip",
                                 showlegend=False, legendgroup="band"), row=r, col=c)
        fig.add_trace(go.Scatter(x=bx, y=hi, mode="lines", line=dict(width=0, shape="hv"), fill="tonexty",
                                 fillcolor=BAND_COLOR, hoverinfo="skip", name="Reference range",
                                 legendgroup="band", showlegend=k == 0), row=r, col=c)
        custom = np.column_stack([part.get("visit", part["study_day"]).astype(str), part["value"], part["flag"]])
        hover = "%{customdata[0]} (day %{x})<br>%{customdata[1]:.4g} %{customdata[2]}<extra>" + code + "</extra>"
        fig.add_trace(go.Scatter(x=part["study_day"], y=part["y"], mode="lines+markers", name="Value",
                                 legendgroup="value", showlegend=k == 0, line=dict(color=VALUE_COLOR, width=1.5),
                                 marker=dict(size=5), customdata=custom, hovertemplate=hover), row=r, col=c)
        out = part[part["flag"] != ""]
        fig.add_trace(go.Scatter(x=out["study_day"], y=out["y"], mode="markers", name="Out of range",
                                 legendgroup="out", showlegend=k == 0, hoverinfo="skip",
                                 marker=dict(color=OUT_OF_RANGE_COLOR, size=8, symbol="circle-open",
                                             line=dict(width=2))), row=r, col=c)
        if log:
            # One label per decade: plotly's default 2/5 minor labels crowd a 150-px panel.
            fig.update_yaxes(type="log", dtick=1, row=r, col=c)
    _markers(fig, infusion_days, outcomes)
    # Every panel keeps its own day labels: the bottom row may be incomplete.
    fig.update_xaxes(showticklabels=True, range=list(x_range) if x_range is not None else None)
    fig.update_xaxes(title_text="Study day", row=rows)
    fig.update_annotations(font_size=12)
    return base_layout(fig, title=title, height=panel_height * rows + 80)


def course_figure(labs: pd.DataFrame, ascites: pd.DataFrame, lane: pd.DataFrame, *,
                  infusion_days: Sequence[float] = (), outcomes: pd.DataFrame | None = None,
                  x_range: Sequence[float] | None = None, title: str | None = None) -> go.Figure:
    """MELD scores, ascites (grade bars, deepest-pocket depth line) and the AE lane on one study-day axis.

    ``labs`` are the patient's lab rows (only MELD, MELD-Na and MELD 3.0 are drawn); ``ascites``
    the assessments (study_day, grade, depth_cm); ``lane`` is :func:`dashboard.domain.profile.ae_lane`
    output. AE bars are coloured by grade; a serious event has a thick black outline, an
    infusion-related one a star at its onset.
    """
    func = "course_figure"
    _need(func, "labs", labs, ("paramcd", "study_day", "value"))
    _need(func, "ascites", ascites, ("study_day", "grade", "depth_cm"))
    _need(func, "lane", lane, ("lane", "start", "end", "grade", "serious", "infusion_related", "term", "ongoing"))
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.36, 0.28, 0.36],
                        specs=[[{}], [{"secondary_y": True}], [{}]],
                        subplot_titles=["MELD scores", "Ascites", "Adverse events"])
    for code in MELD_CODES:
        part = labs[labs["paramcd"] == code].sort_values("study_day")
        fig.add_trace(go.Scatter(x=part["study_day"], y=part["value"], mode="lines+markers", name=BY_CODE[code].name,
                                 line=dict(color=SCORE_COLORS.get(code, VALUE_COLOR)), legendgroup=code), row=1, col=1)
    fig.add_trace(go.Bar(x=ascites["study_day"], y=ascites["grade"], name="Ascites grade", width=6,
                         marker_color="#56B4E9", hovertemplate="day %{x}: grade %{y}<extra></extra>"), row=2, col=1)
    fig.add_trace(go.Scatter(x=ascites["study_day"], y=ascites["depth_cm"], mode="lines+markers",
                             name="Deepest pocket (cm)", line=dict(color="#0072B2", dash="dot")),
                  row=2, col=1, secondary_y=True)
    _ae_bars(fig, lane, row=3)
    _markers(fig, infusion_days, outcomes)
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(title_text="points", row=1, col=1)
    fig.update_yaxes(title_text="grade", range=[0, 3.3], tickvals=list(ASCITES_TICKS),
                     ticktext=list(ASCITES_TICKS.values()), row=2, col=1, secondary_y=False)
    depth_max = float(ascites["depth_cm"].max()) if len(ascites) else 0.0
    fig.update_yaxes(title_text="depth (cm)", range=[0, max(depth_max, 1.0) * 1.1], row=2, col=1,
                     secondary_y=True, showgrid=False)
    fig.update_yaxes(autorange="reversed", row=3, col=1)
    fig.update_xaxes(range=list(x_range) if x_range is not None else None)
    fig.update_xaxes(title_text="Study day", row=3, col=1)
    fig.update_annotations(font_size=12)
    lanes = lane["lane"].nunique()
    base_layout(fig, title=title, height=540 + 22 * lanes)
    # Two legend rows: lift the legend clear of the first panel's title.
    return fig.update_layout(legend_y=1.08, margin_t=110 if title else 90)


def _ae_bars(fig: go.Figure, lane: pd.DataFrame, *, row: int) -> None:
    for grade, part in lane.groupby("grade", sort=True):
        fig.add_trace(go.Bar(
            y=part["lane"], base=part["start"], x=part["end"] - part["start"], orientation="h",
            name=f"AE grade {grade}", legendgroup=f"grade{grade}", width=0.6,
            marker=dict(color=GRADE_COLORS.get(int(grade), POOLED_COLOR),
                        line=dict(color="#000000", width=np.where(part["serious"], 2.5, 0.5))),
            customdata=np.column_stack([part["term"], part["start"], part["end"] - 1,
                                        np.where(part["serious"], "serious", "not serious"),
                                        np.where(part["infusion_related"], ", infusion-related", ""),
                                        np.where(part["ongoing"], " (ongoing)", "")]),
            hovertemplate=("%{customdata[0]}: grade " + str(grade) + ", %{customdata[3]}%{customdata[4]}"
                           "<br>day %{customdata[1]:.0f} to %{customdata[2]:.0f}%{customdata[5]}<extra></extra>"),
        ), row=row, col=1)
    # A star at the onset marks infusion-related events even when the bar is a day wide on a 2-year axis.
    related = lane[lane["infusion_related"]]
    fig.add_trace(go.Scatter(x=related["start"], y=related["lane"], mode="markers", name="Infusion-related",
                             marker=dict(symbol="star", size=12, color=INFUSION_COLOR,
                                         line=dict(color="#FFFFFF", width=1)),
                             hoverinfo="skip", showlegend=len(related) > 0), row=row, col=1)
    fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name="Serious (thick outline)",
                         marker=dict(color="#FFFFFF", line=dict(color="#000000", width=2.5))), row=row, col=1)


def post_infusion_temperature_figure(temps: pd.DataFrame, *, thresholds: Sequence[float] = FEVER_THRESHOLDS,
                                     title: str | None = None, height: int = 340) -> go.Figure:
    """Temperature from the pre-dose reading to 24 h after each infusion, one line per infusion.

    ``temps`` is :func:`dashboard.domain.profile.post_infusion_temperatures` output. Time points are
    equally spaced categories (PRE, EOI, 1H ... 24H) so the first hours are not crowded; dotted lines
    mark the protocol fever thresholds.
    """
    func = "post_infusion_temperature_figure"
    _need(func, "temps", temps, ("infusion_num", "study_day", "hours_after", "value"))
    labels = temps["timepoint"] if "timepoint" in temps else temps["hours_after"].map(lambda h: f"{h:g} h")
    data = temps.assign(label=labels.astype(str))
    order = list(data.sort_values("hours_after").drop_duplicates("hours_after")["label"])
    shades = ["#9ECAE1", "#4292C6", "#08519C", "#08306B"]
    fig = go.Figure()
    for k, (num, part) in enumerate(data.groupby("infusion_num", sort=True)):
        day = part["study_day"].iloc[0]
        name = f"Infusion {num}" + (f" (day {day:.0f})" if pd.notna(day) else "")
        fig.add_trace(go.Scatter(x=part["label"], y=part["value"], mode="lines+markers", name=name,
                                 line=dict(color=shades[min(k, len(shades) - 1)]),
                                 hovertemplate=name + "<br>%{x}: %{y:.1f} C<extra></extra>"))
    for t in thresholds:
        fig.add_hline(y=t, line=dict(dash="dot", color="#888888", width=1),
                      annotation_text=f"{t:.1f} C", annotation_position="top left")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order,
                     title_text="Time after end of infusion")
    fig.update_yaxes(title_text="Temperature (C)")
    return base_layout(fig, title=title, height=height)
