"""Idle expiry clears the screen by itself: a timer fragment reruns the app once the idle deadline passes,
and its own runs do not count as activity."""

from __future__ import annotations

import time

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
