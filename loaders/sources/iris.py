"""IRIS layer (IGN CONTOURS-IRIS) with census population (INSEE), for the MEL.

`code_commune` is the territory code: Lille's IRIS 59350XXYY belong to Hellemmes for groups
24-26 and to Lomme for groups 27-30 (INSEE rule), so per-inhabitant figures add up by territory.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import requests

from loaders.archives import check_zip
from loaders.config import manifest
from loaders.http import FetchError, fetch
from loaders.sources.common import (
    HELLEMMES,
    LILLE,
    LOMME,
    Fetched,
    LayerSource,
    code_str,
    pick,
    to_float,
)

CODE_COLUMNS = ("code_iris", "dcomiris", "iris", "codeiris")
NAME_COLUMNS = ("nom_iris", "libiris", "lib_iris", "nomiris")
POPULATION_RE = re.compile(r"^(p\d\d_pop|population)$")


def territory_of_iris(codes: pd.Series) -> pd.Series:
    """59298 / 59355 for Hellemmes / Lomme IRIS of Lille, else the commune code."""
    commune = codes.str[:5]
    group = pd.to_numeric(codes.str[5:7], errors="coerce")
    out = commune.copy()
    lille = commune == LILLE
    out[lille & group.between(24, 26)] = HELLEMMES
    out[lille & group.between(27, 30)] = LOMME
    return out


def _iris_codes(table: pd.DataFrame) -> pd.Series | None:
    col = pick(table.columns, *CODE_COLUMNS)
    if col is None:
        return None
    codes = code_str(table[col], 9)
    if codes.dropna().str.fullmatch(r"\d{5}\w{4}").mean() < 0.9:  # "iris" can be the 4-char part
        return None
    return codes


def _population_column(columns) -> str | None:
    return next((c for c in columns if POPULATION_RE.match(c)), None)


def _mel_codes() -> set[str] | None:
    from loaders.layers import load_layer

    mel, _ = load_layer("mel_communes")
    return None if mel is None else set(mel["code"])


class IrisSource(LayerSource):
    name = "iris"
    title = "IRIS"
    columns = ("code_iris", "nom_iris", "code_commune", "population")
    file_patterns = (r"iris_mel", r"iris_lille", r"iris")
    aux_patterns = (r"iris_population", r"base-ic", r"pop")

    def recognises(self, table: pd.DataFrame) -> bool:
        codes = _iris_codes(table)
        return codes is not None and pick(table.columns, *NAME_COLUMNS) is not None

    def recognises_aux(self, table: pd.DataFrame) -> bool:
        return _iris_codes(table) is not None and _population_column(table.columns) is not None

    def normalise(self, raw: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        codes = _iris_codes(raw)
        name_col = pick(raw.columns, *NAME_COLUMNS)
        if codes is None or name_col is None:
            raise self.fail(
                origin, "colonnes « code_iris » (9 caractères) et « nom_iris » introuvables"
            )
        pop_col = _population_column(raw.columns)
        gdf = gpd.GeoDataFrame(
            {
                "code_iris": codes.values,
                "nom_iris": raw[name_col].astype(object).values,
                "code_commune": territory_of_iris(codes).values,
                "population": to_float(raw[pop_col]).values if pop_col else float("nan"),
            },
            geometry=raw.geometry.values,
            crs=raw.crs,
        )
        mel = _mel_codes()
        if mel:  # WFS bounding boxes also return IRIS of neighbouring communes
            gdf = gdf[gdf["code_iris"].str[:5].isin(mel)]
        return gdf.dissolve(by="code_iris", as_index=False, aggfunc="first")

    def apply_aux(self, gdf: gpd.GeoDataFrame, table: pd.DataFrame, origin: str):
        """Population by IRIS from an INSEE table (P19_POP, P20_POP…), where it has a value."""
        codes = _iris_codes(table)
        pop_col = _population_column(table.columns)
        if codes is None or pop_col is None:
            raise self.fail(origin, "table de population sans colonne IRIS ou P..._POP")
        pops = pd.Series(to_float(table[pop_col]).values, index=codes.values)
        pops = pops[~pops.index.duplicated()]
        found = gdf["code_iris"].map(pops)
        gdf["population"] = found.where(found.notna(), gdf["population"])
        return gdf

    def check(self, gdf: gpd.GeoDataFrame, origin: str) -> None:
        if gdf["code_iris"].duplicated().any():
            raise self.fail(origin, "codes IRIS en double")
        if not gdf["code_iris"].str.startswith(LILLE).any():
            raise self.fail(origin, "aucun IRIS de Lille (59350…)")

    def fetch(
        self,
        urls: list[str],
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
        retries: int = 3,
    ) -> Fetched:
        """IRIS outlines from the IGN WFS, then population from INSEE when reachable."""
        fetched = super().fetch(
            urls, session=session, sleep=sleep, timeout=timeout, retries=retries
        )
        pop_urls = manifest().get(self.name, {}).get("population_urls", [])
        for url in pop_urls if urls == manifest()[self.name]["urls"] else []:
            try:
                response = fetch(
                    url, timeout=timeout, retries=retries, session=session, sleep=sleep
                )
                table = _read_insee_table(response.content)
                fetched.gdf = self.apply_aux(fetched.gdf, table, url)
                fetched.source += f" ; population : {url}"
                break
            except (FetchError, ValueError):
                continue
        return fetched


def _read_insee_table(content: bytes) -> pd.DataFrame:
    """INSEE base-ic CSV (';' separated), plain or zipped (size checked before unzipping)."""
    if content[:2] == b"PK":
        check_zip(content, "population IRIS (INSEE)")
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            name = next(n for n in archive.namelist() if n.lower().endswith(".csv"))
            content = archive.read(name)
    table = pd.read_csv(io.BytesIO(content), sep=";", dtype=str, encoding="utf-8-sig")
    return table.rename(columns=str.lower)


SOURCE = IrisSource()
