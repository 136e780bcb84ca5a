"""Writing fails closed in the browser, and what users type or name is shown as text.

- ESS_PUBLIC=1 without any sign-in configured: no page offers an upload, a refresh or an undo,
  even with reference layers missing (the case where pages offer them to staff).
- A file name full of Markdown and HTML is displayed literally on the import page.
- Reruns of the import page leave no temporary folder behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from pages.shared import PAGE_SPECS
from tests.browser.conftest import _start_streamlit, _stop
from tests.browser.helpers import wait_for_app
from tests.browser.test_pages import open_page

SLUGS = [re.fullmatch(r"pages/(\w+)\.py", s).group(1) for s, _, _ in PAGE_SPECS]
WRITE_BUTTONS = re.compile(
    r"Télécharger depuis la source officielle|Annuler le dernier import|^Importer$|"
    r"Vérifier sans enregistrer|Enregistrer"
)


@pytest.fixture(scope="module")
def public_dashboard(tmp_path_factory) -> Iterator[str]:
    """ESS_PUBLIC=1, no secrets, an empty ESS_HOME: every layer but the embedded ones missing."""
    home = tmp_path_factory.mktemp("public_home")
    logdir = tmp_path_factory.mktemp("public_logs")
    proc, handle, url = _start_streamlit(
        "app.py", {"ESS_HOME": str(home), "ESS_PUBLIC": "1"}, logdir
    )
    yield url
    _stop(proc, handle)


@pytest.mark.parametrize("slug", SLUGS)
def test_a_public_deployment_offers_no_write_to_anonymous_visitors(page, public_dashboard, slug):
    open_page(page, f"{public_dashboard}/" if slug == "home" else f"{public_dashboard}/{slug}")
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("h1").count() >= 1
    assert page.locator('input[type="file"]').count() == 0
    buttons = [b.inner_text().strip() for b in page.get_by_role("button").all()]
    assert [b for b in buttons if WRITE_BUTTONS.search(b)] == []
    if slug in ("importer", "donnees"):
        assert page.get_by_text("aucune authentification n'est configurée").count() >= 1


HOSTILE = "![x](a.png) <img src=x onerror=alert(1)> **gras** :red[rouge].geojson"


@pytest.fixture
def import_dashboard(ess_home_browser, tmp_path) -> Iterator[tuple[str, object]]:
    """A private dashboard whose temporary files land in a folder of the test's own."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc, handle, url = _start_streamlit(
        "app.py", {"ESS_HOME": str(tmp_path / "home"), "TMPDIR": str(temp)}, tmp_path
    )
    yield url, temp
    _stop(proc, handle)


def _choose_land(page) -> None:
    page.get_by_text("Sites fonciers", exact=True).first.click()
    wait_for_app(page)


def test_a_hostile_file_name_is_shown_as_text(page, import_dashboard):
    url, _ = import_dashboard
    open_page(page, f"{url}/importer")
    _choose_land(page)
    page.locator('input[type="file"]').set_input_files(
        {"name": HOSTILE, "mimeType": "application/geo+json", "buffer": b'{"type": "nope"}'}
    )
    wait_for_app(page)
    page.get_by_role("button", name="Vérifier sans enregistrer").click()
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    assert "![x](a.png)" in text and "**gras**" in text and ":red[rouge]" in text
    assert main.locator("img").count() == 0
    assert main.locator("strong", has_text="gras").count() == 0


def test_reruns_of_the_import_page_leave_no_temporary_folder(page, import_dashboard):
    url, temp = import_dashboard
    open_page(page, f"{url}/importer")
    page.locator('input[type="file"]').set_input_files(
        {
            "name": "subventions.csv",
            "mimeType": "text/csv",
            "buffer": "Nom du bénéficiaire;Montant\nAsso (fictif);100\n".encode(),
        }
    )
    wait_for_app(page)
    checkbox = page.get_by_text("Géocoder les adresses sans coordonnées")
    for _ in range(20):
        checkbox.click()
        wait_for_app(page)
    leftovers = [p.name for p in temp.iterdir() if p.name.startswith("ess_import_")]
    assert leftovers == []
    assert page.get_by_text("Correspondance des colonnes").count() == 1  # the file was read
