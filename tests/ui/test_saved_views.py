"""Saved views persist per user, and a shared DSMB view loses its arm criterion for a blinded viewer."""

from dashboard.domain.subject_filter import SubjectFilter
from dashboard.ui.saved_views import link, load_views, save_view
from tests.pages.apptest_helpers import ROLE_VIEWERS


def test_saved_views_round_trip_per_user(monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_AUDIT", str(tmp_path / "audit.jsonl"))
    save_view(ROLE_VIEWERS["dsmb"], "Women on UC-MSC", "survival", {"sex": "F", "arm": "UC-MSC"})
    views = load_views(ROLE_VIEWERS["dsmb"])
    assert link(views["Women on UC-MSC"]) == "/survival?arm=UC-MSC&sex=F"  # keys sorted on save
    assert load_views(ROLE_VIEWERS["investigator"]) == {}


def test_a_shared_arm_filter_is_dropped_for_blinded_viewers():
    f = SubjectFilter.from_query_params({"sex": "F", "arm": "UC-MSC"}, allow_arm=False)
    assert f == SubjectFilter(sex=("F",)) and "blinded" in f.notes[0]
