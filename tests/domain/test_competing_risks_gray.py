"""Gray's test, the cumulative incidence's pointwise CI and cmprsk's variance against R (fixtures written by
tests/domain/reference/competing_risks.R with cmprsk 2.2-11 and survival 3.5-3).

Data sets: ``ties_cr`` (hand-made, many ties), ``cr_heavy_ties`` (three arms on a weekly grid, 2 df),
``cr_no_cause`` (25:10, Placebo without deaths), ``cr_sim`` (350 patients of the project's simulator, time to
transplant with death competing, competing_risks_sim.py). Causes 1 (death) and 2 (transplant) of each.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.competing_risks import CIF_COLUMNS, cif_at, cumulative_incidence, gray_test
from dashboard.errors import InsufficientData

REF = Path(__file__).parent / "reference"
TOL = 1e-6
DATASETS = ["ties_cr", "cr_heavy_ties", "cr_no_cause", "cr_sim"]


def reference(name: str, what: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}_{what}.csv")


def assert_close(actual, expected, what: str) -> None:
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    assert actual.shape == expected.shape, what
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOL, equal_nan=True, err_msg=what)


GRAY_CASES = [(name, row.cause, row.rho) for name in DATASETS for row in reference(name, "gray").itertuples()]


@pytest.mark.parametrize(("name", "cause", "rho"), GRAY_CASES)
def test_gray_test_matches_cmprsk(name, cause, rho):
    expected = reference(name, "gray").query("cause == @cause and rho == @rho").iloc[0]
    result = gray_test(reference(name, "data"), group_col="arm", cause=int(cause), rho=rho)
    assert_close([result.statistic, result.p], [expected["statistic"], expected["p"]], f"{name} cause {cause}")
    assert result.df == expected["df"] and result.cause == cause


def test_gray_test_does_not_depend_on_group_order():
    data = reference("cr_heavy_ties", "data")
    a = gray_test(data, group_col="arm", groups=["A", "B", "C"])
    b = gray_test(data, group_col="arm", groups=["C", "A", "B"])
    assert b.statistic == pytest.approx(a.statistic, abs=1e-10)


def test_gray_test_of_a_group_without_the_cause_is_a_real_test():
    # cr_no_cause: Placebo has no deaths; cmprsk still tests (chi-square 1.90, p 0.17).
    data = reference("cr_no_cause", "data")
    assert not ((data["arm"] == "Placebo") & (data["event_type"] == 1)).any()
    assert gray_test(data, group_col="arm", cause=1).p == pytest.approx(0.167571892150517, abs=TOL)


def test_gray_test_restricted_to_two_of_three_groups_equals_cmprsk_on_those_rows():
    # Rows of other groups are dropped, as if the data held only A and C (checked against the full
    # three-group fixture: the statistic changes, so the rows really are left out).
    data = reference("cr_heavy_ties", "data")
    two = gray_test(data, group_col="arm", groups=["A", "C"])
    alone = gray_test(data[data["arm"].isin(["A", "C"])], group_col="arm")
    assert two.df == 1 and two.statistic == pytest.approx(alone.statistic, abs=1e-12)
    assert two.statistic != pytest.approx(reference("cr_heavy_ties", "gray")["statistic"].iloc[0], abs=1e-3)


def test_gray_test_refuses_what_it_cannot_test():
    data = reference("ties_cr", "data")
    with pytest.raises(InsufficientData, match="only one"):
        gray_test(data, group_col="arm", groups=["UC-MSC"])
    with pytest.raises(InsufficientData, match="event of type 3"):
        gray_test(data, group_col="arm", cause=3)
    with pytest.raises(ValueError, match="rho"):
        gray_test(data, group_col="arm", rho=-1)
    with pytest.raises(ValueError, match="event_type"):
        gray_test(data.drop(columns="event_type"), group_col="arm")


def test_gray_test_method_names_the_cause_and_weight():
    data = reference("ties_cr", "data")
    assert "event type 2" in gray_test(data, group_col="arm", cause=2).method
    assert "(1 - F)^1" in gray_test(data, group_col="arm", rho=1).method


CIF_CASES = [(name, cause) for name in DATASETS for cause in (1, 2)]


@pytest.mark.parametrize(("name", "cause"), CIF_CASES)
def test_cif_standard_error_and_ci_match_r_survfit_and_cmprsk(name, cause):
    expected = reference(name, "cif_ci").query("cause == @cause")
    table = cumulative_incidence(reference(name, "data"), group_col="arm", cause=cause).table
    assert tuple(table.columns) == CIF_COLUMNS
    assert len(table) == len(expected)
    actual = table.set_index(["group", "time"]).loc[list(zip(expected["group"], expected["time"]))]
    for column in ["cif", "std_err", "lower", "upper", "cmprsk_var"]:
        assert_close(actual[column], expected[column], f"{name} cause {cause} {column}")


def test_the_two_variances_are_different_estimators():
    # survfit's jackknife and cmprsk's delta method (Aalen's, with a tie correction) differ, so both are offered.
    table = cumulative_incidence(reference("ties_cr", "data"), group_col="arm").table
    assert not np.allclose(table["std_err"] ** 2, table["cmprsk_var"], atol=1e-6)


def test_cif_ci_follows_conf_level():
    data = reference("cr_sim", "data")
    wide = cumulative_incidence(data, group_col="arm", conf_level=0.99).table
    usual = cumulative_incidence(data, group_col="arm").table
    row = usual["cif"] > 0
    z99, z95 = 2.5758293035489004, 1.959963984540054
    log_half = np.log(usual.loc[row, "cif"]) - np.log(usual.loc[row, "lower"])
    assert_close(np.log(wide.loc[row, "cif"]) - np.log(wide.loc[row, "lower"]), log_half * z99 / z95, "99% CI")
    with pytest.raises(ValueError, match="conf_level"):
        cumulative_incidence(data, group_col="arm", conf_level=95)


def test_cif_at_matches_r_summary_times():
    expected = reference("cr_sim", "cif_at")
    data = reference("cr_sim", "data")
    for cause in (1, 2):
        e = expected.query("cause == @cause")
        got = cif_at(cumulative_incidence(data, group_col="arm", cause=cause), sorted(set(e["day"])))
        got = got.set_index(["group", "day"]).loc[list(zip(e["group"], e["day"]))]
        for column in ["cif", "std_err", "lower", "upper"]:
            assert_close(got[column], e[column], f"cause {cause} {column}")


def test_cif_at_beyond_follow_up_is_missing():
    values = cif_at(cumulative_incidence(reference("cr_sim", "data"), group_col="arm"), [10_000])
    assert values[["cif", "std_err", "lower", "upper"]].isna().all().all()
    assert not math.isnan(cif_at(cumulative_incidence(reference("cr_sim", "data"), group_col="arm"), [600])
                          ["lower"].iloc[0])
