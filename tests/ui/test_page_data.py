"""Page data through ``cache.computed``: cached per viewer's blinding, pooled for a blinded viewer."""

import duckdb
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.domain import POOLED_LABEL
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.ui import page_data
from dashboard.ui.cache import computed
from tests.conftest import UNUSUAL_ARMS

DSMB, INVESTIGATOR = Viewer("dsmb", "dsmb", "DSMB"), Viewer("inv", "investigator", "Investigator")


@pytest.fixture(scope="module")
def views(unusual_arms_db):
    with duckdb.connect(str(unusual_arms_db), read_only=True) as con:
        yield {v.role: TrialView(con, v, unusual_arms_db) for v in (DSMB, INVESTIGATOR)}


def test_a_blinded_and_an_unblinded_viewer_never_share_a_cached_result(views):
    f = SubjectFilter()
    by_arm = computed(views["dsmb"], page_data.lab_curve, f, "MELD", "value")
    pooled = computed(views["investigator"], page_data.lab_curve, f, "MELD", "value")
    assert set(by_arm.summary.summary["group"]) == set(UNUSUAL_ARMS)
    assert set(pooled.summary.summary["group"]) == {POOLED_LABEL}
    assert not any(arm in pooled.exits.to_csv() for arm in UNUSUAL_ARMS)
    temperatures = computed(views["investigator"], page_data.temperature_by_hour, f)
    assert not any(arm in temperatures.summary.to_csv() for arm in UNUSUAL_ARMS)


CALLS: list[tuple] = []


def _counted(view: TrialView, f: SubjectFilter) -> int:
    CALLS.append((view.sees_arms, f))
    return view.count_subjects(f)[0]


def test_the_same_call_is_computed_once_per_blinding_state_and_filter(views):
    f = SubjectFilter(sex=("F",))
    for _ in range(2):
        computed(views["dsmb"], _counted, f)
        computed(views["investigator"], _counted, f)
    computed(views["dsmb"], _counted, SubjectFilter())
    assert CALLS == [(True, f), (False, f), (True, SubjectFilter())]


def test_no_results_gives_none(views):
    assert computed(views["dsmb"], page_data.lab_curve, SubjectFilter(age_min=200), "MELD", "value") is None
