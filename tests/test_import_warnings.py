"""Import warnings as staff see them: one line per kind on the page, every warning in the CSV.

The fixture is a land file as a spreadsheet saves it: Windows-1252, `;`, French headers, French
decimals, statuses typed by hand, one row with latitude and longitude swapped, one bad surface.
"""

from __future__ import annotations

import csv
import io

import pytest
from streamlit.testing.v1 import AppTest

from geo.formatting import NNBSP
from loaders.config import PROJECT_DIR
from loaders.importer import import_file, warnings_csv

SITES = (
    "Identifiant;Nom;Type;Statut;Surface;Latitude;Longitude\r\n"
    "L1;Halle Alpha;friche;DISPONIBLE;1 200,5;50.63;3.06\r\n"
    "L2;Entrepôt Bêta;friche;Disponible;300,25;50.63;3.06\r\n"
    "L3;Dépôt Gamma;friche;attribue;abc;3.06;50.63\r\n"
    "L4;Atelier Delta;friche;attribue;80;3.06;50.63\r\n"
)


@pytest.fixture
def report(tmp_path, ess_home):
    path = tmp_path / "sites_fonciers.csv"
    path.write_bytes(SITES.encode("cp1252"))
    return import_file(path, "land", dry_run=True)


def test_every_warning_is_in_the_csv(report):
    # L3 is rejected (surface « abc »); its warnings are reported all the same
    assert (report.read, report.accepted, report.rejected) == (4, 3, 1)
    rows = list(csv.reader(io.StringIO(warnings_csv(report).decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["ligne", "colonne", "avertissement"],
        ["2", "statut", "« DISPONIBLE » normalisé en « disponible »"],
        ["2", "surface_m2", f"nombre « 1 200,5 » lu 1{NNBSP}200,50"],
        ["3", "statut", "« Disponible » normalisé en « disponible »"],
        ["3", "surface_m2", "nombre « 300,25 » lu 300,25"],
        ["4", "statut", "« attribue » normalisé en « attribué »"],
        ["4", "lat", "latitude et longitude étaient inversées : remises en ordre"],
        ["5", "statut", "« attribue » normalisé en « attribué »"],
        ["5", "lat", "latitude et longitude étaient inversées : remises en ordre"],
    ]
    assert len(rows) - 1 == len(report.warnings)


def test_a_warning_is_neutralised_in_the_csv(report):
    report.warnings.append({"row": 9, "column": "nom", "message": '=HYPERLINK("x")'})
    last = warnings_csv(report).decode("utf-8-sig").split("\r\n")[-2]
    assert last == '9;nom;"\'=HYPERLINK(""x"")"'


def test_the_importer_page_folds_the_warnings_and_groups_them(report, monkeypatch):
    monkeypatch.chdir(PROJECT_DIR)
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=180)
    at.session_state["import_report"] = report
    at.switch_page("pages/importer.py").run()
    assert not at.exception
    assert [e.label for e in at.expander if "avertissement" in e.label] == ["8 avertissement(s)"]
    assert not [d for d in at.dataframe if "Avertissement" in d.value.columns]
    rejects = [d.value for d in at.dataframe if "Motif" in d.value.columns]
    assert [r.values.tolist() for r in rejects] == [
        [[4, "surface_m2", "valeur non numérique : « abc »"]]
    ]

    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == ["Télécharger les lignes rejetées (CSV)"]

    at.session_state["warnings_open"] = True
    at.run()
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels[-1] == "Télécharger tous les avertissements (CSV)"
    (summary,) = [d.value for d in at.dataframe if "Avertissement" in d.value.columns]
    assert summary[["Colonne", "Avertissement", "Lignes", "Premières lignes"]].values.tolist() == [
        ["statut", "« … » normalisé en « … »", "4", "2, 3, 4, 5"],
        ["surface_m2", "nombre « … » lu …", "2", "2, 3"],
        ["lat", "latitude et longitude étaient inversées : remises en ordre", "2", "4, 5"],
    ]
