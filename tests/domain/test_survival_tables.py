"""The survival page's tables and the one-call analysis: same numbers as the R-checked results they
come from, in the display unit; pooled results have no comparison rows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain import survival_tables as tables
from dashboard.domain.competing_risks import cif_at, cumulative_incidence, gray_test
from dashboard.domain.subgroups import subgroup_hr
from dashboard.domain.survival import cox_hr, km_estimate, logrank_test, rmst, survival_analysis, survival_at, survival_report

REF = Path(__file__).parent / "reference"
ARMS = ["UC-MSC", "Placebo"]
LABELS = {5: "Day 5", 10: "Day 10"}


@pytest.fixture(scope="module")
def ties() -> pd.DataFrame:
    return pd.read_csv(REF / "ties_cr_data.csv")


def test_analysis_is_the_individual_results(ties):
    a = survival_analysis(ties, group_col="arm", groups=ARMS, reference="Placebo", milestones_days=[5, 10])
    pd.testing.assert_frame_equal(a.km.table, km_estimate(ties, group_col="arm", groups=ARMS).table)
    assert a.logrank.chi2 == logrank_test(ties, group_col="arm", groups=ARMS).chi2
    cox = cox_hr(ties, group_col="arm", reference="Placebo", groups=ARMS)
    pd.testing.assert_frame_equal(a.cox.summary, cox.summary)
    assert a.reference == "Placebo" and a.notes == ()


def test_analysis_keeps_the_curves_when_the_hazard_ratio_is_not_estimable(ties):
    no_placebo_events = ties.assign(event=np.where(ties["arm"] == "Placebo", 0, ties["event"]))
    a = survival_analysis(no_placebo_events, group_col="arm", groups=ARMS, milestones_days=[5])
    assert a.cox is None and a.logrank is not None
    assert "No events in group(s) ['Placebo']" in a.notes[0]
    assert survival_report(no_placebo_events, group_col="arm", groups=ARMS)["cox"] is None


def test_pooled_analysis_has_no_comparisons(ties):
    a = survival_analysis(ties, group_col=None, milestones_days=[5, 10])
    assert a.logrank is None and a.cox is None and a.milestones.difference.empty
    assert tables.milestone_difference_table(a.milestones, LABELS).empty


def test_km_summary_table_converts_times_to_the_display_unit(ties):
    km = km_estimate(ties, group_col="arm", groups=ARMS)
    days, weeks = tables.km_summary_table(km), tables.km_summary_table(km, per=7.0)
    assert list(days.columns) == ["Group", "N", "Events", "Median", "CI lower", "CI upper", "Q25", "Q75"]
    np.testing.assert_allclose(weeks["Median"], km.summary["median"] / 7)
    assert days["N"].tolist() == km.summary["n"].tolist()


def test_cox_and_logrank_tables_carry_the_result_numbers(ties):
    cox = cox_hr(ties, group_col="arm", reference="Placebo", groups=ARMS)
    t = tables.cox_table(cox)
    assert t["Comparison"].tolist() == ["UC-MSC vs Placebo"]
    expected = cox.summary[["hr", "lower", "upper", "p"]].iloc[0].tolist()
    assert t[["HR", "Lower", "Upper", "p"]].iloc[0].tolist() == expected
    lr = logrank_test(ties, group_col="arm", groups=ARMS)
    assert tables.logrank_table(lr).iloc[0].tolist() == [lr.chi2, lr.df, lr.p]


def test_milestone_tables_label_the_days(ties):
    ms = survival_at(km_estimate(ties, group_col="arm", groups=ARMS), [5, 10], reference="Placebo")
    t = tables.milestone_table(ms, LABELS)
    assert t["Milestone"].tolist() == ["Day 5", "Day 10", "Day 5", "Day 10"]
    d = tables.milestone_difference_table(ms, LABELS)
    assert d["Comparison"].tolist() == ["UC-MSC − Placebo"] * 2
    assert d["Difference"].tolist() == ms.difference["difference"].tolist()


def test_rmst_tables_in_weeks(ties):
    result = rmst(ties, group_col="arm", horizon=14, groups=ARMS)
    per_group, diff = tables.rmst_tables(result, per=7.0)
    np.testing.assert_allclose(per_group["RMST"], result.summary["rmst"] / 7)
    np.testing.assert_allclose(diff["Difference"], result.difference["difference"] / 7)


def test_cif_at_steps_like_r_summary_times(ties):
    # R fixture ties_cr_cif.csv, Placebo: 0.2 from day 3, 0.3 from day 7, 0.4 from day 12; last time 40.
    cif = cumulative_incidence(ties, group_col="arm", groups=ARMS)
    values = cif_at(cif, [2, 3, 10, 12, 41]).set_index(["group", "day"])["cif"]
    assert values.loc["Placebo"].tolist()[:4] == pytest.approx([0.0, 0.2, 0.3, 0.4])
    assert math.isnan(values.loc[("Placebo", 41)])
    assert values.loc[("UC-MSC", 10)] == pytest.approx(1 / 3)


def test_cif_count_table_counts_deaths_transplants_and_censored(ties):
    cif = cumulative_incidence(ties, group_col=None)
    counts = tables.cif_count_table(cif)
    expected = ties["event_type"].value_counts()
    assert counts.iloc[0].tolist() == [POOLED_LABEL, len(ties), expected[1], expected[2], expected[0]]


def test_cif_milestone_table_has_a_column_per_cause_and_gray_table_a_row_per_cause(ties):
    by_cause = {name: cif_at(cumulative_incidence(ties, group_col="arm", groups=ARMS, cause=code), [3, 12])
                for name, code in (("death", 1), ("transplant", 2))}
    table = tables.cif_milestone_table(by_cause, {3: "Day 3", 12: "Day 12"})
    assert table.columns.tolist() == ["Milestone", "Group", "Cumulative incidence of death",
                                      "Cumulative incidence of transplant"]
    assert table["Cumulative incidence of death"].tolist() == by_cause["death"]["cif"].tolist()
    tests = {name: gray_test(ties, group_col="arm", groups=ARMS, cause=code)
             for name, code in (("death", 1), ("transplant", 2))}
    gray = tables.gray_table(tests)
    assert gray["Cause"].tolist() == ["death", "transplant"]
    assert gray["p"].tolist() == [tests["death"].p, tests["transplant"].p]


def test_subgroup_table_labels_variables_and_keeps_counts():
    lung = pd.read_csv(REF / "lung_data.csv")
    subgroups = {c: c.upper() for c in lung.columns if c not in ("usubjid", "time_days", "event", "arm")}
    result = subgroup_hr(lung, group_col="arm", reference="Male", subgroups=subgroups, groups=["Female", "Male"])
    t = tables.subgroup_table(result)
    assert set(t["Subgroup"]) == set(subgroups.values())
    assert t["N"].tolist() == result.summary["n"].tolist() and t["HR"].tolist() == result.summary["hr"].tolist()
    assert set(t["Comparison"]) == {"Female vs Male"}
    # One interaction p per variable, no p per level (Wang et al. 2007): not in the table, nor its download.
    assert "p" not in t.columns and t.groupby("Subgroup")["Interaction p"].nunique().eq(1).all()
