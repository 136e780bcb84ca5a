"""The City's territories: which polygon a point belongs to, and what a postcode says.

Two rules, each written once and used by the enrichment, the reference-layer loaders and the
command line:

- Membership (``locate_points``, ``commune_codes``). Computed in Lambert-93 (EPSG:2154). A point
  belongs to the polygon that contains it, borders included (predicate ``intersects``). On a
  shared edge or in overlapping slivers the polygon whose centroid is nearest wins, then the
  smallest code. A point in no polygon (a gap between outlines drawn by different producers, a
  point a few metres off the coast of an outline) goes to the nearest polygon within
  ``BORDER_TOLERANCE_M`` = 50 m, else to none. A line or polygon feature is placed by its
  representative point (a point inside it).
- Postcode (``territory_of_postcode``). 59000, 59800 and 59777 are used by Lille only. 59260
  (Hellemmes) and 59160 (Lomme) are shared with Lezennes and Capinghem: they name Hellemmes or
  Lomme only when the commune is known to be Lille's (its code 59350, 59298 or 59355, or a name
  containing Lille, Hellemmes or Lomme); otherwise they say nothing.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import shapely
from geopandas import GeoDataFrame, GeoSeries, sjoin, sjoin_nearest

from geo.crs import COMPUTE_CRS, DISPLAY_CRS

LILLE, HELLEMMES, LOMME = "59350", "59298", "59355"
CITY_NAMES = {LILLE: "Lille", HELLEMMES: "Hellemmes", LOMME: "Lomme"}
BORDER_TOLERANCE_M = 50.0
LILLE_ONLY_POSTCODES = {"59000": LILLE, "59800": LILLE, "59777": LILLE}
SHARED_POSTCODES = {"59260": HELLEMMES, "59160": LOMME}  # with Lezennes, Capinghem
_CITY_WORDS = ("lille", "hellemmes", "lomme")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def territory_of_postcode(
    postcode: object, *, commune_code: object = None, commune_name: object = None
) -> str | None:
    """59350, 59298 or 59355 when the postcode says a territory of the City, else None."""
    if postcode is None or pd.isna(postcode):
        return None
    code = str(postcode).strip()
    if code in LILLE_ONLY_POSTCODES:
        return LILLE_ONLY_POSTCODES[code]
    if code not in SHARED_POSTCODES:
        return None
    in_city = commune_code is not None and not pd.isna(commune_code) and commune_code in CITY_NAMES
    if not in_city and isinstance(commune_name, str):
        in_city = any(word in _fold(commune_name) for word in _CITY_WORDS)
    return SHARED_POSTCODES[code] if in_city else None


def locate_points(
    pts: GeoSeries, layer: GeoDataFrame, code_col: str, tolerance: float = BORDER_TOLERANCE_M
) -> np.ndarray:
    """Position in ``layer`` of the one polygon each point belongs to (-1 for none).

    Both are in EPSG:2154; ``pts`` has a RangeIndex and ``layer`` a positional index.
    """
    result = np.full(len(pts), -1, dtype=np.int64)
    if len(pts) == 0:
        return result
    left = GeoDataFrame(geometry=pts)
    right = layer[[code_col, "geometry"]]
    codes = right[code_col].astype(str).to_numpy()
    hits = sjoin(left, right, how="inner", predicate="intersects")
    if len(hits):
        pos = hits.index.to_numpy()
        idx = hits["index_right"].to_numpy()
        centroids = right.geometry.centroid.to_numpy()
        dist = shapely.distance(pts.to_numpy()[pos], centroids[idx])
        best = (
            pd.DataFrame({"pos": pos, "idx": idx, "d": dist, "code": codes[idx]})
            .sort_values(["pos", "d", "code"])
            .drop_duplicates("pos")
        )
        result[best["pos"].to_numpy()] = best["idx"].to_numpy()
    missing = result == -1
    if missing.any() and tolerance > 0:
        near = sjoin_nearest(left[missing], right, max_distance=tolerance, distance_col="_d")
        if len(near):
            near = near.dropna(subset=["index_right"])
            idx = near["index_right"].to_numpy().astype(np.int64)
            best = (
                pd.DataFrame(
                    {"pos": near.index.to_numpy(), "idx": idx, "d": near["_d"], "code": codes[idx]}
                )
                .sort_values(["pos", "d", "code"])
                .drop_duplicates("pos")
            )
            result[best["pos"].to_numpy()] = best["idx"].to_numpy()
    return result


def commune_codes(features: GeoSeries, communes: GeoDataFrame, code_col: str = "code") -> pd.Series:
    """The code of the commune each feature belongs to (None for none), on ``features``' index."""
    out = pd.Series([None] * len(features), index=features.index, dtype=object)
    present = features.notna() & ~features.is_empty
    if communes is None or len(communes) == 0 or not present.any():
        return out
    crs = features.crs or DISPLAY_CRS
    points = GeoSeries(features[present].values, crs=crs).representative_point()
    layer = communes if communes.crs is not None else communes.set_crs(DISPLAY_CRS)
    layer = layer[~(layer.geometry.isna() | layer.geometry.is_empty)]
    layer = layer.to_crs(COMPUTE_CRS).reset_index(drop=True)
    pos = locate_points(points.to_crs(COMPUTE_CRS).reset_index(drop=True), layer, code_col)
    values = layer[code_col].astype(str).to_numpy(dtype=object)
    found = np.where(pos >= 0, values[np.clip(pos, 0, None)], None)
    out[present.to_numpy()] = found
    return out
