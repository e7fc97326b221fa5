"""/data's work outside the page: run an uploaded delivery through the importer and describe the outcome.

The upload is written to a temporary file and handed to the importer as it is: the importer's own
reader opens the .zip in memory and refuses members whose path leaves the archive, so nothing is
ever extracted here. Checking and publishing run the same validation; publishing then swaps the new
cut in atomically (``import_cut``), so a rejected delivery leaves the database byte-identical. A DSMB
charter uploaded beside the delivery is previewed as soon as it is chosen (:func:`preview_charter`) and is
checked again, first, when the delivery is checked or published.
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from dashboard.data.charters import charter_from_bytes
from dashboard.data.importers.cuts import DatabaseBusy
from dashboard.data.importers.pipeline import ImportSettings, build_tables, import_cut
from dashboard.data.importers.problems import ImportValidationError
from dashboard.data.schema import ARM_REVEALING_SOURCE_COLUMNS
from dashboard.domain.charter import Charter, CharterError

REPORT_COLUMNS = ("file", "row", "column", "found", "expected")
# The delivery's arm and product columns (listed once, in the schema): a data manager is a blinded role,
# so the report never repeats a value found there (it would tell one patient's arm).
ARM_REVEALING = ARM_REVEALING_SOURCE_COLUMNS
HIDDEN = "(not shown: reveals the treatment arm)"
# write_trial names its temporary file by process id, so two publishes in one server must not overlap.
_PUBLISH_LOCK = threading.Lock()


@dataclass(frozen=True)
class Delivery:
    """What the data manager chose on /data."""

    name: str
    content: bytes
    format: str
    cut_date: date
    reference_arm: str | None = None
    mapping_name: str | None = None
    mapping: bytes | None = None
    charter_name: str | None = None
    charter: bytes | None = None


@dataclass(frozen=True)
class Outcome:
    """One check or publish: ``report`` lists every problem (empty when the delivery passed)."""

    publish: bool
    upload: str
    report: pd.DataFrame
    total_problems: int = 0
    row_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: tuple[str, ...] = ()
    cut: dict | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.total_problems == 0


def _row(problem, file_names: dict[str, str]) -> dict:
    row = {"file": file_names.get(problem.file, problem.file), "row": problem.row, "column": problem.column,
           "found": str(problem.found), "expected": problem.expected}
    if str(problem.column or "").lower() in ARM_REVEALING:
        if problem.found not in (None, ""):
            row["found"] = HIDDEN
        # "--reference-arm naming one of the arms: A, B" keeps its first part only.
        head, listed, _ = problem.expected.partition(": ")
        row["expected"] = f"{head} (names not shown: they reveal the treatment arms)" if listed else head
    return row


def problem_report(exc: ImportValidationError, file_names: dict[str, str] | None = None) -> pd.DataFrame:
    """file, row, column, found, expected: one row per listed problem, with arm values hidden and
    files named as the data manager knows them (``file_names``: temporary path -> upload name)."""
    rows = [_row(p, file_names or {}) for p in exc.problems]
    report = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    report["row"] = report["row"].astype("Int64")
    return report


def preview_charter(name: str, content: bytes) -> Charter:
    """The uploaded charter, parsed as the import will parse it; raises CharterError naming the upload."""
    return charter_from_bytes(content, name)


def charter_report(exc: CharterError, name: str) -> pd.DataFrame:
    """file, row, column, found, expected: one row per charter problem ("<name>: <field>: <reason> (got <value>)"
    becomes column = field, found = value, expected = reason)."""
    rows = []
    for problem in exc.problems:
        rest = problem.removeprefix(f"{name}: ")
        field, _, detail = rest.partition(": ")
        reason, got, found = detail.rpartition(" (got ")
        if not got:  # not in the usual form: show it whole
            field, reason, found = None, rest, ""
        rows.append({"file": name, "row": None, "column": field, "found": found.removesuffix(")"),
                     "expected": reason})
    report = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    report["row"] = report["row"].astype("Int64")
    return report


def _safe_name(name: str, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).stem) or "delivery"
    return f"{stem}{suffix}"


def run_delivery(delivery: Delivery, db: Path, *, publish: bool, who: str) -> Outcome:
    """Validate ``delivery`` (and, with ``publish``, write it as the next cut of ``db``)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dashboard-upload-") as tmp:
        source = Path(tmp) / _safe_name(delivery.name, ".zip")
        source.write_bytes(delivery.content)
        mapping = None
        if delivery.mapping is not None:
            mapping = Path(tmp) / _safe_name(delivery.mapping_name or "mapping", ".toml")
            mapping.write_bytes(delivery.mapping)
        charter = None
        if delivery.charter is not None:
            charter = Path(tmp) / _safe_name(delivery.charter_name or "charter", ".charter.toml")
            charter.write_bytes(delivery.charter)
        try:
            settings = ImportSettings(format=delivery.format, source=str(source), cut_date=delivery.cut_date,
                                      db=str(db), mapping=str(mapping) if mapping else None,
                                      reference_arm=delivery.reference_arm or None,
                                      source_label=f"{delivery.name} (uploaded by {who})",
                                      charter=str(charter) if charter else None,
                                      charter_label=delivery.charter_name or "charter",
                                      charter_source_label=f"{delivery.charter_name} (uploaded by {who})")
            if publish:
                with _PUBLISH_LOCK:
                    result = import_cut(settings)
            else:
                result = build_tables(settings)
        except CharterError as exc:
            name = delivery.charter_name or "charter"
            return Outcome(publish, delivery.name, charter_report(exc, name), len(exc.problems),
                           seconds=time.perf_counter() - started)
        except ImportValidationError as exc:
            return Outcome(publish, delivery.name, problem_report(exc, {str(source): delivery.name}), exc.total,
                           seconds=time.perf_counter() - started)
        except DatabaseBusy as exc:
            # Another import (the command line, another server) is publishing into this folder: nothing was
            # written; the delivery itself may be fine, so it is reported as a retry, not as a rejection.
            report = pd.DataFrame([{"file": delivery.name, "row": None, "column": None, "found": str(exc),
                                    "expected": "no other import publishing at the same time; publish again"}],
                                  columns=list(REPORT_COLUMNS))
            return Outcome(publish, delivery.name, report, 1, seconds=time.perf_counter() - started)
        except (ValueError, FileNotFoundError) as exc:
            if mapping is None:
                raise
            report = pd.DataFrame([{"file": delivery.mapping_name, "row": None, "column": None, "found": str(exc),
                                    "expected": "a valid mapping file (docs/importing.md)"}], columns=list(REPORT_COLUMNS))
            return Outcome(publish, delivery.name, report, 1, seconds=time.perf_counter() - started)
    counts = pd.DataFrame({"table": list(result.tables), "rows": [len(df) for df in result.tables.values()]})
    return Outcome(publish, delivery.name, pd.DataFrame(columns=list(REPORT_COLUMNS)), 0, counts,
                   tuple(result.warnings), result.cut, time.perf_counter() - started)
