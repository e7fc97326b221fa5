"""The per-visit lab summary aggregated in DuckDB equals summarise_by_visit on the fetched rows."""

import pandas as pd
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.domain.labstats import add_change_from_baseline, summary_from_aggregates
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import connect_unblinded
from tests.oracle.labstats import summarise_by_visit

VIEWERS = {"by arm": Viewer("dsmb", "dsmb", "DSMB"), "pooled": Viewer("inv", "investigator", "Investigator")}


@pytest.fixture(scope="module")
def con(trial_db):
    with connect_unblinded(trial_db) as c:
        yield c


@pytest.mark.parametrize("who", list(VIEWERS))
@pytest.mark.parametrize("code", ["MELD", "ALB", "BILI", "INR"])
@pytest.mark.parametrize("value_col", ["value", "chg", "pchg"])
@pytest.mark.parametrize("f", [SubjectFilter(), SubjectFilter(sex=("F",))], ids=["all", "women"])
def test_sql_summary_equals_the_pandas_summary(con, trial_db, who, code, value_col, f):
    view = TrialView(con, VIEWERS[who], trial_db)
    groups = view.arms() or None
    expected = summarise_by_visit(add_change_from_baseline(view.lab_rows(f, (code,))), value_col=value_col,
                                  group_col=view.group_col, groups=groups)
    got = summary_from_aggregates(view.lab_visit_summary(f, code, value_col), value_col=value_col, groups=groups)
    assert len(expected.summary) > 0
    pd.testing.assert_frame_equal(got.summary, expected.summary, check_exact=False, rtol=1e-9, atol=1e-9,
                                  check_dtype=False)
    assert got.method == expected.method


def test_the_pooled_sql_summary_has_no_arm(con, trial_db):
    view = TrialView(con, VIEWERS["pooled"], trial_db)
    agg = view.lab_visit_summary(SubjectFilter(), "MELD", "value")
    assert agg["group"].isna().all() and "arm" not in agg.columns
    assert set(summary_from_aggregates(agg).summary["group"]) == {"All patients"}


def test_an_unknown_value_column_is_refused(con, trial_db):
    with pytest.raises(ValueError, match="value_col"):
        TrialView(con, VIEWERS["by arm"], trial_db).lab_visit_summary(SubjectFilter(), "MELD", "value; DROP")
