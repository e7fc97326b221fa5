"""Reports layer: the meeting deck as a PPTX file (python-pptx), for the command line and the app's button.

One call, :func:`build_deck`, turns a viewer-bound TrialView and a SubjectFilter into the file's bytes:
a title slide, then the slides of :mod:`dashboard.reports.deck_slides`. Tables are native PPTX tables
(editable, searchable); figures are PNG images rendered once by kaleido in presentation style, each with
the provenance footer inside the image, so a figure copied out of the deck still says what it shows.
Every slide carries the same footer text and the blinding words; speaker notes hold the methods.
"""

from __future__ import annotations

import io
import struct
from datetime import datetime, timezone

import pandas as pd
import plotly.graph_objects as go
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from dashboard import __version__
from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import BLINDED_BANNER
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.figures.export import figure_bytes, presentation_style, with_provenance
from dashboard.reports.deck_slides import Slide, content_slides, deck_data
from dashboard.reports.provenance import with_generated

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)  # 16:9
MARGIN = Inches(0.5)
CONTENT_TOP, CONTENT_BOTTOM = Inches(1.4), Inches(6.9)
IMAGE_DPI = 96  # figures are laid out at screen size for their box, then rendered at 3x (figure_bytes)
GREY, DARK = RGBColor(0x55, 0x55, 0x55), RGBColor(0x22, 0x22, 0x22)
BANNER_COLORS = {True: RGBColor(0x1F, 0x4E, 0x9E), False: RGBColor(0xB0, 0x1E, 0x1E)}  # blinded blue, else red
TITLE_ONLY_LAYOUT = 5


def deck_filename(view: TrialView) -> str:
    """Study, data cut and blinding state; never an arm name."""
    study = view.study()
    state = "blinded" if view.banner == BLINDED_BANNER else "unblinded"
    return f"{study['study_id']}_meeting_deck_cut{study['data_cut_date']:%Y%m%d}_{state}.pptx"


def build_deck(view: TrialView, subject_filter: SubjectFilter, provenance: str, *,
               generated: datetime | None = None) -> bytes:
    """The meeting deck for ``view``'s viewer and ``subject_filter`` as PPTX bytes.

    ``provenance`` is the line of :func:`dashboard.reports.provenance.provenance_line`; the time
    generated (default now, UTC) is appended to it for the footer of every slide.
    """
    generated = generated or datetime.now(timezone.utc)
    footer = with_generated(provenance, generated)
    data = deck_data(view, subject_filter)
    slides = [_title_slide(view, subject_filter, generated), *content_slides(data)]
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    blinded = view.banner == BLINDED_BANNER
    for spec in slides:
        _add_slide(prs, spec, footer, view.banner, blinded)
    study = view.study()
    props = prs.core_properties
    props.title = f"{study['study_id']} meeting deck, data cut {study['data_cut_date']:%Y-%m-%d}"
    props.subject, props.comments = view.banner, footer
    props.author = props.last_modified_by = f"dashboard {__version__}"
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()


def _title_slide(view: TrialView, subject_filter: SubjectFilter, generated: datetime) -> Slide:
    study = view.study()
    selected, total = view.count_subjects(subject_filter)
    return Slide(f"{study['study_id']} meeting deck", lines=(
        study["title"],
        f"Data cut {study['data_cut_date']:%Y-%m-%d} (checksum {view.checksum[:8]})",
        f"Population: {subject_filter.describe()} ({selected} of {total} patients)",
        view.banner,
        f"Generated {generated:%Y-%m-%d %H:%M} UTC · app {__version__}",
    ), notes="Title slide.")


# --- layout -----------------------------------------------------------------------------------

def _add_slide(prs, spec: Slide, footer: str, banner: str, blinded: bool) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = MARGIN, Inches(0.25), Inches(9.2), Inches(0.62)
    _write(title.text_frame, [spec.title], size=28, bold=True)
    _text(slide, Inches(9.9), Inches(0.3), Inches(2.93), Inches(0.55), [banner], size=12, bold=True,
          color=BANNER_COLORS[blinded], align=PP_ALIGN.RIGHT, name="Blinding")
    if spec.subtitle:
        _text(slide, MARGIN, Inches(0.9), WIDTH - 2 * MARGIN, Inches(0.4), [spec.subtitle], size=14, color=GREY,
              name="Subtitle")
    _text(slide, MARGIN, Inches(6.98), WIDTH - 2 * MARGIN, Inches(0.42), [footer], size=9, color=GREY,
          name="Provenance footer")
    _content(slide, spec, footer)
    slide.notes_slide.notes_text_frame.text = f"{spec.notes}\n\n{footer}".strip()


