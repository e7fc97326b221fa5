"""Imports into one database at once are serialised by a lock beside it: every published cut survives
with its own id, and an import that cannot take the lock in time says to retry and writes nothing.
Temporary files of killed imports are removed by the next one; the new database is fsynced."""

import argparse
import fcntl
import json
import os
import re
import subprocess
import sys
from datetime import date

import pytest

from dashboard.commands import import_cut as command
from dashboard.data.importers import cuts
from dashboard.data.importers.pipeline import ImportSettings, import_cut
from tests.conftest import connect_unblinded
from tests.data.test_import_validation import GOOD, sha256, write_delivery

PARALLEL = 3
TIMEOUT = 240  # seconds for all three, on a shared two-core machine


@pytest.fixture()
def published(tmp_path):
    """A database holding one good cut, and a good delivery for the next."""
    source = write_delivery(tmp_path / "good", GOOD)
    db = tmp_path / "db" / "trial.duckdb"
    import_cut(ImportSettings("csv", str(source), date(2024, 6, 1), db=str(db)))
    return db, source


def test_parallel_imports_keep_every_published_cut(published, audit_trail_of_the_test):
    db, source = published
    runs = [subprocess.Popen([sys.executable, "-m", "dashboard", "import", "--format", "csv", str(source),
                              "--cut-date", "2024-07-01", "--db", str(db)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(PARALLEL)]
    try:
        outputs = [run.communicate(timeout=TIMEOUT) + (run.returncode,) for run in runs]
    finally:
        for run in runs:
            run.kill()
    claimed = []
    for out, err, code in outputs:
        if code == 0:
            claimed.append(int(re.search(r"Imported CSV cut (\d+)", out).group(1)))
        else:  # a loser says to retry, and does not claim to have imported
            assert "Imported" not in out and "retry" in err.lower(), (out, err)
    assert claimed and len(set(claimed)) == len(claimed), outputs
    with connect_unblinded(db) as con:
        ids = [r[0] for r in con.execute("SELECT cut_id FROM data_cuts ORDER BY cut_id").fetchall()]
    assert ids == [1, *sorted(claimed)], outputs
    for cut_id in ids:
        assert cuts.kept_cut_path(db, cut_id).exists()
    events = [json.loads(line) for line in audit_trail_of_the_test.read_text().splitlines()]
    published_ids = [e["properties"]["cut_id"] for e in events if e["properties"].get("outcome") == "published"]
    assert sorted(published_ids) == sorted(claimed)
    assert not [p.name for p in db.parent.iterdir() if p.name.endswith((".tmp", ".tmp.wal"))]


def _args(source, db):
    return argparse.Namespace(format="csv", source=str(source), cut_date=date(2024, 7, 1), db=str(db), mapping=None,
                              reference_arm=None, active_arm=None, study_id=None, unblinded=False)


def test_import_that_cannot_take_the_lock_says_retry_and_writes_nothing(published, monkeypatch, capsys):
    db, source = published
    before = sha256(db)
    monkeypatch.setattr(cuts, "LOCK_WAIT_SECONDS", 0.3)
    with open(cuts.lock_path(db), "a") as held:  # another import is publishing
        fcntl.flock(held, fcntl.LOCK_EX)
        code = command.run(_args(source, db))
    out, err = capsys.readouterr()
    assert code != 0 and "Imported" not in out
    assert "retry" in err.lower() and str(db.parent) in err
    assert sha256(db) == before and not cuts.kept_cut_path(db, 2).exists()
    assert not [p.name for p in db.parent.iterdir() if p.name.endswith((".tmp", ".tmp.wal"))]


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_next_import_removes_temporary_files_of_killed_imports_only(published):
    db, source = published
    dead, alive = _dead_pid(), os.getppid()
    stale = [db.parent / f".{db.name}.{dead}.tmp", db.parent / f".{db.name}.{dead}.tmp.wal",
             cuts.cuts_dir(db) / f".cut-2.duckdb.{dead}.tmp"]
    live = [db.parent / f".{db.name}.{alive}.tmp", db.parent / f".other.duckdb.{alive}.tmp.wal"]
    for path in stale + live:
        path.write_bytes(b"half a database")
    import_cut(ImportSettings("csv", str(source), date(2024, 7, 1), db=str(db)))
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in live)


def test_new_database_and_its_folder_are_fsynced(published, monkeypatch):
    db, source = published
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.fstat(fd).st_ino)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    import_cut(ImportSettings("csv", str(source), date(2024, 7, 1), db=str(db)))
    assert db.stat().st_ino in synced and db.parent.stat().st_ino in synced
    kept = cuts.kept_cut_path(db, 2)
    assert kept.stat().st_ino in synced and kept.parent.stat().st_ino in synced
