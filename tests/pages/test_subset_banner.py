"""The subset banner (issue 18 item 4): with any sidebar filter active, every page says so in orange, apart from
the blinding banner, with the criteria and the count; without a filter there is none; free text stays text."""

import pytest

from tests.pages.apptest_helpers import run_page


def _banners(at) -> list[str]:
    return [m.value for m in at.markdown if "Subset:" in m.value]


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/labs.py", "pages/survival.py", "pages/safety.py"])
@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_an_active_filter_puts_the_subset_banner_on_the_page(app_env, page, role):
    at = run_page(page, role, {"sex": "F"})
    assert not at.exception
    banner = _banners(at)
    assert len(banner) == 1 and banner[0].startswith(":orange-background[**Subset:** sex = F (")
    assert "of 70 patients)]" in banner[0]
    assert not _banners(run_page(page, role))


def test_free_text_in_the_id_search_is_shown_as_written_not_as_markdown(app_env):
    at = run_page("pages/overview.py", "dsmb", {"q": "[x](http://e.org)"})
    banner = _banners(at)[0]
    assert r"id contains '\[x\]\(http\://e\.org\)'" in banner
