"""QPV coverage: funded projects inside and near each priority neighbourhood."""

import streamlit as st

from geo.filters import empty_selection_message
from geo.formatting import fmt_eur, fmt_int, fmt_m
from geo.pagemaps import choropleth_base
from geo.tables import money_table
from geo.territories import layer_vintages, territory_population
from geo.views import coverage_areas, list_coverage
from loaders import config
from pages import shared
from pages.common import layer_notices, sidebar

data = shared.bundle()
shared.page_header(
    "Couverture des quartiers prioritaires (QPV)",
    "Pour chaque QPV : projets financés à l'intérieur et à proximité, montants, euros par "
    "habitant. Les QPV sans projet financé sont signalés.",
    data,
)
filters = sidebar.filters_sidebar(data)
buffer_m = config.qpv_buffer_m()

c1, c2 = st.columns(2)
years = filters.year_bounds()  # the year filter and the roadmap together
default_gen = config.qpv_generation(years[1] if years else 2026)
generation = c1.radio(
    "Liste des QPV",
    ["qpv_2024", "qpv_2015"],
    index=0 if default_gen == "qpv_2024" else 1,
    format_func={"qpv_2024": "Liste 2024 (2024-2026)", "qpv_2015": "Liste 2015 (2021-2023)"}.get,
    horizontal=True,
    key="qpv_generation",
)
view = c2.radio(
    "Projets pris en compte",
    ["tous", "p16"],
    format_func={
        "tous": "Tous les projets filtrés",
        "p16": "Priorité 16 : activités économiques dans les QPV",
    }.get,
    horizontal=True,
    key="qpv_view",
)

grants = shared.filtered_grants(data, filters)
if view == "p16":
    grants = grants[grants["priorite"] == 16]
if grants.empty:
    subject = "Aucune subvention de la priorité 16" if view == "p16" else "Aucune subvention"
    st.info(
        empty_selection_message(filters, data.data.grants, data.layers, subject=subject),
        icon=":material/filter_alt_off:",
    )
qpv = data.layer(generation)
if qpv is None:
    layer_notices.missing_layer(generation, data)
if qpv is None or grants.empty:
    shared.sources_footer(data, [generation, "communes"] if qpv is not None else ["communes"])
    st.stop()

# The population published with the list, else its estimate from the IRIS, named per QPV.
populations = shared.memo(
    "population",
    (data.token, generation),
    lambda: territory_population(data.layers, generation, layer_vintages(data.metas)),
)
codes = qpv["code_qpv"].astype(str)
qpv = qpv.assign(population=codes.map(populations["population"]).astype(float).to_numpy())
coverage = shared.memo(  # once per selection, list and view, not on every rerun
    "qpv_coverage",
    (data.token, tuple(shared.filter_params(filters)), generation, view),
    lambda: list_coverage(grants, data.data.structures, qpv, generation, buffer_m),
)
coverage["population_source"] = (
    coverage["code_qpv"].astype(str).map(populations["population_source"])
)

classed = coverage_areas(qpv, coverage)
if classed is not None:
    # The commune outlines once per data version; the shaded QPV once per selection and view,
    # swapped on the drawn map by st_folium (no rebuild, no remount).
    base = shared.memo(
        "qpv_base",
        (data.token, generation, shared.presentation_mode()),
        lambda: choropleth_base(
            {"communes": data.layer("communes")},
            demo=data.demo,
            large=shared.presentation_mode(),
            fallback=qpv,
        ),
    )
    shaded = shared.memo(
        "qpv_areas",
        (data.token, tuple(shared.filter_params(filters)), generation, view),
        classed.layer,
    )
    shared.swapped_map(base, shaded, key="qpv_map", height=480)
else:
    st.info("Aucun projet financé dans un QPV pour cette sélection.")

# The figures under the map: the map stays on the first screen (issue 11).
without = coverage[coverage["sans_projet"]]
c1, c2, c3 = st.columns(3)
c1.metric("QPV couverts", f"{fmt_int(len(coverage) - len(without))} / {fmt_int(len(coverage))}")
c2.metric("Montant dans les QPV", fmt_eur(coverage["montant_dans"].sum()))
c3.metric("QPV sans projet financé", fmt_int(len(without)))
if len(without):
    st.warning(
        "QPV sans projet financé : " + ", ".join(without["nom_qpv"].astype(str)),
        icon=":material/warning:",
    )

st.subheader("Tableau par QPV")
labels_fr = {
    "nom_qpv": "QPV",
    "code_qpv": "Code",
    "population": "Population",
    "population_source": "Source de la population",
    "projets_dans": "Projets dans le QPV",
    "montant_dans": "Montant dans le QPV",
    "projets_proches": f"Projets à moins de {fmt_m(buffer_m)}",
    "montant_proches": f"Montant à moins de {fmt_m(buffer_m)}",
    "structures_financees_dans": "Structures financées dans le QPV",
    "eur_par_habitant": "Euros par habitant",
}
shown = money_table(coverage.sort_values("montant_dans", ascending=False), labels_fr)
shown.insert(0, "Couvert", coverage["sans_projet"].map({True: "Non – aucun projet", False: "Oui"}))
st.dataframe(shown, hide_index=True, width="stretch", key="qpv_table")
st.caption(
    "Les projets « à moins de " + fmt_m(buffer_m) + " » incluent ceux situés dans le QPV. "
    "Population : celle publiée avec la liste des QPV lorsqu'elle existe, sinon une estimation "
    "à partir des IRIS de la commune du QPV (part de la surface de chaque IRIS comprise dans le "
    "QPV), signalée « estimation (IRIS) »."
)
shared.sources_footer(data, [generation, "communes"])
