"""Pure functions: spatial joins, indicators, map and chart builders. No I/O, no Streamlit."""
