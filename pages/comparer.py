"""Compare 2 to 4 territories (MEL communes, quartiers, QPV) on the same indicators."""

import streamlit as st

from geo import filters as geo_filters
from geo.filters import empty_selection_message
from geo.indicators import compare_territories
from geo.status import loaded_qpv_lists, missing_qpv_lists, qpv_missing_reason
from geo.tables import money_table
from geo.territories import layer_vintages, one_vintage, territory_catalogue
from pages import shared
from pages.common import layer_notices, sidebar

data = shared.bundle()
shared.page_header(
    "Comparer des territoires",
    "Choisissez de 2 à 4 territoires (communes de la MEL, quartiers, QPV) pour comparer les mêmes "
    "indicateurs côte à côte.",
    data,
)
SHOWN = ("years", "axes", "priorities", "dispositifs")
# Only the filters of this sidebar apply (the year slider brings the roadmap and the period);
# others may sit in the URL for the other pages, they are kept there but not applied here.
filters = geo_filters.only(sidebar.filters_sidebar(data, SHOWN), (*SHOWN, "roadmap", "period"))
grants = shared.filtered_grants(data, filters)
active = geo_filters.describe(filters)
st.caption(
    "Filtres appliqués : " + " ; ".join(active) + "."
    if active
    else "Aucun filtre appliqué : toutes les subventions de la période de la stratégie."
)
vintages = layer_vintages(data.metas)
catalogue = shared.memo(  # populations apportioned once per data version
    "territory_catalogue", (data.token,), lambda: territory_catalogue(data.layers, vintages)
)
if catalogue.empty:
    layer_notices.missing_layer("mel_communes", data)
    st.stop()

labels = dict(zip(catalogue["id"], catalogue["libelle"], strict=True))
from_url = [i for i in st.query_params.get("territoires", "").split(",") if i in labels][:4]
defaults = [i for i in catalogue["id"] if i in ("quartier:5", "quartier:2")][:2]
st.session_state["compare_ids"] = from_url or defaults or list(catalogue["id"][:2])


def _to_url() -> None:
    """The chosen territories go into the URL, so a copied link shows the same comparison."""
    st.query_params["territoires"] = ",".join(st.session_state["compare_ids"])


chosen = st.multiselect(
    "Territoires à comparer (2 à 4)",
    list(catalogue["id"]),
    format_func=labels.get,
    max_selections=4,
    placeholder="Choisir des territoires",
    key="compare_ids",
    on_change=_to_url,
)
if len(chosen) < 2:
    st.info("Sélectionnez au moins deux territoires.")
    st.stop()

territories, swapped = one_vintage(catalogue.set_index("id").loc[chosen].reset_index())
establishments = data.layer("ess_establishments")
if establishments is None:
    st.caption(
        "Les établissements de l'ESS (SIRENE) ne sont pas chargés : l'indicateur par "
        "habitant n'est pas calculé. `python -m loaders sync --layer ess_establishments`."
    )
qpv_lists = loaded_qpv_lists(data.layers)
result = compare_territories(territories, establishments, grants, qpv_lists=qpv_lists)
result["libelle"] = territories["libelle"].to_numpy()
result["population_source"] = territories["population_source"].to_numpy()
if establishments is None:  # unknown, not zero
    result[["etablissements_ess", "etablissements_pour_1000_hab"]] = float("nan")
labels = {
    "libelle": "Territoire",
    "population": "Population",
    "population_source": "Source de la population",
    "etablissements_ess": "Établissements ESS",
    "etablissements_pour_1000_hab": "Établissements ESS pour 1 000 hab.",
    "montant_engage": "Montant engagé",
    "projets": "Projets",
    "eur_par_habitant": "Euros par habitant",
    "part_montant_dans_qpv": "Part du montant dans un QPV",
}
if grants.empty:  # the grant rows would only be zeros: say why, keep the territories' own rows
    st.info(
        empty_selection_message(filters, data.data.grants, data.layers),
        icon=":material/filter_alt_off:",
    )
    labels = {
        k: v for k, v in labels.items() if k.startswith(("libelle", "population")) or "etab" in k
    }
table = money_table(result, labels)
st.dataframe(table.set_index("Territoire").T, width="stretch", key="compare_table")
qpv_missing = missing_qpv_lists(grants, qpv_lists)
if qpv_missing and not grants.empty:
    st.caption(
        "Part du montant dans un QPV : « — » lorsqu'un territoire compte une subvention dont le "
        f"QPV ne peut être déterminé, {qpv_missing_reason(qpv_missing)}."
    )
sources = territories[["libelle", "population_source"]].dropna()
st.caption(
    "Les territoires peuvent se recouvrir (un QPV est inclus dans un quartier) : chaque "
    "indicateur est calculé pour le territoire entier, avec les subventions rattachées comme sur "
    "les autres pages. Population : "
    + (" ; ".join(sorted(set(sources["population_source"]))) or "non disponible")
    + (
        " (pour comparer un seul millésime, la population publiée des QPV est remplacée par "
        "son estimation à partir des IRIS)"
        if swapped
        else ""
    )
    + "."
)
shared.sources_footer(
    data, ["mel_communes", "quartiers", "iris", "qpv_2015", "qpv_2024", "ess_establishments"]
)
