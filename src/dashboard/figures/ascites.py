"""Figures layer: ascites grade bars (100% stacked, n per bar), free-of-ascites proportion, Sankey.

Pure builders on the results of :mod:`dashboard.domain.ascites`. Grades are coloured by severity
(a sequential scale), not by arm, so colour never encodes the arm in these figures; groups are
separated into panels or series named by the result's ``group`` values (``POOLED_LABEL`` if pooled).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.domain.ascites import GRADE_LABELS, GRADES, FreeOfAscites
from dashboard.domain.disclosure import shown_count
from dashboard.figures.style import POOLED_COLOR, base_layout

# Sequential light-to-dark so "worse" reads darker (colour-blind safe, from ColorBrewer Blues).
GRADE_COLORS = {0: "#deebf7", 1: "#9ecae1", 2: "#4292c6", 3: "#08306b"}


def _need(func: str, arg: str, df: pd.DataFrame, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{func}: argument {arg!r} lacks column(s) {missing}; required: {list(cols)}.")


def grade_bars_figure(distribution: pd.DataFrame, *, title: str | None = None, small_cells: bool = False) -> go.Figure:
    """100% stacked bars of grade by visit, one panel per group; each tick reads "W4<br>n=18". ``small_cells``
    (a blinded view): counts of 1-4 in the ticks and hovers read "<5"."""
    _need("grade_bars_figure", "distribution", distribution,
          ("group", "visit_num", "visit", "grade", "count", "n", "pct"))
    groups = list(pd.unique(distribution["group"]))
    fig = make_subplots(rows=1, cols=max(len(groups), 1), shared_yaxes=True, subplot_titles=groups,
                        horizontal_spacing=0.04)
    for col, g in enumerate(groups, start=1):
        part = distribution[distribution["group"] == g].sort_values(["visit_num", "grade"])
        visits = part.drop_duplicates("visit_num")
        ticks = [f"{v}<br>n={shown_count(n, small_cells)}" for v, n in zip(visits["visit"], visits["n"])]
        for grade in GRADES:
            rows = part[part["grade"] == grade]
            fig.add_trace(go.Bar(x=ticks, y=rows["pct"], name=GRADE_LABELS[grade], legendgroup=str(grade),
                                 showlegend=col == 1, marker_color=GRADE_COLORS[grade],
                                 customdata=[[shown_count(c, small_cells), shown_count(n, small_cells)]
                                             for c, n in zip(rows["count"], rows["n"])],
                                 hovertemplate=f"{g}<br>{GRADE_LABELS[grade]}: %{{y:.1f}}% "
                                               "(%{customdata[0]} of %{customdata[1]})<extra></extra>"),
                          row=1, col=col)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Patients (%)", range=[0, 100], row=1, col=1)
    base_layout(fig, title=title)
    # The panel titles sit just above the plot: lift the legend over them.
    fig.update_layout(legend=dict(y=1.1), margin=dict(t=(60 if title else 30) + 30))
    return fig


def free_of_ascites_figure(result: FreeOfAscites, colors: Mapping[str, str], *,
                           title: str | None = None, small_cells: bool = False) -> go.Figure:
    """Proportion free of ascites (%) per group by visit with exact Clopper-Pearson CI bars; ``small_cells`` (a
    blinded view): counts of 1-4 in the hovers read "<5"."""
    if not isinstance(result, FreeOfAscites):
        raise ValueError("free_of_ascites_figure: result must be a FreeOfAscites from free_from_distribution().")
    s = result.summary
    visits = s.drop_duplicates("visit_num").sort_values("visit_num")["visit"].tolist()
    fig = go.Figure()
    for g in pd.unique(s["group"]):
        p = s[s["group"] == g].sort_values("visit_num")
        y = 100 * p["proportion"].to_numpy(float)
        fig.add_trace(go.Scatter(
            x=p["visit"], y=y, name=g, mode="lines+markers", line=dict(color=colors.get(g, POOLED_COLOR)),
            error_y=dict(type="data", symmetric=False, array=100 * p["ci_upper"].to_numpy(float) - y,
                         arrayminus=y - 100 * p["ci_lower"].to_numpy(float)),
            customdata=[[shown_count(k, small_cells), shown_count(n, small_cells)] for k, n in zip(p["n_free"], p["n"])],
            hovertemplate=f"{g} %{{x}}: %{{y:.1f}}% (%{{customdata[0]}} of %{{customdata[1]}})<extra></extra>"))
    fig.update_xaxes(title_text="Visit", type="category", categoryorder="array", categoryarray=visits)
    fig.update_yaxes(title_text=f"Free of ascites, % ({result.conf_level:.0%} exact CI)", range=[0, 100])
    return base_layout(fig, title=title)


def sankey_figure(links: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Sankey of grade transitions between chosen visits; one diagram per group, side by side."""
    _need("sankey_figure", "links", links, ("group", "source", "target", "source_grade", "target_grade",
                                            "count"))
    groups = list(pd.unique(links["group"]))
    fig = go.Figure()
    width = 1 / max(len(groups), 1)
    for k, g in enumerate(groups):
        part = links[links["group"] == g]
        labels = list(dict.fromkeys([*part["source"], *part["target"]]))
        grade_of = {**dict(zip(part["source"], part["source_grade"])),
                    **dict(zip(part["target"], part["target_grade"]))}
        index = {lab: i for i, lab in enumerate(labels)}
        x, y = _node_positions(part, labels, grade_of)
        fig.add_trace(go.Sankey(
            name=g, domain=dict(x=[k * width + 0.01, (k + 1) * width - 0.03], y=[0, 0.92]), arrangement="snap",
            node=dict(label=labels, color=[GRADE_COLORS[int(grade_of[lab])] for lab in labels], pad=12, x=x, y=y),
            link=dict(source=[index[s] for s in part["source"]], target=[index[t] for t in part["target"]],
                      value=part["count"].tolist())))
        fig.add_annotation(x=(k + 0.5) * width, y=1.0, xref="paper", yref="paper", text=f"<b>{g}</b>",
                           showarrow=False)
    return base_layout(fig, title=title)


def _node_positions(links: pd.DataFrame, labels: list[str], grade_of: dict) -> tuple[list[float], list[float]]:
    """One column per visit in the chosen order and grades top (none) to bottom (severe), so a node never
    drifts into another visit's column (plotly's automatic layout does that for sparse grades)."""
    visits = list(dict.fromkeys([*links["source_visit"], *links["target_visit"]]))
    visit_of = {**dict(zip(links["source"], links["source_visit"])),
                **dict(zip(links["target"], links["target_visit"]))}
    # plotly wants positions strictly inside (0, 1); the last column stops short so its nodes stay inside
    # the panel instead of touching the next group's diagram.
    x = [0.001 + 0.95 * visits.index(visit_of[lab]) / max(len(visits) - 1, 1) for lab in labels]
    y = [0.05 + 0.9 * int(grade_of[lab]) / (len(GRADES) - 1) for lab in labels]
    return x, y
