"""/labs under AppTest: the DSMB sees the arms and the between-arm comparison; a blinded investigator
sees the same views pooled, no arm name anywhere and no comparison; lab and scale switches work."""

import json

import pytest

from dashboard.domain import POOLED_LABEL
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import run_page, sent_bytes

PAGE = "pages/labs.py"
VIEWS = ("Keep the dead", "Summary table", "Arm comparison", "Box plots", "Trajectories", "Shift table", "Liver safety")


@pytest.fixture
def unusual_env(app_env, monkeypatch, unusual_arms_db):
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    return unusual_arms_db


def open_view(role: str, view: str, lab: str | None = None, mode: str | None = None):
    at = run_page(PAGE, role)
    if lab:
        at.selectbox(key="labs_param").set_value(lab).run()
    if mode:
        at.button_group(key="labs_mode").set_value(mode).run()
    at.button_group(key="labs_view").set_value(view).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_page_offers_exactly_the_views_this_test_covers(unusual_env):
    at = run_page(PAGE, "investigator")
    assert tuple(at.button_group(key="labs_view").options) == VIEWS


def test_dsmb_sees_both_arms_and_the_nominal_comparison_table(unusual_env):
    at = open_view("dsmb", "Arm comparison")
    active, control = UNUSUAL_ARMS
    table = frame_with(at, "ANCOVA p (nominal)")
    assert {f"n {active}", f"n {control}", "adjusted difference", "Wilcoxon p (nominal)"} <= set(table.columns)
    assert table["visit"].iloc[0] == "W1" and table["ANCOVA p (nominal)"].notna().any()
    assert any("not adjusted for multiplicity" in m.value for m in at.markdown)
    # Late visits have few patients per arm: the warning says so.
    assert any("Fewer than 5 patients" in w.value for w in at.warning)
    sent = sent_bytes(at)
    assert all(arm.encode() in sent for arm in UNUSUAL_ARMS) and b"left " + active.encode() in sent


@pytest.mark.parametrize("view", VIEWS)
def test_investigator_sees_the_view_pooled_with_no_arm_name_anywhere(unusual_env, view):
    at = open_view("investigator", view, lab="ALB")
    sent = sent_bytes(at)
    for arm in UNUSUAL_ARMS:
        assert arm.encode() not in sent, f"{arm!r} sent to a blinded viewer in {view!r}"
    assert POOLED_LABEL.encode() in sent
    assert not any("ANCOVA p (nominal)" in d.value.columns for d in at.dataframe)


def test_investigator_is_told_that_comparisons_are_not_shown(unusual_env):
    at = open_view("investigator", "Arm comparison")
    assert [i.value for i in at.info] == ["Between-arm comparisons are not shown in a blinded view."]


def test_switching_the_lab_changes_the_curves_and_the_table(unusual_env):
    meld = frame_with(open_view("dsmb", "Summary table"), "median")
    at = open_view("dsmb", "Summary table", lab="ALB")
    alb = frame_with(at, "median")
    assert b"Albumin (g/L)" in sent_bytes(at)
    assert alb["mean"].iloc[0] != meld["mean"].iloc[0]
    assert set(alb["group"]) == set(UNUSUAL_ARMS)


def test_change_from_baseline_mode_leaves_out_baseline(unusual_env):
    at = open_view("dsmb", "Summary table", lab="BILI", mode="chg")
    table = frame_with(at, "median")
    assert "Baseline" not in set(table["visit"]) and table["n"].gt(0).all()
    assert b"Change in Total bilirubin" in sent_bytes(at)


def test_shift_table_has_one_matrix_per_arm_and_meld_explains_why_it_has_none(unusual_env):
    at = open_view("dsmb", "Shift table", lab="ALB")
    matrices = [d.value for d in at.dataframe if "Grade 3" in d.value.columns]
    assert len(matrices) == 2 and sum(int(m.to_numpy().sum()) for m in matrices) == 70
    at = open_view("dsmb", "Shift table", lab="PTA")
    matrices = [d.value for d in at.dataframe if "<LLN" in d.value.columns]
    assert len(matrices) == 2 and sum(int(m.to_numpy().sum()) for m in matrices) == 70
    at = open_view("dsmb", "Shift table")
    assert "no CTCAE grade and no reference range" in at.info[0].value


def test_liver_safety_counts_quadrants_per_arm_with_adjustable_mdish_cut_offs(unusual_env):
    at = open_view("dsmb", "Liver safety")
    counts = [d.value for d in at.dataframe]
    # Only the baseline-relative plot (mDISH): one figure, one table, no Hy's-law quadrant.
    assert len(counts) == 1 and list(counts[0].columns) == list(UNUSUAL_ARMS)
    assert list(counts[0].index) == ["ALT and bilirubin rise", "ALT rise only", "bilirubin rise only",
                                     "below both cut-offs"]
    before = counts[0]
    at.number_input(key="labs_mdish_alt").set_value(1.0).run()
    at.number_input(key="labs_mdish_bili").set_value(1.0).run()
    assert not at.exception
    after = at.dataframe[0].value
    # Lower cut-offs move patients out of "below both cut-offs"; the patients counted stay the same.
    assert after.loc["below both cut-offs"].sum() < before.loc["below both cut-offs"].sum()
    assert after.to_numpy().sum() == before.to_numpy().sum()
    assert any("cut-offs ALT 1x and bilirubin 1x baseline" in c.value for c in at.caption)


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_liver_safety_says_why_it_plots_multiples_of_baseline_not_edish(unusual_env, role):
    at = open_view(role, "Liver safety")
    why = " ".join(i.value for i in at.info)
    assert "171 µmol/L, 10x ULN" in why and "Hy's-law quadrant" in why and "Treem et al." in why
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    dish = next(f for f in figures if f["layout"]["xaxis"].get("title", {}).get("text") == "Peak ALT (x baseline)")
    assert "Hy's law" not in json.dumps(dish["layout"]["annotations"])
    for axis in ("xaxis", "yaxis"):
        assert dish["layout"][axis]["ticktext"] == [f"{v:g}" for v in dish["layout"][axis]["tickvals"]]
    assert not any(f["layout"]["xaxis"].get("title", {}).get("text") == "Peak ALT (x ULN)" for f in figures)


