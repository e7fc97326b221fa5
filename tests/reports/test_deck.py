"""The meeting deck: opens with python-pptx, slides in meeting order, provenance on every slide, figures
rendered headless, and a blinded deck that names no arm anywhere (while the DSMB deck does, so the
check can fail). Built from the `unusual_arms_db` trial, whose arm names no slide prints by accident."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import zipfile
from datetime import datetime, timezone

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from dashboard.access.audit import AuditLog
from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.commands import deck as command
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.reports.deck import build_deck, deck_filename
from dashboard.reports.deck_slides import MONITORING_TITLE, content_slides, content_titles, deck_data
from dashboard.reports.provenance import provenance_line, with_generated
from dashboard.ui.context import PageContext
from dashboard.ui.header import provenance
from tests.cli_login import log_in
from tests.conftest import UNUSUAL_ARMS, connect_unblinded

GENERATED = datetime(2026, 2, 3, 14, 5, tzinfo=timezone.utc)
ROLES = ("investigator", "dsmb")


@pytest.fixture(scope="module")
def views(unusual_arms_db):
    con = connect_unblinded(unusual_arms_db)
    yield {role: TrialView(con, Viewer("deck", role), unusual_arms_db) for role in (*ROLES, "data_manager")}
    con.close()


def footer(view: TrialView, f: SubjectFilter = SubjectFilter()) -> str:
    return with_generated(provenance_line(view.study(), view.checksum, f, view.banner), GENERATED)


@pytest.fixture(scope="module")
def decks(views):
    """role -> (pptx bytes, the presentation); built once, the slow part of this module."""
    out = {}
    for role in ROLES:
        view = views[role]
        data = build_deck(view, SubjectFilter(), provenance_line(view.study(), view.checksum, SubjectFilter(),
                                                                 view.banner), generated=GENERATED)
        out[role] = (data, Presentation(io.BytesIO(data)))
    return out


def texts(prs) -> list[str]:
    """Every text a reader or a search can find: shapes (groups too), table cells, chart titles, picture
    alt text, speaker notes and the document properties."""
    found = []

    def walk(shapes):
        for shape in shapes:
            found.append(shape.name)
            if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
                walk(shape.shapes)
            if shape.has_text_frame:
                found.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                found.extend(cell.text for row in shape.table.rows for cell in row.cells)
            if getattr(shape, "has_chart", False) and shape.has_chart and shape.chart.has_title:
                found.append(shape.chart.chart_title.text_frame.text)
            if shape.shape_type == MSO_SHAPE_TYPE.PICTURE:
                found.append(shape._element.nvPicPr.cNvPr.get("descr", ""))

    for slide in prs.slides:
        walk(slide.shapes)
        if slide.has_notes_slide:
            found.append(slide.notes_slide.notes_text_frame.text)
    props = prs.core_properties
    found += [props.title, props.subject, props.comments, props.author, props.keywords, props.category]
    return [t for t in found if t]


def xml_parts(data: bytes) -> str:
    """All XML of the file (slides, layouts, notes, properties), as a last net under the structured walk."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels")))


def test_deck_opens_with_the_slides_in_meeting_order(decks, views):
    for role in ROLES:
        titles = [slide.shapes.title.text for slide in decks[role][1].slides]
        # The DSMB's deck ends with the monitoring slide (the fixture's cut has the shipped charter).
        assert titles == [f"{views[role].study()['study_id']} meeting deck", *content_titles(role == "dsmb")]
    assert content_titles()[1:6] == ["Overall survival", "Key labs over time: Albumin",
                                     "Key labs over time: Total bilirubin", "Key labs over time: MELD (UNOS)",
                                     "Key labs over time: Prothrombin activity"]


def test_title_slide_names_study_cut_population_blinding_time_and_version(decks, views):
    from dashboard import __version__

    text = decks["investigator"][1].slides[0].shapes[-1].text_frame.text  # the title slide's text box
    view = views["investigator"]
    for words in (view.study()["title"], f"{view.study()['data_cut_date']:%Y-%m-%d}", view.checksum[:8],
                  "All randomised patients (70 of 70 patients)", "BLINDED: pooled data",
                  "Generated 2026-02-03 14:05 UTC", f"app {__version__}"):
        assert words in text


