"""Box statistics and trajectory samples: hand-checked values, the group order and the point budget."""

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.labplots import BOX_COLUMNS, box_stats_from_aggregates, trajectories_from_sample
from tests.oracle.labplots import box_stats, sample_trajectories


def test_box_stats_are_r_type_7_quartiles_with_tukey_whiskers():
    # R: quantile(c(1:10, 100), type = 7) -> 3.5, 6, 8.5; IQR 5, fences -4 and 16: whiskers 1 and 10.
    df = pd.DataFrame({"visit_num": 1, "visit": "W1", "value": [*range(1, 11), 100.0]})
    got = box_stats(df).summary
    assert list(got.columns) == list(BOX_COLUMNS)
    assert got.iloc[0].tolist() == [POOLED_LABEL, 1, "W1", 11, 3.5, 6.0, 8.5, 1.0, 10.0]


def test_change_boxes_leave_out_baseline_and_follow_the_listed_groups():
    df = pd.DataFrame({"arm": ["A", "A", "B", "B"], "visit_num": [0, 1, 0, 1], "visit": ["BL", "W1", "BL", "W1"],
                       "chg": [0.0, 2.0, 0.0, -1.0]})
    got = box_stats(df, value_col="chg", group_col="arm", groups=["B", "A", "C"]).summary
    assert got[["group", "visit"]].values.tolist() == [["B", "W1"], ["A", "W1"]]


def test_box_stats_from_aggregates_pools_and_drops_empty_visits():
    agg = pd.DataFrame([[None, 2, "W2", 3, 1.0, 2.0, 3.0, 1.0, 3.0], [None, 1, "W1", 0, *[np.nan] * 5]],
                       columns=list(BOX_COLUMNS))
    got = box_stats_from_aggregates(agg).summary
    assert got["group"].tolist() == [POOLED_LABEL] and got["visit_num"].tolist() == [2]


def test_whole_patients_are_sampled_and_trimmed_to_the_budget():
    # Patients P0..P4 with 3, 1, 1, 1, 1 points cost 12 with line breaks. Budget 5: every 3rd patient
    # (P0, P3) costs 4 + 2 = 6, so the list is cut to int(2 * 0.9) = 1 patient: P0.
    df = pd.DataFrame({"usubjid": ["P0"] * 3 + ["P1", "P2", "P3", "P4"], "study_day": [1, 8, 15, 1, 1, 1, 1],
                       "value": np.arange(7.0)})
    got = sample_trajectories(df, max_points=5)
    assert (got.n_shown, got.n_patients) == (1, 5)
    assert got.rows["usubjid"].tolist() == ["P0"] * 3 and got.rows["group"].eq(POOLED_LABEL).all()
    everyone = sample_trajectories(df, max_points=12)
    assert (everyone.n_shown, everyone.n_patients, len(everyone.rows)) == (5, 5, 7)


def test_a_sql_sample_is_trimmed_the_same_way():
    sample = pd.DataFrame({"group": None, "usubjid": ["P0"] * 3 + ["P3"], "study_day": [1, 8, 15, 1],
                           "value": [0.0, 1.0, 2.0, 5.0], "n_patients": 5})
    got = trajectories_from_sample(sample, max_points=5)
    assert (got.n_shown, got.n_patients) == (1, 5) and got.rows["group"].eq(POOLED_LABEL).all()


@pytest.mark.parametrize("call, message", [
    (lambda df: box_stats(df, value_col="base"), "value_col must be one of"),
    (lambda df: box_stats(df.drop(columns="visit_num")), "visit_num"),
    (lambda df: sample_trajectories(df, max_points=0), "max_points must be a positive integer"),
    (lambda df: sample_trajectories(df, group_col="arm"), "group_col='arm'"),
])
def test_bad_arguments_raise(call, message):
    df = pd.DataFrame({"usubjid": ["P0"], "visit_num": [0], "study_day": [1], "value": [1.0]})
    with pytest.raises(ValueError, match=message):
        call(df)
