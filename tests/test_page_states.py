"""Every page renders in every state (issue 7): AppTest over a generated matrix of data states.

States are ESS_HOME folders built once for the module: reference layers synced from
../shared/data (then copied by subsets), the synthetic QPV of tests/synthetic.py, and either the
fictional demo or a small grants file imported through the store. Each case opens one page with
one set of URL parameters and checks that it renders (no exception, no "unexpected error"
message) and says the right thing: the French "nothing to show" message for an empty selection,
"—" and the reason for QPV figures that cannot be computed. Expected figures are worked out by
hand from the imported rows below (geo.formatting only supplies the French number format).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from shapely.geometry import Point

from geo.formatting import NNBSP, fmt_eur, fmt_int, fmt_pct
from loaders.config import DEMO_DIR, PROJECT_DIR
from loaders.importer import import_file
from loaders.layers import import_layer
from loaders.sync import sync_layers
from tests.conftest import SHARED_DATA
from tests.synthetic import synthetic_qpv
from tests.test_pages_apptest import PAGES, open_page

FILTER_PAGES = [p for p in PAGES if p not in ("pages/importer.py", "pages/donnees.py")]
BASE_LAYERS = ("communes", "mel_communes", "quartiers", "iris", "friches")
EURO = f"{NNBSP}€"

# Three grants, chosen so every figure below can be checked by hand:
# - Alpha (2022, 10 000 €) sits in the middle of the synthetic QPV A (both lists), in Lille;
# - Beta (2024, 5 000 €) in Lille's centre, 2 km from any synthetic QPV;
# - Gamma (2023, 2 500 €) has no coordinates and no beneficiary SIRET: not located.
# Total 17 500 €: 57,1 % in a QPV, 28,6 % elsewhere, 14,3 % not located.
GRANTS_CSV = (
    "Identifiant;Nom du bénéficiaire;SIRET;Objet;Montant attribué;Montant versé;Année;Axe;"
    "Priorité;Latitude du projet;Longitude du projet\n"
    "S1;Atelier Alpha;21590350100017;Recyclerie;10 000;4 000;2022;1;3;50,612;3,060\n"
    "S2;Bureau Beta;73282932000074;Tiers-lieu;5 000;0;2024;2;10;50,637;3,063\n"
    "S3;Collectif Gamma;;Épicerie solidaire;2 500;;2023;2;9;;\n"
)
# Two grants without any coordinates (a file straight from the finance software).
UNLOCATED_CSV = (
    "Identifiant;Nom du bénéficiaire;Objet;Montant attribué;Année;Axe;Priorité\n"
    "T1;Delta;Formation;4 000;2021;3;13\n"
    "T2;Epsilon;Festival;6 000;2025;4;17\n"
)


@dataclass(frozen=True)
class State:
    """One ESS_HOME: which reference layers are cached, which grants file (None: demo)."""

    layers: tuple[str, ...]
    grants_csv: str | None = None


STATES = {
    "aucune_couche": State(()),  # nothing synced: only the embedded defaults
    "communes": State(("communes",)),
    "sans_qpv": State(BASE_LAYERS),
    "toutes": State((*BASE_LAYERS, "qpv_2015", "qpv_2024")),
    "qpv2015_seule": State((*BASE_LAYERS, "qpv_2015")),
    "qpv2024_seule": State((*BASE_LAYERS, "qpv_2024")),
    "import": State((*BASE_LAYERS, "qpv_2015", "qpv_2024"), GRANTS_CSV),
    "import_sans_qpv": State(BASE_LAYERS, GRANTS_CSV),
    "import_sans_coord": State((*BASE_LAYERS, "qpv_2015", "qpv_2024"), UNLOCATED_CSV),
}


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> dict[str, Path]:
    """Every state's ESS_HOME, built once: one offline sync, then copies and imports."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing at {SHARED_DATA}")
        pytest.skip(f"shared data missing at {SHARED_DATA}")
    root = tmp_path_factory.mktemp("page_states")
    base = root / "base"
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ESS_STORE", raising=False)
        mp.setenv("ESS_HOME", str(base))
        sync_layers([SHARED_DATA / "geo", SHARED_DATA / "activity"], offline=True)
        for generation in ("2015", "2024"):
            path = root / f"qpv_{generation}.geojson"
            synthetic_qpv(generation).to_file(path, driver="GeoJSON")
            import_layer(f"qpv_{generation}", path)
        for name, state in STATES.items():
            home = root / name
            (home / "layers").mkdir(parents=True)
            for layer in state.layers:
                for suffix in (".parquet", ".json"):
                    shutil.copy(base / "layers" / f"{layer}{suffix}", home / "layers")
            if state.grants_csv:
                mp.setenv("ESS_HOME", str(home))
                csv = root / f"{name}.csv"
                csv.write_text(state.grants_csv, encoding="utf-8")
                report = import_file(csv, "grants")
                assert report.rejected == 0, report.rejects
            out[name] = home
    return out


