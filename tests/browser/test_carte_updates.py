"""The map page does only what the view needs: a filter swaps the points on the drawn map, the
table shows a page of the selection, the downloads are built when clicked (issue 12).

Expected counts come from the demo CSVs (tests/browser/test_pages.py), not from the app's code.
"""

from __future__ import annotations

import csv
import io

from tests.browser.helpers import leaflet_features, map_frame, open_table, wait_for_app
from tests.browser.test_pages import assert_clean, expected_grant_locations, open_page

FULL = "la sélection complète est dans le téléchargement"


def body_text(page) -> str:
    return page.locator("body").inner_text().replace("\u202f", " ")


def test_a_filter_swaps_the_points_on_the_same_map_and_the_table_is_paginated(page, dashboard):
    open_page(page, f"{dashboard}/carte")
    total, locations = expected_grant_locations()
    assert total > 200  # the demo's 400 grants: the table shows its first page
    frame = map_frame(page)
    assert leaflet_features(frame)["points"] == locations
    # The table is folded: no data grid is built until it is opened (the map comes first).
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    open_table(page)
    assert f"200 premières lignes sur {total} — {FULL}" in body_text(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    assert int(table.locator("[aria-rowcount]").first.get_attribute("aria-rowcount")) == 201

    # The second page of the table holds the remaining rows.
    picker = page.get_by_label("Page du tableau (sur 2)")
    picker.fill("2")
    picker.press("Enter")
    page.wait_for_timeout(500)
    wait_for_app(page)
    assert f"Lignes 201 à {total} sur {total} — {FULL}" in body_text(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    rows = int(table.locator("[aria-rowcount]").first.get_attribute("aria-rowcount"))
    assert rows == total - 200 + 1

    # A marker on the Leaflet map object: it survives only if the map is not rebuilt.
    frame.evaluate("() => { window.map.__kept = true; }")
    search = page.get_by_label("Recherche (nom, objet)")
    search.fill("Imprimerie")
    search.press("Enter")
    page.wait_for_timeout(500)
    wait_for_app(page)
    grants, places = expected_grant_locations(text="Imprimerie")
    assert 0 < grants < 200
    frame = map_frame(page)
    assert frame.evaluate("() => window.map.__kept === true"), "la carte a été reconstruite"
    counts = leaflet_features(frame)
    assert counts["points"] == places
    assert counts["polygons"] == 3 + 12 + 2  # communes, quartiers, the 2024 synthetic QPV
    overlays = frame.locator(".leaflet-control-layers-overlays label")
    assert overlays.filter(has_text="Subventions (par lieu)").count() == 1
    assert overlays.filter(has_text="QPV 2024").count() == 1
    assert FULL not in body_text(page)  # the whole selection fits on one page

    # The download is built on click, for the current selection.
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger la sélection (CSV pour Excel)").click()
    download = info.value
    assert download.suggested_filename == "subventions_selection.csv"
    with open(download.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(io.StringIO(handle.read()), delimiter=";"))
    assert len(rows) == grants + 1
    assert_clean(page)
