"""/monitoring: what the DSMB sees (boundaries, the path of Z over the cuts, conditional power, safety rules)
and what blinded roles see (pooled events, information, next look), on one and two cuts."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.data.charters import demo_charter
from dashboard.data.importers.cuts import write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import run_page, sent_bytes

PAGE = "pages/monitoring.py"


@pytest.fixture(scope="module")
def two_cuts_with_charter(tmp_path_factory):
    db = tmp_path_factory.mktemp("monitoring") / "trial.duckdb"
    charter, source = demo_charter()
    for cut in (date(2025, 3, 31), date(2025, 12, 31)):
        # The charter comes with the first cut and is carried forward to the second.
        write_cut(simulate_trial(SimulationSettings(cut_date=cut, arms=UNUSUAL_ARMS)), db, source=f"cut {cut}",
                  charter=charter if cut.month == 3 else None, charter_source=source)
    return db


@pytest.fixture
def monitored(app_env, monkeypatch, two_cuts_with_charter):
    monkeypatch.setenv("DASHBOARD_DB", str(two_cuts_with_charter))
    return two_cuts_with_charter


def _frame(at, column: str):
    """The shown table with ``column`` (AppTest does not expose a dataframe's key)."""
    return next((d.value for d in at.dataframe if column in d.value.columns), None)


def _text(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "success", "warning", "error", "metric")
                    for e in getattr(at, kind))


def test_dsmb_sees_boundaries_at_both_cuts_conditional_power_and_safety_rules(monitored):
    at = run_page(PAGE, "dsmb")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Information fraction" in labels
    assert any(label.startswith("Current trend") for label in labels)
    assert "Predictive power (flat prior)" in labels
    looks = _frame(at, "Boundary Z")
    # Both cuts are looks with a Z; the final planned look follows.
    assert list(looks["Data"][:2]) == ["Cut 1", "Cut 2"]
    assert looks["Z"].iloc[-1] == "—" and looks["Data"].iloc[-1] == "planned final analysis"
    rules = _frame(at, "Action when met")
    assert len(rules) == 3 and set(rules["Status"]) <= {"MET", "not met"}
    assert "rpact" in _text(at)
    figure = next(c for c in at.get("plotly_chart") if "monitoring_boundaries" in str(c.proto.id))
    names = [t["name"] for t in __import__("json").loads(figure.proto.spec)["data"]]
    assert "Log-rank Z at each data cut" in names and "Efficacy boundary at the observed information" in names


@pytest.mark.parametrize("role", ["investigator", "data_manager"])
def test_blinded_roles_see_the_pooled_parts_only(monitored, role):
    at = run_page(PAGE, role)
    assert not at.exception
    assert "Information fraction" in [m.label for m in at.metric]
    assert _frame(at, "Boundary Z") is None and _frame(at, "Action when met") is None
    assert "shown to the DSMB only" in _text(at)
    sent = sent_bytes(at)
    assert not [arm for arm in UNUSUAL_ARMS if arm.encode() in sent]
    assert b"Log-rank Z" not in sent and b"Conditional" not in sent


def test_a_cut_without_charter_says_so(app_env, monkeypatch, tmp_path):
    db = tmp_path / "trial.duckdb"
    write_cut(simulate_trial(SimulationSettings()), db, source="no charter")
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    at = run_page(PAGE, "dsmb")
    assert not at.exception
    assert "no DSMB charter" in " ".join(i.value for i in at.info)
