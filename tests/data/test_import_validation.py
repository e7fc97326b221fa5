"""Bad deliveries are rejected with file, row and column named, and the current cut stays byte-identical;
good CSV-template deliveries become new cuts that keep the earlier ones."""

import argparse
import hashlib
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from dashboard.commands import import_cut as command
from dashboard.data.importers.cuts import kept_cut_path
from dashboard.data.importers.pipeline import ImportSettings, build_tables, import_cut
from dashboard.data.importers.problems import ImportValidationError
from tests.conftest import connect_unblinded

GOOD = {
    "subjects.csv": "usubjid,site_id,arm,day1_on,age,sex,death_on\n"
                    "P-001,S01,UC-MSC,2024-03-04,45,M,\n"
                    "P-002,S01,Placebo,2024-03-05,52,F,2024-04-01\n"
                    "P-003,S02,UC-MSC,2024-03-10,38,M,\n",
    "lab_results.csv": "usubjid,paramcd,unit,visit,visit_num,study_day,value,lower_limit,upper_limit\n"
                       "P-001,BILI,umol/L,Baseline,0,1,250.5,3.4,17.1\n"
                       "P-001,BILI,mg/dL,W1,1,8,10,0.2,1.0\n"
                       "P-002,ALB,g/dL,Baseline,0,1,3.1,3.5,5.5\n"
                       "P-003,INR,,Baseline,0,1,1.9,0.8,1.2\n",
    "adverse_events.csv": "usubjid,term,soc,grade,serious,onset_day,end_day,outcome\n"
                          "P-001,Pyrexia,General disorders,1,N,1,2,RECOVERED/RESOLVED\n"
                          "P-002,Hepatic failure,Hepatobiliary disorders,5,Y,20,29,FATAL\n",
}


