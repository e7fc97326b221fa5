"""analyses.safety_rules: the cut's charter rules counted from the trial's own rows; per arm for the DSMB,
pooled (and without arm names) for blinded viewers, () without a charter. The counts are held against a
row-by-row count of the database's tables written here, independently of the domain functions."""

from __future__ import annotations

import shutil
from dataclasses import replace

import duckdb
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.analyses.safety_rules import safety_rules
from dashboard.data.database import randomization_path
from dashboard.domain import POOLED_LABEL
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import UNUSUAL_ARMS, connect_unblinded

DSMB, INVESTIGATOR = Viewer("dsmb", "dsmb", "DSMB"), Viewer("inv", "investigator", "Investigator")


@pytest.fixture(scope="module")
def views(unusual_arms_db):
    con = connect_unblinded(unusual_arms_db)
    yield {v.role: TrialView(con, v, unusual_arms_db) for v in (DSMB, INVESTIGATOR)}
    con.close()


def oracle(db) -> dict[str, dict[str, int]]:
    """Per rule of the demo charter, counts per arm computed row by row from the tables."""
    with connect_unblinded(db) as con:
        subjects = {u: (arm, day1, death) for u, arm, day1, death in
                    con.execute("SELECT usubjid, arm, day1_on, death_on FROM subjects").fetchall()}
        infusions: dict[str, list[int]] = {}
        for u, day in con.execute("SELECT usubjid, study_day FROM infusions").fetchall():
            infusions.setdefault(u, []).append(day)
        aes = con.execute("SELECT usubjid, onset_day, grade, serious, infusion_related FROM adverse_events").fetchall()

    def since(u, day):
        before = [d for d in infusions.get(u, []) if d <= day]
        return day - max(before) if before else None

    counts = {"early-deaths": dict.fromkeys(UNUSUAL_ARMS, 0), "early-severe-saes": dict.fromkeys(UNUSUAL_ARMS, 0),
              "infusion-reactions": {POOLED_LABEL: 0}}
    for u, (arm, day1, death) in subjects.items():
        if death is not None:
            days = since(u, (death - day1).days + 1)
            if days is not None and 0 <= days <= 7:
                counts["early-deaths"][arm] += 1
    for u, onset, grade, serious, infusion_related in aes:
        days = since(u, onset)
        if serious and grade >= 4 and days is not None and 0 <= days <= 7:
            counts["early-severe-saes"][subjects[u][0]] += 1
        if infusion_related:
            counts["infusion-reactions"][POOLED_LABEL] += 1
    return counts


def test_the_dsmb_gets_counts_per_arm_equal_to_a_row_by_row_count(views, unusual_arms_db):
    results = safety_rules(views["dsmb"], SubjectFilter())
    expected = oracle(unusual_arms_db)
    assert {r.rule.id: r.counts for r in results} == expected
    assert sum(expected["early-severe-saes"].values()) > 0 and expected["infusion-reactions"][POOLED_LABEL] > 0
    for r in results:
        assert r.met == any(n >= r.rule.threshold for n in r.counts.values())
        assert list(r.counts)[:2] == list(UNUSUAL_ARMS) or r.rule.scope == "pooled"


def test_blinded_viewers_get_every_rule_pooled_and_no_arm(views, unusual_arms_db):
    results = safety_rules(views["investigator"], SubjectFilter())
    expected = oracle(unusual_arms_db)
    assert {r.rule.id: r.counts for r in results} == {k: {POOLED_LABEL: sum(v.values())} for k, v in expected.items()}
    assert not any(arm in repr(results) for arm in UNUSUAL_ARMS)


def test_the_filter_selects_the_patients_counted(views):
    everyone = {r.rule.id: r for r in safety_rules(views["dsmb"], SubjectFilter())}
    some = safety_rules(views["dsmb"], SubjectFilter(arm=(UNUSUAL_ARMS[0],)))
    for r in some:
        assert set(r.patients) <= set(everyone[r.rule.id].patients)
        if r.rule.scope == "each_arm":
            assert r.counts == {UNUSUAL_ARMS[0]: everyone[r.rule.id].counts[UNUSUAL_ARMS[0]]}


def test_another_charter_may_be_given(views):
    charter = views["dsmb"].charter()
    stricter = replace(charter, safety_rules=tuple(replace(r, threshold=1) for r in charter.safety_rules))
    results = safety_rules(views["dsmb"], SubjectFilter(), stricter)
    assert [r.rule for r in results] == list(stricter.safety_rules)
    assert [r.met for r in results] == [sum(r.counts.values()) > 0 for r in results]


def test_no_charter_gives_no_results(tmp_path, trial_db):
    old = tmp_path / "old.duckdb"
    shutil.copyfile(trial_db, old)
    shutil.copyfile(randomization_path(trial_db), randomization_path(old))
    with duckdb.connect(str(old)) as con:
        con.execute("DELETE FROM charter")
    con = connect_unblinded(old)
    assert safety_rules(TrialView(con, DSMB, old), SubjectFilter()) == ()
    con.close()
