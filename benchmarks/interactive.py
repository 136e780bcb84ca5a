"""Interactive speed of the funded map page in a real browser, against a static folium page.

10 000 synthetic seeded grants are imported into a throw-away ESS_HOME by
benchmarks/synthetic_grants.py (3 000 structures inside Lille, Hellemmes and Lomme; reference
layers from ../shared/data, read in place; the synthetic QPV). One `streamlit run app.py` serves
it; headless Chromium (/usr/bin/chromium, network cut to localhost) measures, in the same run:

- static: the same points and outlines as a plain folium HTML page (the page's own map builder,
  saved with folium), from navigation until every grant point is on the Leaflet map (baseline);
- map page: /carte in a new session of the warm server, until every grant point is drawn;
- search: typing part of a beneficiary's name in the search box, until the map holds exactly the
  matching points (a new search per run, so no run reuses another's cached map);
- first page: a new session's first page (Accueil) until its title, and until its map is drawn;
- map page from the menu: in that session, a click on « Carte des structures financées » until
  its map is drawn (the usual path: the Streamlit shell is already loaded);
- floor: a minimal Streamlit page (a title and the same map through st_folium), new session
  until drawn: what any Streamlit page pays before its map, whatever the dashboard does;
- shell: a Streamlit page holding only a title, new session until the title shows: what the
  framework costs before any element at all (its scripts, its websocket, one script run);
- websocket bytes: what the server sends for one map page, and for one search;
- memory: the server's resident memory (/proc) before and after N more open sessions.

Expected point counts are computed with the app's own functions (filters, aggregation per place).
With --with-load (the default) and benchmarks/load.py present, the load figures of
`measure_load` for 10, 25 and 50 sessions are added. Run from the repository root:

    python benchmarks/interactive.py [--grants 10000] [--runs 3] [--sessions 5] [--no-with-load]
    python -m benchmarks.interactive [...]

Prints readable lines, then ONE JSON line with every figure and the ratios to the targets.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.synthetic_grants import build_store  # noqa: E402

SEED = 0
# Each search of the benchmark types one of these: "n°12" finds the synthetic structures n°12,
# n°120-129 and n°1200-1299 (111 of 3 000), and their grants.
SEARCHES = tuple(f"n°{k}" for k in range(12, 24))
TARGETS = {
    "map_page_ratio": 2.0,  # map page drawn within 2x the static page
    "search_ratio": 1.0,  # a search redraws within 1x the static page
    "first_page_s": 3.0,  # a new session's first page on a warm server
    "ws_bytes_map_page": 1.5e6,  # websocket bytes of one map page
    "memory_per_session_mb": 50.0,  # server memory growth per session
}
TIMEOUT_S = 180


# --------------------------------------------------------------------------------------------------
# Expected figures, computed with the app's own functions
# --------------------------------------------------------------------------------------------------


def default_map(search: str | None = None):
    """The funded map page's map of the default selection (or of a search), built with the app's
    own functions from the ESS_HOME of the environment; also returns the number of its places."""
    from geo import filters
    from geo.pagemaps import funded_map, grants_points
    from loaders.datasets import load_datasets
    from loaders.layers import load_layers
    from loaders.pipeline import enriched

    loaded = load_layers()
    data = enriched(load_datasets(), loaded)
    layers = {name: gdf for name, (gdf, _) in loaded.items()}
    chosen = filters.from_query_params({"q": search} if search else {})
    selected = filters.apply(data.grants, data.structures, chosen)
    m = funded_map(selected, layers, show_qpv=("qpv_2024", "qpv_2015"))
    return m, len(grants_points(selected))


# A minimal Streamlit page showing the same map with st_folium: what any Streamlit page pays
# (the framework's and the component's start) before a map is drawn, whatever the dashboard does.
FLOOR_APP = """import copy

import streamlit as st
from streamlit_folium import st_folium

from benchmarks.interactive import default_map


@st.cache_resource
def the_map():
    return default_map()[0]


st.title("Référence : la même carte dans une page Streamlit minimale")
st_folium(copy.deepcopy(the_map()), height=560, use_container_width=True, returned_objects=[])
"""


# A Streamlit page with a title only: the framework's own start, before any element.
SHELL_APP = """import streamlit as st

