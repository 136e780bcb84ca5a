"""Map builders: one GeoJSON layer per theme, local assets only, escaped texts, French legends."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from geo import maps
from geo.formatting import NNBSP as S
from tests.conftest import REPO

HOSTILE = "<script>window.pwned=1</script>{{ x }}"
TRICKY = ["l'Échoppe", 'Le "Relais"', "back`tick`", HOSTILE, "{{ 7*7 }}", "{% if 1 %}I{% endif %}"]


def _points(names, xs=None) -> gpd.GeoDataFrame:
    xs = xs or [3.0 + 0.01 * i for i in range(len(names))]
    return gpd.GeoDataFrame(
        {"nom": names, "forme": ["Association"] * len(names)},
        geometry=[Point(x, 50.63) for x in xs],
        crs="EPSG:4326",
    )


def _component_payload(m) -> dict:
    """What st_folium sends to its iframe (same private helpers as st_folium itself)."""
    from streamlit_folium import _get_header, _get_html, _get_map_string

    m.get_root().render()
    m.render()
    html, header = _get_html(m), _get_header(m)
    script = _get_map_string(m)
    return {"html": html, "header": header, "script": script}


def _data_literal(js: str) -> dict:
    match = re.search(r"var data = (\{.*?\});\n", js)
    assert match, "no embedded data in the script"
    return json.loads(match.group(1))


def test_popup_texts_use_the_shared_french_formats():
    # Numbers, dates and booleans reach the popup as geo.formatting writes them (U+202F).
    gdf = gpd.GeoDataFrame(
        {
            "montant": [12345.678, 700000.0, None],
            "nb": [1234, 5, 6],
            "date": pd.to_datetime(["2021-06-23", None, "2024-01-02"]),
            "ess": [True, False, True],
        },
        geometry=[Point(3.05, 50.63), Point(3.06, 50.63), Point(3.07, 50.63)],
        crs=4326,
    )
    fc = maps.decode_points(maps.encode_points(gdf, ["montant", "nb", "date", "ess"]))
    assert [f["properties"] for f in fc["features"]] == [
        {"montant": f"12{S}345,68", "nb": f"1{S}234", "date": "23/06/2021", "ess": "oui"},
        {"montant": f"700{S}000", "nb": "5", "date": None, "ess": "non"},
        {"montant": None, "nb": "6", "date": "02/01/2024", "ess": "oui"},
    ]
    assert not hasattr(maps, "format_eur") and not hasattr(maps, "format_number")


def test_display_geometries_simplifies_in_metres_and_rounds():
    # A 1 km square near Lille (Lambert-93) with a 2 m bump on one side: gone at 5 m tolerance.
    x0, y0 = 704000, 7059000
    wobbly = Polygon(
        [(x0, y0), (x0 + 500, y0 + 2), (x0 + 1000, y0), (x0 + 1000, y0 + 1000), (x0, y0 + 1000)]
    )
    gdf = gpd.GeoDataFrame({"nom": ["A"], "inutile": [1]}, geometry=[wobbly], crs="EPSG:2154")
    out = maps.display_geometries(gdf, ["nom"], tolerance_m=5)
    assert list(out.columns) == ["nom", "geometry"]
    assert out.crs.to_epsg() == 4326
    assert len(out.geometry.iloc[0].exterior.coords) == 5  # 4 corners + closing point
    for x, y in out.geometry.iloc[0].exterior.coords:
        assert round(x, 5) == x and round(y, 5) == y
    kept = maps.display_geometries(gdf, ["nom"], tolerance_m=0.5)
    assert len(kept.geometry.iloc[0].exterior.coords) == 6


def test_display_geometries_drops_missing_geometries():
    gdf = gpd.GeoDataFrame({"nom": ["a", "b"]}, geometry=[Point(3.05, 50.6), None], crs=4326)
    assert maps.display_geometries(gdf, ["nom"])["nom"].tolist() == ["a"]


def test_points_round_trip_through_compact_encoding():
    names = TRICKY + ["Autre", "Sans forme"]
    gdf = _points(names, xs=[3.0 + 0.1234567 * i for i in range(8)])
    gdf.loc[7, "forme"] = None
    data = maps.encode_points(gdf, ["nom", "forme"])
    fc = maps.decode_points(json.loads(maps.compact_json(data)))
    assert [f["properties"]["nom"] for f in fc["features"]] == names
    assert [f["properties"]["forme"] for f in fc["features"]][-2:] == ["Association", None]
    assert fc["features"][1]["geometry"]["coordinates"] == [3.1234567, 50.63]
    # 7 identical legal forms out of 8 rows go in a dictionary, 8 distinct names do not.
    assert data["d"] == [None, ["Association"]]


def test_points_layer_is_one_layer_with_rounded_coordinates():
    gdf = _points(["A", "B", "C"], xs=[3.0512345, 3.06, 3.07])
    m = maps.base_map(tiles=None)
    layer = maps.points_layer(
        gdf, name="Structures", popup_fields={"nom": "Nom"}, tooltip_field="nom", cluster=False
    )
    layer.add_to(m)
    html = m.get_root().render()
    assert html.count("L.geoJson(") == 1
    assert "L.marker(" not in html and "L.circleMarker(latlng" in html
    data = _data_literal(html)
    assert data["k"] == ["nom"]  # forme was not asked for: not sent
    assert data["r"][0] == [3.05123, 50.63, "A"]


def test_no_cdn_link_and_no_unneeded_asset():
    m = maps.base_map(tiles=None)
    maps.points_layer(_points(["A"]), name="P", popup_fields={"nom": "Nom"}, cluster=True).add_to(m)
    maps.layer_control(m)
    html = m.get_root().render()
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links == [
        "../../app/static/vendor/leaflet/leaflet.js",
        "../../app/static/vendor/leaflet/leaflet.css",
        "../../app/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "../../app/static/vendor/leaflet.markercluster/MarkerCluster.css",
        "../../app/static/vendor/leaflet.markercluster/MarkerCluster.Default.css",
    ]
    for link in links:
        assert (REPO / link.replace("../../app/static/", "static/")).is_file(), link
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()


def test_st_folium_receives_local_links_only():
    m = maps.base_map(tiles=None)
    maps.points_layer(_points(["A"]), name="P", popup_fields={"nom": "Nom"}, cluster=True).add_to(m)
    m.get_root().render()
    js, css = [], []
    for element in maps._walk(m):
        js += [u for _, u in getattr(element, "default_js", [])]
        css += [u for _, u in getattr(element, "default_css", [])]
    assert len(js) == 2 and len(css) == 3
    assert all(u.startswith("../../app/static/vendor/") for u in js + css), js + css


def test_unvendored_plugin_is_refused():
    from folium.plugins import Fullscreen

    m = maps.base_map(tiles=None)
    Fullscreen().add_to(m)
    with pytest.raises(ValueError, match="non embarquée"):
        m.get_root().render()


def test_hostile_names_are_inert_in_full_html_and_in_st_folium_script():
    gdf = _points(TRICKY)
    m = maps.base_map(tiles=None)
    maps.points_layer(gdf, name="P", popup_fields={"nom": "Nom"}, tooltip_field="nom").add_to(m)
    html = m.get_root().render()
    payload = _component_payload(m)
    for js in (html, payload["script"]):
        assert "<script>window" not in js
        # "{{ 7*7 }}" survived folium's second Jinja pass unevaluated (element ids are random
        # hex, so "49" itself may appear by chance: check the template text instead).
        assert "7*7" in js
        assert "innerHTML" not in js
        decoded = maps.decode_points(_data_literal(js))
        assert [f["properties"]["nom"] for f in decoded["features"]] == TRICKY
    assert "textContent" in payload["script"]
    assert payload["script"].count("bindPopup(function(layer)") == 1


def test_polygons_layer_keeps_only_tooltip_fields():
    gdf = gpd.GeoDataFrame(
        {"nom_qpv": ["QPV d'essai"], "code_qpv": ["X"], "population": [100.0]},
        geometry=[box(3.0, 50.6, 3.01, 50.61)],
        crs=4326,
    )
    layer = maps.polygons_layer(
        gdf, name="QPV", tooltip_fields={"nom_qpv": "Quartier"}, style={"color": "#7570b3"}
    )
    assert layer.data["features"][0]["properties"] == {"nom_qpv": "QPV d'essai"}
    assert json.loads(layer.styles_js)[0]["color"] == "#7570b3"
    assert layer.get_bounds() == [[50.6, 3.0], [50.61, 3.01]]


def test_class_index_and_class_labels():
    values = pd.Series([None, 0.0, 1.0, 10000.0, 10000.01, 50000.0, 2e6])
    assert maps.class_index(values, [0, 10000, 50000, float("inf")]).tolist() == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
    ]
    assert maps.class_labels([0, 10000, 50000, float("inf")]) == [
        f"jusqu'à 10{S}000{S}€",
        f"10{S}000 à 50{S}000{S}€",
        f"plus de 50{S}000{S}€",
    ]
    with pytest.raises(ValueError):
        maps.class_index(values, [10, 5])


def test_choropleth_styles_tooltips_and_legend():
    gdf = gpd.GeoDataFrame(
        {"nom_iris": ["A", "B", "C"], "montant": [0.0, 5000.0, 60000.0]},
        geometry=[box(3.0 + i * 0.01, 50.6, 3.005 + i * 0.01, 50.605) for i in range(3)],
        crs=4326,
    )
    layer = maps.choropleth_layer(
        gdf,
        "montant",
        [0, 10000, 50000, float("inf")],
        ["petit", "moyen", "grand"],
        name="Montants",
        legend_title="Montant attribué",
        tooltip_fields={"nom_iris": "IRIS"},
    )
    props = [f["properties"] for f in layer.data["features"]]
    assert [p["_k"] for p in props] == [0, 1, 3]
    assert [p["valeur"] for p in props] == [
        "Aucun projet",
        f"5{S}000{S}€",
        f"60{S}000{S}€",
    ]
    assert [p["classe"] for p in props] == ["Aucun projet", "petit", "grand"]
    styles = json.loads(layer.styles_js)
    assert styles[0]["dashArray"] == "4 4"  # "no project" is recognisable without colour
    assert [s["fillColor"] for s in styles[1:]] == maps.YLGNBU[3]
    # The legend lists the classes, darkest first, with the colours the areas are drawn in.
    assert layer.legend_title == "Montant attribué"
    assert [i["label"] for i in layer.legend] == ["grand", "moyen", "petit", "Aucun projet"]
    assert [i.get("fill") for i in layer.legend] == [*maps.YLGNBU[3][::-1], "#ffffff"]
    assert layer.legend[-1]["dash"] is True and "dash" not in layer.legend[0]


def test_aggregate_by_location_counts_and_sums():
    grants = gpd.GeoDataFrame(
        {
            "nomBeneficiaire": ["A", "A", "B", "C"],
            "montant": [1000.0, 2500.0, 300.0, 50.0],
        },
        geometry=[
            Point(3.05, 50.63),
            Point(3.050001, 50.630001),
            Point(3.05, 50.63),
            Point(3.1, 50.6),
        ],
        crs=4326,
    )
    out = maps.aggregate_by_location(grants)
    assert out["nb_subventions"].tolist() == [3, 1]
    assert out["montant_total"].tolist() == [3800.0, 50.0]
    assert out["nom"].tolist() == ["2 bénéficiaires", "C"]
    assert out["resume"].tolist() == [f"3 subventions, 3{S}800{S}€", f"1 subvention, 50{S}€"]


def test_points_layer_refuses_lines():
    gdf = gpd.GeoDataFrame({"nom": ["l"]}, geometry=[LineString([(3, 50), (3.1, 50.1)])], crs=4326)
    with pytest.raises(ValueError, match="uniquement des points"):
        maps.points_layer(gdf, name="L", popup_fields={"nom": "Nom"})


def test_scale_is_metric_only():
    html = maps.base_map(tiles=None).get_root().render()
    scale = re.search(r"L\.control\.scale\((\{.*?\})\)", html, re.S)
    assert scale, "no scale control"
    assert '"imperial": false' in scale.group(1) and '"metric": true' in scale.group(1)
    assert "L.control.scale()" not in html  # Leaflet's default adds miles and feet


def test_base_layers_are_named_in_french_and_fall_back_to_the_vector_base():
    m = maps.base_map(tiles="OpenStreetMap")
    control = maps.layer_control(m)
    html = m.get_root().render()
    assert list(control.base_layers) == [
        "Fond de plan OpenStreetMap",
        "Fond vectoriel (hors ligne)",
    ]
    assert "openstreetmap" not in [k.lower() for k in control.base_layers]
    assert "contributeurs d'" in html.replace("\\u0027", "'")  # attribution in French
    # The switch: tile errors before any tile loaded remove the tiles for the plain background.
    assert 'tiles.on("tileerror", offline)' in html and 'tiles.on("tileload"' in html
    assert f"setTimeout(offline, {maps.TILE_TIMEOUT_MS})" in html  # tiles held by a proxy
    assert '"#f2efe9"' in html  # palettes.MAP_BACKGROUND under everything
    assert '"Zoom avant"' in html and '"Zoom arrière"' in html
    assert '"Couches de la carte"' in html
    offline = maps.base_map(tiles=None)
    offline_control = maps.layer_control(offline)
    offline_html = offline.get_root().render()
    assert list(offline_control.base_layers) == ["Fond vectoriel (hors ligne)"]
    assert "tileerror" not in offline_html and "tile.openstreetmap" not in offline_html


def test_fit_to_opens_on_the_extent_of_the_areas():
    areas = gpd.GeoDataFrame(
        {"nom": ["a", "b"]},
        geometry=[box(2.96, 50.60, 3.00, 50.64), box(3.10, 50.61, 3.13, 50.66)],
        crs=4326,
    )
    m = maps.base_map(tiles=None)
    maps.fit_to(m, areas)
    html = m.get_root().render()
    bounds = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", html, re.S)
    assert json.loads(bounds.group(1)) == [[50.6, 2.96], [50.66, 3.13]]
    untouched = maps.base_map(tiles=None)
    maps.fit_to(untouched, areas.iloc[:0])
    assert "fitBounds" not in untouched.get_root().render()


def test_legend_rows_follow_the_layers_drawn():
    m = maps.base_map(tiles=None)
    maps.polygons_layer(
        gpd.GeoDataFrame({"nom": ["Q"]}, geometry=[box(3.0, 50.6, 3.01, 50.61)], crs=4326),
        name="QPV",
        tooltip_fields={"nom": "QPV"},
        style={"color": "#b2182b", "fillColor": "#ef8a62", "fillOpacity": 0.25, "dashArray": "6 4"},
    ).add_to(m)
    maps.points_layer(
        _points(["A", "B"]), name="Structures", popup_fields={"nom": "Nom"}, cluster=True
    ).add_to(m)
    rows = maps.legend_rows(m)
    assert [(r["label"], r["kind"], r["layer"]) for r in rows] == [
        ("QPV", "line", "QPV"),
        ("Structures", "point", "Structures"),
        ("Points proches regroupés (nombre)", "cluster", "Structures"),
    ]
    assert rows[0]["dash"] is True and rows[0]["fill"] == "rgba(239,138,98,0.25)"
    assert rows[1]["color"] == "#0072B2"  # the default point colour, Okabe-Ito blue
    # Every map has its one legend box, fed in the browser by the rows each layer carries.
    assert sum(isinstance(c, maps.Legend) for c in m._children.values()) == 1
    html = m.get_root().render()
    assert html.count("layer.essLegend = {") == 2
    assert '"label":"Points proches regroupés (nombre)"' in html
    assert "toggle.textContent" in html and "innerHTML" not in html


def test_legend_and_labels_grow_in_presentation_mode():
    normal, large = maps.text_sizes(False), maps.text_sizes(True)
    assert set(normal) == set(large)
    assert all(large[k] > normal[k] for k in normal)
    m = maps.base_map(tiles=None, large=True)
    maps.points_layer(_points(["A"]), name="P", popup_fields={"nom": "Nom"}).add_to(m)
    html = m.get_root().render()
    assert f'"legend":{large["legend"]}' in html
    assert '"maxWidth": 200' in html  # the longer scale bar
