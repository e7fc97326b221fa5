"""Shifts, transitions and resolution times aggregated in DuckDB equal the pandas functions on the fetched rows,
and so do the views that keep the dead: who each visit counts, the shift and Sankey with absorbing states, and
the cumulative incidence of resolution."""

import re
import shutil

import duckdb
import pandas as pd
import pytest

from dashboard.data import ascites_aggregates as agg
from dashboard.data import queries
from dashboard.data.database import randomization_path
from dashboard.domain import POOLED_LABEL
from dashboard.domain.ascites import (
    DIED,
    NOT_DUE,
    SHIFT_VISITS,
    TRANSPLANTED,
    grade_shift_from_counts,
    resolution_cif_from_times,
    resolution_km_from_times,
    state_shift_from_counts,
    transitions_from_counts,
    visit_population_from_counts,
)
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import InsufficientData
from tests.conftest import connect_unblinded
from tests.data.sql_helpers import SqlRecorder, study_groups
from tests.oracle.ascites import (
    grade_shift,
    grade_transitions,
    resolution_cif,
    resolution_km,
    resolution_times,
    state_shift,
    state_transitions,
    visit_population,
)
from tests.oracle.labstats import add_exit_day

FILTERS = {"all": SubjectFilter(), "women": SubjectFilter(sex=("F",))}
CLOSE = dict(check_exact=False, rtol=1e-9, atol=1e-9)


@pytest.fixture
def con(demo_con):
    return demo_con


def _present(rows: pd.DataFrame, visits) -> list[str]:
    return [v for v in visits if v in set(rows["visit"])]


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_shift_from_sql_counts_equals_grade_shift(con, include_arm, f):
    rows = queries.ascites_rows(con, f, include_arm)
    visits = _present(rows, SHIFT_VISITS)
    group_col = "arm" if include_arm else None
    # groups=None too: both paths then order the groups by first appearance (first patient by usubjid).
    for groups in (study_groups(con, include_arm), None):
        expected = grade_shift(rows, group_col=group_col, groups=groups, visits=visits)
        got = grade_shift_from_counts(agg.ascites_shift_counts(con, f, visits, include_arm), groups=groups, visits=visits)
        pd.testing.assert_frame_equal(got, expected)
    assert len(visits) >= 2 and expected["n"].sum() > 0
    assert expected["improved"].sum() > 0 and expected["stable"].sum() > 0


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_transitions_from_sql_counts_equal_grade_transitions(con, include_arm, f):
    rows = queries.ascites_rows(con, f, include_arm)
    group_col = "arm" if include_arm else None
    # The page's default (baseline and the shift visits) and visits chosen out of schedule order.
    for visits in (_present(rows, ("Baseline", *SHIFT_VISITS)), _present(rows, ("W12", "Baseline", "W2", "W4"))):
        for groups in (study_groups(con, include_arm), None):
            expected = grade_transitions(rows, visits=visits, group_col=group_col, groups=groups)
            got = transitions_from_counts(agg.ascites_transition_counts(con, f, visits, include_arm), visits=visits,
                                          groups=groups)
            pd.testing.assert_frame_equal(got, expected)
            assert len(expected) > 3 and expected["count"].sum() > 0


def _resolution_inputs(con, f, include_arm):
    """The selected patients' ascites rows and subjects with their exit day (``add_exit_day``)."""
    return queries.ascites_rows(con, f, include_arm), add_exit_day(queries.subjects(con, f, include_arm))


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_resolution_times_from_sql_equal_resolution_times(con, include_arm, f):
    rows, exits = _resolution_inputs(con, f, include_arm)
    expected = resolution_times(rows, exits, group_col="arm" if include_arm else None)
    got = agg.ascites_resolution_times(con, f, include_arm)
    pd.testing.assert_frame_equal(got.assign(group=got["group"].fillna(POOLED_LABEL)), expected, **CLOSE)
    assert expected["event"].sum() > 0 and (expected["event"] == 0).any()


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_resolution_km_from_sql_times_equals_resolution_km(con, include_arm, f):
    rows, exits = _resolution_inputs(con, f, include_arm)
    groups = study_groups(con, include_arm)
    try:
        expected = resolution_km(rows, exits, group_col="arm" if include_arm else None, groups=groups)
    except InsufficientData as exc:
        # Few women on placebo: then the SQL path must refuse the same way.
        with pytest.raises(InsufficientData, match=re.escape(str(exc))):
            resolution_km_from_times(agg.ascites_resolution_times(con, f, include_arm), groups=groups)
        assert include_arm and f.sex
        return
    got = resolution_km_from_times(agg.ascites_resolution_times(con, f, include_arm), groups=groups)
    pd.testing.assert_frame_equal(got.table, expected.table, **CLOSE)
    pd.testing.assert_frame_equal(got.summary, expected.summary, **CLOSE)
    assert (got.groups, got.method) == (expected.groups, expected.method)
    assert expected.summary["events"].min() > 0


