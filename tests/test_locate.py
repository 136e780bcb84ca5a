"""One rule places a grant: project, else beneficiary by SIRET, else by RNA, else nowhere."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo.locate import locate_grants
from loaders import pipeline
from tests.test_pipeline import FakeDatasets, datasets, layers

STRUCTURES = pd.DataFrame(
    {
        "siret": ["11111111111111", "22222222222222", None, "44444444444444"],
        "rna": [None, "W595000001", "W595000002", "W595000004"],
        "code_postal": ["59160", "59000", "59260", None],
        "lat": [50.63, 50.612, 50.627, None],  # the 4th has no position: it locates nothing
        "lon": [2.99, 3.060, 3.110, None],
    }
)


def test_each_step_of_the_rule_in_order():
    grants = pd.DataFrame(
        {
            "id_subvention": ["projet", "siret", "rna", "siret_avant_rna", "rien", "sans_point"],
            "idBeneficiaire": [
                "11111111111111",
                " 11111111111111 ",
                None,
                "11111111111111",
                "99999999999999",
                "44444444444444",
            ],
            "rnaBeneficiaire": [None, None, "W595000002", "W595000002", "W000000000", "W595000004"],
            "lat_projet": [50.64, None, None, None, None, "n/a"],  # a text that is no number
            "lon_projet": [3.05, None, None, None, None, 3.0],
        }
    )
    located = locate_grants(grants, STRUCTURES).set_index("id_subvention")
    assert list(located["localisation"]) == [
        "projet",
        "bénéficiaire",
        "bénéficiaire",
        "bénéficiaire",
        "non localisé",
        "non localisé",
    ]
    xy = {k: (g.x, g.y) for k, g in located.geometry.items() if g is not None}
    assert xy == {
        "projet": (3.05, 50.64),
        "siret": (2.99, 50.63),
        "rna": (3.110, 50.627),
        "siret_avant_rna": (2.99, 50.63),  # SIRET wins over RNA
    }
    # the beneficiary's postcode where the grant has none; none for a project location
    assert located.loc["rna", "code_postal"] == "59260"
    assert located.loc["siret", "code_postal"] == "59160"
    assert pd.isna(located.loc["projet", "code_postal"])
    assert located.crs == "EPSG:4326"


def test_a_grant_known_only_by_rna_is_in_its_commune_after_enrichment(ess_home):
    """The map and the territorial totals read the enriched grants: the RNA grant is there."""
    base = datasets()
    structures = gpd.GeoDataFrame(
        {**{c: list(base.structures[c]) + [None] for c in ("siret", "nom")}},
        geometry=[*base.structures.geometry, Point(3.111, 50.625)],  # a Hellemmes association
        crs="EPSG:4326",
    ).assign(rna=[None, None, "W595000002"], code_postal=["59260", "59000", "59260"])
    grants = pd.concat(
        [
            base.grants,
            pd.DataFrame(
                {
                    "id_subvention": ["g4"],
                    "idBeneficiaire": [None],
                    "rnaBeneficiaire": ["W595000002"],
                    "nomBeneficiaire": ["Asso RNA"],
                    "montant": [500.0],
                    "annee": [2022],
                }
            ),
        ],
        ignore_index=True,
    )
    data = FakeDatasets(structures=structures, grants=grants, land=base.land, version="rna")
    enriched = pipeline.enriched(data, layers()).grants.set_index("id_subvention")
    assert enriched.loc["g4", "localisation"] == "bénéficiaire"
    assert enriched.loc["g4", "code_commune"] == "59298"
    totals = enriched.groupby("code_commune")["montant"].sum()
    assert totals["59298"] == 500.0
