"""A real Streamlit server on a free port with its own database, users and audit files, and Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(home: Path, db: Path):
    """`streamlit run app.py` on ``db`` with users and audit files in ``home``; yields the base URL."""
    port = _free_port()
    env = dict(os.environ, DASHBOARD_DB=str(db), DASHBOARD_USERS=str(home / "users.toml"),
               DASHBOARD_AUDIT=str(home / "audit.jsonl"), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    env.setdefault("DASHBOARD_STATE", str(home / "state.sqlite"))
    log = open(home / "streamlit.log", "wb")  # a file, not a pipe: an unread pipe would block the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"streamlit did not start: {(home / 'streamlit.log').read_text(errors='replace')[-2000:]}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def copy_trial(source: Path, target: Path) -> Path:
    """A copy of a trial file and of its randomisation file (the arms live apart: data.database)."""
    from dashboard.data.database import randomization_path

    target.write_bytes(source.read_bytes())
    randomization_path(target).write_bytes(randomization_path(source).read_bytes())
    return target


@pytest.fixture(scope="session")
def server(tmp_path_factory, unusual_arms_db):
    """The app on a copy of the unusual-arms trial; yields (base_url, audit_path)."""
    home = tmp_path_factory.mktemp("server")
    db = copy_trial(unusual_arms_db, home / "trial.duckdb")
    with running_app(home, db) as url:
        yield url, home / "audit.jsonl"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def login(page, base_url: str, username: str, password: str) -> None:
    """Log in through the real form and wait for the app frame."""
    page.goto(base_url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(300)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
