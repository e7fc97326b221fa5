"""The one result cache of the dashboard: TrialView queries and analyses results, keyed by data cut and blinding.

Streamlit-free, so the pages, the deck, the command line and the benchmark share the same cached path.
Keys always start with ``view.cache_key`` (database file, cut, checksum, whether arms are visible), so a
blinded and an unblinded caller can never share an entry, and a newly published cut never reads an old one.

Bounded by size, not count: at 100,000 patients one patient-level table is tens of MB, while an aggregate
is a few kB. Callers get a copy of every DataFrame held in the result (a cached frame mutated by one page
would otherwise change what the next user sees); result objects are rebuilt around copied parts, and what
cannot change (strings, numbers, dates, tuples of them) is shared.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import inspect
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

MAX_BYTES = 768 * 2**20


# Values of these types are never changed in place, so a cached one is handed out as it is.
_IMMUTABLE = (str, bytes, int, float, bool, complex, type(None), datetime.date, datetime.time, datetime.timedelta,
              np.generic, Decimal)
_SAMPLE = 64


def _all_immutable(items: tuple | list | frozenset) -> bool:
    # map(type, ...) runs in C: a 100,000-id tuple is checked in about a millisecond.
    return all(issubclass(t, _IMMUTABLE) for t in set(map(type, items)))


def _size(value: Any) -> int:
    """Approximate memory of a result: DataFrames by their buffers, containers and dataclasses by their parts.
    A long sequence of scalars (a list of patient ids) is sized from a sample, not item by item."""
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(index=True, deep=False).sum())
    if isinstance(value, pd.Series):
        return int(value.memory_usage(index=True, deep=False))
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(_size(k) + _size(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        if len(value) > _SAMPLE and _all_immutable(value):
            sample = list(value)[:_SAMPLE] if not isinstance(value, (list, tuple)) else value[:_SAMPLE]
            return sys.getsizeof(value) + len(value) * sum(map(sys.getsizeof, sample)) // len(sample)
        return sys.getsizeof(value) + sum(_size(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_size(getattr(value, f.name)) for f in dataclasses.fields(value))
    return sys.getsizeof(value)


def _copied(value: Any) -> Any:
    """A copy the caller may change without changing the cached result: DataFrames copied (their buffers; at
    100,000 patient rows a few ms), containers and dataclasses rebuilt around copied parts, immutable values
    (and sequences of them, such as patient ids) shared."""
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy()
    if isinstance(value, (tuple, frozenset)) and _all_immutable(value):
        return value
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple takes its fields one by one
        return type(value)(*(_copied(v) for v in value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_copied(v) for v in value)
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _copied(getattr(value, f.name))
                                             for f in dataclasses.fields(value) if f.init})
    return copy.deepcopy(value)


class ResultCache:
    """A thread-safe LRU of results bounded by their approximate size in bytes."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return _copied(entry[0])
            self.misses += 1
        # Computed outside the lock: two sessions asking for the same new result may both compute it,
        # which costs time once but never blocks every other user behind one slow query.
        value = compute()
        size = _size(value)
        with self._lock:
            if key not in self._entries and size <= self.max_bytes:
                self._entries[key] = (value, size)
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._bytes -= dropped
        return _copied(value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


RESULTS = ResultCache()


def call_arguments(signature: inspect.Signature, view: Any, args: tuple, kwargs: dict) -> tuple:
    """The arguments after ``view`` of a call to a function of ``signature``, bound with its defaults applied
    (so a call spelling a default out shares the entry of one that does not), lists as tuples: a cache key."""
    bound = signature.bind(view, *args, **kwargs)
    bound.apply_defaults()
    return tuple(tuple(v) if isinstance(v, list) else v for v in list(bound.arguments.values())[1:])


def cached(cache_key: tuple, name: str, args: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, cached under (``cache_key``, ``name``, ``args``) in the process-wide cache."""
    return RESULTS.get_or_compute((cache_key, name, args), compute)
