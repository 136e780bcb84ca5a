"""The three activity datasets (structures, grants, land sites) as typed GeoDataFrames.

The City's imported files win over the fictional demo as soon as one kind has been imported, and
the two are never mixed: showing a fictional grant next to real ones would make every total wrong.

SIRENE diffusion status "P" (diffusion partielle): such establishments must never be shown. Their
structure rows are removed here; their grants are kept so that totals still reconcile, but lose
the beneficiary's name (replaced by "Structure non diffusible"), SIRET, RNA and location (geometry
None unless the grant carries its own project location); land sites they occupy lose the
occupant's SIRET. Nothing is cached here: pages add st.cache_data, enrichment keys on `version`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import DISPLAY_CRS
from geo.locate import locate_grants
from loaders import model, store
from loaders.config import DEMO_DIR
from loaders.validation import repair_geometry

KINDS = ("structures", "grants", "land")
DEMO_SOURCE = "Jeu de démonstration fictif"
DEMO_UPDATED = "2026-10-31"  # reference date of the fictional data (data/generate_demo.py)
NOT_IMPORTED = "Non importé"
HIDDEN_NAME = "Structure non diffusible"
_IDENTIFIER_WIDTH = {"siret": 14, "siren": 9, "idBeneficiaire": 14, "siret_occupant": 14}


@dataclass
class Datasets:
    """What the pages show: typed tables with their provenance and a cache key."""

    structures: gpd.GeoDataFrame  # EPSG:4326 points
    grants: gpd.GeoDataFrame  # EPSG:4326 points: project location, else beneficiary's
    land: gpd.GeoDataFrame  # EPSG:4326 points or parcels
    demo: bool  # True when the fictional embedded dataset is shown
    version: str  # hash of the inputs, used as a cache key
    meta: dict = field(default_factory=dict)  # per dataset: rows, source, updated, fictif...


# --- typing -----------------------------------------------------------------------------------


def _as_text(series: pd.Series, width: int | None = None) -> pd.Series:
    """Text as object dtype (None if blank); numbers typed by a spreadsheet regain lost zeros."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        numbers = pd.to_numeric(series, errors="coerce")
        values = [None if pd.isna(v) else str(int(v)) if v == int(v) else str(v) for v in numbers]
        if width:
            values = [v.zfill(width) if v is not None else None for v in values]
    else:
        values = [None if v is None or pd.isna(v) else str(v).strip() or None for v in series]
    return pd.Series(values, index=series.index, dtype=object)


