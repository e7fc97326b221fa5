"""Writes cr_sim_data.csv: time to liver transplant with death competing (event_type 0 censored, 1 death,
2 transplant) as the dashboard derives it (endpoint "cr") from a 350-patient trial of the project's simulator
(seed 2026, default cut), 5:2 UC-MSC:Placebo; competing_risks.R analyses it with cmprsk and survival.
350 rather than the demo's 70 patients so that both arms have transplants (about 8% by two years).
Run from the repository root: PYTHONPATH=. .venv/bin/python tests/domain/reference/competing_risks_sim.py"""

from pathlib import Path

from tests.conftest import connect_unblinded

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.data.database import write_trial
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.domain.endpoints import COMPETING_RISKS, endpoint_rows
from dashboard.domain.subject_filter import SubjectFilter

HERE = Path(__file__).parent
db = HERE / "cr_sim.duckdb"
write_trial(simulate_trial(SimulationSettings(patients=350)), db, source="reference fixture")
rows = endpoint_rows(TrialView(connect_unblinded(db), Viewer("ref", "dsmb"), db).time_to_event(SubjectFilter()),
                     COMPETING_RISKS)
rows[["usubjid", "time_days", "event_type", "arm"]].to_csv(HERE / "cr_sim_data.csv", index=False)
for leftover in HERE.glob("cr_sim.*duckdb*"):
    leftover.unlink()
