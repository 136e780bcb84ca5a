"""Land-site geometries are checked and repaired (or their row rejected) at import, not display.

A self-intersecting "bow-tie" parcel used to be accepted silently, and the « Accès au foncier »
page then died on a GEOS TopologyException while drawing it.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely

from geo.enrich import enrich_points
from geo.pagemaps import land_map
from geo.tables import land_table
from loaders import store
from loaders.datasets import load_datasets
from loaders.importer import import_file
from loaders.validation import repair_geometry, validate
from tests.synthetic import synthetic_qpv

# A bow-tie over the Friche Saint-Sauveur (Lille): its edges cross at (3.0725, 50.6305).
BOW_TIE = "POLYGON ((3.072 50.630, 3.073 50.631, 3.073 50.630, 3.072 50.631, 3.072 50.630))"
FLAT = "POLYGON ((3.06 50.63, 3.061 50.631, 3.062 50.632, 3.06 50.63))"  # all on one line
HOLE_OUTSIDE = (
    "POLYGON ((3.06 50.63, 3.07 50.63, 3.07 50.64, 3.06 50.64, 3.06 50.63), "
    "(3.08 50.65, 3.09 50.65, 3.09 50.66, 3.08 50.65))"
)
SQUARE = "POLYGON ((3.100 50.620, 3.101 50.620, 3.101 50.621, 3.100 50.621, 3.100 50.620))"

LAND_1252 = (
    "Identifiant;Nom du site;Géométrie;Latitude;Longitude;Type;Statut;Surface (m²)\r\n"
    f"SF-01;Friche Saint-Sauveur;{BOW_TIE};;;friche;à l'étude;23 000\r\n"
    "SF-02;Local de la rue Solférino;;50,6290;3,0540;local;disponible;85\r\n"
    f"SF-03;Parcelle aplatie;{FLAT};;;terrain;disponible;\r\n"
    "SF-04;Parcelle sans contour;POLYGON EMPTY;;;terrain;disponible;\r\n"
    f"SF-05;Terrain de Fives;{HOLE_OUTSIDE};;;terrain;attribué;1 200\r\n"
    f"SF-06;Jardin d'Hellemmes;{SQUARE};;;terrain;disponible;400\r\n"
)


def _import_land(tmp_path, **kwargs):
    path = tmp_path / "sites_fonciers.csv"
    path.write_bytes(LAND_1252.encode("cp1252"))
    return import_file(path, "land", **kwargs)


def test_invalid_parcels_are_repaired_or_rejected_with_row_and_column(tmp_path, ess_home):
    report = _import_land(tmp_path, dry_run=True)
    assert report.notes[0].startswith("Encodage détecté : Windows-1252")
    assert (report.read, report.accepted, report.rejected) == (6, 4, 2)
    assert report.read == report.accepted + report.rejected
    assert [(r["row"], r["column"], r["reason"]) for r in report.rejects] == [
        (4, "geometry", "polygone auto-intersecté : géométrie impossible à réparer"),
        (5, "geometry", "géométrie vide"),
    ]
    repaired = [
        (w["row"], w["column"], w["message"]) for w in report.warnings if w["column"] == "geometry"
    ]
    assert repaired == [
        (2, "geometry", "polygone auto-intersecté : géométrie réparée"),
        (6, "geometry", "trou en dehors du contour : géométrie réparée"),
    ]
    accepted = report.accepted_df
    assert list(accepted.index) == [2, 3, 6, 7]
    shapes = shapely.from_wkt(accepted["geometry"].dropna().to_numpy())
    assert shapely.is_valid(shapes).all()
    bow_tie = shapely.from_wkt(accepted.loc[2, "geometry"])
    assert bow_tie.geom_type == "MultiPolygon" and len(bow_tie.geoms) == 2  # two triangles
    assert bow_tie.area == pytest.approx(0.5e-6)
    assert accepted.loc[7, "geometry"] == shapely.from_wkt(SQUARE).wkt  # valid: kept as is


def test_repaired_parcels_reach_the_land_page_without_topology_errors(tmp_path, ess_home):
    report = _import_land(tmp_path)
    assert report.stored
    land = load_datasets().land
    assert land["site_id"].tolist() == ["SF-01", "SF-02", "SF-05", "SF-06"]
    assert land.geometry.is_valid.all()
    layers = {"qpv_2015": synthetic_qpv("2015"), "qpv_2024": synthetic_qpv("2024")}
    enriched = enrich_points(land, layers)
    assert enriched["dist_qpv_m"].notna().all()
    html = land_map(enriched, layers, tiles=None).get_root().render()  # used to raise
    assert "Friche Saint-Sauveur" in html
    assert land_table(enriched)["Site"].tolist()[0] == "Friche Saint-Sauveur"


def test_geojson_land_file_is_repaired_too(tmp_path, ess_home):
    bow_tie = shapely.geometry.mapping(shapely.from_wkt(BOW_TIE))
    features = [
        {
            "type": "Feature",
            "properties": {"site_id": "SF-01", "nom": "Friche Saint-Sauveur", "type": "friche"},
            "geometry": bow_tie,
        }
    ]
    for feature in features:
        feature["properties"]["statut"] = "à l'étude"
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    report = import_file(path, "land", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (1, 1, 0)
    assert {
        "row": 1,
        "column": "geometry",
        "message": "polygone auto-intersecté : géométrie réparée",
    } in report.warnings
    assert shapely.from_wkt(report.accepted_df.loc[1, "geometry"]).is_valid


def test_an_old_store_with_invalid_parcels_is_repaired_at_load(ess_home):
    """A store written before the rule: repaired once, at load; beyond repair, the point is used."""
    rows = pd.DataFrame(
        {
            "site_id": ["V1", "V2", "V3"],
            "nom": ["Friche Saint-Sauveur", "Parcelle aplatie", "Local Solférino"],
            "geometry": [BOW_TIE, FLAT, None],
            "lat": [None, 50.6295, 50.629],
            "lon": [None, 3.0605, 3.054],
            "type": ["friche", "terrain", "local"],
            "statut": ["à l'étude", "disponible", "disponible"],
        }
    )
    store.write_import("land", rows, {"file": "ancien_import.csv", "sha256": "ab" * 32})
    land = load_datasets().land
    assert land.geometry.is_valid.all()
    assert land.geometry[0].geom_type == "MultiPolygon"
    assert land.geometry[1].equals(shapely.Point(3.0605, 50.6295))  # flat parcel: its point
    assert land.geometry[2].equals(shapely.Point(3.054, 50.629))


def test_repair_geometry_keeps_polygonal_parts_only():
    assert repair_geometry(shapely.from_wkt(SQUARE)).wkt == shapely.from_wkt(SQUARE).wkt
    assert repair_geometry(shapely.from_wkt(FLAT)) is None
    assert repair_geometry(shapely.from_wkt("POLYGON EMPTY")) is None
    assert repair_geometry(None) is None
    fixed = repair_geometry(shapely.from_wkt(BOW_TIE))
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"


def test_parcel_straying_far_outside_the_mel_is_rejected():
    stray = "POLYGON ((3.06 50.63, 3.07 50.63, 3.07 50.64, 3.06 50.64, 3.06 50.63))"
    far = "POLYGON ((3.06 50.63, 3.07 50.63, 48.0 50.64, 3.06 50.64, 3.06 50.63))"
    df = pd.DataFrame(
        {
            "site_id": ["A", "B"],
            "nom": ["Terrain A", "Terrain B"],
            "geometry": [stray, far],
            "type": ["terrain", "terrain"],
            "statut": ["disponible", "disponible"],
        }
    )
    accepted, rejects, _ = validate(df, "land", file_name="sites.csv")
    assert list(accepted.index) == [2]
    assert rejects == [
        {
            "row": 3,
            "column": "geometry",
            "reason": "géométrie hors de la Métropole européenne de Lille",
        }
    ]
