"""Analyses are cached per cut and blinding state: a blinded and an unblinded viewer never share a result."""

import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.analyses import analysis, labs, safety
from dashboard.domain import POOLED_LABEL
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import UNUSUAL_ARMS, connect_unblinded

DSMB, INVESTIGATOR = Viewer("dsmb", "dsmb", "DSMB"), Viewer("inv", "investigator", "Investigator")


@pytest.fixture(scope="module")
def views(unusual_arms_db):
    with connect_unblinded(unusual_arms_db) as con:
        yield {v.role: TrialView(con, v, unusual_arms_db) for v in (DSMB, INVESTIGATOR)}


def test_a_blinded_and_an_unblinded_viewer_never_share_a_cached_result(views):
    f = SubjectFilter()
    by_arm = labs.lab_curve(views["dsmb"], f, "MELD", "value")
    pooled = labs.lab_curve(views["investigator"], f, "MELD", "value")
    assert set(by_arm.summary.summary["group"]) == set(UNUSUAL_ARMS)
    assert set(pooled.summary.summary["group"]) == {POOLED_LABEL}
    assert not any(arm in pooled.exits.to_csv() for arm in UNUSUAL_ARMS)
    temperatures = safety.temperature_by_hour(views["investigator"], f)
    assert not any(arm in temperatures.summary.to_csv() for arm in UNUSUAL_ARMS)


CALLS: list[tuple] = []


@analysis
def _counted(view: TrialView, f: SubjectFilter) -> int:
    CALLS.append((view.sees_arms, f))
    return view.count_subjects(f)[0]


def test_the_same_call_is_computed_once_per_blinding_state_and_filter(views):
    f = SubjectFilter(sex=("F",))
    for _ in range(2):
        _counted(views["dsmb"], f)
        _counted(views["investigator"], f)
    _counted(views["dsmb"], SubjectFilter())
    assert CALLS == [(True, f), (False, f), (True, SubjectFilter())]


def test_a_caller_changing_a_result_does_not_change_the_next_callers(views):
    f = SubjectFilter()
    first = labs.lab_curve(views["dsmb"], f, "ALB", "value")
    first.summary.summary["mean"] = -1.0
    assert (labs.lab_curve(views["dsmb"], f, "ALB", "value").summary.summary["mean"] > 0).all()


def test_no_results_gives_none(views):
    assert labs.lab_curve(views["dsmb"], SubjectFilter(age_min=200), "MELD", "value") is None


def test_a_default_spelled_out_shares_the_cached_result(views):
    from dashboard.analyses import survival

    f = SubjectFilter(sex=("M",))
    first = survival.survival(views["dsmb"], f, "os")
    assert survival.survival(views["dsmb"], f, "os", None, "log-log").km.summary.equals(first.km.summary)
    from dashboard.cache import RESULTS

    hits = RESULTS.hits
    survival.survival(views["dsmb"], f, "os", as_of=None, conf_type="log-log")
    assert RESULTS.hits == hits + 1


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_rates_from_the_sql_exposure_equal_the_rates_from_ae_rows(views, role):
    import pandas as pd

    from dashboard.domain.safety_signals import exposure_adjusted_from_counts
    from tests.oracle.safety_signals import ae_exposure_counts

    view, f = views[role], SubjectFilter(sex=("F",))
    exposure = ae_exposure_counts(view.adverse_event_rows(f), view.subjects(f), group_col=view.group_col)
    from_rows = exposure_adjusted_from_counts(exposure, arms=view.arms() or None)
    pd.testing.assert_frame_equal(safety.exposure_adjusted_rates(view, f).table, from_rows.table, check_dtype=False)
    assert (from_rows.table["years_at_risk"] < from_rows.table["years_followed"]).any()
