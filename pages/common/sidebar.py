"""The sidebar of shared filters: widgets seeded from the shared Filters, written back on change."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo import filters as geo_filters
from loaders import config
from pages.common.document import presentation_mode, set_presentation
from pages.shared import Bundle, current_filters, set_filters

ALL_FILTERS = (
    "years",
    "axes",
    "priorities",
    "dispositifs",
    "legal_forms",
    "communes",
    "quartiers",
    "qpv_mode",
    "amount",
    "text",
)


def _options(series: pd.Series) -> list[str]:
    return sorted({str(v) for v in series.dropna() if str(v).strip()})


def _on_filter_change(field: str, wkey: str, full_years: tuple[int, int] | None = None) -> None:
    """Widget callback: copy the widget's new value into the shared Filters (and the URL).

    Runs before the rerun, so the next run seeds every widget from the updated Filters.
    """
    value = st.session_state.get(wkey)
    if field == "years":
        value = None if value is None or tuple(value) == full_years else tuple(value)
    current = current_filters()
    # A new roadmap or period resets the years.
    extra = {"years": None} if field in ("roadmap", "period") else {}
    set_filters(geo_filters.Filters(**{**current.__dict__, field: value, **extra}))


def filters_sidebar(data: Bundle, fields: tuple[str, ...] = ALL_FILTERS) -> geo_filters.Filters:
    """Sidebar widgets for the shared filters; every change goes to session state and the URL.

    The shared Filters are the single source of truth: each run seeds every widget from them, and
    each widget's on_change callback writes back into them. Widget keys alone would not do:
    Streamlit forgets a page's widget values when another page is opened.
    """
    current = current_filters()
    grants = data.data.grants
    strategy = config.strategy()
    side = st.sidebar
    side.header("Filtres")
    years_all = sorted(int(y) for y in pd.to_numeric(grants["annee"], errors="coerce").dropna())
    lo, hi = (min(years_all), max(years_all)) if years_all else tuple(strategy["periode"])

    def seed(field: str, value, **extra) -> dict:
        wkey = f"flt_{field}"
        st.session_state[wkey] = value
        return {"key": wkey, "on_change": _on_filter_change, "args": (field, wkey), **extra}

    placeholder = {"placeholder": "Tous"}
    first_plan, last_plan = geo_filters.PERIODS[geo_filters.DEFAULT_PERIOD][1]
    outside = bool(years_all) and (years_all[0] < first_plan or years_all[-1] > last_plan)
    if ("years" in fields or "roadmap" in fields) and (
        outside or current.period != geo_filters.DEFAULT_PERIOD
    ):
        # Only when some grant lies outside the strategy (issue 9: kept, flagged hors période).
        periods = {k: label for k, (label, _) in geo_filters.PERIODS.items()}
        side.radio(
            "Période", list(periods), format_func=periods.get, **seed("period", current.period)
        )
        bounds = geo_filters.PERIODS[current.period][1]
        if bounds:  # the year slider stays within the chosen period
            lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    if "years" in fields or "roadmap" in fields:
        roadmaps = {"": "Toute la stratégie", **{k: k for k in geo_filters.ROADMAPS}}
        side.radio(
            "Feuille de route",
            list(roadmaps),
            format_func=roadmaps.get,
            horizontal=True,
            **seed("roadmap", current.roadmap or ""),
        )
        if current.roadmap:  # the year slider stays within the chosen roadmap
            first, last = geo_filters.ROADMAPS[current.roadmap]
            lo, hi = max(lo, first), min(hi, last)
    if "years" in fields and lo < hi:
        chosen = current.years or (lo, hi)
        chosen = (max(lo, min(hi, chosen[0])), min(hi, max(lo, chosen[1])))
        args = seed("years", chosen)
        args["args"] = ("years", args["key"], (lo, hi))
        side.slider("Années", lo, hi, **args)
    if "axes" in fields:
        axes = {a["numero"]: f"Axe {a['numero']} – {a['intitule_court']}" for a in strategy["axes"]}
        side.multiselect(
            "Axes", list(axes), format_func=axes.get, **seed("axes", current.axes), **placeholder
        )
    if "priorities" in fields:
        titles = {
            p["numero"]: f"{p['numero']}. {p['titre']}"
            for a in strategy["axes"]
            for p in a["priorites"]
        }
        side.multiselect(
            "Priorités",
            list(titles),
            format_func=titles.get,
            **seed("priorities", current.priorities),
            **placeholder,
        )
    if "dispositifs" in fields:
        options = _options(geo_filters.dispositif_column(grants))
        side.multiselect(
            "Dispositif d'aide",
            options,
            **seed("dispositifs", [d for d in current.dispositifs if d in options]),
            **placeholder,
        )
    if "legal_forms" in fields and "forme_juridique" in data.data.structures:
        options = _options(data.data.structures["forme_juridique"])
        side.multiselect(
            "Forme juridique",
            options,
            **seed("legal_forms", [f for f in current.legal_forms if f in options]),
            **placeholder,
        )
    communes = data.layer("communes")
    if "communes" in fields and communes is not None:
        names = dict(zip(communes["code"], communes["nom"], strict=False))
        side.multiselect(
            "Commune",
            sorted(names),
            format_func=lambda c: names.get(c, c),
            **seed("communes", [c for c in current.communes if c in names]),
            **placeholder,
        )
    quartiers = data.layer("quartiers")
    if "quartiers" in fields and quartiers is not None:
        names = dict(
            zip(quartiers["code_quartier"].astype(str), quartiers["nom_quartier"], strict=False)
        )
        side.multiselect(
            "Quartier",
            sorted(names, key=lambda c: names[c]),
            format_func=lambda c: names[c],
            **seed("quartiers", [c for c in current.quartiers if c in names]),
            **placeholder,
        )
    if "qpv_mode" in fields:
        modes = geo_filters.QPV_MODES
        side.radio(
            "Quartiers prioritaires",
            list(modes),
            format_func=modes.get,
            **seed("qpv_mode", current.qpv_mode),
        )
    if "amount" in fields:
        c1, c2 = side.columns(2)
        c1.number_input(
            "Montant min. (€)", min_value=0.0, step=500.0, **seed("amount_min", current.amount_min)
        )
        c2.number_input(
            "Montant max. (€)", min_value=0.0, step=500.0, **seed("amount_max", current.amount_max)
        )
    if "text" in fields:
        side.text_input("Recherche (nom, objet)", **seed("text", current.text))
    st.session_state["presentation_toggle"] = presentation_mode()
    side.toggle(
        "Mode présentation (vidéoprojecteur)",
        key="presentation_toggle",
        on_change=set_presentation,
        help="Masque ce panneau et agrandit les textes ; le lien copié garde ce mode.",
    )
    set_filters(current)  # the URL follows the filters on every page, page switches included
    if not current.is_default() and side.button("Réinitialiser les filtres"):
        set_filters(geo_filters.Filters())
        st.rerun()
    return current
