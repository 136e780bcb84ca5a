"""The vector base: names placed inside their areas, by rank and zoom, IRIS outlines underneath.

Fixtures are small synthetic areas in Lambert-93 named as synthetic (never real geography).
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
from shapely.geometry import Polygon, box

from geo import basemap, maps, palettes

X0, Y0 = 700000, 7058000  # a point of Lambert-93 near Lille

# A U-shaped area: its centroid lies in the notch, outside the area itself.
U_SHAPE = Polygon(
    [
        (X0, Y0),
        (X0 + 3000, Y0),
        (X0 + 3000, Y0 + 3000),
        (X0 + 2000, Y0 + 3000),
        (X0 + 2000, Y0 + 800),
        (X0 + 1000, Y0 + 800),
        (X0 + 1000, Y0 + 3000),
        (X0, Y0 + 3000),
    ]
)


def _layers() -> dict[str, gpd.GeoDataFrame]:
    communes = gpd.GeoDataFrame(
        {
            "code": ["99001", "99002"],
            "nom": ["Commune synthétique A (hors B)", "Commune synthétique B"],
        },
        geometry=[U_SHAPE, box(X0 + 3000, Y0, X0 + 5000, Y0 + 2000)],
        crs="EPSG:2154",
    )
    quartiers = gpd.GeoDataFrame(
        {
            "code_quartier": ["1", "2"],
            "nom_quartier": ["Quartier synthétique 1", "Commune synthétique B"],
            "code_commune": ["99001", "99002"],
        },
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 3000), box(X0 + 3000, Y0, X0 + 5000, Y0 + 2000)],
        crs="EPSG:2154",
    )
    iris = gpd.GeoDataFrame(
        {
            "code_iris": ["990010101", "990020101", "990990101"],
            "nom_iris": ["IRIS synthétique a", "IRIS synthétique b", "IRIS d'ailleurs"],
            "code_commune": ["99001", "99002", "99099"],
        },
        geometry=[
            box(X0, Y0, X0 + 1000, Y0 + 1000),
            box(X0 + 3000, Y0, X0 + 4000, Y0 + 1000),
            box(X0 + 9000, Y0, X0 + 9500, Y0 + 500),
        ],
        crs="EPSG:2154",
    )
    return {"communes": communes, "quartiers": quartiers, "iris": iris}


def test_label_text_drops_a_trailing_qualifier_only():
    assert basemap.label_text("Lille (hors Hellemmes et Lomme)") == "Lille"
    assert basemap.label_text("Saint-Maurice Pellevoisin") == "Saint-Maurice Pellevoisin"
    assert basemap.label_text(" Fives ") == "Fives"
    assert basemap.label_text("(sans nom)") == "(sans nom)"  # nothing left: kept whole
    assert basemap.label_text(None) == "" and basemap.label_text(float("nan")) == ""


def test_labels_are_placed_inside_their_polygons_even_a_u_shaped_one():
    communes = _layers()["communes"]
    assert not U_SHAPE.contains(U_SHAPE.centroid)  # the trap the representative point avoids
    points = basemap.label_points(communes, "nom")
    assert points.crs.to_epsg() == 4326
    assert points["label"].tolist() == ["Commune synthétique A", "Commune synthétique B"]
    areas = communes.to_crs(4326).geometry
    for point, area in zip(points.geometry, areas, strict=True):
        assert area.contains(point)
        assert round(point.x, 5) == point.x and round(point.y, 5) == point.y


def test_unnamed_or_empty_areas_get_no_label():
    communes = _layers()["communes"]
    communes.loc[1, "nom"] = None
    assert basemap.label_points(communes, "nom")["label"].tolist() == ["Commune synthétique A"]
    assert basemap.label_points(None, "nom").empty
    assert basemap.label_points(communes.iloc[:0], "nom").empty


def test_label_groups_by_rank_zoom_and_size():
    groups = basemap.label_groups(_layers())
    assert [g["kind"] for g in groups] == ["commune", "quartier", "iris"]
    assert [g["min_zoom"] for g in groups] == [0, 12, 15]
    texts = {g["kind"]: [r[2] for r in g["rows"]] for g in groups}
    assert texts["commune"] == ["Commune synthétique A", "Commune synthétique B"]
    # The quartier named like its commune is labelled once, as the commune.
    assert texts["quartier"] == ["Quartier synthétique 1"]
    # Only the IRIS of the communes shown.
    assert texts["iris"] == ["IRIS synthétique a", "IRIS synthétique b"]
    sizes = [g["size"] for g in groups]
    assert sizes == sorted(sizes, reverse=True)  # communes largest, IRIS smallest
    large = basemap.label_groups(_layers(), large=True)
    assert all(b["size"] > a["size"] for a, b in zip(groups, large, strict=True))
    # Dark names on the light map background: readable as text (4.5:1).
    for group in groups:
        assert palettes.contrast_ratio(group["color"], palettes.MAP_BACKGROUND) >= 4.5


def test_vector_base_draws_light_iris_outlines_and_inert_names():
    layers = _layers()
    layers["communes"].loc[0, "nom"] = "<script>window.pwned=1</script>{{ 7*7 }}"
    m = maps.base_map(tiles=None)
    basemap.add_vector_base(m, layers)
    html = m.get_root().render()
    iris = [c for c in m._children.values() if isinstance(c, maps.GeoJsonLayer)]
    assert [layer.layer_name for layer in iris] == ["Contours des IRIS"]
    assert len(iris[0].data["features"]) == 2  # the IRIS of another commune is not drawn
    assert iris[0].data["features"][0]["properties"] == {}  # outlines only, no text sent
    assert iris[0].pane == maps.BASE_PANE and iris[0].interactive is False
    assert '"essBase"' in html and "interactive: false" in html
    labels = re.search(r"var groups = (\[.*?\])\.map", html).group(1)
    assert json.loads(labels)[0]["rows"][0][2] == "<script>window.pwned=1</script>{{ 7*7 }}"
    assert "<script>window" not in html and "7*7" in html
    assert "span.textContent = r[2]" in html and "innerHTML" not in html


def test_vector_base_without_iris_keeps_the_names():
    m = maps.base_map(tiles=None)
    basemap.add_vector_base(m, _layers(), iris=False)
    assert not any(isinstance(c, maps.GeoJsonLayer) for c in m._children.values())
    labels = next(c for c in m._children.values() if isinstance(c, basemap.PlaceLabels))
    assert [g["kind"] for g in labels.groups] == ["commune", "quartier"]


def test_no_layer_no_label():
    m = maps.base_map(tiles=None)
    basemap.add_vector_base(m, {})
    assert not any(isinstance(c, basemap.PlaceLabels) for c in m._children.values())
