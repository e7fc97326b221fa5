"""Benchmark of DESIGN §7: pages' data paths, AppTest runs, profile lookup, survival, import, app start.

    .venv/bin/python bench/run.py [--sizes 1000,10000,100000] [--repeat 5] [--json bench/results/latest.json]

Simulated trials are cached under bench/.cache by size, seed and simulator version (``--rebuild`` makes them again).
Each size is measured in fresh worker processes (this script with ``--worker``), so one size's
memory and Streamlit caches do not leak into the next. Times are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
PAGES = ("overview", "patients", "patient", "labs", "ascites", "survival", "safety")
FILTERS = {"all patients": {}, "sex=F": {"sex": ("F",)}}
# DESIGN §7 budgets (seconds, points, bytes).
# The naive way takes seconds per run at 100,000 patients: one run each.
NAIVE_REPEAT = 1
DATA_BUDGET_S, PROFILE_BUDGET_S, POINTS_BUDGET, RSS_BUDGET = 0.3, 0.1, 100_000, 1.5 * 2**30


def median_time(func, repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def memory() -> dict:
    """Resident set now and at its peak (bytes), from /proc (no psutil needed)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {k: int(fields[f].split()[0]) * 1024 for k, f in (("rss", "VmRSS"), ("peak_rss", "VmHWM"))}


# --- the trials ------------------------------------------------------------------------------------

def trial_db(size: int, seed: int, rebuild: bool) -> tuple[Path, float | None]:
    """The cached simulated trial of ``size`` patients; build time when it was (re)built now."""
    from dashboard.commands.simulate import build
    from dashboard.data.simulate import SimulationSettings

    # Keyed by the simulator's and the writer's source too, so a changed simulator or file layout (e.g. the
    # randomisation kept apart) never serves a stale trial.
    data = ROOT / "src" / "dashboard" / "data"
    sources = sorted(data.glob("sim*.py")) + [data / "database.py", data / "schema.py"]
    version = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:10]
    path = CACHE / f"trial-{size}-seed{seed}-{version}.duckdb"
    if path.exists() and not rebuild:
        return path, None
    CACHE.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    build(SimulationSettings(patients=size, seed=seed), str(path), progress=lambda msg: print("  " + msg))
    return path, time.perf_counter() - start


# --- worker: data paths, ours and naive -------------------------------------------------------------

def worker_paths(db: str, repeat: int) -> dict:
    import page_paths as pp
    from naive import NaiveSource, load_tables

    from dashboard.access.trial_view import TrialView
    from dashboard.access.viewer import Viewer
    from dashboard.cache import RESULTS
    from dashboard.data.database import connect_readonly, randomization_path
    from dashboard.domain.endpoints import endpoint_rows
    from dashboard.domain.subject_filter import SubjectFilter
    from dashboard.domain.survival import cox_hr, km_estimate

    # The DSMB's connection (the randomisation attached): the naive way loads the same tables, arms included.
    con = connect_readonly(db, randomization_path(db))
    view = TrialView(con, Viewer("dsmb", "dsmb", "DSMB member"), db)
    filters = {name: SubjectFilter(**kw) for name, kw in FILTERS.items()}
    patient_ids = {name: _spread(view.subject_ids(f), repeat + 1) for name, f in filters.items()}
    # The naive source answers "no earlier cut" without looking (naive.py): true of the simulated trials.
    if view.changes_since_previous_cut(SubjectFilter()) is not None:
        raise SystemExit(f"{db} holds more than one kept cut; the naive comparison assumes one")

    def measure(source, name: str, f_name: str, runs: int, warmup: int) -> dict:
        _, path, kwargs = pp.PATHS[name]
        ids = iter(patient_ids[f_name] * 2)
        data, total, points = [], [], 0
        for k in range(warmup + runs):
            extra = {"usubjid": next(ids)} if path is pp.patient else {}
            # Analyses and TrialView queries are cached in one process-wide cache: every run starts from an
            # empty one, or it would time a cache lookup (metadata included, which a real filter change keeps).
            RESULTS.clear()
            marks = pp.Marks()
            figs = path(source, filters[f_name], marks, **kwargs, **extra)
            elapsed = time.perf_counter() - marks.start
            points = max([points, *(pp.figure_points(fig) for fig in figs)])
            if k >= warmup:
                data.append(marks.stamps["data"])
                total.append(elapsed)
        return {"data_s": statistics.median(data), "total_s": statistics.median(total), "max_points": points}

    out: dict = {"paths": {}, "naive": {}}
    for name in pp.PATHS:
        out["paths"][name] = {f_name: measure(view, name, f_name, repeat, 1) for f_name in filters}

    rows = endpoint_rows(view.time_to_event(SubjectFilter()), "os")
    arms = view.arms()
    out["survival_all"] = {
        "patients": len(rows),
        "km_s": median_time(lambda: km_estimate(rows, group_col="arm", groups=arms), repeat),
        "cox_s": median_time(lambda: cox_hr(rows, group_col="arm", reference=arms[-1], groups=arms), repeat),
    }
    out["memory_after_paths"] = memory()

    # The naive way in the same process: load every table once, then filter and join in pandas.
    before = memory()["rss"]
    start = time.perf_counter()
    tables = load_tables(con)
    out["naive_load"] = {"seconds": time.perf_counter() - start, "rss_added": memory()["rss"] - before,
                         "rows": {k: len(v) for k, v in tables.items()}}
    naive = NaiveSource(tables, sees_arms=True)
    out["naive_check"] = _same_rows(view, naive, filters["sex=F"])
    for name in pp.PATHS:
        out["naive"][name] = {f_name: measure(naive, name, f_name, NAIVE_REPEAT, 0) for f_name in filters}
    return out


