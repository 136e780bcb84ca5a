"""Presentation for public events: full-screen scenes a speaker moves through (geo/scenes.py).

→/PageDown/« Suivant » go forward, ←/PageUp/« Précédent » back, Home/End to the first/last
scene. The URL holds the scene and the filters (`/?presentation=1&scene=3&annees=2023`), so a
speaker prepares the sequence in advance and opens the link at the event. Each scene draws with
the same geo/ functions as its page; administrative notices become one discreet line.
"""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo import filters as geo_filters
from geo import scenes, views
from geo.charts import BASE_FONT_PX, bar_by, envelope_chart, priority_rows
from geo.filters import empty_selection_message
from geo.formatting import fmt_eur, fmt_int
from geo.indicators import compare_territories, distribution, envelope_consumption
from geo.pagemaps import land_map
from geo.status import loaded_qpv_lists
from geo.territories import layer_vintages, one_vintage, territory_catalogue, territory_population
from loaders import config
from pages import shared
from pages.common import document, layer_notices, overview

# Text of charts on a projector: twice a page's.
TEXT_SCALE = 1.8
# What a scene needs above and below its map or chart at the presentation's 20 px root font:
# navigation row, title, one caption line, the "not loaded" and sources lines, margins (pixels).
RESERVED_PX = 330
SMALLEST_VIEWPORT = {"width": 1280, "height": 720}


def _go(move: str) -> None:
    """Button callback: the scene after ``move``, written into the URL."""
    index = scenes.step(scenes.index_from_params(st.query_params.to_dict()), move)
    st.query_params[scenes.SCENE_PARAM] = str(index + 1)


def _content_height(viewport: dict | None, extra_px: int = 0) -> int:
    """Pixels left for a scene's map or chart in the window (the smallest screen until known)."""
    height = int((viewport or SMALLEST_VIEWPORT).get("height") or 720)
    return max(260, height - RESERVED_PX - extra_px)


def _navigation(index: int) -> None:
    """« Précédent », n / N, « Suivant », and the way out."""
    count = len(scenes.SCENES)
    prev_col, count_col, next_col, _, exit_col = st.columns(
        [1.4, 0.8, 1.4, 3, 2.2], vertical_alignment="center"
    )
    prev_col.button(
        "Précédent",
        icon=":material/arrow_back:",
        key="scene_previous",
        disabled=index == 0,
        on_click=_go,
        args=("previous",),
        help="Scène précédente (touche ← ou Page précédente)",
    )
    count_col.markdown(f"**Scène {scenes.counter(index, count)}**")
    next_col.button(
        "Suivant",
        icon=":material/arrow_forward:",
        key="scene_next",
        disabled=index == count - 1,
        on_click=_go,
        args=("next",),
        help="Scène suivante (touche → ou Page suivante)",
    )
    if exit_col.button("Quitter la présentation", key="scene_exit"):
        params = geo_filters.to_query_params(shared.current_filters())
        st.switch_page("pages/home.py", query_params=params)


def _nothing(filters: geo_filters.Filters) -> None:
    st.info(
        empty_selection_message(filters, data.data.grants, data.layers),
        icon=":material/filter_alt_off:",
    )


def _figures(height: int) -> list[str]:
    qpv_name, figures, envelope = overview.headline(data, filters, grants)
    if grants.empty:
        _nothing(filters)
        return ["communes", qpv_name]
    left, right = st.columns([2, 3], gap="large")
    with left:
        overview.key_figure_metrics(figures, envelope, per_row=2)
    chart = envelope_chart(
        envelope_consumption(grants, envelope),
        envelope,
        title="Consommation de l'enveloppe" + FICTIF,
        text_scale=TEXT_SCALE,
        height=height + 30,
    )
    right.altair_chart(chart, width="stretch")
    return ["communes", qpv_name]


