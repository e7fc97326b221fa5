"""Idle expiry in a real browser: an unattended screen returns to the login form by itself."""

from __future__ import annotations

import pytest

from tests.browser.conftest import copy_trial, login, running_app

pytestmark = pytest.mark.browser


def test_an_unattended_screen_returns_to_the_login_form_by_itself(tmp_path, monkeypatch, trial_db, page):
    """A real server with a 6 s idle limit: log in, touch nothing, and the login form comes back. Uses the
    session's one browser (a second Playwright in the same process cannot start)."""
    monkeypatch.setenv("DASHBOARD_IDLE_MINUTES", "0.1")
    db = copy_trial(trial_db, tmp_path / "trial.duckdb")
    with running_app(tmp_path, db) as url:
        login(page, url, "investigator", "investigator-demo")
        page.get_by_role("button", name="Log out").wait_for()
        page.get_by_text("Your session expired after inactivity").wait_for(timeout=45_000)
        assert page.get_by_role("textbox", name="Username").is_visible()
        assert not page.get_by_role("button", name="Log out").is_visible()
    assert "session_expired" in (tmp_path / "audit.jsonl").read_text()
