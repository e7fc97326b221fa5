"""The one result cache of the dashboard: TrialView queries and analyses results, keyed by data cut and blinding.

Streamlit-free, so the pages, the deck, the command line and the benchmark share the same cached path.
Keys always start with ``view.cache_key`` (database file, cut, checksum, whether arms are visible), so a
blinded and an unblinded caller can never share an entry, and a newly published cut never reads an old one.

Bounded by size, not count: at 100,000 patients one patient-level table is tens of MB, while an aggregate
is a few kB. Callers get a copy of every DataFrame held in the result (a cached frame mutated by one page
would otherwise change what the next user sees); frozen result objects are copied field by field.
"""

from __future__ import annotations

import copy
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd

MAX_BYTES = 768 * 2**20


def _size(value: Any, seen: set[int] | None = None) -> int:
    """Approximate memory of a result: DataFrames by their buffers, containers and dataclasses by their parts."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return int(value.memory_usage(index=True, deep=False).sum()) if isinstance(value, pd.DataFrame) \
            else int(value.memory_usage(index=True, deep=False))
    if isinstance(value, dict):
        return sum(_size(k, seen) + _size(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(_size(v, seen) for v in value) + sys.getsizeof(value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(_size(getattr(value, name), seen) for name in value.__dataclass_fields__)
    return sys.getsizeof(value)


def _copied(value: Any) -> Any:
    # deepcopy copies DataFrames (and frozen dataclasses holding them) without pickling: at 100,000
    # patient rows that costs a few ms, less than the query it saves.
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


def cached(cache_key: tuple, name: str, args: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, cached under (``cache_key``, ``name``, ``args``) in the process-wide cache."""
    return RESULTS.get_or_compute((cache_key, name, args), compute)
