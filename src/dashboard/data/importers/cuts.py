"""Data layer: keeping every data cut. The live database is replaced atomically (write_trial); each
cut's database is also copied to ``<db dir>/cuts/<db name>/cut-<id>.duckdb`` so two cuts can be
compared, and the new file carries the ``data_cuts`` rows of all earlier cuts. The copies are kept per
database name because several trials share ``data/`` (trial.duckdb, pilot.duckdb): one flat
``cuts/cut-1.duckdb`` would let one trial's cut 1 overwrite another's.

Publishing is serialised by an OS lock (``flock``) on ``<db dir>/.import.lock``, held from reading the
previous cuts until the new database and its copy are in place: two imports at once would otherwise
both become cut N+1 and one would be lost. An import that cannot take the lock within
``LOCK_WAIT_SECONDS`` raises :class:`DatabaseBusy` having written nothing. Under the lock, temporary
files left by killed writers (``.<name>.<pid>.tmp``, ``.tmp.wal``) are removed.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.data.database import randomization_path, replace_durably, write_trial
from dashboard.data.queries import charter_row
from dashboard.domain.charter import Charter
from dashboard.errors import DashboardError

LOCK_WAIT_SECONDS = 10.0
# Temporary files of write_trial and _copy_atomically, and DuckDB's write-ahead log of one.
TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp(\.wal)?$")


class DatabaseBusy(DashboardError):
    """Another import holds the publishing lock of the database's folder; nothing was written."""


def cuts_dir(db: str | os.PathLike) -> Path:
    return Path(db).parent / "cuts" / Path(db).stem


def kept_cut_path(db: str | os.PathLike, cut_id: int) -> Path:
    return cuts_dir(db) / f"cut-{cut_id}.duckdb"


def previous_cuts(db: str | os.PathLike) -> pd.DataFrame | None:
    """The data_cuts rows of the current database, or None when there is none yet."""
    if not Path(db).exists():
        return None
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM data_cuts ORDER BY cut_id").df()


def previous_charter(db: str | os.PathLike) -> pd.DataFrame | None:
    """The current database's charter row as a one-row table, to carry forward into the next cut; None when
    there is no database or it has no charter."""
    if not Path(db).exists():
        return None
    with duckdb.connect(str(db), read_only=True) as con:
        row = charter_row(con)
    return None if row is None else pd.DataFrame([row])


def lock_path(db: str | os.PathLike) -> Path:
    return Path(db).parent / ".import.lock"


@contextmanager
def publish_lock(db: str | os.PathLike) -> Iterator[None]:
    """Hold the folder's publishing lock; raise DatabaseBusy if it is not free within LOCK_WAIT_SECONDS.
    The lock file stays (removing it would let a waiting import lock a file no longer in the folder)."""
    path = lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with open(path, "a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseBusy(
                        f"Another import is publishing a data cut into {path.parent} (waited {LOCK_WAIT_SECONDS:g} s "
                        f"for its lock {path.name}). Nothing was written and the current data cut is unchanged; "
                        "retry the import when that one has finished.") from None
                time.sleep(0.05)
        yield  # closing the file releases the lock, also when the process dies


def remove_stale_temporaries(db: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of writers that are no longer running, beside ``db`` and among its
    kept cuts; call under the publishing lock. A live writer (e.g. ``simulate``) keeps its files."""
    removed = []
    for folder in (Path(db).parent, cuts_dir(db)):
        for path in folder.glob(".*.tmp*") if folder.is_dir() else ():
            m = TEMPORARY.match(path.name)
            if m and not _running(int(m.group(1))):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _copy_atomically(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, tmp)
        replace_durably(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def write_cut(tables: dict[str, pd.DataFrame], db: str | os.PathLike, *, source: str, charter: Charter | None = None,
              charter_source: str | None = None) -> tuple[dict, Path]:
    """Write ``tables`` as the next cut of ``db`` under the publishing lock; return the cut record and the
    kept copy's path. Raises DatabaseBusy, having written nothing, when another import holds the lock.

    The new cut holds ``charter`` (loaded from ``charter_source``) when given, else ``tables["charter"]`` when
    given, else the previous cut's charter row carried forward unchanged; the earlier cut's kept copy keeps its
    own."""
    db = Path(db)
    with publish_lock(db):
        remove_stale_temporaries(db)
        previous = previous_cuts(db)
        if previous is not None and len(previous):
            # The current database is the latest cut; keep it before it is replaced (e.g. a simulated cut 1).
            latest = int(previous["cut_id"].max())
            if not kept_cut_path(db, latest).exists():
                _keep(db, kept_cut_path(db, latest))
        if charter is None and "charter" not in tables:
            carried = previous_charter(db)
            if carried is not None:
                tables = {**tables, "charter": carried}
        cut = write_trial(tables, db, source=source, previous_cuts=previous, charter=charter,
                          charter_source=charter_source)
        kept = kept_cut_path(db, int(cut["cut_id"]))
        _keep(db, kept)
    return cut, kept


def _keep(db: Path, kept: Path) -> None:
    """Copy the trial file and its randomisation file (when there is one) to the kept cut's place."""
    randomization = randomization_path(db)
    if randomization.exists():
        _copy_atomically(randomization, randomization_path(kept))
    _copy_atomically(db, kept)
