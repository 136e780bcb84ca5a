"""Territorial distribution of spending: by territory, year, axis and priority; the envelope."""

import streamlit as st

from geo.charts import bar_by, envelope_chart, priority_rows, stacked_by_axis
from geo.filters import empty_selection_message
from geo.formatting import fmt_eur, fmt_pct
from geo.indicators import (
    distribution,
    envelope_consumption,
    inside_outside_qpv,
)
from geo.pagemaps import choropleth_base
from geo.status import loaded_qpv_lists, missing_qpv_lists, qpv_missing_reason
from geo.tables import money_table
from geo.territories import layer_vintages, territories_table, territory_population
from geo.views import LEVELS, territory_areas, territory_names
from loaders import config
from loaders.export_territories import SOURCE_LAYERS, export_territories
from loaders.provenance import LAYER_LABELS
from pages import shared
from pages.common import document, layer_notices, sidebar, tables

data = shared.bundle()
shared.page_header(
    "Répartition territoriale des dépenses",
    "Montants engagés et versés par commune, quartier, IRIS, dans ou hors QPV ; par année, axe "
    "et priorité ; par habitant ; consommation de l'enveloppe de la stratégie.",
    data,
)
filters = sidebar.filters_sidebar(data)
FICTIF = " (données fictives)" if data.demo else ""  # charts get copied alone: they say it too
TEXT_SCALE = document.chart_text_scale()
grants = shared.filtered_grants(data, filters)
filter_key = tuple(shared.filter_params(filters))
SOURCES = ["communes", "quartiers", "iris", "qpv_2015", "qpv_2024"]
if grants.empty:
    st.info(
        empty_selection_message(filters, data.data.grants, data.layers),
        icon=":material/filter_alt_off:",
    )
    shared.sources_footer(data, SOURCES)
    st.stop()
envelope = float(config.strategy()["enveloppe_eur"])
qpv_lists = loaded_qpv_lists(data.layers)

scale_col, unit_col = st.columns(2, vertical_alignment="bottom")  # one row: map higher up
level = scale_col.radio(
    "Échelle",
    list(LEVELS),
    format_func={"commune": "Commune", "quartier": "Quartier", "iris": "IRIS"}.get,
    horizontal=True,
    key="rep_level",
)
key_col, _, layer_name, _ = LEVELS[level]
layer = data.layer(layer_name)
vintages = layer_vintages(data.metas)
populations = shared.memo(  # apportioned once per data version, not on every rerun
    "population", (data.token, level), lambda: territory_population(data.layers, level, vintages)
)
population = populations["population"] if len(populations) else None
population_sources = sorted(set(populations["population_source"].dropna()))
# The page's figures once per selection and scale, not on every rerun (deep copies).
figures = shared.memo(
    "rep_figures",
    (data.token, filter_key, level),
    lambda: {
        "table": distribution(grants, key_col, population),
        "qpv_split": inside_outside_qpv(grants, config.qpv_buffer_m(), qpv_lists=qpv_lists),
        "by_year": distribution(grants, "annee").reset_index(),
        "by_year_axis": distribution(grants, ["annee", "axe"]).reset_index(),
        "by_priority": distribution(grants, "priorite").reset_index(),
        "consumption": envelope_consumption(grants, envelope),
    },
)
table = figures["table"]
names = territory_names(layer, level)
table.insert(0, "territoire", [names.get(str(code), str(code)) for code in table.index])

tab_map, tab_table = st.tabs(["Carte", "Tableau"])
with tab_map:
    if layer is None:
        layer_notices.missing_layer(layer_name, data)
    else:
        per_inhabitant = population is not None and unit_col.toggle(
            "Euros par habitant (carte)", key="rep_per_inhabitant"
        )
        classed = territory_areas(layer, level, table, per_inhabitant=per_inhabitant)
        if classed is not None:
            # The outlines once per data version; the classed areas once per selection and
            # view, swapped on the drawn map by st_folium (no rebuild, no remount).
            base = shared.memo(
                "rep_base",
                (data.token, level, shared.presentation_mode()),
                lambda: choropleth_base(
                    data.layers,
                    demo=data.demo,
                    large=shared.presentation_mode(),
                    fallback=layer,
                ),
            )
            shaded = shared.memo(
                "rep_areas",
                (data.token, filter_key, level, classed.value),
                classed.layer,
            )
            shared.swapped_map(base, shaded, key="rep_map", height=480)
        else:
            st.info("Aucun montant à cartographier pour cette sélection.")
