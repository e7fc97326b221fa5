""""Clear filters" clears the selection, the URL and the form, even when the filter came in through the URL."""

from tests.pages.apptest_helpers import run_page


def _selected(at) -> str:
    return next(c.value for c in at.caption if "patients selected" in c.value)


def test_clear_filters_clears_a_filter_that_came_in_through_the_url(app_env):
    at = run_page("pages/overview.py", "dsmb", {"sex": "F"})
    assert "of 70 patients selected" in _selected(at) and "**70 of 70" not in _selected(at)
    at.sidebar.button(key="f_clear").click().run()
    assert not at.exception
    assert "**70 of 70 patients selected**" in _selected(at)
    assert "sex" not in at.query_params
    assert at.sidebar.multiselect(key="f_sex").value == []
    at.run()  # and it stays cleared on the next rerun
    assert "**70 of 70 patients selected**" in _selected(at)
