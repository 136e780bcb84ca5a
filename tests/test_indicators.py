"""Indicators checked against figures computed by hand on five grants and three QPV."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from geo.formatting import NNBSP
from geo.indicators import (
    ELSEWHERE,
    INSIDE_QPV,
    NOT_LOCATED,
    OUTSIDE,
    amounts,
    classify,
    compare_territories,
    distribution,
    envelope_consumption,
    inside_outside_qpv,
    key_figures,
    population_by,
    qpv_coverage,
)
from tests.synthetic import synthetic_qpv

TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
A_CODE, B_CODE, C_CODE = "SYNTH-QP059A", "SYNTH-QP059B", "SYNTH-QP059C"


def east_of_a(offset_m: float) -> Point:
    """``offset_m`` metres east of the middle of QPV A (2015)'s east edge."""
    minx, miny, maxx, maxy = synthetic_qpv("2015").iloc[0].geometry.bounds
    x, y = TO_L93.transform(maxx, (miny + maxy) / 2)
    return Point(TO_WGS.transform(x + offset_m, y))


def grants() -> gpd.GeoDataFrame:
    """Five enriched grants: in A, 200 m east of A, in B, far away, not located."""
    return gpd.GeoDataFrame(
        {
            "id_subvention": ["g1", "g2", "g3", "g4", "g5"],
            "idBeneficiaire": ["S1", "S2", "S1", "S3", None],
            "montant": [10000.0, 20000.0, 30000.0, 40000.0, 5000.0],
            "montant_verse": [5000.0, 20000.0, 0.0, 10000.0, np.nan],
            "annee": [2021, 2022, 2023, 2023, 2026],
            "axe": [1, 1, 2, 3, 4],
            "code_commune": ["59350", "59350", "59350", None, None],
            "code_qpv": [A_CODE, None, B_CODE, None, None],
            "near_qpv": [True, True, True, False, False],
            "dist_qpv_m": [0.0, 200.0, 0.0, 5000.0, np.nan],
        },
        geometry=[
            Point(3.060, 50.612),
            east_of_a(200),
            Point(3.090, 50.632),
            Point(2.95, 50.70),
            None,
        ],
        crs="EPSG:4326",
    )


def structures() -> gpd.GeoDataFrame:
    """S1 in A, S2 200 m east of A, S3 far, S4 in A but never funded."""
    return gpd.GeoDataFrame(
        {"siret": ["S1", "S2", "S3", "S4"], "nom": ["Un", "Deux", "Trois", "Quatre"]},
        geometry=[Point(3.0605, 50.6125), east_of_a(200), Point(2.95, 50.70), Point(3.06, 50.612)],
        crs="EPSG:4326",
    )


def test_key_figures():
    k = key_figures(grants(), structures(), synthetic_qpv("2015"), envelope=700000)
    assert k["montant_engage"] == 105000
    assert k["montant_verse"] == 35000
    assert k["part_enveloppe_engagee"] == pytest.approx(0.15)
    assert k["part_enveloppe_versee"] == pytest.approx(0.05)
    assert k["structures_financees"] == 3
    assert k["structures_recensees"] == 4
    assert k["projets"] == 5
    assert k["part_montant_dans_qpv"] == pytest.approx(40000 / 105000)
    assert k["part_montant_pres_qpv"] == pytest.approx(60000 / 105000)
    assert k["nb_qpv"] == 3 and k["nb_qpv_avec_projet"] == 2
    assert k["part_qpv_avec_projet"] == pytest.approx(2 / 3)
    assert math.isnan(key_figures(grants(), None, None)["part_qpv_avec_projet"])


def test_qpv_coverage():
    cov = qpv_coverage(grants(), structures(), synthetic_qpv("2015"), 300).set_index("code_qpv")
    assert list(cov.index) == [A_CODE, B_CODE, C_CODE]
    assert cov.loc[A_CODE, "projets_dans"] == 1 and cov.loc[A_CODE, "montant_dans"] == 10000
    assert cov.loc[A_CODE, "projets_proches"] == 2 and cov.loc[A_CODE, "montant_proches"] == 30000
    assert cov.loc[B_CODE, "projets_proches"] == 1 and cov.loc[B_CODE, "montant_proches"] == 30000
    assert cov.loc[A_CODE, "structures_financees_dans"] == 1
    assert cov.loc[A_CODE, "structures_financees_proches"] == 2
    assert cov.loc[B_CODE, "structures_financees_dans"] == 0
    assert cov.loc[A_CODE, "eur_par_habitant"] == pytest.approx(10000 / 12000)
    assert cov.loc[B_CODE, "eur_par_habitant"] == pytest.approx(30000 / 8000)
    assert math.isnan(cov.loc[C_CODE, "eur_par_habitant"])
    assert list(cov["sans_projet"]) == [False, False, True]
    narrow = qpv_coverage(grants(), structures(), synthetic_qpv("2015"), 150).set_index("code_qpv")
    assert narrow.loc[A_CODE, "projets_proches"] == 1
    assert narrow.loc[A_CODE, "structures_financees_proches"] == 1


