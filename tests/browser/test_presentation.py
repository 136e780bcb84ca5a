"""The speaker's presentation (pages/presentation.py) in headless Chromium, as at an event.

Every scene at the two projector sizes: its map (with features drawn) or chart lies entirely in
the first screen, nothing scrolls or overflows sideways, no shell command shows. The keys a
speaker or a clicker sends move between scenes, not while typing; the URL reproduces a scene.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from geo import scenes
from tests.browser.helpers import leaflet_features, map_frame, screenshot, wait_for_app
from tests.browser.test_pages import expected_grant_locations

SIZES = [(1280, 720), (1920, 1080)]
MAP_SCENES = {"funded_map", "qpv", "territories", "land"}

# Where the scene's map or chart is, and what would scroll: read in the page's own terms.
GEOMETRY = """
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const target = document.querySelector('iframe[title="streamlit_folium.st_folium"]')
    || document.querySelector('.vega-embed');
  const box = target ? target.getBoundingClientRect() : null;
  const wide = [...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
    .map(el => el.tagName + '.' + (el.className && el.className.baseVal === undefined
      ? el.className : ''));
  return {
    viewport: [innerWidth, innerHeight],
    scroll: [main.scrollHeight - main.clientHeight, document.documentElement.scrollHeight
      - innerHeight, document.documentElement.scrollWidth - innerWidth],
    box: box && {top: box.top, bottom: box.bottom, left: box.left, right: box.right,
      height: box.height, width: box.width},
    kind: target ? target.tagName : null,
    wide: wide.slice(0, 5),
  };
}
"""


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def _scene_number(page) -> int:
    return int(parse_qs(urlparse(page.url).query)["scene"][0])


def _press(page, key: str) -> None:
    """Press a key on the page and wait for the scene it asks for to be drawn."""
    before = page.url
    page.keyboard.press(key)
    page.wait_for_function("(url) => location.href !== url", arg=before, timeout=15000)
    wait_for_app(page)


def _assert_no_command(page) -> None:
    body = page.locator('[data-testid="stMain"]').inner_text()
    for command in ("python -m", "loaders sync", "streamlit run", "pip install"):
        assert command not in body, (command, body[:500])
    assert page.locator('[data-testid="stMain"] code').count() == 0


def _assert_no_visible_command(page) -> None:
    """Normal mode: a command may wait in a folded expander, never on the screen."""
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "python -m" not in body, body[:500]
    assert page.locator('[data-testid="stMain"] code:visible').count() == 0


@pytest.mark.parametrize("width,height", SIZES)
def test_every_scene_fits_the_screen(page, dashboard, width, height):
    page.set_viewport_size({"width": width, "height": height})
    for number, scene in enumerate(scenes.SCENES, start=1):
        _open(page, f"{dashboard}/?presentation=1&scene={number}")
        expect(page.locator("h1").first).to_have_text(scene.title)
        if scene.kind in MAP_SCENES:
            assert leaflet_features(map_frame(page))["total"] > 0, scene.slug  # not a blank map
        else:
            chart = page.locator(".vega-embed").first
            expect(chart).to_be_visible()
            assert chart.locator("svg, canvas").count() >= 1
        page.wait_for_timeout(500)  # the chart or map settles to its final height
        geometry = page.evaluate(GEOMETRY)
        shot = screenshot(page, f"scene_{number}_{width}x{height}")
        box = geometry["box"]
        assert box is not None, (scene.slug, shot)
        assert box["height"] >= 200, (scene.slug, box, shot)
        assert 0 <= box["top"] and box["bottom"] <= height, (scene.slug, box, shot)
        assert 0 <= box["left"] and box["right"] <= width, (scene.slug, box, shot)
        assert geometry["scroll"] == [0, 0, 0], (scene.slug, geometry, shot)
        assert geometry["wide"] == [], (scene.slug, geometry, shot)
        # the sources line, last of the scene, is on the screen too (Licence Ouverte)
        sources = page.locator(".ess-scene-sources").bounding_box()
        assert sources and sources["y"] + sources["height"] <= height, (scene.slug, shot)
        _assert_no_command(page)
        # bigger screen, bigger map or chart (the scene fills the screen it is given); the
        # comparison's bars keep a bar's height (two territories do not fill a screen)
        if (width, height) == SIZES[1] and scene.kind != "compare":
            assert box["height"] > 0.55 * height, (scene.slug, box)


def test_keys_advance_and_go_back_through_different_scenes(page, dashboard):
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, f"{dashboard}/?presentation=1")
    titles = [page.locator("h1").first.inner_text()]
    assert titles[0] == scenes.SCENES[0].title
    for _ in range(5):  # the acceptance: → five times, five different scenes
        _press(page, "ArrowRight")
        titles.append(page.locator("h1").first.inner_text())
        _assert_no_command(page)
    assert titles == [s.title for s in scenes.SCENES[:6]]
    assert _scene_number(page) == 6
    _press(page, "ArrowLeft")
    assert _scene_number(page) == 5
    _press(page, "PageUp")  # what a presentation clicker sends
    assert _scene_number(page) == 4
    _press(page, "PageDown")
    assert _scene_number(page) == 5
    _press(page, "End")
    assert _scene_number(page) == len(scenes.SCENES)
    expect(page.locator("h1").first).to_have_text(scenes.SCENES[-1].title)
    _press(page, "Home")
    assert _scene_number(page) == 1
    expect(page.locator("h1").first).to_have_text(scenes.SCENES[0].title)


def test_keys_typed_in_a_field_do_not_change_the_scene(page, dashboard):
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, f"{dashboard}/?presentation=1&scene=2")
    # A field of the document (as Streamlit's own inputs are): its arrows move its caret.
    page.evaluate(
        "() => { const i = document.createElement('input'); i.id = 'typing';"
        " document.querySelector('[data-testid=\"stMain\"]').prepend(i); }"
    )
    page.locator("#typing").fill("texte")
    for key in ("ArrowLeft", "ArrowRight", "Home", "End", "PageDown"):
        page.locator("#typing").press(key)
    page.wait_for_timeout(1500)
    wait_for_app(page)
    assert _scene_number(page) == 2
    expect(page.locator("h1").first).to_have_text(scenes.SCENES[1].title)


def test_buttons_move_and_the_url_reproduces_the_scene_and_its_filters(page, browser, dashboard):
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, f"{dashboard}/?presentation=1&scene=1&axes=3")
    previous = page.get_by_role("button", name="Précédent")
    expect(previous).to_be_disabled()  # nothing before the first scene
    page.get_by_role("button", name="Suivant").click()
    page.wait_for_function("() => location.search.includes('scene=2')")
    wait_for_app(page)
    expect(page.locator("h1").first).to_have_text(scenes.SCENES[1].title)
    grants, locations = expected_grant_locations(axes=[3])
    assert leaflet_features(map_frame(page))["points"] == locations
    query = parse_qs(urlparse(page.url).query)
    assert query == {"presentation": ["1"], "scene": ["2"], "axes": ["3"]}
    body = page.locator('[data-testid="stMain"]').inner_text().replace("\u202f", " ")
    assert f"{grants} subventions" in body

    # The link a speaker prepared opens the same scene with the same filters elsewhere.
    other = browser.new_context(viewport={"width": 1280, "height": 720}, locale="fr-FR")
    try:
        copy = other.new_page()
        copy.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
        _open(copy, page.url)
        expect(copy.locator("h1").first).to_have_text(scenes.SCENES[1].title)
        assert leaflet_features(map_frame(copy))["points"] == locations
        assert parse_qs(urlparse(copy.url).query) == query
    finally:
        other.close()

    page.get_by_role("button", name="Précédent").click()
    page.wait_for_function("() => location.search.includes('scene=1')")
    wait_for_app(page)
    expect(page.locator("h1").first).to_have_text(scenes.SCENES[0].title)


def test_the_menu_entry_opens_the_presentation_and_the_exit_keeps_the_filters(page, dashboard):
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, f"{dashboard}/presentation?axes=2")
    expect(page.locator("h1").first).to_have_text(scenes.SCENES[0].title)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert parse_qs(urlparse(page.url).query)["presentation"] == ["1"]
    page.get_by_role("button", name="Quitter la présentation").click()
    page.wait_for_function("() => !location.search.includes('presentation')")
    wait_for_app(page)
    assert page.locator('[data-testid="stSidebar"]').is_visible()
    assert parse_qs(urlparse(page.url).query) == {"axes": ["2"]}
    expect(page.locator("h1").first).to_have_text(
        "Économie sociale et solidaire à Lille, Hellemmes et Lomme"
    )


def test_the_document_is_french_on_every_kind_of_page(page, dashboard):
    for url in (f"{dashboard}/", f"{dashboard}/carte", f"{dashboard}/?presentation=1"):
        _open(page, url)
        assert page.evaluate("document.documentElement.lang") == "fr", url
    # .streamlit/config.toml, toolbarMode = "minimal": no menu of English items in the top bar
    _open(page, f"{dashboard}/carte")
    assert page.locator("header").count() >= 1
    assert page.locator("header").get_by_role("button").count() == 0
    assert page.get_by_text("Record a screencast").count() == 0


def test_scene_styles_take_effect(page, dashboard):
    """_SCENE_CSS (pages/common/document.py) uses test ids: checked through the result."""
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, f"{dashboard}/?presentation=1&scene=1")
    # no top bar: the navigation row starts at the top of the screen, above the title
    assert page.get_by_role("button", name="Suivant").bounding_box()["y"] < 60
    assert page.locator("h1").first.bounding_box()["y"] < 130
    # the metrics are larger than Streamlit's 2.25rem (45 px at the projector's 20 px root)
    value = page.get_by_text("Montant engagé", exact=True).first.element_handle()
    size = page.evaluate(
        "(el) => parseFloat(getComputedStyle("
        "el.closest('label').parentElement.lastElementChild).fontSize)",
        value,
    )
    assert size > 48, size
    # and the sources line is in small type, still readable (at least 12 px)
    small = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.ess-scene-sources')).fontSize)"
    )
    assert 12 <= small < 16, small


MAP_PAGES = ["/", "/carte", "/qpv", "/repartition", "/foncier"]


@pytest.mark.parametrize("width,height", [(1280, 720), (1440, 900)])
def test_the_map_is_on_the_first_screen_of_every_map_page(page, dashboard, width, height):
    """Normal mode: notices and figures sit under the map, whose top part shows on opening."""
    page.set_viewport_size({"width": width, "height": height})
    for path in MAP_PAGES:
        _open(page, f"{dashboard}{path}")
        assert leaflet_features(map_frame(page))["total"] > 0, path
        box = page.locator('iframe[title="streamlit_folium.st_folium"]').first.bounding_box()
        shot = screenshot(page, f"first_screen{path.replace('/', '_') or '_home'}_{width}")
        # at least 200 px of the map (a third of the smallest screen) without scrolling
        assert box["y"] <= height - 200, (path, box, shot)
        _assert_no_visible_command(page)
