"""`python -m loaders export --format scdl`: status P beneficiaries, refusals, named sources.

The City's files below look like what the importer receives: an SCDL subventions file of three
grants (one to a sole trader whose SIRENE diffusion is partial) and the structures file that
carries that status.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from frictionless import Resource, Schema

from loaders import scdl_schema
from loaders.__main__ import main
from loaders.export import export_dataset, scdl_withheld, validate_scdl
from tests.httpserver import refused_url

HEADER = (
    "nomAttribuant,idAttribuant,dateConvention,referenceDecision,nomBeneficiaire,idBeneficiaire,"
    "rnaBeneficiaire,objet,montant,nature,conditionsVersement,datesPeriodeVersement,idRAE,"
    "notificationUE,pourcentageSubvention,dispositifAide\n"
)
GRANTS = HEADER + (
    "Ville de Lille,21590350100017,2023-03-14,DEL 23/101,Ressourcerie du Faubourg,"
    "52499120500013,,Fonctionnement,12000,aide en numéraire,unique,2023-04-01,,non,0.4,\n"
    "Ville de Lille,21590350100017,2023-05-02,DEL 23/188,Atelier Martin,73282932000074,,"
    "Local de réparation,4500.5,aide en numéraire,unique,2023-06-01,,non,0.5,\n"
    "Ville de Lille,21590350100017,2023-06-20,DEL 23/240,Jardin partagé des Bois-Blancs,,"
    "W595012345,Projet jardin,3000,aide en nature,unique,2023-07-01,,non,1,\n"
)
STRUCTURES = (
    "siret;nom;adresse;code_postal;commune;est_ess;statut_diffusion\n"
    "52499120500013;Ressourcerie du Faubourg;12 rue de Wazemmes;59000;Lille;oui;O\n"
    "73282932000074;Atelier Martin;3 rue Roger Salengro;59260;Hellemmes;oui;P\n"
)


@pytest.fixture
def city_data(tmp_path, ess_home):
    grants = tmp_path / "subventions_2023.csv"
    grants.write_text(GRANTS, encoding="utf-8")
    structures = tmp_path / "structures.csv"
    structures.write_text(STRUCTURES, encoding="utf-8")
    assert main(["import", str(structures), "--kind", "structures"]) == 0
    assert main(["import", str(grants), "--kind", "grants"]) == 0
    return tmp_path


def _official_report(payload: bytes, shared_data):
    path = shared_data / "activity" / "scdl_subventions_schema_v2.1.1.json"
    schema = Schema.from_descriptor(json.loads(path.read_text(encoding="utf-8")))
    return Resource(payload, format="csv", encoding="utf-8", schema=schema).validate()


def test_status_p_grants_left_out_counted_and_the_file_validates(city_data, shared_data, capsys):
    capsys.readouterr()
    target = city_data / "subventions_scdl.csv"
    code = main(["export", "--kind", "grants", "--format", "scdl", "-o", str(target)])
    out, err = capsys.readouterr()
    assert code == 0, err
    payload = target.read_bytes()
    assert _official_report(payload, shared_data).valid
    assert validate_scdl(payload, scdl_schema.load_scdl_schema()) == []
    back = pd.read_csv(io.BytesIO(payload), dtype=str)
    assert back["nomBeneficiaire"].tolist() == [
        "Ressourcerie du Faubourg",
        "Jardin partagé des Bois-Blancs",
    ]
    assert "Atelier Martin" not in payload.decode("utf-8")
    assert "73282932000074" not in payload.decode("utf-8")
    assert "Export : 2 ligne(s) écrite(s)" in out
    assert "1 subvention(s) pour 4\u202f500,50\u202f€ non publiée(s)" in out


def test_withheld_count_and_amount():
    grants = pd.DataFrame(
        {
            "nomBeneficiaire": ["Structure non diffusible", "Structure non diffusible", "Régie"],
            "idBeneficiaire": [None, None, "52499120500013"],
            "rnaBeneficiaire": [None, "", None],
            "montant": [4500.5, 1200.0, 800.0],
        }
    )
    assert scdl_withheld(grants) == (2, 5700.5)


def test_demo_data_refused_with_exit_code_2(ess_home, capsys):
    target = ess_home / "demo_scdl.csv"
    code = main(["export", "--kind", "grants", "--format", "scdl", "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Erreur : Export SCDL refusé : ce sont les données fictives")
    assert "Traceback" not in err
    assert not target.exists()


def test_offline_without_schema_exit_code_2(city_data, monkeypatch, capsys):
    monkeypatch.delenv("ESS_SCDL_SCHEMA", raising=False)
    monkeypatch.setattr(scdl_schema, "SCDL_SCHEMA_URL", refused_url("/schema.json"))
    capsys.readouterr()
    target = city_data / "hors_ligne.csv"
    code = main(["export", "--kind", "grants", "--format", "scdl", "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Schéma SCDL subventions 2.1.1 indisponible" in err and "ESS_SCDL_SCHEMA" in err
    assert not target.exists()


def test_offline_with_the_schema_file_exports(city_data, shared_data, monkeypatch, capsys):
    monkeypatch.setenv(
        "ESS_SCDL_SCHEMA", str(shared_data / "activity" / "scdl_subventions_schema_v2.1.1.json")
    )
    monkeypatch.setattr(scdl_schema, "SCDL_SCHEMA_URL", refused_url("/schema.json"))
    target = city_data / "hors_ligne.csv"
    assert main(["export", "--kind", "grants", "--format", "scdl", "-o", str(target)]) == 0
    assert _official_report(target.read_bytes(), shared_data).valid


def test_cli_csv_names_its_sources_like_the_pages(city_data, capsys):
    target = city_data / "subventions.csv"
    assert main(["export", "--kind", "grants", "--format", "csv", "-o", str(target)]) == 0
    table = pd.read_csv(target, sep=";", encoding="utf-8-sig", dtype=str)
    sources = table["Sources"].iloc[0]
    assert "Source non renseignée" not in sources
    assert "Subventions (subventions_2023.csv)" in sources
    assert "Structures (structures.csv)" in sources
    # the embedded commune outlines, as the pages name them
    assert "Communes (Lille, Hellemmes, Lomme)" in sources


def test_a_valid_grant_never_withheld(ess_home):
    grants = pd.read_csv(io.StringIO(GRANTS), dtype=str)
    payload = export_dataset(grants, "grants", "scdl", demo=False)
    assert len(pd.read_csv(io.BytesIO(payload))) == 3