@pytest.mark.parametrize("role", ROLES)
def test_every_slide_carries_the_provenance_footer(decks, views, role):
    expected = footer(views[role])
    for words in ("data cut", views[role].checksum[:8], "All randomised patients", views[role].banner, "app ",
                  "generated 2026-02-03 14:05 UTC"):
        assert words in expected
    for number, slide in enumerate(decks[role][1].slides, start=1):
        shown = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        assert expected in shown, f"slide {number} has no provenance footer"
        assert views[role].banner in shown, f"slide {number} has no blinding words"


def test_blinded_deck_names_no_arm_anywhere(decks, views):
    data, prs = decks["investigator"]
    everything = texts(prs) + [deck_filename(views["investigator"]), xml_parts(data)]
    leaks = [(arm, t[:120]) for t in everything for arm in UNUSUAL_ARMS if arm.lower() in t.lower()]
    assert not leaks
    assert "All patients" in "\n".join(texts(prs))  # pooled content is there, not an empty deck


def test_blinded_figures_hold_no_arm_name_in_titles_legends_or_labels(views):
    """The images are rendered from these figures: no arm in their JSON means none in their pixels."""
    for role in ("investigator", "data_manager"):
        slides = content_slides(deck_data(views[role], SubjectFilter()))
        figures = [fig.to_json() for slide in slides for fig in slide.figures]
        assert len(figures) == 7 and not [arm for fig in figures for arm in UNUSUAL_ARMS if arm in fig]


def test_dsmb_deck_shows_the_arms_so_the_blinding_check_can_fail(decks, views):
    data, prs = decks["dsmb"]
    everything = "\n".join(texts(prs))
    assert all(arm in everything for arm in UNUSUAL_ARMS)
    assert "Log-rank test" in everything and "Cox hazard ratio" in everything
    figures = [fig.to_json() for s in content_slides(deck_data(views["dsmb"], SubjectFilter())) for fig in s.figures]
    assert all(arm in fig for arm in UNUSUAL_ARMS for fig in figures)
    assert "unblinded" in deck_filename(views["dsmb"])