def test_point_near_two_qpv_counts_for_both():
    # Two squares of 100 m, 400 m apart in Lambert-93; the grant is 200 m from each.
    x0, y0 = TO_L93.transform(3.06, 50.62)
    squares = [box(x0, y0, x0 + 100, y0 + 100), box(x0 + 500, y0, x0 + 600, y0 + 100)]
    qpv = gpd.GeoDataFrame(
        {"code_qpv": ["Q1", "Q2"], "nom_qpv": ["Un", "Deux"], "population": [100.0, 200.0]},
        geometry=squares,
        crs="EPSG:2154",
    ).to_crs("EPSG:4326")
    grant = gpd.GeoDataFrame(
        {"montant": [900.0], "idBeneficiaire": ["S"], "code_qpv": [None]},
        geometry=[Point(x0 + 300, y0 + 50)],
        crs="EPSG:2154",
    ).to_crs("EPSG:4326")
    wide = qpv_coverage(grant, None, qpv, 300)
    assert list(wide["projets_proches"]) == [1, 1]
    assert list(wide["montant_proches"]) == [900.0, 900.0]
    assert list(wide["projets_dans"]) == [0, 0]
    narrow = qpv_coverage(grant, None, qpv, 150)
    assert list(narrow["projets_proches"]) == [0, 0]


def test_distribution_totals_and_euros_per_inhabitant():
    g = grants()
    dist = distribution(g, "code_commune", population=pd.Series({"59350": 1000.0}))
    assert list(dist.index) == ["59350", OUTSIDE]
    assert dist.loc["59350", "montant_engage"] == 60000
    assert dist.loc[OUTSIDE, "montant_engage"] == 45000
    assert dist["montant_engage"].sum() == g["montant"].sum()
    assert dist["montant_verse"].sum() == 35000
    assert dist["projets"].sum() == 5
    assert dist["part_du_total"].sum() == pytest.approx(1)
    assert dist.loc["59350", "eur_par_habitant"] == 60
    assert math.isnan(dist.loc[OUTSIDE, "eur_par_habitant"])


def test_distribution_by_several_keys():
    dist = distribution(grants(), ["code_commune", "annee"], population=pd.Series({"59350": 100.0}))
    assert dist.loc[("59350", 2023), "montant_engage"] == 30000
    assert dist.loc[(OUTSIDE, 2023), "montant_engage"] == 40000
    assert dist.loc[("59350", 2022), "eur_par_habitant"] == 200
    assert dist["montant_engage"].sum() == 105000
    by_axis = distribution(grants(), "axe")
    assert list(by_axis.index) == [1, 2, 3, 4]
    assert list(by_axis["montant_engage"]) == [30000, 30000, 40000, 5000]


def test_inside_outside_qpv():
    table = inside_outside_qpv(grants(), buffer_m=300)
    near = f"À moins de 300{NNBSP}m d'un QPV"
    assert list(table.index) == [INSIDE_QPV, near, ELSEWHERE, NOT_LOCATED]
    assert list(table["montant_engage"]) == [40000, 20000, 40000, 5000]
    assert list(table["projets"]) == [2, 1, 1, 1]
    assert table["montant_engage"].sum() == 105000
    located = inside_outside_qpv(grants().iloc[:4])
    assert list(located.index) == [INSIDE_QPV, near, ELSEWHERE]


def test_envelope_consumption():
    table = envelope_consumption(grants(), 700000)
    assert list(table.index) == [2021, 2022, 2023, 2024, 2025, 2026]
    assert list(table["montant_engage"]) == [10000, 20000, 70000, 0, 0, 5000]
    assert list(table["engage_cumule"]) == [10000, 30000, 100000, 100000, 100000, 105000]
    assert list(table["verse_cumule"]) == [5000, 25000, 35000, 35000, 35000, 35000]
    assert table.loc[2026, "part_enveloppe_engagee"] == pytest.approx(105000 / 700000)
    assert table.loc[2022, "part_enveloppe_versee"] == pytest.approx(25000 / 700000)


