"""Territories: the comparable ones (MEL communes, Lille's quartiers, QPV of both lists), their
census populations named with their vintage, and the per-territory table behind Répartition and
the territories export."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import status as geo_status
from geo.crs import DISPLAY_CRS
from geo.indicators import (
    OUTSIDE,
    _inside,
    _near,
    amounts,
    census_vintage,
    population_by,
    population_label,
    qpv_coverage,
)

COLUMNS = ["id", "code", "nom", "kind", "libelle", "population", "population_source", "cle"]
COLUMNS = [*COLUMNS, "estimation_iris", "estimation_source", "geometry"]
LEVELS = ("commune", "quartier", "iris", "qpv")
QPV_LAYERS = {"qpv_2015": "2015", "qpv_2024": "2024"}
# territory key column of the enriched grants, name column of the layer, layer, layer key
LEVEL_KEYS = {
    "commune": ("code_commune", "communes", "code", "nom"),
    "quartier": ("code_quartier", "quartiers", "code_quartier", "nom_quartier"),
    "iris": ("code_iris", "iris", "code_iris", "nom_iris"),
}
TABLE_COLUMNS = [
    "code",
    "nom",
    "population",
    "population_source",
    "projets",
    "montant_engage",
    "montant_verse",
    "eur_par_habitant",
    "montant_dans_qpv",
    "montant_pres_qpv",
]


def layer_vintages(metas: Mapping[str, object]) -> dict[str, int | None]:
    """Census year of each layer's population, read from its source (``rp2019``, ``P19_POP``)."""
    out = {}
    for name, meta in metas.items():
        out[name] = census_vintage(getattr(meta, "source", None), getattr(meta, "source_url", None))
    return out


def _usable(layer) -> bool:
    return layer is not None and len(layer) > 0


def territory_population(
    layers: Mapping[str, gpd.GeoDataFrame | None],
    level: str,
    vintages: Mapping[str, int | None] | None = None,
) -> pd.DataFrame:
    """``population`` and ``population_source`` per territory code of ``level``.

    ``level``: commune (territory codes of the ``communes`` layer), commune_insee (MEL communes),
    quartier, iris, qpv_2015 or qpv_2024. Everything comes from the IRIS through
    ``geo.indicators.population_by`` (one census vintage), except the QPV that publish their own
    population (official figure kept, labelled so; the IRIS estimate stays in ``estimation_iris``
    and ``estimation_source`` for views that need one vintage) and, without an IRIS layer, the
    communes' own population column. Empty frame when the layers needed are missing.
    """
    vintages = vintages or {}
    iris = layers.get("iris")
    iris_year = vintages.get("iris")
    empty = pd.DataFrame(
        {"population": pd.Series(dtype=float), "population_source": pd.Series(dtype=object)}
    )
    if level in QPV_LAYERS:
        qpv = layers.get(level)
        if not _usable(qpv):
            return empty
        codes = qpv["code_qpv"].astype(str).to_numpy()
        official = pd.to_numeric(
            qpv["population"] if "population" in qpv else pd.Series(np.nan, index=qpv.index),
            errors="coerce",
        ).to_numpy()
        estimate = (
            population_by(iris, "qpv", targets=qpv).to_numpy()
            if _usable(iris)
            else np.full(len(qpv), np.nan)
        )
        has = ~np.isnan(official)
        label_official = population_label(vintages.get(level), qpv=True)
        label_estimate = population_label(iris_year, estimate=True)
        return pd.DataFrame(
            {
                "population": np.where(has, official, estimate),
                "population_source": np.where(
                    has, label_official, np.where(np.isnan(estimate), None, label_estimate)
                ),
                "estimation_iris": estimate,
                "estimation_source": np.where(np.isnan(estimate), None, label_estimate),
            },
            index=pd.Index(codes, name="code"),
        )
    if _usable(iris) and (level != "quartier" or _usable(layers.get("quartiers"))):
        pop = population_by(iris, level, quartiers=layers.get("quartiers"))
        label = population_label(iris_year)
    elif level in ("commune", "commune_insee"):
        layer = layers.get("communes" if level == "commune" else "mel_communes")
        if not _usable(layer):
            return empty
        pop = pd.Series(
            pd.to_numeric(layer["population"], errors="coerce").to_numpy(),
            index=layer["code"].astype(str).to_numpy(),
        )
        name = "communes" if level == "commune" else "mel_communes"
        year = vintages.get(name)
        label = population_label(year) if year else "population légale, INSEE"
    else:
        return empty
    pop = pop.astype(float)
    out = pd.DataFrame({"population": pop.to_numpy()}, index=pd.Index(pop.index.astype(str)))
    out.index.name = "code"
    out["population_source"] = np.where(out["population"].notna(), label, None)
    return out


