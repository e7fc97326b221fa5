"""TrialView.earlier_cuts: the earlier cuts whose kept copy is on disk, as the cut picker lists them."""

from __future__ import annotations

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.data.importers.cuts import kept_cut_path, write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from tests.conftest import connect_unblinded

INVESTIGATOR = Viewer("i", "investigator")
COLUMNS = ["cut_id", "cut_date", "path"]


def test_a_single_cut_has_no_earlier_cuts(trial_db):
    with connect_unblinded(trial_db) as con:
        earlier = TrialView(con, INVESTIGATOR, trial_db).earlier_cuts()
    assert earlier.empty and list(earlier.columns) == COLUMNS


def test_earlier_cuts_list_the_kept_copies_on_disk(tmp_path):
    db = tmp_path / "trial.duckdb"
    for _ in range(2):
        write_cut(simulate_trial(SimulationSettings(patients=14)), db, source="cut")
    view = TrialView(connect_unblinded(db), INVESTIGATOR, db)
    earlier = view.earlier_cuts()
    assert list(earlier.columns) == COLUMNS
    assert earlier["cut_id"].tolist() == [1] and earlier["path"].tolist() == [str(kept_cut_path(db, 1))]

    kept_cut_path(db, 1).unlink()
    gone = view.earlier_cuts()
    assert gone.empty and list(gone.columns) == COLUMNS