def _funded_map(height: int) -> list[str]:
    qpv_name, _, _ = overview.headline(data, filters, grants)
    if grants.empty:
        _nothing(filters)
        return ["communes", "quartiers", qpv_name]
    overview.overview_map(data, grants, filters, qpv_name, key="scene_map", height=height)
    st.caption(
        f"{fmt_int(len(grants))} subventions, {fmt_eur(grants['montant'].sum())} engagés"
        + (" — données fictives" if data.demo else "")
    )
    layer_notices.not_loaded([n for n in ("quartiers", qpv_name) if data.layer(n) is None])
    return ["communes", "quartiers", qpv_name]


def _qpv(height: int) -> list[str]:
    qpv_name, _, _ = overview.headline(data, filters, grants)
    qpv = data.layer(qpv_name)
    if qpv is None:
        layer_notices.not_loaded([qpv_name])
        return ["communes"]
    if grants.empty:
        _nothing(filters)
        return [qpv_name, "communes"]
    coverage = shared.memo(  # once per selection and list, not on every key press
        "scene_qpv_coverage",
        (data.token, tuple(shared.filter_params(filters)), qpv_name),
        lambda: views.list_coverage(
            grants, data.data.structures, qpv, qpv_name, config.qpv_buffer_m()
        ),
    )
    without = int(coverage["sans_projet"].sum())
    st.caption(
        f"**{fmt_int(len(coverage) - without)} QPV sur {fmt_int(len(coverage))}** "
        f"(liste {qpv_name[-4:]}) comptent au moins un projet financé ; "
        f"{fmt_eur(coverage['montant_dans'].sum())} engagés dans les QPV"
        + (" — données fictives" if data.demo else "")
    )
    m = shared.memo(
        "scene_qpv",
        (data.token, tuple(shared.filter_params(filters)), qpv_name),
        lambda: views.coverage_map(
            qpv, coverage, data.layer("communes"), demo=data.demo, large=True
        ),
    )
    if m is None:
        st.info("Aucun projet financé dans un QPV pour cette sélection.")
    else:
        st_folium(m, height=height, use_container_width=True, returned_objects=[], key="scene_qpv")
    return [qpv_name, "communes"]


def _territories(height: int) -> list[str]:
    level = "quartier"
    key_col, _, layer_name, _ = views.LEVELS[level]
    layer = data.layer(layer_name)
    if layer is None:
        layer_notices.not_loaded([layer_name])
        return ["communes"]
    if grants.empty:
        _nothing(filters)
        return ["communes", layer_name]
    populations = shared.memo(
        "population",
        (data.token, level),
        lambda: territory_population(data.layers, level, layer_vintages(data.metas)),
    )
    population = populations["population"] if len(populations) else None
    table = distribution(grants, key_col, population)
    names = views.territory_names(layer, level)
    table.insert(0, "territoire", [names.get(str(code), str(code)) for code in table.index])
    m = shared.memo(
        "scene_territories",
        (data.token, tuple(shared.filter_params(filters)), level),
        lambda: views.territory_map(
            layer,
            level,
            table,
            per_inhabitant=False,
            layers=data.layers,
            demo=data.demo,
            large=True,
        ),
    )
    if m is None:
        st.info("Aucun montant à cartographier pour cette sélection.")
    else:
        st_folium(m, height=height, use_container_width=True, returned_objects=[], key="scene_area")
    return ["communes", layer_name, "iris"]


def _priorities(height: int) -> list[str]:
    if grants.empty:
        _nothing(filters)
        return []
    by_priority = priority_rows(distribution(grants, "priorite").reset_index(), config.strategy())
    # Every priority keeps its label: the type shrinks (never below a page's) to fit them all.
    plot_px = height - 110  # chart title and amount axis
    scale = min(TEXT_SCALE, max(1.0, plot_px / len(by_priority) / 1.45 / BASE_FONT_PX))
    chart = bar_by(
        by_priority,
        "priorite",
        "montant_engage",
        "Montant engagé par priorité" + FICTIF,
        text_scale=scale,
        height=height,
        label_limit=round(330 * TEXT_SCALE / scale),
    )
    st.altair_chart(chart, width="stretch")
    return []


