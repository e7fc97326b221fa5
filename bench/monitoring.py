"""Benchmark of interim monitoring: the boundary engine alone, then /monitoring's analysis on simulated trials.

    .venv/bin/python bench/monitoring.py [--sizes 70,10000,100000] [--repeat 3]

Prints medians (seconds). The analysis is timed cold (empty result cache: what the first DSMB member to open
the page after a new cut waits for) and warm (cached: every later rerun). Trials of bench/run.py's cache
are used when present (bench/.cache), else simulated into a temporary folder; each is monitored against the
shipped demo charter, its planned events scaled to the trial's size as ``simulate`` does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import median_time, trial_db  # noqa: E402  (bench/run.py, beside this script)

from dashboard.access.opening import open_trial_view  # noqa: E402
from dashboard.access.viewer import Viewer  # noqa: E402
from dashboard.analyses.monitoring import monitoring  # noqa: E402
from dashboard.cache import RESULTS  # noqa: E402
from dashboard.data.charters import demo_charter  # noqa: E402
from dashboard.domain.group_sequential import (  # noqa: E402
    group_sequential_design,
    operating_characteristics,
    predictive_power,
)


def engine(repeat: int) -> None:
    five = [0.15, 0.3, 0.55, 0.8, 1.0]
    cases = {
        "3 looks, O'Brien-Fleming": lambda: group_sequential_design([0.3, 0.65, 1.0]),
        "5 looks, O'Brien-Fleming": lambda: group_sequential_design(five),
        "5 looks + beta-spending futility": lambda: group_sequential_design(five, beta=0.2, futility_spending="obf"),
        "5 looks, power at one drift": lambda: operating_characteristics(group_sequential_design(five), 2.8),
        "predictive power, 2 looks ahead": lambda: predictive_power(1.5, 4.0, [6.0, 8.0], [2.3, 2.0]),
    }
    print("Boundary engine (median seconds):")
    for name, call in cases.items():
        print(f"  {name:<36} {median_time(call, repeat):.4f}")


def analysis(sizes: list[int], repeat: int) -> None:
    print("/monitoring analysis, DSMB viewer (median seconds):")
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            db, _ = trial_db(size, 2026, False) if size != 70 else (Path(scratch) / "demo.duckdb", None)
            if size == 70:
                from dashboard.commands.simulate import build
                from dashboard.data.simulate import SimulationSettings
                build(SimulationSettings(), str(db), progress=lambda _: None)
            charter = demo_charter(size)[0]
            view = open_trial_view(Viewer("bench", "dsmb"), db)

            def cold():
                RESULTS.clear()
                return monitoring(view, charter)

            cold_s = median_time(cold, repeat, warmup=0)
            result = monitoring(view, charter)
            warm_s = median_time(lambda: monitoring(view, charter), repeat)
            print(f"  {size:>7,} patients: cold {cold_s:.3f}, warm {warm_s:.5f} "
                  f"({result.events} events, {len(result.path)} points on the Z path)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="70,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine(args.repeat)
    analysis([int(s) for s in args.sizes.split(",")], args.repeat)


if __name__ == "__main__":
    main()
