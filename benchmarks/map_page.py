"""Map page at scale: what st_folium would send for 10 000 establishments and 50 000 grants.

Compares the map page's build (geo.maps: compact clustered GeoJSON, grants aggregated per
location, amounts per IRIS as a choropleth on simplified IRIS, synthetic QPV) with the naive build
(one folium.Marker with an HTML popup per row in a MarkerCluster, unsimplified IRIS through
folium.GeoJson). Prints readable lines, then one JSON line. Run from the repository root:

    python -m benchmarks.map_page [--runs 3] [--naive-runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.plugins import MarkerCluster
from streamlit_folium import _get_header, _get_html, _get_map_string, get_full_id

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo import maps  # noqa: E402
from geo.crs import COMPUTE_CRS  # noqa: E402
from tests.synthetic import synthetic_qpv  # noqa: E402

N_ESTABLISHMENTS = 10_000
N_GRANTS = 50_000
N_BENEFICIARIES = 3_000  # grants go to a subset of the establishments
N_PROJECT_SITES = 500  # 20 % of grants are located at a project site instead
SEED = 20210623
FORMS = ["Association", "SCOP", "SCIC", "Coopérative", "Mutuelle", "Fondation", "SAS ESUS"]
BINS = [0, 10_000, 50_000, 200_000, 1_000_000, float("inf")]


def shared_data() -> Path:
    return Path(os.environ.get("ESS_SHARED_DATA", REPO.parent / "shared" / "data"))


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
    return gpd.GeoSeries(pts, crs=COMPUTE_CRS).to_crs("EPSG:4326").values


def build_dataset() -> dict[str, gpd.GeoDataFrame]:
    """Seeded synthetic establishments and grants located in the real MEL IRIS."""
    rng = np.random.default_rng(SEED)
    iris = gpd.read_file(shared_data() / "geo" / "iris_mel_rp2019.geojson")
    etab_pts = random_points_in(iris, N_ESTABLISHMENTS, rng)
    establishments = gpd.GeoDataFrame(
        {
            "siret": [f"{i:014d}" for i in range(N_ESTABLISHMENTS)],
            "nom": [f"Structure solidaire n°{i} – l'atelier" for i in range(N_ESTABLISHMENTS)],
            "nature_juridique": rng.choice(FORMS, N_ESTABLISHMENTS),
            "adresse": [f"{i % 200 + 1} rue de l'Exemple" for i in range(N_ESTABLISHMENTS)],
        },
        geometry=etab_pts,
        crs="EPSG:4326",
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
            "objet": [f"Projet {i} : soutien à l'activité" for i in range(N_GRANTS)],
            "montant": np.round(rng.lognormal(8.5, 1.0, N_GRANTS), 2),
            "annee": rng.integers(2021, 2027, N_GRANTS),
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    return {
        "iris": iris,
        "establishments": establishments,
        "grants": grants,
        "qpv": synthetic_qpv("2024"),
    }


def amounts_by_iris(iris: gpd.GeoDataFrame, grants: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    joined = gpd.sjoin(
        grants[["montant", "geometry"]], iris[["code_iris", "geometry"]], predicate="within"
    )
    totals = joined.groupby("code_iris")["montant"].sum()
    return iris.assign(montant=iris["code_iris"].map(totals).fillna(0.0))


def render_page_map(data: dict) -> folium.Map:
    """The map page: clustered establishments, grants per location, amounts per IRIS, QPV."""
    m = maps.base_map(tiles=None)
    maps.choropleth_layer(
        amounts_by_iris(data["iris"], data["grants"]),
        "montant",
        BINS,
        name="Montants par IRIS",
        legend_title="Montant attribué",
        tooltip_fields={"nom_iris": "IRIS", "nom_com": "Commune"},
    ).add_to(m)
    maps.polygons_layer(
        data["qpv"],
        name="QPV (synthétiques)",
        tooltip_fields={"nom_qpv": "QPV"},
        style={"color": "#7570b3", "weight": 2, "fillOpacity": 0.05, "dashArray": "6 3"},
    ).add_to(m)
    maps.points_layer(
        maps.aggregate_by_location(data["grants"]),
        name="Subventions (par lieu)",
        popup_fields={"nom": "Bénéficiaire", "resume": "Subventions"},
        tooltip_field="nom",
        color="#d95f02",
        cluster=True,
    ).add_to(m)
    maps.points_layer(
        data["establishments"],
        name="Établissements de l'ESS",
        popup_fields={"nom": "Nom", "nature_juridique": "Forme juridique"},
        tooltip_field="nom",
        color="#1b9e77",
        cluster=True,
    ).add_to(m)
    maps.layer_control(m)
    return m


def render_naive_map(data: dict) -> folium.Map:
    """What a first version would do: one Marker + HTML popup per row, raw IRIS geometry."""
    m = folium.Map(location=[50.63, 3.05], zoom_start=12, tiles=None)
    iris = amounts_by_iris(data["iris"], data["grants"])
    folium.GeoJson(
        iris,
        style_function=lambda f: {"fillColor": "#2c7fb8" if f["properties"]["montant"] else "#fff"},
        tooltip=folium.GeoJsonTooltip(["nom_iris", "montant"]),
    ).add_to(m)
    folium.GeoJson(data["qpv"]).add_to(m)
    cluster = MarkerCluster(name="Établissements").add_to(m)
    for row in data["establishments"].itertuples():
        popup = f"<b>{row.nom}</b><br>{row.nature_juridique}<br>{row.adresse}"
        folium.Marker([row.geometry.y, row.geometry.x], popup=folium.Popup(popup)).add_to(cluster)
    grants_cluster = MarkerCluster(name="Subventions").add_to(m)
    for row in data["grants"].itertuples():
        popup = f"<b>{row.nomBeneficiaire}</b><br>{row.objet}<br>{row.montant} €"
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


def timed(build, data: dict, runs: int) -> tuple[float, dict]:
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

    data = build_dataset()
    page_s, page = timed(render_page_map, data, args.runs)
    naive_s, naive = timed(render_naive_map, data, args.naive_runs)
    located = maps.aggregate_by_location(data["grants"])
    features = len(data["iris"]) + len(data["qpv"]) + len(located) + len(data["establishments"])
    size, naive_size = payload_bytes(page), payload_bytes(naive)

    print(
        f"Jeu de données : {N_ESTABLISHMENTS} établissements, {N_GRANTS} subventions, "
        f"{len(data['iris'])} IRIS, {len(data['qpv'])} QPV synthétiques"
    )
    print(
        f"Carte de la page : {features} objets ({len(located)} lieux de subvention), "
        f"{size / 1e6:.2f} Mo, {page_s:.2f} s (meilleur de {args.runs})"
    )
    print(
        f"Carte naïve      : {N_ESTABLISHMENTS + N_GRANTS} marqueurs, "
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
