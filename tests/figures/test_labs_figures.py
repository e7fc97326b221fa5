"""Structure tests of the lab and ascites figure builders: trace names, pooled purity, point caps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.lab_safety import MDISH_QUADRANTS
from dashboard.domain.labstats import add_change_from_baseline, deaths_between_visits
from dashboard.figures.ascites import free_of_ascites_figure, grade_bars_figure, sankey_figure
from dashboard.figures.labs import box_by_visit_figure, mdish_figure, mean_by_visit_figure, spaghetti_figure
from dashboard.figures.style import arm_colors
from tests.oracle.ascites import free_of_ascites, grade_distribution, grade_transitions
from tests.oracle.lab_safety import mdish
from tests.oracle.labplots import box_stats, sample_trajectories
from tests.oracle.labstats import summarise_by_visit

ARMS = ("UC-MSC", "Placebo")
COLORS = arm_colors(ARMS)
FIXTURE = Path(__file__).parents[1] / "domain" / "reference" / "alt_fixture.csv"


@pytest.fixture(scope="module")
def alt() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


def _no_arm_text(fig: go.Figure) -> None:
    text = json.dumps(fig.to_plotly_json(), default=str)
    for arm in ARMS:
        assert arm not in text, f"{arm!r} appears in a pooled figure"


@pytest.mark.parametrize("stat", ["mean", "median"])
def test_mean_by_visit_has_one_trace_per_arm_and_an_n_row_per_arm(alt, stat):
    s = summarise_by_visit(alt, group_col="arm")
    fig = mean_by_visit_figure(s, COLORS, stat=stat)
    assert [t.name for t in fig.data] == ["UC-MSC", "Placebo"]
    # n annotations: one label + 4 visits per arm; the Placebo W4 cell reads 4.
    n_texts = [a.text for a in fig.layout.annotations]
    assert len(n_texts) == 2 * (1 + 4) and "n Placebo" in n_texts
    placebo = s.summary[s.summary["group"] == "Placebo"]
    np.testing.assert_allclose(fig.data[1].y, placebo[stat])
    if stat == "mean":
        np.testing.assert_allclose(np.asarray(fig.data[1].y) - np.asarray(fig.data[1].error_y.arrayminus),
                                   placebo["ci_lower"])


def test_pooled_figures_contain_only_the_pooled_label(alt):
    pooled = alt.drop(columns="arm")
    figs = [mean_by_visit_figure(summarise_by_visit(pooled, group_col=None), COLORS),
            box_by_visit_figure(box_stats(pooled), COLORS),
            spaghetti_figure(sample_trajectories(pooled), COLORS),
            mdish_figure(mdish(pd.concat([pooled, pooled.assign(paramcd="BILI")]), group_col=None), COLORS)]
    for fig in figs:
        assert {t.name.split(" (")[0] for t in fig.data} == {POOLED_LABEL}
        _no_arm_text(fig)


def test_mean_by_visit_puts_exits_between_the_visit_ticks(alt):
    s = summarise_by_visit(alt, group_col="arm", groups=list(ARMS))
    visits = s.summary.drop_duplicates("visit_num")[["visit", "visit_num"]].assign(target_day=[1, 8, 29, 85])
    subjects = pd.DataFrame({"usubjid": ["a", "b", "c"], "arm": ["UC-MSC", "UC-MSC", "Placebo"],
                             "status": ["died", "transplanted", "withdrawn"], "exit_day": [20, 20, 500]})
    exits = deaths_between_visits(subjects, visits, group_col="arm")
    fig = mean_by_visit_figure(s, COLORS, exits=exits)
    notes = {(a.text, a.x) for a in fig.layout.annotations}
    # Day 20 lies between W1 (tick 1) and W4 (tick 2): drawn at 1.5; Placebo's day-500 exit after the last visit.
    assert ("†1 Tx1", 1.5) in notes and ("Wd1", 3.5) in notes
    assert {"left UC-MSC", "left Placebo"} <= {a.text for a in fig.layout.annotations}
    # Four rows under the axis (n and left per arm) never overlap: each row is its own pixel offset.
    shifts = sorted({a.yshift for a in fig.layout.annotations})
    assert len(shifts) == 4 and min(np.diff(shifts)) > 0


def test_box_figure_leaves_out_baseline_for_change_and_follows_the_group_order(alt):
    fig = box_by_visit_figure(box_stats(add_change_from_baseline(alt), value_col="chg", group_col="arm",
                                        groups=["Placebo", "UC-MSC"]), COLORS)
    assert [t.name for t in fig.data] == ["Placebo", "UC-MSC"]
    assert "BL" not in fig.data[0].x


def test_box_figure_sends_quartiles_not_rows(alt):
    fig = box_by_visit_figure(box_stats(alt, group_col="arm"), COLORS)
    assert [t.name for t in fig.data] == ["UC-MSC", "Placebo"]
    box = fig.data[0]
    assert box.y is None and len(box.q1) == 4
    assert box.median[0] == pytest.approx(92.0)  # R quantile(type 7) of UC-MSC baseline, labstats_summary.csv
    assert fig.layout.yaxis.title.text == "value"


def test_spaghetti_separates_patients_by_gaps_and_maps_points_to_usubjid(alt):
    fig = spaghetti_figure(sample_trajectories(alt, group_col="arm"), COLORS)
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    t = fig.data[0]
    n_pat = alt.loc[alt["arm"] == "UC-MSC", "usubjid"].nunique()
    assert np.isnan(np.asarray(t.y, float)).sum() == n_pat
    assert {c for c in t.customdata if c is not None} == set(alt.loc[alt["arm"] == "UC-MSC", "usubjid"])
    # every non-gap point carries its own patient's id
    real = [(c, y) for c, y in zip(t.customdata, t.y) if y == y]
    assert len(real) == (alt["arm"] == "UC-MSC").sum() and all(c is not None for c, _ in real)
    assert all(c is None for c, y in zip(t.customdata, t.y) if y != y)


def test_spaghetti_caps_the_points_sent():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(dict(usubjid=np.repeat([f"P{i:04d}" for i in range(2000)], 11),
                           arm=np.repeat(rng.choice(ARMS, 2000), 11), study_day=np.tile(np.arange(11) * 7, 2000),
                           value=rng.normal(size=22000)))
    fig = spaghetti_figure(sample_trajectories(df, group_col="arm", max_points=5000), COLORS)
    sent = sum(len(t.x) for t in fig.data)
    assert 0 < sent <= 5000
    assert "of 2000 patients" in fig.layout.title.text


def _mdish_rows(arms: bool) -> pd.DataFrame:
    """ALT/bilirubin at baseline and two later visits: peaks 0.6x to 42x baseline (ALT) and 0.8x to 2.5x."""
    rows = []
    for u, arm, alt, bili in [("a", "UC-MSC", (100, 60, 40), (200, 160, 100)), ("b", "UC-MSC", (50, 2100, 80), (300, 750, 200)),
                              ("c", "Placebo", (40, 90, 200), (250, 200, 260))]:
        for code, values in (("ALT", alt), ("BILI", bili)):
            rows += [dict(usubjid=u, arm=arm, paramcd=code, visit_num=v, value=x, upper_limit=40.0 if code == "ALT" else 17.1)
                     for v, x in enumerate(values)]
    df = pd.DataFrame(rows)
    return df if arms else df.drop(columns="arm")


def test_mdish_figure_names_new_rises_and_writes_log_ticks_in_full():
    r = mdish(_mdish_rows(arms=True), group_col="arm", groups=list(ARMS))
    fig = mdish_figure(r, COLORS)
    assert [t.name for t in fig.data] == ["UC-MSC (n=2; ALT and bilirubin rise 0)", "Placebo (n=1; ALT and bilirubin rise 0)"]
    notes = {a.text for a in fig.layout.annotations}
    assert set(MDISH_QUADRANTS) <= notes and "Hy's law" not in notes
    # ALT peaks 0.6x (a), 42x (b), 5x (c) baseline; bilirubin 0.8x, 2.5x, 1.04x; plus 1 and twice the cut-offs.
    assert list(fig.layout.xaxis.ticktext) == ["0.5", "1", "2", "5", "10", "20", "50"]
    assert list(fig.layout.xaxis.tickvals) == [0.5, 1, 2, 5, 10, 20, 50]
    assert list(fig.layout.yaxis.ticktext) == ["0.5", "1", "2", "5", "10"]
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    lines = sorted((sh.x0, sh.line.dash) for sh in fig.layout.shapes if sh.x0 == sh.x1)
    assert lines == [(1, "dot"), (3.8, "dash")]


def test_a_blinded_mdish_legend_writes_small_counts_as_less_than_five():
    r = mdish(_mdish_rows(arms=False), group_col=None)
    assert [t.name for t in mdish_figure(r, COLORS, small_cells=True).data] == [
        f"{POOLED_LABEL} (n=<5; ALT and bilirubin rise 0)"]
    assert [t.name for t in mdish_figure(r, COLORS).data] == [f"{POOLED_LABEL} (n=3; ALT and bilirubin rise 0)"]


def _ascites():
    rows = []
    for i in range(12):
        arm = ARMS[i % 2]
        for v, num in (("BL", 0), ("W4", 3), ("W12", 5)):
            rows.append(dict(usubjid=f"A{i}", arm=arm, visit=v, visit_num=num, study_day=num * 7 + 1,
                             grade=(i + num) % 4, depth_cm=1.0, volume_ml=100.0))
    return pd.DataFrame(rows)


def test_ascites_figures_by_arm_and_pooled():
    df = _ascites()
    bars = grade_bars_figure(grade_distribution(df, group_col="arm"))
    assert {t.name for t in bars.data} == {"none", "mild", "moderate", "severe"}
    assert bars.data[0].x[0] == "BL<br>n=6"
    free = free_of_ascites_figure(free_of_ascites(df, group_col="arm"), COLORS)
    assert [t.name for t in free.data] == list(ARMS)
    sankey = sankey_figure(grade_transitions(df, visits=["BL", "W4", "W12"], group_col="arm"))
    assert [t.name for t in sankey.data] == list(ARMS)
    pooled = df.drop(columns="arm")
    for fig in (grade_bars_figure(grade_distribution(pooled)),
                free_of_ascites_figure(free_of_ascites(pooled), COLORS),
                sankey_figure(grade_transitions(pooled, visits=["BL", "W4"]))):
        _no_arm_text(fig)
    assert POOLED_LABEL in json.dumps(sankey_figure(grade_transitions(pooled, visits=["BL", "W4"]))
                                      .to_plotly_json(), default=str)


@pytest.mark.parametrize("call, message", [
    (lambda a: mean_by_visit_figure(summarise_by_visit(a), COLORS, stat="mode"), "stat must be one of"),
    (lambda a: spaghetti_figure(a, COLORS), "Trajectories"),
    (lambda a: box_by_visit_figure(a, COLORS), "BoxStats"),
    (lambda a: mdish_figure(a, COLORS), "DishResult"),
])
def test_bad_figure_arguments_raise(alt, call, message):
    with pytest.raises(ValueError) as info:
        call(alt)
    assert message in str(info.value)
