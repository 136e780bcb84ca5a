"""The annual bilan: figures read back from the PDF (pdftotext) equal figures computed here
straight from the demo CSVs with pandas; every page renders; degraded inputs still build.

The PDF is produced by the real command line (`python -m loaders bilan`) in an empty ESS_HOME:
the demo data over the embedded commune outlines, without quartiers, IRIS or QPV layers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from geo.formatting import fmt_eur, fmt_int, fmt_pct
from loaders.config import DEMO_DIR
from tests.conftest import REPO

STRATEGY = json.loads((REPO / "data" / "strategy.json").read_text(encoding="utf-8"))
ENVELOPE = float(STRATEGY["enveloppe_eur"])
YEAR = 2025

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) is not installed: .ci/run installs it",
)


def norm(text: str) -> str:
    """Spaces of every kind (U+202F, U+00A0, line breaks) as one plain space."""
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " ")).strip()


def compact(text: str) -> str:
    """The text without any space: pdftotext may or may not print a narrow no-break space."""
    return re.sub(r"\s+", "", text)


def squash(text: str) -> str:
    """The text without any space, for cells that wrap."""
    return re.sub(r"[\s-]+", "", text)


def pdf_text(path: Path, page: int | None = None, layout: bool = False) -> str:
    """The text of the PDF (reading order), or with ``layout`` one printed line per line."""
    args = ["pdftotext", "-q"] + (["-layout"] if layout else [])
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return norm("".join(parser.parts))


def run_bilan(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ESS_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("ESS_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "loaders", "bilan", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("ess_home_bilan")
    return home


@pytest.fixture(scope="module")
def bilan_pdf(demo_home, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bilan") / "bilan.pdf"
    done = run_bilan(demo_home, "--annee", str(YEAR), "--format", "pdf", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:5] == b"%PDF-"
    return out


@pytest.fixture(scope="module")
def bilan_html(demo_home, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("bilan_html") / "bilan.html"
    done = run_bilan(demo_home, "--annee", str(YEAR), "--format", "html", "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out.read_text(encoding="utf-8")


def demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    grants = pd.read_csv(DEMO_DIR / "grants.csv", dtype=str)
    for col in ("montant", "montant_verse"):
        grants[col] = grants[col].astype(float).fillna(0.0)
    grants["annee"] = grants["annee"].astype(int)
    grants["priorite"] = grants["priorite"].astype(int)
    structures = pd.read_csv(DEMO_DIR / "structures.csv", dtype=str)
    return grants, structures


def expected_key_figures() -> list[str]:
    grants, _ = demo()
    year = grants[grants["annee"] == YEAR]
    to_date = grants[grants["annee"].between(2021, YEAR)]
    committed, paid = year["montant"].sum(), year["montant_verse"].sum()
    cum = to_date["montant"].sum()
    return [
        f"Montant engagé en {YEAR} {fmt_eur(committed)}",
        f"Montant versé en {YEAR} {fmt_eur(paid)}",
        f"Subventions en {YEAR} {fmt_int(len(year))}",
        f"Engagé cumulé 2021-{YEAR} {fmt_eur(cum)}",
        f"Versé cumulé 2021-{YEAR} {fmt_eur(to_date['montant_verse'].sum())}",
        f"Part de l'enveloppe engagée {fmt_pct(cum / ENVELOPE)}",
        f"Reste à engager {fmt_eur(ENVELOPE - cum)}",
        f"Rythme nécessaire d'ici 2026 {fmt_eur(ENVELOPE - cum)} par an sur 1 an(s)",
        f"soit {fmt_pct(committed / ENVELOPE)} de l'enveloppe de {fmt_eur(ENVELOPE)}",
    ]


def priorities() -> list[tuple[int, str]]:
    return [(p["numero"], p["titre"]) for a in STRATEGY["axes"] for p in a["priorites"]]


def row_starting(path: Path, start: str) -> str:
    """The printed line that starts with ``start`` (a table row), spaces normalised."""
    lines = pdf_text(path, layout=True).splitlines()
    rows = [norm(line) for line in lines if ". . ." not in line]  # not the table of contents
    found = [row for row in rows if row.startswith(start)]
    assert found, start
    return found[0]


def test_pdf_key_figures_equal_the_csv(bilan_pdf):
    text = compact(pdf_text(bilan_pdf, layout=True))
    for expected in expected_key_figures():
        assert compact(expected) in text, expected
    grants, _ = demo()
    previous = grants.loc[grants["annee"] == YEAR - 1, "montant"].sum()
    current = grants.loc[grants["annee"] == YEAR, "montant"].sum()
    change = fmt_pct((current - previous) / previous)
    sign = "" if current < previous else "+"
    assert compact(f"Évolution par rapport à {YEAR - 1} {sign}{change}") in text


def test_pdf_names_all_20_priorities_with_their_amounts(bilan_pdf):
    text = norm(pdf_text(bilan_pdf))
    grants, _ = demo()
    year = grants[grants["annee"] == YEAR]
    for number, title in priorities():
        part = year[year["priorite"] == number]
        assert norm(f"{number}. {title}") in text, title
        row = row_starting(bilan_pdf, f"{number}. ")
        figures = compact(f"{fmt_eur(part['montant'].sum())}{fmt_int(len(part))}")
        assert figures in compact(row), row
        assert ("sans activité" in text.split(f"{number}. {title}")[1][:20]) == part.empty


def test_pdf_axes_and_roadmaps_equal_the_csv(bilan_pdf):
    grants, _ = demo()
    year = grants[grants["annee"] == YEAR]
    for axis in STRATEGY["axes"]:
        part = year[year["priorite"].isin([p["numero"] for p in axis["priorites"]])]
        row = row_starting(bilan_pdf, f"Axe {axis['numero']} – ")
        expected = (
            f" {fmt_eur(part['montant'].sum())} {fmt_eur(part['montant_verse'].sum())} "
            f"{fmt_int(len(part))} "
        )
        assert compact(expected) in compact(row), (expected, row)
    for name, (first, last) in {"2021-2023": (2021, 2023), "2024-2026": (2024, YEAR)}.items():
        part = grants[grants["annee"].between(first, last)]
        expected = (
            f"Feuille de route {name} {first}-{last} {fmt_eur(part['montant'].sum())} "
            f"{fmt_eur(part['montant_verse'].sum())} {fmt_int(len(part))} "
        )
        assert compact(expected) in compact(row_starting(bilan_pdf, f"Feuille de route {name}"))


def test_pdf_annex_lists_every_grant_of_the_year_without_hidden_names(bilan_pdf):
    text = norm(pdf_text(bilan_pdf))
    grants, structures = demo()
    year = grants[grants["annee"] == YEAR]
    total = row_starting(bilan_pdf, "Total ")
    expected = f"Total {fmt_int(len(year))} subventions {fmt_eur(year['montant'].sum(), 2)}"
    assert compact(total) == compact(expected)
    hidden = structures[structures["statut_diffusion"] == "P"]
    assert len(hidden) == 3
    for name, siret in zip(hidden["nom"], hidden["siret"], strict=True):
        assert squash(name) not in squash(text)
        assert siret not in text
    public = structures[structures["statut_diffusion"] != "P"].set_index("siret")["nom"]
    shown = year["idBeneficiaire"].map(public).dropna()
    squashed = squash(text)
    for name in set(shown):
        assert squash(name) in squashed, name  # cells may wrap, even at a hyphen


def test_pdf_has_a_contents_page_numbers_and_the_demo_watermark_on_every_page(bilan_pdf):
    pages = pdf_pages(bilan_pdf)
    assert pages >= 8
    assert "Sommaire" in pdf_text(bilan_pdf, 1) + pdf_text(bilan_pdf, 2)
    for page in range(1, pages + 1):
        text = norm(pdf_text(bilan_pdf, page))
        assert "Données fictives de démonstration" in text, page
        assert f"page {page} sur {pages}" in text, page


def test_without_qpv_layers_the_qpv_sections_say_so(bilan_pdf):
    text = norm(pdf_text(bilan_pdf))
    assert "Couche QPV non chargée (liste 2024)" in text
    assert "La couche des quartiers n'est pas chargée" in text


def test_every_page_renders_to_a_non_blank_image(bilan_pdf, tmp_path):
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(bilan_pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pdf_pages(bilan_pdf)
    for path in images:
        with Image.open(path) as image:
            grey = image.convert("L")
            dark = sum(grey.histogram()[:200])
            assert dark > 200, f"{path.name} is blank"


def test_html_version_has_the_same_figures(bilan_html):
    text = html_text(bilan_html)
    for expected in expected_key_figures():
        assert compact(expected) in compact(text), expected
    for number, title in priorities():
        assert norm(f"{number}. {title}") in text
    assert text.count("Données fictives de démonstration") >= 2
    assert '<html lang="fr">' in bilan_html and "<script" not in bilan_html
    assert bilan_html.count("<svg") >= 2 and bilan_html.count("<desc") >= 1


def test_bad_year_is_refused_in_french(demo_home, tmp_path):
    done = run_bilan(demo_home, "--annee", "2019", "-o", str(tmp_path / "x.pdf"))
    assert done.returncode == 2
    assert "l'année doit être comprise entre 2021 et 2026" in done.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_a_year_without_any_grant_still_builds(ess_home, tmp_path):
    from geo.bilan import build_bilan
    from geo.bilan_render import blocks, to_html, to_pdf
    from loaders.bilan import load_inputs

    inputs, population = load_inputs()
    years = pd.to_numeric(inputs.grants["annee"], errors="coerce")
    inputs.grants = inputs.grants[(years != 2023).to_numpy()]
    bilan = build_bilan(inputs, 2023, quartier_population=population)
    items = blocks(bilan)
    pdf = tmp_path / "vide.pdf"
    pdf.write_bytes(to_pdf(items, demo=True, year=2023))
    text = norm(pdf_text(pdf, layout=True))
    assert "Aucune subvention n'est enregistrée pour 2023." in text
    assert compact(f"Montant engagé en 2023 {fmt_eur(0)}") in compact(text)
    assert "Priorités sans aucune activité sur la période (20)" in text
    assert "Aucune subvention n'est enregistrée pour 2023." in html_text(
        to_html(items, demo=True, year=2023)
    )
