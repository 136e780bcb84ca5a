"""The « Bilan annuel » page in headless Chromium: the HTML version shows the figures computed
here from the demo CSVs, the PDF download is the same document, the roadmap filter applies.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pandas as pd

from geo.formatting import fmt_eur, fmt_int, fmt_pct
from loaders.config import DEMO_DIR
from tests.browser.helpers import screenshot, wait_for_app
from tests.browser.test_pages import (
    assert_clean,
    expected_grant_locations,
    open_page,
    selected_count,
)

ENVELOPE = 700000.0


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def demo_grants() -> pd.DataFrame:
    grants = pd.read_csv(DEMO_DIR / "grants.csv", dtype=str)
    grants["annee"] = grants["annee"].astype(int)
    for col in ("montant", "montant_verse"):
        grants[col] = grants[col].astype(float).fillna(0.0)
    return grants


def expected(year: int) -> list[str]:
    grants = demo_grants()
    in_year = grants[grants["annee"] == year]
    cum = grants.loc[grants["annee"].between(2021, year), "montant"].sum()
    return [
        f"Montant engagé en {year}{fmt_eur(in_year['montant'].sum())}",
        f"Montant versé en {year}{fmt_eur(in_year['montant_verse'].sum())}",
        f"Subventions en {year}{fmt_int(len(in_year))}",
        f"Part de l'enveloppe engagée{fmt_pct(cum / ENVELOPE)}",
    ]


def bilan_text(page) -> str:
    return compact(page.locator(".bilan").first.inner_text())


def test_bilan_page_shows_the_figures_and_offers_the_pdf(page, dashboard):
    open_page(page, f"{dashboard}/bilan")
    page.locator(".bilan").first.wait_for(timeout=60000)
    year = int(demo_grants()["annee"].max())
    text = bilan_text(page)
    for line in expected(year):
        assert compact(line) in text, line
    assert "Donnéesfictivesdedémonstration" in text
    figures = page.locator(".bilan figure img")
    assert figures.count() >= 3  # two charts and at least one map
    for i in range(figures.count()):
        assert figures.nth(i).get_attribute("alt")
        assert figures.nth(i).evaluate("img => img.naturalWidth") > 0
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger le bilan (PDF)").click()
    download = info.value
    assert download.suggested_filename == f"bilan_ess_{year}_demo.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    screenshot(page, "bilan")
    assert_clean(page)


def test_roadmap_in_the_url_limits_the_years_of_the_bilan(page, dashboard):
    open_page(page, f"{dashboard}/bilan?feuille=2021-2023")
    page.locator(".bilan").first.wait_for(timeout=60000)
    assert parse_qs(urlparse(page.url).query).get("feuille") == ["2021-2023"]
    text = bilan_text(page)
    for line in expected(2023):
        assert compact(line) in text, line
    assert_clean(page)


def test_roadmap_link_reproduces_the_filter_on_the_map_page(page, dashboard):
    open_page(page, f"{dashboard}/carte?feuille=2021-2023")
    grants, _ = expected_grant_locations(years=(2021, 2023))
    assert selected_count(page) == grants
    assert page.get_by_role("radio", name="2021-2023").is_checked()
    assert parse_qs(urlparse(page.url).query).get("feuille") == ["2021-2023"]
    page.get_by_text("2024-2026", exact=True).click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    grants, _ = expected_grant_locations(years=(2024, 2026))
    assert selected_count(page) == grants
    assert parse_qs(urlparse(page.url).query).get("feuille") == ["2024-2026"]
    assert_clean(page)
