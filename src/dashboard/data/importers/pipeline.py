"""Data layer: one import run. Read the delivery, validate all of it, and only then write the cut.

Nothing is written while any problem remains: the previous database stays byte-identical, and the
caller gets one :class:`ImportValidationError` listing file, row, column, value and expectation. A DSMB
charter given with the delivery is read and validated first; an invalid one raises
:class:`~dashboard.domain.charter.CharterError` before the delivery is read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from dashboard.data.charters import read_charter_file
from dashboard.data.importers import BY_FORMAT, assemble
from dashboard.data.importers.cuts import write_cut
from dashboard.data.importers.mapping import load_mapping
from dashboard.data.importers.problems import Problems
from dashboard.data.importers.randomization import apply_randomization, read_randomization
from dashboard.data.importers.sources import Delivery
from dashboard.domain.charter import Charter

DEFAULT_REFERENCE_ARM = "Placebo"


@dataclass(frozen=True)
class ImportSettings:
    format: str
    source: str
    cut_date: date
    db: str = "data/trial.duckdb"
    mapping: str | None = None
    reference_arm: str | None = None
    active_arm: str | None = None
    study_id: str | None = None
    unblinded: bool = False
    # How the cut's source is recorded (study.source, data_cuts.source); default: the absolute path.
    # /data passes the uploaded file's name, not the temporary file it was saved to.
    source_label: str | None = None
    # The DSMB charter (TOML, docs/charter.md) loaded with this cut; without one the previous cut's is kept.
    charter: str | None = None
    # How the charter is named in messages (default: the path as given) and recorded (charter.source, default:
    # the absolute path); /data passes the uploaded file's name, and records it with the uploader.
    charter_label: str | None = None
    charter_source_label: str | None = None
    # The randomisation (CSV usubjid,arm) delivered apart from the blinded delivery; its arms replace the
    # delivery's (which may then be masked). Named in messages by ``randomization_label`` (default the path).
    randomization: str | None = None
    randomization_label: str | None = None

    def __post_init__(self) -> None:
        if self.format not in BY_FORMAT:
            raise ValueError(f"import: format must be one of {', '.join(BY_FORMAT)}, got {self.format!r}")

    @property
    def recorded_source(self) -> str:
        return self.source_label or str(Path(self.source).resolve())

    @property
    def recorded_charter_source(self) -> str | None:
        if self.charter is None:
            return None
        return self.charter_source_label or str(Path(self.charter).resolve())


@dataclass
class ImportResult:
    tables: dict[str, pd.DataFrame]
    warnings: list[str] = field(default_factory=list)
    cut: dict | None = None
    kept: Path | None = None
    seconds: float = 0.0
    charter: Charter | None = None


def build_tables(settings: ImportSettings) -> ImportResult:
    """Read and validate; return the data-model tables. Raises CharterError on an invalid charter (before the
    delivery is read) and ImportValidationError on any problem of the delivery."""
    started = time.perf_counter()
    charter = None if settings.charter is None else read_charter_file(settings.charter,
                                                                      settings.charter_label or settings.charter)
    mapping = load_mapping(settings.mapping)
    problems = Problems()
    delivery = Delivery(settings.source, problems)
    problems.raise_if_any()  # an unsafe archive is not read at all
    bundle = BY_FORMAT[settings.format].load(delivery, mapping, problems)
    if "subjects" in bundle.tables:
        assemble.check(bundle, problems)
        if bundle.tables["subjects"].empty:
            problems.add(delivery.path.name, None, None, "no randomised subjects", "at least one randomised subject")
    problems.raise_if_any()
    tables = assemble.finish(bundle, settings.cut_date, problems)
    if settings.randomization is not None:
        label = settings.randomization_label or settings.randomization
        randomization = read_randomization(settings.randomization, label, problems)
        problems.raise_if_any()
        tables["subjects"] = apply_randomization(tables["subjects"], randomization, label, problems)
        problems.raise_if_any()
    tables["study"] = _study_row(settings, bundle, mapping.study, tables["subjects"], problems)
    problems.raise_if_any()
    return ImportResult(tables, problems.warnings, seconds=time.perf_counter() - started, charter=charter)


def import_cut(settings: ImportSettings) -> ImportResult:
    """Validate, then write the new cut atomically and keep a copy under <db dir>/cuts/."""
    started = time.perf_counter()
    result = build_tables(settings)
    result.cut, result.kept = write_cut(result.tables, settings.db, source=settings.recorded_source,
                                        charter=result.charter, charter_source=settings.recorded_charter_source)
    result.seconds = time.perf_counter() - started
    return result


def _study_row(settings: ImportSettings, bundle, study: dict, subjects: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    counts = subjects["arm"].value_counts()
    names = sorted(counts.index)
    reference = settings.reference_arm or (DEFAULT_REFERENCE_ARM if DEFAULT_REFERENCE_ARM in names else None)
    if reference is None and len(names) == 1:
        reference = names[0]
    if reference not in names:
        problems.add(settings.source, None, "arm", reference or "no arm named Placebo",
                     f"--reference-arm naming one of the arms: {', '.join(names)}")
        reference = names[0]
    others = [a for a in names if a != reference]
    active = settings.active_arm or (others[0] if others else reference)
    if active not in names:
        problems.add(settings.source, None, "arm", active, f"--active-arm naming one of the arms: {', '.join(names)}")
    study_id = settings.study_id or study.get("study_id") or bundle.study_id or Path(settings.source).stem
    start = subjects["randomized_on"].min()
    span_days = (subjects["randomized_on"].max() - start).days
    follow_up = study.get("follow_up_days") or int(((subjects["last_contact_on"] - subjects["day1_on"]).dt.days + 1).max())
    return pd.DataFrame([{
        "study_id": study_id,
        "title": study.get("title") or f"{study_id} (imported {settings.format.upper()})",
        "planned_n": int(study.get("planned_n") or len(subjects)),
        "data_cut_date": settings.cut_date, "blinded": not settings.unblinded,
        "arms": others + [reference], "active_arm": active, "control_arm": reference,
        "source": settings.recorded_source, "simulated": False,
        "enrolment_start": start.date(), "enrolment_months": span_days / 30.44, "follow_up_days": follow_up,
    }])
