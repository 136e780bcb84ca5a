"""Entry point: navigation between the dashboard's pages and the shared state they read."""

from pathlib import Path

import streamlit as st

from pages import shared

st.set_page_config(
    page_title="ESS Lille – Hellemmes – Lomme",
    page_icon=str(Path(__file__).parent / "static" / "favicon.png"),
    layout="wide",
)

PAGES = [
    st.Page("pages/home.py", title="Accueil", icon=":material/home:", default=True),
    st.Page("pages/carte.py", title="Carte des structures financées", icon=":material/map:"),
    st.Page("pages/qpv.py", title="Couverture des QPV", icon=":material/location_city:"),
    st.Page("pages/repartition.py", title="Répartition territoriale", icon=":material/pie_chart:"),
    st.Page("pages/foncier.py", title="Accès au foncier", icon=":material/domain:"),
    st.Page("pages/comparer.py", title="Comparer des territoires", icon=":material/compare:"),
    st.Page("pages/importer.py", title="Importer des données", icon=":material/upload_file:"),
    st.Page("pages/donnees.py", title="Données et sources", icon=":material/dataset:"),
]

navigation = st.navigation(PAGES)
shared.mark_navigation()
shared.init_state()
navigation.run()
