"""'New since the previous cut' on the Overview, the patient list and the profile, per role; blinded roles
receive no arm name; a database with one cut says so in one line."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.data.importers.cuts import write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.cut_changes import CHANGED_LABS, NEW_PATIENT
from dashboard.domain.profile import CHANGED_MARK
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import UNUSUAL_ARMS, connect_unblinded
from tests.pages.apptest_helpers import ROLE_VIEWERS, run_page, sent_bytes

ROLES = tuple(ROLE_VIEWERS)


@pytest.fixture(scope="module")
def two_cuts(tmp_path_factory):
    db = tmp_path_factory.mktemp("two_cuts") / "trial.duckdb"
    for cut in (date(2025, 3, 31), None):
        tables = simulate_trial(SimulationSettings(arms=UNUSUAL_ARMS, seed=7, cut_date=cut))
        if cut is None:
            # A data-cleaning correction: two albumin results already delivered in cut 1 are revised.
            labs = tables["lab_results"]
            revised = labs.index[(labs["paramcd"] == "ALB") & (labs["collected_on"] <= pd.Timestamp("2025-03-01"))][:2]
            labs.loc[revised, "value"] += 1.5
        write_cut(tables, db, source="sim")
    changes = TrialView(connect_unblinded(db), ROLE_VIEWERS["dsmb"], db).changes_since_previous_cut(SubjectFilter())
    return db, changes


@pytest.fixture
def env(app_env, monkeypatch, two_cuts):
    monkeypatch.setenv("DASHBOARD_DB", str(two_cuts[0]))
    return two_cuts[1]


def _no_arm_sent(at, role):
    if role != "dsmb":
        sent = sent_bytes(at)
        assert not [arm for arm in UNUSUAL_ARMS if arm.encode() in sent]


@pytest.mark.parametrize("role", ROLES)
def test_overview_counts_what_is_new_since_cut_1(env, role):
    at = run_page("pages/overview.py", role)
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.value == f"**{env.title}**" for m in at.markdown)
    assert {m.label: int(m.value) for m in at.metric} == env.counts()
    assert env.counts()["New patients"] > 0 and env.counts()["New deaths"] > 0
    _no_arm_sent(at, role)


@pytest.mark.parametrize("role", ROLES)
def test_patient_list_marks_new_and_changed_patients(env, role):
    at = run_page("pages/patients.py", role)
    assert not at.exception
    marks = at.dataframe[0].value.set_index("usubjid")["since_previous_cut"]
    assert set(marks[marks == NEW_PATIENT].index) == set(env.new_patients["usubjid"])
    assert all(CHANGED_LABS in marks[u] for u in env.changed_labs["usubjid"].unique())
    _no_arm_sent(at, role)


@pytest.mark.parametrize("role", ROLES)
def test_profile_badges_a_new_patient_and_flags_changed_lab_values(env, role):
    newcomer = env.new_patients["usubjid"].iloc[0]
    at = run_page("pages/patient.py", role, {"id": newcomer})
    assert not at.exception
    assert any("new since previous cut (cut 1, 2025-03-31)" in m.value for m in at.markdown)
    _no_arm_sent(at, role)

    changed = env.changed_labs["usubjid"].iloc[0]
    at = run_page("pages/patient.py", role, {"id": changed})
    assert any("changed since previous cut" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert table.drop(columns=["Visit", "Study day"]).apply(lambda c: c.str.contains(CHANGED_MARK)).any().any()


def test_a_single_cut_says_there_is_nothing_to_compare_yet(app_env):
    at = run_page("pages/overview.py", "investigator")
    assert any("No earlier data cut is kept for this database" in c.value for c in at.caption)
    assert not at.metric
    at = run_page("pages/patients.py", "investigator")
    assert "since_previous_cut" not in at.dataframe[0].value.columns
