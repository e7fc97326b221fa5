"""Monitoring figures: the stopping boundaries on the Z scale against information with the observed path,
and the pooled events against the planned looks with the projection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.domain.group_sequential import Design
from dashboard.domain.monitoring import EventProjection, ObservedLook
from dashboard.figures.style import OKABE_ITO, POOLED_COLOR, base_layout

EFFICACY, FUTILITY, OBSERVED, PATH = "#D55E00", "#009E73", "#0072B2", "#56B4E9"


def boundary_figure(design: Design, planned: Design, cuts: Sequence[ObservedLook], path: Sequence[ObservedLook],
                    experimental: str, control: str) -> go.Figure:
    """Efficacy (and futility, and the lower two-sided) boundaries at the observed information, the planned
    boundaries dotted, the log-rank Z at each data cut (markers) and at the first of each month (path)."""
    fig = go.Figure()
    x = np.array(design.information)
    efficacy = design.efficacy_z
    hover = [f"Look {k + 1}<br>information {t:.0%}<br>boundary Z {c:.3f}<br>nominal p {look.efficacy_p_nominal:.4f}"
             f"<br>cumulative alpha {look.cumulative_alpha:.4f}"
             for k, (t, c, look) in enumerate(zip(x, efficacy, design.looks))]
    fig.add_trace(go.Scatter(x=x, y=efficacy, mode="lines+markers", name="Efficacy boundary at the observed information",
                             line=dict(color=EFFICACY, width=3), marker=dict(size=9), hovertext=hover,
                             hoverinfo="text"))
    # Markers only: between looks there is no boundary, and a line joining the planned ones reads as one.
    fig.add_trace(go.Scatter(x=planned.information, y=planned.efficacy_z, mode="markers",
                             name="Efficacy boundary as planned", marker=dict(color=EFFICACY, size=9,
                                                                              symbol="circle-open", line=dict(width=2)),
                             hoverinfo="x+y"))
    if design.sides == 2:
        fig.add_trace(go.Scatter(x=x, y=-efficacy, mode="lines+markers", name="Lower boundary (harm)",
                                 line=dict(color=EFFICACY, width=3, dash="dash"), marker=dict(size=9)))
    futility = [(t, look.futility_z) for t, look in zip(x, design.looks) if look.futility_z is not None]
    if futility:
        fig.add_trace(go.Scatter(x=[t for t, _ in futility] + [x[-1]], y=[z for _, z in futility] + [efficacy[-1]],
                                 mode="lines+markers", name="Futility boundary (non-binding)",
                                 line=dict(color=FUTILITY, width=3, dash="dash"), marker=dict(size=9)))
    path = [look for look in path if look.z is not None]
    if path:
        fig.add_trace(go.Scatter(
            x=[look.information for look in path], y=[look.z for look in path], mode="lines+markers",
            name="Log-rank Z as of the first of each month", line=dict(color=PATH, width=1.5),
            marker=dict(size=5), hovertext=[f"{look.label}<br>{look.events} events<br>Z {look.z:.3f}" for look in path],
            hoverinfo="text"))
    cuts = [look for look in cuts if look.z is not None]
    if cuts:
        fig.add_trace(go.Scatter(
            x=[look.information for look in cuts], y=[look.z for look in cuts], mode="markers+text",
            name="Log-rank Z at each data cut", marker=dict(color=OBSERVED, size=14, symbol="diamond"),
            text=[look.label for look in cuts], textposition="bottom right",
            hovertext=[f"{look.label} ({look.on:%Y-%m-%d})<br>{look.events} events<br>Z {look.z:.3f}<br>"
                       f"HR {look.hazard_ratio:.2f}" for look in cuts], hoverinfo="text"))
    fig.add_hline(y=0, line=dict(color=POOLED_COLOR, width=1))
    top = max(4.5, float(np.nanmax(efficacy)) + 0.3)
    fig.update_xaxes(title_text="Information fraction (events / planned events)", range=[0, 1.05],
                     tickformat=".0%")
    lowest = min([look.z for look in (*cuts, *path)], default=0.0)
    bottom = -top if design.sides == 2 else min(-1.5, lowest - 0.5)
    fig.update_yaxes(title_text=f"Log-rank Z, {experimental} vs {control} (> 0 favours {experimental})",
                     range=[bottom, top])
    base_layout(fig, height=560)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0),
                      margin=dict(r=20, t=30, b=120))
    return fig


def events_figure(events: int, cut_date: date, planned_looks: pd.DataFrame,
                  projection: EventProjection | None) -> go.Figure:
    """Pooled events at the cut and projected from it, against the planned looks (look, events)."""
    fig = go.Figure()
    if projection is not None:
        curve = projection.curve
        fig.add_trace(go.Scatter(x=curve["date"], y=events + curve["expected_events"], mode="lines",
                                 name="Expected events (projection)", line=dict(color=OKABE_ITO[4], dash="dash")))
    fig.add_trace(go.Scatter(x=[cut_date], y=[events], mode="markers", name="Events at this cut",
                             marker=dict(color=POOLED_COLOR, size=12, symbol="diamond")))
    for look in planned_looks.itertuples():
        fig.add_hline(y=look.events, line=dict(color=EFFICACY if look.look == len(planned_looks) else "#999999",
                                               width=1, dash="dot"),
                      annotation_text=f"Look {look.look}: {look.events} events", annotation_position="top left")
    fig.update_xaxes(title_text="Date")
    fig.update_yaxes(title_text="Events (pooled)", rangemode="tozero")
    return base_layout(fig, height=380)
