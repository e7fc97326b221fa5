"""Figures layer: a lab's state at each visit with the dead kept (:mod:`dashboard.domain.death_aware`), as
100% stacked bars, one panel per group. Bands run light to dark as the value worsens; Died is black and
Transplanted purple so the absorbing states read apart from any band; colour never encodes the arm.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.domain.death_aware import DIED, LEFT, NO_VALUE, TRANSPLANTED, StateDistribution
from dashboard.domain.disclosure import shown_count
from dashboard.figures.style import base_layout

# ColorBrewer YlOrRd (sequential, colour-blind safe) for the bands, best first.
BAND_COLORS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c", "#800026")
EXIT_COLORS = {DIED: "#000000", TRANSPLANTED: "#6a3d9a", LEFT: "#bdbdbd", NO_VALUE: "#f0f0f0"}


def state_bars_figure(result: StateDistribution, *, title: str | None = None, small_cells: bool = False) -> go.Figure:
    """Patients (%) per state at each visit; each tick reads "W4<br>n=18" (patients due). ``small_cells`` (a
    blinded view): counts of 1-4 in ticks and hovers read "<5"."""
    table, scale = result.table, result.scale
    groups = list(pd.unique(table["group"]))
    fig = make_subplots(rows=1, cols=max(len(groups), 1), shared_yaxes=True, subplot_titles=groups,
                        horizontal_spacing=0.04)
    colors = {**dict(zip(scale.labels, BAND_COLORS[len(BAND_COLORS) - len(scale.labels):])), **EXIT_COLORS}
    for col, g in enumerate(groups, start=1):
        part = table[(table["group"] == g) & (table["due"] > 0)].sort_values("visit_num")
        visits = part.drop_duplicates("visit_num")
        ticks = dict(zip(visits["visit_num"], (f"{v}<br>n={shown_count(n, small_cells)}"
                                                for v, n in zip(visits["visit"], visits["due"]))))
        for state in scale.states:
            rows = part[part["state"] == state]
            fig.add_trace(go.Bar(x=rows["visit_num"].map(ticks), y=rows["pct"], name=state, legendgroup=state,
                                 showlegend=col == 1, marker_color=colors[state], marker_line_color="#999999",
                                 marker_line_width=0.5,
                                 customdata=[[shown_count(k, small_cells), shown_count(n, small_cells)]
                                             for k, n in zip(rows["n"], rows["due"])],
                                 hovertemplate=f"{g}<br>{state}: %{{y:.1f}}% "
                                               "(%{customdata[0]} of %{customdata[1]})<extra></extra>"),
                          row=1, col=col)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Patients due at the visit (%)", range=[0, 100], row=1, col=1)
    base_layout(fig, title=title)
    fig.update_layout(legend=dict(y=1.1), margin=dict(t=(60 if title else 30) + 30))
    return fig
