"""The header every page shows: blinding banner with viewer and role, study, data cut, selection count."""

from __future__ import annotations

import streamlit as st

from dashboard.access.viewer import BLINDED_BANNER
from dashboard.ui.cache import query
from dashboard.ui.context import PageContext


def header(ctx: PageContext) -> None:
    view = ctx.view
    study = query(view, "study")
    selected, total = query(view, "count_subjects", ctx.subject_filter)
    colour = "blue" if view.banner == BLINDED_BANNER else "red"
    st.markdown(
        f":{colour}-background[**{view.banner}**] &nbsp; Viewer: **{ctx.viewer.label}**",
        help="Blinded views pool both arms; the treatment arm never reaches a blinded viewer's browser.",
    )
    st.caption(f"{study['study_id']} · {study['title']} · data cut {study['data_cut_date']:%Y-%m-%d} · "
               f"**{selected} of {total} patients selected**")


def provenance(ctx: PageContext) -> str:
    """One line naming study, cut, population and blinding, for figure footers and downloads."""
    from dashboard import __version__

    view = ctx.view
    study = query(view, "study")
    return (f"{study['study_id']} · data cut {study['data_cut_date']:%Y-%m-%d} (checksum {view.checksum[:8]}) · "
            f"{ctx.subject_filter.describe()} · {view.banner} · app {__version__}")
