"""Every page of the dashboard in headless Chromium: no exception, real maps, filters, URLs.

Expected counts are computed here straight from the demo CSVs with pandas, independently of the
app's code: the app must draw exactly those features.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import pandas as pd
import pytest

from loaders.config import DEMO_DIR
from tests.browser.helpers import (
    leaflet_features,
    map_frame,
    open_table,
    screenshot,
    wait_for_app,
)
from tests.synthetic import synthetic_qpv

TILE_HOSTS = ("tile.openstreetmap.org",)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()


def demo_grants() -> pd.DataFrame:
    """The demo grants with their map position (lat, lon), from the CSVs alone.

    A grant sits at its project location, else at its beneficiary's; beneficiaries with
    diffusion status P are never placed, so their grants without a project location are off-map.
    """
    structures = pd.read_csv(DEMO_DIR / "structures.csv", dtype=str)
    grants = pd.read_csv(DEMO_DIR / "grants.csv", dtype=str)
    public = structures[structures["statut_diffusion"] != "P"].set_index("siret")
    beneficiary = grants["idBeneficiaire"]
    return grants.assign(
        nom_structure=beneficiary.map(public["nom"]).fillna(""),
        lat=grants["lat_projet"].astype(float).fillna(beneficiary.map(public["lat"]).astype(float)),
        lon=grants["lon_projet"].astype(float).fillna(beneficiary.map(public["lon"]).astype(float)),
    )


def expected_grant_locations(axes=None, years=None, text=None) -> tuple[int, int]:
    """(grants, distinct map locations) for a filter."""
    grants = demo_grants()
    if axes:
        grants = grants[grants["axe"].astype(int).isin(axes)]
    if years:
        grants = grants[grants["annee"].astype(int).between(*years)]
    if text:
        hay = (
            grants["nomBeneficiaire"].fillna("")
            + " "
            + grants["objet"].fillna("")
            + " "
            + grants["nom_structure"]
        )
        grants = grants[hay.map(_fold).str.contains(_fold(text), regex=False)]
    located = pd.DataFrame({"x": grants["lon"].round(5), "y": grants["lat"].round(5)}).dropna()
    return len(grants), len(located.drop_duplicates())


def open_page(page, url: str):
    page.set_viewport_size({"width": 1400, "height": 2400})
    if not hasattr(page, "bad_responses"):
        page.bad_responses = []
        page.on(
            "response",
            lambda r: page.bad_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
    page.goto(url)
    wait_for_app(page)


def assert_clean(page) -> None:
    """No page error, no failed local request, nothing but map tiles asked of the outside world.

    Streamlit itself probes `<page>/_stcore/health` before the root one when a page is opened by
    its own URL: those 404 are Streamlit's, not the dashboard's. Console lines about failed
    resources are checked through the responses, which carry the URL.
    """
    blocked = [u for u in page.blocked if not any(h in u for h in TILE_HOSTS)]
    assert blocked == [], blocked
    bad = [r for r in page.bad_responses if "/_stcore/" not in r]
    assert bad == [], bad
    errors = [
        e
        for e in page.errors
        if "Failed to load resource" not in e and "tile.openstreetmap" not in e
    ]
    assert errors == [], errors


def selected_count(page) -> int:
    text = page.get_by_text(re.compile(r"subventions sélectionnées")).first.inner_text()
    return int(re.sub(r"\D", "", text.split("subventions")[0]))


def test_home_shows_key_figures_and_the_filtered_map(page, dashboard):
    open_page(page, f"{dashboard}/?axes=4&annees=2021-2022")
    grants, locations = expected_grant_locations(axes=[4], years=(2021, 2022))
    assert page.get_by_text("Données fictives de démonstration").count() >= 1
    assert page.get_by_text("Montant engagé").count() >= 1
    frame = map_frame(page)
    counts = leaflet_features(frame)
    # 3 communes + 12 quartiers + the 2015 list in force in 2022 (3 synthetic squares)
    assert counts["polygons"] == 3 + 12 + 3
    assert counts["points"] == locations
    assert f"{grants} subventions affichées" in page.locator("body").inner_text().replace(
        "\u202f", ""
    )
    screenshot(page, "home")
    assert_clean(page)


def test_map_page_filter_changes_map_and_table_and_url_reproduces_it(page, browser, dashboard):
    open_page(page, f"{dashboard}/carte")
    total, total_locations = expected_grant_locations()
    assert selected_count(page) == total
    assert leaflet_features(map_frame(page))["points"] == total_locations

    search = page.get_by_label("Recherche (nom, objet)")
    search.fill("Imprimerie")
    search.press("Enter")
    page.wait_for_timeout(500)
    wait_for_app(page)
    grants, locations = expected_grant_locations(text="Imprimerie")
    assert 0 < grants < total
    assert selected_count(page) == grants
    open_table(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    assert int(table.locator("[aria-rowcount]").first.get_attribute("aria-rowcount")) == grants + 1
    assert leaflet_features(map_frame(page))["points"] == locations
    assert parse_qs(urlparse(page.url).query)["q"] == ["Imprimerie"]
    screenshot(page, "carte_filtree")
    assert_clean(page)

    # The copied link reproduces the view in a fresh browser context.
    other = browser.new_context(viewport={"width": 1400, "height": 2400})
    try:
        copy = other.new_page()
        copy.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
        copy.goto(page.url)
        wait_for_app(copy)
        assert selected_count(copy) == grants
        assert leaflet_features(map_frame(copy))["points"] == locations
    finally:
        other.close()


def test_filters_survive_a_page_switch(page, dashboard):
    open_page(page, f"{dashboard}/carte?axes=2")
    grants, _ = expected_grant_locations(axes=[2])
    assert selected_count(page) == grants
    page.get_by_role("link", name="Accueil").click()
    wait_for_app(page)
    page.get_by_role("link", name="Carte des structures financées").click()
    wait_for_app(page)
    assert selected_count(page) == grants
    assert parse_qs(urlparse(page.url).query).get("axes") == ["2"]


def grant_points() -> gpd.GeoDataFrame:
    """Every located demo grant as a point."""
    grants = demo_grants().dropna(subset=["lat", "lon"])
    return gpd.GeoDataFrame(
        grants, geometry=gpd.points_from_xy(grants["lon"], grants["lat"]), crs="EPSG:4326"
    )


def test_qpv_page_flags_exactly_the_uncovered_synthetic_qpv(page, dashboard):
    qpv = synthetic_qpv("2024")
    points = grant_points()
    inside = {row.code_qpv: int(points.within(row.geometry).sum()) for row in qpv.itertuples()}
    uncovered = sorted(qpv.loc[[inside[c] == 0 for c in qpv["code_qpv"]], "nom_qpv"])

    open_page(page, f"{dashboard}/qpv")
    frame = map_frame(page)
    # the two synthetic 2024 squares, over the 3 commune outlines
    assert leaflet_features(frame)["polygons"] == 2 + 3
    assert frame.locator(".ess-note").inner_text() == "Données fictives de démonstration"
    body = page.locator("body").inner_text().replace("\u202f", " ")
    covered = len(qpv) - len(uncovered)
    assert f"{covered} / {len(qpv)}" in body
    if uncovered:
        assert "QPV sans projet financé : " + ", ".join(uncovered) in body
    screenshot(page, "qpv")
    assert_clean(page)


def test_repartition_page_draws_a_choropleth_of_the_three_communes(page, dashboard):
    open_page(page, f"{dashboard}/repartition")
    frame = map_frame(page)
    counts = leaflet_features(frame)
    assert counts["polygons"] >= 3
    assert frame.locator(".ess-legend").count() == 1
    screenshot(page, "repartition")
    assert_clean(page)


def test_land_page_shows_every_site(page, dashboard):
    open_page(page, f"{dashboard}/foncier")
    land = pd.read_csv(DEMO_DIR / "land.csv", dtype=str)
    frame = map_frame(page)
    counts = leaflet_features(frame)
    friches = 139  # Cartofriches extract of ../shared/data/activity
    parcels = int(land["geometry"].notna().sum())
    assert counts["points"] == len(land) - parcels + friches
    screenshot(page, "foncier")
    assert_clean(page)


@pytest.mark.parametrize("slug", ["comparer", "importer", "donnees"])
def test_other_pages_render(page, dashboard, slug):
    open_page(page, f"{dashboard}/{slug}")
    assert page.locator("h1").count() >= 1
    screenshot(page, slug)
    assert_clean(page)


def test_map_page_switches_to_funded_structures(page, dashboard):
    open_page(page, f"{dashboard}/carte")
    structures = pd.read_csv(DEMO_DIR / "structures.csv", dtype=str)
    grants = pd.read_csv(DEMO_DIR / "grants.csv", dtype=str)
    public = structures[structures["statut_diffusion"] != "P"]
    funded = public[public["siret"].isin(set(grants["idBeneficiaire"]))]
    page.get_by_text("Structures financées", exact=True).click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    assert leaflet_features(map_frame(page))["points"] == len(funded)
    assert_clean(page)


def test_presentation_mode_hides_the_sidebar_and_keeps_the_filters(page, dashboard):
    open_page(page, f"{dashboard}/carte?axes=3&presentation=1")
    grants, _ = expected_grant_locations(axes=[3])
    assert selected_count(page) == grants
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert parse_qs(urlparse(page.url).query) == {"axes": ["3"], "presentation": ["1"]}
    screenshot(page, "carte_presentation")
    page.get_by_role("button", name="Quitter le mode présentation").click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    assert page.locator('[data-testid="stSidebar"]').is_visible()
    assert parse_qs(urlparse(page.url).query) == {"axes": ["3"]}
    assert selected_count(page) == grants


def test_compared_territories_come_from_the_url(page, dashboard):
    open_page(page, f"{dashboard}/comparer?territoires=quartier:1,quartier:10")
    chips = page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"]').first.inner_text()
    assert "Quartier – Bois-Blancs" in chips and "Quartier – Wazemmes" in chips
    assert "Lille-Centre" not in chips  # the default pair is not used
    assert parse_qs(urlparse(page.url).query)["territoires"] == ["quartier:1,quartier:10"]
    assert_clean(page)
