"""The overview shared by Accueil and the presentation's scenes: key figures and the funded map."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from geo import filters as geo_filters
from geo.formatting import fmt_eur, fmt_int, fmt_m, fmt_pct
from geo.indicators import key_figures
from geo.pagemaps import funded_base, funded_points
from geo.status import loaded_qpv_lists
from loaders import config
from pages.common.document import presentation_mode
from pages.shared import Bundle, filter_params, memo, swapped_map


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
