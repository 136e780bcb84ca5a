"""Enrichment pipeline: where grants are placed, and the on-disk cache keyed by data and layers."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from types import ModuleType, SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from loaders import pipeline
from tests.synthetic import synthetic_qpv


@dataclass
class FakeDatasets:
    structures: gpd.GeoDataFrame
    grants: gpd.GeoDataFrame
    land: gpd.GeoDataFrame
    demo: bool = True
    version: str = "v1"
    meta: dict | None = None


def datasets(version: str = "v1") -> FakeDatasets:
    structures = gpd.GeoDataFrame(
        {
            "siret": ["11111111111111", "22222222222222"],
            "nom": ["Lomme Asso", "Lille Coop"],
            "code_postal": ["59260", "59000"],  # the first one disagrees with its Lomme point
            "lat": [50.63, 50.612],
            "lon": [2.99, 3.060],
        },
        geometry=[Point(2.99, 50.63), Point(3.060, 50.612)],
        crs="EPSG:4326",
    )
    grants = pd.DataFrame(
        {
            "id_subvention": ["g1", "g2", "g3"],
            "idBeneficiaire": ["11111111111111", "22222222222222", "99999999999999"],
            "nomBeneficiaire": ["Lomme Asso", "Lille Coop", "Inconnue"],
            "montant": [1000.0, 2000.0, 3000.0],
            "annee": [2023, 2024, 2022],
            "lat_projet": [None, 50.632, None],
            "lon_projet": [None, 3.090, None],
        }
    )
    land = gpd.GeoDataFrame(
        {"site_id": ["L1"], "nom": ["Friche"], "surface_m2": [1200.0]},
        geometry=[Point(3.111, 50.625)],
        crs="EPSG:4326",
    )
    return FakeDatasets(structures=structures, grants=grants, land=land, version=version)


def layers(retrieved: str = "2026-01-01T00:00:00") -> dict:
    communes = gpd.GeoDataFrame(
        {"code": ["59355", "59350", "59298"], "nom": ["Lomme", "Lille", "Hellemmes"]},
        geometry=[
            box(2.95, 50.60, 3.02, 50.66),
            box(3.02, 50.60, 3.10, 50.66),
            box(3.10, 50.60, 3.13, 50.66),
        ],
        crs="EPSG:4326",
    )
    meta = SimpleNamespace(retrieved=retrieved, rows=3, updated=None, source="test")
    return {
        "communes": (communes, meta),
        "qpv_2015": (synthetic_qpv("2015"), SimpleNamespace(retrieved=None, rows=3)),
        "qpv_2024": (synthetic_qpv("2024"), SimpleNamespace(retrieved=None, rows=2)),
        "iris": (None, SimpleNamespace(retrieved=None, rows=0)),
    }


@pytest.fixture
def counted(monkeypatch):
    """Count the calls to enrich_points made by the pipeline."""
    calls = []
    real = pipeline.enrich_points

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "enrich_points", spy)
    return calls


def test_grants_are_placed_at_project_else_beneficiary(ess_home):
    result = pipeline.enriched(datasets(), layers())
    g = result.grants.set_index("id_subvention")
    assert list(g["localisation"]) == ["bénéficiaire", "projet", "non localisé"]
    assert (g.loc["g1", "geometry"].x, g.loc["g1", "geometry"].y) == (2.99, 50.63)
    assert (g.loc["g2", "geometry"].x, g.loc["g2", "geometry"].y) == (3.090, 50.632)
    assert g.loc["g3", "geometry"] is None
    # Year 2023 at the beneficiary in Lomme: 2015 list, outside any QPV.
    assert g.loc["g1", "code_commune"] == "59355" and g.loc["g1", "qpv_generation"] == "2015"
    # Year 2024 at the project in Fives: 2024 list, where QPV B no longer exists.
    assert g.loc["g2", "qpv_generation"] == "2024" and pd.isna(g.loc["g2", "code_qpv"])
    assert g.loc["g2", "code_postal"] is None or pd.isna(g.loc["g2", "code_postal"])
    assert g.loc["g1", "code_postal"] == "59260"
    assert result.land["code_commune"].iloc[0] == "59298"
    assert result.land["code_qpv"].iloc[0] == "SYNTH-QN059D"


def test_both_qpv_lists_are_kept_whatever_the_year(ess_home):
    g = pipeline.enriched(datasets(), layers()).grants.set_index("id_subvention")
    # g2 (2024) sits in QPV B, which exists only in the 2015 list.
    assert g.loc["g2", "code_qpv_2015"] == "SYNTH-QP059B"
    assert g.loc["g2", "dist_qpv_2015_m"] == 0
    assert pd.isna(g.loc["g2", "code_qpv_2024"])
    assert g.loc["g2", "dist_qpv_2024_m"] > 0
    assert not g.loc["g3", "near_qpv_2015"]  # not located


def test_conflicts_gather_every_dataset(ess_home):
    result = pipeline.enriched(datasets(), layers())
    assert sorted(result.conflicts["jeu"]) == ["structures", "subventions"]
    assert result.conflicts["commune_conflict"].str.contains("59260").all()


def test_second_call_reads_the_cache(ess_home, counted):
    first = pipeline.enriched(datasets(), layers())
    # 3 datasets x (the full enrichment + one pass per QPV list)
    assert len(counted) == 9
    files = sorted(p.name for p in (ess_home / "enriched").iterdir())
    assert files == sorted(
        f"{first.key}_{n}.parquet" for n in ("structures", "grants", "land", "conflicts")
    )
    mtimes = {p.name: p.stat().st_mtime_ns for p in (ess_home / "enriched").iterdir()}
    second = pipeline.enriched(datasets(), layers())
    assert len(counted) == 9
    assert second.key == first.key
    assert {p.name: p.stat().st_mtime_ns for p in (ess_home / "enriched").iterdir()} == mtimes
    pd.testing.assert_frame_equal(
        pd.DataFrame(second.grants.drop(columns="geometry")),
        pd.DataFrame(first.grants.drop(columns="geometry")),
        check_dtype=False,
    )
    assert second.grants.geometry.equals(first.grants.geometry)
    assert second.grants.crs == first.grants.crs
    assert list(second.conflicts["jeu"]) == list(first.conflicts["jeu"])


def test_key_changes_with_data_layers_buffer_and_switch_year(ess_home, counted, monkeypatch):
    base = pipeline.enriched(datasets(), layers()).key
    assert pipeline.enriched(datasets("v2"), layers()).key != base
    assert pipeline.enriched(datasets(), layers("2026-02-01T00:00:00")).key != base
    monkeypatch.setenv("ESS_QPV_BUFFER_M", "150")
    assert pipeline.enriched(datasets(), layers()).key != base
    monkeypatch.setenv("ESS_QPV_SWITCH_YEAR", "2023")
    switched = pipeline.enriched(datasets(), layers())
    g = switched.grants.set_index("id_subvention")
    assert g.loc["g1", "qpv_generation"] == "2024"
    assert len(counted) == 9 * 5  # 5 keys, 3 datasets x 3 passes each


def test_force_recomputes(ess_home, counted):
    pipeline.enriched(datasets(), layers())
    pipeline.enriched(datasets(), layers(), force=True)
    assert len(counted) == 18  # twice 3 datasets x 3 passes


def test_old_keys_are_pruned(ess_home):
    keys = [pipeline.enriched(datasets(f"v{i}"), layers()).key for i in range(5)]
    stored = {p.name.split("_", 1)[0] for p in (ess_home / "enriched").iterdir()}
    assert keys[-1] in stored
    assert len(stored) == pipeline.KEEP_KEYS


def test_buffer_from_environment(ess_home, monkeypatch):
    monkeypatch.setenv("ESS_QPV_BUFFER_M", "10000")
    result = pipeline.enriched(datasets(), layers())
    assert result.grants["near_qpv"].iloc[:2].all()


def test_rebuild_uses_the_loaders(ess_home, monkeypatch, counted):
    fake_layers = ModuleType("loaders.layers")
    fake_layers.load_layers = layers
    fake_datasets = ModuleType("loaders.datasets")
    fake_datasets.load_datasets = datasets
    monkeypatch.setitem(sys.modules, "loaders.layers", fake_layers)
    monkeypatch.setitem(sys.modules, "loaders.datasets", fake_datasets)
    summary = pipeline.rebuild()
    assert summary["structures"] == 2 and summary["grants"] == 3 and summary["land"] == 1
    assert summary["conflicts"] == 2
    assert summary["key"] == pipeline.enriched(datasets(), layers()).key
    pipeline.rebuild()
    assert len(counted) == 18  # twice 3 datasets x 3 passes


def test_plain_geodataframe_layers_are_accepted(ess_home):
    plain = {name: gdf for name, (gdf, _meta) in layers().items()}
    result = pipeline.enriched(replace(datasets(), version="plain"), plain)
    assert result.structures["code_commune"].tolist() == ["59355", "59350"]


def test_no_grant_at_all_is_located_without_error():
    """A store holding only land sites (or structures) has an empty grants table."""
    structures = gpd.GeoDataFrame(
        {"siret": ["00000000000018"], "code_postal": ["59260"]},
        geometry=[Point(3.1, 50.63)],
        crs="EPSG:4326",
    )
    grants = pd.DataFrame({"id_subvention": [], "idBeneficiaire": [], "lat_projet": []})
    located = pipeline.locate_grants(grants, structures)
    assert len(located) == 0 and list(located["localisation"]) == []


def test_warm_builds_once_and_never_raises(ess_home, monkeypatch, counted, caplog):
    fake_layers = ModuleType("loaders.layers")
    fake_layers.load_layers = layers
    fake_datasets = ModuleType("loaders.datasets")
    fake_datasets.load_datasets = datasets
    monkeypatch.setitem(sys.modules, "loaders.layers", fake_layers)
    monkeypatch.setitem(sys.modules, "loaders.datasets", fake_datasets)
    assert pipeline.warm()["grants"] == 3
    assert pipeline.warm()["key"] == pipeline.enriched(datasets(), layers()).key
    assert len(counted) == 9  # computed once: the second warm and the page read the cache

    def broken():
        raise OSError("disque plein")

    fake_layers.load_layers = broken
    assert pipeline.warm() is None
    assert "enrichment cache not built" in caplog.text
