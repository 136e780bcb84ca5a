"""Amounts, rents and surfaces outside a plausible range are rejected with the value as typed.

`1e308` used to be accepted as a montant, and the home page then showed a 309-digit total.
"""

from __future__ import annotations

import io

import openpyxl

from geo.formatting import NNBSP
from loaders.datasets import load_datasets
from loaders.importer import import_file
from loaders.validation import CEILINGS, MAX_AMOUNT_EUR

GRANTS_1252 = (
    "Identifiant;Nom du bénéficiaire;SIRET;Objet;Montant attribué;Montant versé;"
    "Année;Axe;Priorité\r\n"
    "S1;Régie de quartier Fives;21590350100017;Amorçage;12 345,67;10 000;2023;1;3\r\n"
    "S2;Épicerie solidaire;73282932000074;Local;1e308;;2024;1;3\r\n"
    "S3;Café associatif;73282932000074;Animation;inf;;2024;1;3\r\n"
    "S4;Recyclerie;73282932000074;Matériel;-5 000;;2022;1;3\r\n"
    "S5;Coopérative de Lomme;73282932000074;Investissement;100 000 000;;2022;1;3\r\n"
    "S6;Jardin partagé;73282932000074;Semences;100 000 000,01;;2022;1;3\r\n"
    "S7;Atelier vélo;73282932000074;Outils;1 500;1e309;2023;1;3\r\n"
    "S8;Ressourcerie;73282932000074;Tri;NaN;;2023;1;3\r\n"
    "S9;Tiers-lieu;73282932000074;Travaux;1 000;2 000;2023;1;3\r\n"
    "S10;Crèche parentale;73282932000074;Jeux;2 000;150 000 000;2023;1;3\r\n"
)

LAND_1252 = (
    "Identifiant;Nom du site;Latitude;Longitude;Type;Statut;Surface (m²);Loyer annuel\r\n"
    "L1;Local Solférino;50,6290;3,0540;local;disponible;85;9 600\r\n"
    "L2;Friche Fives-Cail;50,6320;3,0880;friche;à l'étude;1e12;\r\n"
    "L3;Local Moulins;50,6200;3,0700;local;attribué;120;25 000 000\r\n"
    "L4;Terrain Lomme;50,6430;2,9870;terrain;disponible;10 000 000;0\r\n"
)


def _rejects(report) -> dict[int, list[tuple[str, str]]]:
    by_row: dict[int, list[tuple[str, str]]] = {}
    for reject in report.rejects:
        by_row.setdefault(reject["row"], []).append((reject["column"], reject["reason"]))
    return by_row


def test_implausible_amounts_are_rejected_with_row_column_and_value(tmp_path, ess_home):
    path = tmp_path / "subventions_ess.csv"
    path.write_bytes(GRANTS_1252.encode("cp1252"))
    report = import_file(path, "grants")
    assert (report.read, report.accepted, report.rejected) == (10, 3, 7)
    assert report.read == report.accepted + report.rejected
    ceiling = f"100{NNBSP}000{NNBSP}000{NNBSP}€"
    assert _rejects(report) == {
        3: [("montant", f"valeur hors de la plage plausible : « 1e308 » (plafond : {ceiling})")],
        4: [("montant", "valeur non finie : « inf »")],
        5: [("montant", f"valeur négative : -5{NNBSP}000")],
        7: [
            (
                "montant",
                f"valeur hors de la plage plausible : « 100 000 000,01 » (plafond : {ceiling})",
            )
        ],
        8: [("montant_verse", "valeur non finie : « 1e309 »")],
        9: [("montant", "valeur non finie : « NaN »")],
        11: [
            (
                "montant_verse",
                f"valeur hors de la plage plausible : « 150 000 000 » (plafond : {ceiling})",
            )
        ],
    }
    assert "  Ligne 3, colonne montant : valeur hors de la plage plausible : « 1e308 »" in (
        report.summary_fr()
    )
    # Paid above granted is a warning, the row is kept.
    assert {
        "row": 10,
        "column": "montant_verse",
        "message": "montant versé supérieur au montant attribué",
    } in report.warnings
    accepted = report.accepted_df
    assert list(accepted.index) == [2, 6, 10]
    assert accepted["montant"].tolist() == [12345.67, MAX_AMOUNT_EUR, 1000.0]
    grants = load_datasets().grants
    assert grants["montant"].max() == MAX_AMOUNT_EUR  # what the home page adds up


def test_implausible_surface_and_rent_are_rejected(tmp_path, ess_home):
    path = tmp_path / "sites.csv"
    path.write_bytes(LAND_1252.encode("cp1252"))
    report = import_file(path, "land", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (4, 2, 2)
    assert _rejects(report) == {
        3: [
            (
                "surface_m2",
                f"valeur hors de la plage plausible : « 1e12 » "
                f"(plafond : 10{NNBSP}000{NNBSP}000{NNBSP}m²)",
            )
        ],
        4: [
            (
                "loyer_annuel_eur",
                f"valeur hors de la plage plausible : « 25 000 000 » "
                f"(plafond : 10{NNBSP}000{NNBSP}000{NNBSP}€)",
            )
        ],
    }
    assert report.accepted_df.loc[5, "surface_m2"] == CEILINGS["surface_m2"][0]


def test_xlsx_number_cells_get_the_same_ceiling(tmp_path, ess_home):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Identifiant", "Bénéficiaire", "Montant attribué", "Année", "Axe", "Priorité"])
    sheet.append(["S1", "Régie de quartier Fives", 1e308, 2023, 1, 3])
    sheet.append(["S2", "Épicerie solidaire", 2500.5, 2023, 1, 3])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "subventions.xlsx"
    path.write_bytes(buffer.getvalue())
    report = import_file(path, "grants", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (2, 1, 1)
    assert report.rejects[0]["row"] == 2 and report.rejects[0]["column"] == "montant"
    assert "« 1e+308 »" in report.rejects[0]["reason"]
    assert report.accepted_df["montant"].tolist() == [2500.5]
