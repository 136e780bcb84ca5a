"""Filters: which grants they keep, and their exact round trip through the URL."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point

from geo.filters import QPV_MODES, Filters, apply, from_query_params, to_query_params


def grants() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id_subvention": ["a", "b", "c", "d"],
            "annee": [2021, 2022, 2023, 2024],
            "axe": [1, 1, 2, 4],
            "priorite": [3, 5, 9, 18],
            "dispositifAide": ["AAP ESS", "AAP ESS", "Fonds d'amorçage", None],
            "idBeneficiaire": ["111", "222", "111", "333"],
            "nomBeneficiaire": ["Élan Solidaire", "Coop Fives", "Élan Solidaire", "Ressourcerie"],
            "objet": ["Épicerie sociale", "Atelier vélo", "Recyclerie", "Tiers-lieu à Lomme"],
            "montant": [1000.0, 5000.0, 12000.0, 30000.0],
            "code_commune": ["59350", "59350", "59298", None],
            "code_quartier": ["5", "4", "100", None],
            "code_qpv": ["Q1", None, None, None],
            "near_qpv": [True, True, False, False],
        },
        geometry=[Point(3.06, 50.61)] * 4,
        crs="EPSG:4326",
    ).set_index("id_subvention", drop=False)


def structures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "siret": ["111", "222", "333"],
            "nom": ["Association Élan", "Coopérative des Fives", "La Ressourcerie"],
            "forme_juridique": ["Association", "SCOP", "Association"],
        }
    )


def kept(filters: Filters) -> list[str]:
    return list(apply(grants(), structures(), filters)["id_subvention"])


def test_default_keeps_everything():
    assert kept(Filters()) == ["a", "b", "c", "d"]
    assert Filters().is_default()


def test_each_filter():
    assert kept(Filters(years=(2022, 2023))) == ["b", "c"]
    assert kept(Filters(axes=[1])) == ["a", "b"]
    assert kept(Filters(priorities=[9, 18])) == ["c", "d"]
    assert kept(Filters(dispositifs=["AAP ESS"])) == ["a", "b"]
    assert kept(Filters(legal_forms=["Association"])) == ["a", "c", "d"]
    assert kept(Filters(communes=["59298"])) == ["c"]
    assert kept(Filters(quartiers=["4", "5"])) == ["a", "b"]
    assert kept(Filters(qpv_mode="dans_qpv")) == ["a"]
    assert kept(Filters(qpv_mode="pres_qpv")) == ["a", "b"]
    assert kept(Filters(qpv_mode="hors_qpv")) == ["c", "d"]
    assert kept(Filters(amount_min=5000, amount_max=12000)) == ["b", "c"]
    assert kept(Filters(amount_min=12000)) == ["c", "d"]


def test_filters_combine():
    assert kept(Filters(axes=[1, 2], communes=["59350"], amount_max=2000)) == ["a"]


def test_text_search_ignores_case_and_accents():
    assert kept(Filters(text="elan")) == ["a", "c"]
    assert kept(Filters(text="EPICERIE")) == ["a"]
    assert kept(Filters(text="coopérative")) == ["b"]  # structure name only
    assert kept(Filters(text="à lomme")) == ["d"]
    assert kept(Filters(text="introuvable")) == []


def test_dispositif_column_wins_when_present():
    g = grants().assign(dispositif=["X", "Y", "X", "Y"])
    out = apply(g, structures(), Filters(dispositifs=["X"]))
    assert list(out["id_subvention"]) == ["a", "c"]


def test_apply_keeps_type_and_index():
    out = apply(grants(), None, Filters(axes=[2]))
    assert isinstance(out, gpd.GeoDataFrame)
    assert list(out.index) == ["c"]


def test_normalisation():
    f = Filters(years=(2023, 2021), axes=[3, 1, 1, 9], priorities=["4", "x"], qpv_mode="zzz")
    assert f.years == (2021, 2023)
    assert f.axes == [1, 3]
    assert f.priorities == [4]
    assert f.qpv_mode == "tous"
    swapped = Filters(amount_min=500, amount_max=100, text="  a   b ")
    assert swapped.amount_range == (100.0, 500.0)
    assert swapped.text == "a b"


def test_defaults_are_not_in_the_url():
    assert to_query_params(Filters()) == {}
    params = to_query_params(
        Filters(years=(2021, 2022), axes=[1, 2], dispositifs=["AAP, ESS", "B"], amount_min=1500)
    )
    assert params == {
        "annees": "2021-2022",
        "axes": "1,2",
        "dispositifs": "AAP, ESS|B",
        "montant_min": "1500",
    }


def test_bad_values_are_ignored():
    f = from_query_params(
        {
            "annees": "deux-mille",
            "axes": "1,x,7,2",
            "priorites": "20,21,0",
            "qpv": "partout",
            "montant_min": "beaucoup",
            "montant_max": "inf",
            "inconnu": "1",
            "q": ["ancien", "récent"],
        }
    )
    assert f == Filters(axes=[1, 2], priorities=[20], text="récent")
    assert from_query_params({"annees": "2022"}).years == (2022, 2022)
    assert from_query_params({"annees": "2024-2021"}).years == (2021, 2024)


text_items = st.lists(
    st.text(
        alphabet=st.characters(blacklist_characters="|", blacklist_categories=["Cs"]), min_size=1
    ),
    max_size=4,
)
code_items = st.lists(st.from_regex(r"[0-9A-Z]{1,9}", fullmatch=True), max_size=4)
amounts = st.none() | st.floats(min_value=0, max_value=1e7, allow_nan=False)


@given(
    years=st.none() | st.tuples(st.integers(2000, 2100), st.integers(2000, 2100)),
    axes=st.lists(st.integers(1, 4)),
    priorities=st.lists(st.integers(1, 20)),
    dispositifs=text_items,
    forms=text_items,
    communes=code_items,
    quartiers=code_items,
    qpv_mode=st.sampled_from(list(QPV_MODES)),
    amount_min=amounts,
    amount_max=amounts,
    text=st.text(max_size=20),
)
def test_round_trip_is_exact(
    years,
    axes,
    priorities,
    dispositifs,
    forms,
    communes,
    quartiers,
    qpv_mode,
    amount_min,
    amount_max,
    text,
):
    f = Filters(
        years=years,
        axes=axes,
        priorities=priorities,
        dispositifs=dispositifs,
        legal_forms=forms,
        communes=communes,
        quartiers=quartiers,
        qpv_mode=qpv_mode,
        amount_min=amount_min,
        amount_max=amount_max,
        text=text,
    )
    params = to_query_params(f)
    assert all(isinstance(v, str) and v for v in params.values())
    assert from_query_params(params) == f
