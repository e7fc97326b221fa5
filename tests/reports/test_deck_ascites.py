"""The deck's ascites slide says whom its percentages count, with the page's own sentence (one production path:
analyses.ascites.summaries), small counts written "<5" in the blinded deck's notes."""

from __future__ import annotations

import re

import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.analyses import ascites
from dashboard.domain.disclosure import SUPPRESSED
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.reports.deck_slides import ascites_slide, deck_data
from tests.conftest import connect_unblinded

WOMEN = SubjectFilter(sex=("F",))


@pytest.fixture(scope="module")
def views(unusual_arms_db):
    con = connect_unblinded(unusual_arms_db)
    yield {role: TrialView(con, Viewer("deck", role), unusual_arms_db) for role in ("dsmb", "investigator")}
    con.close()


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_ascites_slide_notes_carry_the_population_note(views, role):
    view = views[role]
    notes = ascites_slide(deck_data(view, WOMEN)).notes
    note = ascites.summaries(view, WOMEN).population.note
    assert note.startswith("Each visit counts") and "Not counted at" in note and notes.endswith(note)
    small = re.search(r"\b[1-4] (died|transplanted|withdrawn or lost|not assessed|not yet due)", note)
    assert bool(small) == (role == "dsmb")
    assert (SUPPRESSED in note) == (role == "investigator")
