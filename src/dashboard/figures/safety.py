"""Figures layer: infusion-safety figures (0-24 h temperature, fever incidence, AE overview) and the volcano
plot of the safety signals.

Pure builders: a domain result in, ``go.Figure`` out. One trace per group found in the result, so a
pooled (blinded) result draws only :data:`POOLED_LABEL` and no arm name can appear.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dashboard.domain.disclosure import SUPPRESSED, is_small, shown_count
from dashboard.domain.safety import FeverIncidence, SafetyTable, TemperatureSummary
from dashboard.domain.safety_signals import SafetySignals
from dashboard.figures.style import base_layout

# System organ classes take colours unlike the arms' (Okabe-Ito blue and orange), so a colour never reads as an arm.
SOC_COLORS = qualitative.Safe
TEMPERATURE_COLUMNS = ("group", "infusion_num", "hours_after", "n", "mean", "ci_lower", "ci_upper")


def _check_colors(groups: Sequence[str], colors: Mapping[str, str], func: str) -> None:
    missing = [g for g in groups if g not in colors]
    if missing:
        raise ValueError(
            f"{func}: argument colors has no colour for group(s) {', '.join(missing)}; "
            "build it with dashboard.figures.style.arm_colors(arms)."
        )


def _groups(df: pd.DataFrame) -> list[str]:
    # Order of first appearance: the domain functions already order groups active arm first.
    return list(dict.fromkeys(df["group"]))


def temperature_figure(
    temp_summary: TemperatureSummary | pd.DataFrame,
    colors: Mapping[str, str],
    *,
    thresholds: Sequence[float] = (37.3, 38.0),
    individual: pd.DataFrame | None = None,
    title: str | None = None,
    height: int = 420,
) -> go.Figure:
    """Mean temperature with its CI by hour after the end of infusion, one panel per infusion.

    ``temp_summary`` is the result of :func:`dashboard.domain.safety.temperature_from_aggregates` (or its
    ``summary`` DataFrame); ``thresholds`` (deg C) are drawn as dotted horizontal lines.
    ``individual`` (from :func:`dashboard.domain.safety.temperature_readings`) adds each patient's
    readings as thin lines behind the means, one trace per group and infusion.
    """
    func = "temperature_figure"
    df = temp_summary.summary if isinstance(temp_summary, TemperatureSummary) else temp_summary
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{func}: argument temp_summary must be a TemperatureSummary or DataFrame.")
    missing = [c for c in TEMPERATURE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{func}: argument temp_summary is missing column(s) {', '.join(missing)}; "
                         f"required: {', '.join(TEMPERATURE_COLUMNS)}.")
    if not all(isinstance(t, (int, float)) for t in thresholds):
        raise ValueError(f"{func}: argument thresholds must be numbers in deg C, got {thresholds!r}.")
    groups = _groups(df)
    _check_colors(groups, colors, func)
    infusions = sorted(df["infusion_num"].unique())
    # Protocol time points are drawn equally spaced (PRE, EOI, 1H, 2H, 4H, 8H, 24H): on a linear hour
    # axis the first four crowd into the first sixth of the panel. Hover shows the real hour.
    hours = sorted(df["hours_after"].unique())
    position = {h: i for i, h in enumerate(hours)}
    fig = make_subplots(rows=1, cols=max(len(infusions), 1), shared_yaxes=True,
                        subplot_titles=[f"Infusion {int(i)}" for i in infusions], horizontal_spacing=0.04)
    for col, inf in enumerate(infusions, start=1):
        if individual is not None:
            _add_individual_lines(fig, individual[individual["infusion_num"] == inf], position, colors, col)
        for group in groups:
            part = df[(df["infusion_num"] == inf) & (df["group"] == group)].sort_values("hours_after")
            if part.empty:
                continue
            fig.add_trace(go.Scatter(
                x=part["hours_after"].map(position), y=part["mean"], name=group, legendgroup=group, showlegend=col == 1,
                mode="lines+markers", line=dict(color=colors[group]),
                error_y=dict(type="data", array=part["ci_upper"] - part["mean"],
                             arrayminus=part["mean"] - part["ci_lower"], thickness=1.2, width=3),
                customdata=part[["n", "ci_lower", "ci_upper", "hours_after"]].to_numpy(),
                hovertemplate=(f"{group}<br>%{{customdata[3]}} h: mean %{{y:.2f}} C"
                               "<br>CI %{customdata[1]:.2f} to %{customdata[2]:.2f}<br>n = %{customdata[0]}<extra></extra>"),
            ), row=1, col=col)
        fig.update_xaxes(title_text="Hours after end of infusion", row=1, col=col, **_hour_ticks(df, hours))
    for t in thresholds:
        fig.add_hline(y=t, line=dict(dash="dot", color="#888888", width=1), row="all", col="all",
                      annotation_text=f"{t:.1f} C", annotation_position="top left")
    fig.update_yaxes(title_text="Temperature (C), mean and CI", row=1, col=1)
    base_layout(fig, title=title, height=height)
    # Room for the panel titles between the legend and the plots.
    fig.update_layout(legend_y=1.08, margin_t=110 if title else 80)
    return fig


def _add_individual_lines(fig: go.Figure, readings: pd.DataFrame, position: Mapping[float, int],
                          colors: Mapping[str, str], col: int) -> None:
    # One trace per group, patients separated by gaps (None), so 70 patients do not make 70 traces.
    for group, part in readings.sort_values(["usubjid", "hours_after"]).groupby("group", sort=False):
        x: list = []
        y: list = []
        text: list = []
        for usubjid, one in part.groupby("usubjid", sort=False):
            x += [*one["hours_after"].map(position), None]
            y += [*one["value"], None]
            text += [usubjid] * len(one) + [None]
        fig.add_trace(go.Scatter(
            x=x, y=y, text=text, mode="lines", name=f"{group}: patients", legendgroup=f"{group}_patients",
            showlegend=col == 1, line=dict(color=colors[group], width=0.7), opacity=0.35,
            hovertemplate="%{text}: %{y:.1f} C<extra></extra>",
        ), row=1, col=col)


def _hour_ticks(df: pd.DataFrame, hours: list[float]) -> dict:
    # Label positions with the protocol time-point names (PRE, EOI, 1H, ...) where the data carry them.
    if "timepoint" in df.columns:
        names = df.drop_duplicates("hours_after").set_index("hours_after")["timepoint"]
        text = [str(names[h]) for h in hours]
    else:
        text = ["PRE" if h < 0 else f"{h:g} h" for h in hours]
    return dict(tickmode="array", tickvals=list(range(len(hours))), ticktext=text)


def fever_incidence_figure(
    result: FeverIncidence, colors: Mapping[str, str], *, title: str | None = None, height: int = 420,
    small_cells: bool = False,
) -> go.Figure:
    """Percentage of infusions (by infusion number) and of patients (any infusion) with fever.

    Bars per group with exact Clopper-Pearson error bars; each bar is labelled "fever / at risk".
    """
    func = "fever_incidence_figure"
    if not isinstance(result, FeverIncidence):
        raise ValueError(f"{func}: argument result must be a FeverIncidence from fever_from_counts().")
    df = result.summary.copy()
    _check_colors(_groups(df), colors, func)
    df["x"] = [f"Infusion {int(i)}" if u == "infusion" else "Any infusion (per patient)"
               for u, i in zip(df["unit"], df["infusion_num"])]
    fig = go.Figure()
    for group in _groups(df):
        part = df[df["group"] == group]
        pct, lo, hi = 100 * part["proportion"], 100 * part["ci_lower"], 100 * part["ci_upper"]
        fig.add_trace(go.Bar(
            x=part["x"], y=pct, name=group, marker_color=colors[group],
            error_y=dict(type="data", array=hi - pct, arrayminus=pct - lo),
            text=[f"{shown_count(x, small_cells)}/{shown_count(n, small_cells)}"
                  for x, n in zip(part["n_fever"], part["n_at_risk"])], textposition="outside",
            customdata=pd.concat([lo, hi], axis=1).to_numpy(),
            hovertemplate=f"{group}<br>%{{x}}: %{{y:.1f}}% (%{{text}})"
                          "<br>CI %{customdata[0]:.1f} to %{customdata[1]:.1f}%<extra></extra>",
        ))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=f"% with fever (>= {result.threshold:.1f} C)", rangemode="tozero")
    return base_layout(fig, title=title, height=height)


def ae_overview_figure(
    overview: SafetyTable, colors: Mapping[str, str], *, title: str | None = None, height: int = 420,
    small_cells: bool = False,
) -> go.Figure:
    """Horizontal bars: % of patients per AE category and group (from ``ae_overview``); ``small_cells`` (a
    blinded view): a label of 1-4 patients reads "<5" (the percentage with it too)."""
    func = "ae_overview_figure"
    if not isinstance(overview, SafetyTable) or not {"group", "label", "pct", "n_patients", "N"} <= set(overview.table.columns):
        raise ValueError(f"{func}: argument overview must be the SafetyTable returned by ae_overview().")
    df = overview.table
    _check_colors(_groups(df), colors, func)
    fig = go.Figure()
    # Reversed so the first category (any AE) is at the top of a horizontal bar chart.
    for group in reversed(_groups(df)):
        part = df[df["group"] == group].iloc[::-1]
        fig.add_trace(go.Bar(
            y=part["label"], x=part["pct"], orientation="h", name=group, marker_color=colors[group],
            text=[SUPPRESSED if small_cells and is_small(n) else f"{n} ({p:.0f}%)"
                  for n, p in zip(part["n_patients"], part["pct"])], textposition="outside",
            hovertemplate=f"{group}<br>%{{y}}: %{{text}} of %{{customdata}} patients<extra></extra>",
            customdata=part["N"],
        ))
    fig.update_layout(barmode="group", legend_traceorder="reversed")
    # Bar labels sit outside the bars: leave room past the longest one instead of clipping it.
    fig.update_traces(cliponaxis=False)
    fig.update_xaxes(title_text="% of patients", range=[0, 1.15 * max(df["pct"].max(), 1)])
    return base_layout(fig, title=title, height=height)


def volcano_figure(signals: SafetySignals, *, title: str | None = None, height: int = 560) -> go.Figure:
    """Volcano plot of the preferred terms of a two-arm comparison (``safety_signals.signals_from_counts``).

    x: risk difference, active minus reference, in percentage points; y: -log10 of the Fisher p; marker area
    grows with the events of the term (both arms); colour by system organ class, one legend entry each; terms
    flagged by the double FDR or by Benjamini-Hochberg are ringed and labelled. The hover gives the term, its
    SOC, both arms' counts, the risk difference and ratio with CIs and the adjusted p-values. Each point's
    ``customdata`` starts with [soc, term], what a selection on the page reads to list the patients.
    """
    func = "volcano_figure"
    if not isinstance(signals, SafetySignals):
        raise ValueError(f"{func}: argument signals must be the SafetySignals of signals_from_counts().")
    terms = signals.comparison[signals.comparison["level"] == "term"]
    if terms.empty:
        raise ValueError(f"{func}: argument signals has no comparison between two arms (pooled, or one arm).")
    active, reference = terms["active"].iat[0], terms["reference"].iat[0]
    events = terms["events_active"] + terms["events_reference"]
    size = 9 + 21 * np.sqrt(events / max(events.max(), 1))
    y = -np.log10(terms["p"].clip(lower=1e-300))
    fig = go.Figure()
    for i, soc in enumerate(dict.fromkeys(terms["soc"])):
        mine = terms["soc"] == soc
        part = terms[mine]
        flagged = part["flagged"] | part["flagged_bh"]
        fig.add_trace(go.Scatter(
            x=100 * part["risk_difference"], y=y[mine], mode="markers+text", name=soc,
            text=[t if f else "" for t, f in zip(part["term"], flagged)], textposition="top center",
            marker=dict(size=size[mine], color=SOC_COLORS[i % len(SOC_COLORS)], opacity=0.75,
                        line=dict(width=[2.5 if f else 0.5 for f in flagged], color="#000000")),
            customdata=np.column_stack([part["soc"], part["term"], *(part[c] for c in _VOLCANO_HOVER)]),
            hovertemplate=_volcano_hover(active, reference), meta={"role": "terms"},
        ))
    fig.add_vline(x=0, line=dict(color="#777777", width=1))
    fig.add_hline(y=-np.log10(0.05), line=dict(color="#777777", width=1, dash="dot"),
                  annotation_text="p = 0.05 (unadjusted)", annotation_position="top left")
    fig.update_xaxes(title_text=f"Risk difference, {active} minus {reference} (percentage points)", zeroline=False)
    # Room below 0 and above the highest point, so markers at p = 1 and labels at the top are not cut in half.
    top = max(float(y.max()), -np.log10(0.05))
    fig.update_yaxes(title_text="-log10 p (Fisher exact)", range=[-0.08 * top, 1.15 * top])
    base_layout(fig, title=title, height=height)
    # Many SOCs: a legend beside the plot, not above it where it would cover the title.
    fig.update_layout(clickmode="event+select", legend=dict(title_text="System organ class", orientation="v", x=1.02,
                                                             xanchor="left", y=1, yanchor="top"))
    return fig


_VOLCANO_HOVER = ("n_active", "N_active", "pct_active", "events_active", "n_reference", "N_reference",
                  "pct_reference", "events_reference", "risk_difference", "rd_lower", "rd_upper", "risk_ratio",
                  "rr_lower", "rr_upper", "p", "p_bh", "p_adj_in_soc", "soc_p_adj")


def _volcano_hover(active: str, reference: str) -> str:
    c = {name: f"customdata[{i + 2}]" for i, name in enumerate(_VOLCANO_HOVER)}
    return (
        "<b>%{customdata[1]}</b> (%{customdata[0]})<br>"
        f"{active}: %{{{c['n_active']}}}/%{{{c['N_active']}}} patients (%{{{c['pct_active']}:.1f}}%), "
        f"%{{{c['events_active']}}} events<br>"
        f"{reference}: %{{{c['n_reference']}}}/%{{{c['N_reference']}}} patients (%{{{c['pct_reference']}:.1f}}%), "
        f"%{{{c['events_reference']}}} events<br>"
        f"Risk difference %{{{c['risk_difference']}:.1%}} (%{{{c['rd_lower']}:.1%}} to %{{{c['rd_upper']}:.1%}})<br>"
        f"Risk ratio %{{{c['risk_ratio']}:.2f}} (%{{{c['rr_lower']}:.2f}} to %{{{c['rr_upper']}:.2f}})<br>"
        f"p %{{{c['p']}:.3g}}; BH %{{{c['p_bh']}:.3g}}; double FDR: SOC %{{{c['soc_p_adj']}:.3g}}, "
        f"within SOC %{{{c['p_adj_in_soc']}:.3g}}<extra></extra>"
    )
