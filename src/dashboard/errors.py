"""Typed errors shared by every layer. Messages say what was found, then what to do."""


class DashboardError(Exception):
    """Base class of the dashboard's own errors."""


class DataValidationError(DashboardError):
    """A delivered file does not meet the data model; names file, row, column and expectation."""

    def __init__(self, file: str, row: int | None, column: str | None, found: object, expected: str):
        self.file, self.row, self.column, self.found, self.expected = file, row, column, found, expected
        where = file + (f", row {row}" if row is not None else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: found {found!r}; expected {expected}.")


class AccessDenied(DashboardError):
    """The viewer's role does not allow the requested action or data."""


class InsufficientData(DashboardError):
    """Too few patients or events for the requested statistic; the UI shows this as information."""


class UnsuitableData(InsufficientData, ValueError):
    """The data do not allow the requested statistic (several values at one visit, a lab without a reference
    range); shown as information like InsufficientData. A ValueError too, as the checks that raised it were."""
