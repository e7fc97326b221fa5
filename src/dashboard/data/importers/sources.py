"""Data layer: reading a delivery (a folder or a .zip of SAS XPORT, CSV and Parquet files) into tables.

Every table keeps the 1-based data row of its file in ``_row`` so problems can name it. Strings are
stripped (ADaM AVISIT carries leading spaces) and blank strings become missing; the 5.397605e-79
values that some XPORT readers return for zero (pandas issue 50670) become 0. Zip members are read
in memory, never extracted, and a member whose path leaves the archive's folder rejects the archive.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyreadstat

from dashboard.data.importers.problems import Problems

SUFFIXES = (".xpt", ".csv", ".parquet")
XPORT_ZERO = 1e-70  # |x| below this is the mis-read zero of pandas issue 50670


@dataclass
class SourceTable:
    """One delivered file as a DataFrame with ``_row`` (1-based data row)."""

    name: str  # file name as the data manager knows it (zip members: archive.zip:member)
    df: pd.DataFrame

    def has(self, column: str) -> bool:
        return column in self.df.columns and self.df[column].notna().any()


class Delivery:
    """The files of one delivery, looked up by lower-case file stem (``dm``, ``lb``, ``adsl``...)."""

    def __init__(self, path: str | os.PathLike, problems: Problems):
        self.path = Path(path)
        self.problems = problems
        self._members: dict[str, tuple[str, bytes | Path]] = {}
        self._cache: dict[str, SourceTable | None] = {}
        if self.path.is_dir():
            for f in sorted(self.path.iterdir()):
                if f.is_file() and f.suffix.lower() in SUFFIXES:
                    self._add(f.stem.lower(), f.name, f)
        elif self.path.is_file() and self.path.suffix.lower() == ".zip":
            self._open_zip()
        else:
            raise FileNotFoundError(f"No delivery at {self.path}: give a folder or a .zip of .xpt/.csv/.parquet files.")

    def _add(self, stem: str, name: str, content: bytes | Path) -> None:
        if stem in self._members:
            self.problems.add(name, None, None, f"{self._members[stem][0]} and {name}",
                              f"one file per table; remove one of the two files named {stem}")
        self._members[stem] = (name, content)

    def _open_zip(self) -> None:
        try:
            archive = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as exc:
            self.problems.add(self.path.name, None, None, str(exc), "a readable .zip archive")
            return
        with archive:
            for info in archive.infolist():
                name = info.filename.replace("\\", "/")
                parts = PurePosixPath(name).parts
                if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
                    self.problems.add(self.path.name, None, None, info.filename,
                                      "archive members inside the archive's folder (no absolute path, no '..'); "
                                      "the archive was not read")
                    continue
                if info.is_dir() or PurePosixPath(name).suffix.lower() not in SUFFIXES:
                    continue
                member = PurePosixPath(name)
                self._add(member.stem.lower(), f"{self.path.name}:{name}", archive.read(info))

    def stems(self) -> list[str]:
        return sorted(self._members)

    def get(self, stem: str) -> SourceTable | None:
        """The table stored under ``stem``, or None if the delivery has no such file (or it was unreadable)."""
        stem = stem.lower()
        if stem not in self._members:
            return None
        if stem not in self._cache:
            name, content = self._members[stem]
            self._cache[stem] = _read(name, content, self.problems)
        return self._cache[stem]


def _read(name: str, content: bytes | Path, problems: Problems) -> SourceTable | None:
    suffix = Path(name.split(":")[-1]).suffix.lower()
    raw = content.read_bytes() if isinstance(content, Path) else content
    if not raw:
        problems.add(name, None, None, "an empty file (0 bytes)",
                     "a header row naming the columns, then one row per record")
        return None
    try:
        if suffix == ".csv":
            df = _read_csv(name, raw, problems)
        elif suffix == ".parquet":
            df = pd.read_parquet(io.BytesIO(raw))
        else:
            df = _read_xport(content, raw)
    except Exception as exc:  # a truncated or corrupt binary file: the reader's message says where
        problems.add(name, None, None, f"{type(exc).__name__}: {exc}",
                     f"a complete, readable {suffix[1:].upper()} file (truncated or corrupt?)")
        return None
    if df is None:
        return None
    return SourceTable(name, _clean(df))


def _read_xport(content: bytes | Path, raw: bytes) -> pd.DataFrame:
    if isinstance(content, Path):
        return pyreadstat.read_xport(str(content))[0]
    with tempfile.NamedTemporaryFile(suffix=".xpt") as tmp:  # pyreadstat reads from a path only
        tmp.write(raw)
        tmp.flush()
        return pyreadstat.read_xport(tmp.name)[0]


def _read_csv(name: str, raw: bytes, problems: Problems) -> pd.DataFrame | None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col_index = raw[line_start:exc.start].count(b",")
        header = next(csv.reader([raw.split(b"\n", 1)[0].decode("utf-8", "replace")]), [])
        column = header[col_index] if col_index < len(header) else f"field {col_index + 1}"
        problems.add(name, line_no - 1 if line_no > 1 else None, column, raw[exc.start:exc.start + 4],
                     "UTF-8 text; save the file as CSV UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)')")
        return None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        problems.add(name, None, None, str(exc), "well-formed CSV (an unterminated quote means a truncated file)")
        return None
    rows = [r for r in rows if r]  # blank lines carry no data
    if not rows:
        problems.add(name, None, None, "no header row", "a header row naming the columns, then one row per record")
        return None
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    for i, r in enumerate(body, start=1):
        if len(r) != len(header):
            column = header[len(r)] if len(r) < len(header) else f"field {len(r)}"
            problems.add(name, i, column, f"{len(r)} fields", f"{len(header)} fields as in the header "
                         "(a short last row means the file was truncated; a long one an unquoted comma)")
    body = [r for r in body if len(r) == len(header)]
    return pd.DataFrame(body, columns=header, dtype=object)


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index(drop=True).copy()
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_float_dtype(s):
            df[col] = s.mask(s.abs() < XPORT_ZERO, 0.0)
        elif s.dtype == object:
            stripped = s.map(lambda v: v.strip() if isinstance(v, str) else v)
            df[col] = stripped.mask(stripped.map(lambda v: isinstance(v, str) and v == ""), None)
    df["_row"] = np.arange(1, len(df) + 1)
    return df
