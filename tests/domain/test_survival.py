"""Survival statistics against R ``survival`` 3.5.3 (fixtures written by tests/domain/reference/*.R).

Each dataset: ``lung`` (sex, two groups), ``veteran`` (cell type, four groups), ``ties_cr`` (hand-made,
many ties, competing risks, curves flat at exactly 0.5) and ``edge`` (censoring before the first event,
last event emptying the risk set).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.domain import POOLED_LABEL
from dashboard.domain.competing_risks import cause_specific_cox, cumulative_incidence
from dashboard.domain.subgroups import subgroup_hr
from dashboard.domain.survival import (
    cox_hr,
    km_estimate,
    logrank_test,
    patients_in_window,
    rmst,
    rmst_from_km,
    survival_at,
    survival_report,
)
from dashboard.errors import InsufficientData

REF = Path(__file__).parent / "reference"
TOL = 1e-6
# Group order (active first, control/reference last) and R's milestone days per dataset.
DATASETS = {
    "lung": (["Female", "Male"], [180, 365, 730]),
    "veteran": (["smallcell", "adeno", "large", "squamous"], [30, 90, 180]),
    "ties_cr": (["UC-MSC", "Placebo"], [5, 10, 20]),
    # The demo trial's overall survival as the dashboard derives it (reference/demo_os.py, demo_os.R).
    "demo_os": (["UC-MSC", "Placebo"], [28, 90, 168, 336]),
}
CONF_TYPES = ["log-log", "log", "plain"]
CASES = [(name, ct) for name in DATASETS for ct in CONF_TYPES]


def fixture(name: str, what: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}_{what}.csv", keep_default_na=True)


def data(name: str) -> pd.DataFrame:
    return fixture(name, "data")


def assert_close(actual, expected, what: str) -> None:
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    assert actual.shape == expected.shape, what
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOL, equal_nan=True, err_msg=what)


def km_for(name: str, conf_type: str, pooled: bool, conf_level: float = 0.95):
    groups, _ = DATASETS[name]
    if pooled:
        return km_estimate(data(name), group_col=None, conf_type=conf_type, conf_level=conf_level)
    return km_estimate(data(name), group_col="arm", groups=groups, conf_type=conf_type, conf_level=conf_level)


def r_rows(frame: pd.DataFrame, conf_type: str, pooled: bool) -> pd.DataFrame:
    rows = frame[frame["conf_type"] == conf_type]
    return rows[(rows["group"] == POOLED_LABEL) == pooled]


@pytest.mark.parametrize("pooled", [False, True])
@pytest.mark.parametrize("name,conf_type", CASES)
def test_km_rows_match_r_survfit(name, conf_type, pooled):
    km = km_for(name, conf_type, pooled)
    expected = r_rows(fixture(name, "km"), conf_type, pooled)
    actual = km.table.set_index(["group", "time"]).loc[list(zip(expected["group"], expected["time"]))]
    for col in ["at_risk", "events", "censored", "survival", "std_err", "lower", "upper"]:
        assert_close(actual[col], expected[col], f"{name} {conf_type} {col}")


@pytest.mark.parametrize("name", DATASETS)
def test_km_90_percent_ci_matches_r(name):
    km = km_for(name, "log-log", pooled=False, conf_level=0.90)
    expected = fixture(name, "km_90")
    actual = km.table.set_index(["group", "time"]).loc[list(zip(expected["group"], expected["time"]))]
    assert_close(actual[["lower", "upper"]], expected[["lower", "upper"]], f"{name} 90% CI")


@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_km_edge_cases_match_r(conf_type):
    # Survival 1 before the first event (log-log CI NA in R) and 0 after the last (Greenwood Inf).
    km = km_estimate(data("edge"), group_col=None, conf_type=conf_type)
    expected = fixture("edge", "km").query("conf_type == @conf_type")
    for col in ["at_risk", "survival", "std_err", "lower", "upper"]:
        assert_close(km.table[col], expected[col], f"edge {conf_type} {col}")


@pytest.mark.parametrize("pooled", [False, True])
@pytest.mark.parametrize("name,conf_type", CASES)
def test_median_ci_and_quartiles_match_r(name, conf_type, pooled):
    # median* are R summary(fit)$table (survmean); q25/q75 are R quantile(fit).
    km = km_for(name, conf_type, pooled)
    expected = r_rows(fixture(name, "median"), conf_type, pooled).set_index("group")
    actual = km.summary.set_index("group").loc[expected.index]
    for col in ["n", "events", "median", "median_lower", "median_upper", "q25", "q75"]:
        assert_close(actual[col], expected[col], f"{name} {conf_type} {col}")


def test_medians_follow_r_where_the_curve_ends_flat_at_one_half():
    # UC-MSC ends at exactly 0.5: R's table median is 9 but quantile(.5) is (9 + 50) / 2; Placebo is
    # flat at 0.5 over [12, 25): both rules give (12 + 25) / 2.
    summary = km_for("ties_cr", "log-log", pooled=False).summary.set_index("group")
    assert summary.loc["UC-MSC", "median"] == 9
    assert summary.loc["Placebo", "median"] == 18.5


@pytest.mark.parametrize("name", DATASETS)
def test_logrank_matches_r_survdiff(name):
    groups, _ = DATASETS[name]
    result = logrank_test(data(name), group_col="arm", groups=groups)
    expected = fixture(name, "logrank").iloc[0]
    assert result.df == expected["df"] == len(groups) - 1
    assert_close([result.chi2, result.p], [expected["chi2"], expected["p"]], f"{name} log-rank")


@pytest.mark.parametrize("name", DATASETS)
def test_cox_matches_r_coxph_efron(name):
    groups, _ = DATASETS[name]
    result = cox_hr(data(name), group_col="arm", reference=groups[-1], groups=groups)
    expected = fixture(name, "cox").set_index("group")
    actual = result.summary.set_index("group").loc[expected.index]
    assert len(result.summary) == len(groups) - 1
    assert (actual["reference"] == groups[-1]).all()
    assert_close(actual[["hr", "lower", "upper", "p"]], expected[["hr", "lower", "upper", "p"]], f"{name} cox")
    assert_close(result.loglik, expected["loglik"].iloc[0], f"{name} loglik")


@pytest.mark.parametrize("pooled", [False, True])
@pytest.mark.parametrize("name,conf_type", CASES)
def test_milestones_match_r_summary_times(name, conf_type, pooled):
    _, days = DATASETS[name]
    result = survival_at(km_for(name, conf_type, pooled), days)
    expected = r_rows(fixture(name, "milestones"), conf_type, pooled)
    actual = result.summary.set_index(["group", "day"]).loc[list(zip(expected["group"], expected["day"]))]
    for col in ["survival", "std_err", "lower", "upper"]:
        assert_close(actual[col], expected[col], f"{name} {conf_type} {col}")


@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_milestones_before_and_at_survival_one_match_r(conf_type):
    # Before the first time R gives CI 1-1 on every scale; at a time with survival 1 after a censoring,
    # the curve's own limits (log-log: NA).
    expected = fixture("edge", "milestones").query("conf_type == @conf_type")
    km = km_estimate(data("edge"), group_col=None, conf_type=conf_type)
    actual = survival_at(km, expected["day"].tolist()).summary
    for col in ["survival", "std_err", "lower", "upper"]:
        assert_close(actual[col], expected[col], f"edge {conf_type} {col}")


def test_milestone_difference_is_wald_on_greenwood_ses():
    result = survival_at(km_for("lung", "log-log", pooled=False), [365])
    r = fixture("lung", "milestones").query("conf_type == 'log-log' and day == 365").set_index("group")
    diff = r.loc["Female", "survival"] - r.loc["Male", "survival"]
    se = math.hypot(r.loc["Female", "std_err"], r.loc["Male", "std_err"])
    row = result.difference.iloc[0]
    assert (row["group"], row["reference"]) == ("Female", "Male")
    assert_close([row["difference"], row["lower"], row["upper"]], [diff, diff - 1.959964 * se, diff + 1.959964 * se],
                 "difference")
    assert_close(row["p"], 2 * stats.norm.sf(abs(diff / se)), "p")


def test_milestone_after_last_follow_up_is_nan_like_r():
    result = survival_at(km_for("ties_cr", "log-log", pooled=False), [100])
    assert result.summary["survival"].isna().all()


@pytest.mark.parametrize("pooled", [False, True])
@pytest.mark.parametrize("name", DATASETS)
def test_rmst_matches_r_survfit_rmean(name, pooled):
    groups, _ = DATASETS[name]
    expected = fixture(name, "rmst")
    expected = expected[(expected["group"] == POOLED_LABEL) == pooled]
    for horizon, rows in expected.groupby("horizon"):
        result = rmst(data(name), group_col=None if pooled else "arm", groups=groups, horizon=horizon)
        actual = result.summary.set_index("group").loc[rows["group"]]
        assert_close(actual[["rmst", "se"]], rows[["rmst", "se"]], f"{name} rmst {horizon}")


@pytest.mark.parametrize("name", DATASETS)
def test_rmst_from_a_page_estimate_with_other_ci_settings_matches_r(name):
    groups, _ = DATASETS[name]
    km = km_estimate(data(name), group_col="arm", groups=groups, conf_type="plain", conf_level=0.8)
    for horizon, rows in fixture(name, "rmst").query("group != @POOLED_LABEL").groupby("horizon"):
        actual = rmst_from_km(km, horizon=horizon).summary.set_index("group").loc[rows["group"]]
        assert_close(actual[["rmst", "se"]], rows[["rmst", "se"]], f"{name} rmst {horizon}")


def test_rmst_difference_uses_both_standard_errors():
    result = rmst(data("lung"), group_col="arm", groups=["Female", "Male"], horizon=365)
    r = fixture("lung", "rmst").query("horizon == 365").set_index("group")
    row = result.difference.iloc[0]
    assert_close(row["difference"], r.loc["Female", "rmst"] - r.loc["Male", "rmst"], "difference")
    se = math.hypot(r.loc["Female", "se"], r.loc["Male", "se"])
    assert_close(row["upper"] - row["lower"], 2 * 1.959963984540054 * se, "CI width")


def test_cumulative_incidence_matches_r_aalen_johansen():
    result = cumulative_incidence(data("ties_cr"), group_col="arm", groups=["UC-MSC", "Placebo"])
    expected = fixture("ties_cr", "cif")
    actual = result.table.set_index(["group", "time"]).loc[list(zip(expected["group"], expected["time"]))]
    assert len(result.table) == len(expected)
    assert_close(actual["cif"], expected["cif"], "cif")


def test_cause_specific_cox_matches_r():
    result = cause_specific_cox(data("ties_cr"), group_col="arm", reference="Placebo", groups=["UC-MSC", "Placebo"])
    expected = fixture("ties_cr", "cs_cox").iloc[0]
    assert_close(result.summary.iloc[0][["hr", "lower", "upper", "p"]], expected[["hr", "lower", "upper", "p"]], "cs")


def test_subgroup_level_without_events_in_an_arm_gives_nan_not_an_error():
    df = data("ties_cr").assign(site=lambda d: np.where(d["usubjid"].isin(["T001", "T002", "T003", "T013"]), "A", "B"))
    df.loc[df["site"] == "A", "event"] = np.where(df.loc[df["site"] == "A", "arm"] == "UC-MSC", 0, 1)
    # min_events=1 keeps the small site A (R's subgroup comparison, with collapsing: tests/domain/test_subgroups.py).
    result = subgroup_hr(df, group_col="arm", reference="Placebo", groups=["UC-MSC", "Placebo"],
                         subgroups={"site": "Site"}, min_events=1)
    row_a = result.summary.set_index("level").loc["A"]
    assert row_a["events"] == 0 and math.isnan(row_a["hr"])
    assert not math.isnan(result.summary.set_index("level").loc["B", "hr"])


def test_pooled_km_has_one_group_named_all_patients():
    km = km_for("lung", "log-log", pooled=True)
    assert km.groups == (POOLED_LABEL,)
    assert set(km.table["group"]) == {POOLED_LABEL}
    assert km.summary["n"].tolist() == [228]


def test_pooled_report_has_no_comparisons_and_no_arm_names():
    report = survival_report(data("lung"), group_col=None, conf_type="log-log", milestones_days=[365])
    assert report["logrank"] is None and report["cox"] is None
    text = json.dumps(report, allow_nan=False)
    assert "Female" not in text and "Male" not in text


def test_report_is_json_safe_and_matches_r():
    report = survival_report(data("ties_cr"), group_col="arm", groups=["UC-MSC", "Placebo"], reference="Placebo",
                             conf_type="log-log", milestones_days=[5, 100])
    json.dumps(report, allow_nan=False)
    assert set(report) == {"groups", "logrank", "cox", "km", "milestones", "notes", "method"}
    uc = next(g for g in report["groups"] if g["group"] == "UC-MSC")
    assert uc["median_upper"] is None  # R: NA
    assert_close(report["logrank"]["chi2"], fixture("ties_cr", "logrank")["chi2"].iloc[0], "chi2")
    assert_close(report["cox"][0]["hr"], fixture("ties_cr", "cox")["hr"].iloc[0], "hr")
    assert set(report["km"][0]) == {"group", "time", "at_risk", "events", "censored", "survival", "lower", "upper"}


def test_patients_in_window_returns_events_and_censorings_in_range():
    rows = patients_in_window(data("ties_cr"), 9, 14)
    assert sorted(rows["time_days"].unique()) == [9, 12, 14]
    assert len(rows) == 7


@pytest.mark.parametrize("kwargs,message", [
    ({"conf_type": "logit"}, r"km_estimate: argument conf_type='logit'; allowed values: \['log-log', 'log', 'plain'\]"),
    ({"conf_level": 1.0}, r"km_estimate: argument conf_level=1.0; allowed values: 0 < conf_level < 1"),
    ({"group_col": "sex"}, r"km_estimate: argument group_col='sex'; allowed values: a column of df"),
])
def test_km_estimate_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        km_estimate(data("lung"), **{"group_col": "arm", **kwargs})


def test_missing_required_column_names_function_and_column():
    with pytest.raises(ValueError, match=r"logrank_test: argument df lacks column\(s\) \['event'\]"):
        logrank_test(data("lung").drop(columns="event"), group_col="arm")


def test_unknown_reference_is_rejected():
    with pytest.raises(ValueError, match="cox_hr: argument reference='Placebo'"):
        cox_hr(data("lung"), group_col="arm", reference="Placebo")


def test_cumulative_incidence_requires_event_type():
    with pytest.raises(ValueError, match=r"cumulative_incidence: argument df lacks column\(s\) \['event_type'\]"):
        cumulative_incidence(data("lung"), group_col="arm")


def test_empty_group_and_no_events_raise_insufficient_data():
    with pytest.raises(InsufficientData, match="No patients in group"):
        km_estimate(data("lung"), group_col="arm", groups=["Female", "Nobody"])
    no_events = data("lung").assign(event=lambda d: np.where(d["arm"] == "Female", 0, d["event"]))
    with pytest.raises(InsufficientData, match="No events in group"):
        cox_hr(no_events, group_col="arm", reference="Male")
    with pytest.raises(InsufficientData, match="at least two groups"):
        logrank_test(data("lung"), group_col="arm", groups=["Female"])
