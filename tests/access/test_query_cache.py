"""Declared TrialView queries cache themselves (dashboard.cache), never across blinding states, never
handing out a frame another caller can change, and never skipping the access check."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from dashboard.access.query_registry import QUERIES, metadata
from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.cache import RESULTS
from dashboard.data.importers.cuts import kept_cut_path, write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import AccessDenied
from tests.access.sql_recording import ViewSqlRecorder
from tests.conftest import UNUSUAL_ARMS, connect_unblinded

DSMB, INVESTIGATOR = Viewer("d", "dsmb"), Viewer("i", "investigator")
WOMEN = SubjectFilter(sex=("F",))


@pytest.fixture
def con(unusual_arms_db):
    RESULTS.clear()
    with connect_unblinded(unusual_arms_db) as c:
        yield c


def test_a_direct_call_is_cached_and_sends_no_sql_the_second_time(con, unusual_arms_db):
    recorder = ViewSqlRecorder(con)
    view = TrialView(recorder, INVESTIGATOR, unusual_arms_db)

    def sent(call) -> int:
        recorder.statements.clear()
        call()
        return len([sql for _, sql, _ in recorder.statements if not sql.startswith("USE ")])

    assert sent(lambda: view.subjects(WOMEN)) == 1 and sent(lambda: view.subjects(WOMEN)) == 0
    # A list argument is keyed as the tuple it stands for; defaults are part of the key.
    assert sent(lambda: view.lab_rows(WOMEN, ["MELD"])) == 1 and sent(lambda: view.lab_rows(WOMEN, ("MELD",))) == 0
    assert sent(lambda: view.time_to_event(WOMEN)) > 0 and sent(lambda: view.time_to_event(WOMEN, as_of=None)) == 0
    assert len(RESULTS) == 3


def test_cached_results_are_not_shared_across_blinding_states(con):
    by_arm = TrialView(con, DSMB).subjects(WOMEN)
    pooled = TrialView(con, INVESTIGATOR).subjects(WOMEN)
    assert set(by_arm["arm"]) == set(UNUSUAL_ARMS) and "arm" not in pooled.columns
    assert not any(arm in pooled.to_csv() for arm in UNUSUAL_ARMS)
    assert set(TrialView(con, DSMB).study()["arms"]) == set(UNUSUAL_ARMS)
    assert "arms" not in TrialView(con, INVESTIGATOR).study()


def test_mutating_a_returned_frame_does_not_change_the_next_answer(con):
    view = TrialView(con, DSMB)
    first = view.subjects(WOMEN)
    expected = first.copy()
    first["arm"] = "changed"
    first.drop(index=first.index[:3], inplace=True)
    assert view.subjects(WOMEN).equals(expected)
    course = view.patient(expected["usubjid"].iloc[0])
    course["subject"].loc[:, "arm"] = "changed"
    assert set(view.patient(expected["usubjid"].iloc[0])["subject"]["arm"]) <= set(UNUSUAL_ARMS)


def test_the_access_check_runs_before_the_cache_is_read(con):
    view = TrialView(con, INVESTIGATOR)
    by_arm = SubjectFilter(arm=(UNUSUAL_ARMS[0],))
    # Even an answer planted under the blinded view's own key is never served to the refused call.
    RESULTS.get_or_compute((view.cache_key, "subjects", (by_arm,)), lambda: "leak")
    with pytest.raises(AccessDenied, match="unblind"):
        view.subjects(by_arm)
    RESULTS.get_or_compute((view.cache_key, "lab_comparison_aggregates", (WOMEN, "MELD", *UNUSUAL_ARMS)),
                           lambda: "leak")
    with pytest.raises(AccessDenied, match="unblind"):
        view.lab_comparison_aggregates(WOMEN, "MELD", *UNUSUAL_ARMS)


def test_unhashable_arguments_are_refused_with_the_query_named(con):
    with pytest.raises(TypeError, match="meld_trends_of: arguments must be hashable"):
        TrialView(con, INVESTIGATOR).meld_trends_of({"a", "b"})


def test_a_query_is_declared_once():
    def study(view):
        return {}

    with pytest.raises(ValueError, match="declared twice"):
        metadata(study)
    assert QUERIES["study"].kind == "metadata"


def test_a_kept_cut_removed_from_disk_is_seen_at_the_next_call(tmp_path):
    db = tmp_path / "trial.duckdb"
    for cut_date in (date(2025, 3, 31), date(2025, 9, 30)):
        write_cut(simulate_trial(SimulationSettings(patients=14, cut_date=cut_date)), db, source=f"{cut_date}")
    view = TrialView(connect_unblinded(db), DSMB, db)
    assert view.changes_since_previous_cut(SubjectFilter()) is not None and len(view.earlier_cuts()) == 1
    kept_cut_path(db, 1).unlink()
    assert view.changes_since_previous_cut(SubjectFilter()) is None and view.earlier_cuts().empty


def test_an_in_memory_database_shares_no_cached_answer(unusual_arms_db):
    views = []
    for _ in range(2):
        c = duckdb.connect(":memory:")
        c.execute(f"ATTACH '{unusual_arms_db}' AS src (READ_ONLY)")
        for table in ("study", "data_cuts"):
            c.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{table}")
        views.append(TrialView(c, INVESTIGATOR))
    assert views[0].cache_key != views[1].cache_key
