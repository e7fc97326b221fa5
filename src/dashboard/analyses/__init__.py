"""Application layer: one function per page section, ``(view, filter, options) -> result``.

The single production path of every number the dashboard shows: the pages, the meeting deck, the
command line and the benchmark all call these functions, so a slide cannot drift from its page. No
Streamlit here. Each function takes the group column and arms from ``view`` (never from its arguments),
so a blinded viewer's call can only compute pooled results; results are cached in the one result cache
(:mod:`dashboard.cache`) under the view's cut and blinding state, the function and its arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from dashboard.cache import cached

F = TypeVar("F", bound=Callable)

ANALYSES: dict[str, Callable] = {}


def analysis(fn: F) -> F:
    """Register ``fn(view, *args)`` as an analysis and cache it by the view's cut and blinding and ``args``
    (positional, hashable: filters are frozen dataclasses, lists are passed as tuples)."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def cached_analysis(view, *args):
        return cached(view.cache_key, name, args, lambda: fn(view, *args))

    ANALYSES[name] = cached_analysis
    return cached_analysis  # type: ignore[return-value]
