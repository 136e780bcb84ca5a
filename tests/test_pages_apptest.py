"""Page logic through Streamlit's AppTest: each page on the demo data, filters and URL, gates.

The app runs in-process with st.navigation (app.py), one page at a time via `switch_page`.
Expected figures are recomputed here with pandas from data/demo/*.csv, never read from the app;
geo.formatting only supplies the French number format.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.formatting import fmt_eur, fmt_int
from loaders.config import DEMO_DIR, PROJECT_DIR
from loaders.layers import import_layer
from loaders.sync import sync_layers
from tests.synthetic import synthetic_qpv

APP = PROJECT_DIR / "app.py"
PAGES = [
    "pages/home.py",
    "pages/carte.py",
    "pages/qpv.py",
    "pages/repartition.py",
    "pages/foncier.py",
    "pages/comparer.py",
    "pages/importer.py",
    "pages/donnees.py",
]
DEMO_BANNER = "Données fictives de démonstration"
TIMEOUT = 180  # first run of a fresh ESS_HOME computes the enrichment
_PREPARED: dict[Path, Path] = {}  # shared data folder -> ESS_HOME synced from it (once a session)


def _prepare_home(shared_data: Path, home: Path) -> None:
    """`loaders sync --offline` from the shared folders, then the synthetic QPV of both lists."""
    sync_layers([shared_data / "geo", shared_data / "activity"], offline=True)
    for generation in ("2015", "2024"):
        path = home.parent / f"qpv_{generation}.geojson"
        synthetic_qpv(generation).to_file(path, driver="GeoJSON")
        import_layer(f"qpv_{generation}", path)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    """Run from the repository (app.py's relative paths), without deployment variables."""
    monkeypatch.chdir(PROJECT_DIR)
    for name in ("ESS_STORE", "ESS_PUBLIC", "ESS_QPV_SWITCH_YEAR", "ESS_QPV_BUFFER_M"):
        monkeypatch.delenv(name, raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def demo_home(shared_data, tmp_path_factory, monkeypatch) -> Path:
    """ESS_HOME with every reference layer the offline sync provides, prepared once a session.

    Pages only read it (no test imports data), so sharing it between tests is safe.
    """
    home = _PREPARED.get(shared_data)
    if home is None:
        home = tmp_path_factory.mktemp("apptest") / "ess_home"
        home.mkdir()
        monkeypatch.setenv("ESS_HOME", str(home))
        _prepare_home(shared_data, home)
        _PREPARED[shared_data] = home
    monkeypatch.setenv("ESS_HOME", str(home))
    return home


def open_page(page: str, *, query: dict | None = None, secrets: dict | None = None) -> AppTest:
    """The app started on `page`, with optional URL parameters and secrets."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.secrets.update(secrets or {})
    return at.switch_page(page).run()


def demo_grants() -> pd.DataFrame:
    return pd.read_csv(DEMO_DIR / "grants.csv", dtype=str, keep_default_na=False).assign(
        montant=lambda df: df["montant"].astype(float),
        montant_verse=lambda df: pd.to_numeric(df["montant_verse"]).astype(float),
        axe=lambda df: df["axe"].astype(int),
    )


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, [m.label for m in at.metric]
    return values[0]


def selection_line(at: AppTest) -> str:
    lines = [m.value for m in at.markdown if "sélectionnées" in m.value]
    assert len(lines) == 1, [m.value for m in at.markdown]
    return lines[0]


def expected_selection(grants: pd.DataFrame) -> str:
    total = fmt_eur(grants["montant"].sum())
    return f"**{fmt_int(len(grants))} subventions** sélectionnées, **{total}**"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_demo_data_with_banner_and_sources(demo_home, page):
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.title) == 1
    assert any(DEMO_BANNER in w.value for w in at.warning)
    footer = [c.value for c in at.caption if c.value.startswith("**Sources**")]
    assert len(footer) == 1 and "Jeu de démonstration fictif" in footer[0]


def test_home_amounts_are_demo_totals_and_follow_axes_url_parameter(demo_home):
    grants = demo_grants()
    at = open_page("pages/home.py")
    assert not at.exception
    assert metric(at, "Montant engagé") == fmt_eur(grants["montant"].sum())
    assert metric(at, "Montant versé") == fmt_eur(grants["montant_verse"].sum())

    axis4 = grants[grants["axe"] == 4]
    assert 0 < len(axis4) < len(grants)
    at = open_page("pages/home.py", query={"axes": "4"})
    assert not at.exception
    assert metric(at, "Montant engagé") == fmt_eur(axis4["montant"].sum())
    assert at.multiselect(key="flt_axes").value == [4]
    assert at.query_params == {"axes": "4"}


def _fold(text: pd.Series) -> pd.Series:
    """Case- and accent-free text, written here independently of geo.filters."""
    return text.map(
        lambda s: unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().casefold()
    )


def test_filter_widgets_write_url_and_update_carte_count_across_pages(demo_home):
    grants = demo_grants()
    structures = pd.read_csv(DEMO_DIR / "structures.csv", dtype=str, keep_default_na=False)
    # The word only occurs in the grants' object, so counting there is the whole truth.
    assert not _fold(grants["nomBeneficiaire"]).str.contains("reemploi").any()
    assert not _fold(structures["nom"]).str.contains("reemploi").any()
    by_text = grants[_fold(grants["objet"]).str.contains("reemploi")]
    both = by_text[by_text["axe"].isin([1, 3])]
    assert 0 < len(both) < len(by_text) < len(grants)

    at = open_page("pages/carte.py")
    assert selection_line(at).startswith(expected_selection(grants))
    assert at.query_params == {}

    at.text_input(key="flt_text").input("RÉEMPLOI").run()
    assert not at.exception
    assert at.query_params == {"q": "RÉEMPLOI"}
    assert selection_line(at).startswith(expected_selection(by_text))

    at.multiselect(key="flt_axes").set_value([3, 1]).run()
    assert at.query_params == {"q": "RÉEMPLOI", "axes": "1,3"}
    assert selection_line(at).startswith(expected_selection(both))

    at.switch_page("pages/home.py").run()  # the shared filters survive a page switch
    assert not at.exception
    assert at.text_input(key="flt_text").value == "RÉEMPLOI"
    assert metric(at, "Montant engagé") == fmt_eur(both["montant"].sum())

    reset = [b for b in at.sidebar.button if b.label == "Réinitialiser les filtres"]
    assert len(reset) == 1
    reset[0].click().run()
    assert not at.exception
    assert at.query_params == {}
    assert metric(at, "Montant engagé") == fmt_eur(grants["montant"].sum())


def _infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def test_missing_quartiers_layer_is_reported_on_carte_not_fatal(ess_home):
    """Fresh ESS_HOME: no sync, only the embedded defaults (communes), so no quartiers nor QPV."""
    at = open_page("pages/carte.py")
    assert not at.exception, [e.value for e in at.exception]
    assert any("Quartiers : non disponible" in text for text in _infos(at))
    assert any("QPV (liste 2024) : non disponible" in text for text in _infos(at))
    assert selection_line(at).startswith(expected_selection(demo_grants()))
    at.switch_page("pages/repartition.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("non disponible" in text for text in _infos(at))  # communes are embedded
    at.radio(key="rep_level").set_value("quartier").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Quartiers : non disponible" in text for text in _infos(at))


def _sign_in(at: AppTest, password: str) -> AppTest:
    at.text_input(key="staff_password").input(password)
    return [b for b in at.button if b.label == "Se connecter"][0].click().run()


def test_importer_asks_staff_password_before_showing_the_uploader(demo_home):
    from pages.common.access import _limiter

    _limiter.clear()  # the limiter is server-wide: start from no failure
    at = open_page("pages/importer.py", secrets={"staff_password": "mot-de-passe-test"})
    assert not at.exception
    assert at.text_input(key="staff_password").value == ""
    assert len(at.file_uploader) == 0
    assert any("réservés aux agents" in text for text in _infos(at))

    _sign_in(at, "mauvais")
    assert [e.value for e in at.error] == ["Mot de passe incorrect."]
    assert len(at.file_uploader) == 0

    # each failure doubles the wait (1, 2, 4, 8, 16 s): guessing soon outruns the page
    errors = []
    for _ in range(5):
        errors = [e.value for e in _sign_in(at, "encore-faux").error]
        if errors[0].startswith("Trop d'essais"):
            break
    assert errors[0].startswith("Trop d'essais : réessayez dans ")
    _sign_in(at, "mot-de-passe-test")  # even the right password waits its turn
    assert [e.value for e in at.error][0].startswith("Trop d'essais")
    assert len(at.file_uploader) == 0

    _limiter.clear()  # as after the wait
    _sign_in(at, "mot-de-passe-test")
    assert not at.exception and len(at.error) == 0
    assert [u.label for u in at.file_uploader] == ["Fichier à importer"]


@pytest.mark.parametrize("secrets", [{}, {"autre_reglage": "sans rapport"}])
def test_public_dashboard_without_authentication_disables_import(demo_home, monkeypatch, secrets):
    at = open_page("pages/importer.py", secrets=secrets)
    assert [u.label for u in at.file_uploader] == ["Fichier à importer"]  # local mode: open

    monkeypatch.setenv("ESS_PUBLIC", "1")
    at = open_page("pages/importer.py", secrets=secrets)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Import et mises à jour désactivés")
    assert len(at.file_uploader) == 0 and len(at.text_input) == 0


def test_an_error_inside_a_page_is_a_french_message_with_a_reference(
    demo_home, monkeypatch, caplog
):
    import geo.pagemaps

    def broken(*args, **kwargs):
        raise RuntimeError("échec simulé dans /srv/secret/chemin.py")

    monkeypatch.setattr(geo.pagemaps, "funded_base", broken)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    with caplog.at_level(logging.ERROR, logger="ess.pages"):
        at.switch_page("pages/carte.py").run()
    assert not at.exception  # no red traceback box
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert errors[0].startswith("Une erreur inattendue empêche d'afficher cette page.")
    reference = re.search(r"\*\*([0-9a-f]{8})\*\*", errors[0]).group(1)
    assert "/srv/secret" not in errors[0] and "RuntimeError" not in errors[0]
    # the details are in the server log, under the same reference
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert len(logged) == 1 and "échec simulé" in str(logged[0].exc_info[1])
    # the navigation is still there: the user can go elsewhere
    at.switch_page("pages/home.py")
    monkeypatch.undo()
    at.run()
    assert not at.exception and not at.error
