"""Shared fixtures: simulated trials built once per session, and an app environment pointing at them."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from dashboard.data.charters import demo_charter
from dashboard.data.database import write_trial
from dashboard.data.simulate import SimulationSettings, simulate_trial

# Arm names no page would print by accident, so a blinding test cannot pass because of the usual names.
UNUSUAL_ARMS = ("Zorblax-7Q", "Quuxomab-Ctl")


@contextmanager
def _built(path: Path, **settings):
    """A simulated trial written as `simulate` writes it, with the shipped DSMB charter."""
    charter, charter_source = demo_charter(SimulationSettings(**settings).patients)
    write_trial(simulate_trial(SimulationSettings(**settings)), path, source="test fixture", charter=charter,
                charter_source=charter_source)
    yield path


@pytest.fixture(autouse=True)
def audit_trail_of_the_test(monkeypatch, tmp_path) -> Path:
    """Every test writes its audit events (the app's and the commands') and its state (meetings) to its own
    files, never to data/."""
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("DASHBOARD_AUDIT", str(path))
    monkeypatch.setenv("DASHBOARD_STATE", str(tmp_path / "state.sqlite"))
    return path


@pytest.fixture(autouse=True)
def apptest_runs_app_py_every_time(monkeypatch):
    """AppTest resets Streamlit's legacy "pages/ folder" flag before every run, so with this project's
    fixed pages/ folder every rerun after the first would execute the page file alone, skipping
    app.py (login gate, filters, header) and reusing the first run's context. Run the entry point
    instead, as a real server does once any session has called st.navigation."""
    import runpy

    from streamlit.runtime.scriptrunner import script_runner

    monkeypatch.setattr(script_runner, "_mpa_v1", lambda main_script_path: runpy.run_path(main_script_path,
                                                                                         run_name="__main__"))


@pytest.fixture(autouse=True)
def incidents_raise_in_tests(monkeypatch):
    """The app turns an unexpected error into an incident message (ui/incidents.py), which would let every
    "no exception" assertion pass; in tests the error is raised again so AppTest reports it. The tests of
    the incident message itself ask for ``real_incidents``."""
    from dashboard.ui import incidents

    def reraise(exc: Exception, where: str) -> None:
        raise exc

    monkeypatch.setattr(incidents, "show_incident", reraise)


@pytest.fixture
def real_incidents(monkeypatch):
    from dashboard.ui import incidents

    monkeypatch.setattr(incidents, "show_incident", incidents._show_incident)


@pytest.fixture(scope="session")
def trial_db(tmp_path_factory) -> Path:
    """The 70-patient demo trial (seed 2026), blinded."""
    with _built(tmp_path_factory.mktemp("trial") / "trial.duckdb") as path:
        yield path


@pytest.fixture(scope="session")
def unusual_arms_db(tmp_path_factory) -> Path:
    """A blinded 70-patient trial whose arms have unusual names, for blinding tests."""
    with _built(tmp_path_factory.mktemp("unusual") / "trial.duckdb", arms=UNUSUAL_ARMS, seed=7) as path:
        yield path


@pytest.fixture
def app_env(monkeypatch, tmp_path, trial_db):
    """Environment for the app: database, users file and audit log in a temporary folder."""
    monkeypatch.setenv("DASHBOARD_DB", str(trial_db))
    monkeypatch.setenv("DASHBOARD_USERS", str(tmp_path / "users.toml"))
    monkeypatch.setenv("DASHBOARD_AUDIT", str(tmp_path / "audit.jsonl"))
    return tmp_path


# The real CDISC pilot delivery (SDTM and ADaM XPORT files) beside the repository, as on the team's machines.
PILOT = Path(os.environ.get("CDISC_PILOT_DIR", "/work/shared/data/cdiscpilot01"))
needs_pilot = pytest.mark.skipif(not PILOT.exists(), reason=f"CDISC pilot data not found at {PILOT}")


def _import_pilot(tmp_path_factory, fmt: str):
    from dashboard.data.importers.pipeline import ImportSettings, import_cut

    db = tmp_path_factory.mktemp(f"pilot_{fmt}") / "pilot.duckdb"
    result = import_cut(ImportSettings(fmt, str(PILOT), date(2014, 7, 1), db=str(db)))
    return db, result


@pytest.fixture(scope="session")
def pilot_sdtm(tmp_path_factory):
    """The CDISC pilot imported from SDTM: (database path, ImportResult)."""
    return _import_pilot(tmp_path_factory, "sdtm")


@pytest.fixture(scope="session")
def pilot_adam(tmp_path_factory):
    """The CDISC pilot imported from ADaM (with ADTTE's TTDE): (database path, ImportResult)."""
    return _import_pilot(tmp_path_factory, "adam")


def connect_unblinded(path):
    """A trial file with its randomisation attached, as an unblinded session reads it: every table of the data
    model, arms included (blinded and unblinded views may share it in tests; the app never does)."""
    from dashboard.data.database import connect_readonly, randomization_path

    return connect_readonly(path, randomization_path(path))
