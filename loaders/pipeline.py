"""Enrich the City's datasets once per data and layer version, and keep the result on disk.

The spatial joins take a few seconds on real layers; every page needs their result. The cache key
is a hash of the datasets' version, each reference layer's (retrieved, rows, updated, source),
the QPV buffer and the QPV switch year, so importing new data or refreshing a layer invalidates
it by itself. Files: ``enriched_dir()/KEY_structures.parquet`` (and grants, land: GeoParquet
in EPSG:4326) plus ``KEY_conflicts.parquet``; older keys beyond the last few are pruned.

The cache is built when the data change (``rebuild`` after ``python -m loaders sync``, ``warm``
after an import, an undo or a layer change), so a page view only reads it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.crs import DISPLAY_CRS
from geo.enrich import conflicts_report, enrich_points
from geo.locate import locate_grants
from loaders.config import enriched_dir, qpv_buffer_m

SCHEMA_VERSION = "2"  # bump when enrich_points changes its output
ENRICH_LAYERS = ("communes", "mel_communes", "quartiers", "iris", "qpv_2015", "qpv_2024")
DATASET_NAMES = ("structures", "grants", "land")
CONFLICT_LABELS = {"structures": "structures", "grants": "subventions", "land": "foncier"}
KEEP_KEYS = 3

_log = logging.getLogger("ess.pipeline")


@dataclass
class Enriched:
    """The three enriched datasets, the postcode conflicts, and the cache key they came from."""

    structures: gpd.GeoDataFrame
    grants: gpd.GeoDataFrame
    land: gpd.GeoDataFrame
    conflicts: pd.DataFrame
    key: str


def qpv_switch_year() -> int:
    """First year that uses the 2024 QPV list (ESS_QPV_SWITCH_YEAR, default 2024)."""
    try:
        return int(os.environ.get("ESS_QPV_SWITCH_YEAR", "2024"))
    except ValueError:
        return 2024


def _layer_version(entry) -> dict:
    """What identifies a layer's content: its meta when given, else a cheap digest of the data."""
    if isinstance(entry, tuple):
        gdf, meta = entry
        if meta is not None:
            return {
                k: getattr(meta, k, None) for k in ("retrieved", "rows", "updated", "source")
            } | {"present": gdf is not None}
        entry = gdf
    if entry is None:
        return {"present": False}
    bounds = [round(float(b), 6) for b in entry.total_bounds] if len(entry) else []
    return {"rows": len(entry), "bounds": bounds, "columns": sorted(map(str, entry.columns))}


