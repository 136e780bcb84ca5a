"""Streamlit glue shared by the pages: cached data bundle, filters in session and URL, banners.

Pages stay thin: they call `bundle()`, `sidebar.filters_sidebar()`, a `geo/` function, then render.
"""

from __future__ import annotations

import copy
import html
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from geo import filters as geo_filters
from geo.formatting import fmt_date
from geo.maps import layer_switcher
from loaders import config, provenance
from loaders.datasets import Datasets, load_datasets
from loaders.layers import LayerMeta, load_layers
from loaders.pipeline import Enriched, enriched
from pages.common.document import page_styles, presentation_mode, set_presentation

_log = logging.getLogger("ess.pages")


DEMO_TEXT = (
    "**Données fictives de démonstration.** Les structures, subventions et sites affichés sont "
    "inventés pour présenter l'outil ; ils ne décrivent aucune structure réelle. Importez vos "
    "données depuis la page « Importer des données »."
)


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def escape_markdown(text: object) -> str:
    """User text (file names, column names, cell values) shown as text, never as Markdown/HTML.

    Every Markdown punctuation mark gets a backslash, so `![x](a.png)`, `<img …>`, `**`, and
    Streamlit's `:color[…]` or `:material/…:` directives all display literally.
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


def show_unexpected_error(exc: BaseException) -> None:
    """A French message with a short reference; the traceback goes to the server log only."""
    reference = uuid.uuid4().hex[:8]
    _log.error("unexpected error, reference %s", reference, exc_info=exc)
    st.error(
        "Une erreur inattendue empêche d'afficher cette page. Réessayez, changez les filtres, ou "
        f"transmettez la référence **{reference}** à l'équipe du tableau de bord.",
        icon=":material/error:",
    )


@dataclass
class Bundle:
    """Everything a page reads: reference layers, datasets and their enrichment."""

    layers: dict[str, gpd.GeoDataFrame | None]
    metas: dict[str, LayerMeta]
    datasets: Datasets
    data: Enriched
    token: str  # changes whenever a cached layer or the store changes on disk

    @property
    def demo(self) -> bool:
        return self.datasets.demo

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        return self.layers.get(name)


@st.cache_resource(show_spinner="Chargement des données…", max_entries=2)
def _load_bundle(token: str) -> Bundle:
    """Loads and enriches once per on-disk state; `token` changes when a file changes."""
    loaded = load_layers()
    layers = {name: gdf for name, (gdf, _) in loaded.items()}
    metas = {name: meta for name, (_, meta) in loaded.items()}
    datasets = load_datasets()
    return Bundle(layers, metas, datasets, enriched(datasets, loaded), token)


@st.cache_resource(max_entries=64, show_spinner=False)
def _memo(name: str, key: tuple, _build: Callable[[], object]) -> object:
    return _build()


def memo(name: str, key: tuple, build: Callable[[], object]) -> object:
    """Builds a map once per data version and view, not on every rerun; returns a copy of it.

    `key` must identify everything the map depends on: the data token, the filters' URL form and
    the page options. st_folium alters the map it renders, so each run gets its own deep copy
    (about 2 ms) and the cached original stays pristine.
    """
    return copy.deepcopy(_memo(name, key, build))


def swapped_map(base: object, selection: object, *, key: str, height: int) -> None:
    """Draws a map whose selection is swapped on it: ``base`` (memoised per data version and
    view) is sent and mounted once; ``selection`` (a folium FeatureGroup memoised per filter
    key) is replaced on the drawn map when it changes, with the layer switcher listing both."""
    st_folium(
        base,
        height=height,
        use_container_width=True,
        returned_objects=[],
        key=key,
        feature_group_to_add=selection,
        layer_control=layer_switcher(),
    )


def filter_params(filters: geo_filters.Filters) -> list[tuple[str, str]]:
    """The filters as a sorted, hashable list, for cache keys."""
    return sorted(geo_filters.to_query_params(filters).items())


# The dashboard's pages, in menu order: (script, title, icon). app.py builds the navigation
# from this list, and so does _ensure_navigation below, so the two can never disagree.
PAGE_SPECS: tuple[tuple[str, str, str], ...] = (
    ("pages/home.py", "Accueil", ":material/home:"),
    ("pages/carte.py", "Carte des structures financées", ":material/map:"),
    ("pages/qpv.py", "Couverture des QPV", ":material/location_city:"),
    ("pages/repartition.py", "Répartition territoriale", ":material/pie_chart:"),
    ("pages/foncier.py", "Accès au foncier", ":material/domain:"),
    ("pages/comparer.py", "Comparer des territoires", ":material/compare:"),
    ("pages/bilan.py", "Bilan annuel", ":material/summarize:"),
    ("pages/importer.py", "Importer des données", ":material/upload_file:"),
    ("pages/donnees.py", "Données et sources", ":material/dataset:"),
    ("pages/presentation.py", "Présentation (vidéoprojecteur)", ":material/slideshow:"),
)
PRESENTATION_PAGE = "pages/presentation.py"


def app_pages() -> list[st.Page]:
    """The st.Page objects of the dashboard; the home page is the default one.

    With ``?presentation=1`` the app's root opens the presentation's scenes instead, so a
    speaker's link `/?presentation=1&scene=3` needs no page name.
    """
    default = PRESENTATION_PAGE if presentation_mode() else PAGE_SPECS[0][0]
    return [
        st.Page(script, title=title, icon=icon, default=script == default)
        for script, title, icon in PAGE_SPECS
    ]


def configure_page() -> None:
    """Title, favicon and layout of every page (also keeps the tab icon off public font CDNs)."""
    st.set_page_config(
        page_title="ESS Lille – Hellemmes – Lomme",
        page_icon=str(Path(__file__).parent.parent / "static" / "favicon.png"),
        layout="wide",
    )


def mark_navigation() -> None:
    """Called by app.py once it has set up st.navigation, for this session."""
    st.session_state["_navigation_ready"] = True


def _ensure_navigation() -> None:
    """Reruns through app.py when Streamlit ran a page file on its own.

    The client's layout has a `pages/` folder next to app.py. Until some session has called
    st.navigation, a freshly started Streamlit serves the first deep link (say /carte) the
    legacy multipage way: pages/carte.py runs without app.py, so without its navigation and
    page settings. Streamlit documents that calling st.navigation makes it ignore the `pages/`
    directory from then on; so the page declares the real navigation (public API) and reruns
    (st.rerun): the rerun goes through app.py, URL path and query string kept.
    tests/browser/test_deep_link.py opens a deep link first on a fresh server.
    """
    if st.session_state.get("_navigation_ready"):
        return
    configure_page()
    st.navigation(app_pages(), position="hidden")
    st.rerun()


def bundle() -> Bundle:
    """The current data, recomputed only when the cache or the store changed on disk."""
    _ensure_navigation()
    return _load_bundle(config.state_token())


def init_state() -> None:
    """Seeds the shared filters from the URL on a session's first run."""
    if "filters" not in st.session_state:
        st.session_state["filters"] = geo_filters.from_query_params(st.query_params.to_dict())


