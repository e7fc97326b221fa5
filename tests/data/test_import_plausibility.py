"""Values no patient can have (negative bilirubin, INR 0, infinity), NUL bytes in subject ids and deaths
dated before randomisation or day 1 are rejected naming file, row and column, in CSV, SDTM and ADaM
deliveries alike, and the current cut stays byte-identical."""

from datetime import date

import pytest

from dashboard.data.importers.pipeline import ImportSettings, build_tables, import_cut
from dashboard.data.importers.problems import ImportValidationError
from dashboard.domain.labs import LAB_PARAMETERS, MEASURED_CODES, plausible
from tests.data.test_import_validation import GOOD, rejected, replace_line, write_delivery


@pytest.fixture()
def published(tmp_path):
    """A database holding one good cut, to be byte-identical after each rejected import."""
    db = tmp_path / "db" / "trial.duckdb"
    import_cut(ImportSettings("csv", str(write_delivery(tmp_path / "good", GOOD)), date(2024, 6, 1), db=str(db)))
    return db


CSV_CASES = [
    pytest.param(replace_line("lab_results.csv", 1, "P-001,BILI,umol/L,Baseline,0,1,-250.5,3.4,17.1"),
                 "lab_results.csv", 1, "value", -250.5, id="negative bilirubin"),
    pytest.param(replace_line("lab_results.csv", 4, "P-003,INR,,Baseline,0,1,-1.9,0.8,1.2"),
                 "lab_results.csv", 4, "value", -1.9, id="negative INR"),
    pytest.param(replace_line("lab_results.csv", 4, "P-003,INR,,Baseline,0,1,0,0.8,1.2"),
                 "lab_results.csv", 4, "value", 0.0, id="INR zero"),
    pytest.param(replace_line("lab_results.csv", 2, "P-001,BILI,mg/dL,W1,1,8,100,0.2,1.0"),
                 "lab_results.csv", 2, "value", 1710.0, id="bilirubin above the cap after conversion"),
    pytest.param(replace_line("lab_results.csv", 3, "P-002,ALB,g/dL,Baseline,0,1,31,3.5,5.5"),
                 "lab_results.csv", 3, "value", 310.0, id="albumin in g/L labelled g/dL"),
    pytest.param(replace_line("lab_results.csv", 1, "P-001,BILI,umol/L,Baseline,0,1,inf,3.4,17.1"),
                 "lab_results.csv", 1, "value", "inf", id="infinity"),
    pytest.param(replace_line("lab_results.csv", 1, "P-001,BILI,umol/L,Baseline,0,1,-Infinity,3.4,17.1"),
                 "lab_results.csv", 1, "value", "-Infinity", id="minus infinity"),
    pytest.param(replace_line("lab_results.csv", 1, "P-001,BILI,umol/L,Baseline,0,1,250.5,3.4,inf"),
                 "lab_results.csv", 1, "upper_limit", "inf", id="infinite reference limit"),
    pytest.param(replace_line("subjects.csv", 1, "P-001\x00,S01,UC-MSC,2024-03-04,45,M,"),
                 "subjects.csv", 1, "usubjid", "P-001\x00", id="NUL byte in subject id"),
    pytest.param(replace_line("subjects.csv", 2, "P-002,S01,Placebo,2024-03-05,52,F,2024-03-01"),
                 "subjects.csv", 2, "death_on", date(2024, 3, 1), id="death before day 1"),
    pytest.param({"subjects.csv": "usubjid,site_id,arm,randomized_on,day1_on,age,sex,death_on\n"
                                  "P-001,S01,UC-MSC,2024-03-01,2024-03-04,45,M,\n"
                                  "P-002,S01,Placebo,2024-03-01,2024-03-05,52,F,2024-02-27\n"
                                  "P-003,S02,UC-MSC,2024-03-01,2024-03-10,38,M,\n"},
                 "subjects.csv", 2, "death_on", date(2024, 2, 27), id="death before randomisation"),
]


@pytest.mark.parametrize("files, file, row, column, found", CSV_CASES)
def test_implausible_csv_value_is_rejected_naming_file_row_column(tmp_path, published, files, file, row, column, found):
    error = rejected(tmp_path, published, files)  # also asserts the database is byte-identical
    matches = [p for p in error.problems if p.file == file and p.row == row and p.column == column]
    assert matches, f"no problem at {file} row {row} column {column}; got: {[str(p) for p in error.problems]}"
    assert matches[0].found == found or matches[0].found == pytest.approx(found)
    assert f"{file}, row {row}, column {column}" in str(error)


