"""The header every page shows: blinding banner with viewer and role, study, data cut, selection count."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from dashboard.access.viewer import BLINDED_BANNER
from dashboard.reports.provenance import provenance_line, with_generated
from dashboard.ui.context import PageContext


def header(ctx: PageContext) -> None:
    view = ctx.view
    study = view.study()
    selected, total = view.count_subjects(ctx.subject_filter)
    colour = "blue" if view.banner == BLINDED_BANNER else "red"
    st.markdown(
        f":{colour}-background[**{view.banner}**] &nbsp; Viewer: **{ctx.viewer.label}**",
        help="Blinded views pool both arms; the treatment arm never reaches a blinded viewer's browser.",
    )
    st.caption(f"{study['study_id']} · {study['title']} · data cut {study['data_cut_date']:%Y-%m-%d} · "
               f"**{selected} of {total} patients selected**")


def provenance(ctx: PageContext) -> str:
    """One line naming study, cut, population, blinding, app version and the time it was generated,
    for figure footers and downloads (the same words as the meeting deck's)."""
    view = ctx.view
    line = provenance_line(view.study(), view.checksum, ctx.subject_filter, view.banner)
    return with_generated(line, datetime.now(timezone.utc))