@pytest.fixture(scope="module")
def messy_db(trial_db, tmp_path_factory):
    """The demo trial with what real cuts have and the simulation lacks: exits before some assessments
    (deaths on the day of the W1 visit, withdrawals without their date, whose exit falls back to the last
    contact on day 10) and repeated assessments (a second, different baseline on day 2 and one before day 1; a W4
    assessment repeated two days later with another grade)."""
    path = tmp_path_factory.mktemp("messy") / "trial.duckdb"
    shutil.copy(trial_db, path)
    shutil.copy(randomization_path(trial_db), randomization_path(path))
    with duckdb.connect(str(path)) as c:
        # Patients with ascites at baseline still unresolved and assessed after day 10: their times change.
        late = [r[0] for r in c.execute("""
            SELECT usubjid FROM ascites GROUP BY usubjid
            HAVING arg_max(grade, study_day) FILTER (WHERE visit_num = 0) > 0 AND max(study_day) > 10
               AND coalesce(min(study_day) FILTER (WHERE visit_num > 0 AND grade = 0), 999) > 10
            ORDER BY usubjid LIMIT 6""").fetchall()]
        assert len(late) == 6
        # Died on the day of their W1 visit: that assessment is still counted (study_day <= exit day).
        c.execute("""UPDATE subjects SET status = 'died', death_on = day1_on + coalesce(
                         (SELECT a.study_day FROM ascites a WHERE a.usubjid = subjects.usubjid AND a.visit = 'W1'), 10) - 1
                     WHERE usubjid IN (SELECT unnest($ids))""", {"ids": late[:4]})
        c.execute("""UPDATE subjects SET status = 'withdrawn', withdrawn_on = NULL, last_contact_on = day1_on + 9
                     WHERE usubjid IN (SELECT unnest($ids))""", {"ids": late[4:]})
        c.execute("""
            INSERT INTO ascites
            SELECT usubjid, visit, visit_num, 2, (grade + 1) % 4, depth_cm, volume_ml FROM ascites
            WHERE visit_num = 0 AND usubjid IN (SELECT usubjid FROM subjects ORDER BY usubjid LIMIT 40 OFFSET 10)
            UNION ALL
            SELECT usubjid, visit, visit_num, 0, (grade + 3) % 4, depth_cm, volume_ml FROM ascites
            WHERE visit_num = 0 AND usubjid IN (SELECT usubjid FROM subjects ORDER BY usubjid LIMIT 30)
            UNION ALL
            SELECT usubjid, visit, visit_num, study_day + 2, (grade + 2) % 4, depth_cm, volume_ml FROM ascites
            WHERE visit = 'W4' AND usubjid IN (SELECT usubjid FROM subjects ORDER BY usubjid LIMIT 50)""")
        # Same-day repeats with another grade: the choice must follow (study_day, grade), not row order.
        c.execute("""
            INSERT INTO ascites
            SELECT usubjid, visit, visit_num, study_day, (grade + 1) % 4, depth_cm, volume_ml FROM ascites
            WHERE visit IN ('Baseline', 'W1', 'W12') AND hash(usubjid) % 3 = 0""")
    return path


def test_repeated_assessments_and_early_exits_are_handled_as_in_pandas(messy_db, include_arm):
    f, group_col, visits = SubjectFilter(), ("arm" if include_arm else None), ["Baseline", "W1", "W4", "W12"]
    with connect_unblinded(messy_db) as c:
        groups = study_groups(c, include_arm)
        rows, exits = _resolution_inputs(c, f, include_arm)
        shift = grade_shift_from_counts(agg.ascites_shift_counts(c, f, visits, include_arm), groups=groups, visits=visits)
        links = transitions_from_counts(agg.ascites_transition_counts(c, f, visits, include_arm), visits=visits,
                                        groups=groups)
        times = agg.ascites_resolution_times(c, f, include_arm)
        kept = _kept_dead(c, f, include_arm, visits)
        expected_kept = _kept_dead_oracle(c, f, include_arm, visits)
    assert rows.duplicated(["usubjid", "visit"]).sum() > 40
    # The moved exits really cut assessments off and change the times.
    assert (rows["study_day"] > rows["usubjid"].map(exits.set_index("usubjid")["exit_day"])).sum() >= 4
    for got, expected in zip(kept, expected_kept):
        pd.testing.assert_frame_equal(got, expected)
    expected_times = resolution_times(rows, exits, group_col=group_col)
    assert not resolution_times(rows, group_col=group_col).equals(expected_times)
    pd.testing.assert_frame_equal(shift, grade_shift(rows, group_col=group_col, groups=groups, visits=visits))
    pd.testing.assert_frame_equal(links, grade_transitions(rows, visits=visits, group_col=group_col, groups=groups))
    pd.testing.assert_frame_equal(times.assign(group=times["group"].fillna(POOLED_LABEL)), expected_times, **CLOSE)


