"""/ascites under AppTest: the DSMB sees every section by arm (active first); a blinded investigator sees
the same sections pooled with no arm name anywhere (element text, dataframes, chart specs)."""

import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import run_page, sent_bytes

PAGE = "pages/ascites.py"
SECTIONS = ["Grade by visit", "Depth and volume", "Free of ascites", "Shift from baseline", "Time to resolution",
            "Grade transitions"]


@pytest.fixture
def unusual_env(app_env, monkeypatch, unusual_arms_db):
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    return unusual_arms_db


def frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_dsmb_sees_every_section_by_arm_active_first(unusual_env):
    at = run_page(PAGE, "dsmb")
    assert not at.exception, [e.value for e in at.exception]
    assert [h.value for h in at.subheader] == SECTIONS
    shift = frame_with(at, "worsened")
    assert list(shift["group"].unique()) == list(UNUSUAL_ARMS)
    assert list(shift["visit"].unique()) == ["W4", "W12", "W24", "W48"]
    assert (shift["improved"] + shift["stable"] + shift["worsened"] == shift["n"]).all()
    km = frame_with(at, "resolved")
    assert list(km["group"]) == list(UNUSUAL_ARMS) and (km["resolved"] <= km["n"]).all()
    sent = sent_bytes(at)
    assert all(arm.encode() in sent for arm in UNUSUAL_ARMS)


def test_investigator_sees_every_section_pooled_with_no_arm_name_anywhere(unusual_env):
    at = run_page(PAGE, "investigator")
    assert not at.exception, [e.value for e in at.exception]
    assert [h.value for h in at.subheader] == SECTIONS
    sent = sent_bytes(at)
    for arm in UNUSUAL_ARMS:
        assert arm.encode() not in sent, f"{arm!r} sent to a blinded viewer"
    assert set(frame_with(at, "worsened")["group"]) == {POOLED_LABEL}
    assert list(frame_with(at, "resolved")["group"]) == [POOLED_LABEL]


def test_median_statistic_and_fewer_sankey_visits_work(unusual_env):
    at = run_page(PAGE, "dsmb")
    at.button_group(key="ascites_stat").set_value("median").run()
    at.multiselect(key="ascites_sankey_visits").set_value(["Baseline"]).run()
    assert not at.exception
    assert "Choose at least two visits" in at.info[0].value
    at.multiselect(key="ascites_sankey_visits").set_value(["W12", "Baseline"]).run()
    assert not at.exception and not at.info
    assert b"Baseline: none" in sent_bytes(at)


def test_dsmb_filtering_one_arm_sees_that_arm_only_with_its_resolution_curve(unusual_env):
    at = run_page(PAGE, "dsmb")
    at.session_state["subject_filter"] = SubjectFilter(arm=(UNUSUAL_ARMS[1],))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [i.value for i in at.info if "resolution" in i.value]
    assert set(frame_with(at, "worsened")["group"]) == {UNUSUAL_ARMS[1]}
    assert list(frame_with(at, "resolved")["group"]) == [UNUSUAL_ARMS[1]]
