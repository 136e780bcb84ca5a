"""The territories a user can compare: MEL communes, Lille's quartiers and the QPV of both lists."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from geo.crs import DISPLAY_CRS
from geo.indicators import population_by

COLUMNS = ["id", "code", "nom", "kind", "libelle", "population", "geometry"]


def territory_catalogue(layers: Mapping[str, gpd.GeoDataFrame | None]) -> gpd.GeoDataFrame:
    """One row per comparable territory, with a unique ``id`` (``kind:code``) and a label.

    Quartier populations come from the IRIS (area-weighted), when the IRIS layer is loaded.
    """
    parts = []
    mel = layers.get("mel_communes")
    if mel is not None and len(mel):
        parts.append(
            pd.DataFrame(
                {
                    "code": mel["code"].astype(str),
                    "nom": mel["nom"],
                    "kind": "commune",
                    "libelle": "Commune – " + mel["nom"].astype(str),
                    "population": pd.to_numeric(mel["population"], errors="coerce"),
                    "geometry": mel.geometry,
                }
            )
        )
    quartiers = layers.get("quartiers")
    if quartiers is not None and len(quartiers):
        codes = quartiers["code_quartier"].astype(str)
        iris = layers.get("iris")
        pop = (
            population_by(iris, "quartier", quartiers=quartiers)
            if iris is not None and len(iris)
            else pd.Series(dtype=float)
        )
        parts.append(
            pd.DataFrame(
                {
                    "code": codes,
                    "nom": quartiers["nom_quartier"],
                    "kind": "quartier",
                    "libelle": "Quartier – " + quartiers["nom_quartier"].astype(str),
                    "population": codes.map(pop).astype(float),
                    "geometry": quartiers.geometry,
                }
            )
        )
    for name, year in (("qpv_2024", "2024"), ("qpv_2015", "2015")):
        qpv = layers.get(name)
        if qpv is not None and len(qpv):
            parts.append(
                pd.DataFrame(
                    {
                        "code": qpv["code_qpv"].astype(str),
                        "nom": qpv["nom_qpv"],
                        "kind": f"qpv_{year}",
                        "libelle": f"QPV {year} – " + qpv["nom_qpv"].astype(str),
                        "population": pd.to_numeric(
                            qpv.get("population", pd.Series(index=qpv.index, dtype=float)),
                            errors="coerce",
                        ),
                        "geometry": qpv.geometry,
                    }
                )
            )
    if not parts:
        return gpd.GeoDataFrame(columns=COLUMNS, geometry="geometry", crs=DISPLAY_CRS)
    frame = pd.concat(parts, ignore_index=True)
    frame["id"] = frame["kind"] + ":" + frame["code"]
    return gpd.GeoDataFrame(frame[COLUMNS], geometry="geometry", crs=DISPLAY_CRS)