def current_filters() -> geo_filters.Filters:
    init_state()
    return st.session_state["filters"]


# URL parameters that are not filters but part of the view a copied link must reproduce.
VIEW_PARAMS = ("presentation", "scene", "territoires")


def set_filters(value: geo_filters.Filters) -> None:
    """Keeps session state and the URL in step, so a copied link reproduces the view."""
    st.session_state["filters"] = value
    current = st.query_params.to_dict()
    params = geo_filters.to_query_params(value)
    params.update({k: current[k] for k in VIEW_PARAMS if current.get(k)})
    if dict(current) != params:
        st.query_params.from_dict(params)


def page_header(title: str, intro: str, data: Bundle) -> None:
    """Title, one-line purpose, and the demo banner when fictional data are shown."""
    page_styles()
    st.title(title)
    st.caption(intro)
    if data.demo:
        st.warning(DEMO_TEXT, icon=":material/info:")


def sources_records(data: Bundle, layer_names: list[str]) -> list[dict]:
    """Each source shown on a page, with its producer and last update date (for exports too)."""
    return provenance.sources_records(data.metas, data.datasets.meta, layer_names)


def sources_footer(data: Bundle, layer_names: list[str]) -> None:
    """Licence Ouverte: names each source shown on the page with its last update date."""
    st.divider()
    lines = []
    for record in sources_records(data, layer_names):
        updated = fmt_date(record["mis_a_jour"]) if record["mis_a_jour"] else "non communiquée"
        line = f"- {record['nom']} : {record['producteur']} — mise à jour {updated}"
        if record["recupere"]:
            line += f" (récupérée le {fmt_date(record['recupere'])})"
        lines.append(line)
    st.caption("**Sources** (Licence Ouverte 2.0 sauf mention contraire)\n" + "\n".join(lines))
    if presentation_mode():
        st.button("Quitter le mode présentation", on_click=set_presentation, args=(False,))


def sources_line(data: Bundle, layer_names: list[str]) -> None:
    """Licence Ouverte on a scene: every source and its last update, in small type at the bottom.

    Drawn with st.html and the dashboard's own class (styled in _SCENE_CSS), every text escaped.
    """
    parts = []
    for record in sources_records(data, layer_names):
        updated = fmt_date(record["mis_a_jour"]) if record["mis_a_jour"] else "date non communiquée"
        parts.append(f"{record['nom']} ({record['producteur']}, {updated})")
    text = "Sources (Licence Ouverte 2.0 sauf mention contraire) : " + " · ".join(parts)
    st.html(f'<p class="ess-scene-sources">{html.escape(text)}</p>')


def filtered_grants(data: Bundle, filters: geo_filters.Filters) -> gpd.GeoDataFrame:
    """The enriched grants passing the shared filters."""
    return geo_filters.apply(data.data.grants, data.data.structures, filters)
