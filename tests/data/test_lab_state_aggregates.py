"""A lab's state at each visit with the dead kept: the DuckDB counts equal the row-by-row oracle, by arm and pooled,
on the demo and on a messy copy (records without limits, repeated values at a visit, rows without a visit); the
states are absorbing and every patient whose visit was due is counted once."""

import re

import pandas as pd
import pytest

from dashboard.data import queries
from dashboard.data.lab_state_aggregates import lab_landmark_rows, lab_state_counts
from dashboard.domain.death_aware import DIED, EXIT_CODES, NO_VALUE, TRANSPLANTED, state_distribution, state_scale
from dashboard.domain.subject_filter import SubjectFilter
from tests.data.sql_helpers import SqlRecorder, messy_copy
from tests.oracle.death_aware import lab_landmark_rows as landmark_oracle
from tests.oracle.death_aware import lab_state_counts as oracle
from tests.oracle.labstats import add_exit_day

MESS = """
    UPDATE lab_results SET upper_limit = NULL WHERE paramcd = 'BILI' AND hash(usubjid, study_day) % 5 = 0;
    UPDATE lab_results SET lower_limit = lower_limit * 0.8 WHERE paramcd = 'ALB' AND hash(usubjid, study_day) % 5 = 1;
    INSERT INTO lab_results SELECT * REPLACE (study_day + 1 AS study_day, value * 3 AS value) FROM lab_results
        WHERE visit_num > 0 AND hash(usubjid, paramcd, visit_num) % 6 = 0;
    UPDATE lab_results SET visit_num = NULL WHERE visit_num > 0 AND hash(usubjid, paramcd, study_day) % 11 = 0;
    DELETE FROM lab_results WHERE visit_num = 0 AND hash(usubjid, paramcd) % 13 = 1;
"""


@pytest.fixture(scope="module")
def messy_con(trial_db):
    with messy_copy(trial_db, ("study", "subjects", "visits", "lab_results", "infusions"), MESS) as c:
        yield c


