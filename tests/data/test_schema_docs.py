"""Every table and column of the schema is documented in docs/data-model.md."""

import re
from pathlib import Path

from dashboard.data.schema import TABLES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "data-model.md").read_text()


def _documented_columns(table: str) -> set[str]:
    section = re.search(rf"^## {table} \(.*?$(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert section, f"docs/data-model.md has no section for table {table}"
    return set(re.findall(r"^\| (\w+) \|", section.group(1), re.M)) - {"column"}


def test_every_schema_column_is_documented():
    for table, ddl in TABLES.items():
        columns = {line.strip().split()[0] for line in ddl.replace(",\n", "\n").split(",") if line.strip()}
        missing = columns - _documented_columns(table)
        assert not missing, f"{table}: undocumented columns {sorted(missing)}"
