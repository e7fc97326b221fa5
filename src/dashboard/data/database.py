"""Writing a trial database atomically, and opening one read-only.

A new database is written to a temporary file beside the target and renamed over it, so a reader
never sees half a load and running dashboards keep their open file until they reload (DESIGN §8);
file and folder are fsynced, so a published cut survives a power cut.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from dashboard import config
from dashboard.data.schema import (
    ARM_REVEALING_COLUMNS,
    CUT_METADATA_TABLES,
    RESTORED_FROM,
    TABLES,
    create_randomization_tables,
    create_tables,
    create_unblinded_views,
    table_columns,
)
from dashboard.domain.charter import Charter

# lab_results is stored ordered by paramcd, usubjid so DuckDB skips other labs' row groups (DESIGN §7).
STORAGE_ORDER = {"lab_results": "paramcd, usubjid, study_day", "vital_signs": "usubjid, infusion_num, hours_after"}
# What of a table the content checksum covers, where not the whole row: a charter is its text's hash (when and
# from where it was loaded is provenance, so the same trial and charter give the same checksum).
CHECKSUM_OF = {"charter": "hash(sha256)"}


def randomization_path(db: str | os.PathLike) -> Path:
    """The randomisation file of the trial file ``db``: ``$DASHBOARD_RANDOMIZATION`` for the app's database
    when set, else beside it as ``<name>.randomization.duckdb`` (kept cuts too: ``cut-3.randomization.duckdb``)."""
    db = Path(db)
    configured = config.DASHBOARD_RANDOMIZATION.value()
    if configured and db.resolve() == config.db_path().resolve():
        return Path(configured)
    return db.with_name(f"{db.stem}.randomization{db.suffix or '.duckdb'}")


def _attach(con: duckdb.DuckDBPyConnection, path: str | os.PathLike, alias: str) -> None:
    literal = str(Path(path).resolve()).replace("'", "''")
    con.execute(f"ATTACH '{literal}' AS {alias} (READ_ONLY)")


def connect_readonly(path: str | os.PathLike, randomization: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """Open a trial database for reading; viewers never write to it.

    The file is ATTACHed to a private in-memory instance rather than opened directly: DuckDB caches
    instances by path, so after an atomic swap a plain ``connect(path)`` would keep returning the old,
    replaced file for as long as any session still holds it. Blinded: queries run on the trial file, which
    holds no arm. With ``randomization`` (unblinded sessions only) that file is attached too and queries run
    on views of the in-memory catalog that join the arms back (:func:`create_unblinded_views`).
    """
    if not Path(path).exists():
        raise FileNotFoundError(f"No trial database at {path}. Run `python -m dashboard simulate` or import a cut.")
    con = duckdb.connect(":memory:")
    _attach(con, path, "trial")
    if randomization is None:
        con.execute("USE trial")
        return con
    if not Path(randomization).exists():
        raise FileNotFoundError(f"No randomisation file at {randomization} for the trial database {path}: the "
                                "arms cannot be shown. It is written beside the trial database by `simulate` and "
                                "`import` (DASHBOARD_RANDOMIZATION names another place).")
    _attach(con, randomization, "randomization")
    create_unblinded_views(con, "trial", "randomization")
    return con


def content_checksum(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 over every table's row count and order-independent row-hash aggregate."""
    digest = hashlib.sha256()
    for table in TABLES:
        if table == "data_cuts":
            continue
        row_hash = CHECKSUM_OF.get(table, f"hash({table})")
        count, agg = con.execute(f"SELECT count(*), coalesce(bit_xor({row_hash}), 0) FROM {table}").fetchone()
        digest.update(f"{table}:{count}:{agg};".encode())
    return digest.hexdigest()


def charter_frame(charter: Charter, source: str) -> pd.DataFrame:
    """The ``charter`` table's row for ``charter`` loaded now from ``source``."""
    return pd.DataFrame([{"version": charter.version, "title": charter.title, "sha256": charter.sha256,
                          "source": source, "loaded_at": datetime.now(timezone.utc).replace(tzinfo=None),
                          "text": charter.text}])


