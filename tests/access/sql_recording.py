"""Recording what a TrialView asks DuckDB, and which columns those statements actually read."""

from __future__ import annotations

import json
import re

from tests.data.sql_helpers import SqlRecorder


class ViewSqlRecorder(SqlRecorder):
    """:class:`SqlRecorder` for a whole TrialView: pass it as the view's connection; every cursor the view
    opens records into the same list, with the cursor and parameters needed to explain the statement."""

    def __init__(self, con, statements: list | None = None):
        super().__init__(con)
        self.statements = [] if statements is None else statements

    def cursor(self) -> ViewSqlRecorder:
        return ViewSqlRecorder(self.con.cursor(), self.statements)

    def execute(self, sql, params=None):
        self.sql.append(sql)
        self.statements.append((self.con, sql, params))
        return self.con.execute(sql, params)


def _scans(node: dict):
    info = node.get("extra_info") or {}
    if isinstance(info, dict) and "Table" in info:
        yield info
    for child in node.get("children", []):
        yield from _scans(child)


def columns_read(statements, revealing: dict[str, tuple[str, ...]]) -> set[tuple[str, str]]:
    """(table, column) pairs among ``revealing`` that the recorded SELECT statements read: from the table
    scans' projections and filters of DuckDB's physical plan, so ``SELECT *`` counts, an unused column of
    a subquery that the optimiser drops does not."""
    read = set()
    for con, sql, params in statements:
        if not re.match(r"\s*(SELECT|WITH)\b", sql, re.IGNORECASE):
            continue
        plan = con.execute(f"EXPLAIN (FORMAT json) {sql}", params).fetchall()[0][1]
        for node in json.loads(plan):
            for scan in _scans(node):
                table = scan["Table"].split(".")[-1]
                used = json.dumps([scan.get("Projections"), scan.get("Filters")])
                read |= {(table, c) for c in revealing.get(table, ()) if re.search(rf"\b{c}\b", used)}
    return read
