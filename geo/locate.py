"""Where a grant is on the map: the one rule, used by the datasets and by the enrichment.

A grant is placed, in this order, at:

1. its project location (`lat_projet`, `lon_projet`), when the project happens elsewhere than at
   the beneficiary's address;
2. its beneficiary's point, found by SIRET (`idBeneficiaire` = structure `siret`);
3. its beneficiary's point, found by RNA number (`rnaBeneficiaire` = structure `rna`), for
   associations known only by their RNA number;
4. nowhere: `localisation` = "non localisé", geometry None.

The beneficiary's point is the structure's own coordinates, or its address geocoded at import
(`python -m loaders import --geocode`), so the address is the last resort behind steps 2 and 3.
Structures without coordinates never locate a grant. A grant placed at its beneficiary and without
a postcode of its own takes the beneficiary's (for the postcode/commune cross-check).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import DISPLAY_CRS

PROJECT = "projet"
BENEFICIARY = "bénéficiaire"
UNLOCATED = "non localisé"

# (grant column, structure column) pairs, in the order they are tried
_KEYS = (("idBeneficiaire", "siret"), ("rnaBeneficiaire", "rna"))


def _numeric(df: pd.DataFrame, column: str) -> pd.Series:
    if column not in df:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df[column], errors="coerce")


def _points(lon: pd.Series, lat: pd.Series) -> np.ndarray:
    """Points where both coordinates are known, None elsewhere (object array)."""
    known = (lon.notna() & lat.notna()).to_numpy()
    geoms = np.full(len(lon), None, dtype=object)
    geoms[known] = shapely.points(lon.to_numpy()[known], lat.to_numpy()[known])
    return geoms


def _structure_points(structures: pd.DataFrame) -> gpd.GeoDataFrame:
    """The located structures as points in WGS84 (their geometry, else lat/lon)."""
    if isinstance(structures, gpd.GeoDataFrame) and structures.geometry.name in structures:
        gdf = structures if structures.crs is not None else structures.set_crs(DISPLAY_CRS)
        gdf = gdf.to_crs(DISPLAY_CRS)
    else:
        geoms = _points(_numeric(structures, "lon"), _numeric(structures, "lat"))
        gdf = gpd.GeoDataFrame(structures, geometry=list(geoms), crs=DISPLAY_CRS)
    return gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]


def _key(series: pd.Series) -> pd.Series:
    """Identifiers compared as trimmed text; blanks are no identifier."""
    text = series.astype("string").str.strip()
    return text.where(text.notna() & (text != ""))


def locate_grants(grants: pd.DataFrame, structures: pd.DataFrame) -> gpd.GeoDataFrame:
    """The grants as a GeoDataFrame (EPSG:4326) placed by the module's rule.

    Adds `localisation` ("projet", "bénéficiaire" or "non localisé"); fills `code_postal` from
    the beneficiary for grants placed at it without a postcode of their own. Vectorised: one
    dictionary lookup per key, no loop over rows.
    """
    out = pd.DataFrame(grants).drop(columns=["geometry"], errors="ignore").copy()
    n = len(out)
    geometry = _points(_numeric(out, "lon_projet"), _numeric(out, "lat_projet"))
    placed = pd.notna(geometry)
    where = np.where(placed, PROJECT, UNLOCATED).astype(object)
    postcode = np.full(n, None, dtype=object)
    sites = _structure_points(structures)
    for grant_column, structure_column in _KEYS:
        if grant_column not in out or structure_column not in sites:
            continue
        lookup = sites.assign(_k=_key(sites[structure_column])).dropna(subset=["_k"])
        lookup = lookup.drop_duplicates("_k").set_index("_k")
        keys = _key(out[grant_column])
        found = keys.map(lookup.geometry).to_numpy(dtype=object)
        use = ~placed & pd.notna(found)
        geometry[use] = found[use]
        where[use] = BENEFICIARY
        if "code_postal" in lookup:
            postcode[use] = keys.map(lookup["code_postal"]).to_numpy(dtype=object)[use]
        placed = placed | use
    out["localisation"] = where
    if "code_postal" in sites:
        own = out["code_postal"] if "code_postal" in out else pd.Series(None, index=out.index)
        cp = np.array(own.astype(object).where(own.notna(), None), dtype=object)
        fill = pd.isna(cp) & pd.notna(postcode)
        cp[fill] = postcode[fill]
        out["code_postal"] = cp
    return gpd.GeoDataFrame(out, geometry=list(geometry), crs=DISPLAY_CRS)
