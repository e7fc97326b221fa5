"""The open and closed DSMB reports (issue 16, item 2) as a reader of the PDF finds them.

Both reports are built once, from the DSMB's view of the `unusual_arms_db` trial (arm names no text prints
by accident), and read back with poppler's pdftotext page by page: the open report names no arm (built from
the DSMB's own view, so its pooling is the report's doing, not the caller's) and the closed one names both;
the closed report's running header and copy line, and "Page N of M", are on every page; the table of
contents lists every section with the page it starts on; no page is empty. A blinded viewer cannot build
the closed report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from dashboard.access.opening import open_trial_view
from dashboard.access.viewer import Viewer
from dashboard.domain import POOLED_LABEL
from dashboard.domain.report_format import fmt_count, fmt_n_pct
from dashboard.errors import AccessDenied
from dashboard.reports import dsmb_report
from dashboard.reports.dsmb_report import (
    CLOSED_HEADER,
    ReportContext,
    ReportCopy,
    ReportMeeting,
    build_report,
    section_titles,
    table_html,
)
from tests.conftest import UNUSUAL_ARMS

GENERATED = datetime(2026, 2, 3, 14, 5, tzinfo=timezone.utc)
# Quotes, a backslash and non-ASCII letters: the copy line goes into the page header through CSS.
RECIPIENT = 'Prof. Zoë O\'Brien "chair" \\ DSMB'
COPY = ReportCopy(7, RECIPIENT)
ATTENDEES = ("Dr A. Chen (chair)", "Prof. Zoë O'Brien", "Dr C. Wang (independent statistician)")


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: install Debian's poppler-utils (apt-get install poppler-utils)")
    return path


def page_count(pdf: Path) -> int:
    info = subprocess.run([_need("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run([_need("pdftotext"), "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def views(unusual_arms_db):
    """Each role's view as a session opens it (the randomisation attached for the DSMB only)."""
    opened = {role: open_trial_view(Viewer(f"report-{role}", role), unusual_arms_db)
              for role in ("dsmb", "investigator", "data_manager")}
    yield opened
    for view in opened.values():
        view._con.close()


@pytest.fixture(scope="module")
def meeting(views):
    view = views["dsmb"]
    return ReportMeeting(4, "Second interim DSMB meeting", date(2026, 2, 10), view.cut_id,
                         view.cut()["cut_date"].date(), ATTENDEES)


@pytest.fixture(scope="module")
def reports(views, meeting, tmp_path_factory):
    """kind -> (pdf path, [text of page 1, page 2, ...]); both built from the DSMB's view."""
    folder = tmp_path_factory.mktemp("dsmb_reports")
    out = {}
    for kind in ("open", "closed"):
        pdf = folder / f"{kind}.pdf"
        pdf.write_bytes(build_report(views["dsmb"], kind, meeting=meeting, copy=COPY if kind == "closed" else None,
                                     generated=GENERATED))
        out[kind] = (pdf, [page_text(pdf, n) for n in range(1, page_count(pdf) + 1)])
    return out


def words(text: str) -> str:
    """pdftotext's text with every run of white space as one space (table cells and wrapped lines)."""
    return re.sub(r"\s+", " ", text)


# --- blinding ---------------------------------------------------------------------------------------

def test_the_open_report_names_no_arm(reports):
    pdf, pages = reports["open"]
    text = "\n".join(pages)
    assert pdf.read_bytes().startswith(b"%PDF-")
    for arm in UNUSUAL_ARMS:
        assert arm.lower() not in text.lower()
        assert arm.lower() not in words(text).replace(" ", "").lower()
    assert POOLED_LABEL in text


def test_the_closed_report_names_both_arms(reports):
    text = words("\n".join(reports["closed"][1]))
    for arm in UNUSUAL_ARMS:
        assert arm in text


def test_a_blinded_viewer_cannot_build_the_closed_report(views, meeting):
    for role in ("investigator", "data_manager"):
        with pytest.raises(AccessDenied):
            build_report(views[role], "closed", meeting=meeting, copy=COPY, generated=GENERATED)


def test_the_open_report_suppresses_small_cells_and_the_closed_one_does_not(reports):
    open_text, closed_text = (words("\n".join(reports[k][1])) for k in ("open", "closed"))
    assert "<5" in open_text and "Counts of 1 to 4 are shown as <5." in open_text
    assert "<5" not in closed_text


def test_table_html_suppresses_every_count_of_1_to_4_in_the_open_report_only(views):
    table = pd.DataFrame({"Row": ["a", "b", "c"], "n": [fmt_count(3), fmt_count(0), fmt_count(12)],
                          "n (%)": [fmt_n_pct(4, 70), fmt_n_pct(5, 70), fmt_n_pct(1, 70)]})
    pooled = table_html(ReportContext(views["investigator"], "open", (POOLED_LABEL,)), table)
    cells = re.findall(r"<td [^>]*class=\"gt_row[^>]*>(.*?)</td>", pooled)
    assert cells == ["a", "&lt;5", "&lt;5", "b", "0", "5 (7.1%)", "c", "12", "&lt;5"]
    by_arm = table_html(ReportContext(views["dsmb"], "closed", tuple(UNUSUAL_ARMS)), table)
    assert "&lt;5" not in by_arm and "4 (5.7%)" in by_arm and ">3<" in by_arm


# --- the document -----------------------------------------------------------------------------------

def test_every_page_of_the_closed_report_has_the_running_header_and_the_copy_line(reports):
    pages = reports["closed"][1]
    for number, text in enumerate(pages, start=1):
        assert CLOSED_HEADER in text, f"page {number}"
        assert f"Copy 7 — {RECIPIENT}" in text, f"page {number}"


