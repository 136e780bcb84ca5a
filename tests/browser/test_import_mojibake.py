"""The import page offers to repair values that look like mojibake, and the repair is applied."""

from __future__ import annotations

from tests.browser.helpers import wait_for_app
from tests.browser.test_import_page import fresh_dashboard  # noqa: F401 - module fixture
from tests.browser.test_pages import assert_clean, open_page

CSV = (
    "Nom du bénéficiaire;Montant;Année;Objet\n"
    "Conseil DÃ©partemental (fictif);1 500;2024;Ã‰co-chantier\n"
    "Régie (fictif);800;2024;Café\n"
)


def test_mojibake_repair_is_offered_and_applied(page, fresh_dashboard, tmp_path):  # noqa: F811
    upload = tmp_path / "subventions_mojibake.csv"
    upload.write_text(CSV, encoding="utf-8")
    open_page(page, f"{fresh_dashboard}/importer")
    page.locator('input[type="file"]').first.set_input_files(str(upload))
    wait_for_app(page)
    body = page.locator("body").inner_text()
    assert "Certaines valeurs semblent mal encodées" in body
    assert "réparation proposée « Conseil Départemental (fictif) »" in body
    page.get_by_text("Réparer l'encodage de ces valeurs à l'import").click()
    wait_for_app(page)
    page.get_by_role("button", name="Vérifier sans enregistrer").click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    body = page.locator("body").inner_text()
    assert "2 ligne(s) lue(s), 2 acceptée(s), 0 rejetée(s)" in body
    assert "valeur(s) mal encodée(s) réparée(s)" in body or "avertissement" in body
    assert_clean(page)
