"""Maps readable without internet: the vector base, place names, legend, metric scale, phone view.

The page fixture aborts every request to a host other than localhost, tile servers included: the
funded map must then switch to its vector base and still show the commune and quartier outlines
with their names (issue 11 acceptance). A second run serves tiles from a stand-in server to check
that tiles are kept when they load.
"""

from __future__ import annotations

import base64

from tests.browser.helpers import leaflet_features, map_frame, screenshot, wait_for_app

# A 1x1 light grey PNG: what the stand-in tile server answers.
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)
LILLE_QUARTIERS = {
    "Bois-Blancs",
    "Lille-Centre",
    "Faubourg de Béthune",
    "Fives",
    "Lille-Sud",
    "Lille-Moulins",
    "Saint-Maurice Pellevoisin",
    "Vauban-Esquermes",
    "Vieux-Lille",
    "Wazemmes",
}

_VISIBLE_LABELS_JS = """
(kind) => {
  const box = document.getElementById("map_div").getBoundingClientRect();
  return [...document.querySelectorAll(".ess-label-" + kind)].filter(el => {
    const r = el.getBoundingClientRect();
    return getComputedStyle(el).visibility === "visible" && r.width > 0 &&
      r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
  }).map(el => el.textContent);
}
"""


def visible_labels(frame, kind: str) -> list[str]:
    """Texts of the place names of one kind drawn, not hidden, wholly inside the map."""
    return frame.evaluate(_VISIBLE_LABELS_JS, kind)


def wait_for_base(frame, expected: str, timeout_ms: int = 15000) -> None:
    """Wait until the map says which base it shows (BaseSwitch sets data-ess-base)."""
    frame.wait_for_function(
        "(b) => window.map.getContainer().getAttribute('data-ess-base') === b",
        arg=expected,
        timeout=timeout_ms,
    )


def open_map(page, url: str, width: int = 1280, height: int = 1000):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url)
    wait_for_app(page)
    return map_frame(page)


def test_funded_map_without_network_shows_outlines_and_names(page, dashboard):
    frame = open_map(page, f"{dashboard}/carte")
    # Tiles were asked for and refused: the map switched to its vector base.
    assert any("tile.openstreetmap.org" in u for u in page.blocked), page.blocked
    wait_for_base(frame, "vectoriel")
    assert frame.evaluate("() => document.querySelectorAll('.leaflet-tile-pane img').length") == 0
    background = frame.evaluate("() => getComputedStyle(window.map.getContainer()).backgroundColor")
    assert background == "rgb(242, 239, 233)"  # palettes.MAP_BACKGROUND, not Leaflet's grey

    # Outlines really drawn in the SVG: 3 communes + 12 quartiers + the chosen QPV list, and the
    # light IRIS outlines of the three communes underneath.
    counts = leaflet_features(frame)
    assert counts["polygons"] >= 3 + 12
    assert counts["base"] > 50  # 110 IRIS in Lille, Hellemmes and Lomme (RP 2019)
    drawn = frame.locator(".leaflet-overlay-pane path.leaflet-interactive").count()
    assert drawn >= counts["polygons"]
    assert frame.locator(".leaflet-essBase-pane path").count() == counts["base"]

    # Their names, readable on the map: the three communes, most of Lille's ten quartiers.
    communes = visible_labels(frame, "commune")
    assert sorted(communes) == ["Hellemmes", "Lille", "Lomme"], communes
    quartiers = set(visible_labels(frame, "quartier"))
    assert len(quartiers & LILLE_QUARTIERS) >= 6, quartiers
    assert quartiers <= LILLE_QUARTIERS  # Hellemmes and Lomme are named once, as communes

    # Layer switcher in French (folded into its button), the offline base selected; French
    # zoom buttons; scale in metres only; a legend.
    toggle = frame.locator(".leaflet-control-layers-toggle")
    assert toggle.get_attribute("title") == "Couches de la carte"
    assert frame.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoom avant"
    assert frame.locator(".leaflet-control-zoom-out").get_attribute("title") == "Zoom arrière"
    control = frame.locator(".leaflet-control-layers").text_content()
    assert "Fond de plan OpenStreetMap" in control and "Fond vectoriel (hors ligne)" in control
    assert "openstreetmap" not in control.replace("OpenStreetMap", "")
    checked = frame.evaluate(
        "() => [...document.querySelectorAll('.leaflet-control-layers-base label')]"
        ".filter(l => l.querySelector('input').checked).map(l => l.textContent.trim())"
    )
    assert checked == ["Fond vectoriel (hors ligne)"]
    scale = frame.locator(".leaflet-control-scale").inner_text()
    assert ("km" in scale or " m" in scale) and "mi" not in scale and "ft" not in scale
    assert frame.locator(".leaflet-control-scale-line").count() == 1
    legend = frame.locator(".ess-legend").inner_text()
    assert "Communes" in legend and "Subventions (par lieu)" in legend
    assert "QPV 2015" not in legend  # hidden layer, hidden row
    page.locator('iframe[title="streamlit_folium.st_folium"]').scroll_into_view_if_needed()
    screenshot(page, "carte_hors_ligne")
    frame.locator(".leaflet-control-layers").hover()
    frame.locator(".leaflet-control-layers-expanded").wait_for(timeout=5000)
    assert frame.get_by_text("Fond vectoriel (hors ligne)").is_visible()
    screenshot(page, "carte_hors_ligne_couches")


