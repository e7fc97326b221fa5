"""'New since the previous cut': two kept cuts of one database compared in SQL, checked against pandas
set differences of the simulated tables, and against a second cut whose every change is planted."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.data.database import write_trial
from dashboard.data.importers.cuts import kept_cut_path, write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import connect_unblinded

DSMB, INVESTIGATOR = Viewer("dsmb", "dsmb"), Viewer("inv", "investigator")
LAB_KEY = ["usubjid", "paramcd", "study_day"]
AE_KEY = ["usubjid", "term", "onset_day"]


def _two_cuts(db, first: dict, second: dict):
    write_cut(first, db, source="cut 1")
    write_cut(second, db, source="cut 2")
    return db


def _changes(db, viewer=DSMB, f=SubjectFilter()):
    return TrialView(connect_unblinded(db), viewer, db).changes_since_previous_cut(f)


def _keys(df: pd.DataFrame, cols) -> set[tuple]:
    return set(map(tuple, df[cols].astype(str).to_numpy()))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """One seed, two cut dates: the second cut has later patients, deaths, AEs and visits."""
    first = simulate_trial(SimulationSettings(cut_date=date(2025, 3, 31)))
    second = simulate_trial(SimulationSettings(cut_date=date(2025, 9, 30)))
    db = _two_cuts(tmp_path_factory.mktemp("sim") / "trial.duckdb", first, second)
    return db, first, second


def test_simulated_cuts_differ_exactly_as_the_pandas_set_differences(simulated):
    db, first, second = simulated
    changes = _changes(db)
    assert (changes.previous_cut_id, changes.previous_cut_date) == (1, date(2025, 3, 31))

    old, new = first["subjects"], second["subjects"]
    assert set(changes.new_patients["usubjid"]) == set(new["usubjid"]) - set(old["usubjid"]) != set()

    before = new.merge(old[["usubjid", "death_on"]], on="usubjid", how="left", suffixes=("", "_before"))
    died = before[before["death_on"].notna() & before["death_on_before"].isna()]
    assert set(changes.new_deaths["usubjid"]) == set(died["usubjid"]) != set()

    ae_old, ae_new = first["adverse_events"], second["adverse_events"]
    serious_new = ae_new[ae_new["serious"]]
    expected_sae = _keys(serious_new, AE_KEY) - _keys(ae_old[ae_old["serious"]], AE_KEY)
    assert _keys(changes.new_serious_aes, AE_KEY) == expected_sae != set()

    lab_old, lab_new = first["lab_results"], second["lab_results"]
    both = lab_new.merge(lab_old[LAB_KEY + ["value"]], on=LAB_KEY, suffixes=("", "_before"))
    differ = both[both["value"] != both["value_before"]]
    # The simulator never revises a delivered value (a later cut extends the earlier one), so nothing
    # changed here; detection of changed values is checked on the planted cuts below.
    assert _keys(changes.changed_labs, LAB_KEY) == _keys(differ, LAB_KEY) == set()
    assert _keys(changes.new_labs, LAB_KEY) == _keys(lab_new, LAB_KEY) - _keys(lab_old, LAB_KEY) != set()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Cut 1 is cut 2 with one change of each kind undone, so the expected differences are known."""
    second = simulate_trial(SimulationSettings())
    first = {name: df.copy() for name, df in second.items()}
    subjects, aes, labs = second["subjects"], second["adverse_events"], second["lab_results"]
    newcomer = subjects["usubjid"].iloc[-1]
    for name in ("subjects", "lab_results", "infusions", "vital_signs", "adverse_events", "ascites"):
        first[name] = first[name][first[name]["usubjid"] != newcomer].reset_index(drop=True)
    dead = subjects.loc[subjects["death_on"].notna() & (subjects["usubjid"] != newcomer), "usubjid"].iloc[0]
    first["subjects"].loc[first["subjects"]["usubjid"] == dead, ["death_on", "death_cause"]] = None
    sae = aes[aes["serious"] & (aes["usubjid"] != newcomer)].iloc[0]
    first["adverse_events"].loc[first["adverse_events"]["ae_id"] == sae["ae_id"], "serious"] = False
    others = labs[labs["usubjid"] != newcomer]
    changed, added = others.iloc[10], others.iloc[500]
    lab = first["lab_results"]
    lab.loc[(lab[LAB_KEY] == changed[LAB_KEY]).all(axis=1), "value"] = changed["value"] + 1.5
    first["lab_results"] = lab[~(lab[LAB_KEY] == added[LAB_KEY]).all(axis=1)].reset_index(drop=True)
    db = _two_cuts(tmp_path_factory.mktemp("planted") / "trial.duckdb", first, second)
    return db, second, newcomer, dead, sae, changed, added


