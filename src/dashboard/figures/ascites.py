"""Figures layer: ascites grade bars (100% stacked, n per bar), free-of-ascites proportion, Sankey, cumulative
incidence of resolution.

Pure builders on the results of :mod:`dashboard.domain.ascites`. Grades are coloured by severity
(a sequential scale), not by arm, so colour never encodes the arm in these figures; groups are
separated into panels or series named by the result's ``group`` values (``POOLED_LABEL`` if pooled).
The Sankey's states beyond the grades read apart from them: died black, transplanted purple (as the lab
states on /labs), withdrawn or lost and not assessed grey, not yet due white.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.domain.ascites import (
    DIED,
    GRADE_LABELS,
    GRADES,
    LEFT,
    NOT_ASSESSED,
    NOT_DUE,
    STATE_LABELS,
    TRANSPLANTED,
    FreeOfAscites,
    ResolutionCIF,
)
from dashboard.domain.disclosure import shown_count
from dashboard.figures.style import POOLED_COLOR, base_layout, stacked_percent_figure

# Sequential light-to-dark so "worse" reads darker (colour-blind safe, from ColorBrewer Blues).
GRADE_COLORS = {0: "#deebf7", 1: "#9ecae1", 2: "#4292c6", 3: "#08306b"}
STATE_COLORS = {**GRADE_COLORS, NOT_ASSESSED: "#f0f0f0", LEFT: "#bdbdbd", TRANSPLANTED: "#6a3d9a", DIED: "#000000",
                NOT_DUE: "#ffffff"}


def _need(func: str, arg: str, df: pd.DataFrame, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{func}: argument {arg!r} lacks column(s) {missing}; required: {list(cols)}.")


def grade_bars_figure(distribution: pd.DataFrame, *, title: str | None = None, small_cells: bool = False) -> go.Figure:
    """100% stacked bars of grade by visit, one panel per group; each tick reads "W4<br>n=18". ``small_cells``
    (a blinded view): counts of 1-4 in the ticks and hovers read "<5"."""
    _need("grade_bars_figure", "distribution", distribution,
          ("group", "visit_num", "visit", "grade", "count", "n", "pct"))
    return stacked_percent_figure(distribution, category_col="grade", categories=GRADES, labels=GRADE_LABELS,
                                  colors=GRADE_COLORS, count_col="count", total_col="n", y_title="Patients (%)",
                                  title=title, small_cells=small_cells)


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


def sankey_figure(links: pd.DataFrame, *, title: str | None = None, small_cells: bool = False) -> go.Figure:
    """Sankey of grade (or state) transitions between chosen visits; one diagram per group, side by side, the
    visits named above their columns and each node by its state (the hovers say both). Links take the colour
    of the state they lead to. ``small_cells`` (a blinded view): counts of 1-4 in the hovers read "<5"."""
    _need("sankey_figure", "links", links, ("group", "source", "target", "source_visit", "target_visit",
                                            "source_state", "target_state", "count"))
    groups = list(pd.unique(links["group"]))
    fig = go.Figure()
    width = 1 / max(len(groups), 1)
    for k, g in enumerate(groups):
        part = links[links["group"] == g]
        nodes = _nodes(part)
        index = {name: i for i, name in enumerate(nodes.index)}
        left, right = k * width + 0.01, (k + 1) * width - 0.03
        fig.add_trace(go.Sankey(
            name=g, domain=dict(x=[left, right], y=[0, 0.88]), arrangement="snap",
            node=dict(label=nodes["state"].map(STATE_LABELS).tolist(), color=nodes["state"].map(STATE_COLORS).tolist(),
                      pad=NODE_PAD_PX, x=nodes["x"].tolist(), y=nodes["y"].tolist(), line=dict(color="#969696", width=0.5),
                      customdata=[[name, shown_count(n, small_cells)] for name, n in zip(nodes.index, nodes["count"])],
                      hovertemplate="%{customdata[0]}: %{customdata[1]} patients<extra></extra>"),
            link=dict(source=part["source"].map(index).tolist(), target=part["target"].map(index).tolist(),
                      value=part["count"].tolist(), color=[_translucent(STATE_COLORS[int(t)]) for t in part["target_state"]],
                      customdata=[[a, b, shown_count(n, small_cells)]
                                  for a, b, n in zip(part["source"], part["target"], part["count"])],
                      hovertemplate="%{customdata[0]} → %{customdata[1]}: %{customdata[2]} patients<extra></extra>")))
        fig.add_annotation(x=(left + right) / 2, y=1.0, xref="paper", yref="paper", text=f"<b>{g}</b>",
                           showarrow=False)
        for visit, x in nodes.drop_duplicates("visit")[["visit", "x"]].itertuples(index=False):
            fig.add_annotation(x=left + x * (right - left), y=0.91, xref="paper", yref="paper", text=visit,
                               showarrow=False, xanchor="left" if x < 0.5 else "right", font=dict(size=12))
    return base_layout(fig, title=title)


# Space between the nodes of a column: in pixels for plotly, and as a share of the diagram's height for the
# positions below (about 12 px of a diagram some 300 px high).
NODE_PAD_PX, NODE_PAD = 12, 0.04


def _nodes(links: pd.DataFrame) -> pd.DataFrame:
    """One row per node (index: its name, "W4: mild"): ``visit``, ``state``, ``count`` (the larger of what flows
    in and out, plotly's height) and the position plotly is given: one column per visit in the chosen order
    (so a node never drifts into another visit's column, as plotly's automatic layout does with sparse grades)
    and, within it, the states stacked from none down to severe, then the exits, each node centred on its share
    of the column with plotly's scale (the fullest column fills the height)."""
    columns = ["name", "visit", "state", "count"]
    ends = pd.concat([links[[f"{end}", f"{end}_visit", f"{end}_state", "count"]].set_axis(columns, axis=1).assign(side=end)
                      for end in ("source", "target")])
    flows = ends.groupby(["name", "side"], sort=False)["count"].sum().unstack(fill_value=0)
    nodes = ends.drop_duplicates("name").set_index("name")[["visit", "state"]]
    nodes["count"] = flows.max(axis=1).reindex(nodes.index)
    visits = list(dict.fromkeys([*links["source_visit"], *links["target_visit"]]))
    nodes["column"] = nodes["visit"].map(visits.index)
    nodes = nodes.sort_values(["column", "state"], kind="stable")
    per_column = nodes.groupby("column")["count"]
    scale = ((1 - NODE_PAD * (per_column.size() - 1)) / per_column.sum()).min()
    before = per_column.cumsum() - nodes["count"]
    slot = nodes.groupby("column").cumcount()
    # plotly wants positions strictly inside (0, 1); the last column stops short so its labels stay inside.
    nodes["y"] = (before * scale + slot * NODE_PAD + nodes["count"] * scale / 2).clip(0.001, 0.999)
    nodes["x"] = 0.001 + 0.95 * nodes["column"] / max(len(visits) - 1, 1)
    return nodes


def _translucent(color: str, alpha: float = 0.35) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    # The palest states (none, not assessed, not yet due) would vanish on a white page: their links are grey.
    if min(r, g, b) > 0xd0:
        r = g = b = 0xbd
    return f"rgba({r}, {g}, {b}, {alpha})"


def resolution_cif_figure(result: ResolutionCIF, colors: Mapping[str, str], *, tick_days=None,
                          title: str | None = None) -> go.Figure:
    """Cumulative incidence of resolution per group as a step curve with its pointwise CI band, and the
    cumulative incidence of death (the competing event) dashed beside it, from ``resolution_cif_from_times``."""
    if not isinstance(result, ResolutionCIF):
        raise ValueError("resolution_cif_figure: result must be a ResolutionCIF from resolution_cif_from_times().")
    level = f"{result.conf_level:.0%}"
    fig = go.Figure()
    for g in result.cif.groups:
        color = colors.get(g, POOLED_COLOR)
        t = result.cif.table[result.cif.table["group"] == g]
        x = np.append(0.0, t["time"].to_numpy(float))
        cif = np.append(0.0, t["cif"].to_numpy(float))
        # The log CI is undefined while the incidence is 0: the band is 0 there.
        lower = np.append(0.0, t["lower"].fillna(t["cif"]).to_numpy(float))
        upper = np.append(0.0, t["upper"].fillna(t["cif"]).to_numpy(float))
        fig.add_trace(go.Scatter(x=x, y=upper, mode="lines", line=dict(shape="hv", width=0, color=color),
                                 showlegend=False, hoverinfo="skip", legendgroup=g, meta={"role": "band"}))
        fig.add_trace(go.Scatter(x=x, y=lower, mode="lines", line=dict(shape="hv", width=0, color=color),
                                 fill="tonexty", fillcolor=_translucent(color, 0.18),
                                 showlegend=False, hoverinfo="skip", legendgroup=g, meta={"role": "band"}))
        fig.add_trace(go.Scatter(
            x=x, y=cif, name=f"{g}: resolved", mode="lines", line=dict(shape="hv", width=2, color=color),
            legendgroup=g, meta={"role": "curve"}, customdata=np.column_stack([lower, upper]),
            hovertemplate=f"{g} day %{{x:.0f}}: resolved %{{y:.1%}} ({level} CI %{{customdata[0]:.1%}}-"
                          "%{customdata[1]:.1%})<extra></extra>"))
        d = result.death.table[result.death.table["group"] == g]
        fig.add_trace(go.Scatter(
            x=np.append(0.0, d["time"].to_numpy(float)), y=np.append(0.0, d["cif"].to_numpy(float)),
            name=f"{g}: died before resolving", mode="lines", line=dict(shape="hv", width=1.5, dash="dash", color=color),
            legendgroup=g, meta={"role": "competing"},
            hovertemplate=f"{g} day %{{x:.0f}}: died before resolving %{{y:.1%}}<extra></extra>"))
    fig.update_xaxes(title_text="Days since the first infusion", rangemode="tozero",
                     **({} if tick_days is None else dict(tickvals=list(tick_days))))
    fig.update_yaxes(title_text="Cumulative incidence", range=[0, 1], tickformat=".0%")
    return base_layout(fig, title=title)
