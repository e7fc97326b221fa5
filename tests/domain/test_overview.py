"""Study-status summaries, checked by hand on small tables."""

from datetime import date

import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.overview import disposition, enrolment_progress, follow_up_completeness

SUBJECTS = pd.DataFrame({
    "randomized_on": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-02-01", "2024-03-01"]),
    "arm": ["A", "B", "A", "A"],
    "status": ["died", "on study", "on study", "completed"],
})


def test_enrolment_is_cumulative_per_group_with_a_linear_plan():
    out = enrolment_progress(SUBJECTS, planned_n=10, start=date(2024, 1, 1), months=12, group_col="arm")
    a = out[out["group"] == "A"]
    assert a["enrolled"].tolist() == [1, 2, 3]
    assert out[out["group"] == "B"]["enrolled"].tolist() == [1]
    assert out[out["group"] == POOLED_LABEL]["enrolled"].tolist() == [2, 3, 4]  # the total beside the arms
    plan = out[out["group"] == "Plan"]
    assert plan["enrolled"].tolist() == [0, 10]
    # 12 months x 30.4375 days = 365.25 -> 365 days after 1 Jan 2024 (a leap year) is 31 Dec 2024.
    assert plan["date"].iloc[1] == pd.Timestamp("2024-12-31")


def test_enrolment_pooled_uses_the_pooled_label_only():
    out = enrolment_progress(SUBJECTS, planned_n=4, start=date(2024, 1, 1), months=3)
    assert set(out["group"]) == {POOLED_LABEL, "Plan"}
    assert out[out["group"] == POOLED_LABEL]["enrolled"].tolist() == [2, 3, 4]


def test_disposition_lists_every_status_with_group_percentages():
    out = disposition(SUBJECTS, group_col="arm").set_index(["group", "status"])
    assert out.loc[("A", "on study"), "n"] == 1
    assert out.loc[("A", "on study"), "pct"] == pytest.approx(100 / 3)
    assert out.loc[("B", "withdrawn"), "n"] == 0
    assert len(out) == 12  # 6 statuses x 2 groups


def test_completeness_percent_is_observed_over_expected():
    due = pd.DataFrame({"visit_num": [0, 1, 2], "visit": ["Baseline", "W1", "W2"], "expected": [4, 4, 0], "observed": [4, 3, 0]})
    assert follow_up_completeness(due)["pct_observed"].tolist()[:2] == [100.0, 75.0]
    assert pd.isna(follow_up_completeness(due)["pct_observed"].iloc[2])


def test_invalid_plan_is_refused():
    with pytest.raises(ValueError, match="planned_n"):
        enrolment_progress(SUBJECTS, planned_n=0, start=date(2024, 1, 1), months=12)
