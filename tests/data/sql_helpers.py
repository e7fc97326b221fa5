"""Helpers of the tests that compare a DuckDB aggregate with the pandas function it stands in for."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from dashboard.data import queries
from dashboard.data.database import randomization_path
from dashboard.data.schema import create_unblinded_views


def study_groups(con, include_arm: bool) -> list[str] | None:
    """Groups as the pages pass them: the study's arms in order (active first), or None when pooled."""
    return list(queries.study(con, True)["arms"]) if include_arm else None


@contextmanager
def messy_copy(db: Path, tables: Sequence[str], mess: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory copy of ``tables`` of the trial at ``db``, changed by the SQL ``mess``: the untidy
    records (missing limits, repeated baselines, rows without a visit) a simulated trial does not have."""
    with duckdb.connect(":memory:") as c:
        c.execute(f"ATTACH '{db}' AS src_trial (READ_ONLY)")
        c.execute(f"ATTACH '{randomization_path(db)}' AS src_randomization (READ_ONLY)")
        c.execute("CREATE SCHEMA src")
        c.execute("USE memory.src")
        create_unblinded_views(c, "src_trial", "src_randomization")  # the tables with their arms, as unblinded
        c.execute("USE memory.main")
        for table in tables:
            c.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{table}")
        c.execute(mess)
        yield c


class SqlRecorder:
    """A connection that keeps the SQL it is given, to check what a pooled query reads."""

    def __init__(self, con):
        self.con, self.sql = con, []

    def execute(self, sql, params):
        self.sql.append(sql)
        return self.con.execute(sql, params)
