"""Entry points pages use for TrialView queries and page-level results; neither uses Streamlit's caching.

Both go through the one result cache (:mod:`dashboard.cache`), keyed by ``view.cache_key`` (the database
file, cut and checksum, and whether arms are visible) plus a name and the arguments, so a blinded and an
unblinded call never share an entry, and pages, the deck, the command line and the benchmark share the
same answers. ``query`` is the older spelling of a TrialView call, kept until pages call
``view.<method>(...)`` directly: every declared query caches itself (:mod:`dashboard.access.query_registry`).
``computed`` caches the (small) results of the statistics, so a rerun with the same filter neither
queries nor recomputes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dashboard.access.trial_view import TrialView
from dashboard.cache import cached

T = TypeVar("T")


def query(view: TrialView, method: str, *args):
    """``view.<method>(*args)``, which caches itself."""
    return getattr(view, method)(*args)


def computed(view: TrialView, fn: Callable[..., T], *args) -> T:
    """``fn(view, *args)``, cached by the view's cut and blinding, ``fn``'s qualified name and ``args``.

    ``fn`` must be a pure function of the view's data and ``args`` (a module-level function, so its
    name identifies it), taking group columns and arms from ``view`` itself, never from ``args``.
    """
    return cached(view.cache_key, f"{fn.__module__}.{fn.__qualname__}", args, lambda: fn(view, *args))
