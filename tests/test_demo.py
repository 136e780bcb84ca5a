"""The fictional demo dataset: reproducible, and consistent with the model and the strategy."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from loaders import model
from loaders.config import DEMO_DIR, strategy

REPO = Path(__file__).resolve().parent.parent
KINDS = ("structures", "grants", "land")


def _generator():
    spec = importlib.util.spec_from_file_location("generate_demo", REPO / "data/generate_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _generator()


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    return {k: pd.read_csv(DEMO_DIR / f"{k}.csv", dtype=str, keep_default_na=False) for k in KINDS}


@pytest.fixture(scope="module")
def outlines(gen) -> gpd.GeoDataFrame:
    return gen.territory_outlines()


def test_regeneration_is_byte_identical(gen, ess_home):
    paths = gen.main(ess_home / "demo")
    assert sorted(paths) == sorted(KINDS)
    for kind in KINDS:
        assert paths[kind].read_bytes() == (DEMO_DIR / f"{kind}.csv").read_bytes(), kind


def test_columns_are_the_model_columns_in_order():
    for kind in KINDS:
        with (DEMO_DIR / f"{kind}.csv").open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == [c.name for c in model.SCHEMAS[kind]]


def test_counts(demo):
    assert 140 <= len(demo["structures"]) <= 160
    assert 380 <= len(demo["grants"]) <= 420
    assert len(demo["land"]) == 40


def test_grant_amounts_fit_the_envelope_and_every_year(demo):
    grants = demo["grants"]
    amount = grants["montant"].astype(float)
    paid = grants["montant_verse"].astype(float)
    assert amount.sum() <= strategy()["enveloppe_eur"]
    per_year = amount.groupby(grants["annee"].astype(int)).sum()
    assert list(per_year.index) == [2021, 2022, 2023, 2024, 2025, 2026]
    assert (per_year > 0).all()
    assert (amount > 0).all() and (paid >= 0).all() and (paid <= amount).all()
    old = grants["annee"].astype(int) <= 2023
    assert (paid[old] == amount[old]).all()
    assert paid[~old].sum() < amount[~old].sum()  # some recent grants are only partly paid
    assert ((amount >= 500) & (amount <= 10_000)).mean() > 0.9


def test_identifiers_are_valid_and_consistent(demo):
    structures, grants, land = demo["structures"], demo["grants"], demo["land"]
    assert structures["siret"].map(model.siret_is_valid).all()
    assert structures["siret"].is_unique
    assert (structures["siren"] == structures["siret"].str[:9]).all()
    assert structures["siren"].map(model.siren_is_valid).all()
    associations = structures["forme_juridique"] == "Association"
    assert structures.loc[associations, "rna"].map(model.rna_is_valid).all()
    assert (structures.loc[~associations, "rna"] == "").all()
    assert set(structures["forme_juridique"]) <= set(model.LEGAL_FORMS)
    assert associations.mean() > 0.5
    assert set(grants["idBeneficiaire"]) <= set(structures["siret"])
    assert grants["id_subvention"].is_unique
    occupants = land["siret_occupant"][land["siret_occupant"] != ""]
    assert set(occupants) <= set(structures["siret"])


def test_priorities_match_their_axis(demo):
    grants = demo["grants"]
    axis_of = model.priority_axis()
    pairs = zip(grants["priorite"].astype(int), grants["axe"].astype(int), strict=True)
    assert all(axis_of[p] == a for p, a in pairs)
    counts = grants["priorite"].astype(int).value_counts()
    assert counts[16] >= 20 and counts[7] >= 20
    qpv = grants["cible_qpv"] == "oui"
    assert qpv[grants["priorite"] == "16"].mean() > 0.5
    assert qpv[grants["priorite"] != "16"].mean() < 0.5


def test_exactly_three_private_structures_all_funded(demo):
    structures = demo["structures"]
    assert set(structures["statut_diffusion"]) == {"O", "P"}
    assert (structures["statut_diffusion"] == "P").sum() == 3
    private = set(structures.loc[structures["statut_diffusion"] == "P", "siret"])
    assert private <= set(demo["grants"]["idBeneficiaire"])


def test_names_are_marked_fictional(demo):
    assert demo["structures"]["nom"].str.endswith(" (fictif)").all()
    assert demo["land"]["nom"].str.endswith(" (fictif)").all()
    assert demo["grants"]["id_subvention"].str.startswith("DEMO-").all()


def test_land_sites(demo):
    land = demo["land"]
    assert set(land["type"]) == set(model.LAND_TYPES)
    assert set(land["statut"]) == set(model.LAND_STATUSES)
    taken = land["statut"] == "attribué"
    assert (land.loc[taken, "siret_occupant"] != "").all()
    assert (land.loc[~taken, "siret_occupant"] == "").all()
    assert (land.loc[taken, "date_debut"] < land.loc[taken, "date_fin"]).all()
    has_point = land["lat"] != ""
    assert ((land["geometry"] != "") != has_point).all()  # a parcel or a point, never both


def _points(df: pd.DataFrame, lon: str, lat: str) -> gpd.GeoSeries:
    known = df[df[lon] != ""]
    return gpd.GeoSeries(
        gpd.points_from_xy(known[lon].astype(float), known[lat].astype(float)), crs="EPSG:4326"
    )


def test_every_location_is_inside_its_territory(demo, outlines):
    structures = demo["structures"]
    shapes = dict(zip(outlines["nom"], outlines.geometry, strict=True))
    points = gpd.points_from_xy(structures["lon"].astype(float), structures["lat"].astype(float))
    inside = [shapes[c].contains(p) for c, p in zip(structures["commune"], points, strict=True)]
    assert all(inside)
    expected_postcodes = {"Hellemmes": {"59260"}, "Lomme": {"59160"}, "Lille": {"59000", "59800"}}
    for commune, postcode in zip(structures["commune"], structures["code_postal"], strict=True):
        assert postcode in expected_postcodes[commune]
    territory = shapely.union_all(outlines.geometry.to_numpy())
    others = pd.concat(
        [
            _points(demo["grants"], "lon_projet", "lat_projet"),
            _points(demo["land"], "lon", "lat"),
            gpd.GeoSeries.from_wkt(
                demo["land"]["geometry"][demo["land"]["geometry"] != ""], crs="EPSG:4326"
            ),
        ]
    )
    assert len(others) > 40
    assert others.within(territory).all()
    # Population-weighted: Lille proper holds most structures.
    assert (structures["commune"] == "Lille").mean() > 0.7


def test_points_fall_inside_the_mel_neighbourhoods(demo, shared_data):
    quartiers = gpd.read_file(shared_data / "geo" / "quartiers_lille_hellemmes_lomme.geojson")
    union = shapely.union_all(quartiers.geometry.to_numpy())
    points = pd.concat(
        [
            _points(demo["structures"], "lon", "lat"),
            _points(demo["grants"], "lon_projet", "lat_projet"),
            _points(demo["land"], "lon", "lat"),
        ]
    )
    assert points.within(union).all()


def test_scdl_columns_are_valid_against_schema_2_1_1(demo, shared_data, ess_home):
    import frictionless

    schema = json.loads(
        (shared_data / "activity" / "scdl_subventions_schema_v2.1.1.json").read_text("utf-8")
    )
    names = [f["name"] for f in schema["fields"]]
    demo["grants"][names].to_csv(ess_home / "scdl.csv", index=False)
    resource = frictionless.Resource(
        path="scdl.csv",
        basepath=str(ess_home),
        schema=frictionless.Schema.from_descriptor({"fields": schema["fields"]}),
    )
    report = frictionless.validate(resource)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type"])[:5]
    grants = demo["grants"]
    assert set(grants["idAttribuant"]) == {"21590350100017"}
    assert set(grants["nomAttribuant"]) == {"Ville de Lille"}
    assert set(grants["conditionsVersement"]) == {"unique", "échelonné"}
