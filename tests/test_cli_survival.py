"""``python -m dashboard survival``: CSV mode equals R survival (fixtures of tests/domain/reference/veteran.R,
four groups with tied times, to 1e-6); database mode, logged in as a DSMB member, gives the two arms and the
very numbers the /survival page shows."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.commands import survival as command
from tests.cli_login import log_in
from tests.pages.apptest_helpers import run_page

REF = Path(__file__).parent / "domain" / "reference"
VETERAN = ["--csv", str(REF / "veteran_data.csv"), "--time", "time_days", "--event", "event", "--group", "arm",
           "--reference", "squamous", "--milestones", "30,90,180"]
TOL = 1e-6


@pytest.fixture(autouse=True)
def logged_in_as_dsmb(monkeypatch, tmp_path):
    log_in(monkeypatch, tmp_path, "dsmb")


def run_cli(argv: list[str], capsys) -> str:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    assert command.run(parser.parse_args(argv)) == 0
    return capsys.readouterr().out


def cli_json(argv: list[str], capsys) -> dict:
    return json.loads(run_cli([*argv, "--json"], capsys))


def table_with(at, column: str) -> pd.DataFrame:
    """The page's first table with ``column`` (AppTest does not expose a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def page_close(cells: pd.Series, expected: list) -> None:
    """Page cells against report values: numeric columns to 1e-6; a column with a missing value is
    shown as text ("NR", "—") at its display precision, so compare it at that precision."""
    expected = [np.nan if e is None else e for e in expected]
    if pd.api.types.is_numeric_dtype(cells):
        close(cells, expected)
        return
    digits = max((len(c.split(".")[1]) for c in cells if "." in c), default=0)
    close([float(c) if c[0].isdigit() else np.nan for c in cells], np.round(expected, digits))


def close(actual, expected) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=0, atol=TOL, equal_nan=True)


def r_fixture(what: str, conf_type: str | None = None) -> pd.DataFrame:
    frame = pd.read_csv(REF / f"veteran_{what}.csv")
    return frame if conf_type is None else frame[(frame["conf_type"] == conf_type) & (frame["group"] != "All patients")]


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_csv_mode_equals_r_survfit_survdiff_and_coxph(conf_type, capsys):
    report = cli_json([*VETERAN, "--conf-type", conf_type], capsys)
    groups = pd.DataFrame(report["groups"]).set_index("group")
    median = r_fixture("median", conf_type).set_index("group").loc[groups.index]
    for col in ["n", "events", "median", "median_lower", "median_upper"]:
        close(groups[col].astype(float), median[col])
    assert list(groups.index)[-1] == "squamous"  # the reference is last

    logrank = r_fixture("logrank").iloc[0]
    close([report["logrank"]["chi2"], report["logrank"]["p"]], [logrank["chi2"], logrank["p"]])
    assert report["logrank"]["df"] == 3

    cox = pd.DataFrame(report["cox"]).set_index("group")
    r_cox = r_fixture("cox").set_index("group").loc[cox.index]
    assert set(cox["reference"]) == {"squamous"} and len(cox) == 3
    for col in ["hr", "lower", "upper", "p"]:
        close(cox[col], r_cox[col])

    km = pd.DataFrame(report["km"]).set_index(["group", "time"])
    r_km = r_fixture("km", conf_type).set_index(["group", "time"])
    assert sorted(km.index) == sorted(r_km.index)
    for col in ["at_risk", "events", "censored", "survival", "lower", "upper"]:
        close(km.loc[r_km.index, col].astype(float), r_km[col])

    ms = pd.DataFrame(report["milestones"]).set_index(["group", "day"])
    r_ms = r_fixture("milestones", conf_type).set_index(["group", "day"])
    for col in ["survival", "lower", "upper"]:
        close(ms.loc[r_ms.index, col].astype(float), r_ms[col])


def test_csv_mode_prints_a_readable_table_without_json(capsys):
    out = run_cli(VETERAN, capsys)
    assert "Log-rank chi2 = 25.4037 on 3 df" in out
    assert "smallcell vs squamous: HR 2.722 (1.656 - 4.473)" in out


