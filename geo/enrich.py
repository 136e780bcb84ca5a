"""Spatial enrichment: which commune, quartier, IRIS and QPV each activity point falls in.

Everything is computed in Lambert-93 (EPSG:2154) with vectorised joins; the result keeps the input
CRS. Rules that a reader of the dashboard's figures needs to know:

- Borders. A point gets exactly one commune, quartier and IRIS, by the one membership rule of
  ``geo.communes.locate_points`` (borders included, nearest centroid on a shared edge, nearest
  polygon within ``BORDER_TOLERANCE_M`` = 50 m in a gap, else nothing).
- Commune. The finest layer decides: the IRIS layer's ``code_commune`` when a point falls in an
  IRIS, else the communes layer, else the MEL communes layer. The name comes from the communes
  layer, then the MEL communes layer, then the three names of the city. (The MEL layer codes
  all of Lille as 59350, so it only decides where the finer layers are missing.)
- QPV. Rows whose year is before ``qpv_switch_year`` use the 2015 list, other rows (and rows
  without a year) use the 2024 list. ``dist_qpv_m`` is the distance to the nearest QPV of that
  list (0 inside, NaN when that list is missing); ``near_qpv`` is ``dist_qpv_m <= buffer_m`` and is
  False when the distance is unknown.
- Postcode. ``geo.communes.territory_of_postcode`` says which territory a postcode names, given
  the commune found: 59000, 59800 and 59777 always name Lille; 59260 (Hellemmes) and 59160 (Lomme)
  are shared with Lezennes and Capinghem, so they are only flagged for points inside the city.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from geopandas import GeoDataFrame, sjoin_nearest

from geo.communes import BORDER_TOLERANCE_M, CITY_NAMES, territory_of_postcode
from geo.communes import locate_points as _locate
from geo.crs import COMPUTE_CRS, DISPLAY_CRS

OUTPUT_COLUMNS = [
    "code_commune",
    "nom_commune",
    "code_quartier",
    "nom_quartier",
    "code_iris",
    "qpv_generation",
    "code_qpv",
    "nom_qpv",
    "dist_qpv_m",
    "near_qpv",
    "commune_conflict",
]
_REQUIRED = {
    "communes": ["code", "nom"],
    "mel_communes": ["code", "nom"],
    "quartiers": ["code_quartier", "nom_quartier"],
    "iris": ["code_iris", "code_commune"],
    "qpv_2015": ["code_qpv", "nom_qpv"],
    "qpv_2024": ["code_qpv", "nom_qpv"],
}
_ID_COLUMNS = ["id_subvention", "siret", "site_id", "nom", "nomBeneficiaire", "adresse"]


def _layer(layers: dict, name: str) -> GeoDataFrame | None:
    """The layer in EPSG:2154 with a positional index, or None when missing or empty.

    Accepts either a GeoDataFrame or the (gdf, meta) pair returned by ``load_layers``.
    """
    layer = layers.get(name)
    if isinstance(layer, tuple):
        layer = layer[0]
    if layer is None or len(layer) == 0:
        return None
    missing = [c for c in _REQUIRED[name] if c not in layer.columns]
    if missing:
        raise ValueError(f"Couche « {name} » : colonnes manquantes {', '.join(missing)}")
    if layer.crs is None:
        layer = layer.set_crs(DISPLAY_CRS)
    layer = layer[~(layer.geometry.isna() | layer.geometry.is_empty)]
    return layer.to_crs(COMPUTE_CRS).reset_index(drop=True)


def _take(layer: GeoDataFrame | None, col: str, pos: np.ndarray) -> np.ndarray:
    """Values of ``col`` at positions (None where -1)."""
    out = np.full(len(pos), None, dtype=object)
    if layer is None or col not in layer.columns:
        return out
    found = pos >= 0
    values = layer[col].to_numpy(dtype=object)
    out[found] = [None if pd.isna(v) else str(v) for v in values[pos[found]]]
    return out


def _generations(year: pd.Series | int | None, index: pd.Index, switch: int) -> np.ndarray:
    """'2015' or '2024' per row; rows without a (valid) year use the 2024 list."""
    n = len(index)
    if year is None:
        return np.full(n, "2024", dtype=object)
    if isinstance(year, pd.Series):
        values = year if year.index.equals(index) else year.reindex(index)
        years = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    else:
        converted = pd.to_numeric(pd.Series([year]), errors="coerce").iloc[0]
        years = np.full(n, float(converted) if pd.notna(converted) else np.nan)
    return np.where(years < switch, "2015", "2024").astype(object)


def _postcodes(points: GeoDataFrame) -> pd.Series:
    """Five-digit postcodes as strings (NaN when absent or malformed): 59000.0 -> '59000'."""
    if "code_postal" not in points.columns:
        return pd.Series(np.nan, index=points.index, dtype=object)
    raw = points["code_postal"]
    text = (
        raw.astype(object)
        .where(raw.notna(), None)
        .map(lambda v: None if v is None else str(v).replace(" ", "").replace("\u00a0", ""))
    )
    return text.str.extract(r"^(\d{5})(?:\.0+)?$", expand=False)


def _conflicts(cp: pd.Series, codes: np.ndarray, names: np.ndarray) -> np.ndarray:
    """French explanation where the postcode says another commune than the polygon."""
    expected = np.array(
        [
            territory_of_postcode(c, commune_code=k)
            for c, k in zip(cp.to_numpy(dtype=object), codes, strict=True)
        ],
        dtype=object,
    )
    code_s = pd.Series(codes, dtype=object)
    has = pd.notna(expected) & code_s.notna().to_numpy()
    flag = has & (code_s.to_numpy() != expected)
    out = np.full(len(codes), None, dtype=object)
    cps = cp.to_numpy(dtype=object)
    out[flag] = [
        f"Code postal {c} ({CITY_NAMES[e]}) mais point situé à {n or 'commune inconnue'} ({k})"
        for c, e, n, k in zip(cps[flag], expected[flag], names[flag], codes[flag], strict=True)
    ]
    return out


def _commune_names(communes: GeoDataFrame | None, mel: GeoDataFrame | None) -> dict[str, str]:
    """Code -> name, finest source last so it wins."""
    names = dict(CITY_NAMES)
    for layer in (mel, communes):
        if layer is not None:
            names.update(
                {
                    str(c): str(n)
                    for c, n in zip(layer["code"], layer["nom"], strict=True)
                    if pd.notna(c) and pd.notna(n)
                }
            )
    return names


def enrich_points(
    points: GeoDataFrame,
    layers: dict,
    *,
    year: pd.Series | int | None = None,
    qpv_switch_year: int = 2024,
    buffer_m: float = 300,
) -> GeoDataFrame:
    """Copy of ``points`` with the territory and QPV columns of ARCHITECTURE.md ("Enrichment").

    Non-point geometries (parcels) are placed by their representative point for commune,
    quartier and IRIS, and measured by their outline for the QPV distance. A missing CRS is taken
    as EPSG:4326. Missing or empty layers leave their columns None/NaN.
    """
    out = points.copy()
    if out.crs is None:
        out = out.set_crs(DISPLAY_CRS)
    n = len(out)
    geom = out.geometry.reset_index(drop=True).to_crs(COMPUTE_CRS)
    valid = ~(geom.isna() | geom.is_empty).to_numpy()
    vpos = np.flatnonzero(valid)
    shapes = geom[valid].reset_index(drop=True)
    anchors = shapes.representative_point()

    def locate(layer: GeoDataFrame | None, code_col: str) -> np.ndarray:
        pos = np.full(n, -1, dtype=np.int64)
        if layer is not None:
            pos[vpos] = _locate(anchors, layer, code_col, BORDER_TOLERANCE_M)
        return pos

    communes = _layer(layers, "communes")
    mel = _layer(layers, "mel_communes")
    quartiers = _layer(layers, "quartiers")
    iris = _layer(layers, "iris")

    iris_pos = locate(iris, "code_iris")
    code_commune = _take(iris, "code_commune", iris_pos)
    for layer in (communes, mel):
        todo = pd.isna(code_commune)
        if layer is not None and todo.any():
            code_commune[todo] = _take(layer, "code", locate(layer, "code"))[todo]
    names = _commune_names(communes, mel)
    nom_commune = np.array([names.get(c) if c else None for c in code_commune], dtype=object)

    q_pos = locate(quartiers, "code_quartier")

    generation = _generations(year, out.index, qpv_switch_year)
    code_qpv = np.full(n, None, dtype=object)
    nom_qpv = np.full(n, None, dtype=object)
    dist = np.full(n, np.nan)
    left = GeoDataFrame(geometry=shapes)
    for gen in ("2015", "2024"):
        qpv = _layer(layers, f"qpv_{gen}")
        rows = generation[vpos] == gen
        if qpv is None or not rows.any():
            continue
        right = qpv[["code_qpv", "nom_qpv", "geometry"]]
        near = sjoin_nearest(left[rows], right, distance_col="_d")
        near = (
            near.assign(_code=near["code_qpv"].astype(str))
            .reset_index(names="_pos")
            .sort_values(["_pos", "_d", "_code"])
            .drop_duplicates("_pos")
        )
        target = vpos[near["_pos"].to_numpy()]
        d = near["_d"].to_numpy(dtype=float)
        dist[target] = d
        inside = d <= 0
        code_qpv[target[inside]] = near["code_qpv"].to_numpy(dtype=object)[inside]
        nom_qpv[target[inside]] = near["nom_qpv"].to_numpy(dtype=object)[inside]

    out["code_commune"] = code_commune
    out["nom_commune"] = nom_commune
    out["code_quartier"] = _take(quartiers, "code_quartier", q_pos)
    out["nom_quartier"] = _take(quartiers, "nom_quartier", q_pos)
    out["code_iris"] = _take(iris, "code_iris", iris_pos)
    out["qpv_generation"] = generation
    out["code_qpv"] = code_qpv
    out["nom_qpv"] = nom_qpv
    out["dist_qpv_m"] = dist
    out["near_qpv"] = np.nan_to_num(dist, nan=np.inf) <= buffer_m
    out["commune_conflict"] = _conflicts(
        _postcodes(out).reset_index(drop=True), code_commune, nom_commune
    )
    return out


def conflicts_report(enriched: pd.DataFrame) -> pd.DataFrame:
    """Records whose postcode disagrees with the polygon they fall in (plain DataFrame)."""
    cols = [c for c in _ID_COLUMNS if c in enriched.columns]
    cols += [c for c in ("code_postal", "code_commune", "nom_commune") if c in enriched.columns]
    cols.append("commune_conflict")
    if "commune_conflict" not in enriched.columns:
        return pd.DataFrame(columns=cols)
    mask = enriched["commune_conflict"].notna()
    return pd.DataFrame(enriched.loc[mask, cols])
