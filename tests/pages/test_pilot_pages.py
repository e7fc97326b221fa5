"""The real CDISC pilot (three arms) through every page and the survival command."""

import json

import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.ui.navigation import PAGES
from tests.cli_login import log_in
from tests.conftest import needs_pilot
from tests.pages.apptest_helpers import run_page, sent_bytes

pytestmark = needs_pilot
PILOT_ARMS = ("Placebo", "Xanomeline High Dose", "Xanomeline Low Dose")
REFERENCE = pd.read_csv(__import__("pathlib").Path(__file__).parents[1] / "data" / "reference" / "pilot_ttde.csv")
R = dict(zip(REFERENCE["quantity"], REFERENCE["value"]))


@pytest.fixture
def pilot_env(app_env, monkeypatch, pilot_sdtm):
    monkeypatch.setenv("DASHBOARD_DB", str(pilot_sdtm[0]))


@pytest.fixture
def pilot_adam_env(app_env, monkeypatch, pilot_adam):
    monkeypatch.setenv("DASHBOARD_DB", str(pilot_adam[0]))
    return pilot_adam[0]


TRIAL_PAGES = [(p, role) for p in PAGES if p.action == "view_trial" for role in ("dsmb", "investigator")]


@pytest.mark.parametrize("page, role", TRIAL_PAGES, ids=[f"{p.url_path}-{r}" for p, r in TRIAL_PAGES])
def test_every_page_renders_the_three_arm_pilot(pilot_env, page, role):
    at = run_page(page.file, role, {"id": "01-701-1015"} if page.url_path == "patient" else {})
    assert not at.exception, [e.value for e in at.exception]
    sent = sent_bytes(at)
    if role == "investigator":
        assert not any(arm.encode() in sent for arm in PILOT_ARMS if arm != "Placebo")


def test_dsmb_overview_shows_all_three_arms(pilot_env):
    sent = sent_bytes(run_page("pages/overview.py", "dsmb"))
    assert all(arm.encode() in sent for arm in PILOT_ARMS)


def test_survival_page_offers_the_imported_ttde_endpoint_with_three_arms(pilot_adam_env):
    at = run_page("pages/survival.py", "dsmb")
    at.segmented_control(key="survival_endpoint").set_value("TTDE").run()
    assert not at.exception
    sent = sent_bytes(at)
    assert b"Time to First Dermatologic Event" in sent and all(arm.encode() in sent for arm in PILOT_ARMS)
    logrank = next(df.value for df in at.dataframe if "Chi-square" in df.value.columns)
    assert logrank["Chi-square"].iloc[0] == pytest.approx(R["logrank_chi2"], abs=1e-6)
    assert logrank["df"].iloc[0] == 2


def test_survival_command_on_imported_ttde_equals_r(pilot_adam_env, capsys, monkeypatch, tmp_path):
    log_in(monkeypatch, tmp_path, "dsmb")  # the pilot is no simulated trial: a real (test) user, not a demo account
    assert main(["survival", "--db", str(pilot_adam_env), "--endpoint", "TTDE", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["logrank"]["chi2"] == pytest.approx(R["logrank_chi2"], abs=1e-6)
    assert report["logrank"]["p"] == pytest.approx(R["logrank_p"], rel=1e-6)
    for row in report["cox"]:
        for key, name in (("hr", "hr"), ("lower", "hr_lower"), ("upper", "hr_upper"), ("p", "p")):
            assert row[key] == pytest.approx(R[f"{name}:{row['group']}"], rel=1e-6), (row["group"], key)
    for g in report["groups"]:
        assert g["events"] == R[f"events:{g['group']}"]
        expected = R[f"median:{g['group']}"]
        assert (g["median"] is None) if pd.isna(expected) else g["median"] == pytest.approx(expected)


@pytest.mark.parametrize("env", ["pilot_env", "pilot_adam_env"], ids=["sdtm", "adam"])
def test_dsmb_arm_comparison_on_the_pilot_compares_the_first_arm_with_placebo(env, request):
    # SDTM flags baselines at screening (LBBLFL), which the importer makes visit 0; ADaM labs carry unscheduled
    # rows without a visit, which must not block the comparison of scheduled visits.
    request.getfixturevalue(env)
    at = run_page("pages/labs.py", "dsmb")
    at.selectbox(key="labs_param").set_value("ALT")
    at.segmented_control(key="labs_view").set_value("Arm comparison").run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(df.value for df in at.dataframe if "adjusted difference" in df.value.columns)
    assert {"n Xanomeline High Dose", "n Placebo"} <= set(table.columns)
    assert len(table) > 0 and table["adjusted difference"].notna().any()
