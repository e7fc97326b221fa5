"""/data in a real browser: the data manager uploads a broken delivery and reads the validation report
(the database untouched), then publishes a good one and the dashboard moves to cut 2 by itself."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.browser.conftest import copy_trial, login, running_app, screenshot, wait_idle
from tests.pages.test_data_page import BAD, GOOD, zipped

pytestmark = pytest.mark.browser


def _upload(page, name: str, content: bytes, button: str) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        files=[{"name": name, "mimeType": "application/zip", "buffer": content}])
    page.get_by_text(name, exact=True).first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name=button).click()


def test_data_manager_sees_the_report_of_a_bad_delivery_then_publishes_a_good_one(tmp_path, page, trial_db):
    db = copy_trial(trial_db, tmp_path / "trial.duckdb")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with running_app(tmp_path, db) as url:
        login(page, url, "datamanager", "datamanager-demo")
        page.get_by_text("BLINDED: pooled data").first.wait_for()
        page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Data cuts").first.click()
        page.wait_for_url(re.compile(r"/data"))
        page.get_by_text("Every cut of this database").wait_for()
        page.get_by_text("CSV", exact=True).click()
        wait_idle(page)

        _upload(page, "bad.zip", zipped(BAD), "Publish as new cut")
        page.get_by_text(re.compile(r"bad\.zip was rejected: 2 problem")).wait_for()
        page.set_viewport_size({"width": 1440, "height": 1700})  # Streamlit scrolls inside its main container
        wait_idle(page)
        screenshot(page, "datamanager_data_rejected")
        assert hashlib.sha256(db.read_bytes()).hexdigest() == before

        _upload(page, "good.zip", zipped(GOOD), "Publish as new cut")
        page.get_by_text(re.compile(r"good\.zip was published as cut 2")).wait_for()
        page.get_by_text(re.compile("New data cut loaded: cut 2")).wait_for(timeout=10_000)
        page.get_by_text(re.compile(r"cut 2 is shown now")).wait_for()
        wait_idle(page)
        screenshot(page, "datamanager_data_published")

        page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Overview").first.click()
        page.get_by_text(re.compile(r"New since cut 1")).wait_for()
        wait_idle(page)
        screenshot(page, "datamanager_overview_new_since_cut_1")
