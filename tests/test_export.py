"""Exports: French Excel CSV, XLSX, GeoJSON, GeoPackage and validated SCDL."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from frictionless import Resource, Schema
from shapely.geometry import Point

from loaders import scdl_schema as official_schema
from loaders.export import DEMO_WARNING, ExportError, export_dataset
from loaders.model import SCDL_COLUMNS
from tests.httpserver import LocalServer, Reply, refused_url

SOURCES = [
    {"nom": "Subventions ESS", "producteur": "Ville de Lille", "mis_a_jour": "2024-03-15"},
    {"nom": "Quartiers", "producteur": "MEL", "mis_a_jour": date(2023, 1, 9)},
]


def _grants() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "nomAttribuant": ["Ville de Lille", "Ville de Lille"],
            "idAttribuant": ["21590350100017", "21590350100017"],
            "dateConvention": ["2021-06-23", "2022-01-05"],
            "referenceDecision": ["DEL-21-101", None],
            "nomBeneficiaire": ["Ressourcerie du Faubourg", "Jardin partagé des Bois-Blancs"],
            "idBeneficiaire": ["52499120500013", None],
            "rnaBeneficiaire": [None, "W595012345"],
            "objet": ["Fonctionnement", "Projet jardin"],
            "montant": [12345.5, 3000.0],
            "nature": ["aide en numéraire", "aide en numéraire"],
            "conditionsVersement": ["unique", "échelonné"],
            "datesPeriodeVersement": ["2021-07-01", "2022-02-01/2022-12-31"],
            "idRAE": [None, None],
            "notificationUE": [False, False],
            "pourcentageSubvention": [0.5, 1.0],
            "dispositifAide": [None, "AAP ESS"],
            "id_subvention": ["S1", "S2"],
            "axe": [1, 2],
            "priorite": [2, 7],
            "annee": [2021, 2022],
            "montant_verse": [12345.5, 1500.0],
            "cible_qpv": [True, False],
        }
    )


def _read_csv(payload: bytes) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(payload), sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )


def _land_injection() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": ["L1", "L2", "L3", "L4", "L5"],
            "nom": ["=SUM(A1)", "+33", "-x", "@cmd", "\tcaché"],
            "type": ["local"] * 5,
            "statut": ["disponible"] * 5,
            "loyer_annuel_eur": [-12.5, 100.0, 0.0, 7.25, None],
        }
    )


def _structures() -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        {
            "siret": ["52499120500013", "21590350100017", "88087814500015"],
            "nom": ["Ressourcerie du Faubourg", "Maison des associations", "Unité partielle"],
            "est_ess": [True, False, True],
            "adresse": ["17 rue Malus", "72 rue Royale", "caché"],
            "code_postal": ["59000", "59000", "59000"],
            "statut_diffusion": ["O", "O", "P"],
        }
    )
    points = [Point(3.0631, 50.6311), Point(3.0590, 50.6418), Point(3.07, 50.63)]
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


# ------------------------------------------------------------------------------------ csv


def test_csv_is_french_excel(ess_home):
    payload = export_dataset(_grants(), "grants", "csv", demo=False, sources=SOURCES)
    assert payload.startswith(b"\xef\xbb\xbf")
    first_line = payload.decode("utf-8-sig").splitlines()[0]
    assert first_line.split(";")[:3] == ["Attribuant", "SIRET attribuant", "Date de convention"]
    table = _read_csv(payload)
    assert table.loc[0, "Montant attribué"] == "12345,5"
    assert table.loc[1, "Montant attribué"] == "3000"
    assert table.loc[0, "Date de convention"] == "23/06/2021"
    assert table.loc[1, "Date de convention"] == "05/01/2022"
    assert table.loc[0, "Part subventionnée"] == "0,5"
    assert table.loc[0, "Notification UE"] == "non"
    assert table.loc[0, "Cible QPV"] == "oui"
    assert table.loc[0, "SIRET bénéficiaire"] == "52499120500013"
    assert "Avertissement" not in table.columns
    assert table.loc[0, "Sources"] == (
        "Subventions ESS (Ville de Lille), mise à jour le 15/03/2024 ; "
        "Quartiers (MEL), mise à jour le 09/01/2023"
    )


def test_csv_neutralises_formulas_but_not_numbers(ess_home):
    table = _read_csv(export_dataset(_land_injection(), "land", "csv", demo=False))
    # "+33" is a number and "-x" digit-free text: nothing to neutralise (loaders.formulas).
    assert table["Nom"].tolist() == ["'=SUM(A1)", "+33", "-x", "'@cmd", "'\tcaché"]
    assert table["Loyer annuel"].tolist() == ["-12,5", "100", "0", "7,25", ""]


def test_csv_demo_has_a_warning_column(ess_home):
    table = _read_csv(export_dataset(_grants(), "grants", "csv", demo=True))
    assert table.columns[0] == "Avertissement"
    assert table["Avertissement"].tolist() == [DEMO_WARNING, DEMO_WARNING]
    assert table["Sources"].tolist() == ["Source non renseignée"] * 2


def test_partial_diffusion_rows_are_not_exported(ess_home):
    table = _read_csv(export_dataset(_structures(), "structures", "csv", demo=False))
    assert table["Nom"].tolist() == ["Ressourcerie du Faubourg", "Maison des associations"]
    assert "geometry" not in table.columns


def test_export_writes_the_returned_bytes(ess_home, tmp_path):
    target = tmp_path / "out" / "subventions.csv"
    payload = export_dataset(_grants(), "grants", "csv", target, demo=False)
    assert target.read_bytes() == payload


def test_unknown_format_is_refused():
    with pytest.raises(ExportError, match="Format d'export inconnu"):
        export_dataset(_grants(), "grants", "pdf", demo=False)


# ------------------------------------------------------------------------------------ xlsx


def _sheet_rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def test_xlsx_numbers_stay_numbers_and_sources_sheet(ess_home):
    payload = export_dataset(_grants(), "grants", "xlsx", demo=False, sources=SOURCES)
    book = openpyxl.load_workbook(io.BytesIO(payload))
    assert book.sheetnames == ["Données", "Sources"]
    sheet = book["Données"]
    header = [c.value for c in sheet[1]]
    amount = sheet.cell(row=2, column=header.index("Montant attribué") + 1)
    assert amount.value == 12345.5
    assert amount.data_type == "n"
    signed = sheet.cell(row=2, column=header.index("Date de convention") + 1)
    assert signed.value == datetime(2021, 6, 23)
    assert signed.number_format == "DD/MM/YYYY"
    assert sheet.cell(row=2, column=header.index("Axe") + 1).value == 1
    assert sheet.cell(row=2, column=header.index("Notification UE") + 1).value == "non"
    rows = _sheet_rows(book["Sources"])
    assert rows[0] == ("Source", "Producteur", "Dernière mise à jour", "Licence")
    assert rows[1][:3] == ("Subventions ESS", "Ville de Lille", datetime(2024, 3, 15))
    assert rows[2][:3] == ("Quartiers", "MEL", datetime(2023, 1, 9))


def test_xlsx_neutralises_formulas_and_marks_demo(ess_home):
    payload = export_dataset(_land_injection(), "land", "xlsx", demo=True)
    book = openpyxl.load_workbook(io.BytesIO(payload))
    sheet = book["Données"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "Avertissement"
    names = [sheet.cell(row=r, column=header.index("Nom") + 1) for r in range(2, 7)]
    assert [c.value for c in names] == ["'=SUM(A1)", "+33", "-x", "'@cmd", "'\tcaché"]
    assert all(c.data_type == "s" for c in names)
    rent = sheet.cell(row=2, column=header.index("Loyer annuel") + 1)
    assert rent.value == -12.5
    assert rent.data_type == "n"
    assert sheet.cell(row=2, column=1).value == DEMO_WARNING
    assert _sheet_rows(book["Sources"])[0][0] == DEMO_WARNING


# ------------------------------------------------------------------------------------ geo


def test_geojson_round_trip_in_wgs84(ess_home):
    source = _structures()
    payload = export_dataset(
        source.to_crs("EPSG:2154"), "structures", "geojson", demo=True, sources=SOURCES
    )
    document = json.loads(payload)
    assert document["avertissement"] == DEMO_WARNING
    assert document["sources"][0] == {
        "nom": "Subventions ESS",
        "producteur": "Ville de Lille",
        "mis_a_jour": "2024-03-15",
    }
    back = gpd.read_file(io.BytesIO(payload))
    assert back.crs.to_epsg() == 4326
    assert back["nom"].tolist() == ["Ressourcerie du Faubourg", "Maison des associations"]
    assert back["est_ess"].tolist() == [True, False]
    assert back.geometry.x.tolist() == pytest.approx([3.0631, 3.0590], abs=1e-7)
    assert back.geometry.y.tolist() == pytest.approx([50.6311, 50.6418], abs=1e-7)


def test_geojson_from_lat_lon_columns(ess_home):
    frame = pd.DataFrame(
        {"site_id": ["A", "B"], "nom": ["Local", "Terrain"], "lat": [50.62, None],
         "lon": [3.05, None], "type": ["local", "terrain"], "statut": ["disponible"] * 2}
    )  # fmt: skip
    document = json.loads(export_dataset(frame, "land", "geojson", demo=False))
    assert "avertissement" not in document
    assert document["sources"] == []
    assert document["features"][0]["geometry"] == {"type": "Point", "coordinates": [3.05, 50.62]}
    assert document["features"][1]["geometry"] is None


def test_gpkg_is_readable(ess_home, tmp_path):
    target = tmp_path / "structures.gpkg"
    export_dataset(_structures(), "structures", "gpkg", target, demo=True, sources=SOURCES)
    back = gpd.read_file(target, layer="structures")
    assert back["siret"].tolist() == ["52499120500013", "21590350100017"]
    assert back["avertissement"].tolist() == [DEMO_WARNING, DEMO_WARNING]
    assert back.crs.to_epsg() == 4326
    assert back.geometry.x.tolist() == pytest.approx([3.0631, 3.0590])
    sources = gpd.read_file(target, layer="sources")
    assert sources["nom"].tolist() == ["Subventions ESS", "Quartiers", DEMO_WARNING]
    assert sources["mis_a_jour"].tolist()[:2] == ["2024-03-15", "2023-01-09"]


# ------------------------------------------------------------------------------------ SCDL


@pytest.fixture
def scdl_schema(shared_data, monkeypatch):
    path = shared_data / "activity" / "scdl_subventions_schema_v2.1.1.json"
    monkeypatch.setenv("ESS_SCDL_SCHEMA", str(path))
    return path


def test_scdl_export_validates_and_reimports(ess_home, scdl_schema, tmp_path):
    target = tmp_path / "subventions_scdl.csv"
    payload = export_dataset(_grants(), "grants", "scdl", target, demo=False)
    assert target.read_bytes() == payload
    assert not payload.startswith(b"\xef\xbb\xbf")
    header = payload.decode("utf-8").splitlines()[0]
    assert header == ",".join(c.name for c in SCDL_COLUMNS)

    descriptor = json.loads(scdl_schema.read_text(encoding="utf-8"))
    report = Resource(
        payload, format="csv", encoding="utf-8", schema=Schema.from_descriptor(descriptor)
    ).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "note"])

    back = pd.read_csv(io.BytesIO(payload), dtype={"idAttribuant": str, "idBeneficiaire": str})
    assert back["montant"].tolist() == [12345.5, 3000.0]
    assert back["pourcentageSubvention"].tolist() == [0.5, 1.0]
    assert back["dateConvention"].tolist() == ["2021-06-23", "2022-01-05"]
    assert back["notificationUE"].tolist() == ["non", "non"]
    assert back["idBeneficiaire"].fillna("").tolist() == ["52499120500013", ""]


def test_scdl_refuses_demo_data(ess_home, scdl_schema, tmp_path):
    target = tmp_path / "demo.csv"
    with pytest.raises(ExportError, match="données fictives"):
        export_dataset(_grants(), "grants", "scdl", target, demo=True)
    assert not target.exists()


def test_scdl_refuses_invalid_rows_before_writing(ess_home, scdl_schema, tmp_path):
    grants = _grants()
    grants.loc[0, "pourcentageSubvention"] = 1.5
    grants.loc[1, "rnaBeneficiaire"] = None
    target = tmp_path / "invalid.csv"
    with pytest.raises(ExportError) as caught:
        export_dataset(grants, "grants", "scdl", target, demo=False)
    message = str(caught.value)
    assert "ligne 2, colonne « pourcentageSubvention »" in message
    assert "ligne 3 : il faut un SIRET" in message
    assert not target.exists()


def test_scdl_without_schema_says_how_to_provide_it(ess_home, monkeypatch):
    monkeypatch.delenv("ESS_SCDL_SCHEMA", raising=False)
    monkeypatch.setattr(official_schema, "SCDL_SCHEMA_URL", refused_url("/schema.json"))
    with pytest.raises(ExportError, match="ESS_SCDL_SCHEMA"):
        export_dataset(_grants(), "grants", "scdl", demo=False)


def test_scdl_schema_is_fetched_once_then_cached(ess_home, shared_data, monkeypatch):
    monkeypatch.delenv("ESS_SCDL_SCHEMA", raising=False)
    body = (shared_data / "activity" / "scdl_subventions_schema_v2.1.1.json").read_bytes()
    with LocalServer() as server:
        url = server.script("/schema.json", Reply(200, body))
        monkeypatch.setattr(official_schema, "SCDL_SCHEMA_URL", url)
        first = export_dataset(_grants(), "grants", "scdl", demo=False)
        second = export_dataset(_grants(), "grants", "scdl", demo=False)
        assert len(server.hits("/schema.json")) == 1
    assert first == second
    assert official_schema.scdl_schema_cache_path().read_bytes()
