"""Figures layer: a lab's state at each visit with the dead kept (:mod:`dashboard.domain.death_aware`), as
100% stacked bars, one panel per group. Bands run light to dark as the value worsens; Died is black and
Transplanted purple so the absorbing states read apart from any band; colour never encodes the arm.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.domain.death_aware import DIED, LEFT, NO_VALUE, TRANSPLANTED, StateDistribution
from dashboard.figures.style import stacked_percent_figure

# ColorBrewer YlOrRd (sequential, colour-blind safe) for the bands, best first.
BAND_COLORS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c", "#800026")
EXIT_COLORS = {DIED: "#000000", TRANSPLANTED: "#6a3d9a", LEFT: "#bdbdbd", NO_VALUE: "#f0f0f0"}


def state_bars_figure(result: StateDistribution, *, title: str | None = None, small_cells: bool = False) -> go.Figure:
    """Patients (%) per state at each visit; each tick reads "W4<br>n=18" (patients due). ``small_cells`` (a
    blinded view): counts of 1-4 in ticks and hovers read "<5"."""
    scale = result.scale
    colors = {**dict(zip(scale.labels, BAND_COLORS[:len(scale.labels)])), **EXIT_COLORS}
    return stacked_percent_figure(result.table[result.table["due"] > 0], category_col="state", categories=scale.states,
                                  labels={s: s for s in scale.states}, colors=colors, count_col="n", total_col="due",
                                  y_title="Patients due at the visit (%)", title=title, small_cells=small_cells)
