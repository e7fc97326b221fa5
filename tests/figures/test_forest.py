"""The forest plot reports subgroups honestly: one interaction p per variable and no p per level, collapsed
levels as their own rows, a footnote saying the analysis is exploratory and unadjusted, log ticks written in
full."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dashboard.domain.subgroups import subgroup_hr
from dashboard.figures.forest import forest_figure
from dashboard.figures.style import arm_colors

REF = Path(__file__).parents[1] / "domain" / "reference"


@pytest.fixture(scope="module")
def result():
    df = pd.read_csv(REF / "lung_subgroup_data.csv", dtype={"ecog_raw": str, "inst": str})
    df["ecog_raw"] = pd.Categorical(df["ecog_raw"], categories=["0", "1", "2", "3"], ordered=True)
    return subgroup_hr(df, group_col="arm", reference="Male", groups=["Female", "Male"],
                       subgroups={"ecog_raw": "ECOG", "inst": "Institution", "age_group": "Age"})


def test_one_interaction_p_per_variable_beside_its_first_row(result):
    fig = forest_figure(result, arm_colors(["Female", "Male"]))
    notes = {a.y: a.text for a in fig.layout.annotations if a.text.startswith("interaction p = ")}
    # Values from R (lung_subgroup.csv): ECOG 0.789, Institution 0.508, Age 0.579.
    assert notes == {"ECOG: 0": "interaction p = 0.789", "Institution: 1": "interaction p = 0.508",
                     "Age: <65": "interaction p = 0.579"}


def test_collapsed_levels_are_rows_and_no_level_carries_a_p_value(result):
    fig = forest_figure(result, arm_colors(["Female", "Male"]))
    rows = list(fig.data[0].y)
    assert "ECOG: 2 to 3" in rows and "Institution: Other" in rows and "ECOG: 3" not in rows
    sent = json.dumps(fig.to_plotly_json(), default=str)
    assert "p = " not in sent.replace("interaction p = ", "")
    assert "p %{" not in fig.data[0].hovertemplate


def test_footnote_says_exploratory_and_unadjusted(result):
    fig = forest_figure(result, arm_colors(["Female", "Male"]))
    footnotes = [a.text for a in fig.layout.annotations if a.text.startswith("Exploratory")]
    assert footnotes == ["Exploratory: 3 subgroup variables examined, 3 interaction tests, none adjusted for "
                         "multiplicity. Levels with fewer than 5 events collapsed."]


def test_hazard_ratio_axis_ticks_are_written_in_full(result):
    fig = forest_figure(result, arm_colors(["Female", "Male"]))
    axis = fig.layout.xaxis
    assert axis.type == "log" and axis.tickmode == "array"
    # Institution 7's CI reaches 13.8 and the lowest lower limit is 0.03 (R): ticks from 0.02 to 20.
    assert list(axis.ticktext) == ["0.02", "0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10", "20"]
    assert list(axis.tickvals) == [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20]
