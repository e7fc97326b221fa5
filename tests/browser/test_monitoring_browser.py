"""/monitoring in a real browser: the DSMB sees the stopping boundaries, the looks table, conditional power and the
charter's safety rules; an investigator and a data manager see the pooled information only, with no arm name and
nothing that compares the arms anywhere in the page's text or HTML.

The app runs here on the demo trial with its usual arm names (UC-MSC, Placebo) as well as on the shared
unusual-arms server, and the DSMB's page is checked to contain what the blinded pages must not, in the same way,
so the blinded checks can fail.

The trial's own name says "UC-MSC vs placebo" on every page for every role (the browser tab's title, the study
title in the header, the charter's title): it names the treatments compared, not who received which, so those
three strings, read from the database, are taken out of the page before the arm names are looked for."""

from __future__ import annotations

import html as html_lib
import re

import duckdb
import pytest

from tests.browser.conftest import copy_trial, login, running_app, screenshot, wait_idle
from tests.conftest import UNUSUAL_ARMS

pytestmark = pytest.mark.browser

USUAL_ARMS = ("UC-MSC", "Placebo")
COMPARATIVE_WORDS = ("Log-rank Z", "Conditional")
BANNERS = {"dsmb": "UNBLINDED: DSMB closed session", "investigator": "BLINDED: pooled data",
           "datamanager": "BLINDED: pooled data"}
PASSWORDS = {"dsmb": "dsmb-demo", "investigator": "investigator-demo", "datamanager": "datamanager-demo"}
TRACEBACK_WORDS = ("Traceback", "KeyError", 'File "/', "site-packages")
APP_TAB_TITLE = "<title>UC-MSC trial dashboard</title>"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, trial_db):
    """The app on a copy of the demo trial, whose arms are UC-MSC and Placebo; yields the base URL."""
    home = tmp_path_factory.mktemp("monitoring_server")
    db = copy_trial(trial_db, home / "trial.duckdb")
    with running_app(home, db) as url:
        yield url


@pytest.fixture(scope="module")
def trial_names(trial_db) -> tuple[str, ...]:
    """The study's and the charter's titles, which name the treatments for everyone."""
    con = duckdb.connect(str(trial_db), read_only=True)
    try:
        return (con.execute("select title from study").fetchone()[0],
                con.execute("select title from charter").fetchone()[0])
    finally:
        con.close()


def _without(text: str, names: tuple[str, ...]) -> str:
    """``text`` (or HTML) without the app's tab title and the trial's names (also HTML-escaped)."""
    for name in (APP_TAB_TITLE, *names, *(html_lib.escape(n) for n in names)):
        text = text.replace(name, "")
    return text


@pytest.fixture
def wide_page(browser):
    """The 1400x1000 window of a meeting-room screen."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def _open_monitoring(page, base: str, username: str) -> tuple[str, str, str]:
    """Log in through the form, click "Interim monitoring"; returns (body text, main text, whole HTML)."""
    login(page, base, username, PASSWORDS[username])
    page.get_by_text(BANNERS[username]).first.wait_for()
    wait_idle(page)
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Interim monitoring").first.click()
    page.wait_for_url(re.compile(r"/monitoring"))
    page.get_by_role("heading", name="Interim monitoring").wait_for()
    wait_idle(page)
    page.get_by_text(BANNERS[username]).first.wait_for()
    body = page.inner_text("body")
    assert page.locator('[data-testid="stException"]').count() == 0, body[:1000]
    assert not [w for w in TRACEBACK_WORDS if w in body], body[:1000]
    return body, page.inner_text('[data-testid="stMain"]'), page.content()


def _full_screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so a full-page screenshot would stop at the window's
    height; the window is made as tall as the content first (same width), then put back."""
    size = page.viewport_size
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
                           "[data-testid=\"stAppViewContainer\"], body')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height + 40)})
    page.wait_for_timeout(800)
    wait_idle(page)
    screenshot(page, name)
    page.set_viewport_size(size)


def _leaks(text: str, html: str, arms: tuple[str, ...]) -> list[str]:
    """The arm names (any case) and comparative words found in the text or the HTML."""
    return ([a for a in arms if a.lower() in text.lower() or a.lower() in html.lower()]
            + [w for w in COMPARATIVE_WORDS if w in text or w in html])


