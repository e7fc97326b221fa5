"""The global patient filter as a value object that round-trips through the URL query string.

Every URL value is parsed and validated here; invalid values are dropped with a note rather than
raising, because a shared link with a stale value should still open. The arm criterion is kept only
for viewers who may see arms (the access layer refuses it for anyone else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LIST_KEYS = ("site", "sex", "etiology", "lf_type", "status", "arm")
# Every query-string key the filter owns; pages keep their own keys (such as /patient?id=) apart.
QUERY_KEYS = LIST_KEYS + ("age_min", "age_max", "meld_min", "meld_max", "q")


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
            raw = params.get(key, "")
            if not raw:
                continue
            values = tuple(v for v in (s.strip() for s in raw.split(",")) if v)
            if key == "arm" and not allow_arm:
                notes.append("The arm criterion was removed: this view is blinded.")
                continue
            if allowed is not None and key in allowed:
                unknown = [v for v in values if v not in allowed[key]]
                if unknown:
                    notes.append(f"Ignored unknown {key} value(s): {', '.join(unknown)}.")
                values = tuple(v for v in values if v in allowed[key])
            kwargs[key] = values
        for key, cast in (("age_min", int), ("age_max", int), ("meld_min", float), ("meld_max", float)):
            raw = params.get(key)
            if raw in (None, ""):
                continue
            try:
                kwargs[key] = cast(raw)
            except ValueError:
                notes.append(f"Ignored {key}={raw!r}: expected a number.")
        if params.get("q"):
            kwargs["id_search"] = str(params["q"]).strip()[:40]
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

