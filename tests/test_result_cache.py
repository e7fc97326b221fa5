"""The one result cache: callers get copies they may change, immutable values are shared, the size bound holds."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import pandas as pd

from dashboard.cache import ResultCache, _size


@dataclass(frozen=True)
class Result:
    table: pd.DataFrame
    groups: tuple[str, ...]
    parts: tuple


class Pair(NamedTuple):
    label: str
    frame: pd.DataFrame


def test_a_caller_changing_its_copy_does_not_change_the_cached_result():
    cache = ResultCache()
    made = Result(pd.DataFrame({"x": [1.0, 2.0]}), ("A", "B"), (("label", pd.DataFrame({"y": [1]})),))
    first = cache.get_or_compute("k", lambda: made)
    first.table.loc[0, "x"] = -1
    first.parts[0][1].loc[0, "y"] = -1
    second = cache.get_or_compute("k", lambda: None)
    assert second.table["x"].tolist() == [1.0, 2.0] and second.parts[0][1]["y"].tolist() == [1]
    assert cache.hits == 1 and cache.misses == 1


def test_immutable_values_are_shared_and_named_tuples_keep_their_type():
    ids = tuple(f"P{i:06d}" for i in range(100_000))
    cache = ResultCache()
    assert cache.get_or_compute("ids", lambda: ids) is ids
    pair = cache.get_or_compute("pair", lambda: Pair("a", pd.DataFrame({"v": [1]})))
    assert isinstance(pair, Pair) and pair.label == "a"
    assert cache.get_or_compute("day", lambda: date(2026, 1, 2)) == date(2026, 1, 2)


def test_a_long_id_list_is_sized_from_a_sample_within_a_few_percent():
    ids = [f"P{i:06d}" for i in range(100_000)]
    exact = sys.getsizeof(ids) + sum(map(sys.getsizeof, ids))
    assert abs(_size(ids) - exact) / exact < 0.1


def test_the_cache_stays_within_its_byte_bound_dropping_the_least_recently_used():
    frame = pd.DataFrame({"x": range(10_000)})  # about 80 kB
    cache = ResultCache(max_bytes=3 * _size(frame))
    for key in "abcd":
        cache.get_or_compute(key, lambda: frame)
    assert len(cache) == 3 and cache.size_bytes <= cache.max_bytes
    cache.get_or_compute("a", lambda: frame)
    assert cache.misses == 5  # "a" was dropped first