def test_tiles_are_kept_when_a_tile_server_answers(page, dashboard):
    page.route(
        "https://tile.openstreetmap.org/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=TILE_PNG),
    )
    frame = open_map(page, f"{dashboard}/carte")
    frame.wait_for_function(
        "() => document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded').length > 0",
        timeout=15000,
    )
    page.wait_for_timeout(500)
    assert frame.evaluate("() => window.map.getContainer().getAttribute('data-ess-base')") == (
        "tuiles"
    )
    # The outlines and names are drawn over the tiles too.
    assert sorted(visible_labels(frame, "commune")) == ["Hellemmes", "Lille", "Lomme"]


def test_tiles_held_without_answer_give_way_to_the_vector_base(page, dashboard):
    held = []
    page.route("https://tile.openstreetmap.org/**", lambda route: held.append(route))  # no answer
    frame = open_map(page, f"{dashboard}/carte")
    assert held, "no tile was asked for"
    # No tile and no error ever comes: only the timeout (geo.maps.TILE_TIMEOUT_MS) can switch.
    assert not any("tile.openstreetmap.org" in u for u in page.blocked)
    wait_for_base(frame, "vectoriel", timeout_ms=30000)
    assert sorted(visible_labels(frame, "commune")) == ["Hellemmes", "Lille", "Lomme"]
    for route in held:
        route.abort()


def test_land_map_has_a_legend_of_its_statuses(page, dashboard):
    frame = open_map(page, f"{dashboard}/foncier")
    legend = frame.locator(".ess-legend")
    assert legend.is_visible()
    text = legend.inner_text()
    assert "Sites disponibles" in text and "Sites attribués" in text
    assert "Friches (Cartofriches)" in text and "QPV 2024" in text
    # Each row has its swatch: a disc for the sites, a line for the outlines.
    rows = legend.locator(".ess-legend-row")
    assert rows.count() >= 4
    screenshot(page, "foncier_legende")


def test_phone_home_map_shows_lomme_and_hellemmes(page, dashboard):
    frame = open_map(page, f"{dashboard}/", width=390, height=844)
    assert sorted(visible_labels(frame, "commune")) == ["Hellemmes", "Lille", "Lomme"]
    # The whole extent of the three communes is inside the map's view.
    inside = frame.evaluate(
        """() => {
          const b = window.map.getBounds();
          let all = null;
          window.map.eachLayer(l => {
            if (l.feature && l.getBounds && l.options.pane !== "essBase") {
              all = all ? all.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(),
                                                                      l.getBounds().getNorthEast());
            }
          });
          return all !== null && b.contains(all);
        }"""
    )
    assert inside
    # The legend starts folded on a phone (it would hide half of the map) and opens on a tap.
    toggle = frame.locator(".ess-legend-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not frame.locator(".ess-legend").get_by_text("Subventions (par lieu)").is_visible()
    page.locator('iframe[title="streamlit_folium.st_folium"]').scroll_into_view_if_needed()
    screenshot(page, "accueil_telephone")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert frame.locator(".ess-legend").get_by_text("Subventions (par lieu)").is_visible()


def test_names_follow_the_zoom_and_the_legend_follows_the_layers(page, dashboard):
    frame = open_map(page, f"{dashboard}/carte")
    wait_for_base(frame, "vectoriel")
    legend = frame.locator(".ess-legend")
    # Zoomed out: commune names only. Zoomed in on Lille-Centre: IRIS names appear.
    frame.evaluate("() => window.map.setZoom(11, {animate: false})")
    page.wait_for_timeout(300)
    assert visible_labels(frame, "quartier") == []
    assert len(visible_labels(frame, "commune")) >= 1
    frame.evaluate("() => window.map.setView([50.6366, 3.0635], 15, {animate: false})")
    page.wait_for_timeout(300)
    assert len(visible_labels(frame, "iris")) >= 3
    # Labels never overlap one another.
    overlaps = frame.evaluate(
        """() => {
          const r = [...document.querySelectorAll('.ess-label')]
            .filter(e => getComputedStyle(e).visibility === 'visible')
            .map(e => e.getBoundingClientRect()).filter(b => b.width > 0);
          let n = 0;
          for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {
            const a = r[i], b = r[j];
            if (a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top) n++;
          }
          return n;
        }"""
    )
    assert overlaps == 0
    # Showing the 2015 QPV list from the layer switcher adds it to the legend.
    assert "QPV 2015" not in legend.inner_text()
    frame.locator(".leaflet-control-layers").hover()
    frame.locator(".leaflet-control-layers-overlays label", has_text="QPV 2015").locator(
        "input"
    ).check()
    page.wait_for_timeout(300)
    assert "QPV 2015" in legend.inner_text()
    # Points swapped in by a page option (funded structures instead of grants) enter the legend.
    page.get_by_text("Structures financées", exact=True).click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    frame = map_frame(page)
    frame.locator(".ess-legend", has_text="Structures financées").wait_for(timeout=10000)
    assert "Subventions (par lieu)" not in frame.locator(".ess-legend").inner_text()


def test_presentation_mode_enlarges_names_and_legend(page, dashboard):
    sizes = {}
    for query in ("", "?presentation=1"):
        frame = open_map(page, f"{dashboard}/carte{query}", width=1920, height=1080)
        sizes[query] = frame.evaluate(
            """() => ({
              commune: parseFloat(getComputedStyle(document.querySelector('.ess-label-commune'))
                .fontSize),
              legend: parseFloat(getComputedStyle(document.querySelector('.ess-legend'))
                .fontSize),
            })"""
        )
    assert sizes[""] == {"commune": 16, "legend": 13}
    assert sizes["?presentation=1"] == {"commune": 24, "legend": 20}
