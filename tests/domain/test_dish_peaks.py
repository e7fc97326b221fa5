"""mDISH from per-patient peaks: the listed group order, groups without patients, pooled peaks."""

import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.lab_safety import DISH_PEAK_COLUMNS, MDISH_QUADRANTS, mdish_from_peaks
from tests.oracle.lab_safety import mdish

# group, usubjid, ALT and BILI baselines, peaks x baseline
PEAKS = pd.DataFrame([
    ["Placebo", "P1", 100.0, 50.0, 5.0, 5.0],  # both rise above the default cut-offs
    ["UC-MSC", "P2", 0.0, 0.0, None, None],     # no positive baseline: not on the mDISH scale
    ["UC-MSC", "P3", 80.0, 40.0, 1.0, None],    # no post-baseline bilirubin: left out
    ["UC-MSC", "P4", 60.0, 30.0, 0.8, 1.1],     # below both cut-offs
], columns=list(DISH_PEAK_COLUMNS))


def test_mdish_from_peaks_follows_the_listed_groups():
    r = mdish_from_peaks(PEAKS, groups=["UC-MSC", "Placebo"])
    assert r.patients[["usubjid", "quadrant"]].values.tolist() == [["P1", MDISH_QUADRANTS[0]],
                                                                   ["P4", MDISH_QUADRANTS[3]]]
    assert r.counts["group"].tolist() == ["UC-MSC"] * 4 + ["Placebo"] * 4
    assert r.counts.set_index(["group", "quadrant"]).loc[("UC-MSC", MDISH_QUADRANTS[3]), "n"] == 1


def test_mdish_from_peaks_reports_only_groups_with_a_positive_baseline():
    r = mdish_from_peaks(PEAKS.assign(alt_base=[100.0, 0.0, 0.0, 0.0], bili_base=[50.0, 0.0, 0.0, 0.0]),
                         groups=["UC-MSC", "Placebo"])
    assert r.counts["group"].unique().tolist() == ["Placebo"] and r.quadrants == MDISH_QUADRANTS
    assert r.patients["usubjid"].tolist() == ["P1"] and "4.8x baseline" in r.method


def test_pooled_peaks_have_one_group_and_match_the_rows_path():
    rows = pd.DataFrame([dict(usubjid=u, paramcd=p, visit_num=v, value=x, upper_limit=uln)
                         for u, alt, bili in [("a", 200.0, 50.0), ("b", 50.0, 10.0)]
                         for p, x0, uln in [("ALT", alt, 40.0), ("BILI", bili, 20.0)]
                         for v, x in [(0, x0 / 2), (1, x0)]])
    expected = mdish(rows, group_col=None, alt_cut=1.5, bili_cut=3.0)
    peaks = pd.DataFrame({"group": [None, None], "usubjid": ["a", "b"], "alt_base": [100.0, 25.0],
                          "bili_base": [25.0, 5.0], "alt_xbase": [2.0, 2.0], "bili_xbase": [2.0, 2.0]})
    got = mdish_from_peaks(peaks, alt_cut=1.5, bili_cut=3.0)
    pd.testing.assert_frame_equal(got.patients, expected.patients)
    pd.testing.assert_frame_equal(got.counts, expected.counts)
    assert got.counts["group"].unique().tolist() == [POOLED_LABEL]
    assert set(got.patients["quadrant"]) == {MDISH_QUADRANTS[1]}  # ALT doubled past 1.5x, bilirubin under 3x


def test_peaks_without_the_peak_columns_are_refused():
    with pytest.raises(ValueError, match="lacks column"):
        mdish_from_peaks(PEAKS.drop(columns="alt_xbase"))
