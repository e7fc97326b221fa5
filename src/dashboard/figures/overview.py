"""Overview figures: enrolment against plan, disposition, visit completeness."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.domain.disclosure import shown_count
from dashboard.figures.style import base_layout


def _in_arm_order(df: pd.DataFrame, colors: dict[str, str]):
    """Groups in the study's arm order (the order of ``colors``), then any others."""
    present = list(dict.fromkeys(df["group"]))
    order = [g for g in colors if g in present] + [g for g in present if g not in colors]
    return [(g, df[df["group"] == g]) for g in order]


def enrolment_figure(progress: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    for group, rows in _in_arm_order(progress, colors):
        is_plan = group == "Plan"
        fig.add_trace(go.Scatter(
            x=rows["date"], y=rows["enrolled"], name="Planned" if is_plan else str(group),
            mode="lines", line=dict(shape="linear" if is_plan else "hv", dash="dash" if is_plan else "solid",
                                    color="#888888" if is_plan else colors.get(str(group)), width=2)))
    fig.update_yaxes(title="Patients randomised (cumulative)", rangemode="tozero")
    fig.update_xaxes(title="Date")
    return base_layout(fig, title="Enrolment against plan", height=360)


def disposition_figure(disp: pd.DataFrame, colors: dict[str, str], *, small_cells: bool = False) -> go.Figure:
    """Patients per status and group; ``small_cells`` (a blinded view): labels of 1-4 read "<5"."""
    fig = go.Figure()
    for group, rows in _in_arm_order(disp, colors):
        labels = [shown_count(n, small_cells) for n in rows["n"]]
        fig.add_trace(go.Bar(x=rows["status"], y=rows["n"], name=str(group), marker_color=colors.get(str(group)),
                             text=labels, textposition="outside", textfont=dict(size=12), cliponaxis=False,
                             customdata=labels, hovertemplate="%{x}: %{customdata}<extra></extra>"))
    # Plotly shrinks outside labels to the bar width; keep them readable instead.
    fig.update_layout(barmode="group", uniformtext=dict(minsize=11, mode="show"))
    fig.update_yaxes(title="Patients")
    return base_layout(fig, title="Disposition", height=360)


def completeness_figure(completeness: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Bar(x=completeness["visit"], y=completeness["expected"], name="Expected", marker_color="#BBBBBB"))
    fig.add_trace(go.Bar(x=completeness["visit"], y=completeness["observed"], name="Observed", marker_color="#0072B2",
                         text=[f"{p:.0f}%" if pd.notna(p) else "" for p in completeness["pct_observed"]],
                         textposition="outside"))
    fig.update_layout(barmode="overlay")
    fig.update_traces(opacity=0.85)
    fig.update_yaxes(title="Visits")
    return base_layout(fig, title="Follow-up completeness (visits due by the cut vs attended)", height=360)
