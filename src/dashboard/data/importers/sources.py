"""Data layer: reading a delivery (a folder or a .zip of SAS XPORT, CSV and Parquet files) into tables.

Every table keeps the 1-based data row of its file in ``_row`` so problems can name it. Strings are
stripped (ADaM AVISIT carries leading spaces) and blank strings become missing; the 5.397605e-79
values that some XPORT readers return for zero (pandas issue 50670) become 0. Zip members are read
in memory, never extracted, and a member whose path leaves the archive's folder rejects the archive.

A SAS XPORT file must prove it is whole (SAS TS-140): 80-byte records, the library, member, NAMESTR
and OBS header records where the spec puts them, and observations filling the data section exactly
up to fewer than 80 blanks of padding; the rows the reader returns must be what those bytes hold.
XPORT v5 stores no row count, so a file cut where both an observation and an 80-byte record end
cannot be told from a shorter whole file: the check that every subject of the other files is in
DM/ADSL (cdisc.subjects_in) is the guard there.

Sizes are held to ``limits`` before anything is read: a data file in a folder by its size, a zip by its
own size and its members' declared sizes and compression ratios; while a member is expanded, reading
stops at the limit (a declared size can lie).
"""

from __future__ import annotations

import csv
import io
import os
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyreadstat

from dashboard.data.importers import limits
from dashboard.data.importers.problems import Problems

SUFFIXES = (".xpt", ".csv", ".parquet")
XPORT_ZERO = 1e-70  # |x| below this is the mis-read zero of pandas issue 50670
RECORD = 80  # SAS XPORT files are 80-byte records
XPORT_WHOLE = ("a complete SAS XPORT file: 80-byte records, library, member, NAMESTR and OBS headers, then "
               "whole observations and fewer than 80 blanks of padding (cut short or changed in transfer? "
               "export or copy it again)")
CHUNK = 1024**2


class Incomplete(ValueError):
    """A delivered file that does not prove it is whole or within the size limits."""

    def __init__(self, found: str, expected: str = XPORT_WHOLE):
        super().__init__(found)
        self.found, self.expected = found, expected


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
                    if self._within(f.name, f.stat().st_size, limits.MAX_FILE_BYTES, "data file"):
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

    def _within(self, name: str, size: int, limit: int, what: str) -> bool:
        if size <= limit:
            return True
        self.problems.add(name, None, None, f"{size:,} bytes", f"at most {limit:,} bytes per {what} (importers/limits.py; "
                          "docs/importing.md, Size limits); the file was not read")
        return False

    def _open_zip(self) -> None:
        if not self._within(self.path.name, self.path.stat().st_size, limits.MAX_ARCHIVE_BYTES, ".zip archive"):
            return
        try:
            archive = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as exc:
            self.problems.add(self.path.name, None, None, str(exc), "a readable .zip archive")
            return
        with archive:
            members = self._zip_members(archive)
            if members is None:
                return
            budget = limits.MAX_TOTAL_BYTES
            for name, info in members:
                try:
                    content = _expand(archive, info, min(limits.MAX_FILE_BYTES, budget))
                except Incomplete as exc:
                    self.problems.add(name, None, None, exc.found, exc.expected)
                    return
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                    self.problems.add(name, None, None, f"{type(exc).__name__}: {exc}", "a readable .zip member")
                    return
                budget -= len(content)
                self._add(PurePosixPath(name.split(":", 1)[1]).stem.lower(), name, content)

    def _zip_members(self, archive: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]] | None:
        """The data members to read, or None (problems added) when a path or declared size rejects the archive."""
        members, problems_before = [], self.problems.total
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
            member = f"{self.path.name}:{name}"
            if not self._within(member, info.file_size, limits.MAX_FILE_BYTES, "data file (size declared in the .zip)"):
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.RATIO_FROM_BYTES and ratio > limits.MAX_RATIO:
                self.problems.add(member, None, None, f"{info.compress_size:,} bytes expanding to {info.file_size:,} "
                                  f"({ratio:,.0f}:1)", f"at most {limits.MAX_RATIO}:1 (a zip bomb?); the archive was not read")
                continue
            members.append((member, info))
        total = sum(info.file_size for _, info in members)
        self._within(self.path.name, total, limits.MAX_TOTAL_BYTES, ".zip, all data members expanded")
        return members if self.problems.total == problems_before else None

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
    except Incomplete as exc:
        problems.add(name, None, None, exc.found, exc.expected)
        return None
    except Exception as exc:  # a truncated or corrupt binary file: the reader's message says where
        problems.add(name, None, None, f"{type(exc).__name__}: {exc}",
                     f"a complete, readable {suffix[1:].upper()} file (truncated or corrupt?)")
        return None
    if df is None:
        return None
    return SourceTable(name, _clean(df))