def _content(slide, spec: Slide, footer: str) -> None:
    left, top, width, height = MARGIN, CONTENT_TOP, WIDTH - 2 * MARGIN, CONTENT_BOTTOM - CONTENT_TOP
    if not spec.figures and not spec.tables:  # the title slide and "not available" slides
        _text(slide, left, top, width, height, list(spec.lines), size=20, name="Text")
        return
    side = spec.tables or spec.lines
    figure_width = (int(width * 0.6) if side else width) if spec.figures else 0
    for k, fig in enumerate(spec.figures):
        box = figure_width // len(spec.figures)
        _picture(slide, fig, spec.title, left + k * box, top, box, height, footer)
    if side:
        gap = Inches(0.25) if spec.figures else 0
        _side(slide, spec, left + figure_width + gap, top, width - figure_width - gap)


def _side(slide, spec: Slide, left: int, top: int, width: int) -> None:
    """Tables stacked from the top, then any text lines, in the column beside the figure (or full width)."""
    for table in spec.tables:
        top += _table(slide, table, left, top, width) + Inches(0.2)
    if spec.lines:
        _text(slide, left, top, width, Inches(1), list(spec.lines), size=12, name="Text")


def _picture(slide, fig: go.Figure, title: str, left: int, top: int, width: int, height: int, footer: str) -> None:
    px_w, px_h = int(Emu(width).inches * IMAGE_DPI), int(Emu(height).inches * IMAGE_DPI)
    # About 6 px per character of the footer's 10 px font: wrap so the whole line stays inside the image.
    styled = with_provenance(presentation_style(fig), _wrapped(footer, px_w // 6))
    png = figure_bytes(styled, "png", width=px_w, height=px_h)
    picture = slide.shapes.add_picture(io.BytesIO(png), left, top, width=width, height=_png_height(png, width))
    # Alt text: what a screen reader (and a search through the file) finds for the image.
    picture._element.nvPicPr.cNvPr.set("descr", f"{title}. {footer}")


def _wrapped(text: str, max_chars: int) -> str:
    """``text`` broken into lines (plotly <br>) at its " · " separators, each at most ``max_chars`` long
    where a part allows."""
    lines: list[str] = []
    current = ""
    for part in text.split(" · "):
        candidate = f"{current} · {part}" if current else part
        if current and len(candidate) > max_chars:
            lines.append(current)
            current = part
        else:
            current = candidate
    return "<br>".join([*lines, current])


def _png_height(png: bytes, width: int) -> int:
    w, h = struct.unpack(">II", png[16:24])
    return int(width * h / w)


def _table(slide, df: pd.DataFrame, left: int, top: int, width: int) -> int:
    """A native table of ``df``'s text (header row = column names); returns its height."""
    size = 12 if len(df.columns) > 3 or len(df) > 8 else 14
    row_height = Inches(0.3 + 0.017 * size)
    shape = slide.shapes.add_table(len(df) + 1, len(df.columns), left, top, width, row_height * (len(df) + 1))
    shape.name = "Table"
    table = shape.table
    for j, (col, weight) in enumerate(zip(df.columns, _column_weights(df))):
        table.columns[j].width = int(width * weight)
        _write(table.cell(0, j).text_frame, [str(col)], size=size, bold=True)
        for i, value in enumerate(df[col], start=1):
            _write(table.cell(i, j).text_frame, [str(value)], size=size)
    return row_height * (len(df) + 1)


def _column_weights(df: pd.DataFrame) -> list[float]:
    """Column widths in proportion to their longest text (header words wrap, so count the longest word)."""
    lengths = [max([max(map(len, str(c).split() or [""])), *df[c].astype(str).map(len)]) + 2 for c in df.columns]
    return [n / sum(lengths) for n in lengths]


def _text(slide, left, top, width, height, lines: list[str], *, name: str, **style) -> None:
    box = slide.shapes.add_textbox(left, top, width, height)
    box.name = name
    box.text_frame.word_wrap = True
    _write(box.text_frame, lines, **style)


def _write(frame, lines: list[str], *, size: int, bold: bool = False, color: RGBColor = DARK,
           align: PP_ALIGN = PP_ALIGN.LEFT) -> None:
    frame.clear()
    for k, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        paragraph.alignment = align
        run = paragraph.add_run()
        run.text = line
        run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, color
