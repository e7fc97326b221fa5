"""The global patient filter as a value object that round-trips through the URL query string.

Every URL value is parsed and validated here; invalid values are dropped with a note rather than
raising, because a shared link with a stale value should still open. The arm criterion is kept only
for viewers who may see arms (the access layer refuses it for anyone else).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

LIST_KEYS = ("site", "sex", "etiology", "lf_type", "status", "arm")
# Every query-string key the filter owns; pages keep their own keys (such as /patient?id=) apart.
QUERY_KEYS = LIST_KEYS + ("age_min", "age_max", "meld_min", "meld_max", "q")
# The sidebar sliders' ends: a URL bound outside them could not be shown (or changed) there.
AGE_RANGE = (18, 80)
MELD_RANGE = (6, 40)
# (min key, max key, cast, range) of each numeric criterion.
RANGES = (("age_min", "age_max", int, AGE_RANGE), ("meld_min", "meld_max", float, MELD_RANGE))
MAX_LIST_CHARS = 1000  # a URL list longer than this is not a real selection
MAX_ID_SEARCH = 40
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")  # plain decimals only: no nan, inf, 1e999, 0x10, 1_000


def _shown(raw: str) -> str:
    """A URL value as a note quotes it: repr (control characters visible), cut short."""
    return repr(raw if len(raw) <= 24 else raw[:24] + "...")


def _number(key: str, raw: str, cast, bounds: tuple[int, int]) -> tuple[int | float | None, str | None]:
    """(value, None) for a valid bound, or (None, note) for one to drop."""
    lo, hi = bounds
    text = raw.strip()
    if len(text) > 16 or not _DECIMAL.fullmatch(text):
        return None, f"Ignored {key}={_shown(raw)}: expected a number from {lo} to {hi}."
    value = float(text)
    if not math.isfinite(value) or not lo <= value <= hi:
        return None, f"Ignored {key}={_shown(raw)}: outside {lo}-{hi}."
    if cast is int and not value.is_integer():
        return None, f"Ignored {key}={_shown(raw)}: expected a whole number."
    return cast(value), None


@dataclass(frozen=True)
class SubjectFilter:
    site: tuple[str, ...] = ()
    sex: tuple[str, ...] = ()
    etiology: tuple[str, ...] = ()
    lf_type: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    arm: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    meld_min: float | None = None
    meld_max: float | None = None
    id_search: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False, hash=False)

    def to_query_params(self) -> dict[str, str]:
        """Only non-default criteria, lists comma-separated, so links stay short and stable."""
        params: dict[str, str] = {}
        for key in LIST_KEYS:
            values = getattr(self, key)
            if values:
                params[key] = ",".join(values)
        for key in ("age_min", "age_max", "meld_min", "meld_max"):
            value = getattr(self, key)
            if value is not None:
                params[key] = f"{value:g}" if isinstance(value, float) else str(value)
        if self.id_search:
            params["q"] = self.id_search
        return params

    @classmethod
    def from_query_params(cls, params: Mapping[str, str], *, allowed: Mapping[str, tuple[str, ...]] | None = None,
                          allow_arm: bool = False) -> SubjectFilter:
        """Parse URL values; unknown list values (per ``allowed``) and malformed numbers are dropped with a note."""
        notes: list[str] = []
        kwargs: dict = {}
        for key in LIST_KEYS:
            raw = str(params.get(key) or "")
            if not raw:
                continue
            if key == "arm" and not allow_arm:
                notes.append("The arm criterion was removed: this view is blinded.")
                continue
            if len(raw) > MAX_LIST_CHARS:
                notes.append(f"Ignored {key}: {len(raw)} characters is not a selection.")
                continue
            values = tuple(dict.fromkeys(v for v in (s.strip() for s in raw.split(",")) if v))
            if allowed is not None and key in allowed:
                unknown = [v for v in values if v not in allowed[key]]
                if unknown:
                    more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
                    shown = ", ".join(_shown(v) for v in unknown[:3]) + more
                    notes.append(f"Ignored unknown {key} value(s): {shown}.")
                values = tuple(v for v in values if v in allowed[key])
            kwargs[key] = values
        for lo_key, hi_key, cast, bounds in RANGES:
            for key in (lo_key, hi_key):
                raw = str(params.get(key) or "")
                if raw:
                    kwargs[key], note = _number(key, raw, cast, bounds)
                    notes += [note] if note else []
            if kwargs.get(lo_key) is not None and kwargs.get(hi_key) is not None and kwargs[lo_key] > kwargs[hi_key]:
                notes.append(f"Ignored {lo_key}={kwargs[lo_key]:g} and {hi_key}={kwargs[hi_key]:g}: "
                             "the minimum is above the maximum.")
                kwargs[lo_key] = kwargs[hi_key] = None
        q = str(params.get("q") or "").strip()
        if len(q) > MAX_ID_SEARCH or not q.isprintable():
            notes.append(f"Ignored the patient id search {_shown(q)}: at most {MAX_ID_SEARCH} printable characters.")
        elif q:
            kwargs["id_search"] = q
        return cls(**kwargs, notes=tuple(notes))

    def describe(self) -> str:
        """The population in words, for captions and export footers."""
        parts = []
        labels = {"site": "site", "sex": "sex", "etiology": "etiology", "lf_type": "LF type", "status": "status", "arm": "arm"}
        for key, label in labels.items():
            values = getattr(self, key)
            if values:
                parts.append(f"{label} = {', '.join(values)}")
        for label, lo, hi in (("age", self.age_min, self.age_max), ("baseline MELD", self.meld_min, self.meld_max)):
            if lo is not None or hi is not None:
                parts.append(f"{label} {'' if lo is None else f'{lo:g}'}-{'' if hi is None else f'{hi:g}'}")
        if self.id_search:
            parts.append(f"id contains '{self.id_search}'")
        return "All randomised patients" if not parts else "Patients with " + "; ".join(parts)