def _table_columns(page) -> list[list[str]]:
    """The column headers of every st.dataframe on the page (glide grids keep an accessible table in the DOM,
    drawn once the grid has been in view: each is scrolled into view first, and its headers waited for)."""
    columns = []
    for grid in page.locator('[data-testid="stDataFrame"]').all():
        if not grid.is_visible():
            columns.append([])  # in a closed expander
            continue
        grid.scroll_into_view_if_needed()
        headers = grid.locator('[role="columnheader"]')
        headers.first.wait_for(state="attached", timeout=10_000)
        columns.append([h.strip() for h in headers.all_inner_texts()])
    return columns


def test_the_dsmb_sees_boundaries_looks_conditional_power_and_safety_rules(demo_server, wide_page, trial_names):
    page = wide_page
    body, main, html = _open_monitoring(page, demo_server, "dsmb")
    body, main, html = (_without(t, trial_names) for t in (body, main, html))
    for heading in ("Stopping boundaries", "Conditional and predictive power", "Safety rules of the charter"):
        page.locator("h2, h3").filter(has_text=heading).first.wait_for()
    # The boundaries figure: a plotly chart with the efficacy boundary and the observed Z in its legend.
    charts = page.locator('[data-testid="stPlotlyChart"]')
    assert charts.count() == 2, "events projection and stopping boundaries"
    boundaries = charts.nth(1)
    boundaries.locator(".main-svg").first.wait_for()
    legend = boundaries.locator(".legendtext").all_text_contents()
    assert any("Efficacy boundary" in t for t in legend), legend
    assert any("Log-rank Z" in t for t in legend), legend
    assert "favours UC-MSC" in boundaries.locator(".ytitle").text_content()
    # The looks table and the safety rules table (and the planned looks beside the events figure). The page may
    # still be drawing its last table when the headings are there (seen on a loaded machine): wait for all four.
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stDataFrame\"]').length >= 4", timeout=30_000)
    columns = _table_columns(page)
    looks = [c for c in columns if "Boundary Z" in c]
    # The grid renders only the columns in view; the hazard ratio and the repeated CI are further right.
    assert looks and {"Analysis", "Events", "Information", "Z"} <= set(looks[0]), looks
    grid = page.locator('[data-testid="stDataFrame"]').filter(has_text="Boundary Z").locator('[role="grid"]')
    assert grid.first.get_attribute("aria-colcount") == "11"  # no futility rule: its column is left out
    assert any({"Rule", "Threshold", "Count", "Status"} <= set(c) for c in columns), columns
    # Conditional power metrics, as percentages.
    metrics = dict(zip(page.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
                       page.locator('[data-testid="stMetricValue"]').all_inner_texts()))
    for label in ("Current trend", "Design hazard ratio", "Under H0", "Predictive power"):
        found = [v for k, v in metrics.items() if k.strip().startswith(label)]
        assert found and re.fullmatch(r"\d+(\.\d)?%", found[0].strip()), (label, metrics)
    # What the blinded pages must not contain is here, found the same way: the blinded checks below can fail.
    found = _leaks(main, html, USUAL_ARMS)
    assert "UC-MSC" in found and set(COMPARATIVE_WORDS) <= set(found), found
    assert "Information fraction" in body
    _full_screenshot(page, "dsmb_monitoring")


@pytest.mark.parametrize("username", ["investigator", "datamanager"])
def test_a_blinded_viewer_sees_information_but_no_arm_and_no_comparison(demo_server, wide_page, trial_names,
                                                                         username):
    page = wide_page
    body, main, html = _open_monitoring(page, demo_server, username)
    body, main, html = (_without(t, trial_names) for t in (body, main, html))
    assert "Information fraction" in body
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 1, "only the pooled events figure"
    assert not _leaks(body, html, USUAL_ARMS), f"/monitoring shows {_leaks(body, html, USUAL_ARMS)} to {username}"
    assert "Stopping boundaries" not in body and not any("Boundary Z" in c for c in _table_columns(page))
    _full_screenshot(page, f"{username}_monitoring")


@pytest.mark.parametrize("username", ["dsmb", "investigator", "datamanager"])
def test_unusual_arm_names_reach_the_dsmb_only(server, page, username):
    """On the shared unusual-arms trial: the experimental arm's name is on the DSMB's page (axis title, caption) and
    neither arm's name is anywhere in a blinded viewer's page, text or HTML."""
    base, _ = server
    body, main, html = _open_monitoring(page, base, username)
    if username == "dsmb":
        found = _leaks(main, html, UNUSUAL_ARMS)
        assert UNUSUAL_ARMS[0] in found and set(COMPARATIVE_WORDS) <= set(found), found
    else:
        assert not _leaks(body, html, UNUSUAL_ARMS), f"/monitoring shows {_leaks(body, html, UNUSUAL_ARMS)}"
