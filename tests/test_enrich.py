"""Spatial enrichment on hand-built squares around Lille and on the real IRIS and quartiers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, box

from geo.enrich import BORDER_TOLERANCE_M, OUTPUT_COLUMNS, conflicts_report, enrich_points
from tests.synthetic import synthetic_qpv

TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)


def communes_layer() -> gpd.GeoDataFrame:
    """Lomme | Lille | Hellemmes as three adjacent squares, sharing edges at 3.02 and 3.10."""
    return gpd.GeoDataFrame(
        {
            "code": ["59355", "59350", "59298"],
            "nom": ["Lomme", "Lille", "Hellemmes"],
            "population": [100.0, 1000.0, 50.0],
        },
        geometry=[
            box(2.95, 50.60, 3.02, 50.66),
            box(3.02, 50.60, 3.10, 50.66),
            box(3.10, 50.60, 3.13, 50.66),
        ],
        crs="EPSG:4326",
    )


def quartiers_layer() -> gpd.GeoDataFrame:
    """Lille split at 3.06 into two quartiers, plus Lomme and Hellemmes as one quartier each."""
    return gpd.GeoDataFrame(
        {
            "code_quartier": ["200", "1", "2", "100"],
            "nom_quartier": ["Lomme", "Ouest", "Est", "Hellemmes"],
            "code_commune": ["59355", "59350", "59350", "59298"],
        },
        geometry=[
            box(2.95, 50.60, 3.02, 50.66),
            box(3.02, 50.60, 3.06, 50.66),
            box(3.06, 50.60, 3.10, 50.66),
            box(3.10, 50.60, 3.13, 50.66),
        ],
        crs="EPSG:4326",
    )


def all_layers() -> dict:
    return {
        "communes": communes_layer(),
        "quartiers": quartiers_layer(),
        "qpv_2015": synthetic_qpv("2015"),
        "qpv_2024": synthetic_qpv("2024"),
    }


def points(coords: list[tuple[float, float]], **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(c) for c in coords], crs="EPSG:4326")


def east_of_qpv(offset_m: float) -> tuple[float, float]:
    """A point ``offset_m`` metres east of the middle of QPV A 2024's east edge (hand geometry)."""
    qpv = synthetic_qpv("2024").iloc[0].geometry
    minx, miny, maxx, maxy = qpv.bounds
    mid_lat = (miny + maxy) / 2
    x, y = TO_L93.transform(maxx, mid_lat)
    return TO_WGS.transform(x + offset_m, y)


def test_distance_to_qpv_and_buffer():
    pts = points([east_of_qpv(200), (3.060, 50.612)])
    near = enrich_points(pts, all_layers(), year=2024, buffer_m=300)
    assert near["dist_qpv_m"].iloc[0] == pytest.approx(200, abs=1)
    assert bool(near["near_qpv"].iloc[0]) is True
    assert pd.isna(near["code_qpv"].iloc[0])
    assert near["dist_qpv_m"].iloc[1] == 0
    assert near["code_qpv"].iloc[1] == "SYNTH-QN059A"
    assert bool(near["near_qpv"].iloc[1]) is True
    far = enrich_points(pts, all_layers(), year=2024, buffer_m=150)
    assert bool(far["near_qpv"].iloc[0]) is False
    assert bool(far["near_qpv"].iloc[1]) is True


def test_qpv_generation_follows_the_year():
    # Centre of QPV B (2015 list only) and centre of QPV A (both lists), each in 2023 and 2024.
    pts = points([(3.090, 50.632), (3.090, 50.632), (3.060, 50.612), (3.060, 50.612)])
    years = pd.Series([2023, 2024, 2023, 2024])
    out = enrich_points(pts, all_layers(), year=years)
    assert list(out["qpv_generation"]) == ["2015", "2024", "2015", "2024"]
    assert out["code_qpv"].iloc[0] == "SYNTH-QP059B"
    assert pd.isna(out["code_qpv"].iloc[1])
    assert out["dist_qpv_m"].iloc[1] > 0
    assert out["code_qpv"].iloc[2] == "SYNTH-QP059A"
    assert out["code_qpv"].iloc[3] == "SYNTH-QN059A"
    assert out["nom_qpv"].iloc[3] == "QPV synthétique A 2024 (Lille-Sud)"


def test_switch_year_and_missing_year():
    pts = points([(3.090, 50.632), (3.090, 50.632)])
    out = enrich_points(
        pts, all_layers(), year=pd.Series([2023, None], dtype="Int64"), qpv_switch_year=2023
    )
    assert list(out["qpv_generation"]) == ["2024", "2024"]
    assert out["code_qpv"].isna().all()
    no_year = enrich_points(pts, all_layers())
    assert list(no_year["qpv_generation"]) == ["2024", "2024"]


