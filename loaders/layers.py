"""Reference layers: load from cache or embedded default, fetch from official sources, import files.

The dashboard only calls `load_layer(s)`; `fetch_layer` and `import_layer` are used by
`python -m loaders sync` and the import page. A failed fetch or a rejected file never touches
the cache.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from functools import cache
from pathlib import Path

import geopandas as gpd
import requests

from geo.formatting import fmt_date
from loaders import cache as layer_cache
from loaders.config import manifest
from loaders.http import FetchError
from loaders.readers import ReaderError
from loaders.sources import SOURCES
from loaders.sources.common import LayerError, LayerSource, date_from_name

LAYER_NAMES: tuple[str, ...] = tuple(SOURCES)
OVERRIDE_ENV = "ESS_SOURCE_OVERRIDE_"  # + NAME in upper case: space-separated URLs

__all__ = [
    "LAYER_NAMES",
    "FetchError",
    "LayerError",
    "LayerMeta",
    "ReaderError",
    "fetch_layer",
    "import_layer",
    "load_layer",
    "load_layers",
    "source_urls",
]


@dataclass
class LayerMeta:
    """Where a layer comes from and how fresh it is (shown on every page's sources panel)."""

    name: str
    rows: int
    source: str  # human readable source (producer + file or URL)
    source_url: str | None
    retrieved: str | None  # ISO datetime of fetch/import
    updated: str | None  # publisher's last update date (ISO date) if known
    reason: str | None  # why the layer is missing (French), when rows == 0
    embedded: bool = False  # True when it comes from the embedded default
    warning: str | None = None  # e.g. official source unreachable, served from the cache


def _source(name: str) -> LayerSource:
    if name not in SOURCES:
        raise KeyError(f"Couche inconnue : {name} (couches : {', '.join(LAYER_NAMES)})")
    return SOURCES[name]


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _meta_from_dict(data: dict) -> LayerMeta:
    known = {f.name for f in fields(LayerMeta)}
    return LayerMeta(**{k: v for k, v in data.items() if k in known})


def source_urls(name: str, urls: Sequence[str] | None = None) -> list[str]:
    """Official URLs of a layer: explicit `urls`, else ESS_SOURCE_OVERRIDE_<NAME>, else manifest."""
    if urls is not None:
        return list(urls)
    override = os.environ.get(OVERRIDE_ENV + name.upper())
    if override:
        return override.split()
    return list(manifest().get(name, {}).get("urls", []))


@cache
def _embedded(name: str):
    """The embedded default, or None when the package providing it is missing or unusable."""
    try:
        return _source(name).embedded()
    except (OSError, LookupError, LayerError):
        return None


def _missing(name: str, reason: str | None = None) -> tuple[None, LayerMeta]:
    source = _source(name)
    return None, LayerMeta(
        name=name,
        rows=0,
        source=source.producer(),
        source_url=None,
        retrieved=None,
        updated=None,
        reason=reason or source.missing_reason(),
    )


def load_layer(name: str) -> tuple[gpd.GeoDataFrame | None, LayerMeta]:
    """The cached layer, else the embedded default, else (None, meta with a French reason)."""
    _source(name)
    warning = None
    try:
        cached = layer_cache.read_layer(name)
    except layer_cache.CacheError as exc:
        cached, warning = None, str(exc)
    if cached is not None:
        gdf, meta = cached
        return gdf, _meta_from_dict(meta)
    embedded = _embedded(name)
    if embedded is not None:
        meta = LayerMeta(
            name=name,
            rows=len(embedded.gdf),
            source=embedded.source,
            source_url=None,
            retrieved=None,
            updated=embedded.updated,
            reason=None,
            embedded=True,
            warning=warning,
        )
        return embedded.gdf.copy(), meta
    gdf, meta = _missing(name)
    meta.warning = warning
    return gdf, meta


def load_layers() -> dict[str, tuple[gpd.GeoDataFrame | None, LayerMeta]]:
    """Every reference layer, keyed by name (missing ones as (None, meta))."""
    return {name: load_layer(name) for name in LAYER_NAMES}


def fetch_layer(
    name: str,
    *,
    urls: Sequence[str] | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 60,
    retries: int = 3,
) -> tuple[gpd.GeoDataFrame | None, LayerMeta]:
    """Fetch a layer from its official source, validate it and cache it.

    When the network fails the cached (or embedded) layer is returned with a warning saying so;
    when the source answers with unusable data, LayerError is raised and the cache is untouched.
    """
    source = _source(name)
    try:
        fetched = source.fetch(
            source_urls(name, urls), session=session, sleep=sleep, timeout=timeout, retries=retries
        )
    except FetchError as exc:
        gdf, meta = load_layer(name)
        if gdf is None:
            meta.reason = f"{exc}. {meta.reason}"
        else:
            kept = (
                "la couche embarquée est utilisée"
                if meta.embedded
                else "la copie en cache du "
                f"{fmt_date(meta.retrieved, 'date inconnue')} est utilisée"
            )
            meta.warning = f"Source officielle injoignable ({exc}) : {kept}."
        return gdf, meta
    meta = LayerMeta(
        name=name,
        rows=len(fetched.gdf),
        source=fetched.source,
        source_url=fetched.source_url,
        retrieved=_now(),
        updated=fetched.updated,
        reason=None,
    )
    layer_cache.write_layer(name, fetched.gdf, asdict(meta))
    return fetched.gdf, meta


def import_layer(
    name: str, path: str | Path | Sequence[str | Path]
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Import a layer from a user's file (plus optional auxiliary tables), validate and cache it.

    Raises LayerError or ReaderError (French messages); the cache is untouched on failure.
    """
    paths = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    source = _source(name)
    gdf = source.read_files(paths)
    meta = LayerMeta(
        name=name,
        rows=len(gdf),
        source="Fichier importé : " + " + ".join(p.name for p in paths),
        source_url=None,
        retrieved=_now(),
        updated=_file_date(paths[0]),
        reason=None,
    )
    layer_cache.write_layer(name, gdf, asdict(meta))
    return gdf, meta


def _file_date(path: Path) -> str | None:
    """Publisher's date from the file itself: GeoPackage last_change, else a date in the name."""
    if path.suffix.lower() == ".gpkg":
        import sqlite3

        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT max(last_change) FROM gpkg_contents").fetchone()
            if row and row[0]:
                return str(row[0])[:10]
        except sqlite3.Error:
            pass
    return date_from_name(path.name)
