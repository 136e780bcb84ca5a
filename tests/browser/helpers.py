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


UNEXPECTED_ERROR = "Une erreur inattendue empêche d'afficher cette page"
# Placeholders Streamlit draws while an element's code is still loading in the browser (its
# elements are loaded lazily: on a busy machine a finished run can show them for seconds).
SKELETONS = ", ".join(
    f'[data-testid="{t}"]' for t in ("stSkeleton", "stSkeletonElement", "stAppSkeleton")
)


def wait_for_app(page, timeout_s: float = 90) -> None:
    """Return once Streamlit has finished running the script; raise AppError on an exception.

    Finished = the page has its title (every page of the dashboard and the test apps have an
    h1), the app root reports `data-test-script-state="notRunning"` for a full second (reruns
    triggered by components start right after the first run), and no element is stale. The title
    matters on a cold server: the root may read "notRunning" before the first run has started;
    so do the loading placeholders (SKELETONS).
    That attribute is Streamlit's own test hook; if a release drops it, this raises instead of
    returning early, so the browser tests fail loudly rather than assert on a half-drawn page.
    An exception box or the dashboard's French error message (app.py) raise AppError.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        exception = page.locator('[data-testid="stException"]')
        if exception.count():
            raise AppError(f"Exception affichée par l'app :\n{exception.first.inner_text()}")
        unexpected = page.get_by_text(UNEXPECTED_ERROR)
        if unexpected.count():
            raise AppError(f"Erreur affichée par l'app :\n{unexpected.first.inner_text()}")
        state = page.locator('[data-testid="stApp"]').first.get_attribute("data-test-script-state")
        if state is None:
            raise AssertionError("stApp n'a plus d'attribut data-test-script-state : à adapter")
        stale = page.locator('[data-stale="true"]').count()
        titled = page.locator('[data-testid="stMain"] h1').count() > 0
        loading = page.locator(SKELETONS).count()
        if state != "notRunning" or stale or not titled or loading:
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
  const counts = {points: 0, polygons: 0, lines: 0, total: 0, base: 0};
  const add = (feature, layer) => {
    const t = feature && feature.geometry && feature.geometry.type;
    if (!t) return;
    if (layer.options && layer.options.pane === "essBase") { counts.base += 1; return; }
    if (t.endsWith('Point')) counts.points += 1;
    else if (t.endsWith('Polygon')) counts.polygons += 1;
    else counts.lines += 1;
    counts.total += 1;
  };
  // Clustered markers: every marker of the group, whether drawn alone or inside a cluster.
  groups.forEach(g => g.getLayers().forEach(l => add(l.feature, l)));
  const inGroup = l => groups.some(g => g.hasLayer(l));
  map.eachLayer(l => { if (l.feature && !inGroup(l)) add(l.feature, l); });
  return counts;
}
"""


def leaflet_features(frame) -> dict[str, int]:
    """Vector features drawn on window.map, by kind: {"points", "polygons", "lines", "total"}.

    Read from the Leaflet map object (not the DOM): markers inside clusters count one each.
    The light outlines of the vector base (IRIS, in the "essBase" pane) are counted apart, as
    "base", and not in the totals: the other counts are the page's data.
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


def open_table(page) -> None:
    """Opens the map page's folded table (a rerun builds it)."""
    page.get_by_text("Tableau de la sélection", exact=True).click()
    page.wait_for_timeout(300)
    wait_for_app(page)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
