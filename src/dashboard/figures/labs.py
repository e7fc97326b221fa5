"""Figures layer: lab figures by visit (mean/median with CI or IQR, boxes, spaghetti, mDISH).

Pure builders: results in, ``go.Figure`` out; no Streamlit, no SQL. Group names come from the data
the access layer allowed, so a pooled (blinded) result draws one series, ``POOLED_LABEL``, and no arm.
Boxes are drawn from precomputed quartiles so the browser receives aggregates, not raw rows (DESIGN §7).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.domain.disclosure import shown_count
from dashboard.domain.lab_safety import DishResult
from dashboard.domain.labplots import BoxStats, Trajectories
from dashboard.domain.labstats import VisitSummary
from dashboard.figures.log_axis import log_ticks
from dashboard.figures.style import POOLED_COLOR, base_layout

STATS = ("mean", "median")
# Horizontal offset between groups at one visit, so error bars of two arms do not overlap.
DODGE = 0.12


def _color(colors: Mapping[str, str], group: str) -> str:
    return colors.get(group, POOLED_COLOR)


def _groups(df: pd.DataFrame) -> list[str]:
    return list(pd.unique(df["group"]))


def _need(func: str, arg: str, df: pd.DataFrame, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{func}: argument {arg!r} lacks column(s) {missing}; required: {list(cols)}.")


def mean_by_visit_figure(summary: VisitSummary | pd.DataFrame, colors: Mapping[str, str], *,
                         stat: str = "mean", n_table: bool = True, exits: pd.DataFrame | None = None,
                         title: str | None = None, y_title: str | None = None, small_cells: bool = False) -> go.Figure:
    """Mean with CI error bars (or median with IQR bars) per group by visit; n per group under each visit.

    ``summary`` is a :class:`VisitSummary` (or its ``summary`` DataFrame). The n row is a set of
    annotations under the x axis, one line per group in the group's colour. ``exits`` (the result of
    ``deaths_between_visits`` over the plotted visits) adds a row per group under the n rows with the
    deaths (†), transplants (Tx) and withdrawals or losses to follow-up (Wd) between each pair of visits, placed
    between their ticks, so a rising mean can be read against who left.
    """
    func = "mean_by_visit_figure"
    if stat not in STATS:
        raise ValueError(f"{func}: stat must be one of {list(STATS)}, got {stat!r}.")
    table = summary.summary if isinstance(summary, VisitSummary) else summary
    _need(func, "summary", table, ("group", "visit_num", "visit", "n", "mean", "ci_lower", "ci_upper",
                                   "median", "q1", "q3"))
    visits = table.drop_duplicates("visit_num").sort_values("visit_num")
    pos = {v: i for i, v in enumerate(visits["visit_num"])}
    groups = _groups(table)
    lo_col, hi_col, bar = ("ci_lower", "ci_upper", "CI") if stat == "mean" else ("q1", "q3", "IQR")
    if isinstance(summary, VisitSummary):
        bar = f"{summary.conf_level:.0%} CI" if stat == "mean" else "IQR"
    fig = go.Figure()
    for k, g in enumerate(groups):
        part = table[table["group"] == g].sort_values("visit_num")
        offset = (k - (len(groups) - 1) / 2) * DODGE
        x = part["visit_num"].map(pos).to_numpy(float) + offset
        y = part[stat].to_numpy(float)
        fig.add_trace(go.Scatter(
            x=x, y=y, name=g, mode="lines+markers", line=dict(color=_color(colors, g)),
            error_y=dict(type="data", symmetric=False, array=part[hi_col].to_numpy(float) - y,
                         arrayminus=y - part[lo_col].to_numpy(float), thickness=1.2, width=4),
            customdata=np.column_stack([part["visit"], part["n"], part[lo_col], part[hi_col]]),
            hovertemplate=(f"<b>{g}</b> %{{customdata[0]}}<br>{stat} %{{y:.3g}}<br>{bar} "
                           "%{customdata[2]:.3g} to %{customdata[3]:.3g}<br>n %{customdata[1]}<extra></extra>"),
        ))
    # Horizontal ticks keep the rows under the axis at a fixed distance (narrow figures would tilt them).
    fig.update_xaxes(tickmode="array", tickvals=list(pos.values()), ticktext=list(visits["visit"]),
                     title_text="Visit", tickangle=0)
    fig.update_yaxes(title_text=y_title or (f"{stat.capitalize()} ({bar})"))
    base_layout(fig, title=title)
    n_rows = len(groups) if n_table else 0
    # Annotations are collected and set once: plotly re-validates all of them on every add_annotation.
    notes: list[dict] = []
    if n_table:
        notes += _n_rows(table, groups, pos, colors, small_cells)
    if exits is not None:
        visit_pos = {str(lab): pos[v] for v, lab in zip(visits["visit_num"], visits["visit"])}
        notes += _exit_rows(exits, groups, visit_pos, colors, first_row=n_rows, small_cells=small_cells)
        # Annotations do not widen the axis: leave room for the half-tick slots at both ends.
        fig.update_xaxes(range=[-0.7, len(visit_pos) - 0.3])
        n_rows += len(groups)
    if notes:
        fig.layout.annotations = [*fig.layout.annotations, *notes]
    if n_rows:
        _fit_rows(fig, n_rows)
    return fig


# Rows under the axis are placed in pixels below the plot area, so they neither overlap the tick labels
# and the axis title nor squeeze together when the figure grows.
ROW_TOP_PX = 58
ROW_PX = 17


def _row_y(k: int) -> dict:
    return dict(y=0, yref="paper", yanchor="top", yshift=-(ROW_TOP_PX + k * ROW_PX))


def _fit_rows(fig: go.Figure, n_rows: int) -> None:
    """Grow the bottom margin and the height by the rows, keeping the plot area's height."""
    bottom = ROW_TOP_PX + n_rows * ROW_PX + 10
    fig.update_layout(margin=dict(b=bottom, l=110), height=fig.layout.height - fig.layout.margin.b + bottom)


