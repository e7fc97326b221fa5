"""Every registered section of the sectioned pages, clicked in a real browser on a database with one cut (the
normal state at a first interim): no exception element and no traceback text ever reaches the page.
Screenshots of the states a first interim used to break (compare with an earlier cut)."""

from __future__ import annotations

import re

import pytest

from dashboard.domain.endpoints import ENDPOINTS
from dashboard.ui.sections import control
from tests.browser.conftest import login, screenshot, wait_idle

pytestmark = pytest.mark.browser

PAGES = {"Labs": ("labs", "labs_view"), "Survival": ("survival", "survival_more"), "Safety": ("safety", "safety_section")}
TRACEBACK_WORDS = ("Traceback", "KeyError", 'File "/', "site-packages")


def _no_error(page, state: str) -> str:
    text = page.inner_text("body")
    assert page.locator('[data-testid="stException"]').count() == 0, state
    assert not [w for w in TRACEBACK_WORDS if w in text], f"{state}: {text[:500]}"
    return text


def _open(page, nav: str, path: str) -> None:
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=nav).first.click()
    page.wait_for_url(re.compile(f"/{path}"))
    wait_idle(page)


def _walk(page, role: str) -> None:
    for nav, (path, key) in PAGES.items():
        _open(page, nav, path)
        _no_error(page, f"{role} {path}")
        for option in control(key).options:
            page.get_by_role("radio", name=option, exact=True).first.click()
            wait_idle(page)
            _no_error(page, f"{role} {path} {option}")
            if option == "Compare with an earlier cut":
                # The section's rerun may end after the app first looks idle on a loaded machine: wait for it.
                page.get_by_text("No earlier data cut of this database is kept").first.wait_for(timeout=30_000)
                screenshot(page, f"{role}_survival_compare_one_cut")
    _open(page, "Survival", "survival")
    for endpoint in ENDPOINTS.values():
        page.get_by_role("radio", name=endpoint.short, exact=True).first.click()
        wait_idle(page)
        _no_error(page, f"{role} survival {endpoint.key}")


@pytest.mark.parametrize("role, password", [("dsmb", "dsmb-demo"), ("investigator", "investigator-demo")])
def test_every_section_renders_in_the_browser_without_a_traceback(server, page, role, password):
    base, _ = server
    login(page, base, role, password)
    page.get_by_text("BLINDED" if role != "dsmb" else "UNBLINDED").first.wait_for()
    _walk(page, role)
