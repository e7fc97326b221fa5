"""UI layer: Streamlit only. Widgets, layout, caching and downloads; no SQL and no statistics."""
