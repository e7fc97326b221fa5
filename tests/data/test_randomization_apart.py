"""The randomisation is kept apart (issue 16, DESIGN §8): the trial file holds no arm-revealing column and no
arm name in any value, so a blinded person's copy reveals nothing; the arms live in the randomisation file,
which only connections of viewers who may see arms attach, and every kept cut keeps its own."""

from __future__ import annotations

import duckdb
import pytest

from dashboard.access.opening import open_trial_view
from dashboard.access.viewer import Viewer
from dashboard.data.database import randomization_path
from dashboard.data.importers.cuts import kept_cut_path
from dashboard.data.schema import ARM_REVEALING_COLUMNS
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import AccessDenied
from tests.conftest import UNUSUAL_ARMS

REVEALING = {c for columns in ARM_REVEALING_COLUMNS.values() for c in columns}


def _text_values(path) -> str:
    """Every text value of every table and view of the file, as DuckDB's catalogue lists them."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("""
            SELECT table_name, column_name FROM information_schema.columns
            WHERE data_type LIKE 'VARCHAR%' OR data_type LIKE '%[]'""").fetchall()
        return "\n".join(str(v) for table, column in columns
                         for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall())


def test_the_trial_file_has_no_arm_column_and_no_arm_name(unusual_arms_db):
    with duckdb.connect(str(unusual_arms_db), read_only=True) as con:
        columns = {c for (c,) in con.execute("SELECT column_name FROM information_schema.columns").fetchall()}
    assert not columns & REVEALING
    text = _text_values(unusual_arms_db)
    assert len(text) > 1000  # the scan read values
    assert not [arm for arm in UNUSUAL_ARMS if arm in text]


def test_the_randomisation_file_holds_the_arms(unusual_arms_db):
    assert all(arm in _text_values(randomization_path(unusual_arms_db)) for arm in UNUSUAL_ARMS)


def test_only_viewers_who_may_see_arms_attach_the_randomisation(unusual_arms_db):
    dsmb = open_trial_view(Viewer("d", "dsmb"), unusual_arms_db)
    blinded = open_trial_view(Viewer("i", "investigator"), unusual_arms_db)
    attached = [name for (name,) in dsmb._con.execute("SELECT database_name FROM duckdb_databases()").fetchall()]
    assert "randomization" in attached
    assert "randomization" not in [n for (n,) in blinded._con.execute(
        "SELECT database_name FROM duckdb_databases()").fetchall()]
    assert set(dsmb.subjects(SubjectFilter())["arm"]) == set(UNUSUAL_ARMS)
    assert "arm" not in blinded.subjects(SubjectFilter()).columns


def test_a_dsmb_view_without_the_randomisation_is_refused(unusual_arms_db):
    from dashboard.access.trial_view import TrialView
    from dashboard.data.database import connect_readonly

    with pytest.raises(AccessDenied, match="no randomisation"):
        TrialView(connect_readonly(unusual_arms_db), Viewer("d", "dsmb"), unusual_arms_db)


def test_a_missing_randomisation_file_is_named(unusual_arms_db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(unusual_arms_db.read_bytes())
    with pytest.raises(FileNotFoundError, match="No randomisation file"):
        open_trial_view(Viewer("d", "dsmb"), copy)
    assert open_trial_view(Viewer("i", "investigator"), copy).count_subjects(SubjectFilter())[0] == 70


def test_kept_cuts_keep_their_randomisation(tmp_path):
    from datetime import date

    from dashboard.data.importers.cuts import write_cut
    from dashboard.data.simulate import SimulationSettings, simulate_trial

    db = tmp_path / "trial.duckdb"
    for cut in (date(2025, 3, 31), date(2025, 12, 31)):
        write_cut(simulate_trial(SimulationSettings(cut_date=cut, arms=UNUSUAL_ARMS)), db, source=str(cut))
    for cut_id in (1, 2):
        kept = kept_cut_path(db, cut_id)
        assert randomization_path(kept).exists()
        view = open_trial_view(Viewer("d", "dsmb"), kept)
        assert set(view.subjects(SubjectFilter())["arm"]) == set(UNUSUAL_ARMS)
