"""Read the vector files people actually receive (GeoJSON, GeoPackage, zipped Shapefile, KML, CSV).

Everything comes out as a GeoDataFrame in EPSG:4326 with lower-case column names, so the layer
modules only deal with column meanings, never with formats.

Compressed inputs are judged by their uncompressed size first (loaders.archives): a zipped
Shapefile is checked from its central directory, then its .shp and sidecar files are extracted
(within the same limit) to a temporary folder, so GDAL never decompresses anything itself; gzip
payloads are decompressed in chunks and abandoned past the limit.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import shape

from geo.crs import DISPLAY_CRS
from loaders.archives import ArchiveTooLargeError, check_members, extract_members, gunzip_limited

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".zip", ".shp", ".kml", ".csv", ".gz"}
LON_NAMES = ("longitude", "lon", "lng", "long", "x")
LAT_NAMES = ("latitude", "lat", "y")
GEOMETRY_NAMES = ("geometry", "geom", "wkt", "the_geom", "geo_shape", "geojson", "shape")
# CNIG Friches standard (as Cartofriches exports it): the site's outline, else its centroid, as WKT.
CNIG_GEOMETRY_NAMES = ("geomsurf", "geompoint")
# Missing values declared by the CNIG standards' schemas.
MISSING_VALUES = ("", "NA", "NaN", "N/A")


class ReaderError(ValueError):
    """A file cannot be read as a geographic layer (message in French, names the file)."""


def _label(path: Path | str) -> str:
    return str(path) if "://" in str(path) else Path(str(path)).name


def _fail(path: Path | str, what: str) -> ReaderError:
    return ReaderError(f"Impossible de lire « {_label(path)} » : {what}")


def _lower_columns(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={c: str(c).strip().lower() for c in df.columns if c != "geometry"})


def _guess_crs(gdf: gpd.GeoDataFrame, path: Path | str) -> gpd.GeoDataFrame:
    """Give a CRS to a layer that declares none: WGS84 for degrees, else L93."""
    if gdf.crs is not None:
        return gdf
    if gdf.empty:
        return gdf.set_crs(DISPLAY_CRS)
    xmin, ymin, xmax, ymax = gdf.total_bounds
    if -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90:
        return gdf.set_crs(DISPLAY_CRS)
    if 0 <= xmin <= xmax <= 1_300_000 and 6_000_000 <= ymin <= ymax <= 7_200_000:
        return gdf.set_crs("EPSG:2154")
    raise _fail(path, "système de coordonnées absent et impossible à deviner")


def _finish(gdf: gpd.GeoDataFrame, path: Path | str) -> gpd.GeoDataFrame:
    gdf = _guess_crs(gdf, path)
    if gdf.crs is not None and not gdf.crs.equals(DISPLAY_CRS):
        gdf = gdf.to_crs(DISPLAY_CRS)
    return _lower_columns(gdf)


def geojson_from_bytes(content: bytes, origin: str) -> gpd.GeoDataFrame:
    """Parse a GeoJSON payload (FeatureCollection or Feature, possibly gzipped) into EPSG:4326."""
    content = maybe_gunzip(content, origin)
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(origin, f"contenu JSON invalide ou tronqué ({exc})") from exc
    return geojson_from_obj(data, origin)


def geojson_from_obj(data, origin: str) -> gpd.GeoDataFrame:
    """Turn a decoded GeoJSON object into a GeoDataFrame in EPSG:4326 (no crs member = WGS84)."""
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise _fail(origin, "ce n'est pas une collection d'entités GeoJSON (« features » absent)")
    rows, geoms = [], []
    try:
        for feature in data["features"]:
            props = dict(feature.get("properties") or {})
            geometry = feature.get("geometry")
            rows.append(props)
            geoms.append(shape(geometry) if geometry else None)
    except (AttributeError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise _fail(origin, f"géométrie GeoJSON invalide ({exc})") from exc
    crs = DISPLAY_CRS
    declared = (data.get("crs") or {}).get("properties", {}).get("name")
    if declared and "CRS84" not in declared:
        crs = declared
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=crs)
    return _finish(gdf, origin)


def maybe_gunzip(content: bytes, origin: str) -> bytes:
    """Decompress gzip payloads (Etalab ships .geojson.gz); leave anything else unchanged."""
    if content[:2] == b"\x1f\x8b":
        try:
            return gunzip_limited(content, _label(origin))
        except ArchiveTooLargeError as exc:
            raise ReaderError(str(exc)) from exc
        except (OSError, EOFError) as exc:
            raise _fail(origin, f"archive gzip tronquée ou invalide ({exc})") from exc
    return content


def read_vector(path: str | Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage, zipped Shapefile, Shapefile, KML or CSV file into EPSG:4326."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "fichier introuvable")
    name = path.name.lower()
    if name.endswith(".csv"):
        return _read_csv_vector(path)
    if name.endswith((".geojson", ".json", ".gz")):
        return geojson_from_bytes(path.read_bytes(), path.name)
    if name.endswith(".zip"):
        return _from_zip(path, lambda shp: _read_ogr(shp, path))
    if name.endswith((".gpkg", ".shp", ".kml")):
        return _read_ogr(str(path), path)
    raise _fail(
        path, "format non reconnu (attendu : GeoJSON, GeoPackage, Shapefile zippé, KML, CSV)"
    )


def _from_zip(path: Path, read: Callable[[str], pd.DataFrame]) -> pd.DataFrame:
    """`read` applied to the Shapefile of a zip archive, once checked and extracted."""
    if not zipfile.is_zipfile(path):
        raise _fail(path, "archive ZIP invalide")
    with tempfile.TemporaryDirectory(prefix="ess-zip-") as folder:
        try:
            with zipfile.ZipFile(path) as archive:
                check_members(archive.infolist(), path.name)
                members = _shapefile_members(archive.namelist())
                if not members:
                    raise _fail(path, "l'archive ZIP ne contient aucun fichier .shp")
                extract_members(archive, members, Path(folder), path.name)
        except ArchiveTooLargeError as exc:
            raise ReaderError(str(exc)) from exc
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
            raise _fail(path, f"archive ZIP illisible ({exc})") from exc
        return read(str(Path(folder) / next(iter(members.values()))))


def _shapefile_members(names: list[str]) -> dict[str, str]:
    """{member: plain file name} for the first .shp of an archive and its sidecar files.

    Sidecars (.shx, .dbf, .prj, .cpg...) are those sharing the .shp's path and stem in any case;
    they are renamed after the .shp's stem, and no member keeps its folders, so nothing can be
    written outside the temporary folder.
    """
    shp = next((n for n in names if n.lower().endswith(".shp")), None)
    if shp is None:
        return {}
    stem = shp[:-4]
    base = stem.replace("\\", "/").rsplit("/", 1)[-1] or "couche"
    members = {shp: base + ".shp"}
    for name in names:
        head, dot, ext = name.rpartition(".")
        if name != shp and dot and head.lower() == stem.lower() and "/" not in ext:
            members[name] = f"{base}.{ext}"
    return members


def _read_ogr(source: str, path: Path) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(source)
    except Exception as exc:  # pyogrio/GDAL raise DataSourceError, DataLayerError, ValueError
        raise _fail(path, f"fichier géographique illisible ({exc})") from exc
    if "geometry" not in gdf or gdf.geometry.isna().all():
        raise _fail(path, "aucune géométrie trouvée")
    return _finish(gdf, path)


def read_table(path: str | Path) -> pd.DataFrame:
    """Attributes only (no geometry) of a CSV or vector file: to recognise it or join a table."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".csv"):
        return _lower_columns(_read_csv(path))
    if name.endswith((".geojson", ".json", ".gz")):
        return pd.DataFrame(read_vector(path).drop(columns="geometry"))
    if name.endswith(".zip"):
        return _from_zip(path, lambda shp: _read_attributes(shp, path))
    return _read_attributes(str(path), path)


