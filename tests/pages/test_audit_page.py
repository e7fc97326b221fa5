"""/audit is no side channel (issue 16, item 4): after a DSMB member browsed a trial with unusual arm names
filtered by arm and opened a patient, a blinded data manager's /audit page, its CSV and XLSX downloads and
the `audit` command show none of the arm names, nor the patient the DSMB opened; the auditor's show them
(positive control)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access.audit import DSMB_VIEW
from dashboard.access.viewer import Viewer
from dashboard.cli import main
from dashboard.ui import downloads
from tests.cli_login import log_in
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import APP, run_page, sent_bytes

AUDITOR = Viewer("audrey", "auditor", "Auditor")
DATA_MANAGER = Viewer("datamanager", "data_manager", "Data manager")


@pytest.fixture
def dsmb_browsed(app_env, unusual_arms_db, monkeypatch) -> str:
    """The DSMB's session on the unusual-arms trial: the patient list filtered by the second arm, one of its
    patients opened (with the filter still in the URL). Returns that patient's id."""
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    at = run_page("pages/patients.py", "dsmb", {"arm": UNUSUAL_ARMS[1]})
    assert not at.exception
    patient = next(d.value for d in at.dataframe if "usubjid" in d.value.columns)["usubjid"].iloc[0]
    at = run_page("pages/patient.py", "dsmb", {"id": patient, "arm": UNUSUAL_ARMS[1]})
    assert not at.exception
    trail = (app_env / "audit.jsonl").read_text()
    assert UNUSUAL_ARMS[1] in trail and patient in trail  # the raw trail holds what must not leak
    return patient


@pytest.fixture
def downloaded(monkeypatch) -> list[bytes]:
    """The bytes of every CSV and XLSX the page offers for download (the text of each XLSX sheet)."""
    files: list[bytes] = []
    csv, xlsx = downloads.table_csv, downloads._xlsx

    def keep_csv(*args, **kwargs):
        files.append(data := csv(*args, **kwargs))
        return data

    def keep_xlsx(*args, **kwargs):
        data = xlsx(*args, **kwargs)
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None)
        files.append("\n".join(s.to_csv(index=False) for s in sheets.values()).encode())
        return data

    monkeypatch.setattr(downloads, "table_csv", keep_csv)
    monkeypatch.setattr(downloads, "_xlsx", keep_xlsx)
    return files


def audit_page(viewer: Viewer, downloaded: list[bytes]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["viewer"] = viewer
    at.run()  # the overview first (st.navigation registers the pages); its downloads are not the audit's
    downloaded.clear()
    at.switch_page("pages/audit.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_data_managers_audit_page_and_downloads_name_no_arm(dsmb_browsed, downloaded):
    at = audit_page(DATA_MANAGER, downloaded)
    sent = sent_bytes(at)
    assert len(downloaded) == 2  # CSV and XLSX
    for content in (sent, *downloaded):
        assert not any(arm.encode().lower() in content.lower() for arm in UNUSUAL_ARMS)
        assert dsmb_browsed.encode() not in content
    table = next(d.value for d in at.dataframe if "properties" in d.value.columns)
    dsmb = table[table["role"] == "dsmb"]
    assert len(dsmb) >= 2 and set(dsmb["properties"]) == {DSMB_VIEW} and {"patients", "patient"} <= set(dsmb["page"])
    assert DSMB_VIEW.encode() in downloaded[0]


def test_the_auditors_audit_page_and_downloads_show_the_whole_trail(dsmb_browsed, downloaded):
    sent = sent_bytes(audit_page(AUDITOR, downloaded))
    for content in (sent, *downloaded):
        assert UNUSUAL_ARMS[1].encode() in content and dsmb_browsed.encode() in content


def test_the_audit_command_as_a_data_manager_names_no_arm_and_as_the_auditor_every_one(dsmb_browsed, tmp_path,
                                                                                      monkeypatch, capsys):
    log_in(monkeypatch, tmp_path, "dsmb")
    assert main(["deck", "--arm", UNUSUAL_ARMS[0], "--out", str(tmp_path / "deck.pptx")]) == 0  # another DSMB export
    capsys.readouterr()
    assert main(["audit"]) == 0  # the DSMB reads it whole
    out = capsys.readouterr().out
    assert all(arm in out for arm in UNUSUAL_ARMS), out
    log_in(monkeypatch, tmp_path, "data_manager")
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert not any(arm.lower() in out.lower() for arm in UNUSUAL_ARMS) and dsmb_browsed not in out
    assert DSMB_VIEW in out and "cli deck" in out
    log_in(monkeypatch, tmp_path, "auditor")
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert all(arm in out for arm in UNUSUAL_ARMS) and dsmb_browsed in out
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [e["role"] for e in events if e["page"] == "cli audit" and e["name"] == "export"][-2:] == [
        "data_manager", "auditor"]


def test_the_auditors_trial_pages_are_pooled(app_env, unusual_arms_db, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["viewer"] = AUDITOR
    at.run()  # the overview
    assert not at.exception
    sent = sent_bytes(at)
    assert b"BLINDED: pooled data" in sent and not any(arm.encode() in sent for arm in UNUSUAL_ARMS)
