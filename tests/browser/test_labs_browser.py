"""The /labs views drawn from DuckDB aggregates, in a real browser: the DSMB switches to box plots,
trajectories and liver safety and sees each figure with both arms; screenshots for a person to look at."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, screenshot, wait_idle
from tests.conftest import UNUSUAL_ARMS

pytestmark = pytest.mark.browser


def _open_view(page, name: str) -> str:
    page.get_by_role("radio", name=name, exact=True).click()
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(1).wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    return page.inner_text("body")


def test_dsmb_sees_box_plots_trajectories_and_liver_safety_by_arm(server, page):
    base, _ = server
    login(page, base, "dsmb", "dsmb-demo")
    page.get_by_text("UNBLINDED").first.wait_for()
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Labs").first.click()
    page.wait_for_url(re.compile(r"/labs"))
    wait_idle(page)

    _open_view(page, "Box plots")
    boxes = page.locator(".js-plotly-plot").nth(1)
    # One box trace per arm, each with a box at every visit.
    assert boxes.locator(".boxlayer .trace").count() == 2
    assert boxes.locator(".boxlayer .trace path.box").count() >= 2 * 8
    legend = boxes.locator(".legend").text_content()
    assert all(arm in legend for arm in UNUSUAL_ARMS)
    screenshot(page, "dsmb_labs_box_plots")

    text = _open_view(page, "Trajectories")
    assert "One line per patient" in text
    screenshot(page, "dsmb_labs_trajectories")

    text = _open_view(page, "Liver safety")
    assert page.locator(".js-plotly-plot").count() == 2  # the curve and mDISH (eDISH means nothing here)
    assert "ALT and bilirubin rise" in text and "Why multiples of baseline" in text
    assert all(arm in text for arm in UNUSUAL_ARMS)
    # Streamlit scrolls inside its main container: a tall viewport shows both plots whole.
    page.set_viewport_size({"width": 1440, "height": 2000})
    page.wait_for_timeout(1500)
    screenshot(page, "dsmb_labs_liver_safety")
