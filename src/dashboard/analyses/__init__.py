"""Application layer: one function per page section, ``(view, filter, options) -> result``.

The single production path of every number the dashboard shows: the pages, the meeting deck, the
command line and the benchmark all call these functions, so a slide cannot drift from its page. No
Streamlit here. Each function takes the group column and arms from ``view`` (never from its arguments),
so a blinded viewer's call can only compute pooled results; results are cached in the one result cache
(:mod:`dashboard.cache`) under the view's cut and blinding state, the function and its arguments.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TypeVar

from dashboard.cache import cached, call_arguments

F = TypeVar("F", bound=Callable)


def analysis(fn: F) -> F:
    """Cache ``fn(view, ...)`` by the view's cut and blinding and its arguments (hashable: filters are frozen
    dataclasses, lists become tuples), bound to ``fn``'s signature (:func:`dashboard.cache.call_arguments`)."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def cached_analysis(view, *args, **kwargs):
        arguments = call_arguments(signature, view, args, kwargs)
        return cached(view.cache_key, name, arguments, lambda: fn(view, *arguments))

    return cached_analysis  # type: ignore[return-value]
