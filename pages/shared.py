"""Streamlit glue shared by the pages: cached data bundle, filters in session and URL, banners.

Pages stay thin: they call `bundle()`, `filters_sidebar()`, a `geo/` function, then render.
"""

from __future__ import annotations

import copy
import functools
import hmac
import html
import logging
import math
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import filters as geo_filters
from geo.formatting import fmt_date, fmt_eur, fmt_int, fmt_m, fmt_pct
from geo.indicators import key_figures
from geo.maps import layer_switcher
from geo.pagemaps import funded_base, funded_points
from geo.status import loaded_qpv_lists
from geo.tables import FULL_DATA_NOTE, table_page
from loaders import config, provenance
from loaders.datasets import Datasets, load_datasets
from loaders.layers import LayerMeta, fetch_layer, import_layer, load_layers
from loaders.pipeline import Enriched, enriched, warm
from loaders.provenance import LAYER_LABELS
from loaders.staff import AttemptLimiter, GateConfig, gate_config, read_secrets

_log = logging.getLogger("ess.pages")


ALL_FILTERS = (
    "years",
    "axes",
    "priorities",
    "dispositifs",
    "legal_forms",
    "communes",
    "quartiers",
    "qpv_mode",
    "amount",
    "text",
)

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


def presentation_mode() -> bool:
    """Projector mode (?presentation=1): no sidebar, larger type, for public events."""
    return st.query_params.get("presentation") == "1"


def _set_presentation(on: bool | None = None) -> None:
    """Callback of the presentation toggle and of the exit button."""
    if on is None:
        on = bool(st.session_state.get("presentation_toggle"))
    if on:
        st.query_params["presentation"] = "1"
    elif "presentation" in st.query_params:
        del st.query_params["presentation"]


