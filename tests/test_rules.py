"""One function per rule: SIRET/SIREN keys, yes/no words (loaders.model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loaders import model
from loaders.datasets import _as_bool
from loaders.validation import validate


def test_siret_checks_both_keys():
    assert model.siret_is_valid("73282932000074")
    # Luhn key of the 14 digits right, but the SIREN 732829321 fails its own key.
    assert not model.siren_is_valid("732829321")
    assert not model.siret_is_valid("73282932100007")
    assert not model.siret_is_valid("7328293200007")  # 13 digits
    assert not model.siret_is_valid("7328293200007A")
    assert not model.siret_is_valid(None)


def test_la_poste_establishments_follow_their_own_rule():
    assert model.siret_is_valid("35600000000048")  # head office: Luhn
    assert model.siret_is_valid("35600000000015")  # digit sum 20, divisible by 5
    assert not model.siret_is_valid("35600000000016")  # digit sum 21


def test_import_rejects_a_siret_whose_siren_key_is_wrong():
    frame = pd.DataFrame(
        {
            "siret": ["73282932000074", "73282932100007"],
            "nom": ["Coopérative Hellemmoise", "Atelier du Marais"],
            "adresse": ["10 rue Roger Salengro", "3 rue de Paris"],
        }
    )
    accepted, rejects, _ = validate(frame, "structures", file_name="structures.csv")
    assert accepted["siret"].tolist() == ["73282932000074"]
    assert [(r["row"], r["column"]) for r in rejects] == [(3, "siret")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("oui", True),
        ("Oui ", True),
        ("VRAI", True),
        ("true", True),
        ("x", True),
        ("1", True),
        ("1.0", True),
        ("1,0", True),
        (1, True),
        (np.int64(1), True),
        (np.True_, True),
        ("non", False),
        ("Non.", False),
        ("faux", False),
        ("FALSE", False),
        ("0", False),
        (0.0, False),
        ("peut-être", None),
        ("", None),
        (2, None),
        (float("nan"), None),
        (None, None),
        (pd.NA, None),
    ],
)
def test_one_boolean_parser(value, expected):
    assert model.parse_bool(value) is expected


def test_typed_datasets_use_the_same_words():
    series = pd.Series(["oui", "x", "Faux", "", None, "n/a"])
    assert _as_bool(series).tolist() == [True, True, False, pd.NA, pd.NA, pd.NA]


# --- postcode -> territory, membership of a commune (geo.communes) ------------------------------


@pytest.mark.parametrize(
    ("postcode", "code", "name", "expected"),
    [
        ("59000", None, None, "59350"),
        ("59800", "59009", None, "59350"),  # Lille-only postcode, whatever the commune found
        ("59777", None, "Euralille", "59350"),
        ("59260", "59298", None, "59298"),
        ("59260", "59350", None, "59298"),
        ("59260", None, "Hellemmes-Lille", "59298"),
        ("59260", "59343", "Lezennes", None),  # shared with Lezennes
        ("59260", None, None, None),
        ("59160", None, "LOMME", "59355"),
        ("59160", None, "Capinghem", None),  # shared with Capinghem
        ("59130", "59350", "Lambersart", None),
        (None, "59350", None, None),
        (float("nan"), "59350", None, None),
    ],
)
def test_one_postcode_rule(postcode, code, name, expected):
    from geo.communes import territory_of_postcode

    assert territory_of_postcode(postcode, commune_code=code, commune_name=name) == expected


def test_geocoder_and_sirene_loader_use_the_postcode_rule():
    from loaders.geocode import lille_citycode
    from loaders.sources.common import territory_from_postcode

    assert lille_citycode("59260", "Hellemmes-Lille") == "59350"
    assert lille_citycode("59260", "Lezennes") == ""
    postcodes = pd.Series(["59260", "59160", "59000", "59260"])
    codes = pd.Series(["59350", "59350", "59350", "59343"])
    expected = ["59298", "59355", "59350", "59343"]
    assert territory_from_postcode(postcodes, codes).tolist() == expected


def _two_communes():
    import geopandas as gpd
    from shapely.geometry import box

    # Two 1 km squares in Lambert-93 with a 60 m gap between them: x 700000-701000, 701060-702060.
    return gpd.GeoDataFrame(
        {"code": ["59350", "59298"]},
        geometry=[box(700000, 7060000, 701000, 7061000), box(701060, 7060000, 702060, 7061000)],
        crs="EPSG:2154",
    )


def test_one_membership_rule_with_a_50_m_tolerance():
    import geopandas as gpd
    from shapely.geometry import Point, box

    from geo.communes import commune_codes

    features = gpd.GeoSeries(
        [
            Point(700500, 7060500),  # inside the first
            Point(701000, 7060500),  # on its edge: borders belong to the commune
            Point(701020, 7060500),  # in the gap, 20 m from the first, 40 m from the second
            Point(701045, 7060500),  # in the gap, 15 m from the second
            Point(699930, 7060500),  # 70 m outside: beyond the tolerance
            box(701500, 7060100, 701600, 7060200),  # a parcel: its representative point
            None,
        ],
        crs="EPSG:2154",
    )
    codes = commune_codes(features, _two_communes())
    assert codes.tolist() == ["59350", "59350", "59350", "59298", None, "59298", None]


# --- French formats: geo.formatting only ------------------------------------------------------


def test_spreadsheet_numbers_trimmed_numbers_and_dates_in_sentences():
    from geo.formatting import NNBSP, fmt_date, fmt_decimal, fmt_m2, fmt_number

    assert [fmt_decimal(v) for v in (12345.5, 3, np.int64(7), 0.1, None, float("nan"))] == [
        "12345,5",
        "3",
        "7",
        "0,1",
        "",
        "",
    ]
    assert fmt_number(12345.67, 2, trim=True) == f"12{NNBSP}345,67"
    assert fmt_number(12.0, 2, trim=True) == "12"
    assert fmt_number(12.5, 2, trim=True) == "12,50"
    assert fmt_date(None, "inconnue") == "inconnue"
    assert fmt_date("2023-10", "inconnue") == "10/2023"
    assert fmt_m2(7900) == f"7{NNBSP}900{NNBSP}m²"


def test_reports_use_the_french_formats():
    from loaders.sync import _table

    text = _table(
        {
            "layers": {"quartiers": {"rows": 12345, "updated": "2024-03-15", "source": "MEL"}},
            "datasets": {},
            "demo": False,
        }
    )
    assert "12\u202f345" in text and "15/03/2024" in text
