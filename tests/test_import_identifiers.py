"""Identifiers and dates as spreadsheets leave them (issue 9, items 3 and 4).

Only a missing amount, a missing beneficiary name or no usable date reject a grant: an
identifier spoiled by Excel is cleaned or dropped with a warning, and the row is kept.
"""

from __future__ import annotations

import pytest

from loaders.importer import import_file
from loaders.validation import clean_identifier, parse_period

LILLE = "21590350100017"


def test_clean_identifier():
    assert clean_identifier("224 900 019 000 15'") == ("224 900 019 000 15", None)
    assert clean_identifier("'21590350100017") == (LILLE, None)
    assert clean_identifier("2,43E+13") == ("", "notation scientifique")
    assert clean_identifier("2.159035E+13") == ("", "notation scientifique")
    assert clean_identifier("W595001234") == ("W595001234", None)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2017/09/08_2021/09/07", "2017-09-08/2021-09-07"),
        ("08/09/2017 au 07/09/2021", "2017-09-08/2021-09-07"),
        ("2017-01-01_2017-12-31", "2017-01-01/2017-12-31"),
        ("NC/2019-06-30", "2019-06-30"),
        ("2019-06-30/NC", "2019-06-30"),
        ("08/09/2017", "2017-09-08"),
        ("2017-03-14/2018-03-14", "2017-03-14/2018-03-14"),
    ],
)
def test_periods(text, expected):
    assert parse_period(text)[0] == expected


GRANTS = (
    "Nom du bénéficiaire;SIRET;RNA;Montant;Date de convention;Période de versement\n"
    "Régie Fives;215 903 501 00017';;1000;2023-03-01;\n"
    "Épicerie;'21590350100017;;1000;2023-03-01;\n"
    "Atelier;2,16E+13;;1000;2023-03-01;\n"
    "Café;21590350100018;W59A;1000;2023-03-01;\n"
    "Jardin;21590350100017;;1000;;2024-02-01/2024-12-31\n"
    "Sans nom;21590350100017;;1000;2023-03-01;\n"
    ";21590350100017;;1000;2023-04-01;\n"
    "Sans montant;21590350100017;;;2023-03-01;\n"
    "Sans date;21590350100017;;10;n.c.;\n"
)


def test_spoiled_identifiers_keep_the_row(tmp_path, ess_home):
    path = tmp_path / "subventions.csv"
    path.write_text(GRANTS, encoding="utf-8")
    report = import_file(path, "grants", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (9, 6, 3)
    assert report.rejects == [
        {"row": 8, "column": "nomBeneficiaire", "reason": "nom du bénéficiaire manquant"},
        {"row": 9, "column": "montant", "reason": "montant manquant"},
        {
            "row": 10,
            "column": "annee",
            "reason": "ni année ni date lisible : impossible de dater la subvention",
        },
    ]
    df = report.accepted_df
    assert df.loc[2, "idBeneficiaire"] == LILLE and df.loc[3, "idBeneficiaire"] == LILLE
    assert df.loc[4, "idBeneficiaire"] is None and df.loc[5, "idBeneficiaire"] is None
    assert df.loc[5, "rnaBeneficiaire"] is None
    assert df.loc[6, "annee"] == 2024 and df.loc[6, "dateConvention"] is None
    warnings = {(w["row"], w["column"], w["message"]) for w in report.warnings}
    assert (
        2,
        "idBeneficiaire",
        "identifiant « 215 903 501 00017' » : apostrophe retirée (215 903 501 00017)",
    ) in warnings
    assert (
        4,
        "idBeneficiaire",
        "identifiant « 2,16E+13 » en notation scientifique (format de nombre du tableur) : ses "
        "derniers chiffres sont perdus, identifiant non repris",
    ) in warnings
    kept = " : valeur non reprise, ligne conservée"
    assert (5, "idBeneficiaire", "SIRET invalide : « 21590350100018 »" + kept) in warnings
    assert (
        6,
        "annee",
        "année 2024 déduite de la période de versement (date de convention absente)",
    ) in warnings
