"""User states that are not errors: explain, say what to do, stop the page."""

from __future__ import annotations

import streamlit as st

from dashboard.domain.subject_filter import SubjectFilter


def stop_if_no_patients(n: int, subject_filter: SubjectFilter) -> None:
    if n == 0:
        st.info(f"No patients match the current filters ({subject_filter.describe()}). Widen the filters in the sidebar.")
        st.stop()


def stop_with_info(message: str) -> None:
    st.info(message)
    st.stop()
