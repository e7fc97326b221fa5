"""``python -m dashboard report`` and ``state migrate``: the current cut's meeting created when missing, one
numbered copy per call for the logged-in user, audited; another meeting's report built from its own cut; no
closed report for a blinded user and nothing without a login. One test prints the real closed report."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import date
from types import SimpleNamespace

import pytest

from dashboard import cli
from dashboard.data.importers.cuts import write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.state import StateStore, actions
from dashboard.state.migrations import LATEST


@pytest.fixture
def env(monkeypatch, tmp_path, trial_db):
    db = tmp_path / "trial.duckdb"
    for src in (trial_db, trial_db.with_name("trial.randomization.duckdb")):
        if src.exists():
            shutil.copy(src, tmp_path / src.name)
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    monkeypatch.setenv("DASHBOARD_USERS", str(tmp_path / "users.toml"))
    monkeypatch.setenv("DASHBOARD_STATE", str(tmp_path / "state.sqlite"))
    monkeypatch.setenv("DASHBOARD_USER", "dsmb")
    monkeypatch.setenv("DASHBOARD_PASSWORD", "dsmb-demo")
    return SimpleNamespace(db=db, home=tmp_path, state=tmp_path / "state.sqlite")


@pytest.fixture
def built(monkeypatch):
    """The report engine replaced by one that says what it was asked to build."""
    calls = []

    def build_report(view, kind, *, meeting, copy, generated=None):
        calls.append((view.cut_id, kind, meeting, copy))
        return f"%PDF-fake {kind} cut {view.cut_id} copy {copy.number} for {copy.recipient}".encode()

    engine = SimpleNamespace(build_report=build_report, ReportMeeting=lambda *a: SimpleNamespace(args=a),
                             ReportCopy=lambda number, recipient: SimpleNamespace(number=number, recipient=recipient))
    monkeypatch.setattr(actions, "report_engine", lambda: engine)
    return calls


def _audit(audit_path) -> list[dict]:
    return [json.loads(line) for line in audit_path.read_text().splitlines()] if audit_path.exists() else []


def test_state_migrate_prints_the_version_and_is_idempotent(env, capsys):
    assert cli.main(["state", "migrate"]) == 0
    assert f"schema version {LATEST} (migrated from 0)" in capsys.readouterr().out
    assert cli.main(["state", "migrate"]) == 0
    assert f"schema version {LATEST} (up to date)" in capsys.readouterr().out
    assert StateStore(env.state, migrate=False).schema_version() == LATEST


def test_report_creates_the_current_cuts_meeting_and_numbers_each_copy(env, built, capsys, audit_trail_of_the_test):
    out = env.home / "closed.pdf"
    assert cli.main(["report", "--kind", "closed", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Created meeting #1" in printed and "copy 1 for dsmb" in printed
    assert out.read_bytes().startswith(b"%PDF-fake closed")
    assert cli.main(["report", "--kind", "closed", "--out", str(out), "--db", str(env.db)]) == 0
    assert "Created" not in (second := capsys.readouterr().out) and "copy 2 for dsmb" in second
    assert cli.main(["report", "--kind", "open", "--out", str(env.home / "open.pdf")]) == 0
    store = StateStore(env.state)
    (meeting,) = store.meetings()
    assert meeting.usernames == ("dsmb", "dsmb2")  # every DSMB account of the users file
    assert [(c.kind, c.number, c.recipient) for c in store.copies(meeting.meeting_id)] == [
        ("closed", 1, "dsmb"), ("closed", 2, "dsmb"), ("open", 1, "dsmb")]
    exports = [e for e in _audit(audit_trail_of_the_test) if e["name"] == "export"]
    assert [(e["actor"], e["page"], e["properties"]["kind"], e["properties"]["copy"]) for e in exports] == [
        ("dsmb", "cli report", "closed", 1), ("dsmb", "cli report", "closed", 2), ("dsmb", "cli report", "open", 1)]
    assert all(e["properties"]["os_user"] for e in exports)


def test_an_earlier_meetings_report_is_built_from_its_own_cut(env, built, capsys):
    assert cli.main(["report", "--kind", "closed", "--out", str(env.home / "a.pdf")]) == 0
    write_cut(simulate_trial(SimulationSettings(cut_date=date(2026, 6, 30))), env.db, source="second cut")
    assert cli.main(["report", "--kind", "closed", "--out", str(env.home / "b.pdf"), "--meeting", "1"]) == 0
    assert cli.main(["report", "--kind", "closed", "--out", str(env.home / "c.pdf")]) == 0
    assert [(cut_id, copy.number) for cut_id, _, _, copy in built] == [(1, 1), (1, 2), (2, 1)]
    assert "Created meeting #2" in capsys.readouterr().out


def test_unknown_meeting_is_an_error(env, built, capsys):
    assert cli.main(["report", "--kind", "open", "--out", str(env.home / "x.pdf"), "--meeting", "9"]) == 2
    assert "No DSMB meeting 9" in capsys.readouterr().err
    assert not (env.home / "x.pdf").exists() and built == []


def test_a_blinded_user_gets_no_closed_report_and_creates_no_meeting(env, built, monkeypatch, capsys):
    monkeypatch.setenv("DASHBOARD_USER", "investigator")
    monkeypatch.setenv("DASHBOARD_PASSWORD", "investigator-demo")
    assert cli.main(["report", "--kind", "closed", "--out", str(env.home / "x.pdf")]) == 2
    assert "may not" in capsys.readouterr().err
    assert StateStore(env.state).meetings() == [] and built == []


def test_no_report_without_a_login(env, built, monkeypatch):
    monkeypatch.delenv("DASHBOARD_USER")
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", "--kind", "open", "--out", str(env.home / "x.pdf")])
    assert exit_.value.code == 77 and built == [] and not (env.home / "x.pdf").exists()


def test_the_real_closed_report_carries_its_copy_number_and_recipient(env, capsys):
    out = env.home / "closed.pdf"
    assert cli.main(["report", "--kind", "closed", "--out", str(out)]) == 0
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "CONFIDENTIAL — DSMB CLOSED SESSION" in text and "Copy 1 — dsmb" in text
    (copy,) = StateStore(env.state).copies(1)
    assert copy.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
