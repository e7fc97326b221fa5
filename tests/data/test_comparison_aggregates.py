"""The between-arm comparison from DuckDB aggregates equals compare_arms_by_visit on the fetched rows and R."""

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.data import queries
from dashboard.data.comparison_aggregates import lab_comparison_aggregates
from dashboard.domain.arm_comparison import AGGREGATE_COLUMNS, comparison_from_aggregates
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import UnsuitableData
from tests.conftest import connect_unblinded
from tests.oracle.arm_comparison import compare_arms_by_visit

REF = Path(__file__).parents[1] / "domain" / "reference"
CLOSE = dict(check_exact=False, rtol=1e-9, atol=1e-9, check_dtype=False)
STATS = ["diff", "lower", "upper", "p", "p_wilcoxon"]


@pytest.fixture(scope="module")
def con(trial_db):
    with connect_unblinded(trial_db) as c:
        yield c


def _both_paths(con, f, code, active, reference):
    """(SQL path, pandas path, the SQL aggregates) for one lab and filter."""
    agg = lab_comparison_aggregates(con, f, code, active, reference, include_arm=True)
    got = comparison_from_aggregates(agg, active=active, reference=reference)
    expected = compare_arms_by_visit(queries.lab_rows(con, f, (code,), True), group_col="arm", active=active,
                                     reference=reference)
    return got, expected, agg


def _mini_db(labs: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """In-memory database with the columns the query reads, from lab rows carrying ``arm``."""
    c = duckdb.connect()
    subjects = labs.drop_duplicates("usubjid")[["usubjid", "arm"]]  # noqa: F841 - read by DuckDB by name
    lab_results = labs.drop(columns="arm")  # noqa: F841
    c.execute("CREATE TABLE subjects AS SELECT * FROM subjects")
    c.execute("CREATE TABLE lab_results AS SELECT * FROM lab_results")
    return c


def _rows(records):
    """records: (usubjid, arm, visit_num, study_day, value) -> lab rows of one parameter."""
    return pd.DataFrame([dict(usubjid=u, arm=a, paramcd="ALT", visit=f"V{v}", visit_num=v, study_day=d, value=x)
                         for u, a, v, d, x in records])


@pytest.mark.parametrize("code", ["MELD", "ALB", "BILI", "INR", "ALT"])
@pytest.mark.parametrize("f", [SubjectFilter(), SubjectFilter(sex=("F",))], ids=["all", "women"])
def test_sql_comparison_equals_the_pandas_comparison(con, code, f):
    active, reference = queries.study(con, True)["arms"]
    got, expected, agg = _both_paths(con, f, code, active, reference)
    assert list(agg.columns)[:len(AGGREGATE_COLUMNS)] == list(AGGREGATE_COLUMNS)
    # A comparison that cannot fail is no test: several visits, both arms, real statistics.
    assert len(expected.summary) >= 3 and expected.summary["p"].notna().sum() >= 3
    assert expected.summary["p_wilcoxon"].notna().sum() >= 3
    pd.testing.assert_frame_equal(got.summary, expected.summary, **CLOSE)
    assert got.method == expected.method and (got.active, got.reference) == (active, reference)


def test_meld_has_tied_changes_and_both_paths_still_agree(con):
    # MELD is an integer score: many patients share a change, so the tie correction matters.
    active, reference = queries.study(con, True)["arms"]
    got, expected, agg = _both_paths(con, SubjectFilter(), "MELD", active, reference)
    assert (agg.drop_duplicates("visit_num")["tie_term"] > 0).sum() >= 5
    np.testing.assert_allclose(got.summary["p_wilcoxon"], expected.summary["p_wilcoxon"], rtol=1e-12)


def test_sql_comparison_of_the_r_fixture_equals_r_lm_and_wilcox_test():
    alt = pd.read_csv(REF / "alt_fixture.csv")
    ref = pd.read_csv(REF / "labstats_ancova.csv")
    with _mini_db(alt) as c:
        agg = lab_comparison_aggregates(c, SubjectFilter(), "ALT", "UC-MSC", "Placebo", include_arm=True)
    got = comparison_from_aggregates(agg, active="UC-MSC", reference="Placebo").summary
    assert (agg["tie_term"] > 0).any()  # integer ALT values: the ranks tie
    assert got["visit_num"].tolist() == ref["visit_num"].tolist()
    assert got[["n_active", "n_reference"]].values.tolist() == ref[["n_active", "n_reference"]].values.tolist()
    for col in STATS:
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-9, err_msg=col)
    expected = compare_arms_by_visit(alt, group_col="arm", active="UC-MSC", reference="Placebo").summary
    pd.testing.assert_frame_equal(got, expected, **CLOSE)


