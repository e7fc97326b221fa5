"""Importing the real CDISC pilot (domain.md §8.3) as SDTM and as ADaM: subjects, arms, labs, AEs, ADTTE."""

from datetime import date

import pyreadstat
import pytest

from dashboard.commands import import_cut as command
from dashboard.domain.labs import DERIVED_CODES
from tests.conftest import PILOT, connect_unblinded, needs_pilot

ARMS = {"Placebo": 86, "Xanomeline High Dose": 84, "Xanomeline Low Dose": 84}
pytestmark = needs_pilot


@pytest.fixture(scope="module")
def sdtm(pilot_sdtm):
    db, result = pilot_sdtm
    with connect_unblinded(db) as con:
        yield con, result


@pytest.fixture(scope="module")
def adam(pilot_adam):
    db, result = pilot_adam
    with connect_unblinded(db) as con:
        yield con, result


@pytest.fixture(params=["sdtm", "adam"])
def pilot(request):
    return request.getfixturevalue(request.param)


def test_pilot_has_254_randomised_subjects_in_three_arms(pilot):
    con, _ = pilot
    assert dict(con.execute("SELECT arm, count(*) FROM subjects GROUP BY arm").fetchall()) == ARMS


def test_study_row_names_arms_reference_placebo_blinded_not_simulated(pilot):
    con, _ = pilot
    row = con.execute("SELECT study_id, arms, control_arm, active_arm, blinded, simulated, source FROM study").fetchone()
    study_id, arms, control, active, blinded, simulated, source = row
    assert study_id == "CDISCPILOT01" and sorted(arms) == sorted(ARMS) and arms[-1] == "Placebo"
    assert control == "Placebo" and active in ARMS and active != "Placebo"
    assert blinded is True and simulated is False and source == str(PILOT.resolve())


def test_liver_labs_are_present_in_registry_si_units(pilot):
    con, _ = pilot
    units = dict(con.execute("SELECT paramcd, any_value(unit) FROM lab_results GROUP BY paramcd").fetchall())
    assert {units[c] for c in ("ALB", "PROT")} == {"g/L"}
    assert units["BILI"] == units["CREAT"] == "umol/L" and units["ALT"] == units["AST"] == "U/L"
    assert units["SODIUM"] == "mmol/L"
    assert not any(code.startswith("_") for code in units)  # ADaM helper parameters skipped
    # Albumin in the pilot is about 33-49 g/L (would be 3.3-4.9 if left in g/dL)
    assert 30 < con.execute("SELECT median(value) FROM lab_results WHERE paramcd = 'ALB'").fetchone()[0] < 50


def test_lab_dates_and_study_days_agree_with_day1(pilot):
    con, _ = pilot
    off = con.execute("SELECT count(*) FROM lab_results l JOIN subjects s USING (usubjid) "
                      "WHERE l.collected_on <> s.day1_on + l.study_day - 1").fetchone()[0]
    assert off == 0
    assert con.execute("SELECT count(*) FROM lab_results WHERE visit LIKE ' %'").fetchone()[0] == 0


def test_adverse_events_are_present_with_grades_and_outcomes(pilot):
    con, _ = pilot
    n, grades, fatal = con.execute("SELECT count(*), list(DISTINCT grade ORDER BY grade), "
                                   "count(*) FILTER (outcome = 'FATAL') FROM adverse_events").fetchone()
    assert n > 1100 and set(grades) <= {1, 2, 3, 5} and fatal == 3


def test_deaths_are_subjects_who_died(pilot):
    con, _ = pilot
    assert con.execute("SELECT count(*) FROM subjects WHERE status = 'died' AND death_on IS NOT NULL").fetchone()[0] == 3


def test_sdtm_import_keeps_exposure_and_vital_signs(sdtm):
    con, _ = sdtm
    assert con.execute("SELECT count(*) FROM infusions").fetchone()[0] == 591
    assert con.execute("SELECT count(*) FROM vital_signs WHERE paramcd = 'TEMP' AND unit = 'C'").fetchone()[0] > 2000
    # screen failures (DM ARM 'Screen Failure') are not subjects
    assert con.execute("SELECT count(*) FROM subjects WHERE arm ILIKE '%screen%'").fetchone()[0] == 0


def test_adam_adtte_ttde_has_152_events_and_102_censored(adam):
    con, _ = adam
    rows = con.execute("SELECT paramcd, sum(event), sum(1 - event), count(*) FROM time_to_event GROUP BY 1").fetchall()
    assert rows == [("TTDE", 152, 102, 254)]
    reasons = con.execute("SELECT DISTINCT censor_reason FROM time_to_event WHERE event = 0").fetchall()
    assert reasons == [("Study Completion Date",)]


def test_each_import_records_one_cut_and_keeps_a_copy(pilot):
    con, result = pilot
    assert con.execute("SELECT cut_id, cut_date FROM data_cuts").fetchall() == [(1, date(2014, 7, 1))]
    assert result.kept.name == "cut-1.duckdb" and result.kept.exists()


def test_import_command_is_a_command_module():
    assert command.NAME == "import" and callable(command.configure) and callable(command.run)


def test_sdtm_baseline_flags_become_the_baseline_visit(sdtm):
    con, _ = sdtm
    lb, _ = pyreadstat.read_xport(str(PILOT / "lb.xpt"), usecols=["USUBJID", "LBTESTCD", "LBSTRESN", "LBBLFL"])
    flagged = lb[(lb["LBBLFL"] == "Y") & lb["LBSTRESN"].notna()]
    rows = con.execute("SELECT visit, count(*) FILTER (paramcd NOT IN (SELECT unnest($derived))), max(study_day) "
                       "FROM lab_results WHERE visit_num = 0 GROUP BY visit", {"derived": list(DERIVED_CODES)}).fetchall()
    assert len(rows) == 1 and rows[0][0] == "Baseline" and rows[0][2] <= 1  # on or before day 1 (DESIGN §3)
    assert rows[0][1] == len(flagged)
    # Change from baseline exists for every patient with a flagged ALT.
    with_base = con.execute("SELECT count(DISTINCT usubjid) FROM lab_results WHERE paramcd = 'ALT' AND visit_num = 0")
    assert with_base.fetchone()[0] == flagged.loc[flagged["LBTESTCD"] == "ALT", "USUBJID"].nunique()


def test_imported_pilot_cut_stores_ctcae_grades_and_derived_aki_stages(pilot):
    con, _ = pilot
    graded = dict(con.execute("SELECT paramcd, count(toxgr_high) FROM lab_results WHERE paramcd IN ('ALT', 'CREAT') "
                              "GROUP BY paramcd").fetchall())
    assert graded["ALT"] > 0 and graded["CREAT"] > 0
    # The pilot has creatinine at every visit but no INR or HE grade: AKI stage is derived, MELD and ACLF are not.
    derived = {r[0] for r in con.execute("SELECT DISTINCT paramcd FROM lab_results "
                                         "WHERE paramcd IN ('AKISTAGE', 'MELD', 'ACLFGR')").fetchall()}
    assert derived == {"AKISTAGE"}
    assert con.execute("SELECT count(*) FROM lab_results WHERE paramcd = 'AKISTAGE' AND toxgr_high IS NOT NULL"
                       ).fetchone()[0] == 0
