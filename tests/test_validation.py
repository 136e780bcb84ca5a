"""Row validation: every rule rejects or warns with a French reason naming row and column."""

from __future__ import annotations

import pandas as pd

from loaders.validation import parse_date, parse_period, validate

LILLE = "21590350100017"  # Ville de Lille, valid Luhn
OTHER = "73282932000074"


def grants(**columns) -> pd.DataFrame:
    base = {
        "id_subvention": ["S1"],
        "nomBeneficiaire": ["Régie"],
        "idBeneficiaire": [OTHER],
        "montant": ["1000"],
        "dateConvention": ["2023-03-01"],
        "axe": ["1"],
        "priorite": ["3"],
    }
    base.update({k: [v] if not isinstance(v, list) else v for k, v in columns.items()})
    n = max(len(v) for v in base.values())
    return pd.DataFrame({k: v * n if len(v) == 1 else v for k, v in base.items()})


def reasons(rejects, column=None):
    return [r["reason"] for r in rejects if column is None or r["column"] == column]


def test_valid_grant_row_numbered_as_in_a_spreadsheet():
    accepted, rejects, warnings = validate(grants(), "grants", file_name="f.csv")
    assert rejects == []
    assert list(accepted.index) == [2]  # header is row 1
    assert accepted.loc[2, "annee"] == 2023  # derived from the date (no annee column)


def test_grant_rejections():
    df = grants(
        id_subvention=["S1", "S2", "S3", "S4", "S5", "S6", "S6", "S8"],
        idBeneficiaire=[LILLE[:-1] + "8", OTHER, OTHER, OTHER, OTHER, OTHER, OTHER, OTHER],
        montant=["1000", "-5", "abc", "1000", "1000", "1000", "1000", "1000"],
        axe=["1", "1", "1", "7", "1", "1", "1", "1"],
        priorite=["3", "3", "3", "3", "9", "3", "3", "3"],
        dateConvention=["2023-03-01"] * 7 + ["2019-12-31"],
    )
    accepted, rejects, warnings = validate(df, "grants", file_name="f.csv")
    # Only the amount, the name, the date and a repeated identifier reject a grant (issue 9).
    assert list(accepted.index) == [2, 5, 6, 7, 9]
    by_row = {}
    for r in rejects:
        by_row.setdefault(r["row"], []).append((r["column"], r["reason"]))
    assert by_row == {
        3: [("montant", "valeur négative : -5")],
        4: [("montant", "valeur non numérique : « abc »")],
        8: [("id_subvention", "doublon : identifiant déjà utilisé la ligne 7")],
    }
    kept = " : valeur non reprise, ligne conservée"
    messages = {(w["row"], w["column"]): w["message"] for w in warnings}
    assert {
        "row": 2,
        "column": "idBeneficiaire",
        "message": "SIRET invalide : « 21590350100018 »" + kept,
    } in warnings
    assert pd.isna(accepted.loc[2, "idBeneficiaire"])
    assert messages[(5, "axe")] == "axe inconnu : « 7 » (1 à 4)" + kept
    assert messages[(6, "priorite")] == "la priorité 9 relève de l'axe 2, pas de l'axe 1" + kept
    assert accepted.loc[6, "axe"] == 1 and pd.isna(accepted.loc[6, "priorite"])
    # 2019: kept, flagged out of the strategy period.
    assert accepted.loc[9, "annee"] == 2019 and bool(accepted.loc[9, "hors_periode"])
    assert messages[(9, "annee")] == (
        "année 2019 hors période de la stratégie (2021-2026) : subvention gardée et signalée"
    )
    assert not accepted.loc[7, "hors_periode"]


def test_year_outside_period_and_missing_name():
    df = grants(annee=["2027", "2022"], nomBeneficiaire=["A", ""])
    accepted, rejects, _ = validate(df, "grants", file_name="f.csv")
    assert list(accepted.index) == [2]
    assert accepted.loc[2, "annee"] == 2027 and bool(accepted.loc[2, "hors_periode"])
    assert rejects == [
        {"row": 3, "column": "nomBeneficiaire", "reason": "nom du bénéficiaire manquant"},
        {
            "row": 3,
            "column": "id_subvention",
            "reason": "doublon : identifiant déjà utilisé la ligne 2",
        },
    ]


def test_axis_priority_completion_rules():
    df = grants(axe=["", "", "2", ""], priorite=["", "10", "", "P 12"], id_subvention=list("abcd"))
    accepted, rejects, warnings = validate(df, "grants", file_name="f.csv")
    assert rejects == []
    assert accepted["axe"].tolist()[1:] == [2, 2, 2]
    assert pd.isna(accepted.loc[2, "axe"]) and pd.isna(accepted.loc[2, "priorite"])
    messages = {(w["row"], w["column"]): w["message"] for w in warnings}
    assert messages[(2, "axe")] == "axe/priorité à compléter"
    assert messages[(3, "axe")] == "axe déduit de la priorité 10 : axe 2"
    assert messages[(4, "priorite")] == "priorité à compléter"
    assert messages[(5, "priorite")] == "« P 12 » lu priorité 12"


