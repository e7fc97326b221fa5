"""Static export works headless (kaleido + system Chromium) and carries the provenance footer."""

import plotly.graph_objects as go
import pytest

from dashboard.figures.export import figure_bytes, presentation_style, with_provenance

FIG = go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2], name="All patients"))
LINE = "NCT01218464 · data cut 2026-01-13 (checksum ab12cd34) · All randomised patients · BLINDED: pooled data"


def test_provenance_footer_is_added_without_touching_the_original():
    out = with_provenance(FIG, LINE)
    assert [a.text for a in out.layout.annotations] == [LINE]
    assert not FIG.layout.annotations


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("svg", b"<svg"), ("pdf", b"%PDF")])
def test_static_export_renders_each_format_with_the_footer(fmt, magic):
    data = figure_bytes(with_provenance(FIG, LINE), fmt)
    assert magic in data[:200]
    if fmt == "svg":
        assert "BLINDED: pooled data" in data.decode()


def test_png_is_print_resolution():
    import struct

    data = figure_bytes(FIG, "png", width=1000, height=500)
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (3000, 1500)


def test_presentation_style_enlarges_fonts_and_lines():
    out = presentation_style(FIG)
    assert out.layout.font.size == 20 and out.data[0].line.width == 4


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="fmt"):
        figure_bytes(FIG, "gif")
