"""dashboard.domain.profile: one patient's data assembled for /patient, checked by hand on a tiny course."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import profile

NAN = np.nan


def labs() -> pd.DataFrame:
    """One patient. BILI halves twice (ULN 17.1); ALB has no record limits (registry 35-55 applies);
    ALT reports its own ULN 50, so 45 is in range although the registry ULN is 40; MELD has no range.
    BILI is drawn twice in W2 (days 15 and 16) and once unscheduled on day 20."""
    rows = [
        # paramcd, visit, visit_num, study_day, value, lower, upper
        ("BILI", "Baseline", 0, 1, 34.2, 3.4, 17.1),
        ("BILI", "W2", 2, 15, 20.0, 3.4, 17.1),
        ("BILI", "W2", 2, 16, 17.1, 3.4, 17.1),
        ("BILI", None, NAN, 20, 12.0, 3.4, 17.1),
        ("BILI", "W4", 3, 29, 8.55, 3.4, 17.1),
        ("ALB", "Baseline", 0, 1, 30.0, NAN, NAN),
        ("ALB", "W4", 3, 29, 36.0, NAN, NAN),
        ("ALT", "Baseline", 0, 1, 60.0, 0.0, 50.0),
        ("ALT", "W4", 3, 29, 45.0, 0.0, 50.0),
        ("MELD", "Baseline", 0, 1, 24.0, NAN, NAN),
        ("MELD", "W4", 3, 29, 18.0, NAN, NAN),
    ]
    df = pd.DataFrame(rows, columns=["paramcd", "visit", "visit_num", "study_day", "value", "lower_limit",
                                     "upper_limit"])
    return df.assign(usubjid="P1")


def subject(**overrides) -> pd.DataFrame:
    row = dict(usubjid="P1", site_id="S01", age=50, sex="F", weight_kg=61.4, etiology="HBV", lf_type="ACLF",
               status="died", day1_on=pd.Timestamp("2024-01-10"), randomized_on=pd.Timestamp("2024-01-09"),
               death_on=pd.Timestamp("2024-01-19"), death_cause="Liver failure", transplant_on=pd.NaT,
               withdrawn_on=pd.NaT, last_contact_on=pd.Timestamp("2024-01-19"), baseline_meld=24.0)
    row.update(overrides)
    return pd.DataFrame([row])


INFUSIONS = pd.DataFrame({"usubjid": ["P1", "P1"], "infusion_num": [1, 2], "study_day": [1, 29]})


# --- limits and flags ------------------------------------------------------------------------------

def test_flags_use_the_records_own_limits_and_the_registry_only_where_missing():
    out = profile.with_limits(labs()).set_index(["paramcd", "study_day"])
    assert out.loc[("BILI", 1), "flag"] == "H"          # 34.2 > 17.1
    assert out.loc[("BILI", 16), "flag"] == ""          # 17.1 is the limit itself: not above it
    assert out.loc[("ALT", 29), "flag"] == ""           # 45 <= record ULN 50 (registry 40 would flag it)
    assert out.loc[("ALB", 1), ["lower_limit", "upper_limit"]].tolist() == [35.0, 55.0]
    assert out.loc[("ALB", 1), "flag"] == "L"           # 30 < registry LLN 35
    assert out.loc[("MELD", 1), "flag"] == ""           # no range for a score


# --- scales ----------------------------------------------------------------------------------------

def test_raw_scale_keeps_values_and_orders_labs_as_the_registry():
    out = profile.lab_panels(labs(), scale="raw")
    assert list(dict.fromkeys(out["paramcd"])) == ["ALB", "BILI", "ALT"]  # registry order; MELD has its own chart
    bili = out[out["paramcd"] == "BILI"]
    assert bili["study_day"].tolist() == [1, 15, 16, 20, 29]
    assert bili["y"].tolist() == bili["value"].tolist()


def test_uln_scale_divides_value_and_band_by_the_records_upper_limit():
    out = profile.lab_panels(labs(), scale="uln").set_index(["paramcd", "study_day"])
    assert out.loc[("BILI", 1), "y"] == pytest.approx(2.0)      # 34.2 / 17.1
    assert out.loc[("BILI", 29), "y"] == pytest.approx(0.5)     # 8.55 / 17.1
    assert out.loc[("BILI", 1), "y_upper"] == pytest.approx(1.0)
    assert out.loc[("BILI", 1), "y_lower"] == pytest.approx(3.4 / 17.1)
    assert out.loc[("ALT", 29), "y"] == pytest.approx(0.9)      # 45 / 50
    assert out.loc[("ALB", 29), "y"] == pytest.approx(36 / 55)  # registry ULN


def test_change_scale_subtracts_the_visit_0_value_from_value_and_band():
    out = profile.lab_panels(labs(), scale="chg").set_index(["paramcd", "study_day"])
    assert out.loc[("BILI", 1), "y"] == pytest.approx(0.0)
    assert out.loc[("BILI", 29), "y"] == pytest.approx(8.55 - 34.2)
    assert out.loc[("BILI", 20), "y"] == pytest.approx(12.0 - 34.2)  # unscheduled draws still have a change
    assert out.loc[("ALB", 29), "y"] == pytest.approx(6.0)
    assert out.loc[("ALB", 29), ["y_lower", "y_upper"]].tolist() == pytest.approx([5.0, 25.0])  # 35-30, 55-30


def test_change_scale_is_undefined_without_a_baseline():
    no_base = labs()[~((labs()["paramcd"] == "ALT") & (labs()["visit_num"] == 0))]
    out = profile.lab_panels(no_base, scale="chg")
    assert out.loc[out["paramcd"] == "ALT", "y"].isna().all()


def test_unknown_scale_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match="scale must be one of"):
        profile.lab_panels(labs(), scale="log")


# --- visit x lab table -----------------------------------------------------------------------------

def test_visit_lab_table_has_one_row_per_visit_in_day_order_with_flags():
    table = profile.visit_lab_table(labs())
    assert table["visit"].tolist() == ["Baseline", "W2", "Unscheduled day 20", "W4"]
    assert table["study_day"].tolist() == [1, 15, 20, 29]
    assert list(table.columns[2:8]) == ["ALB", "ALB flag", "BILI", "BILI flag", "ALT", "ALT flag"]
    w2 = table.set_index("visit").loc["W2"]
    assert w2["BILI"] == 17.1 and w2["BILI flag"] == ""   # the later W2 draw (day 16) is kept
    assert np.isnan(w2["ALB"]) and w2["ALB flag"] == ""
    assert table.set_index("visit").loc["Baseline", "ALT flag"] == "H"


def test_formatted_table_marks_high_and_low_and_names_units():
    shown = profile.format_visit_lab_table(profile.visit_lab_table(labs())).set_index("Visit")
    assert shown.loc["Baseline", "BILI (umol/L)"] == "34.2 ▲"
    assert shown.loc["Baseline", "ALB (g/L)"] == "30.0 ▼"
    assert shown.loc["W4", "ALT (U/L)"] == "45.0"
    assert shown.loc["Baseline", "MELD (points)"] == "24"  # registry decimals 0
    assert shown.loc["W2", "ALB (g/L)"] == ""


# --- header, events, neighbours --------------------------------------------------------------------

def test_header_facts_give_status_with_date_and_study_day():
    facts = profile.header_facts(subject(), INFUSIONS)
    # 2024-01-19 is 9 days after day 1 (2024-01-10): study day 10.
    assert facts["Status"] == "Died 2024-01-19 (day 10): Liver failure"
    assert facts["Infusions received"] == "2"
    assert facts["Baseline MELD"] == "24"
    assert facts["Age, sex"] == "50 y, F, 61 kg"
    assert "Arm" not in facts


def test_header_facts_name_the_arm_only_when_the_data_carry_it():
    assert profile.header_facts(subject(arm="UC-MSC"), INFUSIONS)["Arm"] == "UC-MSC"


@pytest.mark.parametrize("overrides, expected", [
    (dict(status="on study", death_on=pd.NaT), "On study; last contact 2024-01-19 (day 10)"),
    (dict(status="transplanted", death_on=pd.NaT, transplant_on=pd.Timestamp("2024-01-10")),
     "Transplanted 2024-01-10 (day 1)"),
    (dict(status="withdrawn", death_on=pd.NaT, withdrawn_on=pd.Timestamp("2024-02-09")),
     "Withdrawn 2024-02-09 (day 31)"),
])
def test_status_text_for_each_kind_of_ending(overrides, expected):
    assert profile.status_text(subject(**overrides).iloc[0]) == expected


def test_outcome_days_mark_death_and_transplant_on_the_study_day_axis():
    assert profile.outcome_days(subject()).values.tolist() == [["Death", 10]]
    tx = subject(death_on=pd.NaT, transplant_on=pd.Timestamp("2024-01-10"))
    assert profile.outcome_days(tx).values.tolist() == [["Transplant", 1]]
    assert profile.outcome_days(subject(death_on=pd.NaT)).empty


@pytest.mark.parametrize("usubjid, expected", [
    ("B", ("A", "C")), ("A", (None, "B")), ("C", ("B", None)), ("Z", (None, None)),
])
def test_neighbours_in_the_filtered_list(usubjid, expected):
    assert profile.neighbours(("A", "B", "C"), usubjid) == expected


def test_day_span_covers_last_contact_labs_and_events_with_margin():
    ae = pd.DataFrame({"onset_day": [3], "end_day": [40]})
    assert profile.day_span(subject(), labs(), ae) == (-10.0, 50.0)  # AE end 40 > lab 29 > last contact 10


def test_ae_lane_bars_run_from_onset_through_end_and_ongoing_to_last_day():
    ae = pd.DataFrame({"ae_id": [2, 1], "term": ["Rash", "Pyrexia"], "grade": [2, 1], "serious": [True, False],
                       "infusion_related": [False, True], "onset_day": [5, 1], "end_day": [7, None]})
    lane = profile.ae_lane(ae, last_day=100)
    assert lane["term"].tolist() == ["Pyrexia", "Rash"]  # by onset
    assert lane[["start", "end"]].values.tolist() == [[1.0, 101.0], [5.0, 8.0]]  # day 5-7 inclusive = 5 to 8
    assert lane["ongoing"].tolist() == [True, False]
    assert lane["serious"].tolist() == [False, True]


def test_post_infusion_temperatures_keep_pre_to_24h_of_temperature_only():
    vitals = pd.DataFrame({"infusion_num": [1, 1, 1, 1, 2], "hours_after": [-1.0, 2.0, 48.0, 2.0, 0.0],
                           "paramcd": ["TEMP", "TEMP", "TEMP", "HR", "TEMP"], "value": [36.5, 38.2, 36.6, 80, 36.9]})
    out = profile.post_infusion_temperatures(vitals, INFUSIONS)
    assert out[["infusion_num", "study_day", "hours_after", "value"]].values.tolist() == [
        [1, 1, -1.0, 36.5], [1, 1, 2.0, 38.2], [2, 29, 0.0, 36.9]]


# --- patient list ----------------------------------------------------------------------------------

def _subjects(**extra) -> pd.DataFrame:
    return pd.DataFrame({"usubjid": ["P1", "P2"], "site_id": ["S01", "S02"], "age": [50, 61], "sex": ["F", "M"],
                         "etiology": ["HBV", "Alcohol"], "lf_type": ["ACLF", "Subacute"],
                         "baseline_meld": [24.0, 30.0], "latest_meld": [18.0, None], "status": ["died", "on study"],
                         "days_on_study": [10, 200], "weight_kg": [61.4, 80.0], **extra})


def test_patient_list_attaches_trends_and_has_no_arm_unless_given():
    trends = pd.DataFrame({"usubjid": ["P1"], "meld_trend": [np.array([24.0, 18.0])]})
    out = profile.with_trends(profile.list_rows(_subjects()), trends)
    assert out["meld_trend"].tolist() == [[24.0, 18.0], []]
    assert "arm" not in out.columns and "weight_kg" not in out.columns
    assert list(profile.with_trends(profile.list_rows(_subjects(arm=["A", "B"])), trends).columns[:2]) == ["usubjid", "arm"]


def test_trends_attach_to_any_subset_of_the_list_as_to_the_whole():
    subjects = _subjects(arm=["A", "B"])
    trends = pd.DataFrame({"usubjid": ["P2", "P1"], "meld_trend": [np.array([30.0]), np.array([24.0, 18.0])]})
    whole = profile.with_trends(profile.list_rows(subjects), trends)
    last = profile.list_rows(subjects).iloc[1:]
    pd.testing.assert_frame_equal(profile.with_trends(last, trends), whole.iloc[1:].reset_index(drop=True))


def test_search_rows_matches_any_column_ignoring_case():
    out = profile.with_trends(profile.list_rows(_subjects()), pd.DataFrame({"usubjid": [], "meld_trend": []}))
    assert profile.search_rows(out, "alcohol")["usubjid"].tolist() == ["P2"]
    assert profile.search_rows(out, "s01")["usubjid"].tolist() == ["P1"]
    assert len(profile.search_rows(out, "  ")) == 2


def test_a_patient_without_labs_gets_empty_frames_not_errors():
    none = labs().iloc[0:0]
    assert profile.lab_panels(none).empty
    assert list(profile.visit_lab_table(none).columns) == ["visit", "study_day"]
    assert profile.format_visit_lab_table(profile.visit_lab_table(none)).empty
