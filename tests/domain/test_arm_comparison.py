"""Tests of dashboard.domain.arm_comparison against R (tests/domain/reference/labstats.R), statsmodels and scipy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from dashboard.domain.arm_comparison import AGGREGATE_COLUMNS, COMPARISON_COLUMNS, comparison_from_aggregates
from tests.oracle.arm_comparison import compare_arms_by_visit

REF = Path(__file__).parent / "reference"
STATS = ["diff", "lower", "upper", "p", "p_wilcoxon"]


@pytest.fixture(scope="module")
def alt() -> pd.DataFrame:
    return pd.read_csv(REF / "alt_fixture.csv")


def _rows(records):
    """records: (usubjid, arm, visit_num, value) -> lab rows."""
    return pd.DataFrame([dict(usubjid=u, arm=a, paramcd="ALT", visit=f"V{v}", visit_num=v, study_day=7 * v, value=x)
                         for u, a, v, x in records])


def _direct(df: pd.DataFrame, active: str, conf_level: float = 0.95) -> pd.DataFrame:
    """The textbook route, per visit: statsmodels OLS on (1, arm, base) and scipy mannwhitneyu."""
    base = df[df["visit_num"] == 0].set_index("usubjid")["value"]
    post = df[df["visit_num"] > 0].assign(base=lambda d: d["usubjid"].map(base)).dropna(subset=["base"])
    out = []
    for v, part in post.groupby("visit_num"):
        is_active = (part["arm"] == active).to_numpy()
        chg = (part["value"] - part["base"]).to_numpy(float)
        fit = sm.OLS(chg, np.column_stack([np.ones(len(chg)), is_active, part["base"]])).fit()
        lo, hi = fit.conf_int(alpha=1 - conf_level)[1]
        w = stats.mannwhitneyu(chg[is_active], chg[~is_active], use_continuity=True, method="asymptotic")
        out.append(dict(visit_num=v, diff=fit.params[1], lower=lo, upper=hi, p=fit.pvalues[1], p_wilcoxon=w.pvalue))
    return pd.DataFrame(out)


# --- against R, as before the move ---------------------------------------------------------------------

def test_arm_comparison_matches_r_lm_and_wilcox_test(alt):
    ref = pd.read_csv(REF / "labstats_ancova.csv")
    res = compare_arms_by_visit(alt, group_col="arm", active="UC-MSC", reference="Placebo")
    got = res.summary
    assert list(got.columns) == list(COMPARISON_COLUMNS)
    assert got["visit_num"].tolist() == ref["visit_num"].tolist()
    assert got["n_active"].tolist() == ref["n_active"].tolist()
    assert got["n_reference"].tolist() == ref["n_reference"].tolist()
    for col in STATS:
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-9, err_msg=col)


def test_arm_comparison_warns_below_five_patients_and_says_nominal(alt):
    res = compare_arms_by_visit(alt, group_col="arm", active="UC-MSC", reference="Placebo")
    warnings = dict(zip(res.summary["visit_num"], res.summary["warning"]))
    assert warnings[1] == "" and warnings[2] == ""
    assert "fewer than 5" in warnings[3] and "Placebo n=4" in warnings[3]
    assert "nominal, unadjusted for multiplicity" in res.method


def test_arm_comparison_with_an_empty_arm_returns_no_statistics():
    df = _rows([("A", "X", 0, 1.0), ("A", "X", 1, 2.0), ("B", "Y", 0, 1.0)])
    got = compare_arms_by_visit(df, group_col="arm", active="X", reference="Y").summary
    assert got["n_reference"].item() == 0 and got[["diff", "p", "p_wilcoxon"]].isna().all(axis=None)


# --- the closed form against statsmodels and scipy -------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("conf_level", [0.95, 0.9])
def test_sufficient_statistics_give_statsmodels_ols_and_scipy_mannwhitneyu(seed, conf_level):
    rng = np.random.default_rng(seed)
    records = []
    for i in range(60):
        arm = "X" if i % 3 else "Y"
        b = float(rng.integers(10, 40))
        records.append((f"p{i}", arm, 0, b))
        for v in (1, 2, 3):
            if rng.random() < 0.85:
                # Rounded to whole units so changes tie, as integer scores such as MELD do.
                records.append((f"p{i}", arm, v, float(round(b + rng.normal(-2.0 if arm == "X" else 0.0, 3) + 0.3 * v))))
    df = _rows(records)
    got = compare_arms_by_visit(df, group_col="arm", active="X", reference="Y", conf_level=conf_level).summary
    expected = _direct(df, "X", conf_level)
    assert len(got) == 3
    for col in STATS:
        np.testing.assert_allclose(got[col], expected[col], rtol=1e-9, atol=1e-12, err_msg=col)


def test_a_baseline_constant_within_each_arm_is_dropped_as_r_lm_does():
    # Base is aliased with intercept + arm; R lm drops it: diff = mean difference, pooled-variance t on n - 2 df.
    df = _rows([(u, a, 0, b) for u, a, b in (("a", "X", 10.0), ("b", "X", 10.0), ("c", "X", 10.0), ("d", "Y", 20.0),
                                                 ("e", "Y", 20.0), ("f", "Y", 20.0))]
               + [("a", "X", 1, 11.0), ("b", "X", 1, 14.0), ("c", "X", 1, 15.0), ("d", "Y", 1, 19.0),
                  ("e", "Y", 1, 22.0), ("f", "Y", 1, 20.0)])
    got = compare_arms_by_visit(df, group_col="arm", active="X", reference="Y").summary.iloc[0]
    x, y = np.array([1.0, 4.0, 5.0]), np.array([-1.0, 2.0, 0.0])
    t = stats.ttest_ind(x, y, equal_var=True)
    ci = t.confidence_interval(0.95)
    assert got["diff"] == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    assert got["p"] == pytest.approx(t.pvalue, rel=1e-9)
    assert (got["lower"], got["upper"]) == (pytest.approx(ci.low, rel=1e-9), pytest.approx(ci.high, rel=1e-9))


# --- comparison_from_aggregates ----------------------------------------------------------------------------

def _agg(**changes) -> pd.DataFrame:
    agg = pd.DataFrame({"group": ["X", "Y", "Z"], "visit_num": 1, "visit": "W1", "n": [6, 5, 4], "chg_mean": [1.0, 2.0, 0.0],
                        "base_mean": [10.0, 11.0, 9.0], "ss_base": [20.0, 18.0, 5.0], "ss_chg": [8.0, 9.0, 1.0],
                        "sp_base_chg": [3.0, -2.0, 0.0], "rank_sum": [28.0, 38.0, 0.0], "tie_term": 6.0})
    return agg.assign(**changes)


def test_aggregates_of_a_third_arm_are_ignored():
    with_z = comparison_from_aggregates(_agg(), active="X", reference="Y").summary
    without = comparison_from_aggregates(_agg().iloc[:2], active="X", reference="Y").summary
    pd.testing.assert_frame_equal(with_z, without)
    assert with_z[["n_active", "n_reference"]].values.tolist() == [[6, 5]] and with_z["p"].notna().all()


@pytest.mark.parametrize("agg, kwargs, message", [
    (_agg(), dict(active="X", reference="X"), "active and reference must differ"),
    (_agg(), dict(active="X", reference="Y", conf_level=95),
     "argument conf_level=95; allowed values: 0 < conf_level < 1"),
    (_agg().drop(columns="tie_term"), dict(active="X", reference="Y"), "lacks column(s) ['tie_term']"),
    (_agg(duplicate_rows=2), dict(active="X", reference="Y"), "several post-baseline values for one usubjid and visit_num"),
])
def test_bad_aggregates_or_arguments_raise_value_error_naming_the_function(agg, kwargs, message):
    with pytest.raises(ValueError) as info:
        comparison_from_aggregates(agg, **kwargs)
    assert "comparison_from_aggregates" in str(info.value) and message in str(info.value)
    assert set(AGGREGATE_COLUMNS) - {"tie_term"} <= set(agg.columns)


@pytest.mark.parametrize("call, message", [
    (lambda d: compare_arms_by_visit(d, group_col="arm", active="MSC", reference="Placebo"), "active='MSC'"),
    (lambda d: compare_arms_by_visit(d, group_col=None, active="a", reference="b"), "group_col must"),
    (lambda d: compare_arms_by_visit(d, group_col="arm", active="Placebo", reference="Placebo"), "must differ"),
    (lambda d: compare_arms_by_visit(pd.concat([d, d]), group_col="arm", active="UC-MSC", reference="Placebo"),
     "several post-baseline values for one usubjid"),
])
def test_bad_arguments_raise_value_error_naming_function_and_argument(alt, call, message):
    with pytest.raises(ValueError) as info:
        call(alt)
    assert "compare_arms_by_visit" in str(info.value) and message in str(info.value)
