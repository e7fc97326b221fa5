"""``python -m dashboard boundaries`` equals R rpact (the designs fixture) and ``monitoring`` prints the very
numbers /monitoring shows the DSMB, from the same analysis; both refuse bad input with a message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.cli import main
from tests.cli_login import log_in
from tests.pages.apptest_helpers import run_page

REFERENCE = json.loads((Path(__file__).parent / "domain" / "reference" / "group_sequential_designs.json").read_text())


@pytest.fixture(autouse=True)
def logged_in_as_dsmb(monkeypatch, tmp_path):
    log_in(monkeypatch, tmp_path, "dsmb")


def _json(argv: list[str], capsys) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("case_id, argv", [
    ("obf_k3_sided1_futility", ["--information", "0.3,0.65,1", "--alpha", "0.025", "--sides", "1", "--spending", "obf",
                                "--beta", "0.2", "--futility-spending", "obf"]),
    ("hsd_gm4_k5_sided1_nofutility", ["--information", "0.15,0.3,0.55,0.8,1", "--spending", "hsd", "--gamma", "-4"]),
    ("pocock_k2_sided2_nofutility", ["--information", "0.4,1", "--alpha", "0.05", "--sides", "2", "--spending",
                                     "pocock"]),
])
def test_boundaries_command_equals_rpact(case_id, argv, capsys):
    case = next(c for c in REFERENCE["cases"] if c["id"] == case_id)
    looks = _json(["boundaries", *argv], capsys)["looks"]
    assert len(looks) == len(case["looks"])
    for got, expected in zip(looks, case["looks"]):
        assert got["efficacy_z"] == pytest.approx(expected["efficacy_z"], abs=1e-6)
        assert got["cumulative_alpha"] == pytest.approx(expected["cumulative_alpha"], abs=1e-6)
        assert got["efficacy_p_nominal"] == pytest.approx(case["sides"] * expected["efficacy_p_nominal"], abs=1e-6)
        if expected["futility_z"] is None:
            assert got["futility_z"] is None
        else:
            assert got["futility_z"] == pytest.approx(expected["futility_z"], abs=1e-6)


@pytest.mark.parametrize("argv, message", [
    (["--information", "0.5,0.4,1"], "increase strictly"),
    (["--information", "0.5,1", "--spending", "hsd"], "needs gamma"),
    (["--information", "a,b"], "comma-separated"),
])
def test_boundaries_command_refuses_bad_input(argv, message):
    done = subprocess.run([sys.executable, "-m", "dashboard", "boundaries", *argv], capture_output=True, text=True)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_monitoring_command_prints_the_page_numbers(app_env, trial_db, capsys, audit_trail_of_the_test):
    report = _json(["monitoring", "--db", str(trial_db)], capsys)
    at = run_page("pages/monitoring.py", "dsmb")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Information fraction"] == f"{report['information']:.0%}"
    assert metrics["Events (pooled)"] == f"{report['events']} of {report['charter']['planned_events']}"
    cp = report["conditional_power"]
    assert metrics["Predictive power (flat prior)"] == f"{cp['predictive']:.1%}"
    assert metrics[f"Design hazard ratio ({cp['design_hazard_ratio']:g})"] == f"{cp['design']:.1%}"
    looks = next(d.value for d in at.dataframe if "Boundary Z" in d.value.columns)
    assert looks["Z"].iloc[0] == f"{report['observed'][-1]['z']:.3f}"
    assert looks["Boundary Z"].iloc[0] == f"{report['boundaries']['looks'][0]['efficacy_z']:.3f}"
    assert [r["id"] for r in report["safety_rules"]] == ["early-deaths", "early-severe-saes", "infusion-reactions"]
    events = [json.loads(line) for line in audit_trail_of_the_test.read_text().splitlines()]
    assert any(e.get("page") == "cli monitoring" or "monitoring" in json.dumps(e) for e in events)


def test_monitoring_command_takes_another_charter_and_refuses_a_bad_one(trial_db, tmp_path, capsys):
    from dashboard.data.charters import demo_charter

    text = demo_charter()[0].text.replace("planned_events = 24", "planned_events = 40")
    (tmp_path / "charter.toml").write_text(text)
    report = _json(["monitoring", "--db", str(trial_db), "--charter", str(tmp_path / "charter.toml")], capsys)
    assert report["charter"]["planned_events"] == 40
    assert report["information"] == pytest.approx(report["events"] / 40)
    (tmp_path / "bad.toml").write_text(text.replace("alpha = 0.025", "alpha = 1.2"))
    done = subprocess.run([sys.executable, "-m", "dashboard", "monitoring", "--db", str(trial_db), "--charter",
                           str(tmp_path / "bad.toml")], capture_output=True, text=True)
    assert done.returncode == 2 and "efficacy.alpha" in done.stderr and "Traceback" not in done.stderr
