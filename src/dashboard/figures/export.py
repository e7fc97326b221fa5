"""Figures that leave the app: a provenance footer, presentation styling, and static images (kaleido).

kaleido renders with the system Chromium; one persistent renderer is started on first use so later
exports take a fraction of a second instead of a browser start each.
"""

from __future__ import annotations

import threading
import warnings

import plotly.graph_objects as go
import plotly.io as pio

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
PRINT_SCALE = 3  # 3 x the on-screen size: about 300 dpi for a figure printed 15 cm wide
_server_lock = threading.Lock()
_server_started = False


def with_provenance(fig: go.Figure, provenance: str) -> go.Figure:
    """A copy of ``fig`` with the provenance line as a footer under the plot area."""
    out = go.Figure(fig)
    bottom = (out.layout.margin.b or 50) + 40
    out.update_layout(margin=dict(b=bottom))
    out.add_annotation(text=provenance, xref="paper", yref="paper", x=0, y=0, yshift=-bottom + 8,
                       xanchor="left", yanchor="bottom", showarrow=False, font=dict(size=10, color="#555555"))
    return out


def presentation_style(fig: go.Figure) -> go.Figure:
    """A copy with large fonts and thick lines for slides and projectors."""
    out = go.Figure(fig)
    out.update_layout(font=dict(size=20), title_font=dict(size=26), legend=dict(font=dict(size=18)))
    # Only lines that are drawn: a zero-width line is the invisible edge of a band (the KM confidence band).
    out.update_traces(selector=lambda t: t.type == "scatter" and t.line.width != 0, line=dict(width=4))
    out.update_traces(selector=dict(type="scatter"), marker=dict(size=10))
    return out


def _ensure_renderer() -> None:
    global _server_started
    with _server_lock:
        if not _server_started:
            import kaleido

            kaleido.start_sync_server(silence_warnings=True)
            _server_started = True


def figure_bytes(fig: go.Figure, fmt: str, *, width: int = 1100, height: int | None = None) -> bytes:
    """Render ``fig`` as png (print resolution), svg or pdf."""
    if fmt not in FORMATS:
        raise ValueError(f"figure_bytes: fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    _ensure_renderer()
    height = height or int(fig.layout.height or 500)
    scale = PRINT_SCALE if fmt == "png" else 1
    with warnings.catch_warnings():
        # plotly passes its default kaleido options even to a running renderer, which ignores them and warns.
        warnings.filterwarnings("ignore", message="The kopts argument is ignored", category=UserWarning)
        return pio.to_image(fig, format=fmt, width=width, height=height, scale=scale)