def test_blinded_liver_safety_is_pooled_with_small_counts_hidden(unusual_env):
    at = open_view("investigator", "Liver safety")
    # A bilirubin cut-off of 1.5x baseline leaves one patient of this trial in the "bilirubin rise only" quadrant.
    at.number_input(key="labs_mdish_alt").set_value(1.0).run()
    at.number_input(key="labs_mdish_bili").set_value(1.5).run()
    table = at.dataframe[0].value
    assert list(table.columns) == [POOLED_LABEL] and "<5" in set(table[POOLED_LABEL])
    assert not any(0 < int(v) < 5 for v in table[POOLED_LABEL] if str(v).isdigit())
    assert not any(arm.encode() in sent_bytes(at) for arm in UNUSUAL_ARMS)


def _comparison_raising(monkeypatch, error: Exception):
    from dashboard.analyses import labs

    def raising(*args):
        raise error

    monkeypatch.setattr(labs, "arm_comparison", raising)
    at = run_page(PAGE, "dsmb")
    at.button_group(key="labs_view").set_value("Arm comparison").run()
    return at


def test_an_argument_error_is_not_passed_off_as_several_values_at_one_visit(unusual_env, monkeypatch):
    """The page used to turn any ValueError into "several values at one visit"; only the data condition is."""
    at = _comparison_raising(monkeypatch, ValueError("arm_comparison: argument code='XYZ' is not a lab"))
    assert [e.value for e in at.exception] and "several" not in " ".join(i.value for i in at.info)


def test_several_values_at_one_visit_is_explained(unusual_env, monkeypatch):
    from dashboard.errors import UnsuitableData

    at = _comparison_raising(monkeypatch, UnsuitableData("several post-baseline values for one usubjid"))
    assert not at.exception
    assert "values at one visit" in " ".join(i.value for i in at.info)


def test_a_comparison_with_one_arm_selected_says_so(unusual_env):
    at = run_page(PAGE, "dsmb", {"arm": UNUSUAL_ARMS[0]})
    at.button_group(key="labs_view").set_value("Arm comparison").run()
    assert not at.exception
    assert "needs two arms" in " ".join(i.value for i in at.info)


def test_keep_the_dead_is_the_first_view_and_counts_the_dead_for_the_dsmb(unusual_env):
    at = run_page(PAGE, "dsmb")
    assert at.button_group(key="labs_view").value == "Keep the dead"
    captions = " ".join(c.value for c in at.caption)
    assert "observed cases" in captions and "absorbing" in captions
    shift = next(d.value for d in at.dataframe if "Died" in d.value.columns)
    assert {"Transplanted", "Withdrawn or lost", "No value"} <= set(shift.columns)
    assert shift.to_numpy().sum() > 0
    sent = sent_bytes(at)
    assert all(arm.encode() in sent for arm in UNUSUAL_ARMS)
    # MELD at W12 with death ranked worst: the win ratio, the rank ANCOVA and the Wilcoxon test.
    tests = frame_with(at, "Comparison")
    assert tests["Comparison"].str.startswith("Win ratio").iloc[0]
    assert tests["p"].str.fullmatch(r"<0\.001|[01]\.\d+").all() and "None" not in tests.to_csv()
    assert tests["95% CI"].iloc[0].startswith("(") and tests["95% CI"].iloc[2] == "–"
    outcomes = frame_with(at, "Mean rank (1 = worst)")
    assert outcomes["Arm"].tolist() == list(UNUSUAL_ARMS) and outcomes["Died"].sum() > 0
    assert any("Lachin 1999" in c.value for c in at.caption)


@pytest.mark.parametrize("role", ["investigator", "data_manager"])
def test_keep_the_dead_is_pooled_without_a_comparison_for_blinded_roles(unusual_env, role):
    at = run_page(PAGE, role)
    assert not any("Comparison" in d.value.columns for d in at.dataframe)
    shift = next(d.value for d in at.dataframe if "Died" in d.value.columns)
    # Small cells: no count of 1 to 4 reaches a blinded viewer.
    cells = [v for v in shift.to_numpy().ravel() if isinstance(v, (int, float))]
    assert all(not 0 < v < 5 for v in cells) and (shift == "<5").to_numpy().any()



@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_shift_tables_grade_by_ctcae_in_both_directions_where_ctcae_grades_the_lab(unusual_env, role):
    at = open_view(role, "Shift table", lab="SODIUM")
    titles = " ".join(m.value for m in at.markdown)
    assert "Hyponatremia: CTCAE v5.0 grade" in titles and "Hypernatremia: CTCAE v5.0 grade" in titles
    table = at.dataframe[0].value
    assert "Grade 0" in table.index and "Grade 4" in table.columns
    assert any("CTCAE v5.0 grades from the laboratory value alone" in c.value for c in at.caption)
    at = open_view(role, "Shift table", lab="PTA")
    assert any("reference limits" in m.value for m in at.markdown)
