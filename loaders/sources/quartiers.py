"""Quartiers layer: Lille's 10 quartiers plus Hellemmes and Lomme, 12 features (MEL open data)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from loaders.sources.common import (
    HELLEMMES,
    LILLE,
    LOMME,
    TERRITORY_CODES,
    LayerSource,
    code_str,
    pick,
)

CODE_COLUMNS = ("code_quartier", "code_quar", "id_quartier", "num_quartier", "code_qua")
NAME_COLUMNS = ("nom_quartier", "quartier", "nom", "libelle", "lib_quartier", "name")
COMMUNE_COLUMNS = ("code_commune", "code_insee", "insee", "code_com", "insee_com", "codgeo")
EXPECTED = 12


def _commune_code(value) -> str | None:
    """59350/59298/59355 from INSEE codes or the MEL's short codes (350, 298, 355)."""
    text = code_str(pd.Series([value]), 3).iloc[0]
    if text is None:
        return None
    return "59" + text if len(text) == 3 else text


class QuartiersSource(LayerSource):
    name = "quartiers"
    title = "quartiers de Lille, Hellemmes et Lomme"
    columns = ("code_quartier", "nom_quartier", "code_commune")
    file_patterns = (r"quartiers?_lille", r"quartier")

    def recognises(self, table: pd.DataFrame) -> bool:
        if "code_iris" in table.columns:
            return False
        return (
            pick(table.columns, *CODE_COLUMNS) is not None
            and pick(table.columns, *NAME_COLUMNS) is not None
        )

    def normalise(self, raw: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        code_col = pick(raw.columns, *CODE_COLUMNS)
        name_col = pick(raw.columns, *NAME_COLUMNS)
        if code_col is None or name_col is None:
            raise self.fail(origin, "colonnes « code_quartier » et « quartier » introuvables")
        names = raw[name_col].astype(str)
        commune_col = pick(raw.columns, *COMMUNE_COLUMNS)
        if commune_col is not None:
            communes = raw[commune_col].map(_commune_code)
        else:  # deduce from the name: the MEL file names Hellemmes and Lomme as quartiers
            low = names.str.lower()
            communes = pd.Series(LILLE, index=raw.index)
            communes[low.str.contains("hellemmes")] = HELLEMMES
            communes[low.str.contains("lomme")] = LOMME
        gdf = gpd.GeoDataFrame(
            {
                "code_quartier": code_str(raw[code_col], 1),
                "nom_quartier": names.values,
                "code_commune": communes.values,
            },
            geometry=raw.geometry.values,
            crs=raw.crs,
        )
        # Multipart sources repeat a quartier over several rows: one feature per quartier.
        return gdf.dissolve(by="code_quartier", as_index=False, aggfunc="first")

    def check(self, gdf: gpd.GeoDataFrame, origin: str) -> None:
        if len(gdf) != EXPECTED:
            raise self.fail(origin, f"{len(gdf)} quartiers trouvés, {EXPECTED} attendus")
        bad = sorted(set(gdf["code_commune"].dropna()) - set(TERRITORY_CODES))
        if bad or gdf["code_commune"].isna().any():
            raise self.fail(
                origin,
                f"code commune inattendu ({', '.join(bad) or 'vide'}) : 59350, 59298 ou "
                "59355 attendu",
            )


SOURCE = QuartiersSource()
