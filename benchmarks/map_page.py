"""Map page at scale: what st_folium would send for 10 000 establishments and 50 000 grants.

Renders the map page's map itself (geo.pagemaps.funded_map, called as pages/carte.py calls it,
with the ESS establishments layer switched on) and compares it with the naive build (one
folium.Marker with an HTML popup per row in a MarkerCluster, unsimplified outlines through
folium.GeoJson). Prints readable lines, then one JSON line. Run from the repository root:

    python benchmarks/map_page.py [--runs 3] [--naive-runs 1]
    python -m benchmarks.map_page [--runs 3] [--naive-runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.plugins import MarkerCluster
from streamlit_folium import _get_header, _get_html, _get_map_string, get_full_id

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from geo.crs import COMPUTE_CRS, DISPLAY_CRS  # noqa: E402
from geo.formatting import fmt_eur  # noqa: E402
from geo.maps import GeoJsonLayer  # noqa: E402
from geo.pagemaps import funded_map, grants_points  # noqa: E402
from loaders.layers import import_layer  # noqa: E402
from tests.synthetic import synthetic_qpv  # noqa: E402

N_ESTABLISHMENTS = 10_000
N_GRANTS = 50_000
N_BENEFICIARIES = 3_000  # grants go to a subset of the establishments
N_PROJECT_SITES = 500  # 20 % of grants are located at a project site instead
SEED = 20210623
FORMS = ["Association", "SCOP", "SCIC", "Coopérative", "Mutuelle", "Fondation", "SAS ESUS"]
TILES = "OpenStreetMap"  # funded_map's default, as on the page (tiles are never fetched here)
SHOW_QPV = ("qpv_2024", "qpv_2015")


def shared_data() -> Path:
    return Path(os.environ.get("ESS_SHARED_DATA", REPO.parent / "shared" / "data"))


@contextmanager
def temporary_ess_home() -> Iterator[Path]:
    """A throw-away ESS_HOME, so importing layers never touches the developer's cache."""
    before = os.environ.get("ESS_HOME")
    with tempfile.TemporaryDirectory(prefix="ess_bench_") as home:
        os.environ["ESS_HOME"] = home
        try:
            yield Path(home)
        finally:
            if before is None:
                os.environ.pop("ESS_HOME", None)
            else:
                os.environ["ESS_HOME"] = before


def reference_layers() -> dict[str, gpd.GeoDataFrame]:
    """The canonical layers the page draws: communes and quartiers imported from the shared
    files with the app's own importer, synthetic QPV of both lists (no real QPV offline)."""
    geo = shared_data() / "geo"
    with temporary_ess_home():
        communes, _ = import_layer("communes", geo / "lille_hellemmes_lomme.geojson")
        quartiers, _ = import_layer("quartiers", geo / "quartiers_lille_hellemmes_lomme.geojson")
    return {
        "communes": communes,
        "quartiers": quartiers,
        "qpv_2015": synthetic_qpv("2015"),
        "qpv_2024": synthetic_qpv("2024"),
    }