def _key(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["group", "visit_num", "baseline_state", "state"]
    out = df.assign(group=df["group"].astype(object).where(df["group"].notna(), None),
                    baseline_state=df["baseline_state"].astype(float), state=df["state"].astype(float),
                    visit_num=df["visit_num"].astype(int), n=df["n"].astype(int))
    return out[[*cols, "visit", "n"]].sort_values(cols, na_position="last").reset_index(drop=True)


def _oracle(con, f, code, include_arm):
    rows = queries.lab_rows(con, f, (code,), include_arm)
    subjects = add_exit_day(queries.subjects(con, f, include_arm))
    visits = con.execute("SELECT visit, visit_num, target_day, window_hi FROM visits WHERE visit_num IS NOT NULL "
                         "ORDER BY visit_num").df()
    cut = con.execute("SELECT max(data_cut_date) FROM study").fetchone()[0]
    return oracle(rows, subjects, visits, cut, state_scale(code), "arm" if include_arm else None)


@pytest.mark.parametrize("code", ["MELD", "BILI", "ALB"])
@pytest.mark.parametrize("which", ["demo_con", "messy_con"])
def test_sql_counts_equal_the_row_by_row_oracle(request, which, include_arm, code):
    con = request.getfixturevalue(which)
    f = SubjectFilter()
    got = lab_state_counts(con, f, state_scale(code), include_arm)
    pd.testing.assert_frame_equal(_key(got), _key(_oracle(con, f, code, include_arm)))
    states = set(got["state"])
    assert {EXIT_CODES[DIED], 0, 1} <= states


def test_a_filter_applies_and_women_are_counted_alone(demo_con):
    women = SubjectFilter(sex=("F",))
    got = lab_state_counts(demo_con, women, state_scale("MELD"), True)
    pd.testing.assert_frame_equal(_key(got), _key(_oracle(demo_con, women, "MELD", True)))
    n_women = len(queries.subjects(demo_con, women, True))
    assert got.loc[got["visit_num"] == 0, "n"].sum() == n_women


@pytest.fixture(scope="module")
def late_cut_con(trial_db):
    """The demo read as if the cut came after everyone's last visit: every visit is due for every patient."""
    with messy_copy(trial_db, ("study", "subjects", "visits", "lab_results", "infusions"),
                    "UPDATE study SET data_cut_date = DATE '2030-01-01';") as c:
        yield c


def test_dead_and_transplanted_stay_so_and_every_due_patient_counts_once(late_cut_con, demo_con):
    dist = state_distribution(lab_state_counts(late_cut_con, SubjectFilter(), state_scale("MELD"), True),
                              state_scale("MELD"))
    t = dist.table
    for group, part in t.groupby("group"):
        by_visit = part.pivot(index="visit_num", columns="state", values="n")
        # Every patient is due at every visit, so absorbing states never lose a patient from one visit to the next.
        assert by_visit.sum(axis=1).nunique() == 1
        assert (by_visit[DIED].diff().dropna() >= 0).all() and (by_visit[TRANSPLANTED].diff().dropna() >= 0).all()
        assert by_visit[DIED].iloc[-1] > 0
    due = t.groupby(["group", "visit_num"])["n"].sum()
    assert (due == t.groupby(["group", "visit_num"])["due"].first()).all()
    assert abs(t.groupby(["group", "visit_num"])["pct"].sum().dropna() - 100).max() < 1e-9
    assert "had died" in dist.population
    # At the real cut, a late visit counts only the patients who could have reached it, dead or alive.
    real = state_distribution(lab_state_counts(demo_con, SubjectFilter(), state_scale("MELD"), True), state_scale("MELD"))
    assert real.table.groupby("visit_num")["n"].sum().iloc[-1] < t.groupby("visit_num")["n"].sum().iloc[-1]


def test_pooled_query_never_reads_the_arm(demo_con):
    rec = SqlRecorder(demo_con)
    counts = lab_state_counts(rec, SubjectFilter(), state_scale("MELD"), False)
    assert rec.sql and not any(re.search(r"\barm\b", sql) for sql in rec.sql)
    assert len(counts) > 0 and counts["group"].isna().all()


def test_bands_follow_the_worse_direction_and_exit_codes_never_collide_with_bands():
    assert state_scale("ALB").labels == (">=LLN", "<LLN", "<0.5x LLN")
    assert state_scale("BILI").labels[-1] == ">10x ULN" and state_scale("MELD3").cuts == (15.0, 25.0, 35.0)
    assert min(EXIT_CODES.values()) > max(len(state_scale(c).cuts) for c in ("MELD", "BILI", "ALB"))
    assert EXIT_CODES[NO_VALUE] == max(EXIT_CODES.values())


@pytest.mark.parametrize("visit_num", [5, 6])
@pytest.mark.parametrize("which", ["demo_con", "messy_con"])
def test_landmark_rows_equal_the_oracle(request, which, include_arm, visit_num):
    con, f = request.getfixturevalue(which), SubjectFilter()
    got = lab_landmark_rows(con, f, "MELD", visit_num, include_arm)
    rows = queries.lab_rows(con, f, ("MELD",), include_arm)
    subjects = queries.subjects(con, f, include_arm)
    visits = con.execute("SELECT visit, visit_num, target_day, window_hi FROM visits").df()
    cut = con.execute("SELECT max(data_cut_date) FROM study").fetchone()[0]
    expected = landmark_oracle(rows, subjects, visits, cut, visit_num, "arm" if include_arm else None)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["death_day"].notna().any() and got["value"].isna().any() and got["value"].notna().any()


def test_grades_are_their_own_bands_and_scores_without_bands_say_which_to_choose():
    from dashboard.errors import UnsuitableData
    aclf = state_scale("ACLFGR")
    assert aclf.labels[0] == "No ACLF" and aclf.cuts == (1.0, 2.0, 3.0) and aclf.op == ">="
    assert state_scale("CPCLASS").labels == ("Child-Pugh A", "Child-Pugh B", "Child-Pugh C")
    with pytest.raises(UnsuitableData, match="Child-Pugh class"):
        state_scale("CLIFCACLF")
