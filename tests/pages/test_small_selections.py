"""A blinded view shows no pooled summary of fewer than 5 patients (issue 16: blinded survival and AE summaries
were shown for a selection of one patient); the DSMB's view of the same selection is shown, and so is a
blinded selection of 5."""

from __future__ import annotations

import pytest

from dashboard.access.viewer import Viewer
from dashboard.domain.disclosure import SMALL_CELL
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import InsufficientData
from dashboard.reports.deck_slides import deck_data
from tests.pages.apptest_helpers import run_page

PAGES = ["pages/overview.py", "pages/labs.py", "pages/ascites.py", "pages/survival.py", "pages/safety.py"]
ONE_PATIENT = {"q": "MSC-0007"}
FIVE_PATIENTS = {"q": "MSC-000", "age_min": "18"}  # MSC-0001 .. MSC-0009, at least five of them


def _infos(at) -> str:
    return " ".join(i.value for i in at.info)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["investigator", "data_manager"])
def test_blinded_summaries_of_one_patient_are_not_shown(app_env, page, role):
    at = run_page(page, role, ONE_PATIENT)
    assert not at.exception
    assert f"pooled summaries of fewer than {SMALL_CELL} patients are not shown" in _infos(at)
    assert not at.dataframe and not at.get("plotly_chart")


@pytest.mark.parametrize("page", PAGES)
def test_the_dsmb_sees_the_same_selection(app_env, page):
    at = run_page(page, "dsmb", ONE_PATIENT)
    assert not at.exception
    assert "are not shown" not in _infos(at)


def test_a_blinded_selection_of_five_or_more_is_shown(app_env):
    at = run_page("pages/survival.py", "investigator", FIVE_PATIENTS)
    assert not at.exception and "are not shown" not in _infos(at) and at.get("plotly_chart")


def test_the_blinded_deck_refuses_a_small_selection(trial_db):
    from dashboard.access.opening import open_trial_view

    blinded = open_trial_view(Viewer("i", "investigator"), trial_db)
    with pytest.raises(InsufficientData, match="pools no fewer than 5"):
        deck_data(blinded, SubjectFilter(id_search="MSC-0007"))
    assert deck_data(open_trial_view(Viewer("d", "dsmb"), trial_db), SubjectFilter(id_search="MSC-0007"))
