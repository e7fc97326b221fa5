"""The app's deck button builds the logged-in viewer's deck only when clicked and offers it for download."""

from __future__ import annotations

import io

from pptx import Presentation
from streamlit.testing.v1 import AppTest


def _script(role: str) -> None:
    import os

    from dashboard.access.audit import AuditLog
    from dashboard.access.opening import open_trial_view
    from dashboard.access.viewer import Viewer
    from dashboard.domain.subject_filter import SubjectFilter
    from dashboard.ui.context import PageContext
    from dashboard.ui.deck_button import deck_button

    db = os.environ["DASHBOARD_DB"]
    view = open_trial_view(Viewer("someone", role), db)
    deck_button(PageContext(view, SubjectFilter(sex=("F",)), AuditLog(os.environ["DASHBOARD_AUDIT"])))


def test_deck_is_built_on_click_for_the_viewer_and_offered_for_download(app_env):
    at = AppTest.from_function(_script, args=("investigator",), default_timeout=120).run()
    assert not at.exception and "deck_file" not in at.session_state  # nothing built before the click
    at.button(key="deck_build").click().run()
    assert not at.exception
    _, data = at.session_state["deck_file"]
    title = Presentation(io.BytesIO(data)).slides[0].shapes[-1].text_frame.text
    assert "BLINDED: pooled data" in title and "Patients with sex = F" in title
    [download] = at.get("download_button")
    assert download.proto.label == "Download deck (PPTX)"
