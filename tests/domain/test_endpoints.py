"""Endpoint rows from time_to_event rows, checked by hand: day 1 is the first infusion, so a patient
dosed on 1 Jan who dies on 10 Jan has time 10 days."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard.domain.endpoints import (
    ADMINISTRATIVE,
    accrual_dates,
    endpoint_rows,
    outcome_label,
    subgroup_columns,
)

D1 = pd.Timestamp("2024-01-01")


@pytest.fixture
def tte() -> pd.DataFrame:
    # usubjid, end_on, event_type, status, recensored, age, baseline_meld, baseline_ascites_grade
    rows = [
        ("P1", "2024-01-10", 1, "died", False, 44, 20.0, 0),          # death on day 10
        ("P2", "2024-02-01", 2, "transplanted", False, 45, 30.0, 2),  # transplant on day 32
        ("P3", "2024-01-01", 0, "on study", False, 60, 25.0, 1),      # day 1, still on study at the cut
        ("P4", "2024-03-01", 0, "withdrawn", False, 30, 10.0, 0),     # withdrawn, day 61
        ("P5", "2024-01-31", 0, "died", True, 50, None, None),        # died after the as-of date: day 31
        ("P6", "2024-04-10", 0, "lost to follow-up", False, 70, 40.0, 3),
        ("P7", "2024-12-31", 0, "completed", False, 20, 15.0, 0),     # 2024 is a leap year: day 366
    ]
    df = pd.DataFrame(rows, columns=["usubjid", "end_on", "event_type", "status", "recensored", "age",
                                     "baseline_meld", "baseline_ascites_grade"])
    return df.assign(day1_on=D1, end_on=pd.to_datetime(df["end_on"]))


def test_time_days_counts_the_first_infusion_as_day_one(tte):
    rows = endpoint_rows(tte, "os")
    assert rows["time_days"].tolist() == [10, 32, 1, 61, 31, 101, 366]


@pytest.mark.parametrize("endpoint,events", [
    ("os", [1, 0, 0, 0, 0, 0, 0]),   # transplant censored
    ("tfs", [1, 1, 0, 0, 0, 0, 0]),  # death or transplant
    ("cr", [1, 0, 0, 0, 0, 0, 0]),   # event = the cause (death); transplant kept as event_type 2
])
def test_event_per_endpoint(tte, endpoint, events):
    assert endpoint_rows(tte, endpoint)["event"].tolist() == events


def test_censor_reasons_name_why_follow_up_stopped(tte):
    os_reasons = endpoint_rows(tte, "os")["censor_reason"].tolist()
    assert os_reasons == [None, "transplant", ADMINISTRATIVE, "withdrawn", ADMINISTRATIVE, "lost to follow-up",
                          "completed follow-up"]
    assert endpoint_rows(tte, "tfs")["censor_reason"].tolist()[:2] == [None, None]
    # A competing event is neither the event nor a censoring.
    assert endpoint_rows(tte, "cr")["censor_reason"].tolist()[:2] == [None, None]
    assert endpoint_rows(tte, "cr")["event_type"].tolist()[:2] == [1, 2]


def test_outcome_label_in_words(tte):
    labels = outcome_label(endpoint_rows(tte, "os")).tolist()
    assert labels[:4] == ["death", "censored (transplant)", f"censored ({ADMINISTRATIVE})", "censored (withdrawn)"]
    assert outcome_label(endpoint_rows(tte, "tfs")).tolist()[1] == "transplant"


def test_input_columns_are_kept_and_arm_is_not_required(tte):
    rows = endpoint_rows(tte, "os")
    assert "arm" not in rows.columns and {"age", "status", "day1_on"} <= set(rows.columns)


@pytest.mark.parametrize("endpoint,drop,message", [
    ("pfs", None, r"endpoint_rows: argument endpoint='pfs'; allowed values: \['os', 'tfs', 'cr'\]"),
    ("os", "end_on", r"endpoint_rows: argument tte lacks column\(s\) \['end_on'\]"),
])
def test_bad_arguments_are_named(tte, endpoint, drop, message):
    with pytest.raises(ValueError, match=message):
        endpoint_rows(tte.drop(columns=[drop]) if drop else tte, endpoint)


def test_subgroup_columns_split_age_meld_at_median_and_ascites(tte):
    out = subgroup_columns(tte)
    assert out["age_group"].tolist() == ["< 45", ">= 45", ">= 45", "< 45", ">= 45", ">= 45", "< 45"]
    # MELD of the six known values 20, 30, 25, 10, 40, 15 has median 22.5; P5's MELD is missing.
    assert out["meld_group"].tolist()[:4] == ["< 22.5", ">= 22.5", ">= 22.5", "< 22.5"]
    assert pd.isna(out["meld_group"].iloc[4]) and pd.isna(out["ascites_group"].iloc[4])
    assert out["ascites_group"].tolist()[:4] == ["no", "yes", "yes", "no"]


def test_accrual_dates_are_month_starts_then_the_cut():
    assert accrual_dates(date(2024, 1, 15), date(2024, 4, 10)) == [
        date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1), date(2024, 4, 10)]
    assert accrual_dates(date(2024, 1, 15), date(2024, 1, 20)) == [date(2024, 1, 20)]
    assert accrual_dates(date(2024, 1, 1), date(2024, 2, 1)) == [date(2024, 2, 1)]
