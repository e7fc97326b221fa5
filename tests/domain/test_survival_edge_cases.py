"""Cox edge cases against R ``survival`` 3.5.3: a group without events, a diverging coefficient and an
interaction test whose full model diverges.

Fixtures: reference/event_free.R (event_free_*, monotone_*) and colon.R (colon_*).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.subgroups import subgroup_hr
from dashboard.domain.survival import cox_hr, logrank_test, survival_analysis
from dashboard.errors import InsufficientData

REF = Path(__file__).parent / "reference"
TOL = 1e-6


def fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}.csv")


def assert_close(actual, expected, what: str, tol: float = TOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=0, atol=tol,
                               equal_nan=True, err_msg=what)


# --- Cox with an event-free group -------------------------------------------------------------

def test_cox_with_an_event_free_group_keeps_the_other_comparisons_like_r():
    result = cox_hr(fixture("event_free_data"), group_col="arm", reference="A", groups=["B", "C", "A"])
    rows = result.summary.set_index("group")
    expected = fixture("event_free_cox").iloc[0]
    assert_close(rows.loc["B", ["hr", "lower", "upper", "p"]], expected[["hr", "lower", "upper", "p"]], "B vs A")
    # The numbers of the brief, from R's coxph on the full model (C diverging).
    assert_close(rows.loc["B", ["hr", "lower", "upper"]], [1.72790, 0.28682, 10.40928], "B vs A", tol=1e-5)
    assert_close(result.loglik, expected["loglik"], "loglik")
    assert rows.loc["C", ["hr", "lower", "upper", "p"]].isna().all()
    assert any("C" in note and "no events" in note.lower() for note in result.notes)


def test_survival_analysis_with_an_event_free_group_reports_log_rank_cox_and_a_note():
    a = survival_analysis(fixture("event_free_data"), group_col="arm", groups=["B", "C", "A"], reference="A")
    expected = fixture("event_free_logrank").iloc[0]
    assert a.logrank is not None and a.logrank.df == 2
    assert_close([a.logrank.chi2, a.logrank.p], expected[["chi2", "p"]], "log-rank")
    assert a.cox is not None
    assert_close(a.cox.summary.set_index("group").loc["B", "hr"], fixture("event_free_cox")["hr"].iloc[0], "hr")
    assert any("C" in note and "no events" in note.lower() for note in a.notes)


def test_log_rank_leaves_out_a_group_never_at_risk_at_an_event_like_r():
    # B is censored before the first event: its expected count is 0 and survdiff's chi-square has 1 df.
    result = logrank_test(fixture("never_at_risk_data"), group_col="arm")
    expected = fixture("never_at_risk_logrank").iloc[0]
    assert result.df == expected["df"] == 1
    assert_close([result.chi2, result.p], expected[["chi2", "p"]], "log-rank")


def test_an_event_free_reference_gives_no_hazard_ratio_but_keeps_the_log_rank():
    df = fixture("event_free_data")
    with pytest.raises(InsufficientData, match=r"No events in group\(s\) \['C'\] \(the reference\)"):
        cox_hr(df, group_col="arm", reference="C", groups=["A", "B", "C"])
    a = survival_analysis(df, group_col="arm", groups=["A", "B", "C"], reference="C")
    assert a.cox is None and a.logrank is not None
    assert any("['C'] (the reference)" in note for note in a.notes)


def test_a_diverging_coefficient_is_nan_for_that_group_only():
    result = cox_hr(fixture("monotone_data"), group_col="arm", reference="A", groups=["B", "D", "A"])
    rows = result.summary.set_index("group")
    expected = fixture("monotone_cox").iloc[0]
    assert_close(rows.loc["B", ["hr", "lower", "upper", "p"]], expected[["hr", "lower", "upper", "p"]], "B vs A")
    assert rows.loc["D", ["hr", "lower", "upper", "p"]].isna().all()
    assert any("D" in note and "not estimable" in note for note in result.notes)


def test_subgroup_levels_follow_the_same_event_free_rule():
    # Two sites with the same patients (a variable needs two levels), each with 6 deaths: nothing is collapsed.
    one = fixture("event_free_data")
    df = pd.concat([one.assign(site="x"), one.assign(site="y", usubjid=one["usubjid"] + "y")])
    result = subgroup_hr(df, group_col="arm", reference="A", groups=["B", "C", "A"], subgroups={"site": "Site"})
    rows = result.summary[result.summary["level"] == "x"].set_index("group")
    assert_close(rows.loc["B", ["hr", "lower", "upper"]], fixture("event_free_cox").iloc[0][["hr", "lower", "upper"]],
                 "subgroup B vs A")
    assert math.isnan(rows.loc["C", "hr"])
    assert any("C" in note and "no events" in note.lower() for note in result.notes)


# --- interaction test with diverging coefficients ---------------------------------------------

@pytest.mark.parametrize("case", ["all", "no Lev+5FU with extent <= 1"])
def test_interaction_p_with_event_free_cells_matches_r_likelihood_ratio_test(case):
    # Obs and Lev+5FU have no deaths with extent <= 1: the interaction model diverges, R's LRT is finite.
    # Second case: that Lev+5FU cell has no patients, so its interaction term is not identifiable (1 df).
    df = fixture("colon_data")
    if case != "all":
        df = df[~((df["arm"] == "Lev+5FU") & (df["extent_le1"] == "yes"))]
    expected = fixture("colon_interaction").set_index("case").loc[case]
    result = subgroup_hr(df, group_col="arm", reference="Obs", groups=["Lev+5FU", "Lev", "Obs"],
                         subgroups={"extent_le1": "Extent <= 1"})
    assert_close(result.summary["interaction_p"], np.full(len(result.summary), expected["interaction_p"]),
                 f"interaction p ({case})")
