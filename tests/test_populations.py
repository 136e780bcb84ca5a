"""Populations by territory: areal weighting inside the commune, vintages, and the real data.

Synthetic squares ("synthetic" IRIS, quartiers and QPV) are computed by hand; the acceptance runs
on the real IRIS RP 2019 and quartiers of ../shared/data/geo through `loaders sync`.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.indicators import census_vintage, population_by, population_label
from geo.territories import one_vintage, territory_population


def synthetic_iris() -> gpd.GeoDataFrame:
    """Two synthetic IRIS of commune A side by side, one of commune B to the east."""
    return gpd.GeoDataFrame(
        {
            "code_iris": ["590010101", "590010102", "590020101"],
            "nom_iris": ["Synthétique A1", "Synthétique A2", "Synthétique B1"],
            "code_commune": ["59001", "59001", "59002"],
            "population": [1000.0, 3000.0, 5000.0],
        },
        geometry=[
            box(3.00, 50.60, 3.02, 50.62),
            box(3.02, 50.60, 3.04, 50.62),
            box(3.04, 50.60, 3.06, 50.62),
        ],
        crs="EPSG:4326",
    )


def synthetic_quartiers() -> gpd.GeoDataFrame:
    """Quartier Q1 = west half of A1; Q2 = the rest of A plus a sliver of commune B's IRIS."""
    return gpd.GeoDataFrame(
        {
            "code_quartier": ["Q1", "Q2", "QB"],
            "nom_quartier": ["Synthétique Ouest", "Synthétique Est", "Synthétique B"],
            "code_commune": ["59001", "59001", "59002"],
        },
        geometry=[
            box(3.00, 50.60, 3.01, 50.62),
            box(3.01, 50.60, 3.0404, 50.62),  # 0.0004° into commune B: a boundary sliver
            box(3.0404, 50.60, 3.06, 50.62),
        ],
        crs="EPSG:4326",
    )


def test_quartiers_take_only_their_communes_iris():
    by_q = population_by(synthetic_iris(), "quartier", synthetic_quartiers())
    # Q1: half of A1 = 500; Q2: the other half of A1 and all of A2 = 500 + 3000; B's sliver
    # stays in B, so QB keeps all of B1.
    assert by_q["Q1"] == pytest.approx(500, rel=1e-3)
    assert by_q["Q2"] == pytest.approx(3500, rel=1e-3)
    assert by_q["QB"] == pytest.approx(5000, rel=1e-6)
    assert by_q.sum() == pytest.approx(9000)


def test_quartiers_without_commune_column_use_the_largest_overlap():
    quartiers = synthetic_quartiers().drop(columns="code_commune")
    by_q = population_by(synthetic_iris(), "quartier", quartiers)
    assert by_q["Q2"] == pytest.approx(3500, rel=1e-3)
    assert by_q["QB"] == pytest.approx(5000, rel=1e-6)


def test_qpv_estimate_is_the_share_of_each_iris_inside():
    qpv = gpd.GeoDataFrame(
        {"code_qpv": ["SYNTH-Q"], "nom_qpv": ["QPV synthétique"], "code_commune": ["59001"]},
        # a quarter of A2 (west half, south half) and a strip of commune B
        geometry=[box(3.02, 50.60, 3.045, 50.61)],
        crs="EPSG:4326",
    )
    estimate = population_by(synthetic_iris(), "qpv", targets=qpv)
    assert estimate["SYNTH-Q"] == pytest.approx(3000 / 2, rel=1e-2)  # half of A2, nothing of B


def test_commune_levels():
    iris = synthetic_iris()
    assert population_by(iris, "commune").to_dict() == {"59001": 4000.0, "59002": 5000.0}
    lille = iris.assign(
        code_iris=["593500101", "593502401", "593502701"],
        code_commune=["59350", "59298", "59355"],
    )
    assert population_by(lille, "commune_insee").to_dict() == {"59350": 9000.0}
    with pytest.raises(ValueError, match="QPV"):
        population_by(iris, "qpv")


def test_vintage_is_read_from_the_source_and_named():
    assert census_vintage("Fichier importé : iris_mel_rp2019.geojson + x.csv") == 2019
    assert census_vintage(None, "colonne P20_POP") == 2020
    assert census_vintage("base-ic-evol-struct-pop-2021.CSV") == 2021
    assert census_vintage("IGN contours", None) is None
    assert population_label(2019) == "population RP 2019, INSEE"
    assert population_label(2019, estimate=True) == "estimation (IRIS), population RP 2019, INSEE"


def test_qpv_official_population_kept_else_estimated():
    layers = {
        "iris": synthetic_iris(),
        "qpv_2015": gpd.GeoDataFrame(
            {
                "code_qpv": ["SYNTH-O", "SYNTH-E"],
                "nom_qpv": ["QPV synthétique officiel", "QPV synthétique estimé"],
                "code_commune": ["59001", "59001"],
                "population": [1234.0, np.nan],
            },
            geometry=[box(3.00, 50.60, 3.01, 50.62), box(3.02, 50.60, 3.03, 50.62)],
            crs="EPSG:4326",
        ),
    }
    table = territory_population(layers, "qpv_2015", {"iris": 2019})
    assert table.loc["SYNTH-O", "population"] == 1234
    assert table.loc["SYNTH-O", "population_source"] == "population publiée avec la liste des QPV"
    assert table.loc["SYNTH-E", "population"] == pytest.approx(1500, rel=1e-2)
    assert table.loc["SYNTH-E", "population_source"].startswith("estimation (IRIS)")
    assert "RP 2019" in table.loc["SYNTH-E", "population_source"]
    assert math.isnan(territory_population({}, "qpv_2024")["population"].sum(min_count=1))


def test_one_vintage_per_comparison():
    territories = pd.DataFrame(
        {
            "libelle": ["Quartier synthétique", "QPV synthétique"],
            "population": [9000.0, 1234.0],
            "population_source": [
                "population RP 2019, INSEE",
                "population publiée avec la liste des QPV (RP 2020)",
            ],
            "estimation_iris": [np.nan, 1500.0],
            "estimation_source": [None, "estimation (IRIS), population RP 2019, INSEE"],
        }
    )
    same, swapped = one_vintage(territories)
    assert swapped and list(same["population"]) == [9000.0, 1500.0]
    assert same["population_source"].iloc[1].startswith("estimation (IRIS)")
    qpv_only, swapped = one_vintage(territories.iloc[[1, 1]])
    assert not swapped and list(qpv_only["population"]) == [1234.0, 1234.0]