def test_tables_are_native_and_figures_are_print_resolution_png(decks):
    prs = decks["dsmb"][1]
    kinds = {slide.shapes.title.text: {s.shape_type for s in slide.shapes} for slide in prs.slides}
    assert MSO_SHAPE_TYPE.TABLE in kinds["Adverse events"] and MSO_SHAPE_TYPE.PICTURE not in kinds["Adverse events"]
    assert {MSO_SHAPE_TYPE.TABLE, MSO_SHAPE_TYPE.PICTURE} <= kinds["Overall survival"]
    assert {MSO_SHAPE_TYPE.TABLE, MSO_SHAPE_TYPE.PICTURE} <= kinds[MONITORING_TITLE]
    pictures = [s for slide in prs.slides for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 8
    for picture in pictures:
        assert picture.image.blob[:4] == b"\x89PNG"
        image = Image.open(io.BytesIO(picture.image.blob)).convert("L")
        # About 290 dpi at the size placed on the slide, and not blank (kaleido drew the figure).
        assert image.width / picture.width.inches > 250
        assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20


def test_survival_table_holds_the_numbers_for_dsmb_and_only_pooled_numbers_when_blinded(decks):
    def tables(prs):
        slide = next(s for s in prs.slides if s.shapes.title.text == "Overall survival")
        return [[[c.text for c in row.cells] for row in s.table.rows] for s in slide.shapes if s.has_table]

    blinded, unblinded = tables(decks["investigator"][1]), tables(decks["dsmb"][1])
    assert blinded[0][0] == ["Group", "N", "Deaths", "Median, days (95% CI)"] and len(blinded) == 1
    assert [row[0] for row in blinded[0][1:]] == ["All patients"]
    assert [row[0] for row in unblinded[0][1:]] == list(UNUSUAL_ARMS)
    assert unblinded[1][1][0] == "Log-rank test" and unblinded[1][2][0] == "Cox hazard ratio, Zorblax-7Q vs Quuxomab-Ctl"


def test_the_app_and_the_command_line_write_the_same_provenance(views, tmp_path):
    f = SubjectFilter(sex=("F",))
    for role in ROLES:
        view = views[role]
        ctx = PageContext(view, f, AuditLog(tmp_path / "audit.jsonl"))
        line = provenance(ctx)
        assert line.startswith(provenance_line(view.study(), view.checksum, f, view.banner) + " · generated ")
        assert line.endswith(" UTC")


def run_command(argv: list[str], role: str, monkeypatch, tmp_path) -> int:
    """The deck command as a logged-in user of ``role`` (commands that read trial data log in)."""
    log_in(monkeypatch, tmp_path, role)
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return command.run(parser.parse_args(argv))


def test_command_writes_a_filtered_blinded_deck(unusual_arms_db, tmp_path, capsys, monkeypatch):
    out = tmp_path / "deck.pptx"
    assert run_command(["--db", str(unusual_arms_db), "--out", str(out),
                        "--site", "S01", "--age-min", "30"], "investigator", monkeypatch, tmp_path) == 0
    assert "BLINDED: pooled data" in capsys.readouterr().out
    prs = Presentation(str(out))
    title_text = prs.slides[0].shapes[-1].text_frame.text
    assert "Patients with site = S01; age 30-" in title_text
    assert not [arm for t in texts(prs) for arm in UNUSUAL_ARMS if arm in t]


def test_command_refuses_unknown_filter_values_and_a_missing_database(unusual_arms_db, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="--site S99: not in this trial; known values: S01, S02, S03"):
        run_command(["--db", str(unusual_arms_db), "--site", "S99", "--out", str(tmp_path / "x")], "dsmb", monkeypatch,
                    tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_command(["--db", str(tmp_path / "none.duckdb")], "dsmb", monkeypatch, tmp_path)


def test_command_says_when_no_patient_matches(unusual_arms_db, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="No patients match"):
        run_command(["--db", str(unusual_arms_db), "--id-contains", "nobody", "--out", str(tmp_path / "x")], "dsmb",
                    monkeypatch, tmp_path)


def test_command_refuses_a_bound_the_app_would_drop_from_a_link(unusual_arms_db, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="age_min='200': outside 18-80"):
        run_command(["--db", str(unusual_arms_db), "--age-min", "200", "--out", str(tmp_path / "x")], "dsmb",
                    monkeypatch, tmp_path)


def test_reports_layer_does_not_import_streamlit():
    code = "import sys, dashboard.reports.deck, dashboard.commands.deck; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_arm_filtered_dsmb_deck_shows_that_arms_survival(views):
    """The sidebar's deck with Arm = the active arm: the survival slide draws that arm's curve (it said
    "No patients in group(s) [control]" when the deck built its own survival analysis)."""
    active = UNUSUAL_ARMS[0]
    slides = {s.title: s for s in content_slides(deck_data(views["dsmb"], SubjectFilter(arm=(active,))))}
    survival = slides["Overall survival"]
    assert not [line for line in survival.lines if "Not available" in line]
    assert survival.tables[0]["Group"].tolist() == [active] and len(survival.figures) == 1
    assert not [s.title for s in slides.values() if any("Not available" in line for line in s.lines)]


def test_command_filters_by_arm_for_the_dsmb_and_refuses_it_for_blinded_roles(unusual_arms_db, tmp_path,
                                                                               monkeypatch):
    out = tmp_path / "deck.pptx"
    assert run_command(["--db", str(unusual_arms_db), "--arm", UNUSUAL_ARMS[1], "--id-contains", "0",
                        "--out", str(out)], "dsmb", monkeypatch, tmp_path) == 0
    title_text = Presentation(str(out)).slides[0].shapes[-1].text_frame.text
    assert f"arm = {UNUSUAL_ARMS[1]}" in title_text and "id contains '0'" in title_text
    for role in ("investigator", "data_manager"):
        with pytest.raises(ValueError, match="--arm: the .* role's deck is blinded"):
            run_command(["--db", str(unusual_arms_db), "--arm", UNUSUAL_ARMS[0], "--out", str(out)], role, monkeypatch,
                        tmp_path)
