"""Subgroup hazard ratios for the forest plot: levels with fewer than 5 events collapsed, one interaction p per
variable and no per-level p, equal to R (tests/domain/reference/lung.R writes lung_subgroup*.csv, with the
collapsing rule written out in R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.subgroups import OTHER, collapse_levels, ordered_by, subgroup_hr

REF = Path(__file__).parent / "reference"
TOL = 1e-6
# The ordered variables of lung.R and their level order (ECOG 0-3, Karnofsky 30-100, age, ECOG with 2+).
ORDERED = {"age_group": ["<65", ">=65"], "ecog": ["0", "1", "2+"], "ecog_raw": ["0", "1", "2", "3"],
           "karno": [str(k) for k in range(30, 101, 10)]}
LABELS = {"age_group": "Age", "ecog": "ECOG", "ecog_raw": "ECOG (0-3)", "karno": "Karnofsky",
          "inst": "Institution", "region": "Region"}


def lung() -> pd.DataFrame:
    df = pd.read_csv(REF / "lung_subgroup_data.csv", dtype={"inst": str, "ecog_raw": str, "karno": str})
    for variable, levels in ORDERED.items():
        df[variable] = pd.Categorical(df[variable], categories=levels, ordered=True)
    return df


@pytest.fixture(scope="module")
def result():
    return subgroup_hr(lung(), group_col="arm", reference="Male", groups=["Female", "Male"], subgroups=LABELS)


def test_hazard_ratios_counts_and_interaction_p_after_collapsing_equal_r(result):
    expected = pd.read_csv(REF / "lung_subgroup.csv", dtype={"level": str})
    actual = result.summary.set_index(["variable", "level"])
    assert sorted(actual.index) == sorted(zip(expected["variable"], expected["level"]))
    actual = actual.loc[list(zip(expected["variable"], expected["level"]))]
    for col in ["n", "events", "n_reference", "events_reference"]:
        assert actual[col].tolist() == expected[col].tolist(), col
    for col in ["hr", "lower", "upper", "interaction_p"]:
        np.testing.assert_allclose(actual[col].to_numpy(float), expected[col].to_numpy(float), rtol=0, atol=TOL,
                                   equal_nan=True, err_msg=col)


def test_collapsed_levels_are_named_and_listed(result):
    s = result.summary
    # ECOG 3 (1 death) joins 2; Karnofsky 30 and 40 (1 death each), then 50 (4), merge into one run.
    assert s.loc[s["variable"] == "ecog_raw", "level"].tolist() == ["0", "1", "2 to 3"]
    assert s.loc[s["variable"] == "karno", "level"].tolist() == ["30 to 50", "60", "70", "80", "90", "100"]
    # Nominal: "Other" comes last.
    assert s.loc[s["variable"] == "inst", "level"].tolist()[-1] == OTHER
    assert "ECOG (0-3): 2 to 3 = 2 (44 events), 3 (1 event)." in result.collapsed
    assert any(c.startswith("Region: Other = East (1 event), South (8 events), West (2 events)") for c in
               result.collapsed)
    assert not result.not_analysed


def test_no_p_value_per_level(result):
    assert "p" not in result.summary.columns
    assert result.summary.groupby("variable")["interaction_p"].nunique().eq(1).all()


def test_multiplicity_note_counts_variables_and_tests(result):
    # 6 variables, 6 interaction tests: 1 - 0.95^6 = 0.2649 -> 26%.
    assert result.multiplicity.startswith("Exploratory: 6 subgroup variables examined, 6 interaction tests, none "
                                          "adjusted for multiplicity.")
    assert "is 26%." in result.multiplicity and "Wang et al." in result.multiplicity
    assert "Ordered: Age, ECOG, ECOG (0-3), Karnofsky; nominal: Institution, Region." in result.method


@pytest.mark.parametrize("events, expected", [
    # smallest (b, 2) joins its smaller neighbour (c, 3); then "b to c" has 5, a (4) joins it.
    ([4, 2, 3, 9], {"a": "a to c", "b": "a to c", "c": "a to c", "d": "d"}),
    # a tie between neighbours: the lower one.
    ([6, 1, 6], {"a": "a to b", "b": "a to b", "c": "c"}),
    # a tie for the fewest: the first level goes first (a joins b, then c (3) joins its only neighbour).
    ([3, 3, 3], {"a": "a to c", "b": "a to c", "c": "a to c"}),
    ([5, 5], {"a": "a", "b": "b"}),
])
def test_ordered_levels_join_their_smaller_neighbour(events, expected):
    assert collapse_levels(pd.Series(events, index=list("abcd")[:len(events)]), ordered=True) == expected


@pytest.mark.parametrize("events, expected", [
    # Alcohol (3) and HEV (2) pool into Other, which then has 5.
    ({"HBV": 17, "Alcohol": 3, "HEV": 2, "Drug": 6}, {"HBV": "HBV", "Alcohol": OTHER, "HEV": OTHER, "Drug": "Drug"}),
    # Other (2) takes in the smallest remaining level (Drug, 6), then has 8.
    ({"HBV": 17, "Alcohol": 1, "HEV": 1, "Drug": 6, "HCV": 7},
     {"HBV": "HBV", "Alcohol": OTHER, "HEV": OTHER, "Drug": OTHER, "HCV": "HCV"}),
    # An existing "Other" level is the pool; nothing small, nothing changes.
    ({"A": 5, "Other": 9}, {"A": "A", "Other": OTHER}),
    # Everything ends in Other: one level left.
    ({"A": 2, "B": 30}, {"A": OTHER, "B": OTHER}),
])
def test_nominal_small_levels_pool_into_other(events, expected):
    assert collapse_levels(pd.Series(events), ordered=False) == expected


def test_a_variable_left_with_one_level_is_not_analysed():
    df = lung().assign(rare=lambda d: np.where(d["inst"] == "33", "yes", "no"))
    r = subgroup_hr(df, group_col="arm", reference="Male", groups=["Female", "Male"],
                    subgroups={"rare": "Rare", "region": "Region"})
    assert set(r.summary["variable"]) == {"region"}
    assert r.not_analysed == ("Rare: fewer than two levels with at least 5 events; no subgroup hazard ratios or "
                              "interaction test.",)
    assert r.multiplicity.startswith("Exploratory: 2 subgroup variables examined, 1 interaction test, none adjusted "
                                     "for multiplicity. Read each")


def test_min_events_one_keeps_every_level_with_an_event():
    r = subgroup_hr(lung(), group_col="arm", reference="Male", groups=["Female", "Male"],
                    subgroups={"ecog_raw": "ECOG"}, min_events=1)
    assert r.summary["level"].tolist() == ["0", "1", "2", "3"] and not r.collapsed


@pytest.mark.parametrize("bad", [0, 2.5, "5"])
def test_min_events_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError, match="min_events"):
        subgroup_hr(lung(), group_col="arm", reference="Male", subgroups={"ecog": "ECOG"}, min_events=bad)


def test_ordered_by_orders_levels_by_the_measurement_they_were_cut_from():
    df = pd.DataFrame({"meld_group": [">= 26", "< 26", None, ">= 26"], "baseline_meld": [30, 12, None, 26],
                       "sex": ["F", "M", "F", "M"]})
    out = ordered_by(df, {"meld_group": "baseline_meld"})
    assert out["meld_group"].cat.ordered and list(out["meld_group"].cat.categories) == ["< 26", ">= 26"]
    assert out["meld_group"].isna().tolist() == [False, False, True, False]
    assert out["sex"].tolist() == df["sex"].tolist() and df["meld_group"].dtype == object
