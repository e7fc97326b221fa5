"""/survival under AppTest: the DSMB sees per-arm curves, log-rank and Cox; a blinded investigator sees one
pooled curve, "All patients", and no arm name and no comparison anywhere; the as-of date re-censors."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.ui.survival_panels import selected_days
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import run_page, sent_bytes

PAGE = "pages/survival.py"
ACTIVE, CONTROL = UNUSUAL_ARMS


@pytest.fixture
def unusual_env(app_env, monkeypatch, unusual_arms_db):
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    return unusual_arms_db


def table_with(at, column: str):
    return next((d.value for d in at.dataframe if column in d.value.columns), None)


def all_text(at) -> str:
    tables = " ".join(" ".join(map(str, d.value.columns)) + " " + d.value.astype(str).to_string() for d in at.dataframe)
    return tables + " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info])


def choose(at, key: str, value):
    at.button_group(key=key).set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def curve_names(at) -> list[str]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [t["name"] for t in spec["data"] if (t.get("meta") or {}).get("role") == "curve"]


def test_dsmb_sees_both_arms_log_rank_and_cox_active_vs_control(unusual_env):
    at = run_page(PAGE, "dsmb")
    assert not at.exception
    assert table_with(at, "Median")["Group"].tolist() == [ACTIVE, CONTROL]
    assert table_with(at, "Chi-square")["df"].tolist() == [1]
    assert table_with(at, "HR")["Comparison"].tolist() == [f"{ACTIVE} vs {CONTROL}"]
    assert table_with(at, "Difference") is not None
    assert curve_names(at) == [ACTIVE, CONTROL]
    assert any("Efron" in c.value for c in at.caption)
    assert any("Number at risk at time t" in c.value for c in at.caption)


@pytest.mark.parametrize("kept", [ACTIVE, CONTROL])
def test_dsmb_filtering_one_arm_sees_that_arm_s_curve_and_no_comparison(unusual_env, kept):
    at = run_page(PAGE, "dsmb")
    at.session_state["subject_filter"] = SubjectFilter(arm=(kept,))
    at.run()
    assert not at.exception and not [i.value for i in at.info if "No patients" in i.value]
    assert table_with(at, "Median")["Group"].tolist() == [kept]
    assert curve_names(at) == [kept]


def test_investigator_sees_one_pooled_curve_and_no_arm_and_no_comparison(unusual_env):
    at = run_page(PAGE, "investigator")
    assert not at.exception
    assert table_with(at, "Median")["Group"].tolist() == [POOLED_LABEL]
    assert curve_names(at) == [POOLED_LABEL]
    assert table_with(at, "Chi-square") is None and table_with(at, "HR") is None
    assert table_with(at, "Difference") is None
    sent, text = sent_bytes(at), all_text(at)
    for arm in UNUSUAL_ARMS:
        assert arm.encode() not in sent and arm not in text
    assert "Log-rank" not in text and "log-rank" not in text


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_an_earlier_as_of_date_gives_fewer_events(unusual_env, role):
    at = run_page(PAGE, role)
    events_now = table_with(at, "Median")["Events"].sum()
    at.slider(key="survival_as_of").set_value(date(2025, 3, 1)).run()
    assert not at.exception
    assert table_with(at, "Median")["Events"].sum() < events_now
    assert any("data as of 2025-03-01" in c.value for c in at.caption)


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_competing_risks_endpoint_renders(unusual_env, role):
    at = choose(run_page(PAGE, role), "survival_endpoint", "cr")
    counts = table_with(at, "Transplants (competing)")
    assert counts["Group"].tolist() == ([ACTIVE, CONTROL] if role == "dsmb" else [POOLED_LABEL])
    assert (table_with(at, "HR") is not None) == (role == "dsmb")
    gray = table_with(at, "Chi-square")
    assert (gray is not None) == (role == "dsmb")
    if gray is not None:
        assert gray["Cause"].tolist() == ["death", "transplant"] and gray["p"].between(0, 1).all()
    at_milestones = table_with(at, "Cumulative incidence of transplant")
    assert at_milestones["Cumulative incidence of death"].notna().any()
    cif = json.loads(at.get("plotly_chart")[0].proto.spec)
    causes = {t["meta"]["cause"] for t in cif["data"] if t["meta"]["role"] == "curve"}
    assert causes == {"death", "transplant"} and any(t["meta"]["role"] == "ci" for t in cif["data"])


def test_dsmb_gets_the_subgroup_forest_plot(unusual_env):
    at = choose(run_page(PAGE, "dsmb"), "survival_more", "Subgroup forest plot")
    assert any("interaction" in c.value for c in at.caption)


def test_the_forest_plot_reports_interaction_p_only_collapses_sparse_levels_and_says_it_is_exploratory(unusual_env):
    at = choose(run_page(PAGE, "dsmb"), "survival_more", "Subgroup forest plot")
    table = table_with(at, "Interaction p")
    assert "p" not in table.columns and table.groupby("Subgroup")["Interaction p"].nunique().eq(1).all()
    # Every level shown has at least 5 deaths, both arms together.
    assert (table["Events"] + table["Events reference"]).ge(5).all()
    captions = " ".join(c.value for c in at.caption)
    assert "Exploratory: 6 subgroup variables examined" in captions and "none adjusted for multiplicity" in captions
    assert "Wang et al., N Engl J Med 2007;357:2189" in captions and "pooled into 'Other'" in captions
    # The demo's 20 deaths leave sparse levels: they are listed as collapsed on screen.
    assert any("Collapsed levels" in m.value for m in at.markdown)
    forest = json.loads(at.get("plotly_chart")[-1].proto.spec)
    texts = [a["text"] for a in forest["layout"]["annotations"]]
    assert sum(t.startswith("interaction p = ") for t in texts) == table["Subgroup"].nunique()
    assert not any(t.startswith("p = ") for t in texts) and any(t.startswith("Exploratory") for t in texts)
    assert forest["layout"]["xaxis"]["ticktext"] == [f"{v:g}" for v in forest["layout"]["xaxis"]["tickvals"]]


def test_blinded_viewer_is_told_why_there_is_no_subgroup_comparison(unusual_env):
    at = choose(run_page(PAGE, "investigator"), "survival_more", "Subgroup forest plot")
    assert any("not available in a blinded view" in i.value for i in at.info)


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_accrual_animation_renders(unusual_env, role):
    at = choose(run_page(PAGE, role), "survival_more", "Curves as the data accrued")
    assert any("re-censors" in c.value for c in at.caption)


@pytest.mark.parametrize("selection,per,expected", [
    ({"box": [{"x": [1.0, 4.0]}], "lasso": [], "points": []}, 7.0, (7.0, 28.0)),
    ({"box": [], "lasso": [{"x": [3.0, 1.0, 2.0]}], "points": []}, 1.0, (1.0, 3.0)),
    ({"box": [], "lasso": [], "points": [{"x": 30.0}, {"x": 10.0}]}, 1.0, (10.0, 30.0)),
    ({"box": [], "lasso": [], "points": []}, 1.0, None),
])
def test_selected_days_reads_box_lasso_or_points_in_days(selection, per, expected):
    window = selected_days(SimpleNamespace(selection=selection), per)
    assert window == (None if expected is None else pytest.approx(expected, abs=1e-5))
