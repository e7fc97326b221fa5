"""``python -m dashboard import --charter FILE``: a valid charter is stored with the cut; an invalid one is
refused with every problem listed, exit status 2, and the current cut byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from dashboard.data.importers.cuts import kept_cut_path
from dashboard.data.importers.pipeline import ImportSettings, import_cut
from tests.conftest import connect_unblinded
from tests.data.test_import_validation import GOOD, write_delivery
from tests.domain.test_charter import GOOD as CHARTER

ROOT = Path(__file__).resolve().parents[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dashboard(*argv: str, audit: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DASHBOARD_AUDIT": str(audit)}
    return subprocess.run([sys.executable, "-m", "dashboard", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def current_cut(tmp_path: Path) -> Path:
    db = tmp_path / "db" / "trial.duckdb"
    import_cut(ImportSettings("csv", str(write_delivery(tmp_path / "cut1", GOOD)), date(2024, 6, 1), db=str(db)))
    return db


def test_an_invalid_charter_exits_2_with_every_problem_and_the_cut_unchanged(tmp_path, audit_trail_of_the_test):
    db = current_cut(tmp_path)
    before = sha256(db)
    bad = tmp_path / "charter.toml"
    bad.write_text(CHARTER.replace("alpha = 0.025", "alpha = 1.2").replace("binding = false", "binding = true"))
    delivery = write_delivery(tmp_path / "cut2", GOOD)
    done = dashboard("import", "--format", "csv", str(delivery), "--cut-date", "2024-07-01", "--db", str(db),
                     "--charter", str(bad), audit=audit_trail_of_the_test)
    assert done.returncode == 2, done.stderr
    assert f"{bad}: efficacy.alpha: must be between 0 and 0.5 (got 1.2)" in done.stderr
    assert f"{bad}: futility.binding: the dashboard computes non-binding futility only" in done.stderr
    assert "Traceback" not in done.stderr and "nothing was written" in done.stderr
    assert sha256(db) == before and not kept_cut_path(db, 2).exists()
    [event] = [json.loads(line) for line in audit_trail_of_the_test.read_text().splitlines()]
    assert event["name"] == "import" and event["properties"]["outcome"] == "rejected"


def test_a_valid_charter_is_stored_with_the_new_cut(tmp_path, audit_trail_of_the_test):
    db = current_cut(tmp_path)
    good = tmp_path / "charter.toml"
    good.write_text(CHARTER)
    delivery = write_delivery(tmp_path / "cut2", GOOD)
    done = dashboard("import", "--format", "csv", str(delivery), "--cut-date", "2024-07-01", "--db", str(db),
                     "--charter", str(good), audit=audit_trail_of_the_test)
    assert done.returncode == 0, done.stderr
    assert "DSMB charter 1.0" in done.stdout and "in force from cut 2" in done.stdout
    with connect_unblinded(db) as con:
        assert con.execute("SELECT version, source, text FROM charter").fetchall() == [("1.0", str(good), CHARTER)]
    with duckdb.connect(str(kept_cut_path(db, 1)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM charter").fetchone()[0] == 0  # cut 1 was loaded without one


def test_import_help_names_the_charter_option(tmp_path):
    done = dashboard("import", "--help", audit=tmp_path / "audit.jsonl")
    assert "--charter FILE" in done.stdout and "docs/charter.md" in done.stdout