def test_year_series_is_aligned_on_the_index():
    pts = points([(3.090, 50.632), (3.060, 50.612)])
    pts.index = [10, 20]
    out = enrich_points(pts, all_layers(), year=pd.Series({20: 2024, 10: 2022}))
    assert out.loc[10, "code_qpv"] == "SYNTH-QP059B"
    assert out.loc[20, "code_qpv"] == "SYNTH-QN059A"
    assert list(out.index) == [10, 20]


def test_point_on_a_border_gets_exactly_one_commune_and_quartier():
    # On the shared edge Lomme|Lille (3.02) and on the quartier edge Ouest|Est (3.06).
    pts = points([(3.02, 50.63), (3.06, 50.65)])
    out = enrich_points(pts, all_layers())
    assert len(out) == 2
    assert out["code_commune"].iloc[0] in {"59355", "59350"}
    assert out["code_quartier"].iloc[1] in {"1", "2"}
    assert out["code_commune"].notna().all()
    assert out["code_quartier"].notna().all()


def test_overlap_goes_to_the_nearest_centroid():
    # Two overlapping squares: centroids at 3.03 and 3.07; the overlap 3.04-3.06 holds the point.
    layer = gpd.GeoDataFrame(
        {"code": ["B", "A"], "nom": ["Bé", "A"]},
        geometry=[box(3.00, 50.60, 3.06, 50.66), box(3.04, 50.60, 3.10, 50.66)],
        crs="EPSG:4326",
    )
    out = enrich_points(points([(3.045, 50.63), (3.055, 50.63)]), {"communes": layer})
    assert list(out["code_commune"]) == ["B", "A"]
    assert list(out["nom_commune"]) == ["Bé", "A"]


def test_gap_between_polygons_uses_the_nearest_within_tolerance():
    # Two squares separated by a gap of about 0.001 degrees of longitude (about 71 m at 50.6 N).
    layer = gpd.GeoDataFrame(
        {"code_quartier": ["W", "E"], "nom_quartier": ["Ouest", "Est"]},
        geometry=[box(3.00, 50.60, 3.050, 50.66), box(3.051, 50.60, 3.10, 50.66)],
        crs="EPSG:4326",
    )
    gap_width = TO_L93.transform(3.051, 50.63)[0] - TO_L93.transform(3.050, 50.63)[0]
    assert gap_width > BORDER_TOLERANCE_M  # the middle of the gap is then beyond tolerance
    lon_near_w = 3.050 + 0.0002  # about 14 m from W, 57 m from E
    lon_middle = 3.0505  # about 35.5 m from each side, within tolerance of both: W or E
    far = 2.98  # about 1.4 km west of everything
    out = enrich_points(
        points([(lon_near_w, 50.63), (lon_middle, 50.63), (far, 50.63)]), {"quartiers": layer}
    )
    assert out["code_quartier"].iloc[0] == "W"
    assert out["code_quartier"].iloc[1] in {"W", "E"}
    assert pd.isna(out["code_quartier"].iloc[2])


def test_iris_commune_wins_over_communes_layer():
    iris = gpd.GeoDataFrame(
        {"code_iris": ["592980101"], "nom_iris": ["Test"], "code_commune": ["59298"]},
        geometry=[box(3.08, 50.62, 3.10, 50.64)],
        crs="EPSG:4326",
    )
    layers = {**all_layers(), "iris": iris}
    # First point: in the IRIS (coded Hellemmes) but in the Lille square; second: outside IRIS.
    out = enrich_points(points([(3.09, 50.63), (3.04, 50.63)]), layers)
    assert list(out["code_commune"]) == ["59298", "59350"]
    assert list(out["nom_commune"]) == ["Hellemmes", "Lille"]
    assert out["code_iris"].iloc[0] == "592980101"
    assert pd.isna(out["code_iris"].iloc[1])


