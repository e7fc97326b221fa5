"""Imported cuts carry the same derived grades as the simulated trial: the new labs map from SDTM LBTESTCD
(LACTICAC -> LACTATE, PROCALCT -> PCT, WBC, PLAT, HGB, CRP) with their units converted, MAP comes from VS,
bedside assessments through the mapping file's [lab_codes], and derive_parameters runs on the delivery."""

from datetime import date

import pandas as pd
import pytest

from dashboard.data.importers.pipeline import ImportSettings, build_tables
from dashboard.domain.labs import DERIVED_CODES
from tests.data.test_import_validation import GOOD, write_delivery

DM = ("STUDYID,USUBJID,SITEID,ARM,ARMCD,RFSTDTC,RFXSTDTC,AGE,SEX\n"
      "S1,P-001,01,UC-MSC,MSC,2024-03-04,2024-03-04,50,M\n")
# The worked ACLF assessment of tests/data/test_derived_parameters.py in US units: bilirubin 8 mg/dL, creatinine
# 2.5 mg/dL, albumin 3.0 g/dL, WBC 12 x 10^3/uL; HE grade and SpO2/FiO2 under sponsor codes.
LB = ("USUBJID,LBTESTCD,LBTEST,LBSTRESN,LBSTRESU,LBSTNRLO,LBSTNRHI,VISIT,VISITNUM,LBDTC,LBBLFL\n"
      "P-001,BILI,Bilirubin,8,mg/dL,0.2,1.0,BASELINE,0,2024-03-04,Y\n"
      "P-001,CREAT,Creatinine,2.5,mg/dL,0.5,1.5,BASELINE,0,2024-03-04,Y\n"
      "P-001,INR,INR,2.6,,0.8,1.2,BASELINE,0,2024-03-04,Y\n"
      "P-001,ALB,Albumin,3.0,g/dL,3.5,5.5,BASELINE,0,2024-03-04,Y\n"
      "P-001,SODIUM,Sodium,130,mEq/L,135,145,BASELINE,0,2024-03-04,Y\n"
      "P-001,WBC,Leukocytes,12,10^3/uL,3.5,9.5,BASELINE,0,2024-03-04,Y\n"
      "P-001,LACTICAC,Lactic Acid,18,mg/dL,4.5,19.8,BASELINE,0,2024-03-04,Y\n"
      "P-001,PROCALCT,Procalcitonin,0.8,ng/mL,0,0.5,BASELINE,0,2024-03-04,Y\n"
      "P-001,HGB,Hemoglobin,9.5,g/dL,13,17.5,BASELINE,0,2024-03-04,Y\n"
      "P-001,PLAT,Platelets,60,GI/L,125,350,BASELINE,0,2024-03-04,Y\n"
      "P-001,CRP,C Reactive Protein,3.5,mg/dL,0,1.0,BASELINE,0,2024-03-04,Y\n"
      "P-001,HEGRD,West Haven grade,2,,,,BASELINE,0,2024-03-04,Y\n"
      "P-001,SFRATIO,SpO2/FiO2,300,,,,BASELINE,0,2024-03-04,Y\n")
VS = ("USUBJID,VSTESTCD,VSTEST,VSSTRESN,VSSTRESU,VISIT,VISITNUM,VSDTC,VSBLFL\n"
      "P-001,MAP,Mean Arterial Pressure,72,mmHg,BASELINE,0,2024-03-04T08:00,\n"
      "P-001,MAP,Mean Arterial Pressure,65,mmHg,BASELINE,0,2024-03-04T14:00,\n"
      "P-001,TEMP,Temperature,36.8,C,BASELINE,0,2024-03-04T08:00,\n"
      "P-001,MAP,Mean Arterial Pressure,80,mmHg,SCREENING,-1,2024-03-01T08:00,Y\n")
FA = ("USUBJID,FATESTCD,FASTRESN,FASTRESC,VISIT,VISITNUM,FADTC\n"
      "P-001,ASCGRADE,1,MILD,BASELINE,0,2024-03-04\n"
      "P-001,ASCDEPTH,2,,BASELINE,0,2024-03-04\n"
      "P-001,ASCVOL,200,,BASELINE,0,2024-03-04\n")
MAPPING = '[lab_codes]\nHEGRD = "HEGRADE"\nSFRATIO = "SPO2FIO2"\n\n[ascites]\nfile = "fa"\n'


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sdtm")
    source = write_delivery(folder / "delivery", {"dm.csv": DM, "lb.csv": LB, "vs.csv": VS, "fa.csv": FA})
    (folder / "mapping.toml").write_text(MAPPING)
    result = build_tables(ImportSettings("sdtm", str(source), date(2024, 6, 1), mapping=str(folder / "mapping.toml")))
    return result.tables["lab_results"].set_index("paramcd")