def test_lab_problem_says_what_range_was_expected(tmp_path, published):
    error = rejected(tmp_path, published, replace_line("lab_results.csv", 1, "P-001,BILI,umol/L,Baseline,0,1,-250.5,3.4,17.1"))
    limits = plausible("BILI")
    assert f"{limits.low:g}" in error.problems[0].expected and f"{limits.high:g}" in error.problems[0].expected
    assert "umol/L" in error.problems[0].expected and "Total bilirubin" in error.problems[0].expected


def test_death_problem_names_the_date_it_must_not_precede(tmp_path, published):
    error = rejected(tmp_path, published, replace_line("subjects.csv", 2, "P-002,S01,Placebo,2024-03-05,52,F,2024-03-01"))
    assert "2024-03-05" in error.problems[0].expected and "day1_on" in error.problems[0].expected


def test_every_measured_registry_lab_has_a_plausible_range_around_its_reference_range():
    for p in LAB_PARAMETERS:
        if p.paramcd not in MEASURED_CODES:
            continue
        limits = plausible(p.paramcd)
        assert limits is not None, p.paramcd
        assert limits.contains(p.lower_limit) and limits.contains(p.upper_limit), p.paramcd


def test_good_delivery_with_extreme_but_possible_values_is_accepted(tmp_path):
    files = {**GOOD, **replace_line("lab_results.csv", 2, "P-001,BILI,mg/dL,W1,1,8,45,0.2,1.0"),  # 770 umol/L
             **replace_line("subjects.csv", 2, "P-002,S01,Placebo,2024-03-05,52,F,2024-03-05")}  # died on day 1
    tables = build_tables(ImportSettings("csv", str(write_delivery(tmp_path / "extreme", files)), date(2024, 6, 1))).tables
    assert tables["lab_results"]["value"].max() == pytest.approx(769.5)


SDTM = {
    "dm.csv": "STUDYID,USUBJID,SITEID,ARM,ARMCD,RFSTDTC,RFXSTDTC,DTHDTC,SEX,AGE\n"
              "S1,S1-001,01,Active,A,2024-03-01,2024-03-04,,M,45\n"
              "S1,S1-002,01,Placebo,P,2024-03-01,2024-03-05,2024-02-20,F,52\n",
    "lb.csv": "STUDYID,USUBJID,LBTESTCD,LBTEST,LBSTRESN,LBSTRESU,LBSTNRLO,LBSTNRHI,VISIT,VISITNUM,LBDY\n"
              "S1,S1-001,BILI,Bilirubin,-250.5,umol/L,3.4,17.1,Baseline,0,1\n"
              "S1,S1-002,INR,INR,1.1,,0.8,1.2,Baseline,0,1\n",
}
ADAM = {
    "adsl.csv": "STUDYID,USUBJID,SITEID,TRT01P,TRTSDT,RANDDT,DTHDT,SEX,AGE\n"
                "S1,S1-001,01,Active,2024-03-04,2024-03-01,,M,45\n"
                "S1,S1-002,01,Placebo,2024-03-05,2024-03-01,2024-02-20,F,52\n",
    "adlb.csv": "STUDYID,USUBJID,PARAMCD,PARAM,AVAL,AVALU,A1LO,A1HI,AVISIT,AVISITN,ADY\n"
                "S1,S1-001,BILI,Bilirubin (umol/L),17,umol/L,3.4,17.1,Baseline,0,1\n"
                "S1,S1-002,INR,INR,-1.9,,0.8,1.2,Baseline,0,1\n",
}


@pytest.mark.parametrize("fmt, files, expected", [
    pytest.param("sdtm", SDTM, {("lb.csv", 1, "LBSTRESN"), ("dm.csv", 2, "DTHDTC")}, id="SDTM"),
    pytest.param("adam", ADAM, {("adlb.csv", 2, "AVAL"), ("adsl.csv", 2, "DTHDT")}, id="ADaM"),
])
def test_cdisc_deliveries_are_checked_the_same_way(tmp_path, fmt, files, expected):
    with pytest.raises(ImportValidationError) as info:
        build_tables(ImportSettings(fmt, str(write_delivery(tmp_path / fmt, files)), date(2024, 6, 1)))
    found = {(p.file, p.row, p.column) for p in info.value.problems}
    assert expected <= found, [str(p) for p in info.value.problems]
