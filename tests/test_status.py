"""Located or not, QPV status known or not: the labels and figures that depend on it, by hand.

Reuses the five grants of tests/test_indicators.py (in QPV A, 200 m east of A, in B, far away,
not located: 10 000, 20 000, 30 000, 40 000 and 5 000 €).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import maps, pagemaps
from geo import status as geo_status
from geo.filters import (
    PLACE_FIELDS,
    Filters,
    apply,
    describe,
    empty_selection_message,
    nothing_to_show,
    only,
    territory_names,
)
from geo.formatting import NNBSP
from geo.indicators import (
    ELSEWHERE,
    INSIDE_QPV,
    NOT_LOCATED,
    QPV_UNKNOWN,
    compare_territories,
    inside_outside_qpv,
    key_figures,
)
from tests.test_indicators import grants

NEAR = f"À moins de 300{NNBSP}m d'un QPV"
BOTH = "couche QPV non chargée (listes 2015 et 2024)"


def without_qpv_layer() -> gpd.GeoDataFrame:
    """The same grants as enriched with no QPV list at all: no code, no distance.

    Their years (2021, 2022, 2023, 2023, 2026) call for the 2015 list, and 2024 for g5.
    """
    return grants().assign(
        code_qpv=None,
        near_qpv=False,
        dist_qpv_m=np.nan,
        qpv_generation=["2015", "2015", "2015", "2015", "2024"],
    )


def with_generations(*generations: str) -> gpd.GeoDataFrame:
    return grants().assign(qpv_generation=list(generations))


def test_status_of_each_grant():
    assert list(geo_status.qpv_status(grants())) == [
        geo_status.INSIDE,
        geo_status.NEAR,
        geo_status.INSIDE,
        geo_status.AWAY,
        geo_status.UNLOCATED,
    ]
    assert list(geo_status.located(grants())) == [True, True, True, True, False]
    # No QPV list: the four placed grants are unknown, not "non localisé".
    assert list(geo_status.qpv_status(without_qpv_layer())) == [geo_status.UNKNOWN] * 4 + [
        geo_status.UNLOCATED
    ]


def test_located_reads_the_pipeline_column_without_geometry():
    plain = pd.DataFrame({"localisation": ["projet", "bénéficiaire", "non localisé"]})
    assert list(geo_status.located(plain)) == [True, True, False]


def test_missing_lists_and_reason():
    g = with_generations("2015", "2015", "2015", "2024", "2024")
    assert geo_status.missing_qpv_lists(g, ["2015", "2024"]) == []
    assert geo_status.missing_qpv_lists(g, ["2015"]) == ["2024"]
    assert geo_status.missing_qpv_lists(g, []) == ["2015", "2024"]
    assert geo_status.missing_qpv_lists(g.iloc[:0], []) == []  # nothing selected, nothing needed
    assert geo_status.qpv_missing_reason(["2024"]) == "couche QPV non chargée (liste 2024)"
    assert geo_status.qpv_missing_reason(["2024", "2015"]) == BOTH
    qpv = gpd.GeoDataFrame({"code_qpv": ["Q"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    layers = {"qpv_2015": None, "qpv_2024": (qpv, None)}
    assert geo_status.loaded_qpv_lists(layers) == ["2024"]


def test_inside_outside_without_any_qpv_layer_says_unknown_not_unlocated():
    # Read from the data alone, only the 2015 list is seen missing (g5 has no place) ...
    inferred = inside_outside_qpv(without_qpv_layer(), 300)
    assert inferred.index[3] == f"{QPV_UNKNOWN} — couche QPV non chargée (liste 2015)"
    # ... told which lists are loaded (none), both are named.
    table = inside_outside_qpv(without_qpv_layer(), 300, qpv_lists=[])
    assert list(table.fillna(-1).to_numpy().ravel()) == list(inferred.fillna(-1).to_numpy().ravel())
    unknown = f"{QPV_UNKNOWN} — {BOTH}"
    assert list(table.index) == [INSIDE_QPV, NEAR, ELSEWHERE, unknown, NOT_LOCATED]
    assert table.loc[[INSIDE_QPV, NEAR, ELSEWHERE]].isna().all().all()  # "—", not 0
    assert table.loc[unknown, "montant_engage"] == 100000
    assert table.loc[unknown, "projets"] == 4
    assert table.loc[NOT_LOCATED, "montant_engage"] == 5000
    assert table.loc[NOT_LOCATED, "part_du_total"] == pytest.approx(5000 / 105000)
    assert table["montant_engage"].sum() == 105000


def test_inside_outside_with_one_list_keeps_its_figures():
    # g4 is placed but of 2024, whose list is missing; the 2015 grants keep their figures.
    g = with_generations("2015", "2015", "2015", "2024", "2024").assign(
        dist_qpv_m=[0.0, 200.0, 0.0, np.nan, np.nan], near_qpv=[True, True, True, False, False]
    )
    table = inside_outside_qpv(g, 300, qpv_lists=["2015"])
    unknown = f"{QPV_UNKNOWN} — couche QPV non chargée (liste 2024)"
    assert list(table.index) == [INSIDE_QPV, NEAR, ELSEWHERE, unknown, NOT_LOCATED]
    assert list(table["montant_engage"]) == [40000, 20000, 0, 40000, 5000]
    assert list(table["projets"]) == [2, 1, 0, 1, 1]


def test_key_figures_qpv_share_is_unknown_rather_than_zero():
    figures = key_figures(without_qpv_layer(), None, None)
    assert math.isnan(figures["part_montant_dans_qpv"])
    assert math.isnan(figures["part_montant_pres_qpv"])
    assert figures["qpv_inconnu"] == "couche QPV non chargée (liste 2015)"
    generic = key_figures(without_qpv_layer().drop(columns="qpv_generation"), None, None)
    assert generic["qpv_inconnu"] == "couche QPV non chargée"  # no year known, no list named
    g = with_generations("2015", "2015", "2015", "2015", "2024")
    assert key_figures(g, None, None, qpv_lists=["2015", "2024"])["part_montant_dans_qpv"] == (
        pytest.approx(40000 / 105000)
    )
    # g5 (not located, 2024) needs the 2024 list: without it the share is not a figure.
    only_2015 = key_figures(g, None, None, qpv_lists=["2015"])
    assert math.isnan(only_2015["part_montant_dans_qpv"])
    assert only_2015["qpv_inconnu"] == "couche QPV non chargée (liste 2024)"
    nowhere = key_figures(grants().iloc[[4]], None, None, qpv_lists=["2015", "2024"])
    assert math.isnan(nowhere["part_montant_dans_qpv"])
    assert nowhere["qpv_inconnu"] == "aucune subvention localisée"
    assert nowhere["montant_engage"] == 5000


def test_compare_territories_qpv_share_unknown_without_the_list():
    territories = gpd.GeoDataFrame(
        {"code": ["T"], "nom": ["Tout"], "kind": ["commune"], "population": [1000.0]},
        geometry=[box(2.9, 50.5, 3.2, 50.8)],
        crs=4326,
    )
    known = compare_territories(territories, None, grants())
    assert known.loc[0, "part_montant_dans_qpv"] == pytest.approx(40000 / 100000)
    unknown = compare_territories(territories, None, without_qpv_layer())
    assert unknown.loc[0, "montant_engage"] == 100000
    assert math.isnan(unknown.loc[0, "part_montant_dans_qpv"])


def test_qpv_filters_leave_out_what_is_not_known():
    def kept(g, mode):
        return list(apply(g, None, Filters(qpv_mode=mode))["id_subvention"])

    assert kept(grants(), "dans_qpv") == ["g1", "g3"]
    assert kept(grants(), "pres_qpv") == ["g1", "g2", "g3"]
    assert kept(grants(), "hors_qpv") == ["g4"]  # g5 has no place: not "hors QPV"
    for mode in ("dans_qpv", "pres_qpv", "hors_qpv"):
        assert kept(without_qpv_layer(), mode) == []


def test_describe_and_nothing_to_show():
    filters = Filters(
        roadmap="2024-2026",
        years=(2025, 2026),
        axes=[4],
        priorities=[16, 3],
        communes=["59298"],
        qpv_mode="dans_qpv",
        amount_min=999999999,
        text="zzzzzzzz",
    )
    names = {"communes": {"59298": "Hellemmes"}}
    assert describe(filters, names=names, qpv_missing=["2024"]) == [
        "feuille de route 2024-2026",
        "années 2025 à 2026",
        "axe 4",
        "priorités 3, 16",
        "commune Hellemmes",
        "dans un QPV — couche QPV non chargée (liste 2024)",
        f"montant d'au moins 999{NNBSP}999{NNBSP}999{NNBSP}€",
        "recherche « zzzzzzzz »",
    ]
    assert describe(Filters(years=(2023, 2023), amount_min=10, amount_max=20)) == [
        "année 2023",
        f"montant de 10{NNBSP}€ à 20{NNBSP}€",
    ]
    assert nothing_to_show(Filters(text="zzz")) == (
        "Aucune subvention ne correspond aux filtres : recherche « zzz ». "
        "Modifiez ou réinitialisez les filtres."
    )
    assert nothing_to_show(Filters()) == "Aucune subvention à afficher."
    assert nothing_to_show(Filters(), subject="Aucun site foncier", extra=["type « local »"]) == (
        "Aucun site foncier ne correspond aux filtres : type « local ». "
        "Modifiez ou réinitialisez les filtres."
    )


def test_empty_selection_message_names_communes_and_missing_lists():
    communes = gpd.GeoDataFrame(
        {"code": ["59298"], "nom": ["Hellemmes"]}, geometry=[box(0, 0, 1, 1)], crs=4326
    )
    layers = {"communes": communes, "quartiers": None, "qpv_2015": None, "qpv_2024": None}
    assert territory_names(layers) == {"communes": {"59298": "Hellemmes"}}
    records = with_generations("2015", "2015", "2015", "2015", "2024")
    message = empty_selection_message(
        Filters(communes=["59298"], qpv_mode="dans_qpv"), records, layers
    )
    assert message == (
        f"Aucune subvention ne correspond aux filtres : commune Hellemmes ; dans un QPV — {BOTH}. "
        "Modifiez ou réinitialisez les filtres."
    )


def test_only_keeps_the_place_filters():
    filters = Filters(axes=[1], communes=["59350"], text="vélo", amount_min=5)
    assert only(filters, PLACE_FIELDS) == Filters(communes=["59350"], text="vélo")


def test_empty_and_unlocated_selections_still_make_a_map():
    empty = grants().iloc[:0]
    shown = maps.display_geometries(empty, ["id_subvention"])
    assert list(shown.columns) == ["id_subvention", "geometry"] and shown.empty
    renamed = grants().rename_geometry("lieu").iloc[:0]
    assert maps.display_geometries(renamed, []).geometry.name == "geometry"
    named = grants().assign(nomBeneficiaire=["A", "B", "C", "D", "E"])
    layers = {"communes": None}
    for selection in (named.iloc[:0], named.iloc[[4]]):
        m = pagemaps.funded_map(selection, layers, tiles=None)
        m.get_root().render()  # the whole map builds, with an empty grants layer
    structures = gpd.GeoDataFrame(
        {"siret": ["S9"], "nom": ["Ailleurs"], "forme_juridique": ["SCOP"]},
        geometry=[Point(3.0, 50.6)],
        crs=4326,
    )
    funded = pagemaps.funded_map(named.iloc[:0], layers, structures=structures, tiles=None)
    funded.get_root().render()
