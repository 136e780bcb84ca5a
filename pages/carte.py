"""Funded structures map: the filtered grants on the map, and the same rows in a table."""

import streamlit as st

from geo.filters import empty_selection_message
from geo.formatting import fmt_eur, fmt_int
from geo.pagemaps import funded_base, funded_points
from geo.status import located
from geo.tables import grants_table
from loaders.export import export_dataset
from pages import shared
from pages.common import layer_notices, sidebar, tables

data = shared.bundle()
shared.page_header(
    "Carte des structures financées",
    "Subventions de la stratégie ESS, quartiers prioritaires, quartiers, sites fonciers et "
    "établissements de l'ESS. Le tableau sous la carte contient exactement la sélection affichée.",
    data,
)
filters = sidebar.filters_sidebar(data)
grants = shared.filtered_grants(data, filters)

c1, c2, c3 = st.columns([2, 2, 3])
mode = c1.radio(
    "Points affichés",
    ["grants", "structures"],
    format_func={"grants": "Subventions (par lieu)", "structures": "Structures financées"}.get,
    horizontal=True,
    key="carte_mode",
)
qpv_choice = c2.radio(
    "Liste QPV",
    ["qpv_2024", "qpv_2015"],
    format_func={"qpv_2024": "QPV 2024", "qpv_2015": "QPV 2015"}.get,
    horizontal=True,
    key="carte_qpv",
)
extras = c3.multiselect(
    "Couches supplémentaires",
    ["land", "establishments"],
    format_func={"land": "Sites fonciers", "establishments": "Établissements ESS (SIRENE)"}.get,
    key="carte_extras",
    placeholder="Aucune",
)
# Missing layers are said under the map, folded: the map stays on the first screen (issue 11).
NEEDED = [qpv_choice, "quartiers", *(["ess_establishments"] if "establishments" in extras else [])]

if grants.empty:
    st.info(
        empty_selection_message(filters, data.data.grants, data.layers),
        icon=":material/filter_alt_off:",
    )
    layer_notices.missing_layers(NEEDED, data)
    shared.sources_footer(data, ["communes", "quartiers", qpv_choice])
    st.stop()

establishments = data.layer("ess_establishments") if "establishments" in extras else None
other_qpv = "qpv_2015" if qpv_choice == "qpv_2024" else "qpv_2024"
filter_key = tuple(shared.filter_params(filters))
# The base (outlines, extra layers) once per data version and view; the selection's points once
# per filter key, swapped on the drawn map by st_folium without rebuilding or remounting it.
base = shared.memo(
    "carte_base",
    (data.token, qpv_choice, tuple(sorted(extras)), shared.presentation_mode()),
    lambda: funded_base(
        data.layers,
        land=data.data.land if "land" in extras else None,
        establishments=establishments,
        show_qpv=(qpv_choice, other_qpv),
        demo=data.demo,
        large=shared.presentation_mode(),
    ),
)
points = shared.memo(
    "carte_points",
    (data.token, filter_key, mode),
    lambda: funded_points(
        grants, structures=data.data.structures if mode == "structures" else None
    ),
)
shared.swapped_map(base, points, key="carte_map", height=560)
layer_notices.missing_layers(NEEDED, data)

total = grants["montant"].sum()
selected = "subvention** sélectionnée" if len(grants) == 1 else "subventions** sélectionnées"
st.markdown(
    f"**{fmt_int(len(grants))} {selected}, **{fmt_eur(total)}** engagés"
    + (" — *données fictives*" if data.demo else "")
)
unlocated = int((~located(grants)).sum())
if unlocated:
    st.caption(f"{fmt_int(unlocated)} subvention(s) sans localisation (hors carte).")

# Folded: the data grid is built when asked for, so the map is drawn first (issue 12).
table_box = tables.folded("Tableau de la sélection", key="carte_table_open")
if table_box is not None:
    with table_box:
        tables.paged_table(grants, grants_table, key="carte_table")

sources = shared.sources_records(data, ["communes", "quartiers", qpv_choice])


def selection_file(fmt: str) -> bytes:
    """The selection's export, built when a download button is clicked (worker thread)."""
    chosen = shared.filtered_grants(data, filters)
    return export_dataset(chosen, "grants", fmt, demo=data.demo, sources=sources)


d1, d2 = st.columns(2)
tables.lazy_download(
    d1,
    "Télécharger la sélection (CSV pour Excel)",
    lambda: selection_file("csv"),
    file_name="subventions_selection.csv",
    mime="text/csv",
    key="carte_csv",
)
tables.lazy_download(
    d2,
    "Télécharger la sélection (GeoJSON)",
    lambda: selection_file("geojson"),
    file_name="subventions_selection.geojson",
    mime="application/geo+json",
    key="carte_geojson",
)
shared.sources_footer(data, ["communes", "quartiers", qpv_choice, "ess_establishments"])
