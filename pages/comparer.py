"""Compare 2 to 4 territories (MEL communes, quartiers, QPV) on the same indicators."""

import streamlit as st

from geo.filters import empty_selection_message
from geo.indicators import compare_territories
from geo.status import loaded_qpv_lists, missing_qpv_lists, qpv_missing_reason
from geo.tables import money_table
from geo.territories import territory_catalogue
from pages import shared

data = shared.bundle()
shared.page_header(
    "Comparer des territoires",
    "Choisissez de 2 à 4 territoires (communes de la MEL, quartiers, QPV) pour comparer les mêmes "
    "indicateurs côte à côte.",
    data,
)
filters = shared.filters_sidebar(data, ("years", "axes", "priorities", "dispositifs"))
grants = shared.filtered_grants(data, filters)
catalogue = territory_catalogue(data.layers)
if catalogue.empty:
    shared.missing_layer("mel_communes", data)
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

territories = catalogue.set_index("id").loc[chosen].reset_index()
establishments = data.layer("ess_establishments")
if establishments is None:
    st.caption(
        "Les établissements de l'ESS (SIRENE) ne sont pas chargés : l'indicateur par "
        "habitant n'est pas calculé. `python -m loaders sync --layer ess_establishments`."
    )
qpv_lists = loaded_qpv_lists(data.layers)
result = compare_territories(territories, establishments, grants, qpv_lists=qpv_lists)
result["libelle"] = territories["libelle"].to_numpy()
if establishments is None:  # unknown, not zero
    result[["etablissements_ess", "etablissements_pour_1000_hab"]] = float("nan")
labels = {
    "libelle": "Territoire",
    "population": "Population",
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
    labels = {k: v for k, v in labels.items() if k in ("libelle", "population") or "etab" in k}
table = money_table(result, labels)
st.dataframe(table.set_index("Territoire").T, width="stretch", key="compare_table")
qpv_missing = missing_qpv_lists(grants, qpv_lists)
if qpv_missing and not grants.empty:
    st.caption(
        "Part du montant dans un QPV : « — » lorsqu'un territoire compte une subvention dont le "
        f"QPV ne peut être déterminé, {qpv_missing_reason(qpv_missing)}."
    )
st.caption(
    "Les territoires peuvent se recouvrir (un QPV est inclus dans un quartier) : chaque "
    "indicateur est calculé pour le territoire entier. Population : INSEE (IRIS, RP) pour les "
    "quartiers, populations légales pour les communes, liste des QPV quand elle la publie."
)
shared.sources_footer(
    data, ["mel_communes", "quartiers", "iris", "qpv_2015", "qpv_2024", "ess_establishments"]
)
