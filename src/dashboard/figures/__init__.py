"""Figures layer: plotly builders, data in and ``go.Figure`` out. No Streamlit, no SQL."""