st.title("Référence : une page Streamlit vide")
"""


def expected_points(home: Path, needles: list[str]) -> tuple[int, dict[str, int], Path]:
    """Grant places on the default map and for each search, with the app's functions.

    Runs in a child process on `home`; writes the static page (the page's own map of the default
    selection, saved by folium) and returns its path.
    """
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from benchmarks.interactive import default_map\n"
        "m, n = default_map()\n"
        "out = {'default': n, 'needles': {w: default_map(w)[1] for w in sys.argv[2:]}}\n"
        "page = Path(sys.argv[1]) / 'component' / 'static' / 'index.html'\n"
        "page.parent.mkdir(parents=True, exist_ok=True)\n"
        "m.save(str(page))\n"
        "print(json.dumps(out))\n"
    )
    static_root = home / "static_page"
    env = {**os.environ, "ESS_HOME": str(home), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(static_root), *needles],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Calcul des points attendus impossible :\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    vendor = static_root / "app" / "static"
    vendor.mkdir(parents=True, exist_ok=True)
    (vendor / "vendor").symlink_to(REPO / "static" / "vendor", target_is_directory=True)
    return figures["default"], figures["needles"], static_root


def floor_seconds(browser, base: str, n_all: int, runs: int) -> float:
    """Median seconds for a new session of the minimal Streamlit page to draw the same map."""
    from tests.browser.helpers import wait_for_app

    context, page = new_page(browser)
    page.goto(base)
    wait_for_app(page, TIMEOUT_S)  # warm-up: the map is built and cached
    context.close()
    times = []
    for _ in range(runs):
        context, page = new_page(browser)
        start = time.perf_counter()
        page.goto(base)
        times.append(wait_points(page, n_all, start, component=True))
        context.close()
    return statistics.median(times)


def shell_seconds(browser, base: str, runs: int) -> float:
    """Median seconds for a new session of a title-only Streamlit page to show its title."""
    times = []
    for _ in range(runs + 1):  # the first run warms the server up
        context, page = new_page(browser)
        start = time.perf_counter()
        page.goto(base)
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=TIMEOUT_S * 1000)
        times.append(time.perf_counter() - start)
        context.close()
    return statistics.median(times[1:])


# --------------------------------------------------------------------------------------------------
# Browser measurements
# --------------------------------------------------------------------------------------------------

# Points on whatever Leaflet map the window holds (st_folium names it window.map; a folium page
# names it map_<id>): clustered markers count one each, as in tests/browser/helpers.py.
_POINTS_JS = """
() => {
  const L = window.L;
  if (!L) return -1;
  let map = window.map instanceof L.Map ? window.map : null;
  if (!map) for (const k of Object.keys(window)) {
    if (k.startsWith('map_') && window[k] instanceof L.Map) { map = window[k]; break; }
  }
  if (!map || window.__stale === map) return -1;
  const MCG = L.MarkerClusterGroup;
  const groups = [];
  map.eachLayer(l => { if (MCG && l instanceof MCG) groups.push(l); });
  let n = 0;
  const isPoint = f => f && f.geometry && f.geometry.type.endsWith('Point');
  groups.forEach(g => g.getLayers().forEach(l => { if (isPoint(l.feature)) n += 1; }));
  const inGroup = l => groups.some(g => g.hasLayer(l));
  map.eachLayer(l => { if (isPoint(l.feature) && !inGroup(l)) n += 1; });
  return n;
}
"""


def _points_in(frame) -> int:
    try:
        return int(frame.evaluate(_POINTS_JS))
    except Exception:  # noqa: BLE001 - frame navigating or detached: not drawn yet
        return -1


def wait_points(page, expected: int, start: float, *, component: bool) -> float:
    """Seconds from `start` until a map of the page (or of a st_folium frame) has `expected`
    points; raises TimeoutError. A map marked stale (window.__stale) does not count."""
    from tests.browser.helpers import COMPONENT_FRAME

    deadline = start + TIMEOUT_S
    while time.perf_counter() < deadline:
        frames = (
            [f for f in page.frames if COMPONENT_FRAME.search(f.url)]
            if component
            else [page.main_frame]
        )
        if any(_points_in(f) == expected for f in frames):
            return time.perf_counter() - start
        page.wait_for_timeout(25)
    raise TimeoutError(f"{expected} points attendus, pas dessinés en {TIMEOUT_S} s")


class Recorder:
    """Bytes the server sends on the page's websockets (Playwright frame events)."""

    def __init__(self, page):
        self.received = 0
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        ws.on("framereceived", self._count)

    def _count(self, payload) -> None:
        self.received += len(payload.encode() if isinstance(payload, str) else payload)


