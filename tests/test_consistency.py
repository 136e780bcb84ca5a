"""The same figure is equal everywhere: Accueil, Répartition, QPV, Comparer, the Carte CSV and
the territories export, for several filter combinations (issue 8).

Pages are read through AppTest on the demo data over the real layers of ../shared/data/geo and
the synthetic QPV (fixtures of tests/test_pages_apptest.py); the two exports are called directly
on the grants the pages select (the enriched grants through the same shared filters).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from geo import filters as geo_filters
from geo.formatting import fmt_eur, fmt_int, fmt_pct
from geo.territories import layer_vintages, territories_table
from loaders import config
from loaders.datasets import load_datasets
from loaders.export import export_dataset
from loaders.export_territories import export_territories
from loaders.layers import load_layers
from loaders.pipeline import enriched
from tests.test_pages_apptest import _isolated, demo_home, metric, open_page  # noqa: F401

COMBINATIONS = [
    {},
    {"annees": "2021-2023"},
    {"annees": "2024-2026", "axes": "2"},
    {"feuille": "2021-2023", "axes": "1,3"},
    {"annees": "2022-2022"},
]
LILLE = ("59350", "59298", "59355")


def _selection(query: dict):
    """The enriched grants the pages show for these URL filters, the layers and their metadata."""
    loaded = load_layers()
    layers = {name: gdf for name, (gdf, _) in loaded.items()}
    metas = {name: meta for name, (_, meta) in loaded.items()}
    datasets = load_datasets()
    data = enriched(datasets, loaded)
    filters = geo_filters.from_query_params(query)
    return geo_filters.apply(data.grants, data.structures, filters), layers, metas, filters


def _csv_rows(payload: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(payload.decode("utf-8-sig")), delimiter=";"))


def _number(text: str) -> float:
    return float(text.replace(",", ".")) if text else 0.0


@pytest.mark.parametrize(
    "query", COMBINATIONS, ids=lambda q: "&".join(map("=".join, q.items())) or "defaut"
)
@pytest.mark.usefixtures("demo_home")
def test_same_figures_on_every_page_and_export(query):
    grants, layers, metas, filters = _selection(query)
    assert len(grants), "each combination selects some grants"

    # the two exports, called directly
    carte = _csv_rows(export_dataset(grants, "grants", "csv", demo=True, sources=[]))
    table = territories_table(
        grants, layers, "commune", vintages=layer_vintages(metas), buffer_m=config.qpv_buffer_m()
    )
    export = {
        r["code"]: r for r in json.loads(export_territories(table, "json", demo=True, sources=[]))
    }
    total = sum(r["montant_engage"] for r in export.values())
    in_qpv = sum(r["montant_dans_qpv"] or 0 for r in export.values())
    per_commune = {c: export[c]["montant_engage"] if c in export else 0.0 for c in LILLE}
    carte_total = sum(_number(r["Montant attribué"]) for r in carte)
    carte_commune = {
        c: sum(_number(r["Montant attribué"]) for r in carte if r.get("Code commune") == c)
        for c in LILLE
    }
    carte_structures = len({r["SIRET bénéficiaire"] for r in carte} - {""})
    assert carte_total == pytest.approx(total)
    assert carte_commune == pytest.approx(per_commune)

    # Accueil
    home = open_page("pages/home.py", query=query)
    assert not home.exception, [e.value for e in home.exception]
    assert metric(home, "Montant engagé") == fmt_eur(total)
    assert metric(home, "Structures financées") == fmt_int(carte_structures)
    assert metric(home, "Part des montants dans un QPV") == fmt_pct(in_qpv / total)

    # Répartition: per commune, the total, and the row "Dans un QPV"
    rep = open_page("pages/repartition.py", query=query)
    assert not rep.exception, [e.value for e in rep.exception]
    by_commune = [d.value for d in rep.dataframe if "Territoire" in list(d.value.columns[:1])][0]
    names = dict(zip(layers["communes"]["nom"], layers["communes"]["code"], strict=True))
    shown = {
        names[n]: v
        for n, v in zip(by_commune["Territoire"], by_commune["Montant engagé"], strict=True)
        if n in names
    }
    assert shown == {c: fmt_eur(v) for c, v in per_commune.items()}
    qpv_rows = [d.value for d in rep.dataframe if "Localisation" in list(d.value.columns[:1])][0]
    inside = qpv_rows.set_index("Localisation").loc["Dans un QPV"]
    assert inside["Montant engagé"] == fmt_eur(in_qpv)
    assert inside["Part du total"] == fmt_pct(in_qpv / total)

    # QPV page, when the years fall in one QPV list
    years = filters.year_bounds() or (2021, 2026)
    if config.qpv_generation(years[0]) == config.qpv_generation(years[1]):
        qpv = open_page("pages/qpv.py", query=query)
        assert not qpv.exception, [e.value for e in qpv.exception]
        assert metric(qpv, "Montant dans les QPV") == fmt_eur(in_qpv)

    # Comparer: the whole of Lille and the quartiers Hellemmes (100) and Lomme (200)
    cmp = open_page(
        "pages/comparer.py",
        query={**query, "territoires": "commune:59350,quartier:100,quartier:200"},
    )
    assert not cmp.exception, [e.value for e in cmp.exception]
    compared = [d.value for d in cmp.dataframe if "Population" in d.value.index][0]
    lille = compared.iloc[:, 0]
    assert lille["Montant engagé"] == fmt_eur(sum(per_commune.values()))
    assert compared.iloc[:, 1]["Montant engagé"] == fmt_eur(per_commune["59298"])
    assert compared.iloc[:, 2]["Montant engagé"] == fmt_eur(per_commune["59355"])
    lille_in_qpv = sum(export[c]["montant_dans_qpv"] or 0 for c in LILLE if c in export)
    assert lille["Part du montant dans un QPV"] == fmt_pct(lille_in_qpv / sum(per_commune.values()))


@pytest.mark.usefixtures("demo_home")
def test_comparer_applies_only_the_filters_it_shows():
    """?communes=59298 and ?qpv=… belong to other pages: Comparer keeps them out and says so."""
    grants, layers, metas, _ = _selection({"axes": "2"})
    table = territories_table(grants, layers, "commune", vintages=layer_vintages(metas))
    lille = table[table["code"].isin(LILLE)]["montant_engage"].sum()
    at = open_page(
        "pages/comparer.py",
        query={
            "axes": "2",
            "communes": "59298",
            "qpv": "dans_qpv",
            "montant_min": "5000",
            "territoires": "commune:59350,quartier:100",
        },
    )
    assert not at.exception, [e.value for e in at.exception]
    compared = [d.value for d in at.dataframe if "Population" in d.value.index][0]
    assert compared.iloc[:, 0]["Montant engagé"] == fmt_eur(lille)
    applied = [c.value for c in at.caption if c.value.startswith("Filtres appliqués")]
    assert applied == ["Filtres appliqués : axe 2."]
    sources = compared.loc["Source de la population"]
    assert set(sources) == {"population RP 2019, INSEE"}  # one vintage in the comparison
    assert at.query_params["communes"] in (
        "59298",
        ["59298"],
    )  # kept in the URL for the other pages
