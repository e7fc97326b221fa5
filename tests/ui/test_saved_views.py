"""Saved views persist per user, and a shared DSMB view loses its arm criterion for a blinded viewer."""

import json

from dashboard.access.viewer import Viewer
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


def test_users_whose_names_differ_only_in_unsafe_characters_keep_separate_views(monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_AUDIT", str(tmp_path / "audit.jsonl"))
    ann_lee, ann_underscore = Viewer("ann lee", "dsmb", "Ann"), Viewer("ann_lee", "investigator", "Ann")
    save_view(ann_lee, "Mine", "survival", {"sex": "F"})
    assert load_views(ann_underscore) == {}
    save_view(ann_underscore, "Other", "overview", {})
    assert set(load_views(ann_lee)) == {"Mine"}


def test_views_saved_before_the_hashed_file_names_are_still_read_and_moved(monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("DASHBOARD_USERS", str(tmp_path / "users.toml"))
    legacy = tmp_path / "saved_views" / "dsmb.json"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps({"Old": {"page": "survival", "params": {"sex": "F"}}}))
    assert set(load_views(ROLE_VIEWERS["dsmb"])) == {"Old"}
    save_view(ROLE_VIEWERS["dsmb"], "New", "overview", {})
    assert set(load_views(ROLE_VIEWERS["dsmb"])) == {"Old", "New"} and not legacy.exists()


def test_an_old_file_two_local_users_could_own_is_not_read(monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("DASHBOARD_USERS", str(tmp_path / "users.toml"))
    (tmp_path / "users.toml").write_text('[users."ann lee"]\nrole = "dsmb"\nhash = "x"\n'
                                         '[users.ann_lee]\nrole = "investigator"\nhash = "x"\n')
    legacy = tmp_path / "saved_views" / "ann_lee.json"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps({"Whose?": {"page": "survival", "params": {}}}))
    assert load_views(Viewer("ann_lee", "investigator", "Ann")) == {}
