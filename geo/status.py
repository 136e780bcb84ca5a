"""What is known about a record's place: located or not; in, near or away from a QPV, or unknown.

The one definition used by the indicators, the filters and the pages, so that labels tell the truth:

- "non localisé" only for a record without a geometry (no point on any map);
- a located record whose QPV list (2015 or 2024, by its year: ``qpv_generation``) is not loaded has
  an *unknown* QPV status: it is neither inside nor away from a QPV, and QPV figures that depend on
  it read "—" with the reason (``qpv_missing_reason``), never 0 % or 100 %.

``qpv_lists`` names the QPV lists that are loaded (``["2015", "2024"]``, see ``loaded_qpv_lists``).
When it is None the status is read from the enrichment itself: ``geo.enrich`` leaves
``dist_qpv_m`` NaN on a located record exactly when its list is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

QPV_LISTS = ("2015", "2024")
INSIDE = "dans"
NEAR = "proche"
AWAY = "ailleurs"
UNKNOWN = "inconnu"
UNLOCATED = "non_localise"
NO_QPV_LAYER = "couche QPV non chargée"
NOTHING_LOCATED = "aucune subvention localisée"


def _geometry(df: pd.DataFrame) -> pd.Series | None:
    """The active geometry column, or None for a plain DataFrame (or one without geometry)."""
    try:
        return df.geometry  # type: ignore[union-attr]
    except AttributeError:
        return None


def located(df: pd.DataFrame) -> pd.Series:
    """True where the record has a non-empty geometry, i.e. a place on the map.

    Plain DataFrames (no geometry) fall back on the pipeline's ``localisation`` column, then on a
    known QPV distance.
    """
    geometry = _geometry(df)
    if geometry is not None:
        return pd.Series(
            (geometry.notna() & ~geometry.is_empty).to_numpy(dtype=bool), index=df.index
        )
    if "localisation" in df.columns:
        return df["localisation"].ne("non localisé").fillna(False).astype(bool)
    if "dist_qpv_m" in df.columns:
        return df["dist_qpv_m"].notna()
    return pd.Series(True, index=df.index)


def _generation(df: pd.DataFrame) -> pd.Series | None:
    if "qpv_generation" not in df.columns:
        return None
    gen = df["qpv_generation"]
    return gen.astype(object).where(gen.notna(), None).map(lambda g: None if g is None else str(g))


def qpv_known(df: pd.DataFrame, qpv_lists: Iterable[str] | None = None) -> pd.Series:
    """True where the record is located and the QPV list of its year is loaded."""
    where = located(df)
    if qpv_lists is not None:
        loaded = {str(g) for g in qpv_lists}
        gen = _generation(df)
        if gen is None:
            return where & bool(loaded)
        return where & gen.isin(loaded)
    if "dist_qpv_m" in df.columns:
        return where & df["dist_qpv_m"].notna()
    return where


def qpv_status(df: pd.DataFrame, qpv_lists: Iterable[str] | None = None) -> pd.Series:
    """Per record: INSIDE, NEAR (within the buffer, not inside), AWAY, UNKNOWN or UNLOCATED."""
    inside = df["code_qpv"].notna() if "code_qpv" in df.columns else pd.Series(False, df.index)
    near = (
        df["near_qpv"].astype(object).where(df["near_qpv"].notna(), False).astype(bool)
        if "near_qpv" in df.columns
        else pd.Series(False, index=df.index)
    )
    where = located(df)
    known = qpv_known(df, qpv_lists)
    status = np.select(
        [~where.to_numpy(), ~known.to_numpy(), inside.to_numpy(), near.to_numpy()],
        [UNLOCATED, UNKNOWN, INSIDE, NEAR],
        default=AWAY,
    )
    return pd.Series(status, index=df.index, dtype=object)


def missing_qpv_lists(df: pd.DataFrame, qpv_lists: Iterable[str] | None = None) -> list[str]:
    """The QPV lists these records need (by their year) that are not loaded, e.g. ``["2024"]``.

    Without ``qpv_lists``, the lists of the located records whose status is unknown (none can be
    named when the records carry no ``qpv_generation``).
    """
    gen = _generation(df)
    if qpv_lists is None:
        unknown = qpv_status(df) == UNKNOWN
        if not unknown.any() or gen is None:
            return []
        return sorted({g for g in gen[unknown] if g})
    loaded = {str(g) for g in qpv_lists}
    if not len(df):
        return []
    needed = {g for g in gen if g} if gen is not None else set(QPV_LISTS)
    return sorted(needed - loaded)


def loaded_qpv_lists(layers: Mapping[str, object]) -> list[str]:
    """The QPV lists present in a ``{layer name: GeoDataFrame or None}`` mapping."""
    out = []
    for gen in QPV_LISTS:
        layer = layers.get(f"qpv_{gen}")
        if isinstance(layer, tuple):  # (gdf, meta) as loaders.layers.load_layers returns
            layer = layer[0]
        if layer is not None and len(layer):
            out.append(gen)
    return out


def qpv_missing_reason(lists: Iterable[str]) -> str:
    """'couche QPV non chargée (liste 2024)', or '(listes 2015 et 2024)' for both."""
    names = sorted({str(g) for g in lists})
    if not names:
        return NO_QPV_LAYER
    if len(names) == 1:
        return f"{NO_QPV_LAYER} (liste {names[0]})"
    return f"{NO_QPV_LAYER} (listes {', '.join(names[:-1])} et {names[-1]})"