@pytest.mark.parametrize("paramcd, value, unit", [
    ("LACTATE", 1.998, "mmol/L"),   # 18 mg/dL x 0.111
    ("PCT", 0.8, "ug/L"), ("HGB", 95.0, "g/L"), ("PLAT", 60.0, "10^9/L"), ("CRP", 35.0, "mg/L"),
    ("WBC", 12.0, "10^9/L"), ("HEGRADE", 2.0, "grade"), ("SPO2FIO2", 300.0, "ratio"),
])
def test_new_labs_map_from_sdtm_with_registry_codes_and_units(labs, paramcd, value, unit):
    row = labs.loc[paramcd]
    assert row["value"] == pytest.approx(value) and row["unit"] == unit and row["visit_num"] == 0


def test_vs_map_becomes_the_lab_map_lowest_of_each_visit_and_day_with_vsblfl_the_baseline_visit(labs):
    rows = labs.loc[["MAP"]].sort_values("study_day")
    assert rows[["visit", "visit_num", "study_day", "value"]].values.tolist() == [
        ["Baseline", 0, -2, 80.0],   # VSBLFL = Y: visit 0, as LBBLFL for the labs (3 days before day 1)
        ["BASELINE", 0, 1, 65.0],    # 72 and 65 on day 1: the lower
    ]


@pytest.mark.parametrize("paramcd, expected", [
    ("MELD", 34), ("MELDNA", 35), ("MELD3", 37), ("CPSCORE", 12), ("CPCLASS", 3), ("CLIFOF", 13), ("NOF", 2),
    ("ACLFGR", 2), ("CLIFCACLF", 58.5549118937), ("AARC", 11), ("AARCGR", 3), ("AKISTAGE", 0),
])
def test_imported_assessment_gets_the_derived_grades(labs, paramcd, expected):
    # The values worked by hand in tests/data/test_derived_parameters.py (lactate 1.998 is still 1.5-2.5 mmol/L).
    assert labs.loc[paramcd, "value"] == pytest.approx(expected, abs=1e-9)


def test_imported_labs_carry_ctcae_grades(labs):
    # Anaemia: 95 g/L < 100 (grade 2); platelets 60 < 75 (2); albumin 30 g/L < LLN 35, >= 30 (1);
    # hyponatraemia 130 (1); INR 2.6 > 2.5 (3); creatinine 221 > 1.5 x ULN 132.6 (2); WBC 12 no low grade (0).
    expected = {("HGB", "toxgr_low"): 2, ("PLAT", "toxgr_low"): 2, ("ALB", "toxgr_low"): 1, ("SODIUM", "toxgr_low"): 1,
                ("INR", "toxgr_high"): 3, ("CREAT", "toxgr_high"): 2, ("WBC", "toxgr_low"): 0}
    assert {k: labs.loc[k[0], k[1]] for k in expected} == expected
    assert labs.loc[list(DERIVED_CODES), ["toxgr_low", "toxgr_high"]].isna().all(axis=None)


def test_a_delivered_meld_is_replaced_by_the_derivation_with_a_warning(tmp_path):
    rows = GOOD["lab_results.csv"] + "P-003,MELD,points,Baseline,0,1,99,,\n"
    source = write_delivery(tmp_path / "csv", {**GOOD, "lab_results.csv": rows})
    result = build_tables(ImportSettings("csv", str(source), date(2024, 6, 1)))
    assert "MELD" not in set(result.tables["lab_results"]["paramcd"])  # P-003 has INR only: no MELD inputs
    assert any("1 delivered record(s) of derived parameters (MELD) replaced" in w for w in result.warnings)


def test_a_csv_export_of_the_simulated_trial_imports_with_its_grades_derived_again(trial_db, tmp_path):
    """The delivery the bench times: every table of the demo as CSV, derived rows with their units (class, organs,
    stage, grade, points) included; they are derived again on import and come out as they went in."""
    from dashboard.data.importers.csv_template import FILES
    from tests.conftest import connect_unblinded

    export = tmp_path / "export"
    export.mkdir()
    with connect_unblinded(trial_db) as con:
        cut = con.execute("SELECT data_cut_date FROM study").fetchone()[0]
        for table in FILES:
            con.execute(f"COPY {table} TO '{export / (table + '.csv')}' (HEADER)")
        derived = con.execute("SELECT usubjid, paramcd, study_day, value FROM lab_results "
                              "WHERE paramcd IN (SELECT unnest(?)) ORDER BY ALL", [list(DERIVED_CODES)]).df()
    result = build_tables(ImportSettings("csv", str(export), cut))
    labs = result.tables["lab_results"]
    again = (labs[labs["paramcd"].isin(DERIVED_CODES)][["usubjid", "paramcd", "study_day", "value"]]
             .sort_values(["usubjid", "paramcd", "study_day", "value"]).reset_index(drop=True))
    assert {"CPCLASS", "NOF", "AKISTAGE", "ACLFGR"} <= set(derived["paramcd"])
    pd.testing.assert_frame_equal(again, derived, check_dtype=False)
    assert any("replaced by the dashboard's own derivation" in w for w in result.warnings)
