"""Figures: Kaplan-Meier and cumulative-incidence curves with a number-at-risk table.

Pure builders on domain results. Every trace is named by its group label (and tagged in ``meta``
with its role: ``curve``, ``ci``, ``censor``, ``risk``), so a pooled result draws only
:data:`POOLED_LABEL` and no arm name can appear. Curve points carry the number at risk (hover); censor
marks name up to ``MAX_HOVER_IDS`` patients. A selected x-range maps back to patients through the rows
(``ui.survival_panels.selected_patients``), not through ids in the figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.domain.competing_risks import CIFResult
from dashboard.domain.disclosure import shown_count
from dashboard.domain.survival import KMResult
from dashboard.figures.style import POOLED_COLOR, base_layout

DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12}
RISK_ROWS = ("at_risk", "events", "censored")
RISK_LABELS = {"at_risk": "At risk", "events": "Events", "censored": "Censored"}


def _check(fn: str, time_unit: str, risk_table_rows: Sequence[str]) -> None:
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError(f"{fn}: argument time_unit={time_unit!r}; allowed values: {list(DAYS_PER_UNIT)}.")
    bad = [r for r in risk_table_rows if r not in RISK_ROWS]
    if bad:
        raise ValueError(f"{fn}: argument risk_table_rows has {bad}; allowed values: {list(RISK_ROWS)}.")


def default_tick_days(max_day: float, time_unit: str) -> list[float]:
    """About six round ticks (in the display unit) from 0 to the last follow-up, returned in days."""
    per = DAYS_PER_UNIT[time_unit]
    span = max(max_day / per, 1.0)
    raw = span / 6
    magnitude = 10 ** np.floor(np.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw))
    return [float(t * per) for t in np.arange(0, span + 1e-9, step)]


def risk_counts(table: pd.DataFrame, day: float) -> dict[str, int]:
    """Number at risk at ``day`` (time >= day) and cumulative events/censorings before it."""
    later = table[table["time"] >= day]
    before = table[table["time"] < day]
    return {"at_risk": int(later["at_risk"].iloc[0]) if len(later) else 0,
            "events": int(before["events"].sum()), "censored": int(before["censored"].sum())}


# Patient ids named in a censor mark's hover; the rest are counted. Every id of a large trial in the
# figure would send megabytes to the browser on each run (a selection lists the patients instead).
MAX_HOVER_IDS = 10


def _censor_customdata(t: pd.DataFrame) -> list[list]:
    """Per censor mark: [censored, the first MAX_HOVER_IDS patient ids at that time and how many more]."""
    out = []
    for r in t.itertuples():
        more = len(r.usubjids) - MAX_HOVER_IDS
        out.append([int(r.censored), ", ".join(r.usubjids[:MAX_HOVER_IDS]) + (f" and {more} more" if more > 0 else "")])
    return out


def _ci_traces(fig: go.Figure, x: np.ndarray, t: pd.DataFrame, label: str, color: str) -> None:
    # R leaves the log-log CI undefined where survival is 1; draw the band closed there.
    lower = t["lower"].where(t["survival"] < 1, 1.0).to_numpy()
    upper = t["upper"].where(t["survival"] < 1, 1.0).to_numpy()
    for y, fill in ((np.append(1.0, upper), None), (np.append(1.0, lower), "tonexty")):
        fig.add_trace(go.Scatter(x=x, y=y, name=label, legendgroup=label, showlegend=False, mode="lines",
                                 line=dict(width=0, shape="hv", color=color), fill=fill,
                                 fillcolor=_transparent(color), hoverinfo="skip", meta={"role": "ci"}),
                      row=1, col=1)


def _transparent(color: str) -> str:
    r, g, b = (int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},0.15)"


def _risk_table(fig: go.Figure, tables: dict[str, pd.DataFrame], colors: dict, ticks: Sequence[float],
                per: float, rows: Sequence[str], small_cells: bool) -> list[str]:
    labels = []
    for label, t in tables.items():
        for row in rows:
            y_label = f"{label} · {RISK_LABELS[row]}" if len(rows) > 1 else label
            counts = [risk_counts(t, day)[row] for day in ticks]
            fig.add_trace(go.Scatter(x=[d / per for d in ticks], y=[y_label] * len(ticks), mode="text",
                                     text=[shown_count(c, small_cells) for c in counts],
                                     textfont=dict(color=colors.get(label, POOLED_COLOR)),
                                     name=label, legendgroup=label, showlegend=False, hoverinfo="skip", cliponaxis=False,
                                     meta={"role": "risk", "row": row}), row=2, col=1)
            labels.append(y_label)
    return labels


def km_figure(km: KMResult, *, colors: dict[str, str], show_ci: bool = True, time_unit: str = "days",
              show_censor: bool = True, show_median: bool = False,
              risk_table_rows: Sequence[str] = ("at_risk",), tick_days: Sequence[float] | None = None,
              title: str | None = None, y_title: str = "Survival probability", small_cells: bool = False) -> go.Figure:
    """Kaplan-Meier step curves per group with CI band, censor marks (+) and a number-at-risk table
    aligned with the x-axis ticks. ``small_cells`` (a blinded view): numbers at risk of 1-4 read "<5"."""
    _check("km_figure", time_unit, risk_table_rows)
    per = DAYS_PER_UNIT[time_unit]
    tables = {g: km.table[km.table["group"] == g] for g in km.groups}
    ticks = list(tick_days) if tick_days is not None else default_tick_days(km.table["time"].max(), time_unit)
    n_rows = len(km.groups) * max(len(risk_table_rows), 1)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.78, 0.22] if n_rows <= 3 else [0.65, 0.35])
    for label, t in tables.items():
        color = colors.get(label, POOLED_COLOR)
        x = np.append(0.0, t["time"].to_numpy()) / per
        if show_ci:
            _ci_traces(fig, x, t, label, color)
        fig.add_trace(go.Scatter(x=x, y=np.append(1.0, t["survival"].to_numpy()), name=label, legendgroup=label,
                                 mode="lines", line=dict(shape="hv", color=color, width=2),
                                 customdata=[shown_count(n, small_cells)
                                             for n in np.append(t["at_risk"].iloc[0], t["at_risk"].to_numpy())],
                                 hovertemplate="%{x:.0f}: %{y:.3f}<br>at risk %{customdata}<extra>%{fullData.name}</extra>",
                                 meta={"role": "curve"}), row=1, col=1)
        censored = t[t["censored"] > 0]
        if show_censor and len(censored):
            fig.add_trace(go.Scatter(x=censored["time"] / per, y=censored["survival"], name=label, legendgroup=label,
                                     showlegend=False, mode="markers",
                                     marker=dict(symbol="cross-thin", size=9, line=dict(width=1.5, color=color)),
                                     customdata=_censor_customdata(censored), meta={"role": "censor"},
                                     hovertemplate="censored %{customdata[0]}: %{customdata[1]}<extra></extra>"),
                          row=1, col=1)
        if show_median:
            _median_lines(fig, km, label, per, color)
    labels = _risk_table(fig, tables, colors, ticks, per, risk_table_rows, small_cells) if risk_table_rows else []
    tickvals = [d / per for d in ticks]
    right = max(tickvals + [km.table["time"].max() / per]) * 1.02
    # A small left margin so the risk-table count at time 0 is not cut in half.
    fig.update_xaxes(tickvals=tickvals, ticktext=[f"{v:g}" for v in tickvals], range=[-0.03 * right, right])
    fig.update_xaxes(title_text=f"Time ({time_unit})", row=2, col=1)
    fig.update_yaxes(title_text=y_title, range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], showgrid=False, row=2, col=1)
    return base_layout(fig, title=title, height=420 + 22 * n_rows)


def _median_lines(fig: go.Figure, km: KMResult, label: str, per: float, color: str) -> None:
    median = km.summary.set_index("group").loc[label, "median"]
    if np.isnan(median):
        return
    fig.add_shape(type="line", x0=0, x1=median / per, y0=0.5, y1=0.5, line=dict(dash="dot", color=color, width=1),
                  row=1, col=1)
    fig.add_shape(type="line", x0=median / per, x1=median / per, y0=0, y1=0.5,
                  line=dict(dash="dot", color=color, width=1), row=1, col=1)


def cif_figure(panels: Sequence[tuple[str, CIFResult]], *, colors: dict[str, str], time_unit: str = "days",
               show_ci: bool = True, title: str | None = None) -> go.Figure:
    """Aalen-Johansen cumulative incidence step curves, one panel per cause (``panels``: (cause label, result)),
    one curve per group, with the pointwise CI as a band where the result carries ``lower``/``upper``."""
    _check("cif_figure", time_unit, ())
    per = DAYS_PER_UNIT[time_unit]
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.05,
                        subplot_titles=[f"Cumulative incidence of {cause}" for cause, _ in panels])
    for col, (cause, cif) in enumerate(panels, start=1):
        for label in cif.groups:
            t = cif.table[cif.table["group"] == label]
            x = np.append(0.0, t["time"].to_numpy()) / per
            color = colors.get(label, POOLED_COLOR)
            if show_ci and {"lower", "upper"} <= set(t.columns):
                # The log-transformed CI is undefined while the incidence is 0: the band is closed there.
                for bound in ("upper", "lower"):
                    y = np.append(0.0, t[bound].where(t["cif"] > 0, 0.0).to_numpy())
                    fig.add_trace(go.Scatter(x=x, y=y, name=label, mode="lines",
                                             line=dict(shape="hv", width=0, color=color), showlegend=False,
                                             fill="tonexty" if bound == "lower" else None, hoverinfo="skip",
                                             fillcolor=_transparent(color), meta={"role": "ci", "cause": cause}),
                                  row=1, col=col)
            fig.add_trace(go.Scatter(x=x, y=np.append(0.0, t["cif"].to_numpy()), name=label, mode="lines",
                                     legendgroup=label, showlegend=col == 1,
                                     line=dict(shape="hv", color=color, width=2),
                                     hovertemplate=f"{label}<br>{cause}: %{{y:.3f}} at %{{x:.0f}} {time_unit}<extra></extra>",
                                     meta={"role": "curve", "cause": cause}), row=1, col=col)
        fig.update_xaxes(title_text=f"Time ({time_unit})", rangemode="tozero", row=1, col=col)
    fig.update_yaxes(title_text="Cumulative incidence", range=[0, 1], row=1, col=1)
    fig = base_layout(fig, title=title)
    fig.update_layout(legend=dict(y=1.12), margin=dict(t=(60 if title else 30) + 40))
    return fig


def km_accrual_figure(frames: Sequence[tuple[str, KMResult]], *, colors: dict[str, str], time_unit: str = "days",
                      title: str | None = None) -> go.Figure:
    """Kaplan-Meier curves as the data accrued: one animation frame per (as-of label, result), with a
    play button and a slider; every frame has the same traces (curve and censor marks per group) so
    plotly can morph between them. Opens on the last frame."""
    _check("km_accrual_figure", time_unit, ())
    if not frames:
        raise ValueError("km_accrual_figure: argument frames is empty; pass at least one (label, KMResult).")
    per = DAYS_PER_UNIT[time_unit]
    groups = frames[-1][1].groups
    right = max(km.table["time"].max() for _, km in frames) / per * 1.02
    built = [go.Frame(data=_accrual_traces(km, groups, colors, per), name=label,
                      layout=dict(title_text=f"As of {label}: " + _events_text(km)))
             for label, km in frames]
    fig = go.Figure(data=built[-1].data, frames=built)
    steps = [dict(label=label, method="animate",
                  args=[[label], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                      transition=dict(duration=0))])
             for label, _ in frames]
    fig.update_layout(
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=-0.12, xanchor="left", yanchor="top",
                          buttons=[dict(label="▶ Play", method="animate",
                                        args=[None, dict(frame=dict(duration=500, redraw=True), fromcurrent=False,
                                                         transition=dict(duration=0))])])],
        sliders=[dict(active=len(frames) - 1, steps=steps, x=0.1, len=0.9, y=-0.12, yanchor="top",
                      currentvalue=dict(prefix="As of "))])
    fig.update_xaxes(title_text=f"Time ({time_unit})", range=[0, right])
    fig.update_yaxes(title_text="Survival probability", range=[0, 1.02])
    fig = base_layout(fig, title=title or built[-1].layout.title.text, height=500)
    # Room above the legend for the per-frame title, below the axis for the play button and slider.
    fig.update_layout(margin=dict(t=90, b=140), title=dict(y=0.97, yanchor="top"))
    return fig


def _events_text(km: KMResult) -> str:
    s = km.summary
    return ", ".join(f"{g} {e} events / {n}" for g, e, n in zip(s["group"], s["events"], s["n"]))


def _accrual_traces(km: KMResult, groups: Sequence[str], colors: dict[str, str], per: float) -> list[go.Scatter]:
    traces = []
    for label in groups:
        t = km.table[km.table["group"] == label]
        color = colors.get(label, POOLED_COLOR)
        censored = t[t["censored"] > 0]
        traces += [go.Scatter(x=np.append(0.0, t["time"].to_numpy()) / per, y=np.append(1.0, t["survival"].to_numpy()),
                              name=label, mode="lines", line=dict(shape="hv", color=color, width=2),
                              meta={"role": "curve"}),
                   go.Scatter(x=censored["time"] / per, y=censored["survival"], name=label, showlegend=False,
                              mode="markers",
                              marker=dict(symbol="cross-thin", size=9, line=dict(width=1.5, color=color)),
                              hoverinfo="skip", meta={"role": "censor"})]
    return traces


def km_cut_comparison_figure(results: Sequence[tuple[str, KMResult]], *, colors: dict[str, str],
                             time_unit: str = "days", title: str | None = None) -> go.Figure:
    """Kaplan-Meier curves of two or more data cuts: the latest solid, earlier ones dashed, one colour
    per group, so a DSMB sees how the estimate moved between cuts."""
    _check("km_cut_comparison_figure", time_unit, ())
    per = DAYS_PER_UNIT[time_unit]
    dashes = ("solid", "dash", "dot", "dashdot")
    fig = go.Figure()
    for k, (label, km) in enumerate(reversed(results)):
        for trace in _accrual_traces(km, km.groups, colors, per):
            trace.name = f"{trace.name} · {label}"
            trace.showlegend = trace.meta["role"] == "curve"
            if trace.meta["role"] == "curve":
                trace.line.dash = dashes[k % len(dashes)]
            fig.add_trace(trace)
    fig.update_xaxes(title_text=f"Time ({time_unit})", rangemode="tozero")
    fig.update_yaxes(title_text="Survival probability", range=[0, 1.02])
    return base_layout(fig, title=title, height=460)
