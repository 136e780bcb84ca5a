"""The pages' maps, built from small fixtures: what each layer holds, parcels included."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box
from streamlit_folium import _get_map_string

from geo import pagemaps
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


def _legend(m) -> list[dict]:
    from geo.maps import Legend

    return next(c for c in m._children.values() if isinstance(c, Legend)).items


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
    rows = _legend(m)
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
    rows = _legend(m)
    assert [r["label"] for r in rows] == [
        "Communes",
        "QPV 2024",
        "QPV 2015",
        "Subventions (par lieu)",
        "Points proches regroupés (nombre)",
    ]
    assert palettes.contrast_problems(palettes.legend_colors(rows)) == []
    script = _script(m)
    # The QPV 2015 row follows its layer, hidden at first (the legend hides rows of hidden layers).
    assert rows[2]["layer"] == 2
    # Opens on the communes' extent, not on a fixed centre (a phone sees Lomme and Hellemmes).
    assert "fitBounds" in script and "[[50.6, 2.96], [50.66, 3.13]]" in script
    assert '"legend":20' in script  # presentation sizes
    assert "Fond de plan OpenStreetMap" in script and "Fond vectoriel (hors ligne)" in script
    assert "Commune synthétique A" in script  # its name, as a label
