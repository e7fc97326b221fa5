"""eDISH/mDISH peaks, box statistics and trajectory samples computed in DuckDB equal the pandas functions
on the fetched rows (to 1e-9), by arm and pooled, for all patients and for women; on the demo trial and
on a messy copy of it (missing ULNs, repeated and zero baselines, rows without a visit, uneven patients)."""

import pandas as pd
import pytest

from dashboard.data import queries
from dashboard.data.lab_aggregates import dish_peaks, lab_box_stats, lab_trajectory_sample
from dashboard.domain import POOLED_LABEL
from dashboard.domain.lab_safety import mdish_from_peaks
from dashboard.domain.labplots import box_stats_from_aggregates, trajectories_from_sample
from dashboard.domain.labstats import add_change_from_baseline
from dashboard.domain.subject_filter import SubjectFilter
from tests.data.sql_helpers import messy_copy, study_groups
from tests.oracle.lab_safety import mdish
from tests.oracle.labplots import box_stats, sample_trajectories

FILTERS = {"all": SubjectFilter(), "women": SubjectFilter(sex=("F",))}
CLOSE = dict(check_exact=False, rtol=1e-9, atol=1e-9)
# The messy copy's first patient gets this many extra unscheduled rows, so a sample that always keeps the
# first patient costs more than planned and has to be trimmed.
EXTRA_ROWS = 30
MESS = f"""
    UPDATE lab_results SET upper_limit = NULL WHERE paramcd IN ('ALT', 'BILI') AND hash(usubjid, study_day) % 5 = 0;
    UPDATE lab_results SET value = 0 WHERE visit_num = 0 AND hash(usubjid, paramcd) % 17 = 0;
    UPDATE lab_results SET visit_num = NULL WHERE visit_num > 0 AND hash(usubjid, paramcd, study_day) % 11 = 0;
    INSERT INTO lab_results SELECT * REPLACE (study_day - 2 AS study_day, value + 1 AS value) FROM lab_results
        WHERE visit_num = 0 AND hash(usubjid, paramcd) % 3 = 0;
    DELETE FROM lab_results WHERE paramcd = 'BILI' AND visit_num > 0 AND hash(usubjid) % 10 = 0;
    DELETE FROM lab_results WHERE visit_num = 0 AND hash(usubjid, paramcd) % 19 = 1;
    INSERT INTO lab_results SELECT l.* REPLACE (NULL AS visit, NULL AS visit_num, 200 + k AS study_day, value + k AS value)
        FROM lab_results l, range({EXTRA_ROWS}) t(k)
        WHERE l.visit_num = 0 AND l.usubjid = (SELECT min(usubjid) FROM subjects);
    -- Same-day baseline repeats with another value: the baseline must not depend on row order.
    INSERT INTO lab_results SELECT * REPLACE (value * 3 + 1 AS value) FROM lab_results
        WHERE visit_num = 0 AND hash(usubjid, paramcd) % 4 = 2;
    -- An ULN of 0 on a few ALT records, some with a value of 0 (0 / 0 is NaN, value / 0 infinite).
    UPDATE lab_results SET upper_limit = 0 WHERE paramcd = 'ALT' AND visit_num > 0 AND hash(usubjid, study_day) % 13 = 2;
    UPDATE lab_results SET value = 0 WHERE paramcd = 'ALT' AND upper_limit = 0 AND hash(usubjid) % 2 = 0;
"""


@pytest.fixture(scope="module")
def messy_con(trial_db):
    with messy_copy(trial_db, ("study", "subjects", "lab_results"), MESS) as c:
        yield c


@pytest.fixture(params=["demo", "messy"])
def con(request):
    return request.getfixturevalue(f"{request.param}_con")




