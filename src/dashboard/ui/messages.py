"""User states that are not errors: explain, say what to do, stop the page."""

from __future__ import annotations

import streamlit as st

from dashboard.domain.disclosure import SMALL_CELL
from dashboard.domain.subject_filter import SubjectFilter


def stop_if_no_patients(n: int, subject_filter: SubjectFilter, *, blinded: bool = False) -> None:
    """Stop with an explanation when the selection is empty, or, for a blinded viewer's pooled summaries,
    smaller than the small-cell threshold: a mean, a curve or an AE count of one to four patients points at
    those patients (and their reactions to treatment at their arm), as a table cell below 5 would."""
    if n == 0:
        st.info(f"No patients match the current filters ({subject_filter.describe()}). Widen the filters in the sidebar.")
        st.stop()
    if blinded and n < SMALL_CELL:
        st.info(f"Only {n} patient{'s' if n > 1 else ''} match the current filters ({subject_filter.describe()}): "
                f"pooled summaries of fewer than {SMALL_CELL} patients are not shown in a blinded view. Widen the "
                "filters in the sidebar, or open each patient's profile from the Patients page.")
        st.stop()


def stop_with_info(message: str) -> None:
    st.info(message)
    st.stop()
