"""Streamlit building blocks of the pages, one module per concern (pages/shared.py holds the
data bundle, the shared filter state and the navigation)."""
