"""Login flow through the app (AppTest): refusal, throttling, idle expiry, logout; OIDC role mapping; users CLI."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access.audit import AuditLog
from dashboard.access.oidc import load_role_map, viewer_for_identity
from dashboard.access.users import UserStore
from dashboard.cli import main
from tests.pages.apptest_helpers import APP, ROLE_VIEWERS


def _login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").set_value(username)
    at.text_input(key="login_password").set_value(password)
    return at.button[0].click().run()


def test_nothing_but_the_login_form_before_login(app_env):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert [t.value for t in at.title] == ["UC-MSC liver-failure trial dashboard"]
    assert not at.dataframe and "patients selected" not in " ".join(c.value for c in at.caption)


def test_login_refuses_wrong_password_then_accepts_and_audits(app_env):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    _login(at, "dsmb", "wrong-password")
    assert at.error[0].value == "Wrong username or password."
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    _login(at, "dsmb", "dsmb-demo")
    assert at.session_state["viewer"].role == "dsmb"
    names = list(AuditLog(app_env / "audit.jsonl").read()["name"])
    assert names[:2] == ["login_failure", "login_success"]


def test_repeated_failures_are_slowed_down(app_env):
    for _ in range(3):
        at = _login(AppTest.from_file(str(APP), default_timeout=60).run(), "investigator", "nope-nope")
    at = _login(AppTest.from_file(str(APP), default_timeout=60).run(), "investigator", "investigator-demo")
    assert "Too many failed attempts" in at.error[0].value
    assert "viewer" not in at.session_state or at.session_state["viewer"] is None


def test_idle_session_expires_and_is_audited(app_env, monkeypatch):
    monkeypatch.setenv("DASHBOARD_IDLE_MINUTES", "1")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["viewer"] = ROLE_VIEWERS["dsmb"]
    at.session_state["last_activity"] = time.time() - 120
    at.run()
    assert at.session_state["viewer"] is None
    assert "expired" in at.warning[0].value
    assert "session_expired" in set(AuditLog(app_env / "audit.jsonl").read()["name"])


def test_logout_ends_the_session(app_env):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["viewer"] = ROLE_VIEWERS["investigator"]
    at.run()
    at.sidebar.button(key="logout").click().run()
    assert at.session_state["viewer"] is None
    assert "logout" in set(AuditLog(app_env / "audit.jsonl").read()["name"])


def test_oidc_identities_map_to_roles_and_unknown_ones_get_none(tmp_path):
    roles = tmp_path / "roles.toml"
    roles.write_text('[roles]\n"Ann@Example.org" = "dsmb"\n"ben@example.org" = "investigator"\n')
    mapping = load_role_map(roles)
    assert viewer_for_identity("ann@example.org", "Ann", mapping).role == "dsmb"
    assert viewer_for_identity("eve@example.org", "Eve", mapping) is None
    roles.write_text('[roles]\n"eve@example.org" = "sponsor"\n')
    with pytest.raises(ValueError, match="sponsor"):
        load_role_map(roles)


def test_users_command_adds_lists_changes_and_removes(tmp_path, monkeypatch, capsys):
    users = tmp_path / "users.toml"
    monkeypatch.setenv("DASHBOARD_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("long-password-1\n"))
    assert main(["users", "--file", str(users), "add", "ann", "--role", "dsmb", "--password-stdin"]) == 0
    assert main(["users", "--file", str(users), "set-role", "ann", "investigator"]) == 0
    assert main(["users", "--file", str(users), "list"]) == 0
    assert "ann\tinvestigator" in capsys.readouterr().out
    assert UserStore(users).authenticate("ann", "long-password-1", simulated_trial=False).role == "investigator"
    assert main(["users", "--file", str(users), "remove", "ann"]) == 0
    assert main(["users", "--file", str(users), "remove", "ann"]) == 2
    assert "password" not in (tmp_path / "audit.jsonl").read_text()


def test_first_start_builds_the_demo_trial_and_its_demo_accounts(app_env, monkeypatch):
    db = app_env / "fresh" / "trial.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception and db.exists()
    status = at.main.children[0]
    assert status.label == "Demo trial ready" and "Simulated 70 patients" in status.children[0].value
    assert UserStore(app_env / "users.toml").authenticate("dsmb", "dsmb-demo", simulated_trial=True).role == "dsmb"
