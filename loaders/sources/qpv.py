"""QPV layers (ANCT): the 2015 list (codes QP…) and the 2024 list (codes QN…), kept apart.

There is no embedded default: no QPV outline ships with any package, so the layer is missing
until synced online or imported from the ANCT file.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import DISPLAY_CRS, MEL_BBOX
from geo.formatting import fmt_int
from loaders.sources.common import LayerSource, pick, territory_by_location, to_float

CODE_COLUMNS = ("code_qp", "code_qpv", "codeqp", "code_quartier", "qp")
NAME_COLUMNS = ("lib_qp", "nom_qp", "nom_qpv", "libelle_qp", "nom", "libelle")
COMMUNE_COLUMNS = ("insee_com", "code_commune", "code_insee", "insee_comm", "commune_qp")
POPULATION_RE = re.compile(r"^(pop|population|pop_?mun\w*|pop_?qp\w*|p\d\d_pop)$")
GENERATION_RE = re.compile(r"Q([NP])\d")


def generation_of(codes: pd.Series) -> str | None:
    """'2024' for QN… codes, '2015' for QP… codes, None when mixed or unknown."""
    found = {m.group(1) for m in codes.dropna().astype(str).map(GENERATION_RE.search) if m}
    if found == {"N"}:
        return "2024"
    if found == {"P"}:
        return "2015"
    return None


class QpvSource(LayerSource):
    columns = ("code_qpv", "nom_qpv", "code_commune", "population")

    def __init__(self, generation: str) -> None:
        self.generation = generation
        self.name = f"qpv_{generation}"
        self.title = f"quartiers prioritaires (liste {generation})"
        self.file_patterns = (
            rf"q[pn]v?.?{generation}",
            rf"{generation}",
            r"qp_metropole" if generation == "2015" else r"qp2024",
            r"qpv|qp",
        )

    def recognises(self, table: pd.DataFrame) -> bool:
        col = pick(table.columns, *CODE_COLUMNS)
        return col is not None and generation_of(table[col]) == self.generation

    def normalise(self, raw: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        code_col = pick(raw.columns, *CODE_COLUMNS)
        if code_col is None:
            raise self.fail(origin, "aucune colonne de code QPV (code_qp ou CODE_QP attendu)")
        generation = generation_of(raw[code_col])
        if generation != self.generation:
            other = {"2024": "2015", "2015": "2024"}[self.generation]
            what = (
                f"ce fichier contient la liste {other}"
                if generation == other
                else "codes QPV non reconnus (QP… pour 2015, QN… pour 2024)"
            )
            raise self.fail(origin, f"{what} ; liste {self.generation} attendue")
        name_col = pick(raw.columns, *NAME_COLUMNS)
        commune_col = pick(raw.columns, *COMMUNE_COLUMNS)
        pop_col = next((c for c in raw.columns if POPULATION_RE.match(c)), None)
        communes = pd.Series(None, index=raw.index, dtype=object)
        if commune_col is not None:  # the 2015 file gives names here: keep only INSEE codes
            values = raw[commune_col].astype(str).str.strip()
            communes = values.where(values.str.fullmatch(r"\d{5}"), None)
        gdf = gpd.GeoDataFrame(
            {
                "code_qpv": raw[code_col].astype(str).values,
                "nom_qpv": raw[name_col].astype(object).values if name_col else None,
                "code_commune": communes.values,
                "population": to_float(raw[pop_col]).values if pop_col else float("nan"),
            },
            geometry=raw.geometry.values,
            crs=raw.crs,
        )
        gdf = gdf[gdf.geometry.notna()]
        # National files: keep the QPV of the MEL area only.
        inside = gdf.geometry.representative_point().within(shapely.box(*MEL_BBOX))
        if len(gdf) and not inside.any():
            xmin, ymin, xmax, ymax = gdf.to_crs(DISPLAY_CRS).total_bounds
            raise self.fail(
                origin,
                f"{fmt_int(len(gdf))} QPV lus, tous hors de la Métropole européenne de Lille "
                f"(emprise {xmin:.2f}, {ymin:.2f}, {xmax:.2f}, {ymax:.2f}) : mauvais fichier ou "
                "mauvais système de coordonnées",
            )
        gdf = gdf[inside].dissolve(by="code_qpv", as_index=False, aggfunc="first")
        gdf["code_commune"] = territory_by_location(gdf, gdf["code_commune"])
        return gdf

    def check(self, gdf: gpd.GeoDataFrame, origin: str) -> None:
        if gdf["code_qpv"].duplicated().any():
            raise self.fail(origin, "codes QPV en double")

    def missing_reason(self) -> str:
        return (
            f"Périmètres des QPV (liste {self.generation}) absents : aucun n'est fourni avec "
            "l'application. Lancez « python -m loaders sync » avec accès à Internet, ou "
            "téléchargez le fichier de l'ANCT (data.gouv.fr, « Quartiers prioritaires de la "
            "politique de la ville ») et importez-le avec « python -m loaders sync --from-dir "
            "DOSSIER »."
        )


SOURCE_2015 = QpvSource("2015")
SOURCE_2024 = QpvSource("2024")
