"""Properties of the simulated trial (issue 2): allocation, schedule, plausible labs, coherence, effect."""

from datetime import date

import pandas as pd
import pytest
from lifelines import CoxPHFitter

from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.labs import BY_CODE
from dashboard.domain.visits import INFUSION_DAYS, VISITS
from tests.conftest import connect_unblinded


@pytest.fixture(scope="module")
def demo():
    return simulate_trial(SimulationSettings())


def test_five_to_two_block_randomisation_gives_exactly_50_and_20(demo):
    assert demo["subjects"]["arm"].value_counts().to_dict() == {"UC-MSC": 50, "Placebo": 20}


def test_every_block_of_seven_holds_five_active():
    tables = simulate_trial(SimulationSettings(patients=700, cut_date=date(2030, 1, 1)))
    arms = tables["subjects"].sort_values("usubjid")["arm"].to_numpy()
    assert all((arms[i:i + 7] == "UC-MSC").sum() == 5 for i in range(0, 700, 7))


def test_enrolment_is_staggered_over_about_18_months(demo):
    dates = pd.to_datetime(demo["subjects"]["randomized_on"])
    span_months = (dates.max() - dates.min()).days / 30.44
    assert 15 <= span_months <= 18.5


def test_infusions_near_days_1_29_57_and_never_after_death_or_withdrawal(demo):
    inf = demo["infusions"].merge(demo["subjects"], on="usubjid")
    offset = inf["study_day"] - inf["infusion_num"].map(dict(enumerate(INFUSION_DAYS, 1)))
    assert (offset[inf["infusion_num"] == 1] == 0).all()
    assert offset.between(-1, 10).all()
    for col in ("death_on", "withdrawn_on", "transplant_on"):
        stopped = inf[inf[col].notna()]
        assert (pd.to_datetime(stopped["given_on"]) < pd.to_datetime(stopped[col])).all()


def test_visits_fall_inside_their_windows_and_about_5_percent_are_missed():
    tables = simulate_trial(SimulationSettings(patients=3000, cut_date=date(2030, 1, 1)))
    asc = tables["ascites"]
    windows = {v.visit_num: (v.window_lo, v.window_hi) for v in VISITS}
    lo = asc["visit_num"].map(lambda k: windows[k][0])
    hi = asc["visit_num"].map(lambda k: windows[k][1])
    assert asc["study_day"].between(lo, hi).all()
    completers = tables["subjects"].query("status == 'completed'")["usubjid"]
    per_completer = asc[asc["usubjid"].isin(completers)].groupby("usubjid").size()
    missed = 1 - per_completer.mean() / len(VISITS)
    assert 0.03 <= missed <= 0.07


def test_labs_use_registry_units_and_plausible_baseline_ranges(demo):
    labs = demo["lab_results"]
    for code, rows in labs.groupby("paramcd"):
        assert set(rows["unit"]) == {BY_CODE[code].unit}
    base = labs[labs["visit_num"] == 0].groupby("paramcd")["value"].median()
    assert 150 <= base["BILI"] <= 600  # umol/L, HBV-ACLF entry (domain.md §3.1)
    assert 24 <= base["ALB"] <= 36  # g/L
    assert 20 <= base["PTA"] <= 40  # %, entry criterion PTA <= 40%
    assert 1.5 <= base["INR"] <= 3.0
    assert 20 <= base["MELD"] <= 34


def test_pt_pta_and_inr_agree_record_by_record(demo):
    wide = demo["lab_results"].pivot_table(index=["usubjid", "study_day"], columns="paramcd", values="value")
    # Lower activity means longer PT and higher INR, record by record (monotone, hyperbolic: ranks).
    assert wide["PTA"].corr(wide["PT"], method="spearman") < -0.95
    assert wide["PT"].corr(wide["INR"], method="spearman") > 0.95


def test_meld_before_death_is_higher_than_survivors_at_the_same_visit():
    tables = simulate_trial(SimulationSettings(patients=2000, cut_date=date(2030, 1, 1)))
    meld = tables["lab_results"].query("paramcd == 'MELD'")
    subjects = tables["subjects"].set_index("usubjid")
    last = meld.sort_values("study_day").groupby("usubjid").tail(1)
    died = last[last["usubjid"].map(subjects["status"]) == "died"]
    survivors = meld[meld["usubjid"].map(subjects["status"]).isin(["completed", "on study"])]
    survivor_mean = survivors.groupby("visit_num")["value"].mean()
    gaps = died.groupby("visit_num")["value"].mean() - survivor_mean.reindex(died["visit_num"].unique())
    assert (gaps.dropna() > 0).all()


def test_afp_rises_during_regeneration_in_survivors(demo):
    afp = demo["lab_results"].query("paramcd == 'AFP'").groupby("visit_num")["value"].median()
    assert afp[2] > afp[0] and afp[3] > afp[0]