def test_pooled_queries_never_read_the_arm(con):
    rec, f = SqlRecorder(con), SubjectFilter(sex=("F",))
    results = [agg.ascites_shift_counts(rec, f, ["W4"], False),
               agg.ascites_transition_counts(rec, f, ["Baseline", "W4"], False),
               agg.ascites_resolution_times(rec, f, False),
               agg.ascites_visit_states(rec, f, False),
               agg.ascites_state_shift_counts(rec, f, ["W4"], False),
               agg.ascites_state_transition_counts(rec, f, ["Baseline", "W4"], False)]
    assert not any(re.search(r"\barm\b", sql) for sql in rec.sql)
    for r in results:
        assert len(r) > 0 and r["group"].isna().all() and "arm" not in r.columns


def test_a_visit_nobody_attended_is_refused_and_transitions_need_two_visits(con):
    counts = agg.ascites_shift_counts(con, SubjectFilter(), ["W4", "W99"], True)
    with pytest.raises(ValueError, match=r"grade_shift_from_counts: visits \['W99'\] have no assessment"):
        grade_shift_from_counts(counts, visits=["W4", "W99"])
    with pytest.raises(ValueError, match="at least two"):
        transitions_from_counts(agg.ascites_transition_counts(con, SubjectFilter(), ["W4"], True), visits=["W4"])


# --- The views that keep the dead ---------------------------------------------------------------------------

def _kept_dead(con, f, include_arm, visits):
    """Who each visit counts, the state shift and the state Sankey through SQL and the domain tails."""
    groups = study_groups(con, include_arm)
    return (visit_population_from_counts(agg.ascites_visit_states(con, f, include_arm), groups=groups),
            state_shift_from_counts(agg.ascites_state_shift_counts(con, f, visits, include_arm), visits=visits,
                                    groups=groups),
            transitions_from_counts(agg.ascites_state_transition_counts(con, f, visits, include_arm), visits=visits,
                                    groups=groups))


def _kept_dead_oracle(con, f, include_arm, visits):
    """The same three from the fetched rows (tests.oracle.ascites)."""
    rows, subjects = _resolution_inputs(con, f, include_arm)
    schedule, cut = queries.visit_schedule(con), queries.study(con, False)["data_cut_date"]
    kw = dict(group_col="arm" if include_arm else None, groups=study_groups(con, include_arm))
    return (visit_population(rows, subjects, schedule, cut, **kw),
            state_shift(rows, subjects, schedule, cut, visits=visits, **kw),
            state_transitions(rows, subjects, schedule, cut, visits=visits, **kw))


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_views_that_keep_the_dead_from_sql_equal_the_pandas_oracle(con, include_arm, f):
    visits = ["Baseline", *SHIFT_VISITS]
    population, shift, links = _kept_dead(con, f, include_arm, visits)
    expected = _kept_dead_oracle(con, f, include_arm, visits)
    for got, want in zip((population, shift, links), expected):
        pd.testing.assert_frame_equal(got, want)
    # Not vacuous: deaths, transplants and visits not yet due at the cut are in every view.
    assert population["died"].sum() > 0 and population["not_yet_due"].sum() > 0
    assert shift["died"].sum() > 0 and (shift["n"] + shift["not_yet_due"]).gt(0).all()
    states = set(links["target_state"])
    assert DIED in states and NOT_DUE in states and (include_arm or f.sex or TRANSPLANTED in states)
    # Every selected patient is in every column of the Sankey, and in every visit's population.
    patients = queries.count_subjects(con, f)[0]
    assert (links.groupby("source_visit")["count"].sum() == patients).all()
    assert (population.groupby("visit")["patients"].sum() == patients).all()


def test_state_sankey_visits_out_of_schedule_order_equal_the_oracle(con, include_arm):
    visits = ["W12", "Baseline", "W2", "W4"]
    links = _kept_dead(con, SubjectFilter(), include_arm, visits)[2]
    pd.testing.assert_frame_equal(links, _kept_dead_oracle(con, SubjectFilter(), include_arm, visits)[2])
    assert links["source_visit"].unique().tolist() == ["W12", "Baseline", "W2"]


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_resolution_cif_from_sql_times_equals_resolution_cif(con, include_arm, f):
    rows, exits = _resolution_inputs(con, f, include_arm)
    groups = study_groups(con, include_arm)
    days = {"W12": 85.0, "W24": 169.0}
    try:
        expected = resolution_cif(rows, exits, group_col="arm" if include_arm else None, groups=groups, days=days)
    except InsufficientData as exc:
        with pytest.raises(InsufficientData, match=re.escape(str(exc))):
            resolution_cif_from_times(agg.ascites_resolution_times(con, f, include_arm), groups=groups, days=days)
        assert include_arm and f.sex
        return
    got = resolution_cif_from_times(agg.ascites_resolution_times(con, f, include_arm), groups=groups, days=days)
    for name in ("cif", "death"):
        pd.testing.assert_frame_equal(getattr(got, name).table, getattr(expected, name).table, **CLOSE)
    pd.testing.assert_frame_equal(got.counts, expected.counts)
    pd.testing.assert_frame_equal(got.at_visits, expected.at_visits, **CLOSE)
    assert got.method == expected.method and (got.gray is None) == (expected.gray is None) == (not include_arm)
    assert expected.counts[["resolved", "died"]].sum().min() > 0
