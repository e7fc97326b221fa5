"""Cached entry points for TrialView queries and for page-level results, keyed by data cut, blinding
state and arguments.

The caches are shared by all users, so the key must include everything that changes the answer: the
database file and cut (``view.cache_key``, which also carries whether arms are visible) plus the
filter and page arguments. A blinded and an unblinded call can therefore never share an entry.

Both caches are bounded: at 100,000 patients one cached row-level table is tens of MB, and
``st.cache_data`` also keeps its pickled copy. ``computed`` caches the (small) results of the
statistics, so a rerun with the same filter neither queries nor recomputes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from dashboard.access.trial_view import TrialView

T = TypeVar("T")


@st.cache_data(max_entries=128, show_spinner=False)
def _cached_call(_view: TrialView, cache_key: tuple, method: str, args: tuple):
    return getattr(_view, method)(*args)


@st.cache_data(max_entries=64, show_spinner=False)
def _cached_result(_view: TrialView, cache_key: tuple, _fn: Callable, fn_name: str, args: tuple):
    return _fn(_view, *args)


def query(view: TrialView, method: str, *args):
    """``view.<method>(*args)``, cached."""
    return _cached_call(view, view.cache_key, method, args)


def computed(view: TrialView, fn: Callable[..., T], *args) -> T:
    """``fn(view, *args)``, cached by the view's cut and blinding, ``fn``'s qualified name and ``args``.

    ``fn`` must be a pure function of the view's data and ``args`` (a module-level function, so its
    name identifies it), taking group columns and arms from ``view`` itself, never from ``args``.
    """
    return _cached_result(view, view.cache_key, fn, f"{fn.__module__}.{fn.__qualname__}", args)