@pytest.fixture(scope="module", autouse=True)
def _fresh_caches():
    """Pages cache the data bundle per on-disk state: start and end this module clean."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    monkeypatch.chdir(PROJECT_DIR)
    for name in ("ESS_STORE", "ESS_PUBLIC", "ESS_QPV_SWITCH_YEAR", "ESS_QPV_BUFFER_M"):
        monkeypatch.delenv(name, raising=False)


# --- what a page shows -------------------------------------------------------------------------


def infos(at) -> list[str]:
    return [i.value for i in at.info]


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def metric(at, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, [m.label for m in at.metric]
    return values[0]


def table(at, first_column: str) -> pd.DataFrame:
    """The one table whose first column (or index) is ``first_column``."""
    frames = [
        d.value for d in at.dataframe if first_column in (d.value.index.name, *d.value.columns[:1])
    ]
    assert len(frames) == 1, [list(d.value.columns[:2]) for d in at.dataframe]
    return frames[0]


def compared(at) -> pd.DataFrame:
    """Comparer's table: one column per territory, one row per indicator."""
    frames = [d.value for d in at.dataframe if "Population" in d.value.index]
    assert len(frames) == 1
    return frames[0]


def assert_renders(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    unexpected = [e.value for e in at.error if "erreur inattendue" in e.value]
    assert unexpected == []


EMPTY_MARK = "ne correspond aux filtres"


def nothing_to_show(phrase: str, subject: str = "Aucune subvention") -> str:
    return f"{subject} ne correspond aux filtres : {phrase}. Modifiez ou réinitialisez les filtres."


def demo_unlocated() -> int:
    """Demo grants without a place: no project location and a beneficiary never placed (P)."""
    structures = pd.read_csv(DEMO_DIR / "structures.csv", dtype=str)
    grants = pd.read_csv(DEMO_DIR / "grants.csv", dtype=str)
    public = set(structures.loc[structures["statut_diffusion"] != "P", "siret"])
    return int((grants["lat_projet"].isna() & ~grants["idBeneficiaire"].isin(public)).sum())


def demo_count() -> int:
    return len(pd.read_csv(DEMO_DIR / "grants.csv", dtype=str))


def demo_share_in_qpv(first: int, last: int) -> float:
    """Share of the demo amount of years first..last inside a synthetic QPV of the grant's list.

    Straight from the CSVs: a grant sits at its project location, else at its public
    beneficiary's; 2021-2023 use the 2015 list, 2024 onwards the 2024 list. Inside means in the
    interior: three demo grants sit exactly on QPV B's east edge and count as outside.
    """
    structures = pd.read_csv(DEMO_DIR / "structures.csv", dtype=str)
    public = structures[structures["statut_diffusion"] != "P"].set_index("siret")
    grants = pd.read_csv(DEMO_DIR / "grants.csv", dtype=str)
    grants = grants[grants["annee"].astype(int).between(first, last)]
    ids = grants["idBeneficiaire"]
    lon = grants["lon_projet"].astype(float).fillna(ids.map(public["lon"]).astype(float))
    lat = grants["lat_projet"].astype(float).fillna(ids.map(public["lat"]).astype(float))
    squares = {gen: list(synthetic_qpv(gen).geometry) for gen in ("2015", "2024")}
    inside = [
        pd.notna(x) and any(Point(x, y).within(q) for q in squares[gen])
        for x, y, gen in zip(
            lon, lat, ["2015" if int(a) < 2024 else "2024" for a in grants["annee"]], strict=True
        )
    ]
    amount = grants["montant"].astype(float)
    return float(amount[inside].sum() / amount.sum())


# --- expectations --------------------------------------------------------------------------------

BOTH = "couche QPV non chargée (listes 2015 et 2024)"
# The URL parameters of the filters Comparer shows (and applies), plus its own territories.
COMPARER_PARAMS = {
    "annees",
    "feuille",
    "periode",
    "axes",
    "priorites",
    "dispositifs",
    "territoires",
}


def expect_empty(phrase: str) -> Callable:
    """The page says the selection is empty and which filters empty it (land: see foncier)."""

    def check(at, case) -> None:
        if case.page == "pages/foncier.py":
            return expect_land(phrase)(at, case)
        if case.page == "pages/comparer.py" and not set(case.query) <= COMPARER_PARAMS:
            # a filter Comparer does not show is not applied there (issue 8), nor said
            assert not any(EMPTY_MARK in text for text in infos(at))
            assert phrase not in " ".join(captions(at))
            return None
        assert nothing_to_show(phrase) in infos(at)

    return check


NO_LAND = (
    "Aucun site foncier à afficher : aucun site n'a été importé (page « Importer des données »)."
)
# Filters that also apply to land sites, and the phrase they give on the land page.
PLACE_PHRASES = ("recherche", "commune", "dans un QPV")


def expect_land(phrase: str) -> Callable:
    def check(at, case) -> None:
        if STATES[case.state].grants_csv is not None:  # grants imported, no land sites
            assert NO_LAND in infos(at)
        elif phrase.startswith(PLACE_PHRASES):
            # Land sites have no year: they need the 2024 list only.
            land_phrase = phrase.replace(BOTH, "couche QPV non chargée (liste 2024)")
            assert nothing_to_show(land_phrase, "Aucun site foncier") in infos(at)
        else:
            assert not any(EMPTY_MARK in text for text in infos(at))
        if not phrase.startswith(PLACE_PHRASES):
            assert any("ne s'appliquent pas aux sites fonciers" in c for c in captions(at))

    return check


def expect_shown(at, case) -> None:
    """A non-empty selection: no "nothing to show" message (imported grants only: no land)."""
    if case.page == "pages/foncier.py" and STATES[case.state].grants_csv is not None:
        assert NO_LAND in infos(at)
        return
    assert not any(EMPTY_MARK in text or "à afficher." in text for text in infos(at))


def qpv_unknown(reason: str, partial: bool = False) -> Callable:
    """QPV figures read "—" with the reason, never 0 % or 100 %.

    ``partial``: one list is loaded, so the grants of its years are placed (Répartition keeps
    their figures) and only the others are "QPV non déterminé".
    """

    def check(at, case) -> None:
        expect_shown(at, case)
        if case.page == "pages/home.py":
            assert metric(at, "Part des montants dans un QPV") == "—"
            assert f"Non calculée : {reason}." in captions(at)
        elif case.page == "pages/repartition.py":
            split = table(at, "Localisation").set_index("Localisation")
            shares = list(split.loc[split.index[:3], "Part du total"])
            if partial:
                assert all(s.endswith(f"{NNBSP}%") for s in shares), shares
            else:
                assert shares == ["—"] * 3
            assert f"Localisé, QPV non déterminé — {reason}" in split.index
            assert any(f"non calculé, {reason}" in c for c in captions(at))
        elif case.page == "pages/comparer.py":
            if not partial:
                assert set(compared(at).loc["Part du montant dans un QPV"]) == {"—"}
            assert any(reason in c for c in captions(at))

    return check


def demo_without_qpv(reason: str) -> Callable:
    """Demo data, QPV lists missing: Répartition counts as "Non localisé" only the unplaced."""
    unknown = qpv_unknown(reason)

    def check(at, case) -> None:
        unknown(at, case)
        if case.page == "pages/repartition.py":
            split = table(at, "Localisation").set_index("Localisation")
            assert split.loc["Non localisé", "Projets"] == fmt_int(demo_unlocated())
            label = f"Localisé, QPV non déterminé — {reason}"
            located = demo_count() - demo_unlocated()
            assert split.loc[label, "Projets"] == fmt_int(located)
        elif case.page == "pages/carte.py":
            text = f"{fmt_int(demo_unlocated())} subvention(s) sans localisation (hors carte)."
            assert text in captions(at)

    return check


def imported_all_layers(at, case) -> None:
    """The three imported grants with every layer: 57,1 % in a QPV, by hand."""
    expect_shown(at, case)
    if case.page == "pages/home.py":
        assert metric(at, "Montant engagé") == fmt_eur(17500)
        assert metric(at, "Part des montants dans un QPV") == f"57,1{NNBSP}%"
    elif case.page == "pages/repartition.py":
        split = table(at, "Localisation").set_index("Localisation")
        assert list(split["Montant engagé"]) == [fmt_eur(v) for v in (10000, 0, 5000, 2500)]
        assert list(split["Part du total"]) == [
            f"{p}{NNBSP}%" for p in ("57,1", "0,0", "28,6", "14,3")
        ]
        assert split.index[-1] == "Non localisé"
    elif case.page == "pages/carte.py":
        assert "1 subvention(s) sans localisation (hors carte)." in captions(at)
    elif case.page == "pages/comparer.py":
        lille_roubaix = compared(at)
        assert list(lille_roubaix.columns) == ["Commune – Lille", "Commune – Roubaix"]
        assert list(lille_roubaix.loc["Montant engagé"]) == [fmt_eur(15000), fmt_eur(0)]
        assert list(lille_roubaix.loc["Part du montant dans un QPV"]) == [f"66,7{NNBSP}%", "—"]


def imported_without_qpv(at, case) -> None:
    """The imported grants without QPV layers: 2 located but undetermined, 1 not located."""
    qpv_unknown(BOTH)(at, case)
    if case.page == "pages/repartition.py":
        split = table(at, "Localisation").set_index("Localisation")
        unknown = split.loc[f"Localisé, QPV non déterminé — {BOTH}"]
        assert (unknown["Montant engagé"], unknown["Projets"]) == (fmt_eur(15000), "2")
        assert (unknown["Part du total"]) == f"85,7{NNBSP}%"
        not_located = split.loc["Non localisé"]
        assert (not_located["Montant engagé"], not_located["Projets"]) == (fmt_eur(2500), "1")
        assert not_located["Part du total"] == f"14,3{NNBSP}%"


def nothing_located(count: int, total: float) -> Callable:
    """Grants without any place: the QPV share is not a figure; nothing is lost from totals."""

    def check(at, case) -> None:
        expect_shown(at, case)
        if case.page == "pages/home.py":
            assert metric(at, "Montant engagé") == fmt_eur(total)
            assert metric(at, "Part des montants dans un QPV") == "—"
            assert "Non calculée : aucune subvention localisée." in captions(at)
        elif case.page == "pages/carte.py":
            assert f"{count} subvention(s) sans localisation (hors carte)." in captions(at)
        elif case.page == "pages/repartition.py":
            split = table(at, "Localisation").set_index("Localisation")
            assert split.loc["Non localisé", "Part du total"] == f"100,0{NNBSP}%"
            assert split.loc["Non localisé", "Projets"] == str(count)

    return check


def one_row_in_qpv(at, case) -> None:
    """?qpv=dans_qpv on the imported grants keeps exactly Alpha (10 000 €, in QPV A)."""
    expect_shown(at, case)
    if case.page == "pages/home.py":
        assert metric(at, "Montant engagé") == fmt_eur(10000)
        assert metric(at, "Part des montants dans un QPV") == f"100,0{NNBSP}%"
        assert not at.dataframe  # the table equivalent to the map is folded until opened
        at.session_state["home_table_open"] = True
        at.run()
        places = table(at, "Bénéficiaire(s)")
        assert places[["Bénéficiaire(s)", "Subventions"]].values.tolist() == [
            ["Atelier Alpha", "1"]
        ]
        assert places["Montant total"].tolist() == [fmt_eur(10000)]
    elif case.page == "pages/carte.py":
        selection = [m.value for m in at.markdown if "sélectionnée" in m.value]
        assert selection == [f"**1 subvention** sélectionnée, **{fmt_eur(10000)}** engagés"]
        assert not at.dataframe  # the table is folded: built only when opened
        at.session_state["carte_table_open"] = True
        at.run()
        assert table(at, "Identifiant")["Bénéficiaire"].tolist() == ["Atelier Alpha"]
    elif case.page == "pages/repartition.py":
        split = table(at, "Localisation").set_index("Localisation")
        assert split.loc["Dans un QPV", "Part du total"] == f"100,0{NNBSP}%"


def share_in_qpv(first: int, last: int) -> Callable:
    """Every list the years need is loaded: Accueil gives the share, computed from the CSVs."""

    def check(at, case) -> None:
        expect_shown(at, case)
        if case.page == "pages/home.py":
            expected = fmt_pct(demo_share_in_qpv(first, last))
            assert metric(at, "Part des montants dans un QPV") == expected

    return check


def one_list_only(reason: str | None) -> Callable:
    """Grants of 2021-2023 need the 2015 list only: a figure with it, "—" without it."""
    return qpv_unknown(reason) if reason else share_in_qpv(2021, 2023)


# --- the matrix ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    page: str
    state: str
    query: dict = field(default_factory=dict)
    check: Callable = expect_shown

    @property
    def id(self) -> str:
        view = "&".join(f"{k}={v}" for k, v in self.query.items()) or "sans_filtre"
        return f"{Path(self.page).stem}-{self.state}-{view}"


def cases() -> list[Case]:
    out: list[Case] = []
    default_checks = {
        "aucune_couche": demo_without_qpv(BOTH),
        "communes": demo_without_qpv(BOTH),
        "sans_qpv": demo_without_qpv(BOTH),
        "toutes": share_in_qpv(2021, 2026),
        "qpv2015_seule": qpv_unknown("couche QPV non chargée (liste 2024)", partial=True),
        "qpv2024_seule": qpv_unknown("couche QPV non chargée (liste 2015)", partial=True),
        "import": imported_all_layers,
        "import_sans_qpv": imported_without_qpv,
        "import_sans_coord": nothing_located(2, 10000),
    }
    for state, check in default_checks.items():
        for page in PAGES:
            if page in FILTER_PAGES:
                out.append(Case(page, state, {}, check))
            elif state in ("aucune_couche", "toutes", "import", "import_sans_coord"):
                out.append(Case(page, state))  # pages without filters: each kind of data
    comparer = {"territoires": "commune:59350,commune:59512"}  # Lille, Roubaix
    views = [
        # (states, URL parameters, expectation)
        (("aucune_couche", "toutes", "import"), {"q": "zzzzzzzz"}, "recherche « zzzzzzzz »"),
        (
            ("sans_qpv", "import"),
            {"montant_min": "999999999"},
            f"montant d'au moins 999{NNBSP}999{NNBSP}999{EURO}",
        ),
        (("aucune_couche", "import_sans_qpv"), {"qpv": "dans_qpv"}, f"dans un QPV — {BOTH}"),
        (("import",), {"communes": "59298"}, "commune Hellemmes"),
        (("import",), {"annees": "2025-2026"}, "années 2025 à 2026"),
        (("import",), {"axes": "4"}, "axe 4"),
    ]
    for states, query, phrase in views:
        for state in states:
            for page in FILTER_PAGES:
                out.append(Case(page, state, query, expect_empty(phrase)))
    for page in FILTER_PAGES:
        out.append(Case(page, "import", {"qpv": "dans_qpv"}, one_row_in_qpv))
        out.append(Case(page, "import", {"q": "Gamma"}, nothing_located(1, 2500)))
        for state, reason in (
            ("qpv2015_seule", None),
            ("qpv2024_seule", "couche QPV non chargée (liste 2015)"),
        ):
            out.append(Case(page, state, {"annees": "2021-2023"}, one_list_only(reason)))
    # Comparer: territories with hand-computed amounts (Lille holds Alpha and Beta).
    out = [
        Case(c.page, c.state, {**c.query, **comparer}, c.check)
        if c.page == "pages/comparer.py" and c.state.startswith("import")
        else c
        for c in out
    ]
    return sorted(out, key=lambda c: list(STATES).index(c.state))  # one data load per state


CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_page_renders_and_says_what_it_shows(case, homes, monkeypatch):
    monkeypatch.setenv("ESS_HOME", str(homes[case.state]))
    at = open_page(case.page, query=case.query)
    assert_renders(at)
    case.check(at, case)


# --- the pages' own options, in the states where they meet a missing layer or no data ----------

NO_QUARTIERS = "Tableau indisponible : couche « Quartiers » non chargée (voir l'onglet « Carte »)."
NO_IRIS = (
    "Tableau indisponible : couche « IRIS et population » non chargée (voir l'onglet « Carte »)."
)


@dataclass(frozen=True)
class Option:
    page: str
    state: str
    widgets: tuple[tuple[str, str, object], ...]  # (element kind, key, value), set in order
    says: str | None = None  # an info message the page must then show

    @property
    def id(self) -> str:
        chosen = "&".join(f"{key}={value}" for _, key, value in self.widgets)
        return f"{Path(self.page).stem}-{self.state}-{chosen}"


STRUCTURES_AND_EXTRAS = (
    ("radio", "carte_mode", "structures"),
    ("multiselect", "carte_extras", ["land", "establishments"]),
)
OPTIONS = [
    *(
        Option("pages/carte.py", state, STRUCTURES_AND_EXTRAS)
        for state in ("aucune_couche", "toutes", "import", "import_sans_coord")
    ),
    Option("pages/repartition.py", "communes", (("radio", "rep_level", "quartier"),), NO_QUARTIERS),
    Option("pages/repartition.py", "communes", (("radio", "rep_level", "iris"),), NO_IRIS),
    *(
        Option(
            "pages/repartition.py",
            state,
            (("radio", "rep_level", level), ("toggle", "rep_per_inhabitant", True)),
        )
        for state in ("toutes", "import_sans_coord")
        for level in ("quartier", "iris")
    ),
    Option(
        "pages/qpv.py",
        "qpv2024_seule",
        (("radio", "qpv_generation", "qpv_2015"),),
        "**QPV (liste 2015) : non disponible.**",
    ),
    Option("pages/qpv.py", "toutes", (("radio", "qpv_view", "p16"),)),
    # None of the three imported grants is of priority 16.
    Option(
        "pages/qpv.py",
        "import",
        (("radio", "qpv_view", "p16"),),
        "Aucune subvention de la priorité 16 à afficher.",
    ),
]


@pytest.mark.parametrize("option", OPTIONS, ids=[o.id for o in OPTIONS])
def test_page_options_render_in_each_state(option, homes, monkeypatch):
    monkeypatch.setenv("ESS_HOME", str(homes[option.state]))
    at = open_page(option.page)
    assert_renders(at)
    for kind, key, value in option.widgets:
        getattr(at, kind)(key=key).set_value(value).run()
        assert_renders(at)
    if option.says:
        assert any(text.startswith(option.says) for text in infos(at)), infos(at)
