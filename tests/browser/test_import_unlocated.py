"""After importing grants that nobody can place on a map, every page still renders and says so.

The beneficiaries are not among the structures and the file has no project coordinates: all
three grants are « non localisé ». No page may show an exception or the French error box
(wait_for_app raises on both); the map page says that no grant of the selection is located.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pages.shared import PAGE_SPECS
from tests.browser.conftest import _start_streamlit, _stop
from tests.browser.helpers import wait_for_app
from tests.browser.test_pages import open_page

CSV = (
    "Nom du bénéficiaire;SIRET;Objet;Montant;Date de convention;Année;Axe;Priorité\n"
    "Association Sans Adresse (fictif);00000000000018;Atelier;1 500;2024-03-01;2024;1;3\n"
    "Association Sans Adresse (fictif);00000000000018;Épicerie;2 000;2024-04-01;2024;3;16\n"
    "Coopérative Nulle Part (fictif);00000000000026;Réemploi;3 000;2025-01-15;2025;2;11\n"
)
SLUGS = [Path(script).stem for script, _, _ in PAGE_SPECS]


@pytest.fixture(scope="module")
def unlocated_dashboard(ess_home_browser, tmp_path_factory, browser) -> Iterator[str]:
    """A dashboard whose store holds only the three unlocated grants, imported on the page."""
    home = tmp_path_factory.mktemp("unlocated_home")
    shutil.copytree(ess_home_browser, home, dirs_exist_ok=True)
    proc, handle, url = _start_streamlit(
        "app.py", {"ESS_HOME": str(home)}, tmp_path_factory.mktemp("unlocated_logs")
    )
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, locale="fr-FR")
    page = context.new_page()
    with tempfile.TemporaryDirectory() as tmp:
        upload = Path(tmp) / "subventions_sans_coordonnees.csv"
        upload.write_text(CSV, encoding="utf-8")
        page.goto(f"{url}/importer")
        wait_for_app(page)
        page.locator('input[type="file"]').first.set_input_files(str(upload))
        wait_for_app(page)
        page.get_by_role("button", name="Importer", exact=True).click()
        page.wait_for_timeout(500)
        wait_for_app(page)
        assert "3 ligne(s) lue(s), 3 acceptée(s), 0 rejetée(s)" in page.inner_text("body")
    context.close()
    yield url
    _stop(proc, handle)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_renders_after_importing_unlocated_grants(page, unlocated_dashboard, slug):
    open_page(
        page, f"{unlocated_dashboard}/" if slug == "home" else f"{unlocated_dashboard}/{slug}"
    )
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Données fictives de démonstration" not in body
    if slug == "carte":
        assert "3 subventions sélectionnées" in body
        assert "non localisé" in body.lower() or "sans localisation" in body.lower()
