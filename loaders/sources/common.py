"""What every reference layer shares: validation, column aliases, file recognition, plain fetch.

Each layer module subclasses LayerSource and only says what is specific to it (column meanings,
expected codes, where its embedded default comes from).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import requests
import shapely

from geo.communes import (
    CITY_NAMES,
    HELLEMMES,
    LILLE,
    LOMME,
    commune_codes,
    territory_of_postcode,
)
from geo.crs import DISPLAY_CRS, MEL_BBOX
from loaders.http import FetchError, fetch
from loaders.readers import (
    GEOMETRY_NAMES,
    ReaderError,
    geojson_from_bytes,
    read_table,
    read_vector,
)

# Lille and its two communes associées: the "territory" codes used throughout the dashboard.
TERRITORY_CODES = (LILLE, HELLEMMES, LOMME)
TERRITORY_NAMES = dict(CITY_NAMES)
MEL_SIREN = "200093201"


class LayerError(ValueError):
    """A layer's data is unusable (invalid, truncated, wrong content); message in French."""


@dataclass
class Fetched:
    """A validated layer from an official source, and what we know about that source."""

    gdf: gpd.GeoDataFrame
    source: str
    source_url: str | None
    updated: str | None


@dataclass
class Embedded:
    """The default shipped with a package, used when nothing was fetched or imported."""

    gdf: gpd.GeoDataFrame
    source: str
    updated: str | None


def pick(columns, *names: str) -> str | None:
    """First of `names` present in `columns` (columns are already lower-case)."""
    present = set(columns)
    return next((n for n in names if n in present), None)


def code_str(series: pd.Series, width: int = 5) -> pd.Series:
    """Codes as zero-padded strings (CSV readers turn 01001 into 1001.0)."""

    def norm(value) -> str | None:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            return None
        text = str(value).strip()
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]
        if text.isdigit() and len(text) < width:
            text = text.zfill(width)
        return text or None

    return series.map(norm).astype(object)


def to_float(series: pd.Series) -> pd.Series:
    """Numbers written either way (1 234,5 or 1234.5) as floats; blanks become NaN."""
    text = series.astype("string").str.replace("\u202f", "", regex=False)
    text = text.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def http_date_to_iso(value: str | None) -> str | None:
    """ISO date of a Last-Modified header, or None."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError):
        return None


def date_from_name(name: str) -> str | None:
    """Publisher's date written in a file name (…_2023-10.geojson, …_20231002.csv), if any."""
    match = re.search(r"(20\d\d)[-_]?(0[1-9]|1[0-2])(?:[-_]?([0-3]\d))?(?!\d)", name)
    if not match:
        return None
    year, month, day = match.groups()
    return f"{year}-{month}-{day}" if day else f"{year}-{month}"


@lru_cache(maxsize=256)
def _table_cached(path: str, mtime: float) -> pd.DataFrame | None:
    try:
        return read_table(path)
    except (ReaderError, OSError, ValueError):
        return None


def table_of(path: Path) -> pd.DataFrame | None:
    """Attributes of a file (cached per modification time), None when unreadable."""
    try:
        return _table_cached(str(path), path.stat().st_mtime)
    except OSError:
        return None


def _polygonal(geom):
    """Keep the polygon parts of a geometry repaired by make_valid (drops stray lines/points)."""
    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)


