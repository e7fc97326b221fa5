"""Contract: every section of every page (ui/sections.py's registry) x every role x a database with one cut
and one with two cuts renders without an exception, and a blinded role is sent no arm name in any state;
every page with an empty selection explains itself instead of failing.

Each control is walked from the page's default state, one value at a time (a control that depends on another
is walked with that one set first). Both databases use arm names no page prints by accident.
"""

from datetime import date

import pytest

from dashboard.access.viewer import PERMISSIONS
from dashboard.data.importers.cuts import write_cut
from dashboard.data.simulate import SimulationSettings, simulate_trial
from dashboard.ui.navigation import PAGES
from dashboard.ui.sections import CONTROLS
from tests.conftest import UNUSUAL_ARMS, connect_unblinded
from tests.pages.apptest_helpers import run_page, sent_bytes

ROLES = ("dsmb", "investigator", "data_manager")
TRIAL_PAGES = [p for p in PAGES if p.action == "view_trial"]
WALKED = sorted({c.page for c in CONTROLS})


@pytest.fixture(scope="module")
def two_cut_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("two_cuts") / "trial.duckdb"
    for cut in (date(2025, 3, 31), date(2025, 12, 31)):
        write_cut(simulate_trial(SimulationSettings(cut_date=cut, arms=UNUSUAL_ARMS)), db, source=f"cut {cut}")
    return db


@pytest.fixture(params=["one cut", "two cuts"])
def database(request, app_env, monkeypatch, unusual_arms_db, two_cut_db):
    db = unusual_arms_db if request.param == "one cut" else two_cut_db
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    return db


def _first_patient(db) -> str:

    with connect_unblinded(db) as con:
        return con.execute("SELECT min(usubjid) FROM subjects").fetchone()[0]


def _widget(at, key: str):
    for kind in ("segmented_control", "toggle"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    return None


def _checked(at, role: str, state: str) -> None:
    assert not at.exception, f"{state}: {[e.value for e in at.exception]}"
    if role != "dsmb":
        sent = sent_bytes(at)
        assert not [arm for arm in UNUSUAL_ARMS if arm.encode() in sent], f"{state} sent an arm name to a {role}"


def test_the_registry_names_every_sectioned_page():
    assert set(WALKED) <= {p.url_path for p in TRIAL_PAGES}
    assert {"labs", "ascites", "survival", "safety"} <= set(WALKED)


# The DSMB also walks every section with one arm selected (the sidebar's Arm filter), where the other arm's
# empty curve, comparison or slide used to fail.
SELECTIONS = [(role, {}) for role in ROLES] + [("dsmb", {"arm": UNUSUAL_ARMS[0]}), ("dsmb", {"arm": UNUSUAL_ARMS[1]})]


@pytest.mark.parametrize("role, selection", SELECTIONS, ids=[f"{r}{'-' + s['arm'] if s else ''}" for r, s in SELECTIONS])
@pytest.mark.parametrize("page", WALKED)
def test_every_section_renders_for_every_role(database, page, role, selection):
    file = next(p.file for p in PAGES if p.url_path == page)
    at = run_page(file, role, selection)
    _checked(at, role, f"{page} default")
    walked = 0
    for control in (c for c in CONTROLS if c.page == page):
        for value in control.options:
            for key, needed in control.depends_on:
                _widget(at, key).set_value(needed).run()
            widget = _widget(at, control.key)
            assert widget is not None, f"{page}: no control {control.key!r} in the default state"
            widget.set_value(value).run()
            _checked(at, role, f"{page} {control.key}={value!r}")
            walked += 1
        # Back to the default, so the next control is walked from the page's default state.
        for key, _ in control.depends_on:
            _widget(at, key).set_value(next(c for c in CONTROLS if c.key == key).default).run()
        _widget(at, control.key).set_value(control.default).run()
    assert walked == sum(len(c.options) for c in CONTROLS if c.page == page)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", TRIAL_PAGES, ids=[p.url_path for p in TRIAL_PAGES])
def test_every_page_explains_an_empty_selection(database, page, role):
    params = {"q": "no-such-patient"} | ({"id": _first_patient(database)} if page.url_path == "patient" else {})
    at = run_page(page.file, role, params)
    _checked(at, role, f"{page.url_path} with an empty selection")
    shown = " ".join(m.value for m in at.info)
    if page.url_path == "monitoring":  # the charter's rules cover the whole trial: the page says it ignores filters
        assert "do not apply here" in shown or "no DSMB charter" in shown, shown
        return
    assert "No patients match" in shown or "not among the patients selected" in shown, shown


@pytest.mark.parametrize("role", ROLES)
def test_pages_of_other_actions_render(database, role):
    for page in (p for p in PAGES if p.action != "view_trial" and role in PERMISSIONS[p.action]):
        _checked(run_page(page.file, role), role, page.url_path)
