"""/data under AppTest: only data managers reach it; a bad delivery shows every problem and leaves the
database byte-identical; a good CSV-template delivery becomes cut 2, kept and audited."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date

import pytest

from dashboard.access.viewer import require
from dashboard.data.database import randomization_path
from dashboard.data.importers.cuts import kept_cut_path
from dashboard.errors import AccessDenied
from dashboard.ui.navigation import page_paths
from tests.conftest import PILOT, connect_unblinded, needs_pilot
from tests.data.test_import_validation import GOOD
from tests.pages.apptest_helpers import ROLE_VIEWERS, run_page

BAD = {**GOOD,
       "lab_results.csv": GOOD["lab_results.csv"].replace("250.5", "ten"),
       "adverse_events.csv": GOOD["adverse_events.csv"].replace("P-002,Hepatic", "P-999,Hepatic")}


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(app_env, monkeypatch, trial_db):
    """A private copy of the demo trial: publishing replaces it and keeps cuts beside it."""
    path = app_env / "db" / "trial.duckdb"
    path.parent.mkdir()
    path.write_bytes(trial_db.read_bytes())
    randomization_path(path).write_bytes(randomization_path(trial_db).read_bytes())
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    return path


def upload(at, name: str, content: bytes, button: str, fmt: str = "csv"):
    at.file_uploader(key="data_upload").set_value((name, content, "application/zip"))
    at.segmented_control(key="data_format").set_value(fmt)
    at.run()
    at.button(key=button).click()
    return at.run()


def audit_events(app_env) -> list[dict]:
    lines = (app_env / "audit.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["name"] == "import"]


def test_data_manager_sees_the_upload_and_the_list_of_cuts(db):
    at = run_page("pages/data.py", "data_manager")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Data cuts"
    assert at.file_uploader(key="data_upload").allowed_type == [".zip"]
    assert at.button(key="data_publish").disabled  # nothing uploaded yet
    cuts = at.dataframe[-1].value
    assert cuts["cut_id"].tolist() == [1] and {"subjects", "lab_results", "checksum", "source"} <= set(cuts.columns)


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_other_roles_cannot_reach_data(app_env, role):
    viewer = ROLE_VIEWERS[role]
    assert "data" not in page_paths(viewer)
    with pytest.raises(AccessDenied):
        require(viewer, "import_data")
    with pytest.raises(ValueError):  # not registered in their navigation: AppTest cannot even switch to it
        run_page("pages/data.py", role)


@pytest.mark.parametrize("button", ["data_check", "data_publish"])
def test_bad_delivery_shows_every_problem_and_leaves_the_database_byte_identical(app_env, db, button):
    before = sha256(db)
    at = upload(run_page("pages/data.py", "data_manager"), "bad.zip", zipped(BAD), button)
    assert not at.exception, [e.value for e in at.exception]
    assert "bad.zip was rejected: 2 problem(s)" in at.error[0].value
    report = at.dataframe[0].value
    assert list(report.columns) == ["file", "row", "column", "found", "expected"]
    found = {(r.file, r.row, r.column, r.found) for r in report.itertuples()}
    assert found == {("bad.zip:lab_results.csv", 1, "value", "ten"), ("bad.zip:adverse_events.csv", 2, "usubjid", "P-999")}
    assert {b.label for b in at.get("download_button")} == {"Download CSV", "Download XLSX"}
    assert sha256(db) == before and not kept_cut_path(db, 2).exists()
    assert [e["properties"]["outcome"] for e in audit_events(app_env)] == (["rejected"] if button == "data_publish" else [])


def test_archive_escaping_its_folder_is_refused_unread(app_env, db):
    before = sha256(db)
    at = upload(run_page("pages/data.py", "data_manager"), "evil.zip", zipped({**GOOD, "../subjects.csv": "x"}),
                "data_publish")
    report = at.dataframe[0].value
    assert report["found"].tolist() == ["../subjects.csv"] and "no '..'" in report["expected"].iloc[0]
    assert sha256(db) == before


def test_arm_names_and_values_are_not_shown_to_the_blinded_data_manager(app_env, db):
    blank_arm = {**GOOD, "subjects.csv": GOOD["subjects.csv"].replace("P-003,S02,UC-MSC", "P-003,S02,")}
    at = run_page("pages/data.py", "data_manager")
    at.text_input(key="data_reference_arm").input("Control")
    at = upload(at, "arms.zip", zipped(GOOD), "data_check")
    report = at.dataframe[0].value
    assert report[["file", "column"]].values.tolist() == [["arms.zip", "arm"]]  # the upload's name, not a temp path
    assert "--reference-arm naming one of the arms" in report["expected"].iloc[0]
    at = upload(at, "blank.zip", zipped(blank_arm), "data_check")
    for text in (at.dataframe[0].value.to_csv(), *(e.value for e in at.error)):
        assert "UC-MSC" not in text and "Placebo" not in text


def test_good_csv_delivery_publishes_cut_2_keeps_cut_1_and_is_audited(app_env, db):
    at = upload(run_page("pages/data.py", "data_manager"), "good.zip", zipped(GOOD), "data_publish")
    assert not at.exception, [e.value for e in at.exception]
    assert "good.zip was published as cut 2" in at.success[0].value
    with connect_unblinded(db) as con:
        cuts = con.execute("SELECT cut_id, source FROM data_cuts ORDER BY cut_id").fetchall()
        assert con.execute("SELECT count(*) FROM subjects").fetchone()[0] == 3
    assert cuts == [(1, "test fixture"), (2, "good.zip (uploaded by datamanager)")]
    assert kept_cut_path(db, 1).exists() and kept_cut_path(db, 2).exists()
    [event] = audit_events(app_env)
    assert event["actor"] == "datamanager" and event["properties"]["outcome"] == "published"
    assert event["properties"]["cut_id"] == 2
    # A new session (AppTest keeps the first run's context after a page switch) lists both cuts.
    assert run_page("pages/data.py", "data_manager").dataframe[-1].value["cut_id"].tolist() == [2, 1]


@needs_pilot
def test_the_cdisc_pilot_sdtm_loads_through_data(app_env, db):
    files = {f"{d}.xpt": (PILOT / f"{d}.xpt").read_bytes() for d in ("dm", "ds", "ex", "lb", "vs", "ae")}
    at = run_page("pages/data.py", "data_manager")
    at.date_input(key="data_cut_date").set_value(date(2014, 7, 1))
    at = upload(at, "cdiscpilot01_sdtm.zip", zipped(files), "data_publish", fmt="sdtm")
    assert not at.exception, [e.value for e in at.exception]
    assert "cdiscpilot01_sdtm.zip was published as cut 2" in at.success[0].value
    with connect_unblinded(db) as con:
        assert con.execute("SELECT count(DISTINCT arm), count(*) FROM subjects").fetchone() == (3, 254)


def test_a_publish_while_another_import_holds_the_lock_is_told_to_retry(app_env, db, monkeypatch):
    from dashboard.data.importers import cuts

    monkeypatch.setattr(cuts, "LOCK_WAIT_SECONDS", 0.2)
    before = sha256(db)
    with cuts.publish_lock(db):
        at = upload(run_page("pages/data.py", "data_manager"), "good.zip", zipped(GOOD), "data_publish")
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(str(df.value.to_csv()) for df in at.dataframe) + " ".join(e.value for e in at.error)
    assert "Another import is publishing" in shown and "publish again" in shown
    assert sha256(db) == before
