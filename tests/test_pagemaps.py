"""The pages' maps, built from small fixtures: what each layer holds, parcels included."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box
from streamlit_folium import (
    _get_feature_group_string,
    _get_layer_control_string,
    _get_map_string,
)

from geo import maps, pagemaps
from tests.synthetic import synthetic_qpv


def _script(m) -> str:
    """The script st_folium sends: it renders the figure first, which fills the layer control."""
    m.get_root().render()
    return _get_map_string(m)


def _grants() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id_subvention": ["a", "b", "c"],
            "idBeneficiaire": ["00000000000018", "00000000000018", "00000000000026"],
            "nomBeneficiaire": ["Asso A", "Asso A", "Coop B"],
            "montant": [1000.0, 500.0, 2000.0],
        },
        geometry=[Point(3.06, 50.63), Point(3.06, 50.63), Point(3.05, 50.64)],
        crs="EPSG:4326",
    )


def test_grants_are_grouped_per_place_with_their_total():
    points = pagemaps.grants_points(_grants())
    assert len(points) == 2
    first = points.set_index("nom").loc["Asso A"]
    assert first["nb_subventions"] == 2 and first["montant_total"] == 1500.0


def test_funded_structures_carry_their_count_and_total():
    structures = gpd.GeoDataFrame(
        {
            "siret": ["00000000000018", "00000000000026", "00000000000034"],
            "nom": ["Asso A", "Coop B", "Sans subvention"],
            "forme_juridique": ["Association"] * 3,
        },
        geometry=[Point(3.06, 50.63), Point(3.05, 50.64), Point(3.04, 50.62)],
        crs="EPSG:4326",
    )
    funded = pagemaps.funded_structures(structures, _grants()).set_index("siret")
    assert list(funded.index) == ["00000000000018", "00000000000026"]
    assert funded.loc["00000000000018", "montant_total"] == 1500.0
    assert funded.loc["00000000000026", "nb_subventions"] == 1


def test_funded_map_accepts_parcels_among_land_sites():
    land = gpd.GeoDataFrame(
        {
            "site_id": ["p", "q"],
            "nom": ["Local", "Parcelle"],
            "type": ["local", "terrain"],
            "statut": ["disponible", "attribué"],
        },
        geometry=[Point(3.06, 50.62), box(3.07, 50.62, 3.071, 50.621)],
        crs="EPSG:4326",
    )
    layers = {"qpv_2024": synthetic_qpv("2024"), "qpv_2015": None}
    m = pagemaps.funded_map(_grants(), layers, land=land, tiles=None)
    script = _script(m)
    assert "Sites fonciers" in script and "Subventions (par lieu)" in script
    shown = pagemaps.as_points(land)
    assert list(shown.geom_type) == ["Point", "Point"]
    assert shown.geometry.iloc[1].within(land.geometry.iloc[1])


def test_land_map_draws_points_and_parcels_by_status():
    land = gpd.GeoDataFrame(
        {
            "site_id": ["p", "q"],
            "nom": ["Local", "Parcelle"],
            "type": ["local", "terrain"],
            "statut": ["disponible", "disponible"],
            "surface_m2": [120.0, None],
            "dist_qpv_m": [250.0, float("nan")],
        },
        geometry=[Point(3.06, 50.62), box(3.07, 50.62, 3.071, 50.621)],
        crs="EPSG:4326",
    )
    script = _script(pagemaps.land_map(land, {}, tiles=None))
    assert "Sites disponibles (parcelles)" in script
    assert "Sites disponibles" in script
    assert pd.isna(land["surface_m2"].iloc[1])


def test_demo_maps_say_so_on_the_map_itself():
    demo = _script(pagemaps.funded_map(_grants(), {}, tiles=None, demo=True))
    real = _script(pagemaps.funded_map(_grants(), {}, tiles=None, demo=False))
    assert '"Données fictives de démonstration"' in demo or "ess-note" in demo
    assert "ess-note" in demo
    assert "ess-note" not in real


def _geojson_layers(element) -> list:
    """Every GeoJsonLayer under `element`, however deep."""
    return [e for e in maps._walk(element) if isinstance(e, maps.GeoJsonLayer)]


def test_funded_base_holds_the_outlines_and_no_grant_point():
    layers = {"qpv_2024": synthetic_qpv("2024"), "qpv_2015": synthetic_qpv("2015")}
    base = pagemaps.funded_base(layers, tiles=None)
    names = [layer.layer_name for layer in _geojson_layers(base)]
    assert names == ["QPV 2024", "QPV 2015"]
    script = _script(base)
    assert "Asso A" not in script and "Subventions (par lieu)" not in script
    # no switcher yet: st_folium adds it last, once the points are on the map
    assert not any(isinstance(e, folium.LayerControl) for e in maps._walk(base))


def test_funded_points_hold_exactly_the_selected_places():
    selection = _grants().iloc[[0, 2]]  # grants a (Asso A, 1 000 €) and c (Coop B, 2 000 €)
    group = pagemaps.funded_points(selection)
    assert isinstance(group, folium.FeatureGroup)
    assert group.layer_name == "Subventions (par lieu)"
    (layer,) = _geojson_layers(group)
    features = maps.decode_points(layer.data)["features"]
    found = {
        tuple(f["geometry"]["coordinates"]): (f["properties"]["nom"], f["properties"]["resume"])
        for f in features
    }
    assert found == {
        (3.06, 50.63): ("Asso A", "1 subvention, 1\u202f000\u202f€"),
        (3.05, 50.64): ("Coop B", "1 subvention, 2\u202f000\u202f€"),
    }
    # clustered, with the clustering assets served by the app
    links = [url for _, url in layer.default_js + layer.default_css]
    assert links and all(url.startswith(maps.VENDOR_URL) for url in links)


def test_funded_points_of_structures_name_their_own_layer():
    structures = gpd.GeoDataFrame(
        {"siret": ["00000000000026"], "nom": ["Coop B"], "forme_juridique": ["SCOP"]},
        geometry=[Point(3.05, 50.64)],
        crs="EPSG:4326",
    )
    group = pagemaps.funded_points(_grants(), structures=structures)
    assert group.layer_name == "Structures financées"
    (layer,) = _geojson_layers(group)
    (feature,) = maps.decode_points(layer.data)["features"]
    assert feature["properties"]["resume"] == "1 subvention, 2\u202f000\u202f€"


def test_st_folium_sends_the_points_apart_from_the_base():
    """What st_folium does with feature_group_to_add: the base script stays the same whatever
    the selection; the points travel in their own script, with the switcher listing them."""
    scripts = []
    for rows in ([0, 1, 2], [2]):
        base = pagemaps.funded_base({"qpv_2024": synthetic_qpv("2024")}, tiles=None)
        base_script = _script(base)
        points = _get_feature_group_string(pagemaps.funded_points(_grants().iloc[rows]), base)
        control = _get_layer_control_string(maps.layer_switcher(), base)
        scripts.append((base_script, points, control))
    (base_all, points_all, control_all), (base_one, points_one, _) = scripts
    assert base_all == base_one
    assert "Asso A" in points_all and "Asso A" not in points_one and "Coop B" in points_one
    assert '"Subventions (par lieu)"' in control_all and '"QPV 2024"' in control_all


def test_funded_map_is_the_base_plus_the_points_and_the_switcher():
    m = pagemaps.funded_map(_grants(), {"qpv_2024": synthetic_qpv("2024")}, tiles=None)
    groups = [e for e in m._children.values() if isinstance(e, folium.FeatureGroup)]
    assert [g.layer_name for g in groups] == ["Subventions (par lieu)"]
    assert isinstance(list(m._children.values())[-1], folium.LayerControl)
    (points,) = _geojson_layers(groups[0])
    assert len(points.data["r"]) == 2  # the three grants at two places


def test_choropleth_base_has_the_outlines_and_the_areas_come_apart_under_them():
    areas = synthetic_qpv("2024").assign(montant=[1500.0, 0.0])
    layers = {"qpv_2024": synthetic_qpv("2024")}
    base = pagemaps.choropleth_base(layers, tiles=None)
    assert [layer.layer_name for layer in _geojson_layers(base)] == ["QPV 2024"]
    group = pagemaps.choropleth_areas(
        areas,
        "montant",
        [0.0, 1000.0, 2000.0],
        ["jusqu'à 1 000 €", "1 000 à 2 000 €"],
        name="Montant",
        legend_title="Montant engagé",
        tooltip_fields={"nom_qpv": "QPV"},
    )
    (layer,) = _geojson_layers(group)
    classes = [f["properties"][maps.CLASS_KEY] for f in layer.data["features"]]
    assert classes == [2, 0]  # 1 500 € in the second class; 0 € is "no project"
    # the areas carry their legend rows (the map's one legend box lists the layers on it)
    assert layer.legend_title == "Montant engagé"
    assert [row["label"] for row in layer.legend] == [
        "1 000 à 2 000 €",
        "jusqu'à 1 000 €",
        "Aucun projet",
    ]
    script = _get_feature_group_string(group, base)
    assert "bringToBack" in script  # drawn under the outlines, as on the full map
    full = pagemaps.choropleth_map(
        areas,
        "montant",
        [0.0, 1000.0, 2000.0],
        ["jusqu'à 1 000 €", "1 000 à 2 000 €"],
        name="Montant",
        legend_title="Montant engagé",
        tooltip_fields={"nom_qpv": "QPV"},
        layers=layers,
        tiles=None,
    )
    assert [
        g.layer_name for g in full._children.values() if isinstance(g, folium.FeatureGroup)
    ] == ["Montant"]


def _synthetic_communes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["99001", "99002"], "nom": ["Commune synthétique A", "Commune synthétique B"]},
        geometry=[box(2.96, 50.60, 3.05, 50.66), box(3.05, 50.60, 3.13, 50.65)],
        crs="EPSG:4326",
    )


def test_land_map_has_a_legend_of_statuses_in_safe_colours():
    from geo import palettes

    land = gpd.GeoDataFrame(
        {
            "site_id": ["p", "q", "r"],
            "nom": ["Local", "Terrain", "Friche urbaine"],
            "type": ["local", "terrain", "friche"],
            "statut": ["disponible", "attribué", "à l'étude"],
            "surface_m2": [120.0, 800.0, 50.0],
        },
        geometry=[Point(3.06, 50.62), Point(3.07, 50.62), Point(3.08, 50.62)],
        crs="EPSG:4326",
    )
    layers = {"qpv_2024": synthetic_qpv("2024"), "communes": _synthetic_communes()}
    m = pagemaps.land_map(land, layers, tiles=None)
    rows = maps.legend_rows(m)
    assert [r["label"] for r in rows] == [
        "Communes",
        "QPV 2024",
        "Sites disponibles",
        "Sites attribués",
        "Sites à l'étude",
    ]
    by_label = {r["label"]: r for r in rows}
    assert by_label["Sites attribués"]["color"] == palettes.LAND_STATUS_COLORS["attribué"]
    assert by_label["QPV 2024"]["kind"] == "line"
    assert palettes.contrast_problems(palettes.legend_colors(rows)) == []
    assert "ess-legend" in _script(m)


def test_funded_map_legend_lists_its_layers_and_opens_on_the_communes():
    from geo import palettes

    layers = {
        "communes": _synthetic_communes(),
        "qpv_2024": synthetic_qpv("2024"),
        "qpv_2015": synthetic_qpv("2015"),
    }
    m = pagemaps.funded_map(_grants(), layers, tiles="OpenStreetMap", large=True)
    rows = maps.legend_rows(m)
    assert [r["label"] for r in rows] == [
        "Communes",
        "QPV 2024",
        "QPV 2015",
        "Subventions (par lieu)",
        "Points proches regroupés (nombre)",
    ]
    assert palettes.contrast_problems(palettes.legend_colors(rows)) == []
    script = _script(m)
    # Each row names its layer: in the browser, the QPV 2015 row shows only with its layer.
    assert rows[2]["layer"] == "QPV 2015"
    assert rows[3]["layer"] == "Subventions (par lieu)"  # the points, in their feature group
    # Opens on the communes' extent, not on a fixed centre (a phone sees Lomme and Hellemmes).
    assert "fitBounds" in script and "[[50.6, 2.96], [50.66, 3.13]]" in script
    assert '"legend":20' in script  # presentation sizes
    assert "Fond de plan OpenStreetMap" in script and "Fond vectoriel (hors ligne)" in script
    assert "Commune synthétique A" in script  # its name, as a label