def territory_catalogue(
    layers: Mapping[str, gpd.GeoDataFrame | None],
    vintages: Mapping[str, int | None] | None = None,
) -> gpd.GeoDataFrame:
    """One row per comparable territory, with a unique ``id`` (``kind:code``) and a label.

    Populations come from ``territory_population`` (the IRIS census for communes and quartiers,
    so that one comparison has one vintage; the QPV's own when published). ``cle`` names the
    enriched grant column that says which grants belong to the territory (the same membership
    as the other pages).
    """
    parts = []
    specs = [
        ("mel_communes", "commune", "code", "nom", "Commune – ", "commune_insee", "code_insee"),
        ("quartiers", "quartier", "code_quartier", "nom_quartier", "Quartier – ", "quartier", None),
    ]
    specs += [
        (name, f"qpv_{year}", "code_qpv", "nom_qpv", f"QPV {year} – ", name, f"code_{name}")
        for name, year in (("qpv_2024", "2024"), ("qpv_2015", "2015"))
    ]
    for name, kind, code_col, name_col, prefix, level, key in specs:
        layer = layers.get(name)
        if not _usable(layer):
            continue
        codes = layer[code_col].astype(str)
        pop = territory_population(layers, level, vintages)
        parts.append(
            pd.DataFrame(
                {
                    "code": codes,
                    "nom": layer[name_col],
                    "kind": kind,
                    "libelle": prefix + layer[name_col].astype(str),
                    "population": codes.map(pop["population"]).astype(float),
                    "population_source": codes.map(pop["population_source"]),
                    "estimation_iris": codes.map(pop["estimation_iris"]).astype(float)
                    if "estimation_iris" in pop
                    else np.nan,
                    "estimation_source": codes.map(pop["estimation_source"])
                    if "estimation_source" in pop
                    else None,
                    "cle": key or "code_quartier",
                    "geometry": layer.geometry,
                }
            )
        )
    if not parts:
        return gpd.GeoDataFrame(columns=COLUMNS, geometry="geometry", crs=DISPLAY_CRS)
    frame = pd.concat(parts, ignore_index=True)
    frame["id"] = frame["kind"] + ":" + frame["code"]
    return gpd.GeoDataFrame(frame[COLUMNS], geometry="geometry", crs=DISPLAY_CRS)


def _names(layers, by: str) -> dict[str, str]:
    _, layer_name, key, name_col = LEVEL_KEYS[by]
    layer = layers.get(layer_name)
    if not _usable(layer) or name_col not in layer:
        return {}
    return dict(zip(layer[key].astype(str), layer[name_col].astype(str), strict=False))


def territories_table(
    grants: pd.DataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    by: str,
    *,
    vintages: Mapping[str, int | None] | None = None,
    buffer_m: float = 300,
) -> pd.DataFrame:
    """The table behind Répartition, one row per territory of ``by`` (commune, quartier, iris, qpv).

    Columns ``TABLE_COLUMNS``: code, name, population and its source with its vintage, grants,
    committed and paid euros, euros per inhabitant, euros inside a QPV and within ``buffer_m``
    of one (inside included; the QPV of each grant's year; NaN, unknown, when a grant of the
    territory needs a QPV list that is not loaded). Communes, quartiers and IRIS are
    read from the grants' enriched columns (the membership every page uses); territories of the
    three communes are all listed, with zeros, and grants without a territory form a last row
    (``OUTSIDE``, no code) so that the rows add up to the selection. ``qpv`` lists the QPV of
    each loaded list (column ``liste``): projects and euros inside (``qpv_coverage``, grants of
    the years of that list), near ones within the buffer.
    """
    if by not in LEVELS:
        raise ValueError(f"Découpage inconnu : « {by} » (attendu : {', '.join(LEVELS)}).")
    g = grants.reset_index(drop=True)
    amount, paid = amounts(g), amounts(g, "montant_verse")
    if by == "qpv":
        return _qpv_table(g, layers, vintages, buffer_m)
    key_col, layer_name, layer_key, _ = LEVEL_KEYS[by]
    keys = (
        g[key_col].astype(object).where(g[key_col].notna(), None)
        if key_col in g.columns
        else pd.Series(None, index=g.index, dtype=object)
    )
    keys = keys.map(lambda v: None if v is None else str(v))
    frame = pd.DataFrame(
        {
            "code": keys.fillna("").to_numpy(),
            "_m": amount.to_numpy(),
            "_v": paid.to_numpy(),
            "_in": np.where(_inside(g).to_numpy(), amount.to_numpy(), 0.0),
            "_near": np.where(_near(g).to_numpy(), amount.to_numpy(), 0.0),
            "_unknown": (
                geo_status.qpv_status(g, geo_status.loaded_qpv_lists(layers)) == geo_status.UNKNOWN
            ).to_numpy(dtype=int),
        }
    )
    grouped = frame.groupby("code")
    sums = pd.DataFrame(
        {
            "projets": grouped.size(),
            "montant_engage": grouped["_m"].sum(),
            "montant_verse": grouped["_v"].sum(),
            "montant_dans_qpv": grouped["_in"].sum(),
            "montant_pres_qpv": grouped["_near"].sum(),
        }
    )
    unknown = grouped["_unknown"].sum() > 0  # a grant's QPV list is not loaded: unknown, not 0
    sums.loc[unknown, ["montant_dans_qpv", "montant_pres_qpv"]] = np.nan
    pop = territory_population(layers, by, vintages)
    layer = layers.get(layer_name)
    listed: list[str] = []
    if _usable(layer):
        codes = layer[layer_key].astype(str)
        if by == "iris":  # the IRIS of Lille, Hellemmes and Lomme (the layer may hold the MEL)
            communes = layers.get("communes")
            ours = (
                set(communes["code"].astype(str))
                if _usable(communes)
                else {"59350", "59298", "59355"}
            )
            codes = codes[layer["code_commune"].astype(str).isin(ours).to_numpy()]
        listed = list(codes)
    listed += [c for c in sums.index if c and c not in set(listed)]
    names = _names(layers, by)
    out = sums.reindex(listed)
    out[["projets", "montant_engage", "montant_verse"]] = out[
        ["projets", "montant_engage", "montant_verse"]
    ].fillna(0.0)
    idle = ~out.index.isin(sums.index)  # no grant at all: nothing inside nor near a QPV
    out.loc[idle, ["montant_dans_qpv", "montant_pres_qpv"]] = 0.0
    out["projets"] = out["projets"].astype(int)
    out.index.name = "code"
    out = out.reset_index()
    out["nom"] = [names.get(c, c) for c in out["code"]]
    out["population"] = out["code"].map(pop["population"]).astype(float)
    out["population_source"] = out["code"].map(pop["population_source"])
    if "" in sums.index:
        row = sums.loc[""].to_dict()
        row.update(code="", nom=OUTSIDE, population=np.nan, population_source=None)
        out = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
        out["projets"] = out["projets"].astype(int)
    out["eur_par_habitant"] = out["montant_engage"] / out["population"].where(out["population"] > 0)
    return out[TABLE_COLUMNS]


