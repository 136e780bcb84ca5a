"""Home: the strategy's key figures for the current filters, a small map, the sources."""

import streamlit as st

from geo.filters import empty_selection_message
from geo.formatting import fmt_int, fmt_pct
from geo.pagemaps import grants_points
from geo.status import located
from geo.tables import location_table
from loaders.provenance import LAYER_LABELS
from pages import shared
from pages.common import layer_notices, overview, sidebar, tables

data = shared.bundle()
shared.page_header(
    "Économie sociale et solidaire à Lille, Hellemmes et Lomme",
    "Suivi de la stratégie ESS 2021-2026 (délibération du 23/06/2021) : subventions, "
    "structures financées, quartiers prioritaires et accès au foncier.",
    data,
)
filters = sidebar.filters_sidebar(data)
grants = shared.filtered_grants(data, filters)
qpv_name, figures, envelope = overview.headline(data, filters, grants)
qpv = data.layer(qpv_name)

if grants.empty:
    st.info(
        empty_selection_message(filters, data.data.grants, data.layers),
        icon=":material/filter_alt_off:",
    )
else:
    # The key figures beside the map, so that both are on the first screen (issue 11).
    figures_col, map_col = st.columns([1, 2], gap="medium")
    with figures_col:
        overview.key_figure_metrics(figures, envelope, per_row=1)
        if qpv is not None:
            st.caption(
                f"**{fmt_int(figures['nb_qpv_avec_projet'])} QPV sur "
                f"{fmt_int(figures['nb_qpv'])}** ({fmt_pct(figures['part_qpv_avec_projet'])}) "
                f"comptent au moins un projet financé (liste {qpv_name[-4:]})."
            )
    with map_col:
        overview.overview_map(data, grants, filters, qpv_name, key="home_map", height=520)

if not grants.empty:
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
    table_box = tables.folded("Tableau équivalent à la carte", key="home_table_open")
    if table_box is not None:
        places = shared.memo(
            "home_places",
            (data.token, tuple(shared.filter_params(filters))),
            lambda: grants_points(grants),
        )
        with table_box:
            tables.paged_table(
                places,
                location_table,
                key="home_table",
                note="le détail par subvention est sur la page « Carte des structures financées »",
            )
# Under the map and folded: the map stays on the first screen (issue 11).
missing = [name for name, gdf in data.layers.items() if gdf is None or len(gdf) == 0]
if shared.presentation_mode():
    layer_notices.not_loaded(missing)
elif missing:
    with st.expander(f"{len(missing)} couche(s) de référence manquante(s)", expanded=False):
        for name in missing:
            meta = data.metas.get(name)
            st.markdown(
                f"- **{LAYER_LABELS.get(name, name)}** : "
                f"{meta.reason if meta and meta.reason else 'non chargée'}"
            )
        st.markdown(
            "Pour les obtenir : `python -m loaders sync` (sources officielles, accès Internet) "
            "ou la page « Données et sources » pour importer un fichier."
        )

shared.sources_footer(data, ["communes", "quartiers", qpv_name])