def new_page(browser):
    """A page whose non-local requests are aborted (tiles included), as in the browser tests."""
    from tests.browser.conftest import _is_local

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.route("**/*", lambda r: r.continue_() if _is_local(r.request.url) else r.abort())
    return context, context.new_page()


def serve_static(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/component/static/index.html"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS introuvable")


def search(page, word: str) -> None:
    box = page.get_by_label("Recherche (nom, objet)")
    box.fill(word)
    box.press("Enter")


def measure(browser, base: str, static_url: str, pid: int, args, counts) -> dict:
    from tests.browser.helpers import wait_for_app

    n_all, per_word = counts
    out: dict = {"static_s": [], "map_page_s": [], "search_s": [], "ws_bytes_map_page": []}
    out |= {"ws_bytes_search": [], "first_title_s": [], "first_page_s": [], "map_page_nav_s": []}

    # Warm-up: one session on each measured page (the server loads and caches the data).
    context, page = new_page(browser)
    for path in ("/", "/carte"):
        page.goto(base + path)
        wait_for_app(page, TIMEOUT_S)
    context.close()

    words = iter(per_word)
    for _ in range(args.runs):
        context, page = new_page(browser)
        start = time.perf_counter()
        page.goto(static_url)
        out["static_s"].append(wait_points(page, n_all, start, component=False))
        context.close()

        context, page = new_page(browser)
        recorder = Recorder(page)
        start = time.perf_counter()
        page.goto(base + "/carte")
        out["map_page_s"].append(wait_points(page, n_all, start, component=True))
        wait_for_app(page, TIMEOUT_S)
        out["ws_bytes_map_page"].append(recorder.received)
        word = next(words)
        recorder.received = 0
        start = time.perf_counter()
        search(page, word)
        out["search_s"].append(wait_points(page, per_word[word], start, component=True))
        wait_for_app(page, TIMEOUT_S)
        out["ws_bytes_search"].append(recorder.received)
        context.close()

        context, page = new_page(browser)
        start = time.perf_counter()
        page.goto(base + "/")
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=TIMEOUT_S * 1000)
        out["first_title_s"].append(time.perf_counter() - start)
        out["first_page_s"].append(wait_points(page, n_all, start, component=True))
        wait_for_app(page, TIMEOUT_S)
        # The usual path: from the home page to the map page through the menu, same session.
        for frame in page.frames:  # the home map has as many points: it must not count
            if _points_in(frame) >= 0:
                frame.evaluate("() => { window.__stale = window.map; }")
        start = time.perf_counter()
        page.get_by_role("link", name="Carte des structures financées").click()
        out["map_page_nav_s"].append(wait_points(page, n_all, start, component=True))
        context.close()

    figures = {k: statistics.median(v) for k, v in out.items()}
    # Memory: N more sessions on the map page, all kept open while the server's RSS is read.
    before = rss_mb(pid)
    opened = []
    for _ in range(args.sessions):
        context, page = new_page(browser)
        start = time.perf_counter()
        page.goto(base + "/carte")
        wait_points(page, n_all, start, component=True)
        wait_for_app(page, TIMEOUT_S)
        opened.append(context)
    after = rss_mb(pid)
    for context in opened:
        context.close()
    figures |= {"rss_before_mb": before, "rss_after_mb": after}
    figures["memory_per_session_mb"] = (after - before) / max(args.sessions, 1)
    return figures


