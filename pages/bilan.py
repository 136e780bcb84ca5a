"""Bilan annuel: the yearly evaluation of the strategy for the steering committee, PDF and HTML.

The same document as `python -m loaders bilan`: figures from geo.bilan, typesetting from
geo.bilan_render. The page shows the HTML version and builds either file when asked for.
"""

import pandas as pd
import streamlit as st

from geo.bilan import build_bilan
from geo.bilan_render import blocks, to_html, to_pdf
from geo.filters import ROADMAPS
from loaders import config
from loaders.bilan import inputs_from, quartier_population
from pages import shared
from pages.common import sidebar, tables

data = shared.bundle()
shared.page_header(
    "Bilan annuel",
    "Le bilan de la stratégie ESS 2021-2026 présenté chaque année au Comité de pilotage "
    "multi-partenarial : chiffres clés, axes et priorités, territoires, foncier, feuilles de "
    "route et annexe des subventions. Il porte sur toutes les données, sans les autres filtres.",
    data,
)
filters = sidebar.filters_sidebar(data, ("roadmap",))
first, last = (int(y) for y in config.strategy()["periode"])
if filters.roadmap:
    first, last = ROADMAPS[filters.roadmap]
years = list(range(first, last + 1))
known = pd.to_numeric(data.data.grants["annee"], errors="coerce")
with_grants = [y for y in years if (known == y).any()]
default = years.index(with_grants[-1]) if with_grants else len(years) - 1
c1, c2 = st.columns([1, 2])
year = c1.selectbox("Année du bilan", years, index=default, key="bilan_annee")
cumul = c2.toggle(
    "Sections en cumul depuis 2021",
    key="bilan_cumul",
    help="Axes, priorités et territoires sur 2021 à l'année choisie ; l'annexe reste celle de "
    "l'année.",
)


def _population():
    return quartier_population(data.layers)


def _document() -> dict:
    """The bilan's blocks and the page's inline HTML; the files are built on click."""
    population = shared.memo("bilan_population", (data.token,), _population)
    inputs = inputs_from(data.layers, data.metas, data.datasets, data.data)
    bilan = build_bilan(inputs, int(year), cumul=bool(cumul), quartier_population=population)
    items = blocks(bilan)
    return {
        "items": items,
        "demo": bilan.demo,
        "year": bilan.year,
        "inline": to_html(items, demo=bilan.demo, year=bilan.year, standalone=False),
    }


with st.spinner("Préparation du bilan…"):
    document = shared.memo("bilan", (data.token, int(year), bool(cumul)), _document)
items, options = document["items"], {"demo": document["demo"], "year": document["year"]}

suffix = f"{year}{'_cumul' if cumul else ''}{'_demo' if data.demo else ''}"
d1, d2 = st.columns(2)
# Built when clicked (the PDF takes Typst a second or more): viewing the bilan costs no file.
tables.lazy_download(
    d1,
    "Télécharger le bilan (PDF)",
    lambda: to_pdf(items, **options),
    file_name=f"bilan_ess_{suffix}.pdf",
    mime="application/pdf",
    key="bilan_pdf",
    icon=":material/picture_as_pdf:",
)
tables.lazy_download(
    d2,
    "Télécharger le bilan (HTML)",
    lambda: to_html(items, **options, standalone=True).encode("utf-8"),
    file_name=f"bilan_ess_{suffix}.html",
    mime="text/html",
    key="bilan_html",
    icon=":material/html:",
)
st.html(document["inline"])
shared.sources_footer(data, ["communes", "quartiers", "iris", "qpv_2015", "qpv_2024", "friches"])