def _expand(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, reading no more than ``limit`` + one chunk whatever its header declares."""
    out = io.BytesIO()
    with archive.open(info) as member:
        while chunk := member.read(CHUNK):
            if out.tell() + len(chunk) > limit:
                raise Incomplete(f"more than {limit:,} bytes when expanded (declared {info.file_size:,})",
                                 "a member no larger than the limits of importers/limits.py (a zip bomb?); "
                                 "the archive was not read further")
            out.write(chunk)
    return out.getvalue()


def _read_xport(content: bytes | Path, raw: bytes) -> pd.DataFrame:
    fewest, most = xport_observations(raw)
    if isinstance(content, Path):
        df = pyreadstat.read_xport(str(content))[0]
    else:
        with tempfile.NamedTemporaryFile(suffix=".xpt") as tmp:  # pyreadstat reads from a path only
            tmp.write(raw)
            tmp.flush()
            df = pyreadstat.read_xport(tmp.name)[0]
    if not fewest <= len(df) <= most:
        raise Incomplete(f"{len(df):,} rows read where the bytes hold {fewest:,}"
                         + (f" to {most:,}" if most > fewest else "") + " observations")
    return df


# The header records of version 5 and of version 8/9 (long names; stores the observation count) files.
HEADERS = {5: ("LIBRARY", "MEMBER", "DSCRPTR", "NAMESTR", "OBS"), 8: ("LIBV8", "MEMBV8", "DSCPTV8", "NAMSTV8", "OBSV8")}


def _header(kind: str) -> bytes:
    return b"HEADER RECORD*******" + kind.ljust(8).encode() + b"HEADER RECORD!!!!!!!"


def _expect_header(raw: bytes, at: int, kind: str) -> None:
    if raw[at:at + len(_header(kind))] != _header(kind):
        where = f"byte {at:,}" if at < len(raw) else f"the end of the file (byte {len(raw):,})"
        raise Incomplete(f"no {kind} header record at {where}")


def _number(raw: bytes, at: int, width: int, what: str) -> int:
    text = raw[at:at + width].strip()
    if not text.isdigit():
        raise Incomplete(f"{what} {raw[at:at + width]!r} in the header record at byte {at - at % RECORD:,}")
    return int(text)


def xport_observations(raw: bytes) -> tuple[int, int]:
    """The fewest and most observations the bytes of a SAS XPORT file can hold (TS-140). Version 5 stores
    no count and blank observations inside the last record may be padding, hence a range; version 8
    stores the count, which the bytes must match. Raises Incomplete."""
    version = next((v for v, kinds in HEADERS.items() if raw.startswith(_header(kinds[0]))), None)
    if version is None:
        raise Incomplete("no SAS XPORT library header record at byte 0")
    if len(raw) % RECORD:
        raise Incomplete(f"{len(raw):,} bytes, not a whole number of 80-byte records")
    members, at = [], 3 * RECORD
    while at < len(raw):
        name, fewest, most, at = _xport_member(raw, at, HEADERS[version])
        members.append(name)
    if len(members) != 1:
        raise Incomplete(f"{len(members)} datasets ({', '.join(members) or 'none'})",
                         "one dataset per XPORT file (only the first would be read)")
    return fewest, most


def _xport_member(raw: bytes, at: int, kinds: tuple[str, ...]) -> tuple[str, int, int, int]:
    """(dataset name, fewest and most observations, where the next member starts) of the member at ``at``."""
    _, member, descriptor, namestr, obs = kinds
    _expect_header(raw, at, member)
    _expect_header(raw, at + RECORD, descriptor)
    name = raw[at + 2 * RECORD + 8:at + 2 * RECORD + (16 if member == "MEMBER" else 40)].decode("latin-1").strip()
    _expect_header(raw, at + 4 * RECORD, namestr)
    size = _number(raw, at + 74, 4, "NAMESTR length")  # 140, or 136 on VAX/VMS
    count = _number(raw, at + 4 * RECORD + 48, 10, "variable count")
    if size not in (136, 140) or count == 0:
        raise Incomplete(f"{count} variable(s) of NAMESTR length {size} in dataset {name}")
    start = at + 5 * RECORD
    obs_header = start + -(-count * size // RECORD) * RECORD
    if obs == "OBSV8":  # long-label records (LABELV8/LABELV9) may come first
        obs_header = _next_record(raw, _header(obs), obs_header)
    _expect_header(raw, obs_header, obs)
    length = 0
    for i in range(count):
        kind, _, width, _ = struct.unpack_from(">hhhh", raw, start + i * size)
        (position,) = struct.unpack_from(">i", raw, start + i * size + 84)
        if kind not in (1, 2) or width < 1 or position < 0 or (kind == 1 and not 2 <= width <= 8):
            raise Incomplete(f"variable {i + 1} of dataset {name}: type {kind}, length {width}, position {position}")
        length = max(length, position + width)
    data = obs_header + RECORD
    end = _next_record(raw, _header(member), data)
    most = (end - data) // length
    tail = raw[data + most * length:end]
    if len(tail) >= RECORD or tail.strip(b" "):
        raise Incomplete(f"{end - data:,} bytes of {length}-byte observations in dataset {name}: {most:,} whole "
                         f"observations and {len(tail)} bytes of another")
    fewest = most
    while fewest and data + (fewest - 1) * length >= end - RECORD and not raw[
            data + (fewest - 1) * length:data + fewest * length].strip(b" "):
        fewest -= 1
    stored = raw[obs_header + 48:obs_header + 63].strip()
    if obs == "OBSV8" and stored.isdigit():
        if not fewest <= int(stored) <= most:
            raise Incomplete(f"{int(stored):,} observations in the OBSV8 header of dataset {name}, "
                             f"{end - data:,} bytes holding {most:,}")
        fewest = most = int(stored)
    return name, fewest, most, end


def _next_record(raw: bytes, header: bytes, at: int) -> int:
    """Where the next ``header`` record starts (a record boundary) from ``at``, or the end of the file."""
    found = raw.find(header, at)
    while found != -1 and (found - at) % RECORD:
        found = raw.find(header, found + 1)
    return len(raw) if found == -1 else found


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