def _qpv_table(g, layers, vintages, buffer_m) -> pd.DataFrame:
    parts = []
    for name, year in QPV_LAYERS.items():
        qpv = layers.get(name)
        if not _usable(qpv):
            continue
        if "qpv_generation" in g.columns:
            mine = g[g["qpv_generation"].astype(str) == year]
        else:
            mine = g
        coverage = qpv_coverage(mine, None, qpv, buffer_m).set_index("code_qpv")
        code = mine["code_qpv"].astype(object) if "code_qpv" in mine else None
        paid = (
            amounts(mine, "montant_verse").groupby(code.astype(str).to_numpy()).sum()
            if code is not None and len(mine)
            else pd.Series(dtype=float)
        )
        pop = territory_population(layers, name, vintages)
        part = pd.DataFrame(
            {
                "code": coverage.index.to_numpy(),
                "nom": coverage["nom_qpv"].to_numpy(),
                "liste": year,
                "projets": coverage["projets_dans"].astype(int).to_numpy(),
                "montant_engage": coverage["montant_dans"].to_numpy(),
                "montant_verse": paid.reindex(coverage.index, fill_value=0.0).to_numpy(),
                "montant_dans_qpv": coverage["montant_dans"].to_numpy(),
                "montant_pres_qpv": coverage["montant_proches"].to_numpy(),
            }
        )
        part["population"] = part["code"].map(pop["population"]).astype(float)
        part["population_source"] = part["code"].map(pop["population_source"])
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[*TABLE_COLUMNS[:2], "liste", *TABLE_COLUMNS[2:]])
    out = pd.concat(parts, ignore_index=True)
    out["eur_par_habitant"] = out["montant_engage"] / out["population"].where(out["population"] > 0)
    return out[[*TABLE_COLUMNS[:2], "liste", *TABLE_COLUMNS[2:]]]


def one_vintage(territories: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The territories with one population vintage: QPV figures published with the QPV list are
    replaced by their IRIS estimate when census-based populations are compared with them.

    Returns (territories, swapped): ``swapped`` says whether an official figure was replaced.
    """
    official = (
        territories["population_source"].astype(str).str.startswith("population publiée")
        & territories["estimation_iris"].notna()
    )
    others = territories["population_source"].notna() & ~territories["population_source"].astype(
        str
    ).str.startswith("population publiée")
    if not (official.any() and others.any()):
        return territories, False
    out = territories.copy()
    out.loc[official, "population"] = out.loc[official, "estimation_iris"]
    out.loc[official, "population_source"] = out.loc[official, "estimation_source"]
    return out, True
