"""Colours and layout shared by every figure, so an arm has the same colour everywhere.

Okabe-Ito palette (colour-blind safe). The active arm is always blue, the control arm orange, any
further imported arms take the next colours in a fixed order, and pooled results are dark grey.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dashboard.domain import POOLED_LABEL

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
