"""The ascites figures of the views that keep the dead: the Sankey with absorbing states (colours, node order,
counts of 1-4 written "<5" in a blinded view's hovers) and the cumulative incidence of resolution with its CI
band and the competing death curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.ascites import DIED, NOT_DUE, TRANSPLANTED, resolution_cif_from_times, transitions_from_counts
from dashboard.domain.disclosure import SUPPRESSED
from dashboard.figures.ascites import STATE_COLORS, resolution_cif_figure, sankey_figure
from dashboard.figures.style import arm_colors

REF = Path(__file__).parents[1] / "domain" / "reference"


@pytest.fixture()
def links() -> pd.DataFrame:
    """Pooled, W4 -> W12: 12 stay mild, 3 go from mild to died, 6 from moderate to transplanted; W12 -> W24:
    10 stay mild, 2 mild are not yet due, the transplanted and the dead stay so."""
    counts = pd.DataFrame({
        "group": None, "pair": [0, 0, 0, 1, 1, 1, 1],
        "source_visit": ["W4"] * 3 + ["W12"] * 4, "source_state": [1, 1, 2, 1, 1, DIED, TRANSPLANTED],
        "target_visit": ["W12"] * 3 + ["W24"] * 4, "target_state": [1, DIED, TRANSPLANTED, 1, NOT_DUE, DIED, TRANSPLANTED],
        "count": [12, 3, 6, 10, 2, 3, 6]})
    return transitions_from_counts(counts, visits=["W4", "W12", "W24"])


def test_a_blinded_sankey_writes_small_counts_as_less_than_five_in_every_hover(links):
    blinded = sankey_figure(links, small_cells=True).data[0]
    # Links in state order: grades, then transplanted (6) before died (7).
    assert [c[2] for c in blinded.link.customdata] == ["12", SUPPRESSED, "6", "10", SUPPRESSED, "6", SUPPRESSED]
    assert list(blinded.link.customdata[1][:2]) == ["W4: mild", "W12: died"]
    nodes = dict(blinded.node.customdata)
    # A node counts the larger of its inflow and outflow: W12 mild has 12 in and 10 + 2 out, W12 died 3 in.
    assert nodes["W12: mild"] == "12" and nodes["W12: died"] == SUPPRESSED and nodes["W24: not yet due"] == SUPPRESSED
    assert "%{customdata[2]}" in blinded.link.hovertemplate and "%{customdata[1]}" in blinded.node.hovertemplate
    dsmb = sankey_figure(links).data[0]
    assert [c[2] for c in dsmb.link.customdata] == ["12", "3", "6", "10", "2", "6", "3"]
    assert dict(dsmb.node.customdata)["W12: died"] == "3"


def test_sankey_states_keep_their_colours_and_sit_below_the_grades(links):
    fig = sankey_figure(links)
    trace = fig.data[0]
    names = [name for name, _ in trace.node.customdata]
    # Nodes are named by their state; the visits head their columns.
    assert dict(zip(names, trace.node.label))["W12: died"] == "died"
    assert [a.text for a in fig.layout.annotations] == ["<b>All patients</b>", "W4", "W12", "W24"]
    color = dict(zip(names, trace.node.color))
    assert color["W12: died"] == STATE_COLORS[DIED] == "#000000"
    assert color["W24: transplanted"] == STATE_COLORS[TRANSPLANTED]
    x = dict(zip(names, trace.node.x))
    assert x["W4: mild"] < x["W12: died"] == x["W12: mild"] < x["W24: not yet due"]
    # Stacked in state order, each centred on its share. Every column holds 21 patients; W24 has the most nodes
    # (four: three pads), so plotly's scale is (1 - 3 pads) / 21. W12: mild 12, transplanted 6, died 3.
    y = dict(zip(names, trace.node.y))
    scale = (1 - 3 * 0.04) / 21
    assert y["W12: mild"] == pytest.approx(6 * scale)
    assert y["W12: transplanted"] == pytest.approx(12 * scale + 0.04 + 3 * scale)
    assert y["W12: died"] == pytest.approx(18 * scale + 2 * 0.04 + 1.5 * scale)
    # Links into death are drawn in the death colour, translucent.
    died = [c for c, t in zip(trace.link.color, links["target_state"]) if t == DIED]
    assert died == ["rgba(0, 0, 0, 0.35)"] * 2


def test_resolution_cif_figure_draws_the_curve_its_band_and_the_competing_deaths():
    times = pd.read_csv(REF / "ascites_resolution_data.csv")
    result = resolution_cif_from_times(times, groups=["UC-MSC", "Placebo"])
    fig = resolution_cif_figure(result, arm_colors(["UC-MSC", "Placebo"]), tick_days=range(0, 200, 28))
    roles = [(t.meta or {}).get("role") for t in fig.data]
    assert roles == ["band", "band", "curve", "competing"] * 2
    upper, lower, curve, deaths = fig.data[:4]
    t = result.cif.table[result.cif.table["group"] == "UC-MSC"]
    np.testing.assert_allclose(curve.y, [0.0, *t["cif"]])
    assert lower.fill == "tonexty" and curve.line.shape == "hv" and deaths.line.dash == "dash"
    assert (np.asarray(lower.y) <= np.asarray(curve.y) + 1e-12).all()
    assert (np.asarray(curve.y) <= np.asarray(upper.y) + 1e-12).all()
    d = result.death.table[result.death.table["group"] == "UC-MSC"]
    assert deaths.y[-1] == pytest.approx(d["cif"].iloc[-1])
    assert curve.name == "UC-MSC: resolved" and "95% CI" in curve.hovertemplate
    assert list(fig.layout.xaxis.tickvals) == list(range(0, 200, 28))


def test_resolution_cif_figure_refuses_anything_else():
    with pytest.raises(ValueError, match="ResolutionCIF"):
        resolution_cif_figure(pd.DataFrame(), {})
