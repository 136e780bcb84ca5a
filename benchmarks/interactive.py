"""Interactive speed of the funded map page in a real browser, against a static folium page.

10 000 synthetic seeded grants (3 000 structures, points inside the real IRIS of Lille, Hellemmes
and Lomme) are stored in a throw-away ESS_HOME as an import would store them; the reference
layers come from ../shared/data, read in place, and the QPV are the synthetic ones. One
`streamlit run app.py` serves it; headless Chromium (/usr/bin/chromium, network cut to localhost)
measures, in the same run:

- static: the same points and outlines as a plain folium HTML page (the page's own map builder,
  saved with folium), from navigation until every grant point is on the Leaflet map (baseline);
- map page: /carte in a new session of the warm server, until every grant point is drawn;
- search: typing a beneficiary word in the search box, until the map holds exactly the matching
  points (a new word per run, so no run reuses another's cached map);
- first page: a new session's first page (Accueil) until its title, and until its map is drawn;
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

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.map_page import random_points_in, shared_data  # noqa: E402

SEED = 20260612
N_STRUCTURES = 3_000
N_PROJECT_SITES = 500
# Words in the structures' names: each search of the benchmark types one of them.
NAME_WORDS = (
    "Canal",
    "Jardins",
    "Remparts",
    "Courees",
    "Faubourg",
    "Citadelle",
    "Beffroi",
    "Marais",
    "Moulins",
    "Vauban",
    "Wazemmes",
    "Fives",
)
FORMS = ("Association", "SCOP", "SCIC", "Coopérative", "Mutuelle", "Fondation", "SAS ESUS")
POSTCODES = {"59350": "59000", "59298": "59260", "59355": "59160"}
TARGETS = {
    "map_page_ratio": 2.0,  # map page drawn within 2x the static page
    "search_ratio": 1.0,  # a search redraws within 1x the static page
    "first_page_s": 3.0,  # a new session's first page on a warm server
    "ws_bytes_map_page": 1.5e6,  # websocket bytes of one map page
    "memory_per_session_mb": 50.0,  # server memory growth per session
}
TIMEOUT_S = 180


# --------------------------------------------------------------------------------------------------
# Data: a throw-away ESS_HOME holding the layers and 10 000 imported grants
# --------------------------------------------------------------------------------------------------


def _luhn_complete(digits: str) -> str:
    from stdnum import luhn

    return digits + luhn.calc_check_digit(digits)


def synthetic_activity(n_grants: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded structures and grants in the canonical columns, as the importer stores them.

    Structures sit at random points of the real IRIS of Lille, Hellemmes and Lomme; 20 % of the
    grants are placed at one of 500 project sites, the rest at their beneficiary. The other grant
    columns (SCDL fields, axis and priority, schemes) are resampled from the demo dataset.
    """
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    iris = gpd.read_file(shared_data() / "geo" / "iris_lille_hellemmes_lomme_rp2019.geojson")
    points = random_points_in(iris, N_STRUCTURES, rng)
    located = gpd.GeoDataFrame(geometry=points, crs=iris.crs).sjoin(
        iris[["code_territoire", "geometry"]], how="left", predicate="within"
    )
    territory = located["code_territoire"].groupby(level=0).first().reindex(range(N_STRUCTURES))
    sirens = [_luhn_complete(f"{80_000_000 + i:08d}") for i in range(N_STRUCTURES)]
    sirets = [_luhn_complete(f"{s}0001") for s in sirens]
    words = rng.choice(len(NAME_WORDS), N_STRUCTURES)
    forms = rng.choice(FORMS, N_STRUCTURES)
    structures = pd.DataFrame(
        {
            "siret": sirets,
            "siren": sirens,
            "rna": "",
            "nom": [
                f"{forms[i]} {NAME_WORDS[words[i]]} n°{i} (synthétique)"
                for i in range(N_STRUCTURES)
            ],
            "forme_juridique": forms,
            "est_ess": "oui",
            "adresse": [f"{i % 200 + 1} rue de l'Exemple" for i in range(N_STRUCTURES)],
            "code_postal": territory.map(POSTCODES).fillna("59000").to_numpy(),
            "commune": territory.map({"59350": "Lille", "59298": "Hellemmes", "59355": "Lomme"})
            .fillna("Lille")
            .to_numpy(),
            "lat": np.round(shapely_y(points), 6),
            "lon": np.round(shapely_x(points), 6),
            "statut_diffusion": "O",
        }
    )
    demo = pd.read_csv(REPO / "data" / "demo" / "grants.csv", dtype=str, keep_default_na=False)
    grants = demo.iloc[rng.integers(0, len(demo), n_grants)].reset_index(drop=True)
    beneficiary = rng.choice(N_STRUCTURES, n_grants)
    years = rng.integers(2021, 2027, n_grants)
    months = rng.integers(1, 13, n_grants)
    amounts = np.round(rng.lognormal(8.5, 1.0, n_grants), 2)
    sites = random_points_in(iris, N_PROJECT_SITES, rng)
    at_site = rng.random(n_grants) < 0.2
    site = sites[rng.integers(0, N_PROJECT_SITES, n_grants)]
    grants = grants.assign(
        id_subvention=[f"SYN-{i:06d}" for i in range(n_grants)],
        nomBeneficiaire=structures["nom"].to_numpy()[beneficiary],
        idBeneficiaire=structures["siret"].to_numpy()[beneficiary],
        rnaBeneficiaire="",
        montant=[f"{a:.2f}" for a in amounts],
        montant_verse=[f"{a * r:.2f}" for a, r in zip(amounts, rng.random(n_grants), strict=True)],
        annee=[str(y) for y in years],
        dateConvention=[f"{y}-{m:02d}-15" for y, m in zip(years, months, strict=True)],
        datesPeriodeVersement=[f"{y}-12-31" for y in years],
        hors_periode="",
        lat_projet=np.where(at_site, [f"{v:.6f}" for v in shapely_y(site)], ""),
        lon_projet=np.where(at_site, [f"{v:.6f}" for v in shapely_x(site)], ""),
    )
    return structures, grants


