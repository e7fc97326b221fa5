"""/survival compares the current cut's curves, medians and hazard ratios with an earlier kept cut."""

from datetime import date

import pytest

from dashboard.data.importers.cuts import write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.survival import survival_analysis
from dashboard.domain.survival_tables import cut_comparison_table
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import run_page, sent_bytes


@pytest.fixture
def two_cuts(app_env, monkeypatch, tmp_path):
    db = tmp_path / "trial.duckdb"
    for cut in (date(2025, 3, 31), date(2025, 12, 31)):
        write_cut(simulate_trial(SimulationSettings(cut_date=cut, arms=UNUSUAL_ARMS)), db, source=f"cut {cut}")
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    return db


def _compare(role):
    at = run_page("pages/survival.py", role)
    at.segmented_control(key="survival_more").set_value("Compare with an earlier cut").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_dsmb_sees_both_cuts_by_arm_with_more_events_in_the_later_cut(two_cuts):
    at = _compare("dsmb")
    table = next(df.value for df in at.dataframe if "Cut" in df.value.columns)
    assert set(table["Cut"]) == {"cut 2 (current)", "cut 1"}
    assert set(table["Group"]) == set(UNUSUAL_ARMS)
    events = table.groupby("Cut")["Events"].sum()
    assert events["cut 2 (current)"] > events["cut 1"]
    assert any(c.startswith("HR vs ") for c in table.columns)


def test_investigator_comparison_is_pooled(two_cuts):
    at = _compare("investigator")
    assert not any(arm.encode() in sent_bytes(at) for arm in UNUSUAL_ARMS)
    table = next(df.value for df in at.dataframe if "Cut" in df.value.columns)
    assert set(table["Group"]) == {"All patients"} and not any(c.startswith("HR") for c in table.columns)


def test_cut_comparison_table_has_one_row_per_cut_and_group():
    import pandas as pd

    rows = pd.DataFrame({"usubjid": list("abcdef"), "time_days": [5, 8, 12, 3, 9, 20], "event": [1, 0, 1, 1, 1, 0],
                         "arm": ["A", "A", "A", "B", "B", "B"]})
    a = survival_analysis(rows, group_col="arm", groups=["A", "B"], reference="B")
    table = cut_comparison_table({"now": a, "then": a})
    assert table[["Cut", "Group", "N", "Events"]].values.tolist() == [
        ["now", "A", 3, 2], ["now", "B", 3, 2], ["then", "A", 3, 2], ["then", "B", 3, 2]]
    assert table["HR vs B"].isna().tolist() == [False, True, False, True]
