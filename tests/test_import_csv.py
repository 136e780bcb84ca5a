"""Reading the City's CSV and XLSX files: encodings, separators, French numbers, malformed rows."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from loaders.importer import import_file, rejects_csv
from loaders.mapping import load_mapping, save_mapping, suggest_mapping
from loaders.readers_tabular import ImportFileError, parse_number, read_tabular

# Two Lille structures with valid SIRETs (Luhn), French headers, Windows-1252 accents.
STRUCTURES_1252 = (
    "Numéro SIRET;Raison sociale;Forme juridique;Adresse;Code postal;Ville;Latitude;Longitude\r\n"
    "21590350100017;Café de l'Économie Solidaire;association;2 rue Gosselet;59000;Lille;"
    "50,6310;3,0620\r\n"
    "73282932000074;Coopérative Hellemmoise;SCOP;10 rue Roger Salengro;59260;Hellemmes;;\r\n"
)

GRANTS_1252 = (
    "Identifiant;Nom du bénéficiaire;SIRET;Objet;Montant attribué;Montant versé;"
    "Année;Axe;Priorité\r\n"
    "S1;Régie de quartier;21590350100017;Amorçage;12 345,67;10\u00a0000;2023;1;3\r\n"
    "S2;Épicerie solidaire;73282932000074;Local;1 000;;2024;Axe 2;P10\r\n"
)


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_parse_number_french_formats():
    assert parse_number("12 345,67") == 12345.67
    assert parse_number("12\u00a0345,67") == 12345.67
    assert parse_number("12\u202f345") == 12345.0
    assert parse_number("1.234,5") == 1234.5
    assert parse_number("2400.0") == 2400.0
    assert parse_number("150 €") == 150.0
    assert parse_number("-3") == -3.0
    assert parse_number("abc") is None
    assert parse_number("1,2,3") is None
    assert parse_number("") is None


def test_windows_1252_semicolon_decimal_comma_structures(tmp_path, ess_home):
    path = write(tmp_path, "structures.csv", STRUCTURES_1252, "cp1252")
    raw = read_tabular(path)
    assert raw.encoding == "cp1252" and raw.separator == ";"
    assert raw.columns[1] == "Raison sociale"
    report = import_file(path, "structures", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (2, 2, 0)
    df = report.accepted_df
    assert list(df.index) == [2, 3]
    assert df.loc[2, "nom"] == "Café de l'Économie Solidaire"
    assert df.loc[2, "lat"] == 50.631 and df.loc[2, "lon"] == 3.062
    assert df.loc[2, "forme_juridique"] == "Association"  # normalised, with a warning
    assert df.loc[2, "siren"] == "215903501"
    assert df.loc[3, "adresse"] == "10 rue Roger Salengro"
    assert any(w["row"] == 2 and w["column"] == "forme_juridique" for w in report.warnings), (
        report.warnings
    )
    assert "Windows-1252" in report.summary_fr()


def test_grants_french_numbers_and_strategy_codes(tmp_path, ess_home):
    path = write(tmp_path, "subventions.csv", GRANTS_1252, "cp1252")
    report = import_file(path, "grants", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (2, 2, 0), report.rejects
    df = report.accepted_df
    assert df.loc[2, "montant"] == 12345.67
    assert df.loc[2, "montant_verse"] == 10000.0
    assert (df.loc[2, "annee"], df.loc[2, "axe"], df.loc[2, "priorite"]) == (2023, 1, 3)
    assert (df.loc[3, "axe"], df.loc[3, "priorite"]) == (2, 10)
    assert df.loc[3, "id_subvention"] == "S2"
    normalised = {(w["row"], w["column"]) for w in report.warnings}
    assert {(2, "montant"), (3, "axe"), (3, "priorite")} <= normalised


def test_utf8_bom_and_comma_and_tab(tmp_path, ess_home):
    text = "id,nom,type,statut,lat,lon\nL1,Local Wazemmes,local,disponible,50.628,3.050\n"
    path = tmp_path / "land.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    raw = read_tabular(path)
    assert raw.encoding == "utf-8-sig" and raw.separator == "," and raw.columns[0] == "id"
    report = import_file(path, "land", dry_run=True)
    assert (report.read, report.accepted) == (1, 1)
    tab = write(tmp_path, "land.tsv.csv", text.replace(",", "\t"))
    assert read_tabular(tab).separator == "\t"
    assert import_file(tab, "land", dry_run=True).accepted == 1


def test_malformed_rows_are_rejects_not_dropped(tmp_path, ess_home):
    text = (
        "id;nom;type;statut;lat;lon\n"
        "L1;Local A;local;disponible;50.63;3.06\n"
        "L2;Local B;local\n"  # truncated
        '"L3;Local C;local;disponible;50.63;3.06\n'  # stray quote swallows the rest
        "L4;Local D;local;disponible;50.63;3.06\n"
    )
    path = write(tmp_path, "land.csv", text)
    report = import_file(path, "land", dry_run=True)
    assert report.read == 3  # L1, L2, and the record opened by the stray quote
    assert (report.accepted, report.rejected) == (1, 2)
    assert [r["row"] for r in report.rejects] == [3, 4]
    assert "3 champ(s) au lieu de 6" in report.rejects[0]["reason"]


def test_trailing_separators_and_blank_lines(tmp_path, ess_home):
    text = "id;nom;type;statut;lat;lon;\n\nL1;Local A;local;disponible;50.63;3.06;\n;;;;;;\n"
    report = import_file(write(tmp_path, "land.csv", text), "land", dry_run=True)
    assert (report.read, report.accepted) == (1, 1)
    assert list(report.accepted_df.index) == [3]  # the blank line 2 keeps its number
    assert "colonne_7" not in report.mapping or report.mapping["colonne_7"] is None


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "vide"),
        (b"\xef\xbb\xbf\r\n  \n", "vide"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binaire"),
        (b"PK\x03\x04garbage", "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
        (b"a;b\n\x81\x8d\x8f\x90\x9d\n", "encodage"),
    ],
)
def test_unreadable_files_raise_import_file_error(tmp_path, ess_home, content, needle):
    path = tmp_path / "fichier.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as info:
        import_file(path, "grants", dry_run=True)
    assert "fichier.csv" in str(info.value) and needle in str(info.value)


def test_xlsx_values_only_named_sheet(tmp_path, ess_home):
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "Notes"
    first["A1"] = "rien ici"
    sheet = wb.create_sheet("Subventions")
    sheet.append(
        ["Nom du bénéficiaire", "SIRET", "Montant", "Date de convention", "Axe", "Priorité"]
    )
    sheet.append(["Régie", 21590350100017, 1500.5, dt.datetime(2023, 5, 2), 1, 3])
    sheet.append(["Formule", "73282932000074", "=1+1", "02/06/2024", 2, 10])
    path = tmp_path / "subventions.xlsx"
    wb.save(path)

    with pytest.raises(ImportFileError, match="Absente|absente"):
        import_file(path, "grants", sheet="Autre", dry_run=True)
    report = import_file(path, "grants", sheet="Subventions", dry_run=True)
    assert report.read == 2
    df = report.accepted_df
    assert df.loc[2, "idBeneficiaire"] == "21590350100017"
    assert df.loc[2, "montant"] == 1500.5
    assert df.loc[2, "dateConvention"] == "2023-05-02"
    assert df.loc[2, "annee"] == 2023
    # The formula is never evaluated: openpyxl has no cached value, so the amount is missing.
    assert report.rejects == [{"row": 3, "column": "montant", "reason": "montant manquant"}]
    assert report.rejected == 1


def test_mapping_suggestions_and_saved_mapping(tmp_path, ess_home):
    columns = ["Montant", "montant_attribue", "SIRET", "Nom du bénéficiaire", "Année", "Axe"]
    columns += ["Priorité", "lat", "Y", "Commentaire"]
    suggested = suggest_mapping(columns, "grants")
    assert suggested["Montant"] == "montant"
    assert suggested["montant_attribue"] is None  # montant already taken by the first column
    assert suggested["SIRET"] == "idBeneficiaire"
    assert suggested["Nom du bénéficiaire"] == "nomBeneficiaire"
    assert (suggested["Année"], suggested["Axe"], suggested["Priorité"]) == (
        "annee",
        "axe",
        "priorite",
    )
    assert suggested["lat"] == "lat_projet" and suggested["Y"] is None
    assert suggested["Commentaire"] is None
    assert suggest_mapping(["latitude", "X", "Numéro SIRET"], "structures") == {
        "latitude": "lat",
        "X": "lon",
        "Numéro SIRET": "siret",
    }

    text = "Bénéf.;Somme;Quand;Remarque\nRégie;1500;2023-04-01;ok\n"
    path = write(tmp_path, "maison.csv", text)
    # Nothing recognised: one file-level diagnosis, not one reject per row (issue 9).
    with pytest.raises(ImportFileError, match="aucune colonne essentielle des subventions"):
        import_file(path, "grants", dry_run=True)
    save_mapping("format maison", {"Bénéf.": "nomBeneficiaire", "Somme": "montant"}, "grants")
    assert (ess_home / "store" / "mappings" / "format maison.json").is_file()
    assert load_mapping("format maison")["Somme"] == "montant"
    report = import_file(path, "grants", mapping="format maison", dry_run=True)
    assert (report.accepted, report.rejected) == (0, 1)  # "Quand" still unknown: no date
    report = import_file(
        path,
        "grants",
        mapping={"Bénéf.": "nomBeneficiaire", "Somme": "montant", "Quand": "dateConvention"},
        dry_run=True,
    )
    assert report.accepted == 1
    assert report.ignored_columns == ["Remarque"]
    assert any(w["message"].startswith("colonne ignorée") for w in report.warnings)


def test_rejects_csv_for_french_excel(tmp_path, ess_home):
    text = (
        "id;nom;type;statut;lat;lon\n"
        "L1;Local A;local;disponible;50.63;3.06\n"
        'L2;=HYPERLINK("x");château;disponible;48.85;2.35\n'
        "L3;Local C\n"
    )
    report = import_file(write(tmp_path, "land.csv", text), "land", dry_run=True)
    payload = rejects_csv(report)
    assert payload.startswith(b"\xef\xbb\xbf")
    lines = payload.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "ligne;id;nom;type;statut;lat;lon;colonnes en cause;motifs du rejet"
    assert lines[1].startswith(
        '3;L2;"\'=HYPERLINK(""x"")";château;disponible;48.85;2.35;lat, type;'
    )
    assert "lat, type" in lines[1] and "inconnue" in lines[1] and "hors de la Métropole" in lines[1]
    assert lines[2].startswith("4;L3;Local C;;;;;;")
    assert "ligne mal formée" in lines[2]
    assert lines[3] == ""


def test_land_from_real_cartofriches_geojson_and_csv(shared_data, ess_home):
    """Cartofriches sites (139) use other vocabularies: every row is rejected, with the reason."""
    folder = shared_data / "activity"
    geo = import_file(folder / "cartofriches_lille_2023-10.geojson", "land", dry_run=True)
    tab = import_file(folder / "cartofriches_lille_2023-10.csv", "land", dry_run=True)
    for report in (geo, tab):
        assert (report.read, report.accepted, report.rejected) == (139, 0, 139)
        assert report.mapping["site_nom"] == "nom" and report.mapping["site_statut"] == "statut"
        types = [r for r in report.rejects if r["column"] == "type"]
        assert len(types) == 139
        assert types[0]["reason"] == (
            "valeur « inconnu » inconnue (attendu : local, terrain, friche)"
        )
    assert sum(r["reason"] == "nom manquant" for r in geo.rejects) == 2
    assert {r["row"] for r in geo.rejects if r["reason"] == "nom manquant"} == {
        r["row"] - 1 for r in tab.rejects if r["reason"] == "nom manquant"
    }  # features are numbered from 1, CSV data rows from 2


def test_land_geopackage_points_and_polygons(tmp_path, ess_home):
    import geopandas as gpd
    from shapely.geometry import Point, box

    gdf = gpd.GeoDataFrame(
        {
            "identifiant": ["T1", "T2"],
            "nom": ["Local Fives", "Parcelle Lomme"],
            "type": ["local", "terrain"],
            "statut": ["disponible", "attribué"],
        },
        geometry=[Point(704_800, 7_059_400), box(699_000, 7_060_000, 699_100, 7_060_080)],
        crs="EPSG:2154",
    )
    path = tmp_path / "sites.gpkg"
    gdf.to_file(path, driver="GPKG")
    report = import_file(path, "land")
    assert (report.read, report.accepted, report.rejected) == (2, 2, 0), report.rejects
    df = report.accepted_df
    assert 50.5 < df.loc[1, "lat"] < 50.8 and 2.9 < df.loc[1, "lon"] < 3.2  # reprojected
    assert df.loc[2, "geometry"].startswith("POLYGON") and pd.isna(df.loc[2, "lat"])
    from loaders import store

    assert store.read_kind("land")["site_id"].tolist() == ["T1", "T2"]


def test_geocode_step_fills_coordinates(tmp_path, ess_home, monkeypatch):
    import loaders.geocode

    calls = []

    def fake_geocode_missing(df):
        calls.append(list(df.index))
        out = df.copy()
        out.loc[3, ["lat", "lon"]] = [50.6255, 3.1140]
        return out, ["1 adresse géocodée par la Base adresse nationale"]

    monkeypatch.setattr(loaders.geocode, "geocode_missing", fake_geocode_missing)
    path = write(tmp_path, "structures.csv", STRUCTURES_1252, "cp1252")
    report = import_file(path, "structures", geocode=True)
    assert calls == [[2, 3]]
    assert report.accepted_df.loc[3, "lat"] == 50.6255
    assert report.warnings[-1] == {
        "row": None,
        "column": "adresse",
        "message": "1 adresse géocodée par la Base adresse nationale",
    }
    from loaders import store

    assert store.read_kind("structures")["lat"].tolist() == [50.631, 50.6255]