def randomization_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The randomisation tables of a cut: each table's arm-revealing columns with the keys that join them back."""
    frames = {}
    for table, (target, keys) in RESTORED_FROM.items():
        if table in tables:  # as in the trial file, a table not given stays empty
            frame = tables[table]
            frames[target] = frame[[c for c in (*keys, *ARM_REVEALING_COLUMNS[table]) if c in frame.columns]]
    return frames


def write_trial(tables: dict[str, pd.DataFrame], path: str | os.PathLike, *, source: str,
                previous_cuts: pd.DataFrame | None = None, charter: Charter | None = None,
                charter_source: str | None = None) -> dict:
    """Write ``tables`` as a trial file without arms and its randomisation file (:func:`randomization_path`),
    each to a temporary file renamed over its target (the randomisation first: a reader of the new trial
    file finds its arms); return the cut record. The checksum covers both, as the unblinded views show them.

    ``charter`` (loaded from ``charter_source``) becomes the file's ``charter`` row; without it the file holds
    ``tables["charter"]`` if given (a charter carried forward), else none."""
    if charter is not None:
        tables = {**tables, "charter": charter_frame(charter, charter_source or "charter")}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    randomization = randomization_path(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    randomization_tmp = randomization.with_name(f".{randomization.name}.{os.getpid()}.tmp")
    for stale in (tmp, randomization_tmp):
        stale.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(randomization_tmp)) as con:
            create_randomization_tables(con)
            for name, df in randomization_frames(tables).items():
                _insert(con, name, df)
            con.execute("CHECKPOINT")
        with duckdb.connect(str(tmp)) as con:
            create_tables(con)
            for name, df in tables.items():
                _insert(con, name, df)
            con.execute("CHECKPOINT")
        with connect_readonly(tmp, randomization_tmp) as con:
            checksum = content_checksum(con)
        with duckdb.connect(str(tmp)) as con:
            cut = _record_cut(con, source, previous_cuts, checksum)
            con.execute("CHECKPOINT")
        replace_durably(randomization_tmp, randomization)
        replace_durably(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        randomization_tmp.unlink(missing_ok=True)
    return cut


def replace_durably(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` over ``target`` atomically, and make both the file and the rename survive a crash:
    the file is fsynced before the rename, its folder (which holds the new name) after it."""
    _fsync(tmp, os.O_RDONLY)
    os.replace(tmp, target)
    _fsync(target.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _insert(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame) -> None:
    columns = table_columns(con, name)
    missing = [c for c in columns if c not in df.columns]
    if missing and name != "data_cuts":
        raise ValueError(f"write_trial: table {name} lacks columns {missing}")
    con.register("incoming", df)
    order = f" ORDER BY {STORAGE_ORDER[name]}" if name in STORAGE_ORDER else ""
    select = ", ".join(f'"{c}"' for c in columns)
    con.execute(f"INSERT INTO {name} SELECT {select} FROM incoming{order}")
    con.unregister("incoming")


def _record_cut(con, source, previous_cuts, checksum: str) -> dict:
    if previous_cuts is not None and len(previous_cuts):
        con.register("previous_cuts", previous_cuts)
        con.execute("INSERT INTO data_cuts SELECT * FROM previous_cuts")
        con.unregister("previous_cuts")
    cut_id = 1 if previous_cuts is None or not len(previous_cuts) else int(previous_cuts["cut_id"].max()) + 1
    counts = {name: int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]) for name in TABLES
              if name not in CUT_METADATA_TABLES}
    cut_date = con.execute("SELECT data_cut_date FROM study").fetchone()[0]
    record = {
        "cut_id": cut_id,
        "cut_date": cut_date,
        "loaded_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "source": source,
        "row_counts": json.dumps(counts, sort_keys=True),
        "checksum": checksum,
    }
    con.execute("INSERT INTO data_cuts VALUES ($cut_id, $cut_date, $loaded_at, $source, $row_counts, $checksum)", record)
    return record
