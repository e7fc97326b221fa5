"""Data layer: the DuckDB schema, parameterised queries, the simulated trial, importers, data cuts."""
