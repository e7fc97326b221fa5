"""/patients and /patient under AppTest, for each role: the list, the profile, the messages for an unknown
or filtered-out id, and blinding (no arm column, no arm name anywhere in what a blinded viewer receives)."""

from __future__ import annotations

import pytest

from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import UNUSUAL_ARMS, connect_unblinded
from tests.pages.apptest_helpers import ROLE_VIEWERS, run_page, sent_bytes

ROLES = tuple(ROLE_VIEWERS)


def _ids(db) -> list[str]:
    with connect_unblinded(db) as con:
        return [r[0] for r in con.execute("SELECT usubjid FROM subjects ORDER BY usubjid").fetchall()]


def _info(at) -> str:
    return " ".join(i.value for i in at.info)


@pytest.fixture
def unusual_env(app_env, monkeypatch, unusual_arms_db):
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    return unusual_arms_db


@pytest.mark.parametrize("role", ROLES)
def test_patient_list_has_one_row_per_patient_and_arm_only_for_the_dsmb(app_env, trial_db, role):
    at = run_page("pages/patients.py", role)
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["usubjid"]) == _ids(trial_db)
    assert {"site_id", "etiology", "lf_type", "baseline_meld", "latest_meld", "days_on_study",
            "meld_trend"} <= set(table.columns)
    assert ("arm" in table.columns) == (role == "dsmb")


def test_patient_list_search_narrows_the_rows(app_env, trial_db):
    at = run_page("pages/patients.py", "investigator")
    at.text_input(key="patients_search").input("MSC-000").run()
    assert list(at.dataframe[0].value["usubjid"]) == [i for i in _ids(trial_db) if "MSC-000" in i]


def test_patient_list_shows_the_first_rows_of_a_long_list_and_says_how_many_match(app_env, trial_db, monkeypatch):
    from dashboard.domain import profile

    monkeypatch.setattr(profile, "LIST_LIMIT", 10)
    at = run_page("pages/patients.py", "investigator")
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    ids = _ids(trial_db)
    assert list(table["usubjid"]) == ids[:10]
    assert all(len(t) > 0 for t in table["meld_trend"])
    captions = " ".join(c.value for c in at.caption)
    assert f"Showing the first 10 of {len(ids)} matching patients" in captions


@pytest.mark.parametrize("role", ROLES)
def test_patient_profile_draws_every_section_for_each_role(app_env, trial_db, role):
    first = _ids(trial_db)[0]
    at = run_page("pages/patient.py", role, {"id": first})
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == f"Patient {first}"
    assert not at.info, _info(at)
    header = " ".join(m.value for m in at.markdown)
    assert "Baseline MELD" in header and "Infusions received" in header
    assert ("**Arm**" in header) == (role == "dsmb")
    assert at.dataframe[0].value["Visit"].iloc[0] == "Baseline"
    assert at.segmented_control(key="patient_scale").value == "raw"


def test_changing_the_scale_redraws_the_labs_without_error(app_env, trial_db):
    at = run_page("pages/patient.py", "investigator", {"id": _ids(trial_db)[3]})
    for scale in ("uln", "chg"):
        at.segmented_control(key="patient_scale").set_value(scale).run()
        assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("role", ROLES)
def test_unknown_patient_id_gets_a_message_not_an_exception(app_env, role):
    at = run_page("pages/patient.py", role, {"id": "NO-SUCH-9999"})
    assert not at.exception
    assert 'There is no patient "NO-SUCH-9999"' in _info(at)


def test_missing_id_asks_the_viewer_to_pick_a_patient(app_env):
    at = run_page("pages/patient.py", "investigator")
    assert not at.exception
    assert "No patient chosen" in _info(at)


@pytest.mark.parametrize("role", ROLES)
def test_patient_excluded_by_the_filters_gets_a_message(app_env, trial_db, role):
    ids = _ids(trial_db)
    at = run_page("pages/patient.py", role, {"id": ids[0], "q": ids[1]})
    assert not at.exception
    assert f"Patient {ids[0]} is not among the patients selected by the current filters" in _info(at)


def _nav(at) -> dict[str, tuple[str, bool]]:
    return {b.key: (b.label, b.disabled) for b in at.button if b.key in ("patient_prev", "patient_next")}


def test_previous_and_next_follow_the_filtered_list(app_env, trial_db):
    ids = _ids(trial_db)
    at = run_page("pages/patient.py", "investigator", {"id": ids[5]})
    assert _nav(at) == {"patient_prev": (f"Previous: {ids[4]}", False), "patient_next": (f"Next: {ids[6]}", False)}
    at.button(key="patient_next").click().run()
    assert at.query_params["id"] == ids[6] and at.title[0].value == f"Patient {ids[6]}"
    at = run_page("pages/patient.py", "investigator", {"id": ids[0]})
    assert _nav(at)["patient_prev"][1] is True and _nav(at)["patient_next"][0] == f"Next: {ids[1]}"


def test_filtered_list_ends_at_the_last_matching_patient(app_env, trial_db):
    f = SubjectFilter(id_search="MSC-000")
    ids = [i for i in _ids(trial_db) if f.id_search in i]
    at = run_page("pages/patient.py", "investigator", {"id": ids[-1], "q": f.id_search})
    assert _nav(at) == {"patient_prev": (f"Previous: {ids[-2]}", False), "patient_next": ("Next: -", True)}


@pytest.mark.parametrize("role", ["investigator", "data_manager"])
def test_blinded_profile_and_list_carry_no_arm_name(unusual_env, role):
    first = _ids(unusual_env)[0]
    for page, params in (("pages/patients.py", {}), ("pages/patient.py", {"id": first})):
        at = run_page(page, role, params)
        assert not at.exception
        sent = sent_bytes(at)
        for arm in UNUSUAL_ARMS:
            assert arm.encode() not in sent, f"{page} sent arm name {arm!r} to a {role}"


def test_dsmb_profile_names_the_patients_arm(unusual_env):
    at = run_page("pages/patient.py", "dsmb", {"id": _ids(unusual_env)[0]})
    header = " ".join(m.value for m in at.markdown)
    assert any(arm in header for arm in UNUSUAL_ARMS)