with tab_table:
    if layer is None:  # every grant would fall in one meaningless "no territory" row
        st.info(
            f"Tableau indisponible : couche « {LAYER_LABELS.get(layer_name, layer_name)} » "
            "non chargée (voir l'onglet « Carte »).",
            icon=":material/layers_clear:",
        )
    else:
        st.dataframe(
            money_table(
                table,
                {
                    "territoire": "Territoire",
                    "montant_engage": "Montant engagé",
                    "montant_verse": "Montant versé",
                    "projets": "Projets",
                    "part_du_total": "Part du total",
                    "population": "Population",
                    "eur_par_habitant": "Euros par habitant",
                },
            ),
            hide_index=True,
            width="stretch",
            key="rep_table",
        )
        st.caption(
            f"Total : {fmt_eur(table['montant_engage'].sum())}, égal à la somme des subventions "
            "sélectionnées (les subventions non localisées forment une ligne à part). "
            + (
                f"Population : {' ; '.join(population_sources)}"
                + (
                    " (IRIS répartis entre les quartiers de leur commune au prorata de leur "
                    "surface)."
                    if level == "quartier"
                    else "."
                )
                if population_sources
                else "Population non disponible (couche IRIS non chargée)."
            )
        )
        export_sources = shared.sources_records(data, SOURCE_LAYERS[level])

        def territories_file(fmt: str, level: str = level) -> bytes:
            """The territories table of the selection, built when a download is clicked."""
            export = territories_table(
                shared.filtered_grants(data, filters),
                data.layers,
                level,
                vintages=vintages,
                buffer_m=config.qpv_buffer_m(),
            )
            return export_territories(export, fmt, demo=data.demo, sources=export_sources)

        d1, d2 = st.columns(2)
        tables.lazy_download(
            d1,
            "Télécharger le tableau des territoires (CSV)",
            lambda: territories_file("csv"),
            file_name=f"territoires_{level}.csv",
            mime="text/csv",
            key="rep_export_csv",
        )
        tables.lazy_download(
            d2,
            "Télécharger le tableau des territoires (JSON)",
            lambda: territories_file("json"),
            file_name=f"territoires_{level}.json",
            mime="application/json",
            key="rep_export_json",
        )

st.subheader("Dans ou hors des quartiers prioritaires")
qpv_split = figures["qpv_split"]
st.dataframe(
    money_table(
        qpv_split.reset_index(),
        {
            "categorie": "Localisation",
            "montant_engage": "Montant engagé",
            "montant_verse": "Montant versé",
            "projets": "Projets",
            "part_du_total": "Part du total",
        },
    ),
    hide_index=True,
    width="stretch",
    key="rep_qpv_table",
)
qpv_missing = missing_qpv_lists(grants, qpv_lists)
if qpv_missing:
    st.caption(
        f"« — » : non calculé, {qpv_missing_reason(qpv_missing)}. Les subventions localisées dont "
        "le QPV ne peut être déterminé forment une ligne à part ; « Non localisé » ne compte que "
        "les subventions sans localisation."
    )

st.subheader("Par année, axe et priorité")
c1, c2 = st.columns(2)
by_year = figures["by_year"]
c1.altair_chart(
    bar_by(
        by_year,
        "annee",
        "montant_engage",
        "Montant engagé par année" + FICTIF,
        sort_by_value=False,
        text_scale=TEXT_SCALE,
    ),
    width="stretch",
)
by_year_axis = figures["by_year_axis"]
short = {a["numero"]: a["intitule_court"] for a in config.strategy()["axes"]}
c2.altair_chart(
    stacked_by_axis(
        by_year_axis, short, title="Montants par année et par axe" + FICTIF, text_scale=TEXT_SCALE
    ),
    width="stretch",
)
by_priority = priority_rows(figures["by_priority"], config.strategy())  # "P4 · <its name>"
st.altair_chart(
    bar_by(
        by_priority,
        "priorite",
        "montant_engage",
        "Montant engagé par priorité" + FICTIF,
        text_scale=TEXT_SCALE,
    ),
    width="stretch",
)

st.subheader("Consommation de l'enveloppe")
consumption = figures["consumption"]
st.altair_chart(
    envelope_chart(
        consumption, envelope, title="Consommation de l'enveloppe" + FICTIF, text_scale=TEXT_SCALE
    ),
    width="stretch",
)
last = consumption.iloc[-1]
st.caption(
    f"Engagé cumulé : {fmt_eur(last['engage_cumule'])} ({fmt_pct(last['part_enveloppe_engagee'])} "
    f"de l'enveloppe de {fmt_eur(envelope)}) ; versé cumulé : {fmt_eur(last['verse_cumule'])}."
)
st.dataframe(
    money_table(
        consumption.reset_index(),
        {
            "annee": "Année",
            "montant_engage": "Engagé",
            "montant_verse": "Versé",
            "engage_cumule": "Engagé cumulé",
            "verse_cumule": "Versé cumulé",
            "part_enveloppe_engagee": "Part de l'enveloppe engagée",
        },
    ),
    hide_index=True,
    width="stretch",
    key="rep_envelope_table",
)
shared.sources_footer(data, SOURCES)