def cache_key(datasets, layers: dict, buffer_m: float, switch_year: int) -> str:
    """Hash of everything the enrichment depends on."""
    payload = {
        "schema": SCHEMA_VERSION,
        "version": str(datasets.version),
        "layers": {name: _layer_version(layers.get(name)) for name in ENRICH_LAYERS},
        "buffer_m": float(buffer_m),
        "switch_year": int(switch_year),
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _paths(key: str) -> dict[str, Path]:
    folder = enriched_dir()
    names = (*DATASET_NAMES, "conflicts")
    return {name: folder / f"{key}_{name}.parquet" for name in names}


def _as_points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """A GeoDataFrame in EPSG:4326: its geometry if it has one, else points from lat/lon."""
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        return df if df.crs is not None else df.set_crs(DISPLAY_CRS)
    lat = pd.to_numeric(df.get("lat"), errors="coerce") if "lat" in df else None
    lon = pd.to_numeric(df.get("lon"), errors="coerce") if "lon" in df else None
    if lat is None or lon is None:
        return gpd.GeoDataFrame(df, geometry=[None] * len(df), crs=DISPLAY_CRS)
    geometry = gpd.points_from_xy(lon, lat)
    geometry[(lat.isna() | lon.isna()).to_numpy()] = None
    return gpd.GeoDataFrame(df, geometry=geometry, crs=DISPLAY_CRS)


def _compute(datasets, layers: dict, buffer_m: float, switch: int, key: str) -> Enriched:
    structures = _as_points(datasets.structures)
    grants = locate_grants(datasets.grants, structures)
    land = _as_points(datasets.land)
    common = {"qpv_switch_year": switch, "buffer_m": buffer_m}
    years = grants["annee"] if "annee" in grants.columns else None
    result = {
        "structures": enrich_points(structures, layers, **common),
        "grants": enrich_points(grants, layers, year=years, **common),
        "land": enrich_points(land, layers, **common),
    }
    for name, gdf in result.items():
        result[name] = _with_both_lists(gdf, layers, buffer_m, switch)
    reports = [
        conflicts_report(df).assign(jeu=CONFLICT_LABELS[name]) for name, df in result.items()
    ]
    reports = [r for r in reports if len(r)]
    conflicts = (
        pd.concat(reports, ignore_index=True)
        if reports
        else pd.DataFrame(columns=["jeu", "code_postal", "code_commune", "commune_conflict"])
    )
    # Text only, so that values of mixed types from the three datasets can be stored.
    conflicts = conflicts.astype(object).map(lambda v: None if pd.isna(v) else str(v))
    return Enriched(conflicts=conflicts, key=key, **result)


def _with_both_lists(gdf: gpd.GeoDataFrame, layers: dict, buffer_m: float, switch: int):
    """Adds the QPV of each list (``code_qpv_2015``, ``near_qpv_2024``...) to every record.

    ``code_qpv`` follows the list in force in the record's year; the QPV page lets the user pick
    one list for all years, so both memberships are computed here, once per data version.
    """
    out = gdf.copy()
    for gen, year in (("2015", switch - 1), ("2024", switch)):
        name = f"qpv_{gen}"
        only = {name: layers[name]} if name in layers else {}
        one = enrich_points(
            gdf[["geometry"]], only, year=year, qpv_switch_year=switch, buffer_m=buffer_m
        )
        out[f"code_qpv_{gen}"] = one["code_qpv"].to_numpy()
        out[f"nom_qpv_{gen}"] = one["nom_qpv"].to_numpy()
        out[f"dist_qpv_{gen}_m"] = one["dist_qpv_m"].to_numpy()
        out[f"near_qpv_{gen}"] = one["near_qpv"].to_numpy()
    return out


def _write(enriched: Enriched, paths: dict[str, Path]) -> None:
    """Write every file to a temporary name first, then swap them all in."""
    temps: dict[str, Path] = {}
    try:
        for name, path in paths.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            temps[name] = Path(tmp)
            frame = getattr(enriched, name)
            frame.to_parquet(temps[name], index=name != "conflicts")
        for name, path in paths.items():
            os.replace(temps[name], path)
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def _read(paths: dict[str, Path], key: str) -> Enriched | None:
    if not all(p.exists() for p in paths.values()):
        return None
    try:
        data = {name: gpd.read_parquet(paths[name]) for name in DATASET_NAMES}
        conflicts = pd.read_parquet(paths["conflicts"])
    except (OSError, ValueError):
        return None  # unreadable cache: recompute
    return Enriched(conflicts=conflicts, key=key, **data)


def _prune(keep: str) -> None:
    """Remove the files of older keys, keeping the KEEP_KEYS most recent ones."""
    folder = enriched_dir()
    newest: dict[str, float] = {}
    for path in folder.glob("*_*.parquet"):
        key = path.name.split("_", 1)[0]
        newest[key] = max(newest.get(key, 0.0), path.stat().st_mtime)
    ranked = sorted(newest, key=newest.get, reverse=True)
    stale = [k for k in ranked[KEEP_KEYS:] if k != keep]
    for path in folder.glob("*_*.parquet"):
        if path.name.split("_", 1)[0] in stale:
            path.unlink(missing_ok=True)


def enriched(datasets, layers: dict, *, force: bool = False) -> Enriched:
    """The enriched datasets for these inputs: from the cache, else computed and cached.

    ``layers`` maps layer names to ``(gdf | None, LayerMeta)`` as ``load_layers`` returns, or
    directly to GeoDataFrames. ``force`` recomputes even when a cached copy exists.
    """
    buffer_m = qpv_buffer_m()
    switch = qpv_switch_year()
    key = cache_key(datasets, layers, buffer_m, switch)
    paths = _paths(key)
    if not force:
        cached = _read(paths, key)
        if cached is not None:
            return cached
    result = _compute(datasets, layers, buffer_m, switch, key)
    _write(result, paths)
    _prune(key)
    return result


def rebuild(*, force: bool = True) -> dict:
    """Reload the layers and datasets, compute the enrichment, and summarise it.

    With ``force`` (what ``python -m loaders sync`` asks) it is recomputed even when cached.
    Returns rows per dataset, the number of postcode conflicts and the cache key.
    """
    load_layers = importlib.import_module("loaders.layers").load_layers
    load_datasets = importlib.import_module("loaders.datasets").load_datasets
    result = enriched(load_datasets(), load_layers(), force=force)
    return {
        "structures": len(result.structures),
        "grants": len(result.grants),
        "land": len(result.land),
        "conflicts": len(result.conflicts),
        "key": result.key,
    }


def warm() -> dict | None:
    """Builds the cache for the data now on disk, so that the next page view only reads it.

    Called right after whatever changes that data (an import, an undo, a coordinates fix, a
    layer import or download): the spatial joins then run once, at write time, instead of on
    the first page view after it. Never raises, so a write never fails because of it: on
    failure it logs and returns None, and the first page view computes the enrichment (and
    shows its error, if it fails again). Returns ``rebuild``'s summary otherwise.
    """
    try:
        return rebuild(force=False)
    except Exception:  # noqa: BLE001 - the data is written; the page view will retry
        _log.exception("enrichment cache not built after a data change")
        return None