def test_planted_changes_are_found_and_nothing_else(planted):
    db, second, newcomer, dead, sae, changed, added = planted
    changes = _changes(db)
    assert changes.new_patients["usubjid"].tolist() == [newcomer]
    newcomer_died = pd.notna(second["subjects"].set_index("usubjid").loc[newcomer, "death_on"])
    assert set(changes.new_deaths["usubjid"]) == {dead} | ({newcomer} if newcomer_died else set())
    ae = second["adverse_events"]
    newcomer_saes = _keys(ae[ae["serious"] & (ae["usubjid"] == newcomer)], AE_KEY)
    assert _keys(changes.new_serious_aes, AE_KEY) == {tuple(map(str, sae[AE_KEY]))} | newcomer_saes
    row = changes.changed_labs.iloc[0]
    assert len(changes.changed_labs) == 1 and tuple(row[LAB_KEY]) == tuple(changed[LAB_KEY])
    assert row["previous_value"] == pytest.approx(changed["value"] + 1.5) and row["value"] == changed["value"]
    labs = second["lab_results"]
    expected_new = {tuple(map(str, added[LAB_KEY]))} | _keys(labs[labs["usubjid"] == newcomer], LAB_KEY)
    assert _keys(changes.new_labs, LAB_KEY) == expected_new


def test_blinded_viewer_gets_the_same_changes_without_any_arm(planted):
    db = planted[0]
    unblinded, blinded = _changes(db, DSMB), _changes(db, INVESTIGATOR)
    for label, rows in blinded.frames().items():
        assert "arm" not in rows.columns, label
        theirs = unblinded.frames()[label]
        assert "arm" in theirs.columns
        pd.testing.assert_frame_equal(rows, theirs.drop(columns="arm"))


def test_the_filter_restricts_the_changes_to_the_selected_patients(simulated):
    db, _, second = simulated
    site = SubjectFilter(site=("S01",))
    in_site = set(second["subjects"].loc[second["subjects"]["site_id"] == "S01", "usubjid"])
    everyone, selected = _changes(db), _changes(db, f=site)
    for label, rows in selected.frames().items():
        assert set(rows["usubjid"]) <= in_site, label
        assert len(rows) == everyone.frames()[label]["usubjid"].isin(in_site).sum(), label


def test_repeated_calls_and_several_views_share_one_attachment(simulated):
    db = simulated[0]
    con = connect_unblinded(db)
    views = [TrialView(con, v, db) for v in (DSMB, INVESTIGATOR, DSMB)]
    counts = [v.changes_since_previous_cut(SubjectFilter()).counts() for v in views]
    assert counts[0] == counts[1] == counts[2]


def test_a_first_cut_has_no_previous_cut(tmp_path):
    db = tmp_path / "trial.duckdb"
    write_cut(simulate_trial(SimulationSettings(patients=14)), db, source="only cut")
    assert _changes(db) is None


def test_a_previous_cut_without_its_kept_copy_gives_none(tmp_path):
    db = _two_cuts(tmp_path / "trial.duckdb", *(simulate_trial(SimulationSettings(patients=14)) for _ in range(2)))
    kept_cut_path(db, 1).unlink()
    assert _changes(db) is None


def test_identical_cuts_have_no_changes(tmp_path):
    tables = simulate_trial(SimulationSettings(patients=14))
    changes = _changes(_two_cuts(tmp_path / "trial.duckdb", tables, tables))
    assert changes.counts() == dict.fromkeys(changes.counts(), 0)


def test_a_database_written_without_lineage_is_a_first_cut(tmp_path):
    # write_trial alone (the simulate command, the fixtures) records cut 1 each time.
    db = tmp_path / "trial.duckdb"
    for _ in range(2):
        write_trial(simulate_trial(SimulationSettings(patients=14)), db, source="simulated")
    assert _changes(db) is None
