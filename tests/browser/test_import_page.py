"""Importing a grants file on the page replaces the demo data and shows the grants on the map."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import _start_streamlit, _stop
from tests.browser.helpers import leaflet_features, map_frame, screenshot, wait_for_app
from tests.browser.test_pages import assert_clean, open_page, selected_count

# Three grants of a fictional beneficiary, as a City spreadsheet would hold them: `;`, decimal
# comma, thousands space, French column names. Two share a project location, so the map shows
# two places. The last row has no amount and must be rejected, not lost (its invalid SIRET alone
# would only be dropped with a warning).
CSV = (
    "Nom du bénéficiaire;SIRET;Objet;Montant;Date de convention;Année;Axe;Priorité;"
    "lat_projet;lon_projet\n"
    "Association Essai Import (fictif);00000000000018;Atelier vélo;1 500,50;2024-03-01;2024;1;3;"
    "50,6300;3,0600\n"
    "Association Essai Import (fictif);00000000000018;Épicerie solidaire;2 000;2024-04-01;2024;"
    "3;16;50,6300;3,0600\n"
    "Coopérative Essai (fictif);00000000000026;Réemploi;3 000;2025-01-15;2025;2;11;"
    "50,6400;3,0500\n"
    "Ligne invalide (fictif);12345678901234;Test;;2025-01-15;2025;1;1;50,64;3,05\n"
)


@pytest.fixture(scope="module")
def fresh_dashboard(ess_home_browser, tmp_path_factory) -> Iterator[str]:
    """The dashboard on a private copy of the prepared ESS_HOME, since importing writes to it."""
    home = tmp_path_factory.mktemp("import_home")
    shutil.copytree(ess_home_browser, home, dirs_exist_ok=True)
    logdir = tmp_path_factory.mktemp("import_logs")
    proc, handle, url = _start_streamlit("app.py", {"ESS_HOME": str(home)}, logdir)
    yield url
    _stop(proc, handle)


def test_imported_grants_replace_the_demo_on_the_map(page, fresh_dashboard, tmp_path):
    upload = tmp_path / "subventions_ville.csv"
    upload.write_text(CSV, encoding="utf-8")

    open_page(page, f"{fresh_dashboard}/importer")
    page.locator('input[type="file"]').first.set_input_files(str(upload))
    wait_for_app(page)
    page.get_by_role("button", name="Importer", exact=True).click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    body = page.locator("body").inner_text()
    assert "4 ligne(s) lue(s), 3 acceptée(s), 1 rejetée(s)" in body
    assert "Ligne 5" in body  # header is row 1: the fourth data row is spreadsheet row 5
    screenshot(page, "importer_rapport")

    # Both files are built when clicked; the warnings are folded until opened.
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger les lignes rejetées (CSV)").click()
    rejected = Path(info.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert len(rejected) == 2 and rejected[1].startswith("5;Ligne invalide (fictif);")
    label = page.get_by_text(re.compile(r"^\d+ avertissement\(s\)$"))
    count = int(label.inner_text().split()[0])
    assert page.get_by_role("button", name="Télécharger tous les avertissements (CSV)").count() == 0
    label.click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger tous les avertissements (CSV)").click()
    warned = Path(info.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert warned[0] == "ligne;colonne;avertissement" and len(warned) == count + 1
    screenshot(page, "importer_avertissements")

    open_page(page, f"{fresh_dashboard}/carte")
    assert page.get_by_text("Données fictives de démonstration").count() == 0
    assert selected_count(page) == 3
    assert leaflet_features(map_frame(page))["points"] == 2
    screenshot(page, "carte_apres_import")
    assert_clean(page)


def test_a_real_scdl_file_is_checked_on_the_page_with_every_row_accounted_for(
    page, fresh_dashboard, shared_data
):
    """The Roques 2017 SCDL file (69 rows): all outside 2021-2026, kept and flagged; one row has
    no beneficiary name."""
    real = shared_data / "activity" / "subventions_real_commune-roques-31_datalocale_2017.csv"
    open_page(page, f"{fresh_dashboard}/importer")
    page.locator('input[type="file"]').first.set_input_files(str(real))
    wait_for_app(page)
    page.get_by_role("button", name="Vérifier sans enregistrer").click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    body = page.locator("body").inner_text()
    assert "69 ligne(s) lue(s), 68 acceptée(s), 1 rejetée(s)" in body
    assert "Simulation : rien n'a été enregistré." in body
    assert "Conformité au schéma SCDL" in body
    screenshot(page, "importer_scdl_reel")
    assert_clean(page)