def random_points_in(polygons: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniformly inside the union of polygons (rejection sampling in Lambert-93)."""
    metric = polygons.to_crs(COMPUTE_CRS)
    union = shapely.union_all(metric.geometry.values)
    shapely.prepare(union)
    minx, miny, maxx, maxy = union.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        xs = rng.uniform(minx, maxx, n * 2)
        ys = rng.uniform(miny, maxy, n * 2)
        candidates = shapely.points(xs, ys)
        inside = candidates[shapely.contains(union, candidates)]
        found.append(inside)
        total += len(inside)
    pts = np.concatenate(found)[:n]
    return gpd.GeoSeries(pts, crs=COMPUTE_CRS).to_crs(DISPLAY_CRS).values


def build_dataset() -> dict:
    """Seeded synthetic establishments and grants located in the real MEL IRIS, plus the layers."""
    rng = np.random.default_rng(SEED)
    iris = gpd.read_file(shared_data() / "geo" / "iris_mel_rp2019.geojson")
    etab_pts = random_points_in(iris, N_ESTABLISHMENTS, rng)
    sirets = np.array([f"{i:014d}" for i in range(N_ESTABLISHMENTS)])
    establishments = gpd.GeoDataFrame(
        {
            "siret": sirets,
            "siren": [s[:9] for s in sirets],
            "nom": [f"Structure solidaire n°{i} – l'atelier" for i in range(N_ESTABLISHMENTS)],
            "nature_juridique": rng.choice(FORMS, N_ESTABLISHMENTS),
            "adresse": [f"{i % 200 + 1} rue de l'Exemple" for i in range(N_ESTABLISHMENTS)],
            "est_ess": True,
            "est_siege": True,
        },
        geometry=etab_pts,
        crs=DISPLAY_CRS,
    )
    beneficiaries = rng.choice(N_ESTABLISHMENTS, N_BENEFICIARIES, replace=False)
    grant_benef = rng.choice(beneficiaries, N_GRANTS)
    sites = random_points_in(iris, N_PROJECT_SITES, rng)
    at_site = rng.random(N_GRANTS) < 0.2
    geoms = np.where(
        at_site, sites[rng.integers(0, N_PROJECT_SITES, N_GRANTS)], etab_pts[grant_benef]
    )
    grants = gpd.GeoDataFrame(
        {
            "id_subvention": [f"SUB-{i:06d}" for i in range(N_GRANTS)],
            "nomBeneficiaire": establishments["nom"].to_numpy()[grant_benef],
            "idBeneficiaire": sirets[grant_benef],
            "objet": [f"Projet {i} : soutien à l'activité" for i in range(N_GRANTS)],
            "montant": np.round(rng.lognormal(8.5, 1.0, N_GRANTS), 2),
            "annee": rng.integers(2021, 2027, N_GRANTS),
        },
        geometry=geoms,
        crs=DISPLAY_CRS,
    )
    return {
        "iris": iris,
        "establishments": establishments,
        "grants": grants,
        "layers": reference_layers(),
    }


def render_page_map(data: dict) -> folium.Map:
    """The map page's map, called exactly as pages/carte.py does (grants per location mode,
    both QPV lists, establishments layer on, no land sites)."""
    return funded_map(
        data["grants"],
        data["layers"],
        structures=None,
        land=None,
        establishments=data["establishments"],
        show_qpv=SHOW_QPV,
        tiles=TILES,
    )


def render_naive_map(data: dict) -> folium.Map:
    """What a first version would do: raw outlines, one Marker + HTML popup per row."""
    m = folium.Map(location=[50.63, 3.05], zoom_start=12, tiles=TILES)
    layers = data["layers"]
    for name, tooltip in (
        ("communes", ["nom"]),
        ("quartiers", ["nom_quartier"]),
        *((q, ["nom_qpv", "code_qpv"]) for q in SHOW_QPV),
    ):
        folium.GeoJson(layers[name], name=name, tooltip=folium.GeoJsonTooltip(tooltip)).add_to(m)
    cluster = MarkerCluster(name="Établissements ESS (SIRENE)").add_to(m)
    for row in data["establishments"].itertuples():
        popup = f"<b>{row.nom}</b><br>{row.adresse}"
        folium.Marker([row.geometry.y, row.geometry.x], popup=folium.Popup(popup)).add_to(cluster)
    grants_cluster = MarkerCluster(name="Subventions").add_to(m)
    for row in data["grants"].itertuples():
        popup = f"<b>{row.nomBeneficiaire}</b><br>{row.objet}<br>{fmt_eur(row.montant)}"
        folium.Marker([row.geometry.y, row.geometry.x], popup=folium.Popup(popup)).add_to(
            grants_cluster
        )
    folium.LayerControl().add_to(m)
    return m


def st_folium_payload(m: folium.Map) -> dict:
    """The component arguments st_folium builds from a Map (same calls, same order)."""
    m.get_root().render()
    m.render()
    html = _get_html(m)
    header = _get_header(m)
    script = _get_map_string(m)
    css, js = [], []

    def walk(element):
        if isinstance(element, folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(m):
        css += [href for _, href in getattr(element, "default_css", [])]
        js += [src for _, src in getattr(element, "default_js", [])]
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": get_full_id(m),
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
    }


def payload_bytes(payload: dict) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def layer_bytes(m: folium.Map) -> dict[str, int]:
    """Payload bytes of each GeoJSON layer's data of the page's map (where the payload goes).

    Measured as in the payload: the script travels as a JSON string, so quotes count twice.
    """

    def layers(element):
        for child in element._children.values():
            if isinstance(child, GeoJsonLayer):
                yield child
            yield from layers(child)  # the selection's points sit in a feature group

    return {
        layer.layer_name: len(json.dumps(layer.data_js, ensure_ascii=False).encode("utf-8")) - 2
        for layer in layers(m)
    }


def timed(build: Callable[[dict], folium.Map], data: dict, runs: int) -> tuple[float, dict]:
    """Best wall time of `runs` builds + serialisations, and the last payload."""
    best, payload = float("inf"), {}
    for _ in range(runs):
        start = time.perf_counter()
        payload = st_folium_payload(build(data))
        best = min(best, time.perf_counter() - start)
    return best, payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--naive-runs", type=int, default=1)
    args = parser.parse_args()
    if args.runs < 1 or args.naive_runs < 1:
        parser.error("--runs et --naive-runs doivent valoir au moins 1")

    data = build_dataset()
    layers = data["layers"]
    page_s, page = timed(render_page_map, data, args.runs)
    naive_s, naive = timed(render_naive_map, data, args.naive_runs)
    located = grants_points(data["grants"])
    outlines = sum(len(layers[n]) for n in ("communes", "quartiers", *SHOW_QPV))
    features = outlines + len(located) + len(data["establishments"])
    size, naive_size = payload_bytes(page), payload_bytes(naive)
    parts = layer_bytes(render_page_map(data))

    print(
        f"Jeu de données : {N_ESTABLISHMENTS} établissements, {N_GRANTS} subventions "
        f"(points tirés dans les {len(data['iris'])} IRIS de la MEL), "
        f"{len(layers['communes'])} communes, {len(layers['quartiers'])} quartiers, "
        f"{len(layers['qpv_2024'])} + {len(layers['qpv_2015'])} QPV synthétiques (2024 + 2015)"
    )
    print(
        f"Carte de la page : {features} objets ({len(located)} lieux de subvention), "
        f"{size / 1e6:.2f} Mo, {page_s:.2f} s (meilleur de {args.runs})"
    )
    print(
        "  dont " + ", ".join(f"{name} {b / 1e6:.2f} Mo" for name, b in parts.items()) + " ; "
        f"reste (script, en-tête) {(size - sum(parts.values())) / 1e6:.2f} Mo"
    )
    print(
        f"Carte naïve      : {N_ESTABLISHMENTS + N_GRANTS} marqueurs + {outlines} contours, "
        f"{naive_size / 1e6:.2f} Mo, {naive_s:.2f} s (meilleur de {args.naive_runs})"
    )
    print(f"Gain : {naive_size / size:.1f}x plus léger, {naive_s / page_s:.1f}x plus rapide")
    print(
        json.dumps(
            {
                "features": features,
                "payload_bytes": size,
                "naive_payload_bytes": naive_size,
                "render_s": round(page_s, 4),
                "naive_render_s": round(naive_s, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