def shapely_x(points) -> np.ndarray:
    import shapely

    return shapely.get_x(np.asarray(points))


def shapely_y(points) -> np.ndarray:
    import shapely

    return shapely.get_y(np.asarray(points))


def prepare_home(home: Path, n_grants: int, seed: int = SEED) -> None:
    """Fill `home` (an empty ESS_HOME): layers as the browser tests load them, then the store.

    Layers: `python -m loaders sync --offline` from ../shared/data (geo and activity folders),
    then the synthetic QPV of both lists through the layer importer. Activity: the synthetic
    structures and grants written with the store's own `write_import`.
    """
    env = {**os.environ, "ESS_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("ESS_STORE", None)
    structures, grants = synthetic_activity(n_grants, seed)
    script = (
        "import sys, pandas as pd\n"
        "from pathlib import Path\n"
        "from loaders import store\n"
        "from loaders.layers import import_layer\n"
        "from tests.synthetic import synthetic_qpv\n"
        "out = Path(sys.argv[1])\n"
        "for kind in ('structures', 'grants'):\n"
        "    frame = pd.read_parquet(out / f'{kind}.parquet')\n"
        "    store.write_import(kind, frame, {'file': f'{kind}_synthetique.csv', 'sha256': kind,\n"
        "                       'read': len(frame), 'accepted': len(frame), 'rejected': 0})\n"
        "for gen in ('2015', '2024'):\n"
        "    path = out / f'qpv_{gen}.geojson'\n"
        "    synthetic_qpv(gen).to_file(path, driver='GeoJSON')\n"
        "    import_layer(f'qpv_{gen}', path)\n"
    )
    with tempfile.TemporaryDirectory(prefix="ess_bench_in_") as tmp:
        structures.to_parquet(Path(tmp) / "structures.parquet")
        grants.to_parquet(Path(tmp) / "grants.parquet")
        sync = [sys.executable, "-m", "loaders", "sync", "--offline"]
        for folder in ("geo", "activity"):
            sync += ["--from-dir", str(shared_data() / folder)]
        for cmd in (sync, [sys.executable, "-c", script, tmp]):
            done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{cmd[:4]} a échoué :\n{done.stdout}\n{done.stderr}")


def expected_points(home: Path, needles: list[str]) -> tuple[int, dict[str, int], Path]:
    """Grant places on the default map and for each search word, with the app's functions.

    Runs in a child process on `home` (which also builds the enrichment cache there, as the
    server's first page would); writes the static page (the page's own map of the default
    selection, saved by folium) and returns its path.
    """
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from geo import filters\n"
        "from geo.pagemaps import funded_map, grants_points\n"
        "from loaders.datasets import load_datasets\n"
        "from loaders.layers import load_layers\n"
        "from loaders.pipeline import enriched\n"
        "loaded = load_layers()\n"
        "data = enriched(load_datasets(), loaded)\n"
        "layers = {k: g for k, (g, _) in loaded.items()}\n"
        "def count(params):\n"
        "    chosen = filters.from_query_params(params)\n"
        "    selected = filters.apply(data.grants, data.structures, chosen)\n"
        "    return selected, len(grants_points(selected))\n"
        "default, n = count({})\n"
        "out = {'default': n, 'needles': {w: count({'q': w})[1] for w in sys.argv[2:]}}\n"
        "page = Path(sys.argv[1]) / 'component' / 'static' / 'index.html'\n"
        "page.parent.mkdir(parents=True, exist_ok=True)\n"
        "funded_map(default, layers, show_qpv=('qpv_2024', 'qpv_2015')).save(str(page))\n"
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
  if (!map) return -1;
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
    points; raises TimeoutError."""
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
    out |= {"ws_bytes_search": [], "first_title_s": [], "first_page_s": []}

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
    if args.runs < 1 or args.runs > len(NAME_WORDS) or args.sessions < 1 or args.grants < 1:
        parser.error(f"--runs entre 1 et {len(NAME_WORDS)} ; --sessions et --grants ≥ 1")

    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _start_streamlit, _stop

    load_avg = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ess_interactive_") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        prepare_home(home, args.grants)
        words = list(NAME_WORDS[: args.runs])
        n_all, per_word, static_root = expected_points(home, words)
        static_server, static_url = serve_static(static_root)
        proc, handle, base = _start_streamlit("app.py", {"ESS_HOME": str(home)}, Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                figures = measure(browser, base, static_url, proc.pid, args, (n_all, per_word))
                browser.close()
        finally:
            _stop(proc, handle)
            static_server.shutdown()
        load = load_figures(home) if args.with_load else None

    ratios = {
        "map_page_ratio": figures["map_page_s"] / figures["static_s"],
        "search_ratio": figures["search_s"] / figures["static_s"],
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
        f"Données : {args.grants} subventions synthétiques, {N_STRUCTURES} structures, "
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
