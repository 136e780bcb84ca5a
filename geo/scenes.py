"""The presentation's scenes: their order, the keys that move between them, their place in the URL.

A speaker prepares a sequence before an event and opens it at the event: the URL holds the scene
(``scene=3``, counted from 1 as the audience sees "3 / 7") and the shared filters
(``annees=2023``…, see geo.filters), so the same link always shows the same scene.
Pure functions: pages/presentation.py renders the scenes with the pages' own geo/ functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Scene:
    """One full-screen view: ``kind`` says what pages/presentation.py draws."""

    slug: str
    title: str
    kind: str  # "figures", "funded_map", "qpv", "territories", "priorities", "land", "compare"


SCENES: tuple[Scene, ...] = (
    Scene("chiffres", "Chiffres clés et enveloppe de la stratégie", "figures"),
    Scene("carte", "Les structures financées sur le territoire", "funded_map"),
    Scene("qpv", "Couverture des quartiers prioritaires", "qpv"),
    Scene("territoires", "Répartition par quartier", "territories"),
    Scene("priorites", "Montants par priorité de la stratégie", "priorities"),
    Scene("foncier", "Accès au foncier et aux locaux", "land"),
    Scene("comparer", "Comparaison de territoires", "compare"),
)

# Keys as the browser names them (KeyboardEvent.key) → move. Presentation clickers send
# PageDown/PageUp; some send the arrows.
KEY_MOVES: dict[str, str] = {
    "ArrowRight": "next",
    "PageDown": "next",
    "ArrowLeft": "previous",
    "PageUp": "previous",
    "Home": "first",
    "End": "last",
}
MOVES = ("next", "previous", "first", "last")

SCENE_PARAM = "scene"
PRESENTATION_PARAM = "presentation"


def step(index: int, move: str, count: int = len(SCENES)) -> int:
    """The scene index (0-based) after a move; the first and last scenes do not wrap around.

    An unknown move leaves the index where it is (after clamping it into the sequence).
    """
    if count <= 0:
        return 0
    index = min(max(index, 0), count - 1)
    if move == "next":
        return min(index + 1, count - 1)
    if move == "previous":
        return max(index - 1, 0)
    if move == "first":
        return 0
    if move == "last":
        return count - 1
    return index


def index_from_params(params: Mapping[str, object], count: int = len(SCENES)) -> int:
    """The 0-based scene index named by ``scene=`` (1-based number or slug); 0 when unreadable."""
    value = params.get(SCENE_PARAM, "")
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    text = str(value or "").strip()
    if not text:
        return 0
    slugs = [s.slug for s in SCENES[:count]]
    if text in slugs:
        return slugs.index(text)
    try:
        number = int(text)
    except ValueError:
        return 0
    return min(max(number, 1), count) - 1 if count else 0


def scene_params(index: int) -> dict[str, str]:
    """The URL parameters of a scene, to merge with the filters' (geo.filters.to_query_params)."""
    return {PRESENTATION_PARAM: "1", SCENE_PARAM: str(index + 1)}


def counter(index: int, count: int = len(SCENES)) -> str:
    """'3 / 7': where the speaker is in the sequence."""
    return f"{index + 1} / {count}"
