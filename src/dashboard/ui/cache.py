"""One cached entry point for TrialView queries, keyed by data cut, blinding state and arguments.

The cache is shared by all users, so the key must include everything that changes the answer: the
database file and cut (``view.cache_key``, which also carries whether arms are visible) plus the
filter and page arguments. A blinded and an unblinded call can therefore never share an entry.
"""

from __future__ import annotations

import streamlit as st

from dashboard.access.trial_view import TrialView


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_call(_view: TrialView, cache_key: tuple, method: str, args: tuple):
    return getattr(_view, method)(*args)


def query(view: TrialView, method: str, *args):
    """``view.<method>(*args)``, cached."""
    return _cached_call(view, view.cache_key, method, args)
