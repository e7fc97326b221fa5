"""/meetings in Chromium, the issue's "done when": a DSMB member opens /meetings, creates the meeting for the
current cut, downloads both PDFs (each a numbered copy for them), records a recommendation; two members (dsmb
and dsmb2, each in their own browser context with their own login) confirm it, and it shows locked, with its
record downloadable as PDF naming both and their confirmation times. An investigator has no /meetings."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from dashboard.domain.meetings import utc_label
from dashboard.state import StateStore
from tests.browser.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.browser
REPORT_TIMEOUT_MS = 240_000  # a report renders its figures and tables: tens of seconds on a busy 2-core machine
RATIONALE = "No safety signal; add a temperature check 24 h after each infusion."


@pytest.fixture(scope="module")
def meetings_server(tmp_path_factory, trial_db):
    """The app on a copy of the demo trial (with its randomisation file) and its own state store."""
    home = tmp_path_factory.mktemp("meetings_server")
    for src in (trial_db, trial_db.with_name("trial.randomization.duckdb")):
        if src.exists():
            shutil.copy(src, home / src.name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_STATE", str(home / "state.sqlite"))
        with running_app(home, home / "trial.duckdb") as url:
            yield url, home


def _open_meetings(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(base + "/meetings")  # the deep link is opened after the login
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(f"{username}-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="DSMB meetings").wait_for()
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:1000]
    return context, page


def _text(page) -> str:
    return " ".join(page.inner_text("body").split())


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_meeting_reports_recommendation_and_two_confirmations(meetings_server, browser, tmp_path):
    base, home = meetings_server
    first, page = _open_meetings(browser, base, "dsmb")
    try:
        assert page.get_by_label("Title").input_value().startswith("DSMB meeting, data cut ")
        # Attendees: the logged-in member is preselected; add the second member.
        page.locator('[data-testid="stMultiSelect"]').filter(has_text="Attending DSMB members").locator("input").click()
        page.get_by_role("option", name="DSMB member 2 (demo) (dsmb2)").click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Create meeting").click()
        page.get_by_text("Meeting #1 created").wait_for()
        wait_idle(page)
        screenshot(page, "meetings_created")

        files = {}
        for kind in ("open", "closed"):
            with page.expect_download(timeout=REPORT_TIMEOUT_MS) as download:
                page.get_by_role("button", name=f"Download {kind} report (PDF)").click()
            files[kind] = tmp_path / f"{kind}.pdf"
            download.value.save_as(files[kind])
            wait_idle(page)
        closed_text, open_text = _pdf_text(files["closed"]), _pdf_text(files["open"])
        assert "CONFIDENTIAL — DSMB CLOSED SESSION" in closed_text and "Copy 1 — dsmb" in closed_text
        assert "CONFIDENTIAL — DSMB CLOSED SESSION" not in open_text
        assert all(arm in closed_text for arm in ("UC-MSC", "Placebo"))

        page.get_by_text("Continue with modification").click()
        page.get_by_label("Rationale").fill(RATIONALE)
        page.get_by_role("button", name="Record recommendation").click()
        page.get_by_text("awaiting dsmb, dsmb2").wait_for()
        wait_idle(page)
        page.get_by_role("button", name="Confirm as DSMB member (demo) (DSMB)").click()
        page.get_by_text("awaiting dsmb2").wait_for()
        wait_idle(page)
        assert page.get_by_role("button", name="Confirm as").count() == 0
        screenshot(page, "meetings_recorded_confirmed_once")
    finally:
        first.close()

    second, page2 = _open_meetings(browser, base, "dsmb2")
    try:
        assert "Continue with modification" in _text(page2) and RATIONALE in _text(page2)
        page2.get_by_role("button", name="Confirm as DSMB member 2 (demo) (DSMB)").click()
        page2.get_by_text("confirmed by all 2 attendees").wait_for()
        wait_idle(page2)
        text = _text(page2)
        assert "Locked" in text and page2.get_by_role("button", name="Confirm as").count() == 0
        assert page2.get_by_text("Record a correction").count() == 1
        with page2.expect_download(timeout=REPORT_TIMEOUT_MS) as download:
            page2.get_by_role("button", name="Download the record (PDF)").click()
        record = tmp_path / "record.pdf"
        download.value.save_as(record)
        wait_idle(page2)
        screenshot(page2, "meetings_locked")
    finally:
        second.close()

    store = StateStore(home / "state.sqlite")
    (meeting,) = store.meetings()
    (rec,) = store.recommendations(meeting.meeting_id)
    assert rec.locked and rec.confirmed_by == ("dsmb", "dsmb2") and rec.rationale == RATIONALE
    record_text = " ".join(_pdf_text(record).split())
    for expected in ("Continue with modification", "DSMB member (demo) (dsmb)", "DSMB member 2 (demo) (dsmb2)",
                     *(utc_label(c.confirmed_at) for c in rec.confirmations)):
        assert expected in record_text, expected
    assert [(c.kind, c.number, c.recipient) for c in store.copies(meeting.meeting_id)] == [
        ("closed", 1, "dsmb"), ("open", 1, "dsmb")]
    assert all(c.sha256 for c in store.copies(meeting.meeting_id))
    events = [json.loads(line) for line in (home / "audit.jsonl").read_text().splitlines()]
    exports = [(e["actor"], e["properties"].get("kind"), e["properties"].get("copy")) for e in events
               if e["name"] == "export" and e["page"] == "meetings"]
    assert exports[:2] == [("dsmb", "open", 1), ("dsmb", "closed", 1)] and exports[2][0] == "dsmb2"


def test_an_investigator_has_no_meetings_page(meetings_server, browser):
    base, _ = meetings_server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(base + "/meetings")
        page.get_by_role("textbox", name="Username").fill("investigator")
        page.get_by_role("textbox", name="Password").fill("investigator-demo")
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("BLINDED: pooled data").first.wait_for()
        wait_idle(page)
        assert page.get_by_role("heading", name="DSMB meetings").count() == 0
        assert page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="DSMB meetings").count() == 0
    finally:
        context.close()
