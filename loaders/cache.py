"""On-disk cache of reference layers: GeoParquet + JSON metadata, written atomically.

Writes go to a temporary file in the same folder and are swapped in with os.replace, so a failed
fetch or a crash never leaves a half-written layer behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd

from loaders.config import cache_dir


class CacheError(Exception):
    """The cached copy of a layer is unreadable (message in French)."""


def layer_paths(name: str) -> tuple[Path, Path]:
    """Where a layer's data and metadata live: cache_dir()/NAME.parquet and NAME.json."""
    folder = cache_dir()
    return folder / f"{name}.parquet", folder / f"{name}.json"


def _temp_path(target: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def write_layer(name: str, gdf: gpd.GeoDataFrame, meta: dict) -> None:
    """Store a layer and its metadata; both files are fully written before either is replaced."""
    data_path, meta_path = layer_paths(name)
    tmp_data, tmp_meta = _temp_path(data_path), _temp_path(meta_path)
    try:
        gdf.to_parquet(tmp_data, index=False)
        tmp_meta.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp_data, data_path)
        os.replace(tmp_meta, meta_path)
    finally:
        for tmp in (tmp_data, tmp_meta):
            tmp.unlink(missing_ok=True)


def read_meta(name: str) -> dict | None:
    """The cached metadata of a layer, or None when the layer was never cached."""
    data_path, meta_path = layer_paths(name)
    if not (data_path.exists() and meta_path.exists()):
        return None
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CacheError(f"Métadonnées du cache illisibles ({meta_path}) : {exc}") from exc


def read_layer(name: str) -> tuple[gpd.GeoDataFrame, dict] | None:
    """The cached layer and its metadata, or None when it was never cached."""
    meta = read_meta(name)
    if meta is None:
        return None
    data_path, _ = layer_paths(name)
    try:
        gdf = gpd.read_parquet(data_path)
    except Exception as exc:  # pyarrow raises several unrelated types on a damaged file
        raise CacheError(f"Cache illisible pour la couche {name} ({data_path}) : {exc}") from exc
    return gdf, meta
