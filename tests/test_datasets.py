"""load_datasets: demo or imported data (never both), types, locations and the SIRENE "P" rule."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd
import pytest
import shapely

from loaders import datasets as ds
from loaders import model, store
from loaders.config import DEMO_DIR

# Two public structures and one with SIRENE diffusion status P. SIRETs are Luhn-valid and start
# with zeros, which must survive. Coordinates are distinct so a leak is detectable.
PUBLIC_A = {
    "siret": "00001234500012",
    "siren": "000012345",
    "rna": "W000000001",
    "nom": "Atelier Alpha (fictif)",
    "forme_juridique": "Association",
    "est_ess": "oui",
    "code_postal": "59000",
    "lat": "50.62",
    "lon": "3.05",
    "statut_diffusion": "O",
}
PUBLIC_B = {
    "siret": "00009999900011",
    "siren": "000099999",
    "nom": "Coop Beta (fictif)",
    "forme_juridique": "SCOP",
    "est_ess": "1",
    "lat": "50.63",
    "lon": "3.06",
    "statut_diffusion": "O",
}
PRIVATE = {
    "siret": "00055555500013",
    "siren": "000555555",
    "rna": "W000000009",
    "nom": "Secret Gamma (fictif)",
    "forme_juridique": "Association",
    "est_ess": "true",
    "lat": "50.64",
    "lon": "3.07",
    "statut_diffusion": "P",
}
GRANT = {
    "nomAttribuant": "Ville de Lille",
    "idAttribuant": "21590350100017",
    "nature": "aide en numéraire",
    "conditionsVersement": "unique",
    "notificationUE": "non",
    "pourcentageSubvention": "0.5",
}
GRANTS = [
    # at its beneficiary (by SIRET)
    GRANT | {"id_subvention": "G1", "nomBeneficiaire": PUBLIC_A["nom"], "montant": "1000"}
    | {"idBeneficiaire": PUBLIC_A["siret"], "axe": "1", "priorite": "3", "annee": "2022"}
    | {"dateConvention": "2022-03-04", "cible_qpv": "non"},
    # own project location
    GRANT | {"id_subvention": "G2", "nomBeneficiaire": PUBLIC_B["nom"], "montant": "2500.50"}
    | {"idBeneficiaire": PUBLIC_B["siret"], "lat_projet": "50.61", "lon_projet": "3.01"}
    | {"axe": "3", "priorite": "16", "annee": "2023", "cible_qpv": "oui"},
    # P beneficiary, no project location
    GRANT | {"id_subvention": "G3", "nomBeneficiaire": PRIVATE["nom"], "montant": "300"}
    | {"idBeneficiaire": PRIVATE["siret"], "rnaBeneficiaire": PRIVATE["rna"], "annee": "2024"},
    # P beneficiary with its own project location
    GRANT | {"id_subvention": "G4", "nomBeneficiaire": PRIVATE["nom"], "montant": "200"}
    | {"idBeneficiaire": PRIVATE["siret"], "lat_projet": "50.60", "lon_projet": "3.02"},
    # no SIRET: located through the RNA
    GRANT | {"id_subvention": "G5", "nomBeneficiaire": PUBLIC_A["nom"], "montant": "50"}
    | {"rnaBeneficiaire": PUBLIC_A["rna"]},
    # unknown beneficiary: no location, kept and counted
    GRANT | {"id_subvention": "G6", "nomBeneficiaire": "Inconnu (fictif)", "montant": "10"}
    | {"idBeneficiaire": "00077777700019"},
]  # fmt: skip
LAND = [
    {"site_id": "S1", "nom": "Local (fictif)", "lat": "50.65", "lon": "3.08", "type": "local"}
    | {"statut": "attribué", "siret_occupant": PRIVATE["siret"], "date_debut": "2024-01-01"},
    {"site_id": "S2", "nom": "Friche (fictif)", "type": "friche", "statut": "disponible"}
    | {"geometry": "POLYGON ((3 50.6, 3.001 50.6, 3.001 50.601, 3 50.601, 3 50.6))"},
    {"site_id": "S3", "nom": "Terrain (fictif)", "type": "terrain", "statut": "à l'étude"},
    {"site_id": "S4", "nom": "Local B (fictif)", "lat": "50.66", "lon": "3.09", "type": "local"}
    | {"statut": "attribué", "siret_occupant": PUBLIC_B["siret"], "loyer_annuel_eur": "1200"},
]


def _write(folder: Path, kind: str, rows: list[dict]) -> None:
    names = [c.name for c in model.SCHEMAS[kind]]
    with (folder / f"{kind}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def tiny_demo(ess_home, monkeypatch) -> Path:
    """A hand-made demo folder in place of data/demo/, with an empty store."""
    folder = ess_home / "demo"
    folder.mkdir()
    _write(folder, "structures", [PUBLIC_A, PRIVATE, PUBLIC_B])
    _write(folder, "grants", GRANTS)
    _write(folder, "land", LAND)
    monkeypatch.setattr(ds, "DEMO_DIR", folder)
    return folder


def _by_id(gdf, key: str) -> dict:
    return {row[key]: row for _, row in gdf.iterrows()}


def test_demo_path_reads_the_embedded_files(ess_home):
    data = ds.load_datasets()
    assert data.demo is True
    with (DEMO_DIR / "structures.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    public = [r for r in rows if r["statut_diffusion"] == "O"]
    assert len(data.structures) == len(public) and len(public) == len(rows) - 3
    for kind in ds.KINDS:
        assert data.meta[kind]["fictif"] is True
        assert data.meta[kind]["source"] == "Jeu de démonstration fictif"
        assert data.meta[kind]["rows"] == len(getattr(data, kind))
        assert getattr(data, kind).crs == "EPSG:4326"
    assert data.meta["structures"]["non_diffusible"] == 3
    digest = hashlib.sha256()
    for kind in ds.KINDS:
        digest.update(kind.encode() + b"\0" + (DEMO_DIR / f"{kind}.csv").read_bytes())
    assert data.version == digest.hexdigest()


def test_demo_totals_reconcile_with_the_file(ess_home):
    with (DEMO_DIR / "grants.csv").open(encoding="utf-8") as handle:
        total = sum(float(r["montant"]) for r in csv.DictReader(handle))
    assert ds.load_datasets().grants["montant"].sum() == pytest.approx(total)


def test_types_from_csv(tiny_demo):
    data = ds.load_datasets()
    structures = _by_id(data.structures, "siret")
    assert list(structures) == [PUBLIC_A["siret"], PUBLIC_B["siret"]]  # zeros kept, P removed
    assert structures[PUBLIC_A["siret"]]["siren"] == "000012345"
    assert structures[PUBLIC_A["siret"]]["est_ess"] is True  # "oui"
    assert structures[PUBLIC_B["siret"]]["est_ess"] is True  # "1"
    assert structures[PUBLIC_B["siret"]]["rna"] is None  # blank cell
    grants = _by_id(data.grants, "id_subvention")
    assert grants["G2"]["montant"] == 2500.5
    assert grants["G1"]["priorite"] == 3 and grants["G1"]["annee"] == 2022
    assert grants["G1"]["dateConvention"] == pd.Timestamp("2022-03-04")
    assert grants["G1"]["notificationUE"] is False and grants["G2"]["cible_qpv"] is True
    # the model's columns, then what geo.locate adds: where the grant was placed, its postcode
    expected = [c.name for c in model.GRANT_COLUMNS] + ["localisation", "code_postal"]
    assert list(data.grants.columns[:-1]) == expected
    assert data.grants.geometry.name == "geometry"


def test_private_structures_never_reach_any_table(tiny_demo):
    data = ds.load_datasets()
    assert len(data.structures) == 2
    secrets = {PRIVATE["nom"], PRIVATE["siret"], PRIVATE["siren"], PRIVATE["rna"]}
    for kind in ds.KINDS:
        gdf = getattr(data, kind)
        cells = {str(v) for v in gdf.drop(columns="geometry").to_numpy().ravel()}
        assert not cells & secrets, kind
        assert not any(PRIVATE["siren"] in c for c in cells), kind
        coords = shapely.get_coordinates(gdf.geometry.dropna().to_numpy()).round(6).tolist()
        assert [3.07, 50.64] not in coords, kind
        for lon, lat in (("lon", "lat"), ("lon_projet", "lat_projet")):
            if lon in gdf:
                pairs = list(zip(gdf[lon].round(6), gdf[lat].round(6), strict=True))
                assert (3.07, 50.64) not in pairs, kind
    grants = _by_id(data.grants, "id_subvention")
    for key in ("G3", "G4"):
        assert grants[key]["nomBeneficiaire"] == "Structure non diffusible"
        assert grants[key]["idBeneficiaire"] is None and grants[key]["rnaBeneficiaire"] is None
    assert grants["G3"].geometry is None
    assert (grants["G4"].geometry.x, grants["G4"].geometry.y) == (3.02, 50.60)
    # Amounts stay: 1000 + 2500.5 + 300 + 200 + 50 + 10.
    assert data.grants["montant"].sum() == pytest.approx(4060.5)
    land = _by_id(data.land, "site_id")
    assert land["S1"]["siret_occupant"] is None
    assert land["S4"]["siret_occupant"] == PUBLIC_B["siret"]
    assert data.meta["structures"]["non_diffusible"] == 1


def test_grant_location_falls_back_to_the_beneficiary(tiny_demo):
    data = ds.load_datasets()
    grants = _by_id(data.grants, "id_subvention")
    located = {k: (g.geometry.x, g.geometry.y) for k, g in grants.items() if g.geometry}
    assert located == {
        "G1": (3.05, 50.62),  # beneficiary A by SIRET
        "G2": (3.01, 50.61),  # its own project location, not B's (3.06, 50.63)
        "G4": (3.02, 50.60),
        "G5": (3.05, 50.62),  # beneficiary A by RNA
    }
    assert len(data.grants) == 6  # G3 and G6 kept without geometry
    assert data.meta["grants"]["unlocated"] == 2


def test_land_geometry_from_point_or_wkt(tiny_demo):
    land = _by_id(ds.load_datasets().land, "site_id")
    assert land["S1"].geometry.geom_type == "Point"
    assert land["S2"].geometry.geom_type == "Polygon"
    assert land["S2"].geometry.bounds == (3.0, 50.6, 3.001, 50.601)
    assert land["S3"].geometry is None
    assert land["S4"]["loyer_annuel_eur"] == 1200.0


def _fake_store(monkeypatch, tables: dict, meta: dict) -> None:
    monkeypatch.setattr(store, "read_kind", lambda kind: tables.get(kind))
    monkeypatch.setattr(store, "store_meta", lambda: meta)


def test_store_path_shows_only_the_imported_data(ess_home, monkeypatch):
    grants = pd.DataFrame([GRANTS[0], GRANTS[1]])
    meta = {
        "grants": {
            "file": "subventions_2024.csv",
            "sha256": "ab" * 32,
            "imported_at": "2026-05-04T10:00:00+00:00",
            "rows": 2,
        }
    }
    _fake_store(monkeypatch, {"grants": grants}, meta)
    data = ds.load_datasets()
    assert data.demo is False
    assert list(data.grants["id_subvention"]) == ["G1", "G2"]  # no demo row mixed in
    assert data.structures.empty and data.land.empty
    assert list(data.structures.columns[:-1]) == [c.name for c in model.STRUCTURE_COLUMNS]
    assert data.structures.crs == "EPSG:4326"
    assert data.meta["grants"] == {
        "rows": 2,
        "source": "subventions_2024.csv",
        "updated": "2026-05-04",
        "fictif": False,
        "unlocated": 1,  # G1's beneficiary is not among the (absent) structures
        "non_diffusible": 0,
    }
    assert data.meta["structures"]["source"] == "Non importé"
    assert data.meta["structures"]["rows"] == 0
    expected = hashlib.sha256(b"store" + f"grants:{'ab' * 32}\n".encode()).hexdigest()
    assert data.version == expected


def test_store_version_follows_the_stored_hashes(ess_home, monkeypatch):
    grants = pd.DataFrame([GRANTS[0]])
    _fake_store(monkeypatch, {"grants": grants}, {"grants": {"sha256": "1" * 64}})
    first = ds.load_datasets().version
    _fake_store(monkeypatch, {"grants": grants}, {"grants": {"sha256": "2" * 64}})
    assert ds.load_datasets().version != first


def test_real_store_round_trip(ess_home):
    structures = pd.DataFrame([PUBLIC_A, PRIVATE])
    store.write_import("structures", structures, {"file": "structures.xlsx", "sha256": "cd" * 32})
    data = ds.load_datasets()
    assert data.demo is False
    assert list(data.structures["siret"]) == [PUBLIC_A["siret"]]
    assert data.structures.geometry.iloc[0].coords[0] == (3.05, 50.62)
    assert data.grants.empty and data.meta["grants"]["source"] == "Non importé"
    assert data.meta["structures"]["source"] == "structures.xlsx"


def test_numeric_identifiers_regain_their_zeros():
    df = pd.DataFrame({"siret": [1234500012, None], "siren": [12345.0, None]})
    typed = ds.typed(df, "structures")
    assert list(typed["siret"]) == ["00001234500012", None]
    assert list(typed["siren"]) == ["000012345", None]