@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_mdish_from_sql_peaks_equals_the_pandas_mdish(con, include_arm, f):
    groups = study_groups(con, include_arm)
    rows = queries.lab_rows(con, f, ("ALT", "BILI"), include_arm)
    from_rows, from_peaks = mdish, mdish_from_peaks
    group_col = "arm" if include_arm else None
    # Cut-offs at the median peaks, so that patients fall on both sides (the demo's peaks are low).
    peaks = from_rows(rows, group_col=group_col).patients
    cuts = dict(alt_cut=float(peaks["alt_peak"].median()), bili_cut=float(peaks["bili_peak"].median()))
    expected = from_rows(rows, group_col=group_col, groups=groups, **cuts)
    got = from_peaks(dish_peaks(con, f, include_arm), groups=groups, **cuts)
    assert len(expected.patients) > 0 and (expected.counts["n"] > 0).sum() >= 2
    pd.testing.assert_frame_equal(got.patients, expected.patients, **CLOSE)
    pd.testing.assert_frame_equal(got.counts, expected.counts)
    assert (got.method, got.alt_cut, got.bili_cut) == (expected.method, *cuts.values())
    # Arms in study order, not in the order the rows happen to meet them; pooled is one group.
    assert list(got.counts["group"].unique()) == (groups or [POOLED_LABEL])


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
@pytest.mark.parametrize("value_col", ["value", "chg", "pchg"])
@pytest.mark.parametrize("code", ["MELD", "ALT", "BILI"])
def test_box_stats_from_sql_equal_the_pandas_box_stats(con, include_arm, f, value_col, code):
    groups = study_groups(con, include_arm)
    rows = add_change_from_baseline(queries.lab_rows(con, f, (code,), include_arm))
    expected = box_stats(rows, value_col=value_col, group_col="arm" if include_arm else None, groups=groups)
    got = box_stats_from_aggregates(lab_box_stats(con, f, code, value_col, include_arm), value_col=value_col,
                                    groups=groups)
    assert len(expected.summary) > 0
    pd.testing.assert_frame_equal(got.summary, expected.summary, **CLOSE)
    assert got.method == expected.method and got.value_col == value_col


def test_some_whiskers_stop_short_of_the_extremes(con):
    """Otherwise the Tukey rule would be untested: min/max would pass as whiskers."""
    rows = add_change_from_baseline(queries.lab_rows(con, SubjectFilter(), ("ALT",), True))
    boxes = box_stats_from_aggregates(lab_box_stats(con, SubjectFilter(), "ALT", "value", True)).summary
    extremes = rows.groupby(["arm", "visit_num"])["value"].agg(["min", "max"]).reset_index()
    merged = boxes.merge(extremes, left_on=["group", "visit_num"], right_on=["arm", "visit_num"])
    assert (merged["whisker_hi"] < merged["max"]).any()


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
@pytest.mark.parametrize("value_col", ["value", "chg", "pchg"])
@pytest.mark.parametrize("max_points", [100_000, 200, 60])
def test_sql_trajectory_sample_is_the_sample_of_all_rows(con, include_arm, f, value_col, max_points):
    rows = add_change_from_baseline(queries.lab_rows(con, f, ("MELD",), include_arm))
    expected = sample_trajectories(rows, value_col=value_col, group_col="arm" if include_arm else None,
                                   max_points=max_points)
    got = trajectories_from_sample(lab_trajectory_sample(con, f, "MELD", value_col, max_points, include_arm),
                                   value_col=value_col, max_points=max_points)
    assert len(expected.rows) > 0
    pd.testing.assert_frame_equal(got.rows, expected.rows, **CLOSE)
    assert (got.n_shown, got.n_patients, got.value_col) == (expected.n_shown, expected.n_patients, value_col)
    assert len(got.rows) + got.n_shown <= max_points
    points = rows.dropna(subset=["study_day", value_col])
    if len(points) + points["usubjid"].nunique() > max_points:
        assert 0 < got.n_shown < got.n_patients


def test_an_uneven_sample_is_trimmed_alike(messy_con):
    """The messy trial's first patient, always in the sample, has many extra points: the sample is cut."""
    f = SubjectFilter()
    rows = add_change_from_baseline(queries.lab_rows(messy_con, f, ("MELD",), True))
    step_sampled = lab_trajectory_sample(messy_con, f, "MELD", "value", 100, True)
    got = trajectories_from_sample(step_sampled, max_points=100)
    assert got.n_shown < step_sampled["usubjid"].nunique()
    expected = sample_trajectories(rows, group_col="arm", max_points=100)
    pd.testing.assert_frame_equal(got.rows, expected.rows)
    assert (got.n_shown, got.n_patients) == (expected.n_shown, expected.n_patients)


def test_pooled_aggregates_never_carry_the_arm(con):
    f = SubjectFilter()
    for agg in (dish_peaks(con, f, False), lab_box_stats(con, f, "MELD", "value", False),
                lab_trajectory_sample(con, f, "MELD", "value", 1000, False)):
        assert agg["group"].isna().all() and "arm" not in agg.columns


@pytest.mark.parametrize("call, message", [
    (lambda c: lab_box_stats(c, SubjectFilter(), "MELD", "value; DROP", True), "value_col"),
    (lambda c: lab_trajectory_sample(c, SubjectFilter(), "MELD", "base", 100, True), "value_col"),
    (lambda c: lab_trajectory_sample(c, SubjectFilter(), "MELD", "value", 0, True), "max_points"),
])
def test_bad_arguments_are_refused(con, call, message):
    with pytest.raises(ValueError, match=message):
        call(con)