def _as_bool(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    parsed = series.astype(object).map(model.parse_bool)
    return parsed.astype(object).where(parsed.notna(), pd.NA).astype("boolean")


def _as_float(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype(float)
    text = series.astype("str").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def typed(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The model's columns, in model order, with their types (identifiers stay strings)."""
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    source = df.reset_index(drop=True)
    for column in model.SCHEMAS[kind]:
        raw = source[column.name] if column.name in source else pd.Series([None] * len(df))
        if column.dtype == "int":
            number = _as_float(raw)
            out[column.name] = number.where(number == np.floor(number)).astype("Int64")
        elif column.dtype == "float":
            out[column.name] = _as_float(raw)
        elif column.dtype == "bool":
            out[column.name] = _as_bool(raw)
        elif column.dtype == "date":
            out[column.name] = pd.to_datetime(raw, errors="coerce", format="ISO8601")
        else:
            out[column.name] = _as_text(raw, _IDENTIFIER_WIDTH.get(column.name))
    return out


# --- geometry ---------------------------------------------------------------------------------


def _points(lon: pd.Series, lat: pd.Series) -> np.ndarray:
    """Points where both coordinates are known, None elsewhere."""
    known = lon.notna().to_numpy() & lat.notna().to_numpy()
    geoms = np.full(len(lon), None, dtype=object)
    geoms[known] = shapely.points(lon.to_numpy()[known], lat.to_numpy()[known])
    return geoms


def _frame(df: pd.DataFrame, geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index), crs=DISPLAY_CRS)


def _structures_gdf(df: pd.DataFrame) -> gpd.GeoDataFrame:
    return _frame(df, _points(df["lon"], df["lat"]))


def _land_gdf(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Parcel outline (WKT) when given and readable, else the lon/lat point, else None.

    The model's WKT `geometry` column becomes the GeoDataFrame's geometry column. Imports only
    store valid geometries (loaders.validation), but a store written before that rule may hold
    invalid ones: they are repaired here, once, at load, the same way (a parcel beyond repair falls
    back to its point), so that no page ever meets an invalid geometry.
    """
    wkt = df["geometry"].to_numpy(dtype=object)
    parcels = np.full(len(df), None, dtype=object)
    has_wkt = ~pd.isna(wkt)
    parcels[has_wkt] = shapely.from_wkt(wkt[has_wkt].astype(str), on_invalid="ignore")
    present = ~pd.isna(parcels)
    invalid = np.flatnonzero(present & ~shapely.is_valid(parcels))
    for i in invalid:
        parcels[i] = repair_geometry(parcels[i])
    geoms = np.where(pd.isna(parcels), _points(df["lon"], df["lat"]), parcels)
    return _frame(df.drop(columns="geometry"), geoms)


# --- diffusion status P -------------------------------------------------------------------------


def _hide_private(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], int]:
    """Drop "P" structures and strip their identity from grants and land sites (see module doc)."""
    structures = tables["structures"]
    private = structures["statut_diffusion"].str.upper().eq("P").fillna(False).to_numpy(bool)
    hidden = structures[private]
    sirets = set(hidden["siret"].dropna())
    sirens = set(hidden["siren"].dropna()) | {s[:9] for s in sirets}
    rnas = set(hidden["rna"].dropna())
    names = {n.casefold() for n in hidden["nom"].dropna()}
    out = dict(tables)
    out["structures"] = structures[~private].reset_index(drop=True)

    grants = tables["grants"].copy()
    ids = grants["idBeneficiaire"]
    match = (
        ids.isin(sirets)
        | ids.str[:9].isin(sirens)
        | grants["rnaBeneficiaire"].isin(rnas)
        | grants["nomBeneficiaire"].str.casefold().isin(names)
    ).fillna(False)
    grants.loc[match, "nomBeneficiaire"] = HIDDEN_NAME
    grants.loc[match, ["idBeneficiaire", "rnaBeneficiaire"]] = None
    out["grants"] = grants

    land = tables["land"].copy()
    occupant = land["siret_occupant"]
    occupied = (occupant.isin(sirets) | occupant.str[:9].isin(sirens)).fillna(False)
    land.loc[occupied, "siret_occupant"] = None
    out["land"] = land
    return out, int(private.sum())


# --- sources ----------------------------------------------------------------------------------


def _demo_tables() -> tuple[dict[str, pd.DataFrame], str]:
    digest = hashlib.sha256()
    tables = {}
    for kind in KINDS:
        path = DEMO_DIR / f"{kind}.csv"
        content = path.read_bytes()
        digest.update(kind.encode() + b"\0" + content)
        tables[kind] = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return tables, digest.hexdigest()


def _store_tables() -> tuple[dict[str, pd.DataFrame | None], dict]:
    return {kind: store.read_kind(kind) for kind in KINDS}, store.store_meta() or {}


def _store_version(tables: dict[str, pd.DataFrame | None], meta: dict) -> str:
    digest = hashlib.sha256(b"store")
    for kind in KINDS:
        if tables[kind] is None:
            continue
        sha = (meta.get(kind) or {}).get("sha256")
        if not sha:  # no recorded hash: fall back to the content itself
            sha = str(int(pd.util.hash_pandas_object(tables[kind].astype(str)).sum()))
        digest.update(f"{kind}:{sha}\n".encode())
    return digest.hexdigest()


def _unlocated(gdf: gpd.GeoDataFrame) -> int:
    return int((gdf.geometry.isna() | gdf.geometry.is_empty).sum())


def load_datasets() -> Datasets:
    """The City's imported datasets if any kind was imported, else the fictional demo.

    meta[kind] = {"rows", "source", "updated" (ISO date or None), "fictif", "unlocated" (rows
    without geometry, kept), "non_diffusible" (structures removed for status P)}.
    """
    stored, store_info = _store_tables()
    demo = all(table is None for table in stored.values())
    if demo:
        raw, version = _demo_tables()
    else:
        raw = {k: (v if v is not None else pd.DataFrame()) for k, v in stored.items()}
        version = _store_version(stored, store_info)

    tables = {kind: typed(raw[kind], kind) for kind in KINDS}
    tables, n_private = _hide_private(tables)
    frames = {
        "structures": _structures_gdf(tables["structures"]),
        "grants": locate_grants(tables["grants"], tables["structures"]),
        "land": _land_gdf(tables["land"]),
    }

    meta = {}
    for kind in KINDS:
        info = store_info.get(kind) or {}
        if demo:
            source, updated = DEMO_SOURCE, DEMO_UPDATED
        elif stored[kind] is None:
            source, updated = NOT_IMPORTED, None
        else:
            source = info.get("file") or "Import"
            updated = str(info["imported_at"])[:10] if info.get("imported_at") else None
        meta[kind] = {
            "rows": len(frames[kind]),
            "source": source,
            "updated": updated,
            "fictif": demo,
            "unlocated": _unlocated(frames[kind]),
            "non_diffusible": n_private if kind == "structures" else 0,
        }
    return Datasets(
        structures=frames["structures"],
        grants=frames["grants"],
        land=frames["land"],
        demo=demo,
        version=version,
        meta=meta,
    )
