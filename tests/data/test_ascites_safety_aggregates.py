"""Ascites and temperature aggregated in DuckDB equal the pandas functions on the fetched rows."""

import pandas as pd
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.domain import POOLED_LABEL, safety
from dashboard.domain.ascites import MEASURES, distribution_from_counts, free_from_distribution
from dashboard.domain.labstats import summary_from_aggregates
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import connect_unblinded
from tests.oracle import safety as safety_oracle
from tests.oracle.ascites import free_of_ascites, grade_distribution, measure_by_visit

VIEWERS = {"by arm": Viewer("dsmb", "dsmb", "DSMB"), "pooled": Viewer("inv", "investigator", "Investigator")}
FILTERS = [SubjectFilter(), SubjectFilter(sex=("F",))]
CLOSE = dict(check_exact=False, rtol=1e-9, atol=1e-9, check_dtype=False)


@pytest.fixture(scope="module")
def con(trial_db):
    with connect_unblinded(trial_db) as c:
        yield c


@pytest.fixture(params=list(VIEWERS))
def view(request, con, trial_db):
    return TrialView(con, VIEWERS[request.param], trial_db)


@pytest.mark.parametrize("f", FILTERS, ids=["all", "women"])
def test_grade_distribution_and_free_of_ascites_from_sql_counts(view, f):
    groups = view.arms() or None
    rows = view.ascites_rows(f)
    expected = grade_distribution(rows, group_col=view.group_col, groups=groups)
    got = distribution_from_counts(view.ascites_grade_counts(f), groups=groups)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, **CLOSE)
    free, expected_free = free_from_distribution(got), free_of_ascites(rows, group_col=view.group_col, groups=groups)
    pd.testing.assert_frame_equal(free.summary, expected_free.summary, **CLOSE)
    assert free.method == expected_free.method


@pytest.mark.parametrize("f", FILTERS, ids=["all", "women"])
@pytest.mark.parametrize("measure", MEASURES)
def test_depth_and_volume_summary_from_sql(view, f, measure):
    groups = view.arms() or None
    expected = measure_by_visit(view.ascites_rows(f), measure=measure, group_col=view.group_col, groups=groups)
    stats = view.ascites_measure_summaries(f)
    assert set(stats["measure"]) == set(MEASURES)
    got = summary_from_aggregates(stats[stats["measure"] == measure].drop(columns="measure").reset_index(drop=True),
                                  value_col=measure, groups=groups)
    assert len(expected.summary) > 0
    pd.testing.assert_frame_equal(got.summary, expected.summary, **CLOSE)
    assert got.method == expected.method


@pytest.mark.parametrize("f", FILTERS, ids=["all", "women"])
def test_temperature_by_hour_from_sql(view, f):
    arms = tuple(view.arms())
    expected = safety_oracle.temperature_by_hour(view.vital_rows(f), group_col=view.group_col, arms=arms)
    got = safety.temperature_from_aggregates(view.temperature_summary(f), arms=arms)
    assert len(expected.summary) > 0
    pd.testing.assert_frame_equal(got.summary, expected.summary, **CLOSE)
    assert got.method == expected.method


def test_pooled_aggregates_have_no_arm(con, trial_db):
    view = TrialView(con, VIEWERS["pooled"], trial_db)
    f = SubjectFilter()
    for agg in (view.ascites_grade_counts(f), view.ascites_measure_summaries(f), view.temperature_summary(f)):
        assert agg["group"].isna().all() and "arm" not in agg.columns
    assert set(distribution_from_counts(view.ascites_grade_counts(f))["group"]) == {POOLED_LABEL}
