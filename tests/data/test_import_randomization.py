"""The randomisation delivered as its own file (issue 16): its arms replace the delivery's (which may be
masked), are stored only in the randomisation file, and a file that does not match the delivery is refused
with file, row and column named and no arm value repeated."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from dashboard.data.database import randomization_path
from dashboard.data.importers.pipeline import ImportSettings, import_cut
from dashboard.data.importers.problems import ImportValidationError
from tests.data.test_import_validation import GOOD, write_delivery

MASKED = {**GOOD, "subjects.csv": GOOD["subjects.csv"].replace("UC-MSC", "MASKED").replace("Placebo", "MASKED")}
RANDOMIZATION = "usubjid,arm\nP-001,Zorblax-7Q\nP-002,Quuxomab-Ctl\nP-003,Zorblax-7Q\n"


def _import(tmp_path, randomization: str, **settings):
    source = write_delivery(tmp_path / "masked", MASKED)
    (tmp_path / "randomization.csv").write_text(randomization)
    db = tmp_path / "db" / "trial.duckdb"
    import_cut(ImportSettings("csv", str(source), date(2024, 6, 1), db=str(db),
                              randomization=str(tmp_path / "randomization.csv"), **settings))
    return db


def test_the_file_gives_the_arms_and_they_are_stored_apart(tmp_path):
    db = _import(tmp_path, RANDOMIZATION, reference_arm="Quuxomab-Ctl")
    with duckdb.connect(str(randomization_path(db)), read_only=True) as con:
        assert dict(con.execute("SELECT usubjid, arm FROM randomization ORDER BY usubjid").fetchall()) == {
            "P-001": "Zorblax-7Q", "P-002": "Quuxomab-Ctl", "P-003": "Zorblax-7Q"}
        assert con.execute("SELECT active_arm, control_arm FROM arms").fetchone() == ("Zorblax-7Q", "Quuxomab-Ctl")
    assert b"Zorblax" not in db.read_bytes() and b"MASKED" not in db.read_bytes()


@pytest.mark.parametrize("content, row, column", [
    ("usubjid,arm\nP-001,Zorblax-7Q\nP-002,Quuxomab-Ctl\n", None, "usubjid"),              # P-003 missing
    ("usubjid,arm\nP-001,Zorblax-7Q\nP-002,\nP-003,Zorblax-7Q\n", 3, "arm"),               # no arm
    (RANDOMIZATION + "P-003,Quuxomab-Ctl\n", 5, "usubjid"),                                # twice
    (RANDOMIZATION + "P-999,Zorblax-7Q\n", 5, "usubjid"),                                  # not delivered
    ("usubjid,treatment\nP-001,Zorblax-7Q\n", None, "arm"),                                # no arm column
])
def test_a_mismatched_file_is_refused_naming_file_row_and_column(tmp_path, content, row, column):
    with pytest.raises(ImportValidationError) as info:
        _import(tmp_path, content, reference_arm="Quuxomab-Ctl")
    problems = [p for p in info.value.problems if p.file == str(tmp_path / "randomization.csv")]
    assert any(p.row == row and p.column == column for p in problems), [str(p) for p in problems]
    assert "Zorblax" not in str(info.value) and "Quuxomab" not in str(info.value)
    assert not (tmp_path / "db" / "trial.duckdb").exists()
