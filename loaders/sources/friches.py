"""Friches layer (Cerema Cartofriches): brownfield sites as points, for the land-access pages."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import requests

from geo.crs import COMPUTE_CRS, DISPLAY_CRS, MEL_BBOX
from loaders.http import FetchError, fetch
from loaders.readers import ReaderError, geojson_from_obj, maybe_gunzip
from loaders.sources.common import (
    HELLEMMES,
    LILLE,
    LOMME,
    Fetched,
    LayerError,
    LayerSource,
    code_str,
    http_date_to_iso,
    pick,
    territory_by_location,
    to_float,
)

ID_COLUMNS = ("site_id", "id_site", "identifiant", "id")
NAME_COLUMNS = ("site_nom", "nom", "nom_site", "libelle", "name")  # name: KML placemarks
STATUS_COLUMNS = ("site_statut", "statut", "statut_friche")
AREA_COLUMNS = ("site_surface", "surface_m2", "surface", "unite_fonciere_surface")
COMMUNE_COLUMNS = ("comm_insee", "code_commune", "code_insee", "insee_com")
# Cartofriches' parcel prefix tells the ancienne commune (added in the shared extract).
OLD_COMMUNE = {"lille": LILLE, "hellemmes": HELLEMMES, "lomme": LOMME}
MAX_PAGES = 50


def _swapped_points_fixed(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points written POINT(lat lon), as in the CNIG Friches documentation, put back in order."""
    if geoms.crs is None or not geoms.crs.equals(DISPLAY_CRS):
        return geoms
    lon_min, lat_min, lon_max, lat_max = MEL_BBOX
    points = geoms.notna() & (geoms.geom_type == "Point")
    x, y = geoms[points].x, geoms[points].y
    inside = x.between(lon_min, lon_max) & y.between(lat_min, lat_max)
    swapped = ~inside & y.between(lon_min, lon_max) & x.between(lat_min, lat_max)
    if not swapped.any():
        return geoms
    fixed = geoms.copy()
    index = swapped.index[swapped]
    fixed.loc[index] = gpd.points_from_xy(y[index], x[index])
    return fixed


def _surface(raw: gpd.GeoDataFrame, area_col: str | None) -> pd.Series:
    """Square metres: the file's area column, else the area of the site's outline (Lambert-93).

    Sites given as points (CNIG `geompoint` without `geomsurf`) keep NaN.
    """
    given = to_float(raw[area_col]) if area_col else pd.Series(float("nan"), index=raw.index)
    geoms = raw.geometry
    polygonal = geoms.notna() & geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if polygonal.any() and raw.crs is not None:
        areas = geoms[polygonal].to_crs(COMPUTE_CRS).area.round(1)
        given = given.where(given.notna() | ~polygonal, areas.reindex(raw.index))
    return given


class FrichesSource(LayerSource):
    name = "friches"
    title = "friches (Cartofriches)"
    geometry_kind = "point"
    columns = ("site_id", "nom", "statut", "surface_m2", "code_commune")
    file_patterns = (r"cartofriches.*\.geojson", r"cartofriches", r"friche")

    def recognises(self, table: pd.DataFrame) -> bool:
        """Cartofriches and CNIG Friches files (site_id with site_statut or site_nom)."""
        cols = set(table.columns)
        return ("site_id" in cols and ("site_statut" in cols or "site_nom" in cols)) or (
            "site_id" in cols and "surface_m2" in cols and "statut" in cols
        )

    def normalise(self, raw: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        id_col = pick(raw.columns, *ID_COLUMNS)
        if id_col is None:
            raise self.fail(origin, "colonne « site_id » introuvable")
        name_col = pick(raw.columns, *NAME_COLUMNS)
        status_col = pick(raw.columns, *STATUS_COLUMNS)
        area_col = pick(raw.columns, *AREA_COLUMNS)
        commune_col = pick(raw.columns, *COMMUNE_COLUMNS)
        communes = (
            code_str(raw[commune_col])
            if commune_col
            else pd.Series(None, index=raw.index, dtype=object)
        )
        resolved = pd.Series(False, index=raw.index)
        if "ancienne_commune_idpar" in raw.columns:
            old = raw["ancienne_commune_idpar"].astype(str).str.strip().str.lower().map(OLD_COMMUNE)
            communes = old.where(old.notna(), communes)
            resolved = old.notna()
        gdf = gpd.GeoDataFrame(
            {
                "site_id": raw[id_col].astype(str).values,
                "nom": raw[name_col].astype(object).values if name_col else None,
                "statut": raw[status_col].astype(object).values if status_col else None,
                "surface_m2": _surface(raw, area_col).values,
                "code_commune": communes.values,
            },
            # The Cerema API gives parcel outlines: the layer holds points (a point inside each
            # site), which is what the maps and the distance to QPV need.
            geometry=_swapped_points_fixed(raw.geometry).representative_point().values,
            crs=raw.crs,
        )
        unresolved = ~resolved.values & (
            gdf["code_commune"].isna() | (gdf["code_commune"] == LILLE)
        )
        if unresolved.any():  # parcel prefix unknown: locate the point in the communes layer
            located = territory_by_location(gdf[unresolved], gdf.loc[unresolved, "code_commune"])
            gdf.loc[unresolved, "code_commune"] = located
        return gdf

    def check(self, gdf: gpd.GeoDataFrame, origin: str) -> None:
        if gdf["site_id"].duplicated().any():
            raise self.fail(origin, "identifiants de site en double")

    def fetch(
        self,
        urls: list[str],
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
        retries: int = 3,
    ) -> Fetched:
        """GeoJSON, or a paginated API answer ({"results": FeatureCollection, "next": url})."""
        network, invalid = [], []
        for url in urls:
            try:
                features, updated = self._pages(url, session, sleep, timeout, retries)
                raw = geojson_from_obj({"type": "FeatureCollection", "features": features}, url)
                gdf = self.validate(self.normalise(raw, url), url)
            except FetchError as exc:
                network.append(exc)
                continue
            except (LayerError, ReaderError) as exc:
                invalid.append(exc)
                continue
            return Fetched(gdf, f"{self.producer()} — {url}", url, updated)
        if invalid:
            raise LayerError(" ; ".join(str(e) for e in invalid))
        raise network[-1]

    def _pages(self, url, session, sleep, timeout, retries) -> tuple[list, str | None]:
        features: list = []
        updated = None
        next_url: str | None = url
        for _ in range(MAX_PAGES):
            if not next_url:
                break
            response = fetch(
                next_url, timeout=timeout, retries=retries, session=session, sleep=sleep
            )
            updated = updated or http_date_to_iso(response.headers.get("Last-Modified"))
            try:
                data = json.loads(maybe_gunzip(response.content, next_url).decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise self.fail(next_url, f"contenu JSON invalide ou tronqué ({exc})") from exc
            page = data.get("results", data) if isinstance(data, dict) else None
            if not isinstance(page, dict) or not isinstance(page.get("features"), list):
                raise self.fail(next_url, "réponse sans entités GeoJSON")
            features.extend(page["features"])
            next_url = data.get("next") if "results" in data else None
        return features, updated


SOURCE = FrichesSource()
