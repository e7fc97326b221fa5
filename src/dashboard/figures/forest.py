"""Figures: forest plot of subgroup hazard ratios (log-scale HR axis, reference line at 1).

Rows are "Label: level", top to bottom in the order of the result; one trace per compared group, so
trace names are group labels only. Levels with an inestimable HR keep their row with no marker. Each
variable's interaction p is written beside its first row; no level has a p-value of its own (Wang et al.,
N Engl J Med 2007;357:2189), and a footnote says the analysis is exploratory and unadjusted.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.domain.subgroups import SubgroupResult
from dashboard.figures.log_axis import log_ticks
from dashboard.figures.style import base_layout


def _row_label(labels: dict[str, str], variable: str, level: str) -> str:
    return f"{labels.get(variable, variable)}: {level}"


def _p_text(p: float) -> str:
    return "interaction p = " + ("NE" if np.isnan(p) else ("<0.001" if p < 0.001 else f"{p:.3f}"))


def forest_figure(subgroup_result: SubgroupResult, colors: dict[str, str], *, title: str | None = None) -> go.Figure:
    """HR with CI whiskers per reported subgroup level; the interaction p of each variable beside its first row;
    a footnote with the number of variables examined and that nothing is adjusted for multiplicity."""
    s = subgroup_result.summary
    labels = subgroup_result.labels
    rows = list(dict.fromkeys(_row_label(labels, v, lv) for v, lv in zip(s["variable"], s["level"])))
    fig = go.Figure()
    for group, part in s.groupby("group", sort=False):
        y = [_row_label(labels, v, lv) for v, lv in zip(part["variable"], part["level"])]
        fig.add_trace(go.Scatter(
            x=part["hr"], y=y, name=str(group), mode="markers", marker=dict(symbol="square", size=9,
                                                                           color=colors.get(group)),
            error_x=dict(type="data", symmetric=False, array=part["upper"] - part["hr"],
                         arrayminus=part["hr"] - part["lower"], color=colors.get(group)),
            customdata=np.column_stack([part["n"], part["events"], part["n_reference"], part["events_reference"],
                                        part["lower"], part["upper"]]),
            hovertemplate="HR %{x:.2f} (%{customdata[4]:.2f}-%{customdata[5]:.2f})<br>"
                          "n %{customdata[0]}, events %{customdata[1]} vs n %{customdata[2]}, "
                          "events %{customdata[3]}<extra>%{fullData.name}</extra>"))
    fig.add_vline(x=1, line=dict(color="#777777", dash="dash", width=1))
    for variable, part in s.groupby("variable", sort=False):
        fig.add_annotation(x=1, xref="paper", xanchor="left", y=_row_label(labels, variable, part["level"].iloc[0]),
                           text=_p_text(part["interaction_p"].iloc[0]), showarrow=False, font=dict(size=11))
    # So that a downloaded image still says it is exploratory and unadjusted.
    fig.add_annotation(x=0, xref="paper", xanchor="left", y=0, yref="paper", yanchor="top", yshift=-44,
                       showarrow=False, align="left", font=dict(size=11, color="#555555"),
                       text=subgroup_result.footnote)
    fig.update_xaxes(type="log", title_text="Hazard ratio (log scale)",
                     **log_ticks([1.0, *s["lower"], *s["upper"], *s["hr"]]))
    fig.update_yaxes(categoryorder="array", categoryarray=rows[::-1])
    fig = base_layout(fig, title=title, height=190 + 28 * len(rows))
    fig.update_layout(margin=dict(r=140, b=80))
    return fig
