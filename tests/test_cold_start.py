"""Cold start: the enrichment is built when data change, and the first page loads no heavy module.

Issue 12, item 4. The pages read the enrichment cache that the import (API, command line or
Importer page), the undo and `sync` leave behind; they never compute it on a first view.
"""

from __future__ import annotations

import json
import subprocess
import sys

from loaders import config, pipeline
from loaders.__main__ import main as loaders_main
from loaders.datasets import load_datasets
from loaders.importer import import_file
from loaders.layers import load_layers

# Grand-Place de Lille (59350) and Lomme's town hall (59355), both inside the embedded commune
# outlines (checked by hand on data/embedded/communes.geojson); the third grant has no place.
GRANTS = (
    "Identifiant;Nom du bénéficiaire;SIRET;Montant;Date de convention;Latitude du projet;"
    "Longitude du projet\n"
    "S1;Régie;21590350100017;1 500,50;02/05/2023;50,6366;3,0635\n"
    "S2;Épicerie;73282932000074;200;2023-06-01;50,6437;2,9874\n"
    "S3;Atelier;73282932000074;300;2023-06-01;;\n"
)


def _cached_files(key: str) -> list[str]:
    return sorted(p.name for p in config.enriched_dir().glob(f"{key}_*.parquet"))


def _current_key() -> str:
    return pipeline.cache_key(
        load_datasets(), load_layers(), config.qpv_buffer_m(), pipeline.qpv_switch_year()
    )


def _no_enrichment(monkeypatch) -> None:
    """From here on, any spatial join fails the test: pages must read the cache."""

    def refuse(*args, **kwargs):
        raise AssertionError("enrich_points called: the page recomputed the enrichment")

    monkeypatch.setattr(pipeline, "enrich_points", refuse)


def _page_bundle():
    """What every page calls (pages.shared.bundle), minus the Streamlit navigation check."""
    import streamlit as st

    from pages import shared

    st.cache_resource.clear()
    return shared._load_bundle(config.state_token())


def _expected_files(key: str) -> list[str]:
    return sorted(f"{key}_{name}.parquet" for name in ("conflicts", "grants", "land", "structures"))


def test_cli_import_builds_the_cache_and_the_page_only_reads_it(tmp_path, ess_home, monkeypatch):
    source = tmp_path / "subventions.csv"
    source.write_text(GRANTS, encoding="utf-8")
    assert loaders_main(["import", str(source), "--kind", "grants"]) == 0

    key = _current_key()
    assert _cached_files(key) == _expected_files(key)
    _no_enrichment(monkeypatch)
    data = _page_bundle().data
    assert data.key == key
    grants = data.grants.set_index("id_subvention")
    assert grants["code_commune"].fillna("").to_dict() == {"S1": "59350", "S2": "59355", "S3": ""}
    assert grants["montant"].to_dict() == {"S1": 1500.5, "S2": 200.0, "S3": 300.0}


def test_api_import_and_undo_leave_the_cache_of_what_is_shown(tmp_path, ess_home, monkeypatch):
    first = tmp_path / "subventions.csv"
    first.write_text(GRANTS, encoding="utf-8")
    second = tmp_path / "subventions_2.csv"
    second.write_text(GRANTS.replace("1 500,50", "999"), encoding="utf-8")
    assert import_file(first, "grants").stored
    first_key = _current_key()
    assert import_file(second, "grants").stored
    second_key = _current_key()
    assert second_key != first_key
    assert _cached_files(second_key) == _expected_files(second_key)

    assert loaders_main(["undo"]) == 0  # the first import is shown again: its cache is there
    assert _current_key() == first_key
    _no_enrichment(monkeypatch)
    grants = _page_bundle().data.grants.set_index("id_subvention")
    assert grants.loc["S1", "montant"] == 1500.5
    assert grants.loc["S1", "code_commune"] == "59350"


def test_a_failed_enrichment_does_not_fail_the_import(tmp_path, ess_home, monkeypatch):
    source = tmp_path / "subventions.csv"
    source.write_text(GRANTS, encoding="utf-8")
    _no_enrichment(monkeypatch)
    report = import_file(source, "grants")
    assert report.stored and report.accepted == 3
    assert "sera calculé à l'affichage de la première page" in report.summary_fr()
    assert _cached_files(_current_key()) == []


FIRST_PAGES_SCRIPT = """
import json, sys
from streamlit.testing.v1 import AppTest

heavy = ("typst", "vl_convert", "altair", "openpyxl")
import geo.bilan_render, loaders.bilan, geo.bilan  # the bilan page's own imports
seen = {"bilan modules": [m for m in heavy if m in sys.modules]}
at = AppTest.from_file(sys.argv[1], default_timeout=300)
at.run()
seen["home"] = [m for m in heavy if m in sys.modules] + [str(e.value) for e in at.exception]
at.switch_page("pages/carte.py")
at.run()
seen["carte"] = [m for m in heavy if m in sys.modules] + [str(e.value) for e in at.exception]
print(json.dumps(seen))
"""


def test_first_pages_do_not_import_the_bilan_pdf_or_chart_engines(ess_home):
    """In a fresh process: Accueil, then the map page, load neither Typst, vl-convert, Altair
    nor openpyxl (they serve the bilan's PDF, Répartition's charts and XLSX exports)."""
    out = subprocess.run(
        [sys.executable, "-c", FIRST_PAGES_SCRIPT, str(config.PROJECT_DIR / "app.py")],
        cwd=config.PROJECT_DIR,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"bilan modules": [], "home": [], "carte": []}