# Styles through Streamlit's internal test ids, only where no public option exists (hiding the
# sidebar and the top bar, the page's padding, metric size, the uploader's English captions).
# tests/browser/test_styling.py and tests/browser/test_presentation.py check each one through
# what the user sees, so a Streamlit release that renames an id fails loudly.
_PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {display: none;}
html {font-size: 20px;}
[data-testid="stMetricValue"] {font-size: 3rem;}
</style>"""

# The scenes of pages/presentation.py use the whole screen: no top bar (its menu is of no use to
# an audience), little padding, a smaller title than a page's.
_SCENE_CSS = """<style>
[data-testid="stHeader"] {display: none;}
[data-testid="stMainBlockContainer"] {padding: 0.6rem 1.5rem 0.4rem 1.5rem; max-width: none;}
[data-testid="stMain"] h1 {font-size: 1.9rem; padding: 0;}
[data-testid="stMetricValue"] {font-size: 2.6rem;}
.ess-scene-sources {font-size: 0.6rem; line-height: 1.3; color: #4a4a4a; margin: 0;}
</style>"""


# Streamlit's file uploader has English captions and no option to translate them.
_FRENCH_UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button p {font-size: 0;}
[data-testid="stFileUploaderDropzone"] button p::after {content: "Choisir un fichier";
  font-size: 0.875rem;}
[data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0;}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "ou déposer ici · 50 Mo maximum"; font-size: 0.8rem;}
</style>"""


# One small script shared by every page, through the public components API (it runs in the app's
# document, not in an iframe): declares the document French (Streamlit's index.html says
# lang="en"); on the presentation's scenes it also turns the speaker's keys into moves and
# reports the window's size, so that a scene's map or chart fills the screen without scrolling.
# Keys typed in a field (text, number, select, slider, tabs) are left to the field.
_DOCUMENT_JS = """
export default function (component) {
  const { data, setTriggerValue, setStateValue } = component;
  document.documentElement.lang = "fr";
  const options = data || {};
  const previous = window.__essDocumentCleanup;
  if (previous) previous();
  const cleanups = [];
  if (options.moves) {
    const FIELDS = 'input, textarea, select, [contenteditable=""], [contenteditable="true"], ' +
      '[role="slider"], [role="combobox"], [role="listbox"], [role="textbox"], ' +
      '[role="spinbutton"], [role="tab"], [role="grid"]';
    const typing = (event) => {
      const target = (event.composedPath && event.composedPath()[0]) || event.target;
      return !!(target && target.closest && (target.closest(FIELDS) || target.isContentEditable));
    };
    const onKey = (event) => {
      if (event.defaultPrevented || event.repeat) return;
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      const move = options.moves[event.key];
      if (!move || typing(event)) return;
      event.preventDefault();
      setTriggerValue("move", move);
    };
    document.addEventListener("keydown", onKey);
    cleanups.push(() => document.removeEventListener("keydown", onKey));
  }
  if (options.viewport) {
    let last = "";
    let timer = null;
    const report = () => {
      const size = { width: window.innerWidth, height: window.innerHeight };
      const text = size.width + "x" + size.height;
      if (text !== last) {
        last = text;
        setStateValue("viewport", size);
      }
    };
    const onResize = () => {
      clearTimeout(timer);
      timer = setTimeout(report, 300);
    };
    report();
    window.addEventListener("resize", onResize);
    cleanups.push(() => window.removeEventListener("resize", onResize));
  }
  const cleanup = () => {
    cleanups.forEach((f) => f());
    cleanups.length = 0;
  };
  window.__essDocumentCleanup = cleanup;
  return cleanup;
}
"""
_document_component = st.components.v2.component("ess_document", js=_DOCUMENT_JS)


def document_hooks(
    moves: dict[str, str] | None = None, viewport: bool = False
) -> tuple[str | None, dict | None]:
    """Mounts the document script; returns (the move a key just asked for, the window's size).

    ``moves`` maps KeyboardEvent.key names to moves (geo.scenes.KEY_MOVES); ``viewport`` asks
    for the window's size (None until the browser has reported it).
    """
    callbacks = {}
    if moves:
        callbacks["on_move_change"] = _ignore
    if viewport:
        callbacks["on_viewport_change"] = _ignore
    result = _document_component(
        key="ess_document",
        data={"moves": moves or {}, "viewport": viewport},
        height=0,
        **callbacks,
    )
    move = getattr(result, "move", None) if moves else None
    size = getattr(result, "viewport", None) if viewport else None
    return move, size if isinstance(size, dict) else None


def _ignore() -> None:
    """A component's value is read from its result; Streamlit wants a callback to send it."""


def chart_text_scale() -> float:
    """Charts' text size relative to a page's: larger on a projector (presentation mode)."""
    return 1.5 if presentation_mode() else 1.0


def presentation_styles(scene: bool = False) -> None:
    """The projector's styles: no sidebar, larger type; a scene also gets the whole screen."""
    st.html(_PRESENTATION_CSS + (_SCENE_CSS if scene else ""))


def page_header(title: str, intro: str, data: Bundle) -> None:
    """Title, one-line purpose, and the demo banner when fictional data are shown."""
    st.html(_FRENCH_UPLOADER_CSS)
    document_hooks()
    if presentation_mode():
        presentation_styles()
    st.title(title)
    st.caption(intro)
    if data.demo:
        st.warning(DEMO_TEXT, icon=":material/info:")


def missing_layer(name: str, data: Bundle) -> None:
    """Says which layer is missing; staff also get the download and the file import.

    In presentation mode the audience only gets a discreet line (no box, no command).
    """
    meta = data.metas.get(name)
    reason = meta.reason if meta and meta.reason else "couche non chargée"
    label = LAYER_LABELS.get(name, name)
    if presentation_mode():
        not_loaded([name])
        return
    if not staff_can_write():
        st.info(
            f"**{label} : non disponible.** Un agent de la Ville peut la charger depuis la page "
            "« Données et sources ».",
            icon=":material/layers_clear:",
        )
        return
    st.info(
        f"**{label} : non disponible.** {escape_markdown(reason)}\n\n"
        "Téléchargez-la depuis la source officielle (accès Internet), ou importez le fichier "
        "ci-dessous (GeoJSON, GeoPackage, Shapefile zippé, KML).",
        icon=":material/layers_clear:",
    )
    fetch_button(name, key=f"fetch_{name}")
    layer_upload(name, key=f"upload_{name}")


def missing_layers(names: list[str], data: Bundle) -> None:
    """The missing ones among `names`, folded in one expander to put under the map.

    The map stays on the first screen; the expander's title says what is missing, its content
    is missing_layer's (the reason, and for staff the download and the file import).
    """
    absent = [n for n in dict.fromkeys(names) if data.layer(n) is None]
    if not absent:
        return
    if presentation_mode():
        not_loaded(absent)
        return
    labels = ", ".join(LAYER_LABELS.get(n, n) for n in absent)
    with st.expander(f"Non disponible : {labels}", icon=":material/layers_clear:"):
        for name in absent:
            missing_layer(name, data)


def not_loaded(names: list[str]) -> None:
    """One discreet line naming the layers that are not loaded (presentation mode)."""
    if names:
        labels = ", ".join(LAYER_LABELS.get(n, n) for n in names)
        st.caption(f"Non chargé : {labels}.")


def fetch_button(name: str, key: str) -> None:
    """Button fetching one layer from its official source; a stale fallback counts as failure."""
    if not staff_can_write() or not st.button("Télécharger depuis la source officielle", key=key):
        return
    with st.spinner("Téléchargement…"):
        try:
            _, meta = fetch_layer(name)
        except Exception as exc:  # noqa: BLE001 - the message is shown, nothing is lost
            _log.exception("fetch of layer %s failed", name)
            st.error(f"Échec du téléchargement : {escape_markdown(str(exc))}")
            return
    if meta.rows and not meta.warning:
        warm()  # the enrichment for the new layer, built now rather than on the next page
        st.rerun()
    st.error(escape_markdown(meta.warning or meta.reason or "Source officielle injoignable."))


def layer_upload(name: str, key: str) -> None:
    """File importer for one reference layer (staff only); the file is parsed, never executed."""
    if not staff_can_write():
        return
    upload = st.file_uploader(
        f"Importer la couche « {LAYER_LABELS.get(name, name)} »",
        type=["geojson", "json", "gpkg", "zip", "kml", "csv"],
        key=key,
    )
    if upload is None:
        return
    suffix = Path(upload.name).suffix
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{Path(upload.name).stem}{suffix}"
        path.write_bytes(upload.getvalue())
        try:
            _, meta = import_layer(name, path)
        except Exception as exc:  # noqa: BLE001 - the message is shown to the user
            _log.info("layer upload %s refused: %s", name, exc)
            st.error(
                f"Import impossible de « {escape_markdown(upload.name)} » : "
                f"{escape_markdown(str(exc))}"
            )
            return
        warm()  # the enrichment for the new layer, built now rather than on the next page
    st.success(
        f"Couche importée : {fmt_int(meta.rows)} entités depuis « {escape_markdown(upload.name)} »."
    )
    st.rerun()


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
        st.button("Quitter le mode présentation", on_click=_set_presentation, args=(False,))


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


def _options(series: pd.Series) -> list[str]:
    return sorted({str(v) for v in series.dropna() if str(v).strip()})


def _on_filter_change(field: str, wkey: str, full_years: tuple[int, int] | None = None) -> None:
    """Widget callback: copy the widget's new value into the shared Filters (and the URL).

    Runs before the rerun, so the next run seeds every widget from the updated Filters.
    """
    value = st.session_state.get(wkey)
    if field == "years":
        value = None if value is None or tuple(value) == full_years else tuple(value)
    current = current_filters()
    # A new roadmap or period resets the years.
    extra = {"years": None} if field in ("roadmap", "period") else {}
    set_filters(geo_filters.Filters(**{**current.__dict__, field: value, **extra}))


def filters_sidebar(data: Bundle, fields: tuple[str, ...] = ALL_FILTERS) -> geo_filters.Filters:
    """Sidebar widgets for the shared filters; every change goes to session state and the URL.

    The shared Filters are the single source of truth: each run seeds every widget from them, and
    each widget's on_change callback writes back into them. Widget keys alone would not do:
    Streamlit forgets a page's widget values when another page is opened.
    """
    current = current_filters()
    grants = data.data.grants
    strategy = config.strategy()
    side = st.sidebar
    side.header("Filtres")
    years_all = sorted(int(y) for y in pd.to_numeric(grants["annee"], errors="coerce").dropna())
    lo, hi = (min(years_all), max(years_all)) if years_all else tuple(strategy["periode"])

    def seed(field: str, value, **extra) -> dict:
        wkey = f"flt_{field}"
        st.session_state[wkey] = value
        return {"key": wkey, "on_change": _on_filter_change, "args": (field, wkey), **extra}

    placeholder = {"placeholder": "Tous"}
    first_plan, last_plan = geo_filters.PERIODS[geo_filters.DEFAULT_PERIOD][1]
    outside = bool(years_all) and (years_all[0] < first_plan or years_all[-1] > last_plan)
    if ("years" in fields or "roadmap" in fields) and (
        outside or current.period != geo_filters.DEFAULT_PERIOD
    ):
        # Only when some grant lies outside the strategy (issue 9: kept, flagged hors période).
        periods = {k: label for k, (label, _) in geo_filters.PERIODS.items()}
        side.radio(
            "Période", list(periods), format_func=periods.get, **seed("period", current.period)
        )
        bounds = geo_filters.PERIODS[current.period][1]
        if bounds:  # the year slider stays within the chosen period
            lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    if "years" in fields or "roadmap" in fields:
        roadmaps = {"": "Toute la stratégie", **{k: k for k in geo_filters.ROADMAPS}}
        side.radio(
            "Feuille de route",
            list(roadmaps),
            format_func=roadmaps.get,
            horizontal=True,
            **seed("roadmap", current.roadmap or ""),
        )
        if current.roadmap:  # the year slider stays within the chosen roadmap
            first, last = geo_filters.ROADMAPS[current.roadmap]
            lo, hi = max(lo, first), min(hi, last)
    if "years" in fields and lo < hi:
        chosen = current.years or (lo, hi)
        chosen = (max(lo, min(hi, chosen[0])), min(hi, max(lo, chosen[1])))
        args = seed("years", chosen)
        args["args"] = ("years", args["key"], (lo, hi))
        side.slider("Années", lo, hi, **args)
    if "axes" in fields:
        axes = {a["numero"]: f"Axe {a['numero']} – {a['intitule_court']}" for a in strategy["axes"]}
        side.multiselect(
            "Axes", list(axes), format_func=axes.get, **seed("axes", current.axes), **placeholder
        )
    if "priorities" in fields:
        titles = {
            p["numero"]: f"{p['numero']}. {p['titre']}"
            for a in strategy["axes"]
            for p in a["priorites"]
        }
        side.multiselect(
            "Priorités",
            list(titles),
            format_func=titles.get,
            **seed("priorities", current.priorities),
            **placeholder,
        )
    if "dispositifs" in fields:
        options = _options(geo_filters.dispositif_column(grants))
        side.multiselect(
            "Dispositif d'aide",
            options,
            **seed("dispositifs", [d for d in current.dispositifs if d in options]),
            **placeholder,
        )
    if "legal_forms" in fields and "forme_juridique" in data.data.structures:
        options = _options(data.data.structures["forme_juridique"])
        side.multiselect(
            "Forme juridique",
            options,
            **seed("legal_forms", [f for f in current.legal_forms if f in options]),
            **placeholder,
        )
    communes = data.layer("communes")
    if "communes" in fields and communes is not None:
        names = dict(zip(communes["code"], communes["nom"], strict=False))
        side.multiselect(
            "Commune",
            sorted(names),
            format_func=lambda c: names.get(c, c),
            **seed("communes", [c for c in current.communes if c in names]),
            **placeholder,
        )
    quartiers = data.layer("quartiers")
    if "quartiers" in fields and quartiers is not None:
        names = dict(
            zip(quartiers["code_quartier"].astype(str), quartiers["nom_quartier"], strict=False)
        )
        side.multiselect(
            "Quartier",
            sorted(names, key=lambda c: names[c]),
            format_func=lambda c: names[c],
            **seed("quartiers", [c for c in current.quartiers if c in names]),
            **placeholder,
        )
    if "qpv_mode" in fields:
        modes = geo_filters.QPV_MODES
        side.radio(
            "Quartiers prioritaires",
            list(modes),
            format_func=modes.get,
            **seed("qpv_mode", current.qpv_mode),
        )
    if "amount" in fields:
        c1, c2 = side.columns(2)
        c1.number_input(
            "Montant min. (€)", min_value=0.0, step=500.0, **seed("amount_min", current.amount_min)
        )
        c2.number_input(
            "Montant max. (€)", min_value=0.0, step=500.0, **seed("amount_max", current.amount_max)
        )
    if "text" in fields:
        side.text_input("Recherche (nom, objet)", **seed("text", current.text))
    st.session_state["presentation_toggle"] = presentation_mode()
    side.toggle(
        "Mode présentation (vidéoprojecteur)",
        key="presentation_toggle",
        on_change=_set_presentation,
        help="Masque ce panneau et agrandit les textes ; le lien copié garde ce mode.",
    )
    set_filters(current)  # the URL follows the filters on every page, page switches included
    if not current.is_default() and side.button("Réinitialiser les filtres"):
        set_filters(geo_filters.Filters())
        st.rerun()
    return current


def headline(
    data: Bundle, filters: geo_filters.Filters, grants: pd.DataFrame
) -> tuple[str, dict, float]:
    """(QPV list in force at the end of the selected years, key figures, envelope in euros).

    The figures are computed once per selection, not on every rerun.
    """
    years = filters.year_bounds()  # the year filter and the roadmap together
    qpv_name = config.qpv_generation(years[1] if years else 2026)
    envelope = float(config.strategy()["enveloppe_eur"])
    figures = memo(
        "home_figures",
        (data.token, tuple(filter_params(filters)), qpv_name),
        lambda: key_figures(
            grants,
            data.data.structures,
            data.layer(qpv_name),
            envelope=envelope,
            qpv_lists=loaded_qpv_lists(data.layers),
        ),
    )
    return qpv_name, figures, envelope


def overview_map(
    data: Bundle,
    grants: pd.DataFrame,
    filters: geo_filters.Filters,
    qpv_name: str,
    *,
    key: str,
    height: int,
) -> None:
    """The funded grants over the outlines and the QPV list in force (home page, map scene).

    The outlines once per data version; the selection's points once per filter key, swapped on
    the drawn map (see pages/carte.py).
    """
    large = presentation_mode()
    base = memo(
        "home_base",
        (data.token, qpv_name, large),
        lambda: funded_base(data.layers, show_qpv=(qpv_name,), demo=data.demo, large=large),
    )
    points = memo(
        "home_points",
        (data.token, tuple(filter_params(filters))),
        lambda: funded_points(grants),
    )
    swapped_map(base, points, key=key, height=height)


def key_figure_metrics(figures: dict, envelope: float, per_row: int = 4) -> None:
    """The four headline metrics of geo.indicators.key_figures (home page, first scene).

    ``per_row=2`` lays them out as a 2 × 2 grid (beside a chart on a scene), ``per_row=1`` one
    under the other (beside the home page's map).
    """
    if per_row == 4:
        c1, c2, c3, c4 = st.columns(4)
    elif per_row == 1:
        c1 = c2 = c3 = c4 = st.container()
    else:
        c1, c2 = st.columns(2)
        c3, c4 = st.columns(2)
    c1.metric(
        "Montant engagé",
        fmt_eur(figures["montant_engage"]),
        help=f"Soit {fmt_pct(figures['part_enveloppe_engagee'])} de l'enveloppe de "
        f"{fmt_eur(envelope)}",
    )
    c1.caption(
        f"{fmt_pct(figures['part_enveloppe_engagee'])} de l'enveloppe de {fmt_eur(envelope)}"
    )
    c2.metric("Montant versé", fmt_eur(figures["montant_verse"]))
    c2.caption(f"{fmt_pct(figures['part_enveloppe_versee'])} de l'enveloppe")
    c3.metric("Structures financées", fmt_int(figures["structures_financees"]))
    c3.caption(f"{fmt_int(figures['projets'])} projets financés")
    share = figures["part_montant_dans_qpv"]
    c4.metric("Part des montants dans un QPV", fmt_pct(share))
    if math.isnan(share):
        c4.caption(f"Non calculée : {figures['qpv_inconnu']}.")
    else:
        c4.caption(
            f"{fmt_pct(figures['part_montant_pres_qpv'])} dans un QPV ou à moins de "
            f"{fmt_m(config.qpv_buffer_m())}"
        )


def filtered_grants(data: Bundle, filters: geo_filters.Filters) -> gpd.GeoDataFrame:
    """The enriched grants passing the shared filters."""
    return geo_filters.apply(data.data.grants, data.data.structures, filters)


def _secrets() -> tuple[dict, str | None]:
    """The secrets, or the French reason a secrets file is unreadable (then no secret at all).

    Streamlit treats a malformed secrets.toml like a missing one; the files are parsed here
    first so that the gate can tell them apart, then values come from st.secrets.
    """
    _, error = read_secrets(st.get_option("secrets.files") or [])
    if error:
        _log.error("staff gate closed: %s", error)
        return {}, error
    try:
        return st.secrets.to_dict(), None
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no secrets file at all
        return {}, None


def _gate() -> GateConfig:
    """The staff gate for the current secrets (read on every call: edits apply at once)."""
    return gate_config(*_secrets())


@st.cache_resource(show_spinner=False)
def _limiter() -> AttemptLimiter:
    """One password-attempt limiter for the whole server (all sessions)."""
    return AttemptLimiter()


def _client_key() -> str:
    """Who is guessing: the client's address when Streamlit knows it, else one shared key."""
    address = getattr(st.context, "ip_address", None)
    return address if isinstance(address, str) and address else "session"


def staff_can_write() -> bool:
    """True when this session may write (import, undo, upload or refresh a layer); no widget."""
    gate = _gate()
    if gate.mode == "open":
        return True
    if gate.mode == "auth":
        return bool(getattr(st.user, "is_logged_in", False))
    if gate.mode == "password":
        return bool(st.session_state.get("staff_ok"))
    return False


def require_staff() -> bool:
    """Gate for everything that writes; shows the sign-in (or why writing is closed).

    With `[auth]` in the secrets, staff sign in with the City's identity provider (st.login);
    else with `staff_password`. Without either, the dashboard is in local mode (a workstation or
    an intranet) unless ESS_PUBLIC=1. Anything unreadable or incomplete closes the gate
    (loaders/staff.py). Wrong passwords are slowed down per client address.
    """
    gate = _gate()
    if gate.mode == "open" or staff_can_write():
        return True
    if gate.mode == "closed":
        st.error(gate.reason or "Import fermé.", icon=":material/lock:")
        return False
    if gate.mode == "auth":
        st.info("L'import et la mise à jour des données sont réservés aux agents de la Ville.")
        if st.button("Se connecter", key="staff_login"):
            st.login(gate.provider) if gate.provider else st.login()
        return False
    return _password_form()


def _password_form() -> bool:
    limiter, client = _limiter(), _client_key()
    with st.form("staff_form", clear_on_submit=True, border=False):
        typed = st.text_input("Mot de passe des agents", type="password", key="staff_password")
        sent = st.form_submit_button("Se connecter")
    if not sent or not typed:
        st.info("L'import et la mise à jour des données sont réservés aux agents de la Ville.")
        return False
    wait = limiter.wait_s(client)
    if wait > 0:
        st.error(f"Trop d'essais : réessayez dans {fmt_int(math.ceil(wait))} s.")
        return False
    secrets, _ = _secrets()
    if hmac.compare_digest(typed.encode(), str(secrets.get("staff_password", "")).encode()):
        limiter.succeeded(client)
        st.session_state["staff_ok"] = True
        st.rerun()
    limiter.failed(client)
    _log.warning("wrong staff password from %s", client)
    st.error("Mot de passe incorrect.")
    return False


# --------------------------------------------------------------------------------------------------
# Long tables and downloads: only what the view needs, only when it is asked for
# --------------------------------------------------------------------------------------------------


def folded(label: str, *, key: str):
    """An expander whose content is built only while it is open; None while it is closed.

    A closed expander still runs and sends what it holds: a table folded this way costs the
    browser nothing until asked for (a data grid is the heaviest element of a first screen).
    Opening it reruns the page; it stays open for the session.
    """
    box = st.expander(label, key=key, on_change="rerun")
    return box if box.open else None


def paged_table(
    rows: pd.DataFrame,
    to_table: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    key: str,
    note: str = FULL_DATA_NOTE,
) -> None:
    """A long table a page at a time (geo.tables.table_page), with a page picker under it.

    Only the page's rows are formatted (``to_table``) and sent to the browser; the caption says
    where the full data are (``note``: by default, the download).
    """
    state_key = f"{key}_page"
    # A new selection opens on its first page.
    signature = (len(rows), *(str(rows.index[i]) for i in (0, -1) if len(rows)))
    if st.session_state.get(f"{key}_rows") != signature:
        st.session_state[f"{key}_rows"] = signature
        st.session_state[state_key] = 1
    pager = table_page(len(rows), st.session_state.get(state_key, 1))
    st.dataframe(
        to_table(rows.iloc[pager.start : pager.stop]), hide_index=True, width="stretch", key=key
    )
    caption = pager.caption(note)
    if caption:
        st.caption(caption)
        st.session_state[state_key] = pager.page  # clamped: the selection may have shrunk
        st.columns([1, 4])[0].number_input(
            f"Page du tableau (sur {fmt_int(pager.pages)})",
            min_value=1,
            max_value=pager.pages,
            step=1,
            key=state_key,
        )


def lazy_download(
    container, label: str, build: Callable[[], bytes], *, file_name: str, mime: str, key: str
) -> None:
    """A download button whose file is built when clicked, not on every rerun.

    ``build`` runs in Streamlit's worker thread (no Streamlit call inside); it should read the
    shared cached data rather than hold a copy, so an idle session keeps no file in memory.
    Clicking does not rerun the page.
    """
    container.download_button(
        label,
        functools.partial(_built_download, build, file_name),
        file_name=file_name,
        mime=mime,
        key=key,
        on_click="ignore",
    )


def _built_download(build: Callable[[], bytes], file_name: str) -> bytes:
    """The file, or a French text saying it failed (details in the server log, never shown)."""
    try:
        return build()
    except Exception as exc:  # noqa: BLE001 - the user gets a French message in the file
        reference = uuid.uuid4().hex[:8]
        _log.error("download %s failed, reference %s", file_name, reference, exc_info=exc)
        return (
            f"Export impossible : une erreur inattendue a empêché de préparer « {file_name} ». "
            f"Réessayez, ou transmettez la référence {reference} à l'équipe du tableau de bord.\n"
        ).encode()