def _n_rows(table: pd.DataFrame, groups: list[str], pos: dict, colors, small_cells: bool) -> list[dict]:
    notes = []
    for k, g in enumerate(groups):
        notes.append(dict(x=0, xref="paper", xanchor="right", showarrow=False, **_row_y(k),
                          text=f"n {g}", font=dict(size=11, color=_color(colors, g))))
        part = table[table["group"] == g]
        for vnum, n in zip(part["visit_num"], part["n"]):
            notes.append(dict(x=pos[vnum], xref="x", showarrow=False, text=shown_count(n, small_cells), **_row_y(k),
                              font=dict(size=11, color=_color(colors, g))))
    return notes


def _exit_text(row, small_cells: bool) -> tuple[str, str]:
    left = int(row.withdrawn) + int(row.lost_to_follow_up)
    parts = [f"{k}{shown_count(v, small_cells)}" for k, v in (("†", int(row.died)), ("Tx", int(row.transplanted)),
                                                             ("Wd", left)) if v]
    died, transplanted, withdrawn, lost = (shown_count(v, small_cells) for v in (
        row.died, row.transplanted, row.withdrawn, row.lost_to_follow_up))
    hover = (f"{row.group}, {row.interval}: {died} died, {transplanted} transplanted, "
             f"{withdrawn} withdrawn, {lost} lost to follow-up")
    return (" ".join(parts) or "-"), hover


def _exit_rows(exits: pd.DataFrame, groups: list[str], visit_pos: dict[str, int], colors,
               first_row: int, small_cells: bool) -> list[dict]:
    _need("mean_by_visit_figure", "exits", exits, ("group", "interval", "from_visit", "to_visit", "died",
                                                    "transplanted", "withdrawn", "lost_to_follow_up", "total"))
    notes = []
    for k, g in enumerate(groups):
        notes.append(dict(x=0, xref="paper", xanchor="right", showarrow=False, **_row_y(first_row + k),
                          text=f"left {g}", font=dict(size=11, color=_color(colors, g))))
        for row in exits[exits["group"] == g].itertuples():
            # An interval sits half a tick before the visit that closes it (after the last visit: after it).
            if row.to_visit in visit_pos:
                x = visit_pos[row.to_visit] - 0.5
                if x < 0 and row.total == 0:
                    continue  # nobody left before the first plotted visit: keep the axis tight
            elif row.from_visit in visit_pos and row.to_visit == "":
                x = visit_pos[row.from_visit] + 0.5
            else:
                continue
            text, hover = _exit_text(row, small_cells)
            notes.append(dict(x=x, xref="x", showarrow=False, text=text, hovertext=hover, **_row_y(first_row + k),
                              font=dict(size=11, color=_color(colors, g))))
    return notes


def box_by_visit_figure(boxes: BoxStats, colors: Mapping[str, str], *, title: str | None = None,
                        y_title: str | None = None) -> go.Figure:
    """Box per group and visit, drawn from the quartiles and whisker ends of :class:`BoxStats`.

    The browser receives five numbers per box, no rows; groups are drawn in the order of ``boxes``.
    """
    if not isinstance(boxes, BoxStats):
        raise ValueError("box_by_visit_figure: boxes must be a BoxStats from box_stats_from_aggregates().")
    table = boxes.summary
    fig = go.Figure()
    for g in _groups(table):
        part = table[table["group"] == g]
        fig.add_trace(go.Box(x=part["visit"].tolist(), q1=part["q1"], median=part["median"], q3=part["q3"],
                             lowerfence=part["whisker_lo"], upperfence=part["whisker_hi"], name=g,
                             marker_color=_color(colors, g), customdata=part["n"], boxpoints=False))
    fig.update_layout(boxmode="group")
    fig.update_xaxes(title_text="Visit", type="category")
    fig.update_yaxes(title_text=y_title or boxes.value_col)
    return base_layout(fig, title=title)


def _with_breaks(values: np.ndarray, ends: np.ndarray, gap: float | None = np.nan) -> np.ndarray:
    """``values`` with a gap after each patient's last point (``ends``: indices one past each)."""
    return np.insert(values.astype(float if gap is not None else object), ends, gap)


