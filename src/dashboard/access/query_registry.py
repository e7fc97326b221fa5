"""Every query a TrialView answers, declared once with its kind, and cached wherever it is called from.

``@patient_level`` (rows about individual patients), ``@aggregate`` (counts and statistics over patients)
and ``@metadata`` (study, cuts, schedule, parameters) each do two things to a TrialView method:

- register it in ``QUERIES`` (name -> :class:`QuerySpec`), which the blinding tests walk, so a new query
  cannot escape them;
- cache its result in :mod:`dashboard.cache` under (``view.cache_key``, name, arguments), so
  ``view.subjects(f)`` is cached for pages, analyses, the deck and the command line alike. The key
  starts with ``view.cache_key``, which carries whether the viewer sees arms: a blinded and an
  unblinded caller never share an entry.

The access check runs on every call, before the cache is read (``view.authorise``): an arm criterion
from a blinded viewer, or a query declared ``arms_only``, is refused even when an answer is cached.

Arguments are part of the key, so they must be hashable: SubjectFilter is a frozen dataclass, lists
are keyed as tuples. A result that also depends on files beside the database (kept cuts) declares
``depends_on_disk``: a function of the view whose value (e.g. the kept files' sizes and times) joins
the key, so deleting or adding a kept copy is seen at the next call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from dashboard.cache import cached, call_arguments

Kind = Literal["patient_level", "aggregate", "metadata"]
F = TypeVar("F", bound=Callable[..., Any])


class QueryView(Protocol):
    """What a declared query needs of the view it runs on."""

    cache_key: tuple

    def authorise(self, spec: QuerySpec, args: tuple) -> None: ...


@dataclass(frozen=True)
class QuerySpec:
    """One declared query: ``kind`` of data it returns, whether only a viewer who sees arms may ask it
    (``arms_only``), and what on disk beside the database its answer depends on (``depends_on_disk``)."""

    name: str
    kind: Kind
    doc: str = ""
    arms_only: bool = False
    depends_on_disk: Callable[[Any], Hashable] | None = None


QUERIES: dict[str, QuerySpec] = {}


def _declare(kind: Kind, method: F | None = None, /, *, arms_only: bool = False,
             depends_on_disk: Callable[[Any], Hashable] | None = None) -> Any:
    """Register ``method`` as a ``kind`` query and cache it; usable bare (``@aggregate``) or with options
    (``@aggregate(arms_only=True)``)."""
    def declare(method: F) -> F:
        name = method.__name__
        if name in QUERIES:
            raise ValueError(f"query {name!r} is declared twice")
        spec = QuerySpec(name, kind, inspect.getdoc(method) or "", arms_only, depends_on_disk)
        QUERIES[name] = spec
        signature = inspect.signature(method)

        @functools.wraps(method)
        def run(view: QueryView, *args: Any, **kwargs: Any) -> Any:
            arguments = call_arguments(signature, view, args, kwargs)
            view.authorise(spec, arguments)
            try:
                hash(arguments)
            except TypeError:
                raise TypeError(f"{name}: arguments must be hashable to be cached (tuples, not sets or dicts), "
                                f"got {arguments!r}") from None
            key = arguments if depends_on_disk is None else (*arguments, ("on disk", depends_on_disk(view)))
            return cached(view.cache_key, name, key, lambda: method(view, *arguments))

        return run  # type: ignore[return-value]

    return declare if method is None else declare(method)


# Rows about individual patients.
patient_level = functools.partial(_declare, "patient_level")
# Counts or statistics over patients.
aggregate = functools.partial(_declare, "aggregate")
# The study, its cuts, visit schedule and parameters.
metadata = functools.partial(_declare, "metadata")
