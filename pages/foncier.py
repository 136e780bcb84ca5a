"""Land access (priority 7): the City's sites and premises, the friches supply, QPV distance."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import filters as geo_filters
from geo.formatting import fmt_int
from geo.pagemaps import land_map
from geo.tables import land_table
from loaders.export import export_dataset
from pages import shared
from pages.common import layer_notices, sidebar, tables

data = shared.bundle()
shared.page_header(
    "Accès au foncier et aux locaux",
    "Sites et locaux mis à disposition des structures de l'ESS (priorité 7), friches recensées "
    "par le Cerema, et distance aux quartiers prioritaires.",
    data,
)
# Only the filters that mean something for a place apply to land sites.
filters = sidebar.filters_sidebar(data, geo_filters.PLACE_FIELDS)
place_filters = geo_filters.only(filters, geo_filters.PLACE_FIELDS)
land = geo_filters.apply(data.data.land, None, place_filters)
structures = data.data.structures
if place_filters != filters:
    st.caption(
        "Les filtres propres aux subventions (feuille de route, années, axes, priorités, "
        "dispositifs, formes juridiques, montants) ne s'appliquent pas aux sites fonciers."
    )

c1, c2, c3 = st.columns(3)
statuses = c1.multiselect(
    "Statut", sorted(land["statut"].dropna().unique()), key="foncier_statut", placeholder="Tous"
)
kinds = c2.multiselect(
    "Type", sorted(land["type"].dropna().unique()), key="foncier_type", placeholder="Tous"
)
surface = pd.to_numeric(land["surface_m2"], errors="coerce")
max_surface = int(surface.max()) if surface.notna().any() else 0
min_surface = c3.number_input(
    "Surface minimale (m²)",
    min_value=0,
    max_value=max(max_surface, 0),
    step=50,
    key="foncier_surface",
)
shown = land
own = []
if statuses:
    shown = shown[shown["statut"].isin(statuses)]
    own.append("statut " + ", ".join(f"« {s} »" for s in statuses))
if kinds:
    shown = shown[shown["type"].isin(kinds)]
    own.append("type " + ", ".join(f"« {k} »" for k in kinds))
if min_surface:
    shown = shown[pd.to_numeric(shown["surface_m2"], errors="coerce") >= min_surface]
    own.append(f"surface d'au moins {fmt_int(min_surface)} m²")

friches = data.layer("friches")
SOURCES = ["friches", "qpv_2024", "quartiers"]
if shown.empty:
    st.info(
        "Aucun site foncier à afficher : aucun site n'a été importé (page « Importer des "
        "données »)."
        if data.data.land.empty
        else geo_filters.empty_selection_message(
            place_filters,
            data.data.land,
            data.layers,
            subject="Aucun site foncier",
            extra=own,
        ),
        icon=":material/filter_alt_off:",
    )
    layer_notices.missing_layers(["friches"], data)
    shared.sources_footer(data, SOURCES)
    st.stop()

m = shared.memo(  # once per data version and selection, not on every rerun
    "foncier_map",
    (
        data.token,
        tuple(geo_filters.to_query_params(place_filters).items()),
        tuple(sorted(statuses)),
        tuple(sorted(kinds)),
        min_surface,
        shared.presentation_mode(),
    ),
    lambda: land_map(
        shown, data.layers, friches=friches, demo=data.demo, large=shared.presentation_mode()
    ),
)
st_folium(m, height=520, use_container_width=True, returned_objects=[], key="foncier_map")
# The figures and the missing layer under the map: the map stays on the first screen (issue 11).
counts = shown["statut"].value_counts()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Sites affichés", fmt_int(len(shown)))
m2.metric("Disponibles", fmt_int(counts.get("disponible", 0)))
m3.metric("Attribués", fmt_int(counts.get("attribué", 0)))
m4.metric("Friches recensées (Cerema)", fmt_int(len(friches)) if friches is not None else "—")

layer_notices.missing_layers(["friches"], data)
st.subheader("Tableau des sites")
tables.paged_table(shown, lambda rows: land_table(rows, structures), key="foncier_table")
sources = shared.sources_records(data, ["friches", "qpv_2024"])
tables.lazy_download(
    st,
    "Télécharger les sites (CSV pour Excel)",
    lambda: export_dataset(shown, "land", "csv", demo=data.demo, sources=sources),
    file_name="sites_fonciers.csv",
    mime="text/csv",
    key="foncier_csv",
)
shared.sources_footer(data, SOURCES)
