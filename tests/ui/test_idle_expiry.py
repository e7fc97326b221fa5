"""Idle expiry clears the screen by itself: a timer fragment reruns the app once the idle deadline passes,
and its own runs do not count as activity."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.ui import login
from tests.pages.apptest_helpers import APP, ROLE_VIEWERS


def test_the_deadline_passes_only_after_the_idle_limit():
    assert not login.idle_deadline_passed(1000.0, 1000.0 + 60, 60)
    assert login.idle_deadline_passed(1000.0, 1000.0 + 60.5, 60)
    assert not login.idle_deadline_passed(None, 1e12, 60)


def test_the_timer_runs_while_logged_in_and_not_on_the_login_form(app_env, monkeypatch):
    checks = []
    monkeypatch.setattr(login, "check_idle_deadline", lambda: checks.append(time.time()))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert checks == []
    at.session_state["viewer"] = ROLE_VIEWERS["investigator"]
    at.run()
    assert len(checks) == 1 and not at.exception


@pytest.mark.browser
def test_an_unattended_screen_returns_to_the_login_form_by_itself(tmp_path, monkeypatch, trial_db):
    """A real server with a 6 s idle limit: log in, touch nothing, and the login form comes back."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, running_app
    from tests.browser.conftest import login as browser_login

    monkeypatch.setenv("DASHBOARD_IDLE_MINUTES", "0.1")
    db = tmp_path / "trial.duckdb"
    db.write_bytes(trial_db.read_bytes())
    with running_app(tmp_path, db) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        browser_login(page, url, "investigator", "investigator-demo")
        page.get_by_role("button", name="Log out").wait_for()
        page.get_by_text("Your session expired after inactivity").wait_for(timeout=45_000)
        assert page.get_by_role("textbox", name="Username").is_visible()
        assert not page.get_by_role("button", name="Log out").is_visible()
        browser.close()
    assert "session_expired" in (tmp_path / "audit.jsonl").read_text()
