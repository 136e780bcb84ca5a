"""Column recognition on files as collectivities publish them (issue 9, items 1 and 6).

Fixtures are small files written here: SCDL field titles as headers, an older pre-SCDL column
family, a title or group row above the header, empty sheets, a subtotal row, nothing recognised.
"""

from __future__ import annotations

import json

import openpyxl
import pytest

from loaders.importer import import_file
from loaders.mapping import SCDL_TITLES, scdl_titles, suggest_mapping
from loaders.readers_tabular import ImportFileError


def _official(shared_data, version):
    path = shared_data / "activity" / f"scdl_subventions_schema_v{version}.json"
    return json.loads(path.read_text("utf-8"))["fields"]


@pytest.mark.parametrize("version", ["2.1.1", "2.0.2"])
def test_built_in_titles_are_the_official_ones(shared_data, version):
    for field in _official(shared_data, version):
        assert field["title"] in SCDL_TITLES[field["name"]], field["name"]


@pytest.mark.parametrize("version", ["2.1.1", "2.0.2"])
def test_every_field_name_and_title_recognised_in_any_case_accents_spacing(shared_data, version):
    for field in _official(shared_data, version):
        name, title = field["name"], field["title"]
        variants = [name, name.upper(), title, title.upper(), f"  {title}  "]
        variants += [title.replace(" ", "_").replace("é", "e"), title.replace("'", "’")]
        for header in variants:
            assert suggest_mapping([header], "grants") == {header: name}, header


def test_titles_of_the_schema_file_pointed_to_are_used(tmp_path, monkeypatch):
    schema = {"fields": [{"name": "montant", "title": "Somme attribuée au titre de l'exercice"}]}
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setenv("ESS_SCDL_SCHEMA", str(path))
    assert "Somme attribuée au titre de l'exercice" in scdl_titles()["montant"]
    header = "SOMME ATTRIBUEE AU TITRE DE L'EXERCICE"
    assert suggest_mapping([header], "grants") == {header: "montant"}


# A Windows-1252 export of a portal: a title row, the schema's titles as headers, a unit in
# brackets, Excel artefacts in identifiers, and a TOTAL row at the bottom.
TITLES_CP1252 = (
    "Subventions versées en 2019;;;;;;\r\n"
    "Nom de l'attribuant;Identification de l'attribuant;Date de la convention de subvention;"
    "Nom du bénéficiaire;Identification du bénéficiaire;Montant total de la subvention (€);"
    "Date ou période de versement\r\n"
    "Ville de Lille;21590350100017;08/09/2019;Régie de quartier Fives;215 903 501 00017';"
    "1 500,50;2019/09/08_2021/09/07\r\n"
    "Ville de Lille;21590350100017;2019;Épicerie solidaire;2,43E+13;2000;NC/2019-06-30\r\n"
    "Ville de Lille;21590350100017;;Atelier vélo;;300;2020-03-01/2020-12-31\r\n"
    ";;;TOTAL;;3800,50;\r\n"
)


def test_schema_titles_as_headers_under_a_title_row(tmp_path, ess_home):
    path = tmp_path / "subventions_2019.csv"
    path.write_bytes(TITLES_CP1252.encode("cp1252"))
    report = import_file(path, "grants", dry_run=True)
    assert report.mapping == {
        "Nom de l'attribuant": "nomAttribuant",
        "Identification de l'attribuant": "idAttribuant",
        "Date de la convention de subvention": "dateConvention",
        "Nom du bénéficiaire": "nomBeneficiaire",
        "Identification du bénéficiaire": "idBeneficiaire",
        "Montant total de la subvention (€)": "montant",
        "Date ou période de versement": "datesPeriodeVersement",
    }
    assert "En-tête lu ligne 2 : 1 ligne(s) au-dessus (titre, groupe de colonnes) ignorée(s)." in (
        report.notes
    )
    # Rows keep the numbers of the spreadsheet: header row 2, data rows 3 to 6.
    assert (report.read, report.accepted, report.rejected) == (4, 3, 1)
    assert report.rejects == [
        {
            "row": 6,
            "column": "annee",
            "reason": "ni année ni date lisible : impossible de dater la subvention",
        }
    ]
    df = report.accepted_df
    assert df["montant"].tolist() == [1500.5, 2000.0, 300.0]
    assert df.loc[3, "idBeneficiaire"] == "21590350100017"
    assert df.loc[3, "datesPeriodeVersement"] == "2019-09-08/2021-09-07"
    assert df["annee"].tolist() == [2019, 2019, 2020]  # date, bare year, payment period
    assert df["hors_periode"].tolist() == [True, True, True]


