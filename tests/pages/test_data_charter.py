"""/data's DSMB charter upload under AppTest: a good charter's summary is shown before anything is checked and
is stored with the published cut; a bad one shows its problems (no traceback) and nothing is written; the page
shows the current cut's charter read-only."""

from __future__ import annotations

import duckdb
import pytest

from dashboard.data.charters import demo_charter
from dashboard.data.database import randomization_path
from dashboard.data.importers.cuts import kept_cut_path
from tests.conftest import connect_unblinded
from tests.domain.test_charter import GOOD as CHARTER
from tests.pages.apptest_helpers import run_page
from tests.pages.test_data_page import GOOD, audit_events, sha256, upload, zipped

BAD = CHARTER.replace("alpha = 0.025", "alpha = 1.2").replace("alpha_", "").replace("threshold = 3", "threshold = 0")
V2 = CHARTER.replace('version = "1.0"', 'version = "2.0"')


@pytest.fixture
def db(app_env, monkeypatch, trial_db):
    """A private copy of the demo trial (with the shipped charter): publishing replaces it and keeps cuts."""
    path = app_env / "db" / "trial.duckdb"
    path.parent.mkdir()
    path.write_bytes(trial_db.read_bytes())
    randomization_path(path).write_bytes(randomization_path(trial_db).read_bytes())
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    return path


def with_charter(at, name: str, text: str):
    at.file_uploader(key="data_charter").set_value((name, text.encode(), "application/toml"))
    return at.run()


def markdown(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_the_page_shows_the_current_cuts_charter_read_only(app_env, db):
    at = run_page("pages/data.py", "data_manager")
    assert not at.exception, [e.value for e in at.exception]
    charter, _ = demo_charter()
    assert f"Version **1.0** · SHA-256 `{charter.sha256[:12]}` · loaded " in markdown(at)
    assert any("shipped demo charter" in c.value for c in at.caption)
    assert at.file_uploader(key="data_charter").allowed_type == [".toml"]


def test_a_good_charter_is_summarised_before_import_and_stored_with_the_published_cut(app_env, db):
    at = with_charter(run_page("pages/data.py", "data_manager"), "charter-v2.toml", V2)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "**Charter 2.0** (charter-v2.toml), checked" in markdown(at)
    summary = at.table[0].value
    shown = dict(zip(summary.index, summary["value"]))
    assert shown["Version"] == "2.0" and shown["Primary endpoint"] == "Overall survival (os)"
    assert shown["Planned events"] == "24" and shown["Looks (information fraction: events)"] == "0.5: 12, 0.75: 18, 1: 24"
    assert shown["Alpha"] == "0.025 one-sided" and shown["Alpha spending"].startswith("O'Brien-Fleming")
    assert shown["Futility"].startswith("non-binding: conditional power")
    assert shown["Safety rule 1"].startswith("early-deaths: 3 or more deaths within 7 days")

    at = upload(at, "good.zip", zipped(GOOD), "data_publish")
    assert not at.exception, [e.value for e in at.exception]
    assert "good.zip was published as cut 2" in at.success[0].value
    with connect_unblinded(db) as con:
        assert con.execute("SELECT version, source, text FROM charter").fetchall() == [
            ("2.0", "charter-v2.toml (uploaded by datamanager)", V2)]
    with duckdb.connect(str(kept_cut_path(db, 1)), read_only=True) as con:
        assert con.execute("SELECT version FROM charter").fetchall() == [("1.0",)]  # cut 1 keeps its own
    assert audit_events(app_env)[0]["properties"]["charter"] == "charter-v2.toml"
    assert "Version **2.0**" in markdown(run_page("pages/data.py", "data_manager"))


def test_a_bad_charter_shows_its_problems_not_a_traceback_and_publishes_nothing(app_env, db):
    before = sha256(db)
    at = with_charter(run_page("pages/data.py", "data_manager"), "bad.toml", BAD)
    assert not at.exception, [e.value for e in at.exception]
    assert "bad.toml is not a valid DSMB charter (2 problem(s))" in at.error[0].value
    problems = at.code[0].value.splitlines()
    assert problems == ["bad.toml: efficacy.alpha: must be between 0 and 0.5 (got 1.2)",
                        "bad.toml: safety_rules[1].threshold: must be at least 1 (got 0)"]
    assert not at.table  # no summary of a charter that cannot be used

    at = upload(at, "good.zip", zipped(GOOD), "data_publish")
    assert not at.exception, [e.value for e in at.exception]
    assert "good.zip was rejected: 2 problem(s)" in at.error[-1].value
    report = at.dataframe[0].value
    assert report[["file", "column", "found", "expected"]].values.tolist() == [
        ["bad.toml", "efficacy.alpha", "1.2", "must be between 0 and 0.5"],
        ["bad.toml", "safety_rules[1].threshold", "0", "must be at least 1"]]
    assert sha256(db) == before and not kept_cut_path(db, 2).exists()
    assert [e["properties"]["outcome"] for e in audit_events(app_env)] == ["rejected"]


def test_a_charter_that_is_not_text_is_refused_with_a_message(app_env, db):
    at = run_page("pages/data.py", "data_manager")
    at.file_uploader(key="data_charter").set_value(("binary.toml", b"\xff\xfe\x00", "application/toml"))
    at = at.run()
    assert not at.exception and "binary.toml is not a valid DSMB charter (1 problem(s))" in at.error[0].value
    assert at.code[0].value.startswith("binary.toml: (file): not UTF-8 text")
