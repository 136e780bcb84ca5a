"""The map draws in Chromium with no network but localhost, and data never run as code."""

from __future__ import annotations

from pathlib import Path

from tests.browser.helpers import leaflet_features, map_frame, screenshot, wait_for_app

APP = Path(__file__).parent / "apps" / "map_smoke.py"
HOSTILE = "<script>window.pwned=1</script>{{ x }}"


def _click_point(frame, lat: float, lon: float) -> None:
    """Click the map where a lat/lon is drawn (position computed by Leaflet itself)."""
    point = frame.evaluate(
        "([lat, lon]) => { const p = window.map.latLngToContainerPoint([lat, lon]);"
        " return {x: p.x, y: p.y}; }",
        [lat, lon],
    )
    frame.locator("#map_div").click(position=point)


def test_map_draws_offline_and_escapes_names(page, streamlit_app):
    base_url = streamlit_app(APP)
    page.goto(base_url)
    wait_for_app(page)
    frame = map_frame(page)

    assert frame.evaluate("() => typeof window.L") == "object"
    assert frame.evaluate("() => window.L.version") == "1.9.3"
    assert frame.evaluate("() => typeof window.L.markerClusterGroup") == "function"
    # Leaflet came from the app's static files, not from a CDN.
    scripts = frame.evaluate("() => [...document.scripts].map(s => s.src).filter(Boolean)")
    assert any("/app/static/vendor/leaflet/leaflet.js" in s for s in scripts), scripts

    counts = leaflet_features(frame)
    assert counts == {"points": 3, "polygons": 1, "lines": 0, "total": 4, "base": 0}
    # The polygon and the three markers are really in the SVG overlay, not only in memory.
    assert frame.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == 4
    legend = frame.locator(".ess-legend")
    assert "Montant attribué" in legend.inner_text()
    assert "Aucun projet" in legend.inner_text()

    _click_point(frame, 50.615, 3.060)
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert popup.inner_text() == f"Nom\u00a0: {HOSTILE}\nForme juridique\u00a0: SCOP"
    assert popup.locator("script").count() == 0
    assert frame.evaluate("() => typeof window.pwned") == "undefined"
    assert page.evaluate("() => typeof window.pwned") == "undefined"

    page.wait_for_timeout(500)  # popup fade-in, for a readable screenshot
    shot = screenshot(page, "map_smoke")
    assert shot.stat().st_size > 0
    assert page.blocked == [], page.blocked
    assert page.errors == [], page.errors
