"""Data layer: what an importer hands back: data-model tables that still know their source rows.

Each table carries ``_file`` and ``_row`` (the delivered file and its 1-based data row) per record and
``columns`` names the delivered column behind each model column, so checks run on the model tables
can still point the data manager at the file, row and column to correct.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboard.data.importers.sources import SourceTable


@dataclass
class Bundle:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    study_id: str | None = None
    visits: pd.DataFrame | None = None
    study: dict = field(default_factory=dict)

    def put(self, table: str, df: pd.DataFrame, source: SourceTable | None, columns: dict[str, str]) -> None:
        """Add records to ``table``; ``df`` must keep the source's ``_row`` (or already have ``_file``)."""
        df = df.copy()
        if source is not None:
            df["_file"] = source.name
        if table in self.tables and len(self.tables[table]):
            df = pd.concat([self.tables[table], df], ignore_index=True)
        self.tables[table] = df.reset_index(drop=True)
        self.columns.setdefault(table, {}).update(columns)

    def source_column(self, table: str, column: str) -> str:
        return self.columns.get(table, {}).get(column, column)