LEGACY = (
    "COLL_NOM;COLL_SIRET;ANNEE;ATTRIB_NOM;ATTRIB_SIRET;SUB_OBJET;SUB_MONTANT;SUB_NATURE\n"
    "VILLE DE LILLE;21590350100017;2022;LA BRICOLETTE;73282932000074;Atelier de réparation;"
    "4500;aide en numéraire\n"
    "VILLE DE LILLE;21590350100017;2023;VELO CAMPUS;;Ateliers vélo;1200;aide en numéraire\n"
)


def test_older_pre_scdl_family_recognised(tmp_path, ess_home):
    path = tmp_path / "subventions_legacy.csv"
    path.write_text(LEGACY, encoding="utf-8")
    report = import_file(path, "grants", dry_run=True)
    assert report.mapping == {
        "COLL_NOM": "nomAttribuant",
        "COLL_SIRET": "idAttribuant",
        "ANNEE": "annee",
        "ATTRIB_NOM": "nomBeneficiaire",
        "ATTRIB_SIRET": "idBeneficiaire",
        "SUB_OBJET": "objet",
        "SUB_MONTANT": "montant",
        "SUB_NATURE": "nature",
    }
    assert (report.read, report.accepted, report.rejected) == (2, 2, 0)
    assert report.accepted_df["montant"].sum() == 5700.0


def test_workbook_with_empty_sheets_and_a_group_row(tmp_path, ess_home):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Lisez-moi"  # empty
    workbook.create_sheet("Vide")
    sheet = workbook.create_sheet("Subventions 2022")
    sheet.append(["Bénéficiaire", None, "Subvention", None])  # group row, merged cells
    sheet.merge_cells("A1:B1")
    sheet.merge_cells("C1:D1")
    sheet.append(["Nom du bénéficiaire", "SIRET", "Montant total de la subvention", "Année"])
    sheet.append(["Régie Fives", "21590350100017", 1500.5, 2022])
    sheet.append(["Atelier vélo", None, 300, 2023])
    path = tmp_path / "subventions.xlsx"
    workbook.save(path)
    report = import_file(path, "grants", dry_run=True)
    assert report.notes[:3] == [
        "Classeur Excel : feuille « Subventions 2022 » lue (valeurs seulement).",
        "Feuille(s) vide(s) ignorée(s) : Lisez-moi, Vide.",
        "En-tête lu ligne 2 : 1 ligne(s) au-dessus (titre, groupe de colonnes) ignorée(s).",
    ]
    assert (report.read, report.accepted, report.rejected) == (2, 2, 0)
    assert list(report.accepted_df.index) == [3, 4]
    assert report.accepted_df["montant"].tolist() == [1500.5, 300.0]


def test_nothing_recognised_gives_one_file_level_diagnosis(tmp_path, ess_home):
    path = tmp_path / "export_finances.csv"
    path.write_text("Tiers_lib;SUB_MONTAN;Exo\nRégie;1500;2022\nAtelier;300;2022\n", "utf-8")
    with pytest.raises(ImportFileError) as caught:
        import_file(path, "grants", dry_run=True)
    message = str(caught.value)
    assert message.startswith(
        "Fichier « export_finances.csv » : aucune colonne essentielle des subventions reconnue "
        "parmi les 3 colonne(s) du fichier (« Tiers_lib », « SUB_MONTAN », « Exo »)."
    )
    assert "nomBeneficiaire (« Nom du bénéficiaire »)" in message
    assert "montant (« Montant total de la subvention »)" in message
    assert "« SUB_MONTAN » ≈ montant" in message


def test_row_empty_after_mapping_is_one_reject_not_a_duplicate(tmp_path, ess_home):
    text = (
        "Nom du bénéficiaire;Montant;Année;Commentaire\n"
        "Régie;1500;2022;\n"
        ";;;Sous-total service ESS\n"
        ";;;Source : direction des finances\n"
    )
    path = tmp_path / "avec_notes.csv"
    path.write_text(text, encoding="utf-8")
    report = import_file(path, "grants", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (3, 1, 2)
    assert report.rejects == [
        {
            "row": row,
            "column": "",
            "reason": "ligne vide après correspondance des colonnes (seules des colonnes "
            "ignorées sont remplies)",
        }
        for row in (3, 4)
    ]


def test_schema_copy_cached_by_exports_is_the_one_read(ess_home):
    from loaders.mapping import cached_schema_path
    from loaders.scdl_schema import scdl_schema_cache_path

    assert cached_schema_path() == scdl_schema_cache_path()
