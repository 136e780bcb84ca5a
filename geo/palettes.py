"""Map colours chosen for colour-blind viewers and projectors, and the WCAG contrast rule.

Why this module exists: a public event shows the maps on a washed-out projector to an audience
of whom about 1 in 12 men has a colour vision deficiency. The point colours come from the
Okabe-Ito set (distinguishable under the common deficiencies), darkened where needed so every
marker stands out from the light map background by WCAG's non-text contrast (3:1); legend text
must reach the text contrast (4.5:1). `contrast_ratio` is the one place computing WCAG contrast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Plain light background of the offline vector base (OpenStreetMap's land colour, so the map looks
# the same whether tiles answer or not). Colours are checked against it.
MAP_BACKGROUND = "#f2efe9"
LEGEND_BACKGROUND = "#ffffff"
LEGEND_TEXT = "#222222"

# WCAG 2.1: 1.4.3 (text, normal size) and 1.4.11 (graphical objects such as map markers).
TEXT_MIN_CONTRAST = 4.5
GRAPHIC_MIN_CONTRAST = 3.0

# Okabe-Ito (2008) hues; the bluish green is darkened (#009E73 -> #007A5A, same hue) to reach 3:1
# on MAP_BACKGROUND.
OKABE_ITO_BLUE = "#0072B2"
OKABE_ITO_VERMILLION = "#D55E00"
OKABE_ITO_GREEN_DARK = "#007A5A"
DARK_GREY = "#444444"
MID_GREY = "#767676"

GRANT_COLOR = OKABE_ITO_BLUE
STRUCTURE_COLOR = OKABE_ITO_BLUE
LAND_COLOR = OKABE_ITO_VERMILLION
ESTABLISHMENT_COLOR = MID_GREY
FRICHE_COLOR = DARK_GREY
LAND_STATUS_COLORS = {
    "disponible": OKABE_ITO_GREEN_DARK,
    "attribué": OKABE_ITO_BLUE,
    "à l'étude": OKABE_ITO_VERMILLION,
}

# Outlines: the commune line is the darkest, QPV lines are red (2024) and purple dashed (2015):
# told apart by their dash pattern as well as by colour.
COMMUNE_LINE = "#222222"
QUARTIER_LINE = "#555555"
IRIS_LINE = "#8a8a8a"
QPV_2024_LINE = "#b2182b"
QPV_2015_LINE = "#762a83"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of a '#rrggbb' (or '#rgb') colour, from 0 (black) to 1 (white)."""
    text = color.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    if len(text) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in text):
        raise ValueError(f"Couleur non reconnue : « {color} » (attendu : #rrggbb).")
    r, g, b = (_channel(int(text[i : i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours, from 1 (identical) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def contrast_problems(
    markers: Mapping[str, str],
    *,
    background: str = MAP_BACKGROUND,
    text: str = LEGEND_TEXT,
    text_background: str = LEGEND_BACKGROUND,
) -> list[str]:
    """French descriptions of every colour below WCAG contrast; empty when all pass.

    `markers` maps a legend label to the colour drawn on the map (a marker fill or an outline),
    checked against the map background at 3:1; the legend text against its box at 4.5:1.
    """
    problems = []
    ratio = contrast_ratio(text, text_background)
    if ratio < TEXT_MIN_CONTRAST:
        problems.append(f"Texte de légende {text} sur {text_background} : {ratio:.2f}:1 < 4,5:1")
    for label, color in markers.items():
        ratio = contrast_ratio(color, background)
        if ratio < GRAPHIC_MIN_CONTRAST:
            problems.append(f"« {label} » {color} sur {background} : {ratio:.2f}:1 < 3:1")
    return problems


def legend_colors(items: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Label -> colour seen on the map, for legend items with a point or line swatch."""
    return {i["label"]: i["color"] for i in items if i.get("kind") in ("point", "line")}
