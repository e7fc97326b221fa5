"""The DSMB charter kept per cut: `simulate` stores the shipped one, an import stores the one given with it or
carries the previous cut's forward, an earlier cut's kept file keeps its own, and TrialView.charter() reads it."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.commands.simulate import build
from dashboard.data.charters import demo_charter, read_charter_file
from dashboard.data.database import randomization_path
from dashboard.data.importers.cuts import kept_cut_path
from dashboard.data.importers.pipeline import ImportSettings, import_cut
from dashboard.data.simulate import SimulationSettings
from dashboard.domain.charter import CharterError, parse_charter
from tests.conftest import connect_unblinded
from tests.data.test_import_validation import GOOD, write_delivery
from tests.domain.test_charter import GOOD as CHARTER

V2 = CHARTER.replace('version = "1.0"', 'version = "2.0"').replace("planned_events = 24", "planned_events = 30")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored(db: Path) -> list[tuple]:
    with connect_unblinded(db) as con:
        return con.execute("SELECT version, title, sha256, source, loaded_at, text FROM charter").fetchall()


def charter_file(folder: Path, text: str, name: str = "charter.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def imported(tmp_path: Path, db: Path, cut_date: date, charter: Path | None = None):
    delivery = write_delivery(tmp_path / f"delivery-{cut_date}", GOOD)
    return import_cut(ImportSettings("csv", str(delivery), cut_date, db=str(db),
                                     charter=str(charter) if charter else None))


def test_simulate_stores_the_shipped_charter(tmp_path):
    db = tmp_path / "trial.duckdb"
    build(SimulationSettings(), str(db), progress=lambda _: None)
    [(version, _, digest, source, _, text)] = stored(db)
    charter, _ = demo_charter()
    assert (version, digest, text) == ("1.0", charter.sha256, charter.text)
    assert source == "shipped demo charter (demo_charter.toml)"
    assert parse_charter(text).planned_events == 24


def test_simulate_scales_planned_events_for_another_trial_size_and_says_so(tmp_path):
    db = tmp_path / "small.duckdb"
    build(SimulationSettings(patients=14), str(db), progress=lambda _: None)
    [(_, _, digest, source, _, text)] = stored(db)
    charter = parse_charter(text)
    assert charter.planned_events == 5  # 24 x 14 / 70 = 4.8
    assert charter.sha256 == digest
    assert "scaled from 24 to 5 for 14 patients" in source and "scaled from 24" in text
    assert demo_charter(2)[0].planned_events == 2  # at least 2


def test_charter_round_trip_through_imports_and_kept_cuts(tmp_path):
    db = tmp_path / "db" / "trial.duckdb"
    v1 = charter_file(tmp_path / "charters", CHARTER)
    first = imported(tmp_path, db, date(2024, 6, 1), v1)
    assert first.charter == parse_charter(CHARTER, str(v1))
    [row1] = stored(db)
    assert row1[:4] == ("1.0", "Test charter", hashlib.sha256(CHARTER.encode()).hexdigest(), str(v1.resolve()))
    assert row1[5] == CHARTER

    imported(tmp_path, db, date(2024, 7, 1))  # no charter: cut 1's is carried forward unchanged
    assert stored(db) == [row1]
    cut2_kept = sha256(kept_cut_path(db, 2))

    v2 = charter_file(tmp_path / "charters", V2, "charter-v2.toml")
    imported(tmp_path, db, date(2024, 8, 1), v2)
    [row3] = stored(db)
    assert row3[0] == "2.0" and row3[5] == V2 and row3[4] >= row1[4]
    # The earlier cuts' kept files keep their own charter and are not rewritten.
    assert sha256(kept_cut_path(db, 2)) == cut2_kept
    assert stored(kept_cut_path(db, 1)) == stored(kept_cut_path(db, 2)) == [row1]
    assert stored(kept_cut_path(db, 3)) == [row3]


def test_a_new_charter_changes_the_cuts_checksum_and_its_load_time_does_not(tmp_path):
    db = tmp_path / "db" / "trial.duckdb"
    v1 = charter_file(tmp_path / "charters", CHARTER)
    checksums = [imported(tmp_path, db, date(2024, 6, 1), v1).cut["checksum"],
                 imported(tmp_path, db, date(2024, 6, 1), v1).cut["checksum"],
                 imported(tmp_path, db, date(2024, 6, 1), charter_file(tmp_path / "c2", V2)).cut["checksum"]]
    assert checksums[0] == checksums[1] != checksums[2]


def test_an_invalid_charter_refuses_the_import_before_anything_is_read_or_written(tmp_path):
    db = tmp_path / "db" / "trial.duckdb"
    imported(tmp_path, db, date(2024, 6, 1), charter_file(tmp_path / "charters", CHARTER))
    before = sha256(db)
    bad = charter_file(tmp_path / "bad", CHARTER.replace("alpha = 0.025", "alpha = 1.2"), "bad.toml")
    with pytest.raises(CharterError, match=r"efficacy\.alpha: must be between 0 and 0\.5 \(got 1\.2\)"):
        import_cut(ImportSettings("csv", str(tmp_path / "no such delivery"), date(2024, 7, 1), db=str(db),
                                  charter=str(bad), charter_label="bad.toml"))
    assert sha256(db) == before and not kept_cut_path(db, 2).exists()


def test_read_charter_file_names_unreadable_files(tmp_path):
    with pytest.raises(CharterError, match="missing.toml: \\(file\\): no such file"):
        read_charter_file(tmp_path / "missing.toml", "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CharterError, match="binary.toml: \\(file\\): not UTF-8 text"):
        read_charter_file(binary, "binary.toml")


def test_trial_view_reads_the_cuts_charter_and_none_from_a_file_without_one(tmp_path, trial_db):
    con = connect_unblinded(trial_db)
    view = TrialView(con, Viewer("i", "investigator"), trial_db)
    assert view.charter() == demo_charter()[0]
    assert view.charter_record()["sha256"] == demo_charter()[0].sha256 and "text" not in view.charter_record()
    con.close()
    old = tmp_path / "old.duckdb"
    shutil.copyfile(trial_db, old)
    shutil.copyfile(randomization_path(trial_db), randomization_path(old))
    with duckdb.connect(str(old)) as writable:
        writable.execute("DROP TABLE charter")  # as written before the charter table existed
    con = connect_unblinded(old)
    view = TrialView(con, Viewer("d", "dsmb"), old)
    assert view.charter() is None and view.charter_record() is None
    con.close()
