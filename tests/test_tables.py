"""Pagination of long display tables (geo.tables.table_page), computed by hand."""

from __future__ import annotations

import pytest

from geo.tables import table_page

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
