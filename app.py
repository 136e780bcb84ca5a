"""Entry point: navigation between the dashboard's pages and the shared state they read."""

import streamlit as st

from pages import shared

shared.configure_page()

navigation = st.navigation(shared.app_pages())
shared.mark_navigation()
shared.init_state()
try:
    navigation.run()
except Exception as exc:  # noqa: BLE001 - users get a French message, the log gets the details
    shared.show_unexpected_error(exc)