def test_population_by_level():
    iris = gpd.GeoDataFrame(
        {
            "code_iris": ["593500101", "593500102", "592980101"],
            "code_commune": ["59350", "59350", "59298"],
            "population": [100.0, 50.0, np.nan],
        },
        geometry=[
            box(3.00, 50.60, 3.02, 50.62),
            box(3.02, 50.60, 3.04, 50.62),
            box(3.10, 50.60, 3.12, 50.62),
        ],
        crs="EPSG:4326",
    )
    assert population_by(iris, "iris").to_dict()["593500102"] == 50
    communes = population_by(iris, "commune")
    assert communes["59350"] == 150 and math.isnan(communes["59298"])
    quartiers = gpd.GeoDataFrame(
        {"code_quartier": ["1", "2", "3"], "nom_quartier": ["Ouest", "Est", "Vide"]},
        geometry=[
            box(3.00, 50.60, 3.01, 50.62),  # west half of the first IRIS
            box(3.01, 50.60, 3.04, 50.62),  # east half of the first IRIS and all of the second
            box(3.20, 50.60, 3.21, 50.62),  # no IRIS
        ],
        crs="EPSG:4326",
    )
    by_q = population_by(iris, "quartier", quartiers=quartiers)
    assert by_q["1"] == pytest.approx(50, rel=1e-3)
    assert by_q["2"] == pytest.approx(100, rel=1e-3)
    assert by_q["1"] + by_q["2"] == pytest.approx(150)
    assert math.isnan(by_q["3"])
    with pytest.raises(ValueError, match="quartiers"):
        population_by(iris, "quartier")


def test_compare_overlapping_territories():
    qpv_a = synthetic_qpv("2015").iloc[0].geometry
    territories = gpd.GeoDataFrame(
        {
            "code": ["T1", A_CODE],
            "nom": ["Quartier test", "QPV A"],
            "kind": ["quartier", "qpv"],
            "population": [2000.0, 12000.0],
        },
        geometry=[box(3.05, 50.60, 3.07, 50.63), qpv_a],
        crs="EPSG:4326",
    )
    establishments = gpd.GeoDataFrame(
        {"siret": ["E1", "E2", "E3", "E4"], "est_ess": [True, True, False, True]},
        geometry=[
            Point(3.06, 50.612),
            Point(3.052, 50.605),
            Point(3.052, 50.606),
            Point(2.9, 50.7),
        ],
        crs="EPSG:4326",
    )
    table = compare_territories(territories, establishments, grants()).set_index("code")
    assert table.loc["T1", "etablissements_ess"] == 2
    assert table.loc[A_CODE, "etablissements_ess"] == 1
    assert table.loc["T1", "etablissements_pour_1000_hab"] == pytest.approx(1.0)
    assert table.loc[A_CODE, "etablissements_pour_1000_hab"] == pytest.approx(1000 / 12000)
    assert table.loc["T1", "montant_engage"] == 30000 and table.loc["T1", "projets"] == 2
    assert table.loc[A_CODE, "montant_engage"] == 10000
    assert table.loc["T1", "eur_par_habitant"] == pytest.approx(15)
    assert table.loc["T1", "part_montant_dans_qpv"] == pytest.approx(1 / 3)
    assert table.loc[A_CODE, "part_montant_dans_qpv"] == pytest.approx(1.0)


def test_classify_regular_values():
    values = list(range(0, 10001, 1000))
    bins, labels = classify(values, k=5)
    assert bins == [0, 2000, 4000, 6000, 8000, 10000]
    assert labels[0] == f"0{NNBSP}€ – 2{NNBSP}000{NNBSP}€"
    assert len(labels) == 5
    classes = pd.cut(values, bins, include_lowest=True)
    assert not pd.isna(classes).any()


def test_classify_rounds_to_nice_breaks():
    bins, labels = classify([120, 3456, 98765], k=2)
    assert bins == [100, 3500, 100000]
    assert labels[1] == f"3{NNBSP}500{NNBSP}€ – 100{NNBSP}000{NNBSP}€"
    assert not pd.isna(pd.cut([120, 3456, 98765], bins, include_lowest=True)).any()
    assert classify([np.nan, None]) == ([], [])
    same, same_labels = classify([500, 500, 500])
    assert same == [500, 1000] and len(same_labels) == 1


def test_amounts_reads_unreadable_and_missing_amounts_as_zero():
    frame = pd.DataFrame({"montant": [1000, "illisible", None, 250.5], "montant_verse": [500] * 4})
    assert amounts(frame).tolist() == [1000.0, 0.0, 0.0, 250.5]
    assert amounts(frame, "montant_verse").sum() == 2000.0
    assert amounts(frame.drop(columns="montant")).tolist() == [0.0] * 4
    assert amounts(frame.iloc[:0]).sum() == 0.0
