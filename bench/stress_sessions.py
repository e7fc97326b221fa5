"""Many simultaneous browser sessions on one server: logins, reruns and XLSX downloads at the same time.

Starts the app (as the browser tests do) on a fresh 70-patient demo trial on 127.0.0.1, opens
``--sessions`` headless-Chromium sessions at once (one browser, one context each) and in every session
logs in as the investigator, then ``--rounds`` times downloads the overview's last table as XLSX and CSV
(each click reruns the page, so the sessions' reruns overlap); before each click it waits, as a person
would, until the app has finished running (``--no-wait``: click at once). Prints the downloads that arrived or
failed, timings, and the errors of the server log ("Deferred file not found", "connection is busy",
tracebacks). Bounded: at most 20 sessions and ``--deadline`` seconds in all.

    .venv/bin/python bench/stress_sessions.py --sessions 12 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

SERVER_ERRORS = re.compile(r"Deferred file .* not found|connection is busy|ResourceInUse|Traceback|Error executing deferred"
                           r"| 404 ")


async def _wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script (as tests/browser/conftest.py ``wait_idle``): a
    person clicks the next button when the page has settled, not while the last click's rerun is going."""
    await page.wait_for_timeout(500)
    await page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)
    await page.wait_for_timeout(300)


async def _session(browser, base: str, i: int, rounds: int, wait: bool, results: list, media: dict) -> None:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    # Every /media/ answer the browser got (the server does not log requests: uvicorn's access log is off).
    context.on("response", lambda r: media.setdefault(r.url, []).append(r.status) if "/media/" in r.url else None)
    context.on("requestfailed",
               lambda r: media.setdefault(r.url, []).append(f"failed {r.failure}") if "/media/" in r.url else None)
    page = await context.new_page()
    page.set_default_timeout(180_000)  # ten logins at once (bcrypt, first runs) take minutes on 2 busy cores
    try:
        t0 = time.perf_counter()
        await page.goto(base)
        await page.get_by_role("textbox", name="Username").fill("investigator")
        await page.get_by_role("textbox", name="Password").fill("investigator-demo")
        t_form = time.perf_counter()
        await page.get_by_role("button", name="Log in").click()
        await page.get_by_text("BLINDED: pooled data").first.wait_for()
        await page.get_by_role("button", name="Download XLSX").last.wait_for()
        t_page = time.perf_counter()
        if wait:
            await _wait_idle(page)
        results.append(("login", i, True, time.perf_counter() - t0,
                        f"form {t_form - t0:.1f} s, click to page {t_page - t_form:.1f} s"))
        for r in range(rounds):
            for label in ("Download XLSX", "Download CSV"):
                if wait:
                    await _wait_idle(page)
                t0 = time.perf_counter()
                try:
                    async with page.expect_download(timeout=60_000) as info:
                        await page.get_by_role("button", name=label).last.click()
                    download = await info.value
                    failure = await download.failure()  # waits until the download has finished or failed
                    if failure is None:
                        size = Path(await download.path()).stat().st_size
                        detail = "" if size else "empty file"
                    else:
                        detail = f"{failure}; /media/ answered {media.get(download.url, ['nothing'])}"
                    results.append((label, i, not detail, time.perf_counter() - t0, detail))
                except Exception as exc:  # a download that never starts: count it, go on
                    results.append((label, i, False, time.perf_counter() - t0, f"{type(exc).__name__}: {str(exc)[:70]}"))
                if wait:
                    await _wait_idle(page)  # the click reruns the page
    except Exception as exc:
        results.append(("login", i, False, 0.0, f"{type(exc).__name__}: {str(exc)[:120]}"))
    finally:
        await context.close()


async def _run(base: str, sessions: int, rounds: int, deadline: float, wait: bool, media: dict) -> list:
    from playwright.async_api import async_playwright

    results: list = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.wait_for(asyncio.gather(*(_session(browser, base, i, rounds, wait, results, media)
                                                    for i in range(sessions))), timeout=deadline)
        except asyncio.TimeoutError:
            results.append(("deadline", -1, False, deadline, f"stopped after {deadline:.0f} s"))
        finally:
            await browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=12, help="simultaneous sessions (1-20)")
    parser.add_argument("--rounds", type=int, default=3, help="XLSX+CSV downloads per session (1-10)")
    parser.add_argument("--deadline", type=float, default=300, help="seconds for all sessions together")
    parser.add_argument("--no-wait", action="store_true",
                        help="click without waiting for the app to be idle (the earlier, unlike-a-person behaviour)")
    args = parser.parse_args(argv)
    sessions, rounds = min(max(args.sessions, 1), 20), min(max(args.rounds, 1), 10)

    from dashboard.data.database import write_trial
    from dashboard.data.simulate import SimulationSettings, simulate_trial

    with tempfile.TemporaryDirectory(prefix="stress_sessions_") as tmp:
        home = Path(tmp)
        db = home / "trial.duckdb"
        write_trial(simulate_trial(SimulationSettings()), db, source="stress_sessions")
        media: dict = {}
        t0 = time.perf_counter()
        with running_app(home, db) as base:
            results = asyncio.run(_run(base, sessions, rounds, args.deadline, not args.no_wait, media))
        wall = time.perf_counter() - t0
        log = (home / "streamlit.log").read_text(errors="replace")

    print(f"{sessions} sessions x {rounds} rounds{'' if args.no_wait else ', idle before each click'}, wall {wall:.1f} s")
    for kind in ("login", "Download XLSX", "Download CSV"):
        rows = [r for r in results if r[0] == kind]
        ok = [r[3] for r in rows if r[2]]
        failed = [r for r in rows if not r[2]]
        timing = f", median {sorted(ok)[len(ok) // 2]:.2f} s, max {max(ok):.2f} s" if ok else ""
        print(f"  {kind:14s} {len(ok)}/{len(rows)} ok{timing}"
              + (f"; failed: {sorted({r[4] for r in failed})}" if failed else ""))
    logins = [r[4] for r in results if r[0] == "login" and r[2]]
    if logins:
        print(f"  logins: {'; '.join(logins)}")
    answers = [str(a) for statuses in media.values() for a in statuses]
    print(f"  /media/ answers seen by the browsers: {dict(sorted(Counter(answers).items()))}")
    for r in results:
        if r[0] == "deadline":
            print(f"  {r[4]}")
    errors = [line for line in log.splitlines() if SERVER_ERRORS.search(line)]
    print(f"  server log: {len(errors)} error line(s)")
    for line in dict.fromkeys(errors):
        print(f"    {line[:200]}")
    lines = log.splitlines()
    for n in [n for n, line in enumerate(lines) if line.startswith("Traceback")][:3]:  # each traceback's last lines
        end = next((m for m in range(n + 1, len(lines)) if lines[m] and not lines[m].startswith((" ", "Traceback"))), n)
        print("      " + "\n      ".join(line[:200] for line in lines[max(n, end - 4):end + 1]))
    return 0 if all(r[2] for r in results) and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
