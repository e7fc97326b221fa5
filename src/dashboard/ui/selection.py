"""Plotly selections that open patients: one selected patient opens the profile, several are listed.

Figures put the ``usubjid`` in each point's ``customdata`` (scalar, or first element of a list), so a
click or a box/lasso selection maps back to patients without another query.
"""

from __future__ import annotations

import streamlit as st

from dashboard.ui.sections import PATIENT_PAGE

# More links than this is a screenful; the caption says how many were selected.
MAX_LINKS = 20


def selected_patients(event) -> list[str]:
    """Distinct usubjids of the selected points, in selection order."""
    points = event.selection.points if event else []
    ids = []
    for p in points:
        data = p.get("customdata")
        uid = data[0] if isinstance(data, (list, tuple)) and data else data
        if isinstance(uid, str) and uid not in ids:
            ids.append(uid)
    return ids


def open_selected_patients(event) -> None:
    """Open the profile of a single selected patient; link each patient when several are selected."""
    ids = selected_patients(event)
    if len(ids) == 1:
        st.switch_page(PATIENT_PAGE, query_params={"id": ids[0]})
    if ids:
        st.caption(f"{len(ids)} patients selected" + (f"; the first {MAX_LINKS} are linked." if len(ids) > MAX_LINKS
                                                      else "; open a profile:"))
        cols = st.columns(5)
        for k, uid in enumerate(ids[:MAX_LINKS]):
            cols[k % 5].page_link(PATIENT_PAGE, label=uid, query_params={"id": uid})