def load_figures(home: Path) -> list[dict] | None:
    """Item 3's load benchmark, when benchmarks/load.py exists (None otherwise)."""
    if importlib.util.find_spec("benchmarks.load") is None:
        return None
    from benchmarks.load import measure_load

    return [measure_load(n, ess_home=home, page="carte") for n in (10, 25, 50)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=5, help="sessions of the memory figure")
    parser.add_argument(
        "--with-load",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add benchmarks/load.py's figures for 10, 25 and 50 sessions (when present)",
    )
    args = parser.parse_args()
    if args.runs < 1 or args.runs > len(SEARCHES) or args.sessions < 1 or args.grants < 1:
        parser.error(f"--runs entre 1 et {len(SEARCHES)} ; --sessions et --grants ≥ 1")

    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _start_streamlit, _stop

    load_avg = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ess_interactive_") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        build_store(home, args.grants, SEED)
        words = list(SEARCHES[: args.runs])
        n_all, per_word, static_root = expected_points(home, words)
        static_server, static_url = serve_static(static_root)
        proc, handle, base = _start_streamlit("app.py", {"ESS_HOME": str(home)}, Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                figures = measure(browser, base, static_url, proc.pid, args, (n_all, per_word))
                _stop(proc, handle)
                proc = None
                floor_app = Path(tmp) / "floor_app.py"
                floor_app.write_text(FLOOR_APP, encoding="utf-8")
                proc, handle, base = _start_streamlit(floor_app, {"ESS_HOME": str(home)}, Path(tmp))
                figures["streamlit_floor_s"] = floor_seconds(browser, base, n_all, args.runs)
                _stop(proc, handle)
                proc = None
                shell_app = Path(tmp) / "shell_app.py"
                shell_app.write_text(SHELL_APP, encoding="utf-8")
                proc, handle, base = _start_streamlit(shell_app, {"ESS_HOME": str(home)}, Path(tmp))
                figures["streamlit_shell_s"] = shell_seconds(browser, base, args.runs)
                browser.close()
        finally:
            if proc is not None:
                _stop(proc, handle)
            static_server.shutdown()
        load = load_figures(home) if args.with_load else None

    ratios = {
        "map_page_ratio": figures["map_page_s"] / figures["static_s"],
        "search_ratio": figures["search_s"] / figures["static_s"],
        "floor_ratio": figures["streamlit_floor_s"] / figures["static_s"],
        "shell_ratio": figures["streamlit_shell_s"] / figures["static_s"],
        "map_page_over_floor": figures["map_page_s"] / figures["streamlit_floor_s"],
        "map_page_nav_ratio": figures["map_page_nav_s"] / figures["static_s"],
    }
    checks = {
        "map_page_ratio": ratios["map_page_ratio"],
        "search_ratio": ratios["search_ratio"],
        "first_page_s": figures["first_page_s"],
        "ws_bytes_map_page": figures["ws_bytes_map_page"],
        "memory_per_session_mb": figures["memory_per_session_mb"],
    }
    met = {k: checks[k] <= TARGETS[k] for k in TARGETS}
    print(
        f"Données : {args.grants} subventions synthétiques importées, "
        f"{n_all} lieux sur la carte ; recherches : "
        + ", ".join(f"« {w} » {n} lieux" for w, n in per_word.items())
    )
    print(f"Charge de la machine au départ : {', '.join(f'{v:.1f}' for v in load_avg)}")
    print(f"Page statique (référence)    : {figures['static_s']:.2f} s")
    print(
        f"Page carte                   : {figures['map_page_s']:.2f} s "
        f"({ratios['map_page_ratio']:.2f}x, cible ≤ 2x)"
    )
    print(
        f"Page carte depuis le menu    : {figures['map_page_nav_s']:.2f} s "
        f"({ratios['map_page_nav_ratio']:.2f}x, même session)"
    )
    print(
        f"Page Streamlit minimale      : {figures['streamlit_floor_s']:.2f} s "
        f"({ratios['floor_ratio']:.2f}x ; la page carte en est à "
        f"{ratios['map_page_over_floor']:.2f}x)"
    )
    print(
        f"Page Streamlit vide (titre)  : {figures['streamlit_shell_s']:.2f} s "
        f"({ratios['shell_ratio']:.2f}x, avant tout élément)"
    )
    print(
        f"Recherche                    : {figures['search_s']:.2f} s "
        f"({ratios['search_ratio']:.2f}x, cible ≤ 1x)"
    )
    print(
        f"Première page                : titre {figures['first_title_s']:.2f} s, carte "
        f"{figures['first_page_s']:.2f} s (cible ≤ 3 s)"
    )
    print(
        f"Websocket                    : page carte {figures['ws_bytes_map_page'] / 1e6:.2f} Mo "
        f"(cible < 1,5 Mo), recherche {figures['ws_bytes_search'] / 1e6:.2f} Mo"
    )
    print(
        f"Mémoire du serveur           : {figures['rss_before_mb']:.0f} -> "
        f"{figures['rss_after_mb']:.0f} Mo pour {args.sessions} sessions, "
        f"{figures['memory_per_session_mb']:.1f} Mo par session (cible < 50 Mo)"
    )
    if args.with_load and load is None:
        print("Charge : benchmarks/load.py absent, mesures de charge omises")
    for row in load or []:
        print(f"Charge : {row}")
    print(
        json.dumps(
            {
                "grants": args.grants,
                "map_points": n_all,
                "runs": args.runs,
                "load_avg": [round(v, 2) for v in load_avg],
                **{k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
                **{k: round(v, 3) for k, v in ratios.items()},
                "targets": TARGETS,
                "targets_met": met,
                "load": load,
            }
        )
    )


if __name__ == "__main__":
    main()