def _spread(ids: tuple[str, ...], n: int) -> list[str]:
    """``n`` patient ids spread evenly over the list, so repeats do not read the same patient."""
    return [ids[int(i * (len(ids) - 1) / max(n - 1, 1))] for i in range(n)]


def _same_rows(view, naive, f) -> dict:
    """Row counts of both sources for the same filter; they must agree for the comparison to be fair."""
    checks = {"subjects": (f,), "lab_rows": (f, ("MELD",)), "ascites_rows": (f,), "vital_rows": (f,),
              "adverse_event_rows": (f,), "time_to_event": (f,)}
    counts = {m: (len(getattr(view, m)(*a)), len(getattr(naive, m)(*a))) for m, a in checks.items()}
    ours, theirs = view.visit_completeness(f), naive.visit_completeness(f)
    counts["visit_completeness.expected"] = (int(ours["expected"].sum()), int(theirs["expected"].sum()))
    return {"counts": counts, "equal": all(a == b for a, b in counts.values())}


# --- worker: full AppTest runs ----------------------------------------------------------------------

def worker_apptest(db: str, repeat: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-apptest-"))
    os.environ.update(DASHBOARD_DB=db, DASHBOARD_USERS=str(tmp / "users.toml"), DASHBOARD_AUDIT=str(tmp / "audit.jsonl"))
    started = time.perf_counter()
    import runpy

    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    # As in tests/conftest.py: AppTest resets Streamlit's legacy pages/ flag before every run, which would
    # run page files alone after the first run; run app.py (login gate, filters, header) every time instead.
    script_runner._mpa_v1 = lambda main_script_path: runpy.run_path(main_script_path, run_name="__main__")

    from dashboard.access.viewer import Viewer
    from dashboard.data.database import connect_readonly
    from dashboard.domain.subject_filter import SubjectFilter

    viewer = Viewer("dsmb", "dsmb", "DSMB member")
    with connect_readonly(db) as con:
        patient_id = con.execute("SELECT min(usubjid) FROM subjects").fetchone()[0]

    def new_session() -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.session_state["viewer"] = viewer
        return at

    first = new_session()
    t = time.perf_counter()
    first.run()
    out: dict = {"first_run_s": time.perf_counter() - t, "process_to_first_run_s": time.perf_counter() - started,
                 "pages": {}, "errors": {}}
    for page in PAGES:
        at = new_session()
        at.run()  # the default page: st.navigation registers the pages' url paths
        at.switch_page(f"pages/{page}.py")
        if page == "patient":
            at.query_params["id"] = patient_id
        timings: dict = {}
        timings["first_s"] = _timed_run(at)
        warm = [_timed_run(at) for _ in range(repeat)]
        changed, counts = [], [_selected_count(at)]
        for i in range(repeat):
            # A new filter each time (the age bound moves), so every run misses the data cache. Set in the
            # session as the sidebar's Apply button does (app.py reads the URL only when a session starts).
            at.session_state["subject_filter"] = SubjectFilter(sex=("F",), age_min=19 + i)
            changed.append(_timed_run(at))
            counts.append(_selected_count(at))
        timings.update(warm_s=statistics.median(warm), filter_change_s=statistics.median(changed),
                       selected=counts)
        out["pages"][page] = timings
        if at.exception:
            out["errors"][page] = [e.value for e in at.exception][:3]
    out["memory_after_pages"] = memory()
    return out


def _selected_count(at) -> str:
    """The header's "N of M patients selected", proof that the run used the new filter."""
    return next((c.value.split("·")[-1].strip(" *") for c in at.caption if "patients selected" in c.value), "")


def _timed_run(at) -> float:
    t = time.perf_counter()
    at.run()
    return time.perf_counter() - t


# --- import throughput and app start ----------------------------------------------------------------

def import_throughput(db: Path) -> dict:
    """`dashboard import --format csv` of a CSV-template export of ``db``, and `--format sdtm` of the CDISC pilot."""

    from dashboard.data.database import connect_readonly, randomization_path
    from dashboard.data.importers.csv_template import FILES

    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        export = Path(tmp) / "export"
        export.mkdir()
        rows = 0
        with connect_readonly(db, randomization_path(db)) as con:  # the tables with their arms, for the delivery
            cut = con.execute("SELECT data_cut_date FROM study").fetchone()[0]
            for table in FILES:
                n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                if n:
                    con.execute(f"COPY {table} TO '{export / (table + '.csv')}' (HEADER)")
                    rows += n
        out["csv"] = _import(["--format", "csv", "--cut-date", str(cut), str(export)], Path(tmp) / "csv.duckdb", rows)
        out["csv"]["source"] = f"CSV-template export of {db.name}"
        pilot = Path("/work/shared/data/cdiscpilot01")
        if pilot.exists():
            out["sdtm"] = _import(["--format", "sdtm", "--cut-date", "2014-07-01", str(pilot)], Path(tmp) / "sdtm.duckdb")
            out["sdtm"]["source"] = "CDISC pilot cdiscpilot01 (SDTM)"
    return out


def _import(args: list[str], target: Path, rows: int | None = None) -> dict:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dashboard", "import", *args, "--db", str(target)],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout)[-2000:], "seconds": seconds}
    if rows is None:  # rows loaded, as the cut records them
        import duckdb

        with duckdb.connect(str(target), read_only=True) as con:
            counts = json.loads(con.execute("SELECT row_counts FROM data_cuts ORDER BY cut_id DESC").fetchone()[0])
        rows = sum(counts.values())
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def app_start(db: Path) -> dict:
    """Seconds from `streamlit run app.py` until /_stcore/health answers, and the server's resident set then."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="bench-start-"))
    env = {**os.environ, "DASHBOARD_DB": str(db), "DASHBOARD_USERS": str(tmp / "users.toml"),
           "DASHBOARD_AUDIT": str(tmp / "audit.jsonl")}
    command = [str(Path(sys.executable).parent / "streamlit"), "run", "app.py", "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        seconds = time.perf_counter() - start
                        status = Path(f"/proc/{proc.pid}/status").read_text()
                        rss = int(status.split("VmRSS:")[1].split()[0]) * 1024
                        return {"health_s": seconds, "server_rss": rss}
            except OSError:
                time.sleep(0.05)
        return {"error": "no answer from /_stcore/health within 120 s"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- orchestration and report -----------------------------------------------------------------------

def run_worker(kind: str, db: Path, repeat: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        target = out.name
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--db", str(db),
               "--repeat", str(repeat), "--json", target]
    done = subprocess.run(command, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"bench worker {kind} for {db.name} failed ({done.returncode})")
    result = json.loads(Path(target).read_text())
    Path(target).unlink()
    return result


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    import duckdb
    import pandas
    import streamlit

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_bytes": mem, "python": platform.python_version(),
            "platform": platform.platform(), "duckdb": duckdb.__version__, "pandas": pandas.__version__,
            "streamlit": streamlit.__version__}


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def report(results: dict) -> str:
    lines: list[str] = []
    m = results["machine"]
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_bytes'] / 2**30:.0f} GiB; Python {m['python']}, "
                 f"DuckDB {m['duckdb']}, pandas {m['pandas']}, Streamlit {m['streamlit']}. Medians of "
                 f"{results['repeat']} runs (naive: {NAIVE_REPEAT} run). DSMB viewer (unblinded: both arms, comparisons).")
    for size, r in results["sizes"].items():
        p, a = r["paths"], r["apptest"]
        lines.append("")
        lines.append(f"### {int(size):,} patients ({sum(p['naive_load']['rows'].values()):,} rows; "
                     f"{p['naive_load']['rows']['lab_results']:,} lab rows)")
        lines.append("")
        lines.append("| page / view | filter | data (queries + statistics) | + figures | naive (pandas) data | "
                     "naive / ours | max points in a figure |")
        lines.append("|---|---|---:|---:|---:|---:|---:|")
        for name, by_filter in p["paths"].items():
            for f_name, ours in by_filter.items():
                naive = p["naive"][name][f_name]
                budget = PROFILE_BUDGET_S if name == "patient" else DATA_BUDGET_S
                flag = "" if ours["data_s"] < budget else " **over**"
                lines.append(f"| {name} | {f_name} | {fmt_s(ours['data_s'])}{flag} | {fmt_s(ours['total_s'])} | "
                             f"{fmt_s(naive['data_s'])} | {naive['data_s'] / ours['data_s']:.1f}x | "
                             f"{ours['max_points']:,} |")
        lines.append("")
        lines.append("| AppTest full run (app.py + page, DSMB) | first visit | rerun, cached | filter change |")
        lines.append("|---|---:|---:|---:|")
        for page, t in a["pages"].items():
            lines.append(f"| {page} | {fmt_s(t['first_s'])} | {fmt_s(t['warm_s'])} | {fmt_s(t['filter_change_s'])} |")
        s = p["survival_all"]
        nl = p["naive_load"]
        mem = a["memory_after_pages"]
        points = max(v["max_points"] for by in p["paths"].values() for v in by.values())
        lines.append("")
        lines.append(f"- Kaplan-Meier on all {s['patients']:,} dosed patients: {fmt_s(s['km_s'])}; Cox (Efron): "
                     f"{fmt_s(s['cox_s'])}.")
        lines.append(f"- App process (AppTest) resident set after all pages: {mem['rss'] / 2**20:,.0f} MiB "
                     f"(peak {mem['peak_rss'] / 2**20:,.0f} MiB; budget {RSS_BUDGET / 2**20:,.0f} MiB).")
        lines.append(f"- First AppTest run in a fresh process: {fmt_s(a['first_run_s'])} "
                     f"({fmt_s(a['process_to_first_run_s'])} including imports).")
        lines.append(f"- Largest figure: {points:,} points (budget {POINTS_BUDGET:,}).")
        lines.append(f"- Naive: loading every table into pandas took {fmt_s(nl['seconds'])} and "
                     f"{nl['rss_added'] / 2**20:,.0f} MiB; its row counts "
                     f"{'match ours' if p['naive_check']['equal'] else 'DIFFER: ' + str(p['naive_check']['counts'])}.")
        if r.get("build_s"):
            lines.append(f"- Simulating and writing the trial took {fmt_s(r['build_s'])}.")
        if a["errors"]:
            lines.append(f"- AppTest exceptions: {a['errors']}")
    lines.append("")
    for kind, imp in results.get("import", {}).items():
        if "error" in imp:
            lines.append(f"- Import {kind}: failed: {imp['error'][-300:]}")
        else:
            lines.append(f"- Import ({imp['source']}): {imp['rows']:,} rows in {fmt_s(imp['seconds'])}, "
                         f"{imp['rows_per_s']:,.0f} rows/s (whole command: validation, conversion, write, checksum).")
    start = results.get("app_start")
    if start:
        if "error" in start:
            lines.append(f"- App start: {start['error']}")
        else:
            lines.append(f"- App start ({start['db']}): `streamlit run app.py` answers /_stcore/health after "
                         f"{fmt_s(start['health_s'])} (server resident set then {start['server_rss'] / 2**20:,.0f} MiB).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="trial sizes in patients, comma-separated")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is reported")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "latest.json"), help="JSON output file")
    parser.add_argument("--rebuild", action="store_true", help="simulate the trials again even if cached")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: import, start")
    parser.add_argument("--worker", choices=("paths", "apptest"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        work = worker_paths if args.worker == "paths" else worker_apptest
        Path(args.json).write_text(json.dumps(work(args.db, args.repeat), default=str))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    results: dict = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "repeat": args.repeat,
                     "seed": args.seed, "machine": machine(), "sizes": {}}
    dbs = {}
    for size in sizes:
        print(f"== {size:,} patients", flush=True)
        db, build_s = trial_db(size, args.seed, args.rebuild)
        dbs[size] = db
        r = {"db": str(db), "build_s": build_s}
        print("  data paths (ours, then naive) ...", flush=True)
        r["paths"] = run_worker("paths", db, args.repeat)
        print("  AppTest runs ...", flush=True)
        r["apptest"] = run_worker("apptest", db, args.repeat)
        results["sizes"][str(size)] = r
    if "import" not in skip:
        print("== import throughput", flush=True)
        results["import"] = import_throughput(dbs[min(sizes, key=lambda s: abs(s - 10_000))])
    if "start" not in skip:
        print("== app start", flush=True)
        largest = dbs[max(sizes)]
        results["app_start"] = {**app_start(largest), "db": f"{max(sizes):,} patients"}
    results["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    text = report(results)
    print()
    print(text)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**results, "report": text}, indent=2, default=str))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