def test_same_seed_gives_the_same_trial_and_another_seed_does_not():
    a = simulate_trial(SimulationSettings(seed=11))
    b = simulate_trial(SimulationSettings(seed=11))
    c = simulate_trial(SimulationSettings(seed=12))
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table])
    assert not a["lab_results"]["value"].equals(c["lab_results"]["value"])


def test_nothing_after_the_cut_date_exists():
    cut = date(2025, 3, 1)
    tables = simulate_trial(SimulationSettings(patients=500, cut_date=cut))
    s = tables["subjects"]
    assert (pd.to_datetime(s["randomized_on"]) <= pd.Timestamp(cut)).all()
    assert (pd.to_datetime(tables["lab_results"]["collected_on"]) <= pd.Timestamp(cut)).all()
    assert (pd.to_datetime(s["last_contact_on"]) <= pd.Timestamp(cut)).all()
    assert (pd.to_datetime(s["death_on"].dropna()) <= pd.Timestamp(cut)).all()


def _cox_hr(effect: str) -> float:
    tables = simulate_trial(SimulationSettings(patients=20_000, effect=effect, cut_date=date(2030, 1, 1)))
    s = tables["subjects"]
    end = pd.to_datetime(s["death_on"].fillna(s["last_contact_on"]))
    df = pd.DataFrame({"time": (end - pd.to_datetime(s["day1_on"])).dt.days + 1,
                       "event": (s["status"] == "died").astype(int), "active": (s["arm"] == "UC-MSC").astype(int)})
    return float(CoxPHFitter().fit(df, "time", "event").hazard_ratios_["active"])


def test_default_effect_gives_death_hazard_ratio_near_055():
    assert 0.45 <= _cox_hr("default") <= 0.7


def test_null_effect_gives_hazard_ratio_near_one():
    assert 0.9 <= _cox_hr("none") <= 1.1


def test_written_database_stores_labs_ordered_by_paramcd_and_records_the_cut(trial_db):
    with connect_unblinded(trial_db) as con:
        codes = [r[0] for r in con.execute("SELECT paramcd FROM lab_results").fetchall()]
        cut = con.execute("SELECT cut_id, checksum, row_counts FROM data_cuts").fetchall()
    assert codes == sorted(codes)
    assert len(cut) == 1 and len(cut[0][1]) == 64


@pytest.mark.parametrize("kwargs, message", [
    ({"patients": 0}, "patients"), ({"sites": 0}, "sites"), ({"effect": "big"}, "effect"),
    ({"arms": ("A", "A")}, "arms"),
])
def test_invalid_settings_are_refused_with_the_argument_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimulationSettings(**kwargs)


def test_a_later_cut_of_the_same_seed_keeps_every_earlier_record_unchanged():
    early = simulate_trial(SimulationSettings(cut_date=date(2025, 3, 31)))
    late = simulate_trial(SimulationSettings(cut_date=date(2025, 12, 31)))
    keys = {"lab_results": ["usubjid", "paramcd", "study_day"], "ascites": ["usubjid", "visit_num"],
            "infusions": ["usubjid", "infusion_num"], "vital_signs": ["usubjid", "infusion_num", "hours_after"]}
    for table, key in keys.items():
        merged = early[table].merge(late[table], on=key, how="left", suffixes=("", "_late"), indicator=True)
        assert (merged["_merge"] == "both").all(), f"{table}: an early record is missing from the later cut"
        value = "value" if "value" in early[table] else ("grade" if table == "ascites" else "given_on")
        assert (merged[value] == merged[f"{value}_late"]).all(), f"{table}: a value changed between cuts"
    assert len(late["lab_results"]) > len(early["lab_results"])
    assert set(early["adverse_events"]["ae_id"]) <= set(late["adverse_events"]["ae_id"])


def test_treatment_effect_on_labs_is_early_and_spares_pta_inr_che():
    tables = simulate_trial(SimulationSettings(patients=20_000, cut_date=date(2030, 1, 1)))
    labs = tables["lab_results"].merge(tables["subjects"][["usubjid", "arm"]], on="usubjid")
    means = labs.groupby(["paramcd", "visit_num", "arm"])["value"].mean().unstack()
    diff = means["UC-MSC"] - means["Placebo"]
    # Randomised arms agree at baseline (measured before the first infusion).
    assert abs(diff["MELD", 0]) < 0.5 and abs(diff["ALB", 0]) < 0.3
    # MELD 2-4 points lower at weeks 4, 8, 12 (visits 3-5); bilirubin about 50-60 umol/L lower at week 4.
    assert all(-4.0 <= diff["MELD", v] <= -1.8 for v in (3, 4, 5))
    assert -80 <= diff["BILI", 3] <= -40
    assert all(1.0 <= diff["ALB", v] <= 3.0 for v in (2, 3, 4, 5))
    # No effect left at week 24, and little on PTA, INR, CHE at any visit.
    assert abs(diff["MELD", 6]) < 0.5
    assert diff.loc["PTA"].abs().max() < 3 and diff.loc["INR"].abs().max() < 0.3