def test_generated_ids_flag_identical_lines():
    df = pd.DataFrame(
        {
            "nomBeneficiaire": ["A", "A", "B"],
            "montant": ["10", "10", "10"],
            "dateConvention": ["2022-01-01"] * 3,
        }
    )
    accepted, rejects, warnings = validate(df, "grants", file_name="f.csv")
    assert list(accepted.index) == [2, 4]
    assert rejects == [
        {"row": 3, "column": "id_subvention", "reason": "doublon : ligne identique à la ligne 2"}
    ]
    assert accepted.loc[2, "id_subvention"].startswith("SUB-")
    assert any(w["row"] is None and w["column"] == "id_subvention" for w in warnings)


def test_structures_rules():
    df = pd.DataFrame(
        {
            "siret": [LILLE, "", OTHER, "123456789", "5903501 00017", LILLE],
            "nom": ["A", "B", "", "D", "E", "F"],
            "adresse": ["1 rue X", "1 rue X", "1 rue X", "1 rue X", "", "1 rue X"],
            "lat": ["", "", "", "", "48.85", "3.06"],
            "lon": ["", "", "", "", "2.35", "50.63"],
        }
    )
    accepted, rejects, warnings = validate(df, "structures", file_name="s.csv")
    cells = {(r["row"], r["column"]): r["reason"] for r in rejects}
    assert cells[(3, "siret")] == "SIRET manquant"
    assert cells[(4, "nom")] == "nom manquant"
    assert cells[(5, "siret")] == "SIRET invalide : « 123456789 » (9 chiffres : c'est un SIREN)"
    assert cells[(6, "siret")] == "SIRET invalide : « 5903501 00017 »"
    assert cells[(6, "lat")].startswith("coordonnées hors de la Métropole européenne de Lille")
    assert cells[(7, "siret")] == "doublon : identifiant déjà utilisé la ligne 2"
    assert list(accepted.index) == [2]
    # Swapped coordinates are unambiguous: fixed, with a warning (row 7 is a duplicate anyway).
    assert any(w["row"] == 7 and "inversées" in w["message"] for w in warnings)


def test_structure_needs_address_or_coordinates():
    df = pd.DataFrame({"siret": [LILLE, OTHER], "nom": ["A", "B"], "lat": ["50.6", ""]})
    accepted, rejects, _ = validate(df, "structures", file_name="s.csv")
    assert {(r["row"], r["column"]) for r in rejects} == {(2, "lon"), (3, "adresse")}
    assert reasons(rejects, "adresse") == [
        "ni adresse ni coordonnées : impossible de localiser la structure"
    ]
    assert accepted.empty


def test_land_rules():
    df = pd.DataFrame(
        {
            "site_id": ["T1", "T2", "T3", "T4"],
            "nom": ["Friche", "Local", "Parcelle", "Loin"],
            "type": ["Friche", "local", "terrain", "local"],
            "statut": ["a l'etude", "vendu", "attribué", "disponible"],
            "geometry": ["", "", "POLYGON((3.05 50.62, 3.06 50.62, 3.06 50.63, 3.05 50.62))", ""],
            "lat": ["50.62", "50.62", "", "43.6"],
            "lon": ["3.05", "3.05", "", "1.44"],
            "surface_m2": ["1 200,5", "", "", ""],
        }
    )
    accepted, rejects, warnings = validate(df, "land", file_name="l.csv")
    assert list(accepted.index) == [2, 4]
    assert accepted.loc[2, "statut"] == "à l'étude" and accepted.loc[2, "type"] == "friche"
    assert accepted.loc[2, "surface_m2"] == 1200.5
    assert accepted.loc[4, "geometry"].startswith("POLYGON")
    cells = {(r["row"], r["column"]): r["reason"] for r in rejects}
    assert cells[(3, "statut")] == (
        "valeur « vendu » inconnue (attendu : disponible, attribué, à l'étude)"
    )
    assert cells[(5, "lat")].startswith("coordonnées hors de la Métropole")


def test_date_and_period_normalisation():
    assert parse_date("2017/09/08")[0] == "2017-09-08"
    assert parse_date("08/09/2017")[0] == "2017-09-08"
    assert parse_date("2017-09-08 00:00:00")[0] == "2017-09-08"
    assert parse_date("2017-09-08") == ("2017-09-08", None)
    assert parse_date("31/02/2017") == (None, None)
    assert parse_period("2017-01-01_2017-12-31")[0] == "2017-01-01/2017-12-31"
    assert parse_period("01/01/2023 au 31/12/2023")[0] == "2023-01-01/2023-12-31"
    assert parse_period("2017-03-02/2017-30-05") == (None, None)


def test_scdl_values_normalised_with_warnings():
    df = grants(
        nature="Aide en numeraire ; aide en nature",
        conditionsVersement="Echelonne",
        notificationUE="Non",
        pourcentageSubvention="50 %",
        dateConvention="08/09/2023",
    )
    accepted, rejects, warnings = validate(df, "grants", file_name="f.csv")
    assert rejects == []
    row = accepted.loc[2]
    assert row["nature"] == "aide en numéraire;aide en nature"
    assert row["conditionsVersement"] == "échelonné"
    assert bool(row["notificationUE"]) is False
    assert row["pourcentageSubvention"] == 0.5
    assert row["dateConvention"] == "2023-09-08"
    columns = {w["column"] for w in warnings if w["row"] == 2}
    assert {"nature", "conditionsVersement", "notificationUE", "pourcentageSubvention"} <= columns
    assert "dateConvention" in columns