def spaghetti_figure(trajectories: Trajectories, colors: Mapping[str, str], *, title: str | None = None,
                     y_title: str | None = None) -> go.Figure:
    """One WebGL line per patient, one trace per group (patients separated by NaN gaps).

    ``customdata`` holds ``usubjid`` per point so a box/lasso selection maps back to patients. When
    ``trajectories`` is a sample of whole patients, the title says how many of how many are shown.
    """
    if not isinstance(trajectories, Trajectories):
        raise ValueError("spaghetti_figure: trajectories must be a Trajectories from trajectories_from_sample().")
    t = trajectories
    fig = go.Figure()
    # Arrays, not lists: plotly validates list elements one by one (seconds at 100,000 points) and sends
    # numeric arrays to the browser as compact binary.
    for g in _groups(t.rows):
        part = t.rows[t.rows["group"] == g]
        ids = part["usubjid"].to_numpy(object)
        ends = np.append(np.flatnonzero(ids[1:] != ids[:-1]) + 1, len(ids))
        fig.add_trace(go.Scattergl(x=_with_breaks(part["study_day"].to_numpy(), ends),
                                   y=_with_breaks(part[t.value_col].to_numpy(float), ends),
                                   customdata=_with_breaks(ids, ends, None), name=g, mode="lines+markers",
                                   line=dict(color=_color(colors, g), width=1), marker=dict(size=3),
                                   opacity=0.6, connectgaps=False,
                                   hovertemplate="%{customdata}<br>day %{x}: %{y:.3g}<extra>" + g + "</extra>"))
    note = f" (showing {t.n_shown} of {t.n_patients} patients)" if t.n_shown < t.n_patients else ""
    fig.update_xaxes(title_text="Study day")
    fig.update_yaxes(title_text=y_title or t.value_col)
    fig.update_layout(dragmode="lasso")
    return base_layout(fig, title=(title or "") + note if (title or note) else None)


def mdish_figure(result: DishResult, colors: Mapping[str, str], *, title: str | None = None,
                 small_cells: bool = False) -> go.Figure:
    """mDISH scatter on log axes (ticks 0.5, 1, 2, 5, 10, 20, ... written in full) with the cut-off lines and dotted
    lines at 1 (no change from baseline); legend entries carry per-group counts, a count of 1-4 written "<5"
    with ``small_cells`` (a blinded view)."""
    if not isinstance(result, DishResult):
        raise ValueError("mdish_figure: result must be a DishResult from mdish_from_peaks().")
    r = result
    unit = "x baseline"
    fig = go.Figure()
    for g in _groups(r.counts):
        pts = r.patients[r.patients["group"] == g]
        both = int(r.counts[(r.counts["group"] == g) & (r.counts["quadrant"] == r.quadrants[0])]["n"].sum())
        name = f"{g} (n={shown_count(len(pts), small_cells)}; {r.quadrants[0]} {shown_count(both, small_cells)})"
        fig.add_trace(go.Scatter(
            x=pts["alt_peak"], y=pts["bili_peak"], mode="markers", name=name,
            marker=dict(color=_color(colors, g), size=8, opacity=0.8), customdata=pts["usubjid"],
            text=pts["quadrant"],
            hovertemplate=f"%{{customdata}}<br>ALT %{{x:.2f}} {unit}<br>bilirubin %{{y:.2f}} {unit}"
                          "<br>%{text}<extra></extra>"))
    fig.add_vline(x=r.alt_cut, line_dash="dash", line_color="#777")
    fig.add_hline(y=r.bili_cut, line_dash="dash", line_color="#777")
    fig.add_vline(x=1, line_dash="dot", line_color="#bbb")
    fig.add_hline(y=1, line_dash="dot", line_color="#bbb")
    for text, xa, ya, xanchor, yanchor in ((r.quadrants[0], 0.99, 0.99, "right", "top"),
                                           (r.quadrants[1], 0.99, 0.01, "right", "bottom"),
                                           (r.quadrants[2], 0.01, 0.99, "left", "top"),
                                           (r.quadrants[3], 0.01, 0.01, "left", "bottom")):
        fig.add_annotation(x=xa, y=ya, xref="paper", yref="paper", text=text, showarrow=False,
                           xanchor=xanchor, yanchor=yanchor, font=dict(size=11, color="#777"))
    # The axes span the points, 1 (no change from baseline) and twice each cut-off, so the quadrants
    # beyond the cut-offs have room for their labels even when no patient reaches them.
    fig.update_xaxes(type="log", title_text=f"Peak ALT ({unit})",
                     **log_ticks([1.0, 2 * r.alt_cut, *r.patients["alt_peak"]]))
    fig.update_yaxes(type="log", title_text=f"Peak total bilirubin ({unit})",
                     **log_ticks([1.0, 2 * r.bili_cut, *r.patients["bili_peak"]]))
    fig = base_layout(fig, title=title, height=460)
    # Two long legend entries wrap in a half-width column: below the axes they cannot cover the title.
    return fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0),
                             margin=dict(b=110))
