"""``python -m dashboard simulate``: build the simulated trial database."""

from __future__ import annotations

import argparse
import time
from datetime import date

from dashboard.data.charters import demo_charter
from dashboard.data.database import write_trial
from dashboard.data.simulate import SimulationSettings, simulate_trial

NAME = "simulate"
HELP = "Simulate the UC-MSC vs placebo liver-failure trial into a DuckDB file."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=int, default=70, help="number of randomised patients (default 70)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed; the same seed gives the same trial")
    parser.add_argument("--out", default="data/trial.duckdb", help="DuckDB file to write (replaced atomically)")
    parser.add_argument("--cut-date", type=date.fromisoformat, default=None,
                        help="data cut YYYY-MM-DD (default: when 60%% of planned follow-up has accrued)")
    parser.add_argument("--sites", type=int, default=3, help="number of sites (default 3)")
    parser.add_argument("--effect", choices=("default", "none"), default="default",
                        help="'default': UC-MSC effect of domain.md §2.5; 'none': a null trial")
    parser.add_argument("--arms", default="UC-MSC,Placebo", help="active and control arm names, comma-separated")


def run(args: argparse.Namespace) -> int:
    arms = tuple(a.strip() for a in args.arms.split(","))
    settings = SimulationSettings(patients=args.patients, seed=args.seed, cut_date=args.cut_date,
                                  sites=args.sites, effect=args.effect, arms=arms)
    return build(settings, args.out)


def build(settings: SimulationSettings, out: str, progress=print) -> int:
    started = time.perf_counter()
    tables = simulate_trial(settings)
    simulated = time.perf_counter()
    charter, charter_source = demo_charter(settings.patients)
    cut = write_trial(tables, out, source=f"simulate --patients {settings.patients} --seed {settings.seed} "
                                          f"--effect {settings.effect}", charter=charter, charter_source=charter_source)
    done = time.perf_counter()
    rows = sum(len(t) for t in tables.values())
    progress(f"Simulated {settings.patients:,} patients ({rows:,} rows) in {simulated - started:.1f} s, "
             f"wrote {out} in {done - simulated:.1f} s: {settings.patients / (done - started):,.0f} patients/s, "
             f"{rows / (done - started):,.0f} rows/s. Data cut {cut['cut_date']}, checksum {cut['checksum'][:12]}; "
             f"DSMB charter {charter.version} ({charter.planned_events} planned events).")
    return 0
