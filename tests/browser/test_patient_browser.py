"""From the list to a patient in a real browser: log in as the investigator, open /patients, click a row,
see the profile's lab panels drawn, step to the next patient; screenshots for a person to look at."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, screenshot, wait_idle
from tests.conftest import UNUSUAL_ARMS

pytestmark = pytest.mark.browser

# st.dataframe draws a canvas grid: a header row, then rows of this height (Streamlit's default).
ROW_HEIGHT = 35
# Streamlit scrolls inside its main container, so a full-page screenshot needs a viewport this tall.
PROFILE_VIEWPORT = {"width": 1440, "height": 4400}


def _whole_profile_screenshot(page, name: str) -> None:
    page.set_viewport_size(PROFILE_VIEWPORT)
    page.wait_for_timeout(1500)  # plotly re-lays out to the new width
    screenshot(page, name)


def _open_patients(page, base: str) -> None:
    login(page, base, "investigator", "investigator-demo")
    page.get_by_text("BLINDED: pooled data").first.wait_for()
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Patients").first.click()
    page.wait_for_url(re.compile(r"/patients"))
    wait_idle(page)


def _click_row(page, row: int) -> None:
    """Click the row-selection marker at the left edge of data row ``row`` (0-based)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)


def test_investigator_opens_a_patient_from_the_list_and_sees_the_lab_panels(server, page):
    base, _ = server
    _open_patients(page, base)
    screenshot(page, "investigator_patients_list")
    _click_row(page, 2)
    page.wait_for_url(re.compile(r"/patient\?.*id=MSC-0003"))
    wait_idle(page)
    page.get_by_role("heading", name="Patient MSC-0003").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    # Lab small multiples, the MELD/ascites/AE course and the post-infusion temperature.
    assert page.locator(".js-plotly-plot").count() >= 3
    labs_plot = page.locator(".js-plotly-plot").first
    assert labs_plot.locator(".cartesianlayer > .subplot").count() >= 13
    text = page.inner_text("body")
    assert "Traceback" not in text
    assert "Infusions received" in text and "Baseline MELD" in text
    assert not any(arm in text for arm in UNUSUAL_ARMS)
    _whole_profile_screenshot(page, "investigator_patient_profile")

    page.get_by_role("button", name=re.compile("Next: MSC-0004")).click()
    page.wait_for_url(re.compile(r"id=MSC-0004"))
    wait_idle(page)
    page.get_by_role("heading", name="Patient MSC-0004").wait_for()
    assert page.locator(".js-plotly-plot").count() >= 3


def test_switching_the_lab_scale_redraws_the_panels(server, page):
    base, _ = server
    _open_patients(page, base)
    _click_row(page, 0)
    page.wait_for_url(re.compile(r"id=MSC-0001"))
    wait_idle(page)
    page.locator("button").filter(has_text="Multiple of ULN").first.click()
    wait_idle(page)
    page.get_by_text("Total bilirubin (x ULN)").first.wait_for()
    _whole_profile_screenshot(page, "investigator_patient_uln")
