"""Data layer: keeping every data cut. The live database is replaced atomically (write_trial); each
cut's database is also copied to ``<db dir>/cuts/<db name>/cut-<id>.duckdb`` so two cuts can be
compared, and the new file carries the ``data_cuts`` rows of all earlier cuts. The copies are kept per
database name because several trials share ``data/`` (trial.duckdb, pilot.duckdb): one flat
``cuts/cut-1.duckdb`` would let one trial's cut 1 overwrite another's.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.data.database import write_trial


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


def _copy_atomically(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def write_cut(tables: dict[str, pd.DataFrame], db: str | os.PathLike, *, source: str) -> tuple[dict, Path]:
    """Write ``tables`` as the next cut of ``db``; return the cut record and the kept copy's path."""
    db = Path(db)
    previous = previous_cuts(db)
    if previous is not None and len(previous):
        # The current database is the latest cut; keep it before it is replaced (e.g. a simulated cut 1).
        latest = int(previous["cut_id"].max())
        if not kept_cut_path(db, latest).exists():
            _copy_atomically(db, kept_cut_path(db, latest))
    cut = write_trial(tables, db, source=source, previous_cuts=previous)
    kept = kept_cut_path(db, int(cut["cut_id"]))
    _copy_atomically(db, kept)
    return cut, kept
