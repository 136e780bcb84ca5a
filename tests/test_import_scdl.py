"""The real SCDL files import without crashing, with each deviation reported by row and column.

Counts are read off the files by hand (see SOURCES.md): the Antibes example has 29 rows with
conventions dated 2011-2018, the Roques file 69 rows dated 2015-2017, one of which (row 35, a
SICOVAL line) has neither beneficiary name nor SIRET. Variants moved to 2023 are built in tmp.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from loaders import store
from loaders.importer import import_file
from loaders.validation import check_scdl_conformity, scdl_table_schema

ANTIBES = "scdl_subventions_exemple_valide_v2.1.1.csv"
ROQUES = "subventions_real_commune-roques-31_datalocale_2017.csv"


def _rows(path, delimiter):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def _write(path, rows, delimiter, terminator):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=terminator).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    return path


def _moved_to_2023(rows, date_col, period_col=None):
    for row in rows[1:]:
        row[date_col] = "2023" + row[date_col][4:]
        if period_col is not None:
            row[period_col] = re.sub(r"20\d\d", "2023", row[period_col])
    return rows


@pytest.mark.parametrize("version", ["2.1.1", "2.0.2"])
def test_schema_in_code_matches_official_schema(shared_data, version):
    official = json.loads(
        (shared_data / "activity" / f"scdl_subventions_schema_v{version}.json").read_text("utf-8")
    )
    keys = ("name", "type", "constraints", "trueValues", "falseValues")
    expected = [{k: f[k] for k in keys if k in f} for f in official["fields"]]
    assert scdl_table_schema(version)["fields"] == expected


def test_antibes_example_rows_all_outside_strategy_period(shared_data, ess_home):
    report = import_file(shared_data / "activity" / ANTIBES, "grants", dry_run=True)
    # Kept and flagged, never lost (issue 9).
    assert (report.read, report.accepted, report.rejected) == (29, 29, 0)
    assert report.accepted_df["hors_periode"].all()
    assert report.accepted_df.loc[2, "annee"] == 2015
    assert {
        "row": 2,
        "column": "annee",
        "message": "année 2015 hors période de la stratégie (2021-2026) : subvention gardée et "
        "signalée",
    } in report.warnings
    assert report.scdl_version == "2.1.1" and report.conformity == []  # the official valid example
    # Row 27 has a payment period ending on month 30: kept, reported.
    assert any(w["row"] == 27 and w["column"] == "datesPeriodeVersement" for w in report.warnings)
    assert {w["column"] for w in report.warnings if w["row"] is None} == {
        "axe",
        "annee",
        "id_subvention",
    }


def test_roques_file_deviations_reported(shared_data, ess_home):
    report = import_file(shared_data / "activity" / ROQUES, "grants", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (69, 68, 1)
    # Rows of 2015-2017 are kept, flagged out of period; row 35 has no beneficiary name.
    assert report.rejects == [
        {"row": 35, "column": "nomBeneficiaire", "reason": "nom du bénéficiaire manquant"}
    ]
    assert report.accepted_df["hors_periode"].all()
    by_cell = {(w["row"], w["column"]): w["message"] for w in report.warnings}
    assert by_cell[(2, "nature")] == "« Aide en numéraire » normalisé en « aide en numéraire »"
    assert by_cell[(2, "conditionsVersement")] == "« Unique » normalisé en « unique »"
    assert by_cell[(6, "conditionsVersement")] == "« Echelonné » normalisé en « échelonné »"
    assert by_cell[(2, "datesPeriodeVersement")] == (
        "période « 2017-01-01_2017-12-31 » normalisée en « 2017-01-01/2017-12-31 »"
    )
    assert by_cell[(22, "conditionsVersement")].startswith("champ obligatoire du SCDL vide")
    assert by_cell[(11, "datesPeriodeVersement")].startswith("champ obligatoire du SCDL vide")
    # Conformity with the official 2.0.2 schema (14 columns, no RNA), translated to French.
    assert report.scdl_version == "2.0.2"
    findings = {(f["row"], f["column"]): f["message"] for f in report.conformity}
    assert findings[(2, "nature")].startswith("Conformité SCDL 2.0.2 : « Aide en numéraire » hors")
    assert "ne respecte pas le format" in findings[(2, "datesPeriodeVersement")]
    assert findings[(35, "nomBeneficiaire")].endswith("valeur obligatoire manquante")
    assert findings[(35, "idBeneficiaire")].endswith("valeur obligatoire manquante")
    assert sum(1 for f in report.conformity if f["column"] == "nature") == 69
    assert findings[(None, "idBeneficiaire")] == (
        "Conformité SCDL 2.0.2 : colonnes dans un ordre différent du schéma "
        "(« idBeneficiaire » à la place de « nomBeneficiaire », position 5)"
    )


def test_roques_moved_to_2023_imports(shared_data, tmp_path, ess_home):
    rows = _moved_to_2023(_rows(shared_data / "activity" / ROQUES, ";"), 2, 10)
    path = _write(tmp_path / "roques_2023.csv", rows, ";", "\r\n")
    report = import_file(path, "grants")
    assert (report.read, report.accepted, report.rejected) == (69, 68, 1)
    assert report.rejects == [
        {"row": 35, "column": "nomBeneficiaire", "reason": "nom du bénéficiaire manquant"}
    ]
    df = report.accepted_df
    assert df.loc[2, "nomBeneficiaire"] == "TENNIS ROQUES OLYMPIC CLUB"
    assert df.loc[2, "idBeneficiaire"] == "44137080600016"
    assert df.loc[2, "montant"] == 2400.0
    assert df.loc[2, "nature"] == "aide en numéraire"
    assert df.loc[2, "datesPeriodeVersement"] == "2023-01-01/2023-12-31"
    assert df.loc[2, "annee"] == 2023 and df.loc[2, "dateConvention"] == "2023-04-13"
    assert bool(df.loc[2, "notificationUE"]) is False
    assert df["axe"].isna().all() and df["priorite"].isna().all()
    assert df["id_subvention"].is_unique
    # Stored: the store holds exactly the accepted rows.
    stored = store.read_kind("grants")
    assert len(stored) == 68
    assert store.store_meta()["grants"]["rows"] == 68
    assert store.import_log()[-1]["rejected"] == 1


def test_antibes_moved_to_2023_all_accepted(shared_data, tmp_path, ess_home):
    rows = _moved_to_2023(_rows(shared_data / "activity" / ANTIBES, ","), 2)
    path = _write(tmp_path / "antibes_2023.csv", rows, ",", "\n")
    report = import_file(path, "grants", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (29, 29, 0)
    df = report.accepted_df
    assert df.loc[3, "rnaBeneficiaire"] == "W322216459" and df.loc[3, "idBeneficiaire"] is None
    assert df.loc[22, "nature"] == "aide en numéraire;aide en nature"
    assert df.loc[2, "montant"] == 99786.57
    assert store.read_kind("grants") is None  # dry run


def test_conformity_only_for_scdl_looking_files():
    import pandas as pd

    frame = pd.DataFrame({"Nom": ["a"], "Montant": ["1"]}, index=[2])
    assert check_scdl_conformity(frame) == (None, [])


def test_round_trip_import_export_scdl_import(shared_data, tmp_path, ess_home, monkeypatch):
    from loaders.export import export_dataset

    monkeypatch.setenv(
        "ESS_SCDL_SCHEMA", str(shared_data / "activity" / "scdl_subventions_schema_v2.1.1.json")
    )
    rows = _moved_to_2023(_rows(shared_data / "activity" / ANTIBES, ","), 2)
    rows = rows[:6]  # five grants
    rows[1][11] = "2023-03-30/2023-05-24"
    source = _write(tmp_path / "antibes_5.csv", rows, ",", "\n")
    first = import_file(source, "grants")
    assert first.accepted == 5
    exported = tmp_path / "export_scdl.csv"
    export_dataset(store.read_kind("grants"), "grants", "scdl", exported, demo=False)
    second = import_file(exported, "grants", dry_run=True)
    assert (second.read, second.accepted, second.rejected) == (5, 5, 0)
    assert second.conformity == []
    cols = ["nomBeneficiaire", "idBeneficiaire", "rnaBeneficiaire", "dateConvention", "montant"]
    cols += ["nature", "conditionsVersement", "datesPeriodeVersement", "pourcentageSubvention"]
    a = first.accepted_df[cols].reset_index(drop=True)
    b = second.accepted_df[cols].reset_index(drop=True)
    assert a.equals(b)
    assert b["montant"].tolist() == [99786.57, 33000.0, 113000.0, 120000.0, 45000.0]
