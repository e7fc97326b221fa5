"""analyses.ascites where the assessments name a visit the schedule does not hold (an import whose ascites
labels differ from its visits table): the views that keep the dead use the scheduled visits only and say so
instead of failing."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.analyses import ascites
from dashboard.data.database import randomization_path
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import InsufficientData
from tests.conftest import connect_unblinded


@pytest.fixture(scope="module")
def relabelled(trial_db, tmp_path_factory):
    """The demo trial with its schedule calling W4 "Week 4" while the ascites rows still say "W4"."""
    path = tmp_path_factory.mktemp("relabelled") / "trial.duckdb"
    shutil.copy(trial_db, path)
    shutil.copy(randomization_path(trial_db), randomization_path(path))
    with duckdb.connect(str(path)) as c:
        c.execute("UPDATE visits SET visit = 'Week 4' WHERE visit = 'W4'")
    return path


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_unscheduled_visit_labels_are_left_out_of_the_views_that_keep_the_dead(relabelled, role):
    with connect_unblinded(relabelled) as con:
        view = TrialView(con, Viewer("t", role), relabelled)
        f = SubjectFilter()
        shift = ascites.state_shift(view, f, ("W4", "W12"))
        assert shift.table["visit"].unique().tolist() == ["W12"] and shift.table["n"].sum() > 0
        links = ascites.state_transitions(view, f, ("Baseline", "W4", "W12"))
        assert links.table["source_visit"].unique().tolist() == ["Baseline"]
        assert links.table["target_visit"].unique().tolist() == ["W12"]
        with pytest.raises(InsufficientData, match="fewer than two of the chosen visits"):
            ascites.state_transitions(view, f, ("Baseline", "W4"))
