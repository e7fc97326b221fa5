"""Notice a new data cut within seconds: when the database file is swapped, rerun onto the new cut."""

from __future__ import annotations

import os

import streamlit as st

from dashboard import config
from dashboard.access.trial_view import TrialView


def _file_identity() -> tuple[int, int] | None:
    try:
        stat = os.stat(config.db_path())
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def remember_cut(view: TrialView) -> None:
    """Record which file this session is showing, and announce a cut that was just picked up."""
    previous = st.session_state.get("shown_cut")
    st.session_state["shown_file"] = _file_identity()
    st.session_state["shown_cut"] = view.checksum
    if previous is not None and previous != view.checksum:
        cut = view.cut()
        st.toast(f"New data cut loaded: cut {cut['cut_id']} of {cut['cut_date']:%Y-%m-%d}.", icon=":material/update:")


@st.fragment(run_every=5)
def watch_for_new_cut() -> None:
    """Runs every 5 s on its own; reruns the whole app when an atomic rename put a new file in place."""
    identity = _file_identity()
    if identity is not None and identity != st.session_state.get("shown_file"):
        st.rerun(scope="app")