def swap_if_latlon(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Swap axes when coordinates were given as lat/lon (a classic WFS mishap)."""
    if gdf.empty:
        return gdf
    xmin, ymin, xmax, ymax = gdf.total_bounds
    lon_min, lat_min, lon_max, lat_max = MEL_BBOX
    if lat_min - 1 <= xmin and xmax <= lat_max + 1 and lon_min - 1 <= ymin and ymax <= lon_max + 1:
        swapped = shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1])
        return gdf.set_geometry(gpd.GeoSeries(swapped, index=gdf.index, crs=gdf.crs))
    return gdf


class LayerSource:
    """One reference layer: how to recognise, read, fetch, validate and default it."""

    name: str = ""
    title: str = ""  # French label, for messages
    geometry_kind: str = "polygon"  # or "point"
    columns: tuple[str, ...] = ()
    file_patterns: tuple[str, ...] = ()  # regexes on lower-case file names, best first
    aux_patterns: tuple[str, ...] = ()
    min_inside_share = 0.5  # for point layers: below this share inside the MEL, the file is wrong

    # -- to override -------------------------------------------------------------------------
    def normalise(self, raw: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        """Map the source's columns onto the canonical ones (raise LayerError when impossible)."""
        raise NotImplementedError

    def check(self, gdf: gpd.GeoDataFrame, origin: str) -> None:
        """Layer-specific checks on the canonical, repaired layer (expected codes, counts)."""

    def recognises(self, table: pd.DataFrame) -> bool:
        """Whether a file's attributes look like this layer's source."""
        return False

    def recognises_aux(self, table: pd.DataFrame) -> bool:
        """Whether a file's attributes look like this layer's auxiliary table (population)."""
        return False

    def apply_aux(self, gdf: gpd.GeoDataFrame, table: pd.DataFrame, origin: str):
        """Complete the layer with an auxiliary table (e.g. population by code)."""
        return gdf

    def embedded(self) -> Embedded | None:
        """The default shipped with a package, or None."""
        return None

    def missing_reason(self) -> str:
        """Why the layer is missing and how to get it (French)."""
        return (
            f"Couche « {self.title} » absente : lancez « python -m loaders sync » avec accès à "
            f"Internet, ou importez le fichier officiel avec « python -m loaders sync --from-dir "
            f"DOSSIER »."
        )

    # -- shared behaviour ----------------------------------------------------------------------
    def fail(self, origin: str, what: str) -> LayerError:
        return LayerError(f"Couche « {self.title} » ({origin}) : {what}")

    def validate(self, gdf: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        """CRS, geometry presence/validity (repaired), type, bounds, then layer-specific checks."""
        if gdf is None or gdf.empty:
            raise self.fail(origin, "aucune entité")
        if gdf.crs is None:
            gdf = gdf.set_crs(DISPLAY_CRS)
        elif not gdf.crs.equals(DISPLAY_CRS):
            gdf = gdf.to_crs(DISPLAY_CRS)
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
        if gdf.empty:
            raise self.fail(origin, "aucune géométrie exploitable")
        gdf = swap_if_latlon(gdf)
        invalid = ~gdf.geometry.is_valid
        if invalid.any():
            gdf.loc[invalid, "geometry"] = gdf.geometry[invalid].make_valid()
        if self.geometry_kind == "polygon":
            gdf["geometry"] = gdf.geometry.map(_polygonal)
            gdf = gdf[gdf.geometry.notna()]
            if gdf.empty:
                raise self.fail(origin, "aucun polygone (le fichier contient-il des points ?)")
            xmin, ymin, xmax, ymax = gdf.total_bounds
            if xmin < MEL_BBOX[0] or ymin < MEL_BBOX[1] or xmax > MEL_BBOX[2] or ymax > MEL_BBOX[3]:
                raise self.fail(
                    origin,
                    f"emprise hors de la Métropole européenne de Lille ({xmin:.3f}, {ymin:.3f}, "
                    f"{xmax:.3f}, {ymax:.3f}) : mauvais fichier ou mauvais système de coordonnées",
                )
        else:
            not_point = gdf.geometry.geom_type != "Point"
            if not_point.any():
                gdf.loc[not_point, "geometry"] = gdf.geometry[not_point].representative_point()
            inside = gdf.geometry.within(shapely.box(*MEL_BBOX))
            if inside.mean() < self.min_inside_share:
                raise self.fail(
                    origin,
                    f"{(~inside).sum()} point(s) sur {len(gdf)} hors de la Métropole européenne "
                    "de Lille : mauvais fichier ou mauvais système de coordonnées",
                )
            gdf = gdf[inside]
        gdf = gpd.GeoDataFrame(
            gdf[[*self.columns, "geometry"]], geometry="geometry", crs=DISPLAY_CRS
        ).reset_index(drop=True)
        self.check(gdf, origin)
        return gdf

    def read_files(self, paths: list[Path]) -> gpd.GeoDataFrame:
        """Read a main file (and optional auxiliary tables) into a validated canonical layer."""
        main, *aux = [Path(p) for p in paths]
        gdf = self.normalise(read_vector(main), main.name)
        for extra in aux:
            gdf = self.apply_aux(gdf, read_table(extra), extra.name)
        return self.validate(gdf, main.name)

    def find_files(self, candidates: list[Path]) -> list[Path] | None:
        """The files of `candidates` holding this layer: main file first, then auxiliary tables.

        A file qualifies when its content is recognised; names only decide among several.
        """

        def main_ok(table: pd.DataFrame, path: Path) -> bool:
            if path.suffix.lower() == ".csv" and self.geometry_kind == "polygon":
                if not any(c in table.columns for c in GEOMETRY_NAMES):
                    return False
            return self.recognises(table)

        main = self._best(candidates, self.file_patterns, main_ok)  # type: ignore[arg-type]
        if main is None:
            return None
        rest = [p for p in candidates if p != main]
        aux = None
        if self.aux_patterns:
            aux = self._best(rest, self.aux_patterns, lambda t, _p: self.recognises_aux(t))
        return [main, aux] if aux else [main]

    @staticmethod
    def _best(candidates, patterns, recognise) -> Path | None:
        ok = []
        for path in sorted(candidates):
            table = table_of(path)
            if table is not None and recognise(table, path):
                ok.append(path)
        for pattern in patterns:
            for path in ok:
                if re.search(pattern, path.name.lower()):
                    return path
        return ok[0] if ok else None

    def fetch(
        self,
        urls: list[str],
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
        retries: int = 3,
    ) -> Fetched:
        """Try each official URL in turn; the first one giving a valid layer wins.

        Raises FetchError when every URL failed on the network, LayerError when at least one
        answered with unusable data.
        """
        if not urls:
            raise LayerError(f"Couche « {self.title} » : aucune adresse de source officielle")
        network, invalid = [], []
        for url in urls:
            try:
                response = fetch(
                    url, timeout=timeout, retries=retries, session=session, sleep=sleep
                )
                gdf = self.validate(
                    self.normalise(geojson_from_bytes(response.content, url), url), url
                )
            except FetchError as exc:
                network.append(exc)
                continue
            except LayerError as exc:
                invalid.append(exc)
                continue
            except ReaderError as exc:
                invalid.append(LayerError(f"Couche « {self.title} » : {exc}"))
                continue
            return Fetched(
                gdf,
                f"{self.producer()} — {url}",
                url,
                http_date_to_iso(response.headers.get("Last-Modified")),
            )
        if invalid:
            raise LayerError(" ; ".join(str(e) for e in invalid))
        raise network[-1]

    def producer(self) -> str:
        from loaders.config import manifest

        return manifest().get(self.name, {}).get("producteur", self.title)


def territory_from_postcode(postcodes: pd.Series, codes: pd.Series) -> pd.Series:
    """Lille's communes associées by postcode (geo.communes rule), else the INSEE code."""
    out = codes.copy()
    for i in np.flatnonzero((codes == LILLE).fillna(False).to_numpy(dtype=bool)):
        said = territory_of_postcode(postcodes.iloc[i], commune_code=LILLE)
        out.iloc[i] = said or LILLE
    return out


def territory_by_location(gdf: gpd.GeoDataFrame, fallback: pd.Series) -> pd.Series:
    """Territory code (59350/59298/59355) of features of Lille from the communes layer."""
    from loaders.layers import load_layer

    communes, _ = load_layer("communes")
    out = fallback.copy()
    if communes is None or gdf.empty:
        return out
    located = commune_codes(gdf.geometry, communes)
    mask = located.notna() & (fallback.isna() | (fallback == LILLE))
    out[mask] = located[mask]
    return out
