"""A copied link opened first on a freshly started server shows the page with its navigation.

Streamlit serves the first run of a fresh server the old way when a `pages/` folder sits next to
app.py; pages/shared.py switches to the st.navigation mode and reruns (see _ensure_navigation).
"""

from __future__ import annotations

from tests.browser.conftest import _start_streamlit, _stop
from tests.browser.test_pages import expected_grant_locations, open_page, selected_count


def test_deep_link_on_a_fresh_server(page, ess_home_browser, tmp_path):
    proc, handle, url = _start_streamlit("app.py", {"ESS_HOME": str(ess_home_browser)}, tmp_path)
    try:
        open_page(page, f"{url}/carte?axes=2")
        assert page.get_by_role("link", name="Accueil").count() == 1
        assert page.locator("h1").first.inner_text() == "Carte des structures financées"
        grants, _ = expected_grant_locations(axes=[2])
        assert selected_count(page) == grants
        assert page.url.endswith("/carte?axes=2")
    finally:
        _stop(proc, handle)
