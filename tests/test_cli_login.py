"""Commands that read trial data log in (DESIGN §9): DASHBOARD_USER / DASHBOARD_PASSWORD or a terminal prompt,
checked as the app's login checks them; without a valid login they exit 77 (EX_NOPERM) having read no trial
data and exported nothing; with one they apply that user's role and record their events under that user."""

from __future__ import annotations

import getpass
import io
import json
import os
import subprocess
import sys

import pytest

from dashboard import commands
from dashboard.cli import main
from dashboard.commands import EXIT_NOT_AUTHENTICATED
from tests.cli_login import log_in, log_out, password_of, username_of
from tests.conftest import UNUSUAL_ARMS
from tests.data.test_import_validation import GOOD, write_delivery

DATA_COMMANDS = {
    "survival": ["survival", "--endpoint", "os", "--json", "--db"],
    "deck": ["deck", "--out", "never.pptx", "--db"],
    "monitoring": ["monitoring", "--json", "--db"],
}


def _events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def no_trial_data_read(monkeypatch):
    """Fail the test if a command opens the trial for a viewer (every trial-data query is a TrialView's)."""
    def refuse(*args, **kwargs):
        raise AssertionError("the command read trial data before a valid login")

    monkeypatch.setattr("dashboard.access.trial_view.TrialView.__init__", refuse)


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_a_call_without_credentials_or_terminal_exits_77_with_a_message(command, unusual_arms_db, tmp_path, monkeypatch,
                                                                         capsys, audit_trail_of_the_test,
                                                                         no_trial_data_read):
    log_in(monkeypatch, tmp_path)
    log_out(monkeypatch)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal to ask on
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main([*DATA_COMMANDS[command], str(unusual_arms_db)])
    assert exit_.value.code == EXIT_NOT_AUTHENTICATED == 77
    captured = capsys.readouterr()
    assert "not logged in: DASHBOARD_USER is not set" in captured.err and captured.out == ""
    assert _events(audit_trail_of_the_test) == [] and not (tmp_path / "never.pptx").exists()


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_a_wrong_password_exits_77_and_records_only_the_failed_login(command, unusual_arms_db, tmp_path, monkeypatch,
                                                                     capsys, audit_trail_of_the_test,
                                                                     no_trial_data_read):
    log_in(monkeypatch, tmp_path, "dsmb")
    monkeypatch.setenv("DASHBOARD_PASSWORD", "not-the-password")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main([*DATA_COMMANDS[command], str(unusual_arms_db)])
    assert exit_.value.code == 77
    captured = capsys.readouterr()
    assert "wrong username or password" in captured.err and captured.out == ""
    (event,) = _events(audit_trail_of_the_test)
    assert (event["name"], event["actor"], event["page"]) == ("login_failure", username_of("dsmb"), f"cli {command}")
    assert set(event["properties"]) == {"reason", "os_user"}  # nothing about trial data
    assert not any(arm in json.dumps(event) for arm in UNUSUAL_ARMS)


