"""The "Meeting deck" control: builds the PPTX for the logged-in viewer and the current selection, on request.

Building takes a few seconds (figures are rendered by kaleido), so it happens only on a click, and the
download offered is always the deck of the current cut, blinding state and filter. The download is
recorded in the audit trail like every other export.
"""

from __future__ import annotations

import streamlit as st

from dashboard.errors import InsufficientData
from dashboard.reports.deck import MEDIA_TYPE, build_deck, deck_filename
from dashboard.ui.context import PageContext, record
from dashboard.ui.header import provenance


def deck_button(ctx: PageContext) -> None:
    """A "Build meeting deck" button, then a download button for the deck it built."""
    built_for = (ctx.viewer, ctx.view.cache_key, ctx.subject_filter)
    if st.button("Build meeting deck", key="deck_build", icon=":material/slideshow:",
                 help="Slides of the current selection for a meeting: status, survival, key labs, ascites, "
                      "infusion safety, adverse events. Blinded viewers get pooled slides."):
        with st.spinner("Building the deck…"):
            try:
                st.session_state["deck_file"] = (built_for, build_deck(ctx.view, ctx.subject_filter, provenance(ctx)))
            except InsufficientData as exc:
                st.info(str(exc))
                return
    built = st.session_state.get("deck_file")
    # A deck built for another viewer, cut or selection is never offered.
    if built and built[0] == built_for:
        name = deck_filename(ctx.view)
        st.download_button("Download deck (PPTX)", built[1], name, MEDIA_TYPE, key="deck_download",
                           icon=":material/download:", on_click=record, args=(ctx, "export", "deck"),
                           kwargs={"what": name, "filters": ctx.subject_filter.to_query_params(),
                                   "blinding": ctx.view.banner})