def test_edge_cases_agree_between_sql_and_pandas():
    labs = _rows([
        # V1: four of five changes tie at 0; V2: an arm with no patients; V3: n = 3, no ANCOVA;
        # V4: one patient per arm, both unchanged (every value tied: scipy's p is 1).
        ("a", "X", 0, 1, 10.0), ("a", "X", 1, 8, 10.0), ("a", "X", 2, 15, 12.0), ("a", "X", 3, 22, 11.0),
        ("a", "X", 4, 29, 10.0),
        ("b", "X", 0, 1, 20.0), ("b", "X", 1, 8, 20.0), ("b", "X", 2, 15, 19.0), ("b", "X", 3, 22, 25.0),
        ("c", "Y", 0, 1, 30.0), ("c", "Y", 1, 8, 30.0), ("c", "Y", 3, 22, 28.0), ("c", "Y", 4, 29, 30.0),
        ("d", "Y", 0, 1, 40.0), ("d", "Y", 1, 8, 43.0),
        ("e", "Y", 0, -2, 50.0), ("e", "Y", 1, 8, 50.0),
        # f has no baseline, so no change: left out of every visit.
        ("f", "X", 1, 8, 5.0), ("f", "X", 2, 15, 6.0),
    ])
    with _mini_db(labs) as c:
        agg = lab_comparison_aggregates(c, SubjectFilter(), "ALT", "X", "Y", include_arm=True)
    got = comparison_from_aggregates(agg, active="X", reference="Y").summary
    expected = compare_arms_by_visit(labs, group_col="arm", active="X", reference="Y").summary
    pd.testing.assert_frame_equal(got, expected, **CLOSE)
    v = got.set_index("visit_num")
    # V1: X changes 0, 0; Y changes 0, 3, 0 (tie term 4^3 - 4 = 60).
    assert v.loc[1, ["n_active", "n_reference"]].tolist() == [2, 3]
    assert agg.loc[agg["visit_num"] == 1, "tie_term"].tolist() == [60.0, 60.0]
    assert v.loc[1, "p_wilcoxon"] == pytest.approx(stats.mannwhitneyu(
        [0.0, 0.0], [0.0, 3.0, 0.0], use_continuity=True, method="asymptotic").pvalue, rel=1e-12)
    assert v.loc[2, "n_reference"] == 0 and v.loc[2, STATS].isna().all() and "Y n=0" in v.loc[2, "warning"]
    assert np.isnan(v.loc[3, "p"]) and not np.isnan(v.loc[3, "p_wilcoxon"]) and "fewer than 5" in v.loc[3, "warning"]
    assert v.loc[4, "p_wilcoxon"] == 1.0


def test_rows_outside_the_comparison_may_repeat_as_in_imported_data():
    # Unscheduled rows without a visit, a repeated baseline and a third arm's repeats never enter the
    # comparison, so neither path refuses them (the CDISC pilot's ADaM labs have such unscheduled rows).
    labs = _rows([("a", "X", 0, -2, 5.0), ("a", "X", 0, 1, 1.0), ("a", "X", 1, 8, 2.0), ("b", "Y", 0, 1, 1.0),
                  ("b", "Y", 1, 8, 1.5), ("c", "X", 0, 1, 2.0), ("c", "X", 1, 8, 4.0), ("d", "Y", 0, 1, 3.0),
                  ("d", "Y", 1, 8, 2.0), ("e", "Z", 0, 1, 1.0), ("e", "Z", 1, 8, 2.0), ("e", "Z", 1, 9, 3.0)])
    labs = pd.concat([labs, labs.iloc[[2, 4]].assign(visit=None, visit_num=None, study_day=30)], ignore_index=True)
    with _mini_db(labs) as c:
        agg = lab_comparison_aggregates(c, SubjectFilter(), "ALT", "X", "Y", include_arm=True)
    assert (agg["duplicate_rows"] == 0).all()
    got = comparison_from_aggregates(agg, active="X", reference="Y")
    expected = compare_arms_by_visit(labs, group_col="arm", active="X", reference="Y")
    assert got.summary.loc[0, ["n_active", "n_reference"]].tolist() == [2, 2]
    pd.testing.assert_frame_equal(got.summary, expected.summary, check_exact=False, rtol=1e-9, atol=1e-12)


def test_a_pooled_viewer_cannot_run_the_comparison_query(con):
    with pytest.raises(ValueError, match="include_arm must be True"):
        lab_comparison_aggregates(con, SubjectFilter(), "MELD", "UC-MSC", "Placebo", include_arm=False)


def test_several_rows_for_one_patient_and_visit_are_refused_like_the_pandas_path():
    labs = _rows([("a", "X", 0, 1, 1.0), ("a", "X", 1, 8, 2.0), ("a", "X", 1, 9, 3.0), ("b", "Y", 0, 1, 1.0),
                  ("b", "Y", 1, 8, 1.0)])
    with _mini_db(labs) as c:
        agg = lab_comparison_aggregates(c, SubjectFilter(), "ALT", "X", "Y", include_arm=True)
    assert (agg["duplicate_rows"] == 1).all()
    # A data condition the page explains, not an argument error (UnsuitableData, not a bare ValueError).
    with pytest.raises(UnsuitableData, match="several post-baseline values for one usubjid and visit_num"):
        comparison_from_aggregates(agg, active="X", reference="Y")
    with pytest.raises(ValueError, match="several post-baseline values for one usubjid and visit_num"):
        compare_arms_by_visit(labs, group_col="arm", active="X", reference="Y")
