"""Pagination of long display tables (geo.tables.table_page), computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.formatting import NNBSP
from geo.tables import rejects_table, table_page, warning_kind, warnings_summary

FULL = "la sélection complète est dans le téléchargement"


def test_a_long_table_shows_its_first_page_with_a_french_caption():
    page = table_page(10_000)
    assert (page.start, page.stop, page.page, page.pages, page.total) == (0, 200, 1, 50, 10_000)
    assert page.caption() == f"200 premières lignes sur 10\u202f000 — {FULL}"


def test_a_middle_and_the_last_page_say_which_rows_they_show():
    middle = table_page(10_000, 3)
    assert (middle.start, middle.stop) == (400, 600)
    assert middle.caption() == f"Lignes 401 à 600 sur 10\u202f000 — {FULL}"
    last = table_page(450, 3)  # 450 rows: pages of 200, 200 and 50
    assert (last.start, last.stop, last.pages) == (400, 450, 3)
    assert last.caption() == f"Lignes 401 à 450 sur 450 — {FULL}"


def test_pages_out_of_range_are_clamped():
    assert table_page(450, 9).page == 3  # the selection shrank under a remembered page
    assert table_page(450, 0).page == 1
    assert table_page(450, -4).start == 0


def test_a_short_or_empty_table_is_shown_whole_without_caption():
    for total in (0, 1, 200):
        page = table_page(total)
        assert (page.start, page.stop, page.pages) == (0, total, 1)
        assert page.caption() is None
    assert table_page(201).caption() == f"200 premières lignes sur 201 — {FULL}"
    assert table_page(201).caption("ailleurs") == "200 premières lignes sur 201 — ailleurs"


def test_page_size_is_a_parameter_and_must_be_positive():
    page = table_page(25, 2, size=10)
    assert (page.start, page.stop, page.pages) == (10, 20, 3)
    with pytest.raises(ValueError, match="Taille de page invalide"):
        table_page(25, 1, size=0)


# Warnings as loaders.validation words them, out of row order like a real report.
WARNINGS = [
    {"row": 9, "column": "montant", "message": "nombre « 3,5 » lu 3,5"},
    {"row": 2, "column": "montant", "message": f"nombre « 2 000,00 » lu 2{NNBSP}000"},
    {"row": 3, "column": "annee", "message": "année 2019 hors période : subvention gardée"},
    {"row": 5, "column": "montant", "message": f"nombre « 1 500,50 » lu 1{NNBSP}500,5"},
    {"row": 4, "column": None, "message": "latitude et longitude étaient inversées"},
    {"row": None, "column": "id_subvention", "message": "colonne identifiant absente"},
]


def test_warning_kind_masks_quoted_values_and_numbers():
    assert warning_kind(f"nombre « 1 500,50 » lu 1{NNBSP}500,5") == "nombre « … » lu …"
    assert warning_kind("année 2019 hors période") == "année … hors période"
    assert warning_kind("priorité à compléter") == "priorité à compléter"


def test_warnings_summary_groups_by_column_and_kind_most_frequent_first():
    summary = warnings_summary(WARNINGS)
    assert summary.columns.tolist() == [
        "Colonne",
        "Avertissement",
        "Lignes",
        "Premières lignes",
        "Exemple",
    ]
    assert summary.values.tolist() == [
        ["montant", "nombre « … » lu …", "3", "2, 5, 9", f"nombre « 2 000,00 » lu 2{NNBSP}000"],
        [
            "annee",
            "année … hors période : subvention gardée",
            "1",
            "3",
            "année 2019 hors période : subvention gardée",
        ],
        [
            "—",
            "latitude et longitude étaient inversées",
            "1",
            "4",
            "latitude et longitude étaient inversées",
        ],
        [
            "id_subvention",
            "colonne identifiant absente",
            "1",
            "—",  # a file-level warning: no row
            "colonne identifiant absente",
        ],
    ]
    # nothing lost: the counts add up to the warnings read
    assert sum(int(n) for n in summary["Lignes"]) == len(WARNINGS)


def test_warnings_summary_lists_the_first_rows_and_counts_the_rest():
    many = [
        {"row": r, "column": "nature", "message": f"« x{r} » normalisé"} for r in range(8, 1, -1)
    ]
    summary = warnings_summary(many)
    assert summary["Premières lignes"].tolist() == ["2, 3, 4, 5, 6 … (+2)"]
    assert summary["Lignes"].tolist() == ["7"]
    assert warnings_summary([]).empty


def test_rejects_table_has_french_headers_and_a_dash_for_no_column():
    rejects = pd.DataFrame(
        [
            {"row": 3, "column": "siret", "reason": "SIRET manquant"},
            {"row": 7, "column": None, "reason": "ligne vide"},
        ]
    )
    assert rejects_table(rejects).values.tolist() == [
        [3, "siret", "SIRET manquant"],
        [7, "—", "ligne vide"],
    ]
