"""Writes demo_os_input.csv: overall-survival rows of the 70-patient demo trial (simulate --seed 2026, default
cut) as the dashboard derives them, for demo_os.R to analyse with R's survival package.
Run from the repository root: .venv/bin/python tests/domain/reference/demo_os.py"""

from pathlib import Path

from tests.conftest import connect_unblinded

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.data.database import write_trial
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.endpoints import endpoint_rows
from dashboard.domain.subject_filter import SubjectFilter

HERE = Path(__file__).parent
db = HERE / "demo_os.duckdb"
write_trial(simulate_trial(SimulationSettings()), db, source="reference fixture")
rows = endpoint_rows(TrialView(connect_unblinded(db), Viewer("ref", "dsmb"), db).time_to_event(SubjectFilter()), "os")
rows[["usubjid", "time_days", "event", "arm"]].to_csv(HERE / "demo_os_input.csv", index=False)
db.unlink()
