"""/ascites under AppTest: the DSMB sees every section by arm (active first), by default with the dead kept (shift
with died and transplanted, cumulative incidence of resolution with Gray's test, Sankey with absorbing states), and
the survivors-only views on request; a blinded investigator sees the same sections pooled with no arm name
anywhere (element text, dataframes, chart specs) and no test between arms."""

import json
import re

import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.disclosure import SUPPRESSED
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.ui.sections import ASCITES_POPULATIONS
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import run_page, sent_bytes

PAGE = "pages/ascites.py"
SECTIONS = ["Grade by visit", "Depth and volume", "Free of ascites", "Shift from baseline", "Time to resolution",
            "Grade transitions"]
EXITS = ["not_assessed", "withdrawn_or_lost", "transplanted", "died"]


@pytest.fixture
def unusual_env(app_env, monkeypatch, unusual_arms_db):
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    return unusual_arms_db


def frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_dsmb_sees_every_section_by_arm_active_first_with_the_dead_kept(unusual_env):
    at = run_page(PAGE, "dsmb")
    assert not at.exception, [e.value for e in at.exception]
    assert [h.value for h in at.subheader] == SECTIONS
    assert at.button_group(key="ascites_population").value == ASCITES_POPULATIONS[0]
    shift = frame_with(at, "worsened")
    assert list(shift["group"].unique()) == list(UNUSUAL_ARMS)
    assert list(shift["visit"].unique()) == ["W4", "W12", "W24", "W48"]
    assert (shift[["improved", "stable", "worsened", *EXITS]].sum(axis=1) == shift["n"]).all()
    assert shift["died"].sum() > 0
    cif = frame_with(at, "censored")
    assert list(cif["group"]) == list(UNUSUAL_ARMS)
    assert (cif[["resolved", "died", "transplanted", "censored"]].sum(axis=1) == cif["n"]).all()
    shown = captions(at)
    assert "Gray's test" in shown and "p = " in shown and "competing" in shown
    assert "Not counted at" in shown and "died" in shown
    assert f"Every selected patient is in every column ({UNUSUAL_ARMS[0]}: " in shown
    sent = sent_bytes(at)
    assert all(arm.encode() in sent for arm in UNUSUAL_ARMS)
    assert b"W4: died" in sent and b"resolved" in sent


def test_dsmb_can_count_survivors_only(unusual_env):
    at = run_page(PAGE, "dsmb")
    at.button_group(key="ascites_population").set_value(ASCITES_POPULATIONS[1]).run()
    assert not at.exception, [e.value for e in at.exception]
    shift = frame_with(at, "worsened")
    assert "died" not in shift.columns
    assert (shift["improved"] + shift["stable"] + shift["worsened"] == shift["n"]).all()
    km = frame_with(at, "median (days)")
    assert list(km["group"]) == list(UNUSUAL_ARMS) and (km["resolved"] <= km["n"]).all()
    shown = captions(at)
    assert "Survivors only" in shown and "Deaths and transplants are censored" in shown
    assert b"W4: died" not in sent_bytes(at)


def test_investigator_sees_every_section_pooled_with_no_arm_name_anywhere(unusual_env):
    at = run_page(PAGE, "investigator")
    assert not at.exception, [e.value for e in at.exception]
    assert [h.value for h in at.subheader] == SECTIONS
    sent = sent_bytes(at)
    for arm in UNUSUAL_ARMS:
        assert arm.encode() not in sent, f"{arm!r} sent to a blinded viewer"
    assert set(frame_with(at, "worsened")["group"]) == {POOLED_LABEL}
    assert list(frame_with(at, "censored")["group"]) == [POOLED_LABEL]
    assert "Gray's test" not in captions(at)
    at.button_group(key="ascites_population").set_value(ASCITES_POPULATIONS[1]).run()
    assert not at.exception
    assert list(frame_with(at, "median (days)")["group"]) == [POOLED_LABEL]


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
    assert list(frame_with(at, "censored")["group"]) == [UNUSUAL_ARMS[1]]
    # One arm: nothing to compare, so no Gray's test.
    assert "Gray's test" not in captions(at)
    at.button_group(key="ascites_population").set_value(ASCITES_POPULATIONS[1]).run()
    assert list(frame_with(at, "resolved")["group"]) == [UNUSUAL_ARMS[1]]


def test_a_blinded_small_selection_writes_counts_of_one_to_four_as_less_than_five(unusual_env):
    """Women only: few enough that some deaths, transplants or exits per visit are 1-4 patients. The population
    note and table, the shift table and the Sankey's hovers show them as "<5"; the DSMB sees them."""
    reasons = r"(died|transplanted|withdrawn or lost|not assessed|not yet due)"
    shown = {}
    for role in ("investigator", "dsmb"):
        at = run_page(PAGE, role, {"sex": "F"})
        assert not at.exception, [e.value for e in at.exception]
        population = frame_with(at, "patients")
        sankey = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"sankey"' in c.proto.spec)
        # Each node's and link's hover data ends with its count.
        hovers = [v[-1] for trace in sankey["data"] for part in ("node", "link") for v in trace[part]["customdata"]]
        shown[role] = (captions(at), population, frame_with(at, "worsened"), hovers)
    note, population, shift, hovers = shown["investigator"]
    assert not re.search(rf"\b[1-4] {reasons}", note) and re.search(rf"{SUPPRESSED} {reasons}", note)
    for table in (population, shift):
        cells = table.drop(columns=["group", "visit"]).astype(str).to_numpy().ravel()
        assert not [c for c in cells if c in {"1", "2", "3", "4"}]
        assert SUPPRESSED in cells
    assert SUPPRESSED in hovers and not {"1", "2", "3", "4"} & set(hovers)
    dsmb_note, dsmb_population, _, dsmb_hovers = shown["dsmb"]
    assert re.search(rf"\b[1-4] {reasons}", dsmb_note) and {"1", "2", "3", "4"} & set(dsmb_hovers)
    assert SUPPRESSED not in pd.DataFrame(dsmb_population).astype(str).to_numpy().ravel()
