"""Colours and layout shared by every figure, so an arm has the same colour everywhere.

Okabe-Ito palette (colour-blind safe). The active arm is always blue, the control arm orange, any
further imported arms take the next colours in a fixed order, and pooled results are dark grey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.domain import POOLED_LABEL
from dashboard.domain.disclosure import shown_count

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
POOLED_COLOR = "#333333"
FONT_FAMILY = "Inter, Helvetica, Arial, sans-serif"


def arm_colors(arms: Sequence[str]) -> dict[str, str]:
    """Colour per group, in the order the arms are listed by the study (active first, control second)."""
    colors = {arm: OKABE_ITO[i % len(OKABE_ITO)] for i, arm in enumerate(arms) if arm != POOLED_LABEL}
    colors[POOLED_LABEL] = POOLED_COLOR
    return colors


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 420) -> go.Figure:
    """Apply the house layout: white background, readable fonts, legend on top."""
    fig.update_layout(
        template="plotly_white",
        title=title,
        height=height,
        font=dict(family=FONT_FAMILY, size=13),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        margin=dict(l=60, r=20, t=60 if title else 30, b=50),
    )
    return fig


def stacked_percent_figure(table: pd.DataFrame, *, category_col: str, categories: Sequence, labels: Mapping,
                           colors: Mapping, count_col: str, total_col: str, y_title: str, title: str | None = None,
                           small_cells: bool = False) -> go.Figure:
    """100% stacked bars by visit, one panel per group (``table``: group, visit_num, visit, the category, its
    count, the visit's total and ``pct``); each tick reads "W4<br>n=18" (the total). ``small_cells`` (a blinded
    view): counts of 1-4 in the ticks and hovers read "<5". The panel titles sit just above the plot, so the
    legend is lifted over them."""
    groups = list(pd.unique(table["group"]))
    fig = make_subplots(rows=1, cols=max(len(groups), 1), shared_yaxes=True, subplot_titles=groups,
                        horizontal_spacing=0.04)
    for col, g in enumerate(groups, start=1):
        part = table[table["group"] == g].sort_values("visit_num")
        visits = part.drop_duplicates("visit_num")
        ticks = dict(zip(visits["visit_num"], (f"{v}<br>n={shown_count(n, small_cells)}"
                                                for v, n in zip(visits["visit"], visits[total_col]))))
        for category in categories:
            rows = part[part[category_col] == category]
            name = labels[category]
            fig.add_trace(go.Bar(x=rows["visit_num"].map(ticks), y=rows["pct"], name=name, legendgroup=str(category),
                                 showlegend=col == 1, marker_color=colors[category], marker_line_color="#999999",
                                 marker_line_width=0.5,
                                 customdata=[[shown_count(k, small_cells), shown_count(n, small_cells)]
                                             for k, n in zip(rows[count_col], rows[total_col])],
                                 hovertemplate=f"{g}<br>{name}: %{{y:.1f}}% "
                                               "(%{customdata[0]} of %{customdata[1]})<extra></extra>"),
                          row=1, col=col)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text=y_title, range=[0, 100], row=1, col=1)
    base_layout(fig, title=title)
    fig.update_layout(legend=dict(y=1.1), margin=dict(t=(60 if title else 30) + 30))
    return fig