def _land(height: int) -> list[str]:
    place_filters = geo_filters.only(filters, geo_filters.PLACE_FIELDS)
    land = geo_filters.apply(data.data.land, None, place_filters)
    friches = data.layer("friches")
    if land.empty:
        st.info("Aucun site foncier à afficher pour cette sélection.", icon=":material/domain:")
    else:
        counts = land["statut"].value_counts()
        supply = f" ; {fmt_int(len(friches))} friches (Cerema)" if friches is not None else ""
        st.caption(
            f"**{fmt_int(len(land))} sites** : {fmt_int(counts.get('disponible', 0))} disponibles, "
            f"{fmt_int(counts.get('attribué', 0))} attribués"
            + supply
            + (" — données fictives" if data.demo else "")
        )
        m = shared.memo(
            "scene_land",
            (data.token, tuple(shared.filter_params(place_filters))),
            lambda: land_map(land, data.layers, friches=friches, demo=data.demo, large=True),
        )
        st_folium(m, height=height, use_container_width=True, returned_objects=[], key="scene_land")
    layer_notices.not_loaded([] if friches is not None else ["friches"])
    return ["friches", "qpv_2024", "quartiers"]


def _compare(height: int) -> list[str]:
    sources = ["mel_communes", "quartiers", "iris", "qpv_2015", "qpv_2024"]
    catalogue = shared.memo(
        "territory_catalogue",
        (data.token,),
        lambda: territory_catalogue(data.layers, layer_vintages(data.metas)),
    )
    if catalogue.empty:
        layer_notices.not_loaded(["mel_communes", "quartiers"])
        return sources
    compare_filters = geo_filters.only(
        filters, ("years", "axes", "priorities", "dispositifs", "roadmap", "period")
    )
    chosen = views.compared_ids(list(catalogue["id"]), st.query_params.get("territoires"))
    territories, _ = one_vintage(catalogue.set_index("id").loc[chosen].reset_index())
    compared = shared.filtered_grants(data, compare_filters)
    result = compare_territories(
        territories, None, compared, qpv_lists=loaded_qpv_lists(data.layers)
    )
    result["territoire"] = territories["libelle"].to_numpy()
    per_inhabitant = result["eur_par_habitant"].notna().any()
    value = "eur_par_habitant" if per_inhabitant else "montant_engage"
    title = "Euros par habitant" if per_inhabitant else "Montant engagé"
    chart = bar_by(
        result[["territoire", value]],
        "territoire",
        value,
        title + FICTIF,
        text_scale=TEXT_SCALE,
        height=min(height, 140 * len(result)),
        value_title=title,
    )
    st.altair_chart(chart, width="stretch")
    return sources


RENDERERS = {
    "figures": _figures,
    "funded_map": _funded_map,
    "qpv": _qpv,
    "territories": _territories,
    "priorities": _priorities,
    "land": _land,
    "compare": _compare,
}

data = shared.bundle()
document.presentation_styles(scene=True)
if not shared.presentation_mode():  # opened from the menu: the link the speaker copies says so
    st.query_params[scenes.PRESENTATION_PARAM] = "1"
filters = shared.current_filters()
shared.set_filters(filters)  # the filters stay in the URL, beside the scene
move, viewport = document.document_hooks(moves=scenes.KEY_MOVES, viewport=True)
index = scenes.index_from_params(st.query_params.to_dict())
if move:
    index = scenes.step(index, move)
st.query_params[scenes.SCENE_PARAM] = str(index + 1)
scene = scenes.SCENES[index]
FICTIF = " (données fictives)" if data.demo else ""
grants = shared.filtered_grants(data, filters)

_navigation(index)
st.title(scene.title)
active = geo_filters.describe(filters)
if active or data.demo:
    st.caption(
        ("**Données fictives de démonstration.** " if data.demo else "")
        + ("Filtres : " + " ; ".join(active) + "." if active else "")
    )
layer_names = RENDERERS[scene.kind](_content_height(viewport))
shared.sources_line(data, layer_names)