def test_csv_mode_rejects_an_unknown_reference(capsys):
    with pytest.raises(ValueError, match="--reference 'nobody' is not a group"):
        run_cli([*VETERAN[:-4], "--reference", "nobody"], capsys)


@pytest.mark.parametrize("endpoint", ["os", "tfs"])
def test_db_mode_reports_both_arms_active_against_control(trial_db, endpoint, capsys):
    report = cli_json(["--db", str(trial_db), "--endpoint", endpoint], capsys)
    assert [g["group"] for g in report["groups"]] == ["UC-MSC", "Placebo"]
    assert sum(g["n"] for g in report["groups"]) == 70
    assert report["logrank"]["df"] == 1
    assert [(c["group"], c["reference"]) for c in report["cox"]] == [("UC-MSC", "Placebo")]
    assert sorted({m["day"] for m in report["milestones"]}) == [28, 90, 168, 336, 672]


def test_db_mode_as_of_an_earlier_date_has_fewer_events(trial_db, capsys):
    now = cli_json(["--db", str(trial_db)], capsys)
    earlier = cli_json(["--db", str(trial_db), "--as-of", "2025-03-01"], capsys)
    events = [sum(g["events"] for g in r["groups"]) for r in (now, earlier)]
    assert events[1] < events[0]


def test_db_mode_prints_the_numbers_the_dsmb_sees_on_the_page(app_env, trial_db, capsys):
    report = cli_json(["--db", str(trial_db), "--endpoint", "os"], capsys)
    at = run_page("pages/survival.py", "dsmb")
    assert not at.exception
    summary = table_with(at, "Median")
    assert summary["Group"].tolist() == [g["group"] for g in report["groups"]]
    assert summary[["N", "Events"]].values.tolist() == [[g["n"], g["events"]] for g in report["groups"]]
    for column, key in [("Median", "median"), ("CI lower", "median_lower"), ("CI upper", "median_upper")]:
        page_close(summary[column], [g[key] for g in report["groups"]])
    logrank = table_with(at, "Chi-square").iloc[0]
    close([logrank["Chi-square"], logrank["p"]], [report["logrank"]["chi2"], report["logrank"]["p"]])
    cox = table_with(at, "HR").iloc[0]
    close(cox[["HR", "Lower", "Upper", "p"]], [report["cox"][0][c] for c in ["hr", "lower", "upper", "p"]])
    milestones = table_with(at, "Survival")
    for column, key in [("Survival", "survival"), ("Lower", "lower"), ("Upper", "upper")]:
        page_close(milestones[column], [m[key] for m in report["milestones"]])


def test_db_mode_on_the_demo_trial_equals_r(trial_db, capsys):
    # tests/domain/reference/demo_os.py wrote the same trial's OS rows (seed 2026); demo_os.R analysed them.
    from dashboard.cli import main

    assert main(["survival", "--db", str(trial_db), "--endpoint", "os", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    logrank = pd.read_csv(REF / "demo_os_logrank.csv").iloc[0]
    cox = pd.read_csv(REF / "demo_os_cox.csv").iloc[0]
    assert report["logrank"]["chi2"] == pytest.approx(logrank["chi2"], abs=1e-6)
    assert report["logrank"]["p"] == pytest.approx(logrank["p"], abs=1e-6)
    row = report["cox"][0]
    assert (row["group"], row["reference"]) == ("UC-MSC", "Placebo")
    for key in ("hr", "lower", "upper", "p"):
        assert row[key] == pytest.approx(cox[key], abs=1e-6)


def test_db_mode_runs_the_pages_analysis(trial_db, monkeypatch, capsys):
    """One production path: the command calls the analysis the page calls, with the command's options."""
    from dashboard.analyses import survival as analyses

    calls = []
    real = analyses.survival

    def recorded(view, *args):
        calls.append(args)
        return real(view, *args)

    monkeypatch.setattr(command, "survival", recorded)
    report = cli_json(["--db", str(trial_db), "--endpoint", "tfs", "--milestones", "30,60"], capsys)
    assert calls and calls[0][1:] == ("tfs", None, "log-log", (30.0, 60.0), None)
    assert sorted({m["day"] for m in report["milestones"]}) == [30, 60]