def test_postcode_cross_check():
    mel = gpd.GeoDataFrame(
        {"code": ["59343"], "nom": ["Lezennes"]},
        geometry=[box(3.13, 50.60, 3.16, 50.66)],
        crs="EPSG:4326",
    )
    layers = {**all_layers(), "mel_communes": mel}
    coords = [(2.99, 50.65), (3.14, 50.65), (2.99, 50.65), (3.12, 50.65), (3.04, 50.65)]
    pts = points(coords, code_postal=["59260", "59260", "59160", 59000.0, "59 000"])
    out = enrich_points(pts, layers)
    conflict = out["commune_conflict"]
    assert "59260" in conflict.iloc[0] and "Hellemmes" in conflict.iloc[0]
    assert "Lomme" in conflict.iloc[0]
    assert out["code_commune"].iloc[1] == "59343" and pd.isna(conflict.iloc[1])  # Lezennes
    assert pd.isna(conflict.iloc[2])  # 59160 in Lomme
    assert "59000" in conflict.iloc[3] and "Hellemmes" in conflict.iloc[3]
    assert pd.isna(conflict.iloc[4])  # "59 000" in Lille
    report = conflicts_report(out)
    assert list(report.index) == [0, 3]
    assert "commune_conflict" in report.columns
    assert not isinstance(report, gpd.GeoDataFrame)


def test_missing_layers_leave_columns_empty():
    pts = points([(3.06, 50.612), (3.09, 50.632)], code_postal=["59000", "59000"])
    out = enrich_points(pts, {})
    for col in OUTPUT_COLUMNS:
        assert col in out.columns
    assert out["code_commune"].isna().all()
    assert out["dist_qpv_m"].isna().all()
    assert not out["near_qpv"].any()
    assert out["commune_conflict"].isna().all()
    # Only the 2024 list is loaded: a 2023 row has no distance, a 2024 row has one.
    partial = enrich_points(pts, {"qpv_2024": synthetic_qpv("2024")}, year=pd.Series([2023, 2024]))
    assert np.isnan(partial["dist_qpv_m"].iloc[0])
    assert partial["dist_qpv_m"].iloc[1] > 0


def test_rows_without_geometry_and_layer_pairs():
    pts = gpd.GeoDataFrame({"x": [1, 2]}, geometry=[None, Point(3.06, 50.612)], crs="EPSG:4326")
    layers = {name: (gdf, object()) for name, gdf in all_layers().items()}
    out = enrich_points(pts, layers)
    assert pd.isna(out["code_commune"].iloc[0])
    assert np.isnan(out["dist_qpv_m"].iloc[0])
    assert out["code_commune"].iloc[1] == "59350"
    assert out.crs == pts.crs
    assert out.geometry.iloc[1].equals(pts.geometry.iloc[1])


def test_layer_missing_canonical_columns_is_an_error():
    bad = communes_layer().rename(columns={"code": "insee"})
    with pytest.raises(ValueError, match="colonnes manquantes"):
        enrich_points(points([(3.0, 50.6)]), {"communes": bad})


def test_real_iris_and_quartiers_give_one_quartier_and_one_commune(shared_data):
    geo = shared_data / "geo"
    q = gpd.read_file(geo / "quartiers_lille_hellemmes_lomme.geojson")
    quartiers = gpd.GeoDataFrame(
        {
            "code_quartier": q["code_quartier"].astype(str),
            "nom_quartier": q["quartier"],
            "code_commune": q["code_insee"].astype(str),
        },
        geometry=q.geometry,
        crs="EPSG:4326",
    )
    i = gpd.read_file(geo / "iris_lille_hellemmes_lomme_rp2019.geojson")
    iris = gpd.GeoDataFrame(
        {
            "code_iris": i["code_iris"].astype(str),
            "nom_iris": i["nom_iris"],
            "code_commune": i["code_territoire"].astype(str),
            "population": i["P19_POP"].astype(float),
        },
        geometry=i.geometry,
        crs="EPSG:4326",
    )
    union = iris.union_all()
    rng = np.random.default_rng(20210623)
    minx, miny, maxx, maxy = union.bounds
    xs = rng.uniform(minx, maxx, 4000)
    ys = rng.uniform(miny, maxy, 4000)
    inside = shapely.contains_xy(union, xs, ys)
    xs, ys = xs[inside][:500], ys[inside][:500]
    assert len(xs) == 500
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs="EPSG:4326")
    out = enrich_points(pts, {"iris": iris, "quartiers": quartiers})
    assert len(out) == 500 and out.index.is_unique
    assert out["code_quartier"].notna().all()
    assert out["code_commune"].notna().all()
    assert set(out["code_commune"]) <= {"59350", "59298", "59355"}
    # Independent check of the commune: the IRIS that contains each point, polygon by polygon.
    expected = np.full(500, None, dtype=object)
    for code, geom in zip(iris["code_commune"], iris.geometry, strict=True):
        expected[shapely.contains_xy(geom, xs, ys)] = code
    assert pd.notna(expected).all()
    assert (out["code_commune"].to_numpy() == expected).all()
