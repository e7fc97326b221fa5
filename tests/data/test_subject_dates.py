"""The slim subject queries (dates, exits, first randomisation) equal what pages used to derive from the full
subject rows: the same patients, dates, exit days and exits between visits."""

import pandas as pd
import pytest

from dashboard.data import queries
from dashboard.domain import POOLED_LABEL
from dashboard.domain.labstats import EXIT_STATUSES, deaths_between_visits
from dashboard.domain.subject_filter import SubjectFilter
from tests.data.sql_helpers import study_groups
from tests.oracle.labstats import add_exit_day

FILTERS = {"all": SubjectFilter(), "women": SubjectFilter(sex=("F",)), "site": SubjectFilter(site=("S01",))}


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_subject_dates_and_first_randomisation_equal_the_subject_rows(demo_con, include_arm, f):
    subjects = queries.subjects(demo_con, f, include_arm)
    dates = queries.subject_dates(demo_con, f, include_arm)
    assert len(dates) > 0 and ("arm" in dates.columns) == include_arm
    pd.testing.assert_frame_equal(dates, subjects[list(dates.columns)])
    assert queries.first_randomized(demo_con, f) == subjects["randomized_on"].min().date()


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_exits_in_sql_give_the_exits_between_visits_of_the_subject_rows(demo_con, include_arm, f):
    group_col, groups = ("arm" if include_arm else None), study_groups(demo_con, include_arm) or [POOLED_LABEL]
    from_rows = add_exit_day(queries.subjects(demo_con, f, include_arm))
    exits = queries.subject_exits(demo_con, f, include_arm)
    expected = from_rows[from_rows["status"].isin(list(EXIT_STATUSES))].reset_index(drop=True)
    assert len(exits) > 0 and set(exits["status"]) >= {"died"}
    pd.testing.assert_frame_equal(exits, expected[list(exits.columns)])
    visits = queries.visit_schedule(demo_con)
    by_interval = deaths_between_visits(exits, visits, group_col=group_col, groups=groups)
    assert by_interval["total"].sum() == len(exits)
    pd.testing.assert_frame_equal(by_interval, deaths_between_visits(from_rows, visits, group_col=group_col,
                                                                     groups=groups))


def test_a_group_nobody_left_still_has_its_zero_rows(demo_con):
    visits = queries.visit_schedule(demo_con)
    none_left = queries.subject_exits(demo_con, SubjectFilter(id_search="no such patient"), True)
    table = deaths_between_visits(none_left, visits, group_col="arm", groups=["UC-MSC", "Placebo"])
    assert list(pd.unique(table["group"])) == ["UC-MSC", "Placebo"] and table["total"].sum() == 0
