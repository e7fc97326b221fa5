"""analyses.report on a six-patient trial built by hand (every expected number counted by hand in the comments
below, not by re-running the code), and on the simulated unusual-arms trial for blinding: a blinded viewer gets
every table pooled ("All patients") with no arm name, in its numbers or its display; the DSMB gets arms then
Total."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.analyses import report
from dashboard.data import database
from dashboard.data.database import connect_readonly, write_trial
from dashboard.data.schema import TABLES
from dashboard.domain import POOLED_LABEL
from dashboard.domain.baseline import baseline_display
from dashboard.domain.consort import consort_display, enrolment_display
from dashboard.domain.deviations import completeness_display, deviation_display
from dashboard.domain.disclosure import suppress_small_cells
from dashboard.domain.exposure import compliance_display, dose_display
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import UNUSUAL_ARMS

DSMB, INVESTIGATOR = Viewer("d", "dsmb", "DSMB"), Viewer("i", "investigator", "Investigator")
ALL = SubjectFilter()
CUT = date(2025, 3, 31)
ARMS = ("Act", "Ctl")
FUNCTIONS = ("consort", "enrolment", "exposure", "dose", "deviations", "baseline", "completeness")
DISPLAYS = {"consort": consort_display, "enrolment": enrolment_display, "exposure": compliance_display,
            "dose": dose_display, "deviations": deviation_display, "baseline": baseline_display,
            "completeness": completeness_display}


def _columns(table: str) -> list[str]:
    return [part.split()[0] for part in re.sub(r"\s+", " ", TABLES[table]).split(",") if part.strip()]


def _frame(table: str, rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=_columns(table))


def _day(start: date, study_day: int) -> date:
    return start + timedelta(days=study_day - 1)


# Six patients; day 1 = randomisation date. Visits: Baseline (-2..1), W4 (26..32), W8 (54..60).
P = {  # usubjid: (arm, site, randomised, age, sex, weight, status, exit date, last contact, meld, ascites grade)
    "P1": ("Act", "S1", date(2025, 1, 1), 40, "M", 60.0, "on study", None, date(2025, 3, 3), 20.0, 0),
    "P2": ("Act", "S1", date(2025, 1, 10), 75, "F", 50.0, "died", date(2025, 2, 3), date(2025, 2, 3), 30.0, 1),
    "P3": ("Act", "S2", date(2025, 1, 5), 50, "M", 70.0, "on study", None, date(2025, 3, 20), 25.0, 2),
    "P4": ("Ctl", "S1", date(2025, 1, 1), 60, "M", 80.0, "withdrawn", date(2025, 1, 20), date(2025, 1, 20), 22.0, 0),
    "P5": ("Ctl", "S2", date(2025, 3, 10), 30, "F", 55.0, "on study", None, date(2025, 3, 10), 35.0, 1),
    "P6": ("Ctl", "S2", date(2025, 2, 1), 45, "M", 65.0, "on study", None, date(2025, 3, 5), None, None),
}
# (usubjid, infusion_num, study day, dose in 10^6 cells): P1's third is 5 days late (2 beyond +-3) and 0.4/kg;
# P6's second 4 days late (1 beyond). P2 died on day 25, P4 withdrew on day 20; P3 missed infusion 3.
INFUSIONS = [("P1", 1, 1, 30.0), ("P1", 2, 29, 30.0), ("P1", 3, 62, 24.0), ("P2", 1, 1, 25.0), ("P3", 1, 1, 35.0),
             ("P3", 2, 29, 35.0), ("P4", 1, 1, 0.0), ("P5", 1, 1, 0.0), ("P6", 1, 1, 0.0), ("P6", 2, 33, 0.0)]
# Baseline labs (visit 0); P4 has no bilirubin and no INR; P5's bilirubin was taken twice (the last, day 1, counts).
LABS = {"P1": {"BILI": 200, "PTA": 30, "INR": 2.0}, "P2": {"BILI": 150, "PTA": 50, "INR": 1.2},
        "P3": {"BILI": 300, "PTA": 45, "INR": 1.6}, "P4": {"PTA": 35},
        "P5": {"BILI": 400, "PTA": 20, "INR": 3.0}, "P6": {"BILI": 250, "PTA": 38, "INR": 1.4}}
# Ascites assessments (visit_num, study day): P1's W8 on day 62 and P6's W4 on day 33 are outside their windows;
# P3's W8 is missing (due: window closed day 60 = 2025-03-05, before the cut and P3's last contact).
ASCITES = {"P1": [(0, 1), (3, 29), (4, 62)], "P2": [(0, 1)], "P3": [(0, 1), (3, 29)], "P4": [(0, 1)],
           "P5": [(0, 1)], "P6": [(0, 1), (3, 33)]}
VISITS = [("Baseline", 0, 1, -2, 1), ("W4", 3, 29, 26, 32), ("W8", 4, 57, 54, 60)]


def _tables() -> dict[str, pd.DataFrame]:
    subjects, labs, infusions, ascites = [], [], [], []
    for u, (arm, site, rand, age, sex, weight, status, exit_on, contact, meld, grade) in P.items():
        subjects.append({"usubjid": u, "site_id": site, "arm": arm, "randomized_on": rand, "day1_on": rand, "age": age,
                         "sex": sex, "weight_kg": weight, "etiology": "HBV" if u != "P2" else "HEV", "lf_type": "ACLF",
                         "status": status, "death_on": exit_on if status == "died" else None, "death_cause": None,
                         "transplant_on": None, "withdrawn_on": exit_on if status == "withdrawn" else None,
                         "last_contact_on": contact, "baseline_meld": meld, "baseline_ascites_grade": grade})
        for code, value in LABS[u].items():
            labs.append({"usubjid": u, "paramcd": code, "param": code, "unit": "u", "visit": "Baseline", "visit_num": 0,
                         "study_day": 1, "collected_on": rand, "value": float(value)})
        for visit_num, day in ASCITES[u]:
            ascites.append({"usubjid": u, "visit": {0: "Baseline", 3: "W4", 4: "W8"}[visit_num], "visit_num": visit_num,
                            "study_day": day, "grade": 0, "depth_cm": 0.0, "volume_ml": 0.0})
    labs.append({"usubjid": "P5", "paramcd": "BILI", "param": "BILI", "unit": "u", "visit": "Baseline", "visit_num": 0,
                 "study_day": -1, "collected_on": date(2025, 3, 8), "value": 380.0})
    for u, k, day, dose in INFUSIONS:
        infusions.append({"usubjid": u, "infusion_num": k, "given_on": _day(P[u][2], day), "study_day": day,
                          "product": "x", "dose_cells_1e6": dose, "volume_ml": 50.0})
    study = {"study_id": "T", "title": "hand-built", "planned_n": 6, "data_cut_date": CUT, "blinded": True,
             "arms": list(ARMS), "active_arm": "Act", "control_arm": "Ctl", "source": "test", "simulated": True,
             "enrolment_start": date(2025, 1, 1), "enrolment_months": 3.0, "follow_up_days": 673}
    return {"study": _frame("study", [study]), "subjects": _frame("subjects", subjects),
            "visits": _frame("visits", [dict(zip(_columns("visits"), v)) for v in VISITS]),
            "lab_results": _frame("lab_results", labs), "infusions": _frame("infusions", infusions),
            "vital_signs": _frame("vital_signs", []), "adverse_events": _frame("adverse_events", []),
            "ascites": _frame("ascites", ascites), "time_to_event": _frame("time_to_event", []),
            "charter": _frame("charter", [])}


def _connect(db, unblinded: bool):
    """A connection as the app opens one: the randomisation attached for an unblinded viewer where the trial
    keeps it apart (issue 16), the file alone otherwise."""
    path = getattr(database, "randomization_path", None)
    if unblinded and path is not None and path(db).exists():
        return connect_readonly(db, path(db))
    return connect_readonly(db)


def _views(db):
    cons = {True: _connect(db, True), False: _connect(db, False)}
    return {"dsmb": TrialView(cons[True], DSMB, db), "investigator": TrialView(cons[False], INVESTIGATOR, db)}, cons


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    db = tmp_path_factory.mktemp("hand") / "trial.duckdb"
    write_trial(_tables(), db, source="hand-built")
    views, cons = _views(db)
    yield views
    for con in cons.values():
        con.close()


@pytest.fixture(scope="module")
def unusual(unusual_arms_db):
    views, cons = _views(unusual_arms_db)
    yield views
    for con in cons.values():
        con.close()


def _cell(df: pd.DataFrame, column: str, **keys):
    rows = df
    for k, v in keys.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, (keys, rows)
    return rows.iloc[0][column]


# --- the hand-built trial --------------------------------------------------------------------------------------


def test_consort_by_hand(hand):
    flow = report.consort(hand["dsmb"], ALL)
    # Act: P1 P2 P3, infusion 2 to P1 P3, infusion 3 to P1, P2 died. Ctl: P4 P5 P6, infusion 2 to P6, P4 withdrew.
    expected = {"Act": [3, 3, 2, 1, 1, 0, 2], "Ctl": [3, 3, 1, 0, 0, 1, 2], "Total": [6, 6, 3, 1, 1, 1, 4]}
    stages = ["randomised", "infusion_1", "infusion_2", "infusion_3", "died", "withdrawn", "on_study"]
    for group, ns in expected.items():
        assert [_cell(flow, "n", group=group, stage=s) for s in stages] == ns, group
    assert _cell(flow, "pct", group="Act", stage="infusion_2") == pytest.approx(200 / 3)
    pooled = report.consort(hand["investigator"], ALL)
    assert set(pooled["group"]) == {POOLED_LABEL}
    assert [_cell(pooled, "n", group=POOLED_LABEL, stage=s) for s in stages] == expected["Total"]


def test_enrolment_by_hand(hand):
    out = report.enrolment(hand["investigator"], ALL)
    # Randomised: S1 P1 P4 (January), P2 (January); S2 P3 (January), P6 (February), P5 (March).
    assert out[out["site_id"] == "S1"]["n"].tolist() == [3, 0, 0]
    assert out[out["site_id"] == "S2"]["n"].tolist() == [1, 1, 1]
    total = out[out["site_id"] == "All sites"]
    assert total["cumulative"].tolist() == [4, 5, 6]
    # Plan: 6 over round(3 x 30.4375) = 91 days from 2025-01-01; month ends are days 30, 58, 89 after the start.
    assert total["planned_cumulative"].tolist() == pytest.approx([6 * 30 / 91, 6 * 58 / 91, 6 * 89 / 91])
    assert out.equals(report.enrolment(hand["dsmb"], ALL))


def test_exposure_by_hand(hand):
    out = report.exposure(hand["dsmb"], ALL)
    # Infusion 2 (day 29): Act P1 P3 on time, P2 died before it; Ctl P6 on day 33 (1 day late beyond the window),
    # P4 withdrew before it, P5's window (to 2025-04-10) still open at the cut.
    assert _cell(out, "received", group="Act", infusion_num=2) == 2
    assert _cell(out, "left_died", group="Act", infusion_num=2) == 1
    assert _cell(out, "late", group="Ctl", infusion_num=2) == 1
    assert _cell(out, "max_days_outside", group="Ctl", infusion_num=2) == 1
    assert _cell(out, "left_withdrawn", group="Ctl", infusion_num=2) == 1
    assert _cell(out, "not_yet_due", group="Ctl", infusion_num=2) == 1
    # Infusion 3 (day 57): P1 on day 62 (2 days beyond), P3 missed (window closed 2025-03-05), P2 died;
    # Ctl: P4 withdrew, P5 and P6 not yet due (P6's window closes 2025-04-01).
    assert _cell(out, "received", group="Act", infusion_num=3) == 1
    assert _cell(out, "max_days_outside", group="Act", infusion_num=3) == 2
    assert _cell(out, "missed", group="Act", infusion_num=3) == 1
    assert _cell(out, "due", group="Act", infusion_num=3) == 2
    assert _cell(out, "pct_missed", group="Act", infusion_num=3) == 50.0
    assert _cell(out, "not_yet_due", group="Ctl", infusion_num=3) == 2
    assert _cell(out, "due", group="Total", infusion_num=3) == 2
    pooled = report.exposure(hand["investigator"], ALL)
    assert set(pooled["group"]) == {POOLED_LABEL}
    assert _cell(pooled, "missed", group=POOLED_LABEL, infusion_num=3) == 1
    assert _cell(pooled, "delayed", group=POOLED_LABEL, infusion_num=2) == 1


def test_dose_by_hand_and_never_for_blinded_viewers(hand):
    out = report.dose(hand["dsmb"], ALL)
    # Act infusion 1: 30/60, 25/50, 35/70 = 0.5 each; infusion 3: P1 24/60 = 0.4, off plan (more than 0.05 away).
    assert _cell(out, "mean_per_kg", group="Act", infusion_num=1) == pytest.approx(0.5)
    assert _cell(out, "off_plan", group="Act", infusion_num=3) == 1
    assert _cell(out, "pct_of_planned", group="Act", infusion_num=3) == pytest.approx(80.0)
    assert _cell(out, "planned_per_kg", group="Ctl", infusion_num=1) == 0.0
    assert _cell(out, "off_plan", group="Ctl", infusion_num=2) == 0
    blinded = report.dose(hand["investigator"], ALL)
    assert blinded.empty and "reveals the arm" in blinded.attrs["note"]


def test_deviations_by_hand(hand):
    out = report.deviations(hand["dsmb"], ALL)

    def n(key, group, site="All sites"):
        return _cell(out, "n", deviation=key, group=group, site_id=site)

    # P2 (Act, S1): age 75, bilirubin 150, PTA 50 and INR 1.2; P4 (Ctl, S1): no bilirubin, PTA 35 -> not assessable.
    assert [n("age_out", "Act"), n("bili_low", "Act"), n("coag_not_met", "Act"), n("any_criterion", "Act")] == [1] * 4
    assert n("any_criterion", "Act", "S1") == 1 and n("any_criterion", "Act", "S2") == 0
    assert n("any_criterion", "Ctl") == 0 and n("not_assessable", "Ctl", "S1") == 1
    # P6's INR 1.4 fails but PTA 38 meets the coagulation criterion.
    assert n("coag_not_met", "Ctl", "S2") == 0
    # Patient-visits assessed: P1 3, P2 1, P3 2 (Act: 4 in S1, 2 in S2); P4 1, P5 1, P6 2. Outside: P1 W8, P6 W4.
    assert n("outside", "Act", "S1") == 1 and _cell(out, "denominator", deviation="outside", group="Act",
                                                      site_id="S1") == 4
    assert n("outside", "Ctl", "S2") == 1 and n("outside", "Total") == 2
    assert _cell(out, "denominator", deviation="outside", group="Total", site_id="All sites") == 10
    # Visits due: P1 3, P2 1 (died before W4 closed), P3 3 (W8 missed), P4 1, P5 1, P6 2 (W4 attended) = 11.
    assert n("missed", "Act", "S2") == 1 and n("missed", "Total") == 1
    assert _cell(out, "denominator", deviation="missed", group="Total", site_id="All sites") == 11
    assert _cell(out, "denominator", deviation="missed", group="Act", site_id="S1") == 4
    pooled = report.deviations(hand["investigator"], ALL)
    assert set(pooled["group"]) == {POOLED_LABEL}
    assert _cell(pooled, "n", deviation="outside", group=POOLED_LABEL, site_id="All sites") == 2


def test_baseline_by_hand(hand):
    out = report.baseline(hand["dsmb"], ALL)
    age = out[out["variable"] == "AGE"].set_index("group")
    # Act 40, 75, 50: mean 55, SD sqrt(650/2); Ctl 60, 30, 45: mean 45, SD 15; SMD 10 / sqrt((325 + 225) / 2).
    assert age.loc["Act", "mean"] == pytest.approx(55) and age.loc["Act", "sd"] == pytest.approx(325 ** 0.5)
    assert age.loc["Act", "q1"] == pytest.approx(45) and age.loc["Act", "q3"] == pytest.approx(62.5)
    assert age.loc["Ctl", "sd"] == pytest.approx(15)
    assert age["smd"].iloc[0] == pytest.approx(10 / 275 ** 0.5)
    bili = out[out["variable"] == "BILI"].set_index("group")
    # Baseline = the last visit-0 value: P5's 400 (day 1), not 380 (day -1); P4 has none.
    assert bili.loc["Ctl", "n"] == 2 and bili.loc["Ctl", "missing"] == 1 and bili.loc["Ctl", "mean"] == 325
    assert bili.loc["Total", "median"] == 250
    # Ascites grade: Act 0, 1, 2; Ctl 0, 1 and one missing: Yang-Dalton SMD of (1/3, 1/3, 1/3) vs (1/2, 1/2, 0) = 1.
    asc = out[out["variable"] == "ASCITES"]
    assert asc["smd"].iloc[0] == pytest.approx(1.0)
    assert _cell(asc, "count", group="Ctl", category="Missing") == 1
    assert _cell(asc, "pct", group="Act", category="2") == pytest.approx(100 / 3)
    sex = out[out["variable"] == "SEX"]
    assert sex["smd"].iloc[0] == pytest.approx(0.0)  # one woman in three in each arm
    # The fixture has no MELD-Na records: no row, and a note says why.
    assert "MELDNA" not in set(out["variable"]) and "MELD-Na" in out.attrs["note"]
    pooled = report.baseline(hand["investigator"], ALL)
    assert set(pooled["group"]) == {POOLED_LABEL} and pooled["smd"].isna().all()
    assert _cell(pooled, "mean", variable="AGE", group=POOLED_LABEL) == pytest.approx(50)


def test_completeness_by_hand(hand):
    out = report.completeness(hand["investigator"], ALL)
    # S1: baseline 3/3, W4 1/1 (P1), W8 1/1 (P1); S2: baseline 3/3, W4 2/2 (P3, P6 attended), W8 0/1 (P3).
    assert _cell(out, "expected", site_id="S2", visit="W8") == 1 and _cell(out, "observed", site_id="S2", visit="W8") == 0
    assert _cell(out, "expected", site_id="All sites", visit="W4") == 3
    assert out[out["site_id"] == "All sites"]["expected"].sum() == 11
    assert out.equals(report.completeness(hand["dsmb"], ALL))


def test_a_site_filter_selects_the_site(hand):
    out = report.consort(hand["dsmb"], SubjectFilter(site=("S2",)))
    assert _cell(out, "n", group="Total", stage="randomised") == 3
    assert set(report.completeness(hand["dsmb"], SubjectFilter(site=("S2",)))["site_id"]) == {"S2", "All sites"}


# --- the simulated trial: blinding and order ---------------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
def test_blinded_viewers_get_pooled_tables_without_any_arm(unusual, name):
    result = getattr(report, name)(unusual["investigator"], ALL)
    shown = suppress_small_cells(DISPLAYS[name](result))
    text = result.to_csv() + shown.to_csv() + " ".join(map(str, shown.columns)) + repr(result.attrs)
    assert not [arm for arm in UNUSUAL_ARMS if arm in text]
    assert "dose_cells_1e6" not in text and "per_kg" not in " ".join(map(str, shown.columns))
    if "group" in result.columns and len(result):
        assert set(result["group"]) == {POOLED_LABEL}


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n not in ("enrolment", "completeness")])
def test_the_dsmb_gets_arms_in_study_order_then_total(unusual, name):
    result = getattr(report, name)(unusual["dsmb"], ALL)
    order = list(dict.fromkeys(result["group"]))
    assert order == (list(UNUSUAL_ARMS) if name == "dose" else [*UNUSUAL_ARMS, "Total"])
    shown = DISPLAYS[name](result)
    assert all(arm in " ".join(map(str, shown.columns)) + shown.to_csv() for arm in UNUSUAL_ARMS)


def test_simulated_consort_counts_equal_a_row_count(unusual, unusual_arms_db):
    with _connect(unusual_arms_db, True) as con:
        rows = con.execute("SELECT arm, status FROM subjects").fetchall()
        got = con.execute("SELECT s.arm, i.infusion_num FROM infusions i JOIN subjects s USING (usubjid)").fetchall()
    flow = report.consort(unusual["dsmb"], ALL)
    for arm in UNUSUAL_ARMS:
        assert _cell(flow, "n", group=arm, stage="randomised") == sum(a == arm for a, _ in rows)
        assert _cell(flow, "n", group=arm, stage="died") == sum(a == arm and s == "died" for a, s in rows)
        assert _cell(flow, "n", group=arm, stage="infusion_3") == sum(a == arm and k == 3 for a, k in got)
