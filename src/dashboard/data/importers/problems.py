"""Data layer: collecting every validation problem of an import before anything is written.

Importers report problems here instead of raising at the first one, so a data manager sees all of
them at once (capped at ``LIMIT`` listed, all counted); ``raise_if_any`` turns them into one exception.
"""

from __future__ import annotations

from collections.abc import Iterable

from dashboard.errors import DashboardError, DataValidationError

LIMIT = 50


class ImportValidationError(DashboardError):
    """A delivery failed validation; carries every problem (``problems``) and the total count."""

    def __init__(self, problems: list[DataValidationError], total: int):
        self.problems, self.total = problems, total
        shown = f" (first {len(problems)} listed)" if total > len(problems) else ""
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{total} problem(s) found in the delivery{shown}; nothing was written and the "
                         f"current data cut is unchanged. Correct the files and import again.\n{lines}")


class Problems:
    """Problems and warnings of one import run."""

    def __init__(self, limit: int = LIMIT):
        self.items: list[DataValidationError] = []
        self.total = 0
        self.limit = limit
        self.warnings: list[str] = []

    def add(self, file: str, row: int | None, column: str | None, found: object, expected: str) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(DataValidationError(file, row, column, found, expected))

    def add_rows(self, file: str, rows: Iterable, column: str | None, found: Iterable, expected: str) -> None:
        """One problem per (row, value) pair; counts all, lists up to the limit."""
        for row, value in zip(rows, found):
            self.add(file, None if row is None else int(row), column, value, expected)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_if_any(self) -> None:
        if self.total:
            raise ImportValidationError(list(self.items), self.total)
