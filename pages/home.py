"""Home: the strategy's key figures for the current filters, a small map, the sources."""

import math

import streamlit as st

from geo.filters import empty_selection_message
from geo.formatting import fmt_eur, fmt_int, fmt_m, fmt_pct
from geo.indicators import key_figures
from geo.pagemaps import funded_base, funded_points, grants_points
from geo.status import loaded_qpv_lists, located
from geo.tables import location_table
from loaders import config
from pages import shared

data = shared.bundle()
shared.page_header(
    "Économie sociale et solidaire à Lille, Hellemmes et Lomme",
    "Suivi de la stratégie ESS 2021-2026 (délibération du 23/06/2021) : subventions, "
    "structures financées, quartiers prioritaires et accès au foncier.",
    data,
)
filters = shared.filters_sidebar(data)
grants = shared.filtered_grants(data, filters)
years = filters.year_bounds()  # the year filter and the roadmap together
qpv_name = config.qpv_generation(years[1] if years else 2026)
qpv = data.layer(qpv_name)
envelope = float(config.strategy()["enveloppe_eur"])
figures = shared.memo(  # once per selection, not on every rerun
    "home_figures",
    (data.token, tuple(shared.filter_params(filters)), qpv_name),
    lambda: key_figures(
        grants,
        data.data.structures,
        qpv,
        envelope=envelope,
        qpv_lists=loaded_qpv_lists(data.layers),
    ),
)

if grants.empty:
    st.info(
        empty_selection_message(filters, data.data.grants, data.layers),
        icon=":material/filter_alt_off:",
    )
else:
    c1, c2, c3, c4 = st.columns(4)
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
    if qpv is not None:
        st.caption(
            f"**{fmt_int(figures['nb_qpv_avec_projet'])} QPV sur {fmt_int(figures['nb_qpv'])}** "
            f"({fmt_pct(figures['part_qpv_avec_projet'])}) comptent au moins un projet financé "
            f"(liste {qpv_name[-4:]})."
        )

missing = [name for name, gdf in data.layers.items() if gdf is None or len(gdf) == 0]
if missing:
    with st.expander(f"{len(missing)} couche(s) de référence manquante(s)", expanded=True):
        for name in missing:
            meta = data.metas.get(name)
            st.markdown(
                f"- **{shared.LAYER_LABELS.get(name, name)}** : "
                f"{meta.reason if meta and meta.reason else 'non chargée'}"
            )
        st.markdown(
            "Pour les obtenir : `python -m loaders sync` (sources officielles, accès Internet) "
            "ou la page « Données et sources » pour importer un fichier."
        )

if not grants.empty:
    st.subheader("Carte des subventions")
    # The outlines once per data version; the selection's points once per filter key, swapped
    # on the drawn map (see pages/carte.py).
    base = shared.memo(
        "home_base",
        (data.token, qpv_name, shared.presentation_mode()),
        lambda: funded_base(
            data.layers,
            show_qpv=(qpv_name,),
            demo=data.demo,
            large=shared.presentation_mode(),
        ),
    )
    points = shared.memo(
        "home_points",
        (data.token, tuple(shared.filter_params(filters))),
        lambda: funded_points(grants),
    )
    shared.swapped_map(base, points, key="home_map", height=420)
    unlocated = int((~located(grants)).sum())
    st.caption(
        f"{fmt_int(len(grants))} subventions affichées, regroupées par lieu"
        + (
            f" ; {fmt_int(unlocated)} sans localisation ne figurent pas sur la carte"
            if unlocated
            else ""
        )
        + ". Le détail par subvention est sur la page « Carte des structures financées »."
    )
    with st.expander("Tableau équivalent à la carte"):
        places = shared.memo(
            "home_places",
            (data.token, tuple(shared.filter_params(filters))),
            lambda: grants_points(grants),
        )
        shared.paged_table(
            places,
            location_table,
            key="home_table",
            note="le détail par subvention est sur la page « Carte des structures financées »",
        )
shared.sources_footer(data, ["communes", "quartiers", qpv_name])