def _read_attributes(source: str, path: Path) -> pd.DataFrame:
    try:
        return _lower_columns(pyogrio.read_dataframe(source, read_geometry=False))
    except Exception as exc:  # GDAL errors
        raise _fail(path, f"fichier illisible ({exc})") from exc


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise _fail(path, "encodage de caractères non reconnu")
    csv.field_size_limit(sys.maxsize)
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        return pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""]
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise _fail(path, f"CSV mal formé ({exc})") from exc


def _read_csv_vector(path: Path) -> gpd.GeoDataFrame:
    df = _lower_columns(_read_csv(path))
    cols = set(df.columns)
    lon = next((c for c in LON_NAMES if c in cols), None)
    lat = next((c for c in LAT_NAMES if c in cols), None)
    if lon and lat:
        x = pd.to_numeric(df[lon].str.replace(",", ".", regex=False), errors="coerce")
        y = pd.to_numeric(df[lat].str.replace(",", ".", regex=False), errors="coerce")
        if x.notna().sum() == 0:
            raise _fail(path, f"colonnes « {lon} » / « {lat} » sans coordonnée numérique")
        geoms = gpd.points_from_xy(x, y)
        geoms = [g if ok else None for g, ok in zip(geoms, x.notna() & y.notna(), strict=True)]
        gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=None)
        return _finish(gdf, path)
    gcols = [c for c in CNIG_GEOMETRY_NAMES if c in cols]
    gcols = gcols or [c for c in GEOMETRY_NAMES if c in cols][:1]
    if not gcols:
        raise _fail(
            path,
            "ni colonnes longitude/latitude ni colonne de géométrie (WKT ou GeoJSON) trouvées",
        )
    # Per row, the first geometry given: CNIG's outline (geomsurf), else its centroid (geompoint).
    geoms = [None] * len(df)
    for gcol in gcols:
        for i, value in enumerate(df[gcol]):
            if geoms[i] is None:
                geoms[i] = _geometry_cell(value, gcol, path)
    gdf = gpd.GeoDataFrame(df.drop(columns=gcols), geometry=geoms, crs=None)
    return _finish(gdf, path)


def _geometry_cell(value, column: str, path: Path):
    """A WKT or GeoJSON cell as a geometry; None when empty or a declared missing value."""
    if not isinstance(value, str) or value.strip() in MISSING_VALUES:
        return None
    try:
        if value.lstrip().startswith("{"):
            return shape(json.loads(value))
        return shapely.from_wkt(value)
    except (ValueError, shapely.errors.GEOSException) as exc:
        raise _fail(path, f"colonne « {column} » : géométrie illisible ({exc})") from exc
