"""An open dashboard notices a new data cut swapped in on disk and reloads it by itself."""

import re
from datetime import date

import pytest

from dashboard.data.database import write_trial
from dashboard.data.simulate import SimulationSettings, simulate_trial
from tests.browser.conftest import login, running_app, screenshot

pytestmark = pytest.mark.browser


def test_open_dashboard_picks_up_a_new_cut_within_seconds(tmp_path, page):
    db = tmp_path / "trial.duckdb"
    write_trial(simulate_trial(SimulationSettings(cut_date=date(2025, 6, 30))), db, source="first cut")
    with running_app(tmp_path, db) as url:
        login(page, url, "investigator", "investigator-demo")
        page.get_by_text(re.compile("data cut 2025-06-30")).wait_for()
        write_trial(simulate_trial(SimulationSettings(cut_date=date(2025, 12, 31))), db, source="second cut")
        page.get_by_text(re.compile("data cut 2025-12-31")).wait_for(timeout=20_000)
        page.get_by_text(re.compile("New data cut loaded")).wait_for(timeout=5_000)
        screenshot(page, "investigator_new_cut_loaded")
