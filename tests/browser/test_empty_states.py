"""Empty selections in a real browser: every page says so in French, none shows an exception.

The server runs on the shared data without any QPV layer (its own ESS_HOME), so `?qpv=dans_qpv`
empties the selection for want of the layer, and the message must say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from loaders.sync import sync_layers
from tests.browser.conftest import _missing, _start_streamlit, _stop
from tests.browser.helpers import screenshot, wait_for_app
from tests.browser.test_pages import assert_clean, open_page
from tests.conftest import SHARED_DATA

QPV_MISSING = "couche QPV non chargée (listes 2015 et 2024)"
# URL parameters -> the filter's phrase in the message (land sites: see LAND below).
QUERIES = {
    "q=zzzzzzzz": "recherche « zzzzzzzz »",
    "montant_min=999999999": "montant d'au moins 999 999 999 €",
    "qpv=dans_qpv": f"dans un QPV — {QPV_MISSING}",
}
# Land sites are not grants: the amount does not apply to them, and they need the 2024 list only.
LAND = {
    "q=zzzzzzzz": "recherche « zzzzzzzz »",
    "montant_min=999999999": None,
    "qpv=dans_qpv": "dans un QPV — couche QPV non chargée (liste 2024)",
}
SLUGS = ["", "carte", "qpv", "repartition", "foncier", "comparer"]
CLOSING = "Modifiez ou réinitialisez les filtres."


@pytest.fixture(scope="module")
def dashboard_without_qpv(tmp_path_factory) -> Iterator[str]:
    """The dashboard on the shared data with every layer the offline sync gives: no QPV."""
    if not SHARED_DATA.is_dir():
        _missing(f"données partagées absentes : {SHARED_DATA}")
    home = tmp_path_factory.mktemp("ess_home_sans_qpv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ESS_HOME", str(home))
        mp.delenv("ESS_STORE", raising=False)
        sync_layers([SHARED_DATA / "geo", SHARED_DATA / "activity"], offline=True)
    assert not list((home / "layers").glob("qpv_*"))
    logdir = tmp_path_factory.mktemp("dashboard_sans_qpv")
    proc, handle, base_url = _start_streamlit("app.py", {"ESS_HOME": str(home)}, Path(logdir))
    yield base_url
    _stop(proc, handle)


def _text(page) -> str:
    """The page's text with French spaces (U+202F, U+00A0) as plain spaces."""
    return re.sub("[\u202f\u00a0]", " ", page.locator('[data-testid="stMain"]').inner_text())


@pytest.mark.parametrize("query", list(QUERIES))
@pytest.mark.parametrize("slug", SLUGS, ids=lambda s: s or "accueil")
def test_empty_selection_says_so(page, dashboard_without_qpv, slug, query):
    open_page(page, f"{dashboard_without_qpv}/{slug}?{query}")  # raises on an exception
    assert page.locator('[data-testid="stException"]').count() == 0
    text = _text(page)
    assert "Une erreur inattendue" not in text
    if slug == "foncier":
        phrase = LAND[query]
        if phrase is None:
            assert "ne s'appliquent pas aux sites fonciers" in text
            assert "ne correspond aux filtres" not in text
        else:
            assert f"Aucun site foncier ne correspond aux filtres : {phrase}. {CLOSING}" in text
    elif slug == "comparer":
        # Comparer applies only the filters its sidebar shows (issue 8): these stay in the URL
        # for the other pages, are not applied here, and the page says which filters are.
        assert "ne correspond aux filtres" not in text
        assert QUERIES[query] not in text
        assert "Aucun filtre appliqué" in text
    else:
        assert f"Aucune subvention ne correspond aux filtres : {QUERIES[query]}. {CLOSING}" in text
    if query == "q=zzzzzzzz":
        screenshot(page, f"vide_{slug or 'accueil'}")
    assert_clean(page)


def test_a_filter_typed_in_the_sidebar_empties_the_map_page(page, dashboard_without_qpv):
    """The same message when the selection is emptied from the sidebar, not from the URL."""
    open_page(page, f"{dashboard_without_qpv}/carte")
    search = page.get_by_label("Recherche (nom, objet)")
    search.fill("zzzzzzzz")
    search.press("Enter")
    page.wait_for_timeout(500)
    wait_for_app(page)
    text = _text(page)
    assert (
        f"Aucune subvention ne correspond aux filtres : recherche « zzzzzzzz ». {CLOSING}" in text
    )
    assert page.locator('iframe[title="streamlit_folium.st_folium"]').count() == 0
    assert_clean(page)
