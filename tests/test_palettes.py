"""WCAG contrast, computed by hand, and the map colours checked against it."""

from __future__ import annotations

import pytest

from geo import palettes


def test_contrast_ratio_matches_hand_computations():
    # Black on white: (1 + 0.05) / (0 + 0.05) = 21.
    assert palettes.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert palettes.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # Grey #777777: 119/255 = 0.466667 -> ((0.466667 + 0.055) / 1.055) ** 2.4 = 0.184474 on each
    # channel, so L = 0.184474; against white 1.05 / 0.234474 = 4.478 (just under 4.5:1).
    assert palettes.relative_luminance("#777777") == pytest.approx(0.184474, abs=1e-6)
    assert palettes.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.478, abs=1e-3)
    # Okabe-Ito blue #0072B2: R = 0; G = 114/255 -> 0.168269; B = 178/255 -> 0.445200;
    # L = 0.7152 * 0.168269 + 0.0722 * 0.445200 = 0.152489; on white 1.05 / 0.202489 = 5.185.
    assert palettes.relative_luminance("#0072B2") == pytest.approx(0.152489, abs=1e-6)
    assert palettes.contrast_ratio("#ffffff", "#0072b2") == pytest.approx(5.185, abs=1e-3)
    # Order does not matter, short form is accepted.
    assert palettes.contrast_ratio("#fff", "#0072B2") == palettes.contrast_ratio("#0072B2", "#fff")


def test_contrast_ratio_refuses_what_is_not_a_colour():
    with pytest.raises(ValueError, match="Couleur non reconnue"):
        palettes.contrast_ratio("bleu", "#ffffff")


def test_contrast_problems_names_each_colour_below_the_wcag_minimum():
    # Okabe-Ito orange #E69F00 on white: L = 0.2126 * 0.791298 + 0.7152 * 0.346704 + 0 = 0.416196,
    # ratio 1.05 / 0.466196 = 2.252 < 3:1. The blue passes (5.185).
    problems = palettes.contrast_problems(
        {"Orange": "#E69F00", "Bleu": "#0072B2"}, background="#ffffff"
    )
    assert problems == ["« Orange » #E69F00 sur #ffffff : 2.25:1 < 3:1"]
    # Grey text #777777 on a white legend: 4.478 < 4.5:1.
    assert palettes.contrast_problems({}, text="#777777") == [
        "Texte de légende #777777 sur #ffffff : 4.48:1 < 4,5:1"
    ]


def test_map_colours_pass_on_the_map_background():
    colours = {
        "subventions": palettes.GRANT_COLOR,
        "structures": palettes.STRUCTURE_COLOR,
        "foncier": palettes.LAND_COLOR,
        "établissements": palettes.ESTABLISHMENT_COLOR,
        "friches": palettes.FRICHE_COLOR,
        **palettes.LAND_STATUS_COLORS,
        "communes": palettes.COMMUNE_LINE,
        "quartiers": palettes.QUARTIER_LINE,
        "qpv 2024": palettes.QPV_2024_LINE,
        "qpv 2015": palettes.QPV_2015_LINE,
    }
    assert palettes.contrast_problems(colours) == []
    # The three land statuses are three different hues (not shades of one).
    assert len(set(palettes.LAND_STATUS_COLORS.values())) == 3
