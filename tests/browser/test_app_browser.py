"""What a person sees: log in through the form, visit every page as each demo user, filter, audit."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from dashboard.ui.navigation import PAGES
from tests.browser.conftest import login, screenshot, wait_idle
from tests.conftest import UNUSUAL_ARMS

pytestmark = pytest.mark.browser

DEMO_USERS = [("dsmb", "dsmb-demo", "UNBLINDED: DSMB closed session"),
              ("investigator", "investigator-demo", "BLINDED: pooled data"),
              ("datamanager", "datamanager-demo", "BLINDED: pooled data")]


def test_wrong_password_is_refused_and_audited(server, page):
    base, audit = server
    login(page, base, "dsmb", "not-the-password")
    page.get_by_text("Wrong username or password.").wait_for()
    screenshot(page, "login_refused")
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    assert any(e["name"] == "login_failure" and e["actor"] == "dsmb" for e in events)
    assert all("not-the-password" not in json.dumps(e) for e in events)


@pytest.mark.parametrize("username, password, banner", DEMO_USERS, ids=[u for u, _, _ in DEMO_USERS])
def test_each_demo_user_visits_every_page(server, page, username, password, banner):
    base, audit = server
    login(page, base, username, password)
    page.get_by_text(banner).first.wait_for()
    visible = [p for p in PAGES if not p.hidden]
    for spec in visible:
        links = page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=spec.title)
        if links.count() == 0:
            continue
        links.first.click()
        # The default page lives at the root URL as well as at its own path.
        page.wait_for_url(re.compile(f"/{spec.url_path}" + ("|:\\d+/(\\?|$)" if spec.url_path == "overview" else "")))
        wait_idle(page)
        page.get_by_text(banner).first.wait_for()
        text = page.inner_text("body")
        assert "Traceback" not in text and "Error" not in page.title()
        if username != "dsmb":
            assert not any(arm in text for arm in UNUSUAL_ARMS), f"arm name on /{spec.url_path} for {username}"
        screenshot(page, f"{username}_{spec.url_path}")
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    pages_seen = {e["page"] for e in events if e["name"] == "page_view" and e["actor"] == username}
    assert {"overview", "survival"} <= pages_seen




def test_changing_a_filter_changes_the_header_count_and_url(server, page):
    base, _ = server
    login(page, base, "dsmb", "dsmb-demo")
    header = page.get_by_text(re.compile(r"\d+ of \d+ patients selected"))
    header.wait_for()
    before = header.inner_text()
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Sex").locator("input").click()
    page.get_by_role("option", name="F", exact=True).click()
    page.keyboard.press("Escape")
    sidebar.locator("button", has_text="Apply filters").click()
    page.wait_for_url(re.compile(r"sex=F"))
    wait_idle(page)
    after = page.get_by_text(re.compile(r"\d+ of \d+ patients selected")).inner_text()
    assert after != before
    selected = int(re.search(r"(\d+) of (\d+) patients", after).group(1))
    assert 0 < selected < 70
    screenshot(page, "dsmb_filtered_sex_f")


def test_a_deep_link_survives_the_login(server, page):
    base, _ = server
    page.goto(base + "/patient?id=MSC-0005&sex=M")
    page.get_by_role("textbox", name="Username").fill("investigator")
    page.get_by_role("textbox", name="Password").fill("investigator-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Patient MSC-0005").wait_for()
    assert "sex=M" in page.url and "id=MSC-0005" in page.url
    screenshot(page, "investigator_deep_link_after_login")


def test_a_table_downloads_as_csv_and_xlsx_with_its_provenance_and_the_export_is_audited(server, page, tmp_path):
    base, audit = server
    login(page, base, "investigator", "investigator-demo")
    page.get_by_text("BLINDED: pooled data").first.wait_for()
    wait_idle(page)
    files = {}
    for label in ("Download CSV", "Download XLSX"):
        # The overview's disposition table is the last table on the page, so its buttons are the last ones.
        with page.expect_download() as download:
            page.get_by_role("button", name=label).last.click()
        files[label] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[label])
        wait_idle(page)
    assert files["Download XLSX"].name == "disposition.xlsx"
    sheets = pd.read_excel(files["Download XLSX"], sheet_name=None)
    assert set(sheets) == {"disposition", "provenance"} and "status" in sheets["disposition"].columns
    csv_text = files["Download CSV"].read_text()
    assert csv_text.startswith("# ") and sheets["provenance"]["provenance"].iloc[0] in csv_text
    assert "BLINDED" in csv_text and not any(arm in csv_text for arm in UNUSUAL_ARMS)
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    exported = {e["properties"]["what"] for e in events if e["name"] == "export" and e["actor"] == "investigator"}
    assert exported >= {"disposition.csv", "disposition.xlsx"}