def write_delivery(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def current(tmp_path):
    """A database holding one good cut; tests check it is byte-identical after a rejected import."""
    db = tmp_path / "db" / "trial.duckdb"
    import_cut(ImportSettings("csv", str(write_delivery(tmp_path / "good", GOOD)), date(2024, 6, 1), db=str(db)))
    return db


def rejected(tmp_path: Path, db: Path, files: dict, *, source: Path | None = None) -> ImportValidationError:
    before = sha256(db)
    source = source or write_delivery(tmp_path / "bad", {**GOOD, **files})
    with pytest.raises(ImportValidationError) as info:
        import_cut(ImportSettings("csv", str(source), date(2024, 7, 1), db=str(db)))
    assert sha256(db) == before
    assert not kept_cut_path(db, 2).exists()
    return info.value


def replace_line(table: str, line: int, text: str) -> dict:
    lines = GOOD[table].splitlines()
    lines[line] = text
    return {table: "\n".join(lines) + "\n"}


CASES = [
    pytest.param(replace_line("lab_results.csv", 0, "usubjid,paramcd,unit,visit,visit_num,study_day,lower_limit"),
                 "lab_results.csv", None, "value", id="missing required column"),
    pytest.param(replace_line("lab_results.csv", 2, "P-001,BILI,mg/dL,W1,1,8,ten,0.2,1.0"),
                 "lab_results.csv", 2, "value", id="text in numeric column"),
    pytest.param(replace_line("lab_results.csv", 2, "P-001,BILI,umol/L,Baseline,0,1,251,3.4,17.1"),
                 "lab_results.csv", 2, "study_day", id="duplicate key"),
    pytest.param(replace_line("subjects.csv", 2, "P-001,S01,Placebo,2024-03-05,52,F,"),
                 "subjects.csv", 2, "usubjid", id="duplicate subject"),
    pytest.param(replace_line("adverse_events.csv", 1, "P-999,Pyrexia,General disorders,1,N,1,2,RECOVERED/RESOLVED"),
                 "adverse_events.csv", 1, "usubjid", id="unknown subject"),
    pytest.param(replace_line("subjects.csv", 3, "P-003,S02,UC-MSC,2024-13-45,38,M,"),
                 "subjects.csv", 3, "day1_on", id="unparseable date"),
    pytest.param(replace_line("adverse_events.csv", 1, "P-001,Pyrexia,General disorders,1,N,5,2,RECOVERED/RESOLVED"),
                 "adverse_events.csv", 1, "end_day", id="end before start"),
    pytest.param(replace_line("lab_results.csv", 3, "P-002,ALB,mg/furlong,Baseline,0,1,3.1,3.5,5.5"),
                 "lab_results.csv", 3, "unit", id="unknown unit"),
    pytest.param(replace_line("subjects.csv", 1, "P-001,S01,UC-MSC,2024-03-04,45,X,"),
                 "subjects.csv", 1, "sex", id="uncontrolled sex"),
    pytest.param(replace_line("adverse_events.csv", 1, "P-001,Pyrexia,General disorders,1,maybe,1,2,RECOVERED/RESOLVED"),
                 "adverse_events.csv", 1, "serious", id="uncontrolled serious"),
    pytest.param({"lab_results.csv": GOOD["lab_results.csv"][:-25]}, "lab_results.csv", 4, "visit_num", id="truncated file"),
    pytest.param({"adverse_events.csv": GOOD["adverse_events.csv"].replace("Pyrexia", "Pyr\xe9xia").encode("latin-1")},
                 "adverse_events.csv", 1, "term", id="non-UTF-8 CSV"),
]


@pytest.mark.parametrize("files, file, row, column", CASES)
def test_bad_delivery_is_rejected_naming_file_row_column_and_cut_unchanged(tmp_path, current, files, file, row, column):
    error = rejected(tmp_path, current, files)
    matches = [p for p in error.problems if p.file.endswith(file) and p.row == row and p.column == column]
    assert matches, f"no problem at {file} row {row} column {column}; got: {[str(p) for p in error.problems]}"
    message = str(error)
    assert file in message and column in message and (row is None or f"row {row}" in message)


def test_empty_file_is_rejected_and_named(tmp_path, current):
    error = rejected(tmp_path, current, {"lab_results.csv": b""})
    assert any(p.file == "lab_results.csv" and "empty" in str(p.found) for p in error.problems)


def test_missing_subjects_file_is_rejected(tmp_path, current):
    source = write_delivery(tmp_path / "nosubjects", {"lab_results.csv": GOOD["lab_results.csv"]})
    error = rejected(tmp_path, current, {}, source=source)
    assert "subjects.csv" in str(error)


@pytest.mark.parametrize("member", ["../evil.csv", "/etc/evil.csv", "sub/../../evil.csv"])
def test_zip_with_member_escaping_its_folder_is_rejected(tmp_path, current, member):
    archive = tmp_path / "delivery.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, content in GOOD.items():
            z.writestr(name, content)
        z.writestr(member, "x\n")
    error = rejected(tmp_path, current, {}, source=archive)
    assert error.problems[0].file == "delivery.zip" and error.problems[0].found == member
    assert "no absolute path" in str(error)


def test_all_problems_are_collected_into_one_error(tmp_path, current):
    files = {**replace_line("lab_results.csv", 2, "P-001,BILI,mg/dL,W1,1,8,ten,0.2,1.0"),
             **replace_line("adverse_events.csv", 1, "P-999,Pyrexia,General disorders,1,N,1,2,RECOVERED/RESOLVED")}
    error = rejected(tmp_path, current, files)
    assert error.total >= 2 and {p.file for p in error.problems} >= {"lab_results.csv", "adverse_events.csv"}


def test_problem_list_is_capped_but_all_are_counted(tmp_path, current):
    rows = "".join(f"P-001,BILI,umol/L,V,,{d},bad,,\n" for d in range(100, 180))
    error = rejected(tmp_path, current, {"lab_results.csv": GOOD["lab_results.csv"] + rows})
    assert error.total == 80 and len(error.problems) == 50 and "first 50 listed" in str(error)


def test_command_prints_problems_and_exits_non_zero(tmp_path, current, capsys):
    source = write_delivery(tmp_path / "bad", {**GOOD, **replace_line("subjects.csv", 3, "P-003,S02,UC-MSC,soon,38,M,")})
    before = sha256(current)
    args = argparse.Namespace(format="csv", source=str(source), cut_date=date(2024, 7, 1), db=str(current), mapping=None,
                              reference_arm=None, active_arm=None, study_id=None, unblinded=False)
    assert command.run(args) == 1
    err = capsys.readouterr().err
    assert "subjects.csv, row 3, column day1_on" in err and "'soon'" in err
    assert sha256(current) == before


def test_good_csv_delivery_converts_units_and_derives_columns(tmp_path):
    tables = build_tables(ImportSettings("csv", str(write_delivery(tmp_path / "good", GOOD)), date(2024, 6, 1))).tables
    labs = tables["lab_results"].set_index(["usubjid", "paramcd", "study_day"])
    assert labs.loc[("P-001", "BILI", 8), "value"] == pytest.approx(171.0)  # 10 mg/dL x 17.1
    assert labs.loc[("P-001", "BILI", 8), "upper_limit"] == pytest.approx(17.1)
    assert labs.loc[("P-002", "ALB", 1), ["value", "unit"]].tolist() == [31.0, "g/L"]
    assert labs.loc[("P-003", "INR", 1), "unit"] == "ratio"
    subjects = tables["subjects"].set_index("usubjid")
    assert subjects.loc["P-002", "status"] == "died" and subjects.loc["P-002", "death_cause"] == "Hepatic failure"
    assert subjects.loc["P-001", "last_contact_on"].date() == date(2024, 3, 11)  # lab on day 8
    study = tables["study"].iloc[0]
    assert list(study["arms"]) == ["UC-MSC", "Placebo"] and study["control_arm"] == "Placebo" and study["blinded"]


def test_second_cut_keeps_the_first_cut_row_and_copy(tmp_path, current):
    first = sha256(current)
    source = shutil.copytree(tmp_path / "good", tmp_path / "good2")
    result = import_cut(ImportSettings("csv", str(source), date(2024, 7, 1), db=str(current)))
    assert result.cut["cut_id"] == 2
    with connect_unblinded(current) as con:
        assert con.execute("SELECT cut_id, cut_date FROM data_cuts ORDER BY cut_id").fetchall() == \
            [(1, date(2024, 6, 1)), (2, date(2024, 7, 1))]
    assert sha256(kept_cut_path(current, 1)) == first and sha256(kept_cut_path(current, 2)) == sha256(current)
    assert kept_cut_path(current, 1) == current.parent / "cuts" / "trial" / "cut-1.duckdb"


def test_cuts_of_two_databases_in_one_folder_do_not_overwrite_each_other(tmp_path, current):
    other = current.parent / "other.duckdb"
    import_cut(ImportSettings("csv", str(tmp_path / "good"), date(2024, 8, 1), db=str(other)))
    assert sha256(kept_cut_path(current, 1)) == sha256(current)
    assert sha256(kept_cut_path(other, 1)) == sha256(other) != sha256(current)


def test_mapping_file_maps_codes_and_units(tmp_path):
    mapping = tmp_path / "site.toml"
    mapping.write_text('[lab_codes]\nTBIL = "BILI"\n\n[[units]]\nfrom = "umol/litre"\nto = "umol/L"\n\n'
                       '[study]\ntitle = "Site trial"\n')
    files = {**GOOD, "lab_results.csv": "usubjid,paramcd,unit,study_day,value\nP-001,TBIL,umol/litre,1,40\n"}
    tables = build_tables(ImportSettings("csv", str(write_delivery(tmp_path / "m", files)), date(2024, 6, 1),
                                         mapping=str(mapping))).tables
    assert tables["lab_results"][["paramcd", "unit", "value", "param"]].values.tolist() == \
        [["BILI", "umol/L", 40.0, "Total bilirubin"]]
    assert tables["study"].loc[0, "title"] == "Site trial"


def test_mapping_file_with_unknown_section_is_refused(tmp_path):
    mapping = tmp_path / "bad.toml"
    mapping.write_text("[labcodes]\nTBIL = 'BILI'\n")
    with pytest.raises(ValueError, match="unknown section"):
        build_tables(ImportSettings("csv", str(write_delivery(tmp_path / "g", GOOD)), date(2024, 6, 1), mapping=str(mapping)))


def test_import_over_a_simulated_trial_keeps_the_simulated_cut(tmp_path):
    from dashboard.data.database import write_trial
    from dashboard.data.simulate import SimulationSettings, simulate_trial

    db = tmp_path / "trial.duckdb"
    write_trial(simulate_trial(SimulationSettings(patients=14)), db, source="simulate")
    simulated = sha256(db)
    result = import_cut(ImportSettings("csv", str(write_delivery(tmp_path / "good", GOOD)), date(2024, 6, 1), db=str(db)))
    assert result.cut["cut_id"] == 2 and sha256(kept_cut_path(db, 1)) == simulated
    with connect_unblinded(db) as con:
        assert [r[0] for r in con.execute("SELECT source FROM data_cuts ORDER BY cut_id").fetchall()][0] == "simulate"
