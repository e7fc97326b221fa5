"""Commands that read or change trial data leave an audit event: survival reports and decks (exports) under
the dashboard user who logged in, with the operating-system user beside it; imports (published or rejected)
under the operating-system user who ran them."""

import getpass
import json

from dashboard.cli import main
from tests.cli_login import log_in
from tests.conftest import UNUSUAL_ARMS
from tests.data.test_import_validation import GOOD, write_delivery


def _events(audit_trail) -> list[dict]:
    return [json.loads(line) for line in audit_trail.read_text().splitlines()] if audit_trail.exists() else []


def test_a_survival_report_from_the_database_is_an_audited_export(trial_db, audit_trail_of_the_test, capsys,
                                                                   monkeypatch, tmp_path):
    user = log_in(monkeypatch, tmp_path, "dsmb")
    assert main(["survival", "--db", str(trial_db), "--endpoint", "tfs", "--json"]) == 0
    (event,) = _events(audit_trail_of_the_test)
    assert (event["name"], event["actor"], event["role"], event["page"]) == ("export", user, "dsmb", "cli survival")
    assert event["properties"]["os_user"] == getpass.getuser() and event["unblinded"] is True
    assert event["properties"]["endpoint"] == "tfs" and event["properties"]["db"] == str(trial_db)


def test_a_survival_report_from_a_csv_reads_no_trial_data_and_is_not_audited(tmp_path, audit_trail_of_the_test,
                                                                              capsys):
    csv = tmp_path / "km.csv"
    csv.write_text("t,e,g\n5,1,a\n8,0,a\n3,1,b\n9,1,b\n")
    assert main(["survival", "--csv", str(csv), "--time", "t", "--event", "e", "--group", "g"]) == 0
    assert _events(audit_trail_of_the_test) == []


def test_a_blinded_deck_is_audited_with_its_blinding_and_filter(unusual_arms_db, tmp_path, audit_trail_of_the_test,
                                                                capsys, monkeypatch):
    user = log_in(monkeypatch, tmp_path, "investigator")
    out = tmp_path / "meeting.pptx"
    assert main(["deck", "--db", str(unusual_arms_db), "--sex", "F", "--out", str(out)]) == 0
    (event,) = _events(audit_trail_of_the_test)
    assert (event["name"], event["actor"], event["role"], event["page"]) == ("export", user, "investigator", "cli deck")
    assert event["unblinded"] is False
    assert event["properties"]["what"] == "meeting.pptx" and event["properties"]["filters"] == {"sex": "F"}
    assert event["properties"]["blinding"].startswith("BLINDED")
    assert not any(arm in json.dumps(event) for arm in UNUSUAL_ARMS)


def test_imports_are_audited_whether_published_or_rejected(tmp_path, audit_trail_of_the_test, capsys):
    db = tmp_path / "trial.duckdb"
    good = write_delivery(tmp_path / "good", GOOD)
    bad = write_delivery(tmp_path / "bad", {**GOOD, "subjects.csv": GOOD["subjects.csv"].replace("2024-03-10", "soon")})
    assert main(["import", "--format", "csv", str(good), "--cut-date", "2024-06-01", "--db", str(db)]) == 0
    assert main(["import", "--format", "csv", str(bad), "--cut-date", "2024-07-01", "--db", str(db)]) == 1
    published, rejected = _events(audit_trail_of_the_test)
    assert published["name"] == rejected["name"] == "import" and published["actor"] == getpass.getuser()
    assert published["properties"]["outcome"] == "published" and published["properties"]["cut_id"] == 1
    assert rejected["properties"]["outcome"] == "rejected" and rejected["properties"]["problems"] == 1
