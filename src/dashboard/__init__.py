"""UC-MSC liver-failure trial dashboard: DuckDB trial data, blinding-aware access, Streamlit pages."""

__version__ = "0.1.0"
