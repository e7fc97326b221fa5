"""Command-line commands, one module each (see dashboard.cli)."""
