"""Helpers for browser tests: wait for Streamlit, reach the st_folium iframe, read Leaflet state."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.conftest import REPO

ARTIFACTS = REPO / "tests" / "artifacts"
COMPONENT_FRAME = re.compile(r"/component/streamlit_folium\.st_folium/")


class AppError(AssertionError):
    """The Streamlit page shows an exception."""


def wait_for_app(page, timeout_s: float = 60) -> None:
    """Return once Streamlit has finished running the script; raise AppError on an exception.

    Finished = the app view is there and no status widget is showing a running script for a
    short while (reruns triggered by components start right after the first run).
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        exception = page.locator('[data-testid="stException"]')
        if exception.count():
            raise AppError(f"Exception affichée par l'app :\n{exception.first.inner_text()}")
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        has_content = page.locator('[data-testid="stMain"], section.main').count() > 0
        if running or not has_content:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            return
        page.wait_for_timeout(200)
    raise TimeoutError(f"L'app tourne encore après {timeout_s} s")


def map_frame(page, timeout_s: float = 30):
    """The Frame of the (first) st_folium component iframe, once its Leaflet map exists."""
    page.wait_for_selector(
        'iframe[title="streamlit_folium.st_folium"]', state="attached", timeout=timeout_s * 1000
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if COMPONENT_FRAME.search(frame.url):
                try:
                    if frame.evaluate("() => !!(window.map && window.L)"):
                        return frame
                except Exception:  # noqa: BLE001, S110 - frame still navigating
                    pass
        page.wait_for_timeout(200)
    urls = [f.url for f in page.frames]
    raise TimeoutError(f"Pas de carte Leaflet dans l'iframe st_folium (frames : {urls})")


_COUNT_JS = """
() => {
  const map = window.map;
  const groups = [];
  const MCG = window.L.MarkerClusterGroup;
  map.eachLayer(l => { if (MCG && l instanceof MCG) groups.push(l); });
  const counts = {points: 0, polygons: 0, lines: 0, total: 0};
  const add = (feature) => {
    const t = feature && feature.geometry && feature.geometry.type;
    if (!t) return;
    if (t.endsWith('Point')) counts.points += 1;
    else if (t.endsWith('Polygon')) counts.polygons += 1;
    else counts.lines += 1;
    counts.total += 1;
  };
  // Clustered markers: every marker of the group, whether drawn alone or inside a cluster.
  groups.forEach(g => g.getLayers().forEach(l => add(l.feature)));
  const inGroup = l => groups.some(g => g.hasLayer(l));
  map.eachLayer(l => { if (l.feature && !inGroup(l)) add(l.feature); });
  return counts;
}
"""


def leaflet_features(frame) -> dict[str, int]:
    """Vector features drawn on window.map, by kind: {"points", "polygons", "lines", "total"}.

    Read from the Leaflet map object (not the DOM): markers inside clusters count one each.
    """
    return frame.evaluate(_COUNT_JS)


def leaflet_feature_count(frame) -> int:
    """Number of vector features/markers on the map, clustered markers included."""
    return leaflet_features(frame)["total"]


def screenshot(page, name: str) -> Path:
    """Full-page PNG in tests/artifacts/ (gitignored), returned for the test's message."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
