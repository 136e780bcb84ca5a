"""One module per reference layer; SOURCES maps each layer name to its LayerSource."""

from __future__ import annotations

from loaders.sources import (
    communes,
    ess_establishments,
    friches,
    iris,
    mel_communes,
    qpv,
    quartiers,
)
from loaders.sources.common import LayerSource

SOURCES: dict[str, LayerSource] = {
    "communes": communes.SOURCE,
    "mel_communes": mel_communes.SOURCE,
    "quartiers": quartiers.SOURCE,
    "iris": iris.SOURCE,
    "qpv_2015": qpv.SOURCE_2015,
    "qpv_2024": qpv.SOURCE_2024,
    "friches": friches.SOURCE,
    "ess_establishments": ess_establishments.SOURCE,
}
