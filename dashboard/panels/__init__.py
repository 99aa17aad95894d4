"""Streamlit panels of the dashboard; each renders one area from already-loaded data."""