def test_a_subprocess_without_credentials_exits_77_without_a_traceback(unusual_arms_db, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DASHBOARD_USER", "DASHBOARD_PASSWORD")}
    env |= {"DASHBOARD_AUDIT": str(tmp_path / "audit.jsonl"), "DASHBOARD_USERS": str(tmp_path / "users.toml")}
    done = subprocess.run([sys.executable, "-m", "dashboard", "survival", "--db", str(unusual_arms_db)],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 77 and done.stdout == ""
    assert "DASHBOARD_USER" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "audit.jsonl").exists()


def test_repeated_failures_are_throttled_as_in_the_app(trial_db, tmp_path, monkeypatch, capsys, no_trial_data_read):
    log_in(monkeypatch, tmp_path, "dsmb")
    monkeypatch.setenv("DASHBOARD_PASSWORD", "not-the-password")
    for _ in range(3):  # the throttle's free failures per username
        with pytest.raises(SystemExit):
            main(["survival", "--db", str(trial_db)])
    monkeypatch.setenv("DASHBOARD_PASSWORD", password_of("dsmb"))  # even the right password waits now
    with pytest.raises(SystemExit) as exit_:
        main(["survival", "--db", str(trial_db)])
    assert exit_.value.code == 77 and "too many failed logins" in capsys.readouterr().err


def test_demo_accounts_work_on_a_simulated_trial_only(trial_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DASHBOARD_USERS", str(tmp_path / "demo-users.toml"))
    monkeypatch.setenv("DASHBOARD_USER", "investigator")
    monkeypatch.setenv("DASHBOARD_PASSWORD", "investigator-demo")
    assert commands.authenticate(trial_db).role == "investigator"  # the simulated demo trial
    imported = tmp_path / "imported.duckdb"
    assert main(["import", "--format", "csv", str(write_delivery(tmp_path / "delivery", GOOD)),
                 "--cut-date", "2024-06-01", "--db", str(imported)]) == 0
    with pytest.raises(SystemExit) as exit_:
        commands.authenticate(imported)
    assert exit_.value.code == 77


def test_the_prompt_asks_on_a_terminal(trial_db, tmp_path, monkeypatch):
    log_in(monkeypatch, tmp_path, "auditor")
    log_out(monkeypatch)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(username_of("auditor") + "\n"))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": password_of("auditor"))
    viewer = commands.authenticate(trial_db, "survival")
    assert (viewer.username, viewer.role) == (username_of("auditor"), "auditor")


@pytest.mark.parametrize("role", ["investigator", "data_manager", "auditor"])
def test_a_blinded_users_survival_report_is_pooled(role, unusual_arms_db, tmp_path, monkeypatch, capsys,
                                                  audit_trail_of_the_test):
    user = log_in(monkeypatch, tmp_path, role)
    assert main(["survival", "--db", str(unusual_arms_db), "--endpoint", "os", "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert [g["group"] for g in report["groups"]] == ["All patients"] and report["groups"][0]["n"] == 70
    assert report["logrank"] is None and not report["cox"]
    assert not any(arm in out for arm in UNUSUAL_ARMS)
    (event,) = _events(audit_trail_of_the_test)
    assert (event["actor"], event["role"], event["unblinded"]) == (user, role, False)
    assert event["properties"]["os_user"] == getpass.getuser()
    assert event["properties"]["what"] == "survival report pooled"


def test_the_dsmb_survival_report_is_by_arm_under_the_dsmb_user(unusual_arms_db, tmp_path, monkeypatch, capsys,
                                                                audit_trail_of_the_test):
    user = log_in(monkeypatch, tmp_path, "dsmb")
    assert main(["survival", "--db", str(unusual_arms_db), "--json"]) == 0
    assert [g["group"] for g in json.loads(capsys.readouterr().out)["groups"]] == list(UNUSUAL_ARMS)
    (event,) = _events(audit_trail_of_the_test)
    assert (event["actor"], event["role"], event["unblinded"]) == (user, "dsmb", True)


def test_a_blinded_users_monitoring_has_only_the_pooled_parts(unusual_arms_db, tmp_path, monkeypatch, capsys):
    log_in(monkeypatch, tmp_path, "investigator")
    assert main(["monitoring", "--db", str(unusual_arms_db), "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert report["events"] > 0 and report["boundaries"] is None and report["conditional_power"] is None
    assert report["safety_rules"] == [] and all(o["z"] is None and o["hazard_ratio"] is None for o in report["observed"])
    assert not any(arm in out for arm in UNUSUAL_ARMS)


def test_a_blinded_users_deck_cannot_filter_by_arm_and_the_role_flag_is_gone(unusual_arms_db, tmp_path, monkeypatch,
                                                                             capsys):
    log_in(monkeypatch, tmp_path, "investigator")
    assert main(["deck", "--db", str(unusual_arms_db), "--arm", UNUSUAL_ARMS[0], "--out", str(tmp_path / "d.pptx")]) == 2
    assert "--arm: the investigator role's deck is blinded" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["deck", "--db", str(unusual_arms_db), "--role", "dsmb"])
    assert exit_.value.code == 2 and "unrecognized arguments: --role" in capsys.readouterr().err