def test_the_open_report_has_no_closed_session_header(reports):
    text = "\n".join(reports["open"][1])
    assert CLOSED_HEADER not in text and "CONFIDENTIAL" not in text
    assert "DSMB OPEN SESSION" in reports["open"][1][0]


@pytest.mark.parametrize("kind", ["open", "closed"])
def test_every_page_is_numbered_page_n_of_m_and_none_is_empty(reports, kind):
    pages = reports[kind][1]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        body = [line for line in text.splitlines() if line.strip()][1:-1]  # without the header and footer lines
        assert len(body) >= 2, f"{kind} page {number} is empty: {text!r}"


@pytest.mark.parametrize("kind", ["open", "closed"])
def test_the_contents_list_every_section_with_the_page_it_starts_on(reports, kind):
    pages = reports[kind][1]
    contents = pages[1]
    assert "Contents" in contents
    entries = re.findall(r"^\s*(\d+)\. (.+?)\s*\.{2,}\s*(\d+)\s*$", contents, flags=re.M)
    assert [title for _, title, _ in entries] == section_titles(kind)
    for number, title, page in entries:
        heading = f"{number}. {title}"
        text = pages[int(page) - 1]
        assert heading in text, f"{heading!r} is not on page {page}"
        assert all(heading not in other for other in pages[2:int(page) - 1]), f"{heading!r} before page {page}"


def test_the_closed_report_has_the_monitoring_section_and_the_open_report_does_not(reports):
    assert "Interim monitoring boundaries" in section_titles("closed")
    assert "Interim monitoring boundaries" not in section_titles("open")
    closed = words("\n".join(reports["closed"][1]))
    assert "Analyses at the observed information and planned looks" in closed
    assert "Cox hazard ratio" in closed and "Log-rank test" in closed
    open_text = words("\n".join(reports["open"][1]))
    assert "Cox hazard ratio" not in open_text and "Log-rank" not in open_text


@pytest.mark.parametrize("kind", ["open", "closed"])
def test_the_cover_page_says_what_the_report_is(reports, views, meeting, kind):
    cover = words(reports[kind][1][0])
    view = views["dsmb"]
    assert view.study()["study_id"] in cover
    assert f"{meeting.title} (meeting 4)" in cover
    assert "Meeting date 2026-02-10" in cover
    assert f"cut {meeting.cut_id} of {meeting.cut_date:%Y-%m-%d}" in cover
    assert view.checksum in cover.replace(" ", "")
    assert all(words(a) in cover for a in ATTENDEES)
    assert "Generated 2026-02-03 14:05 UTC" in cover
    assert ("Closed session report" if kind == "closed" else "Open session report") in cover
    assert (f"Copy 7 — {RECIPIENT}" in cover) == (kind == "closed")


@pytest.mark.parametrize("kind", ["open", "closed"])
def test_every_section_is_there_with_its_tables(reports, kind):
    text = words("\n".join(reports[kind][1]))
    for title in ("Patient flow (CONSORT)", "Infusions due, received, delayed and missed", "Protocol deviations by site",
                  "Baseline characteristics", "Number at risk", "Survival at milestones",
                  "Fever from the end of infusion to 24 h", "Overview of adverse events",
                  "by system organ class and preferred term", "by worst CTCAE grade", "Listing of serious adverse events",
                  "Listing of deaths", "baseline vs worst value after baseline", "multiples of baseline (mDISH)",
                  "Scheduled visits due and attended", "Enrolment by site and month"):
        assert title in text, title
    assert "Section not available" not in text
    assert "days after the last infusion" in text


# --- refusals and missing parts ---------------------------------------------------------------------

def test_the_report_refuses_a_view_of_another_cut_a_closed_report_without_a_copy_and_an_unknown_kind(views, meeting):
    view = views["dsmb"]
    other = ReportMeeting(5, "Other", date(2026, 3, 1), view.cut_id + 1, meeting.cut_date, ())
    with pytest.raises(ValueError, match="reviews data cut"):
        build_report(view, "open", meeting=other, copy=None)
    with pytest.raises(ValueError, match="numbered"):
        build_report(view, "closed", meeting=meeting, copy=None)
    with pytest.raises(ValueError, match="kind"):
        build_report(view, "pooled", meeting=meeting, copy=None)


def test_a_section_whose_analysis_is_missing_says_section_not_available(views, monkeypatch):
    monkeypatch.setitem(sys.modules, "dashboard.analyses.report", None)  # as if not installed
    ctx = ReportContext(views["investigator"], "open", (POOLED_LABEL,))
    section = dsmb_report.build_section(ctx, "consort", "CONSORT flow", dsmb_report.consort_section)
    assert "Section not available" in section.body and "dashboard.analyses.report" in section.body


def test_the_open_report_reads_a_blinded_view_of_the_same_cut_without_the_randomisation(views):
    blinded, close = dsmb_report.blinded_view(views["dsmb"])
    try:
        assert not blinded.sees_arms and blinded.arms() == []
        assert (blinded.cut_id, blinded.checksum) == (views["dsmb"].cut_id, views["dsmb"].checksum)
        assert blinded.viewer.username == views["dsmb"].viewer.username
        assert blinded._con is not views["dsmb"]._con
        columns = blinded._con.execute("SELECT DISTINCT column_name FROM duckdb_columns()").df()["column_name"]
        assert "arm" not in set(columns)
    finally:
        close()
