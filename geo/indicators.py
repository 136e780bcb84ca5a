"""Indicators of the ESS strategy, as pure functions on (Geo)DataFrames.

Inputs are the enriched tables of ``geo.enrich`` (grants carry ``montant``, ``montant_verse``,
``idBeneficiaire``, ``annee``, ``code_qpv``, ``near_qpv``, ``dist_qpv_m`` and the territory codes).
Amounts that cannot be read count as 0 €; every table keeps its rows without a territory in an
explicit group so that totals always add up. Spatial work is done in EPSG:2154 with joins.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from geopandas import GeoDataFrame, overlay, sjoin

from geo import status as geo_status
from geo.crs import COMPUTE_CRS, DISPLAY_CRS
from geo.formatting import fmt_eur, fmt_m

OUTSIDE = "Hors territoire / non localisé"
INSIDE_QPV = "Dans un QPV"
ELSEWHERE = "Ailleurs"
NOT_LOCATED = "Non localisé"
QPV_UNKNOWN = "Localisé, QPV non déterminé"


def amounts(df: pd.DataFrame, col: str = "montant") -> pd.Series:
    """Euros as floats, unreadable or missing amounts as 0: the one reading of an amount.

    Every total of the dashboard (pages, bilan, exports) sums this, so they all agree.
    """
    if col not in df.columns:
        return pd.Series(0.0, index=df.index)
    return pd.to_numeric(df[col], errors="coerce").fillna(0.0).astype(float)


def _inside(grants: pd.DataFrame) -> pd.Series:
    """True where the grant's point lies in a QPV of its generation."""
    if "code_qpv" not in grants.columns:
        return pd.Series(False, index=grants.index)
    return grants["code_qpv"].notna()


def _near(grants: pd.DataFrame) -> pd.Series:
    """True within the buffer of a QPV (inside included)."""
    if "near_qpv" not in grants.columns:
        return _inside(grants)
    return grants["near_qpv"].fillna(False).astype(bool) | _inside(grants)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else math.nan


def _compute(gdf: GeoDataFrame) -> GeoDataFrame:
    """Rows with a geometry, in EPSG:2154, positional index kept as column ``_pos``."""
    gdf = gdf.reset_index(drop=True)
    if gdf.crs is None:
        gdf = gdf.set_crs(DISPLAY_CRS)
    gdf = gdf.assign(_pos=np.arange(len(gdf)))
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    return gdf.to_crs(COMPUTE_CRS)


def _qpv_unknown_reason(grants: pd.DataFrame, qpv_lists) -> str | None:
    """Why the share of the amount in a QPV cannot be given for these grants, else None.

    It cannot when the QPV list some grant needs (by its year) is not loaded, or when no grant of
    a non-empty selection is located: "0 %" would then be a guess, not a figure.
    """
    missing = geo_status.missing_qpv_lists(grants, qpv_lists)
    if missing or (geo_status.qpv_status(grants, qpv_lists) == geo_status.UNKNOWN).any():
        return geo_status.qpv_missing_reason(missing)
    if len(grants) and not geo_status.located(grants).any():
        return geo_status.NOTHING_LOCATED
    return None


def key_figures(
    grants: pd.DataFrame,
    structures: pd.DataFrame | None,
    qpv_layer: GeoDataFrame | None,
    envelope: float = 700000,
    qpv_lists=None,
) -> dict:
    """Headline figures: committed and paid euros, envelope shares, QPV shares and coverage.

    ``part_qpv_avec_projet`` counts the QPV of ``qpv_layer`` holding at least one grant (by the
    grants' enriched ``code_qpv``); it is NaN when the layer is missing. The shares of the amount
    in and near a QPV are NaN, with the reason in ``qpv_inconnu`` (French), when a grant's QPV
    list is not loaded (``qpv_lists``: the loaded lists, see ``geo.status``) or nothing is located.
    """
    amount = amounts(grants)
    committed = float(amount.sum())
    paid = float(amounts(grants, "montant_verse").sum())
    funded = grants["idBeneficiaire"].dropna().nunique() if "idBeneficiaire" in grants else 0
    qpv_codes = set(qpv_layer["code_qpv"].dropna().astype(str)) if qpv_layer is not None else set()
    with_project = (
        set(grants["code_qpv"].dropna().astype(str)) & qpv_codes
        if "code_qpv" in grants.columns
        else set()
    )
    unknown = _qpv_unknown_reason(grants, qpv_lists)
    in_qpv = math.nan if unknown else _ratio(amount[_inside(grants)].sum(), committed)
    near_qpv = math.nan if unknown else _ratio(amount[_near(grants)].sum(), committed)
    return {
        "enveloppe": float(envelope),
        "montant_engage": committed,
        "montant_verse": paid,
        "part_enveloppe_engagee": _ratio(committed, envelope),
        "part_enveloppe_versee": _ratio(paid, envelope),
        "structures_financees": int(funded),
        "structures_recensees": int(len(structures)) if structures is not None else 0,
        "projets": int(len(grants)),
        "part_montant_dans_qpv": in_qpv,
        "part_montant_pres_qpv": near_qpv,
        "qpv_inconnu": unknown,
        "nb_qpv": len(qpv_codes),
        "nb_qpv_avec_projet": len(with_project),
        "part_qpv_avec_projet": _ratio(len(with_project), len(qpv_codes))
        if qpv_layer is not None
        else math.nan,
    }


def _pairs_near(points: GeoDataFrame, qpv: GeoDataFrame, buffer_m: float) -> pd.DataFrame:
    """(_pos, code_qpv) for every point within ``buffer_m`` of a QPV polygon."""
    pts = _compute(points)
    zones = _compute(qpv)
    zones = GeoDataFrame(
        {"code_qpv": zones["code_qpv"].astype(str).to_numpy()},
        geometry=zones.geometry.buffer(buffer_m).to_numpy(),
        crs=COMPUTE_CRS,
    )
    hits = sjoin(pts[["_pos", "geometry"]], zones, how="inner", predicate="intersects")
    return pd.DataFrame({"_pos": hits["_pos"].to_numpy(), "code_qpv": hits["code_qpv"].to_numpy()})


def qpv_coverage(
    grants: GeoDataFrame,
    structures: GeoDataFrame | None,
    qpv_layer: GeoDataFrame,
    buffer_m: float,
) -> pd.DataFrame:
    """One row per QPV: projects and euros inside and within ``buffer_m``, structures, €/inhabitant.

    Inside is the grants' enriched ``code_qpv``; "within buffer" is measured against each QPV
    polygon, so a grant near two QPV counts for both, and inside grants always count as near.
    Funded structures (siret among the grants' ``idBeneficiaire``) are placed at their own
    address. ``eur_par_habitant`` is the amount inside divided by the QPV population (NaN when
    unknown); ``sans_projet`` means no project inside.
    """
    qpv = qpv_layer.reset_index(drop=True)
    codes = qpv["code_qpv"].astype(str)
    out = pd.DataFrame(
        {
            "code_qpv": codes.to_numpy(),
            "nom_qpv": qpv["nom_qpv"].to_numpy(),
            "code_commune": qpv["code_commune"].to_numpy() if "code_commune" in qpv else None,
            "population": pd.to_numeric(qpv["population"], errors="coerce").to_numpy()
            if "population" in qpv
            else np.nan,
        }
    ).set_index("code_qpv")
    g = grants.reset_index(drop=True)
    amount = amounts(g).to_numpy()
    code = g["code_qpv"] if "code_qpv" in g else pd.Series(None, index=g.index, dtype=object)
    inside = pd.DataFrame({"_pos": np.arange(len(g)), "code_qpv": code.to_numpy(dtype=object)})
    inside = inside[inside["code_qpv"].notna()]
    inside = inside.assign(code_qpv=inside["code_qpv"].astype(str))
    inside = inside[inside["code_qpv"].isin(set(codes))]
    near = pd.concat([inside, _pairs_near(g, qpv, buffer_m)]).drop_duplicates()

    def tally(pairs: pd.DataFrame, suffix: str) -> None:
        pairs = pairs.assign(_m=amount[pairs["_pos"].to_numpy()])
        grouped = pairs.groupby("code_qpv")
        out[f"projets_{suffix}"] = grouped.size().reindex(out.index, fill_value=0).astype(int)
        out[f"montant_{suffix}"] = grouped["_m"].sum().reindex(out.index, fill_value=0.0)

    tally(inside, "dans")
    tally(near, "proches")
    out["structures_financees_dans"] = 0
    out["structures_financees_proches"] = 0
    if structures is not None and len(structures) and "idBeneficiaire" in g:
        funded_ids = set(g["idBeneficiaire"].dropna().astype(str))
        s = structures.reset_index(drop=True)
        s = s[s["siret"].astype(str).isin(funded_ids)]
        if len(s):
            sirets = s["siret"].astype(str).to_numpy()
            s_pairs = _pairs_near(s, qpv, 0.0)
            s_near = _pairs_near(s, qpv, buffer_m)
            for pairs, col in ((s_pairs, "dans"), (s_near, "proches")):
                counted = pairs.assign(siret=sirets[pairs["_pos"].to_numpy()])
                counts = counted.groupby("code_qpv")["siret"].nunique()
                out[f"structures_financees_{col}"] = counts.reindex(out.index, fill_value=0)
    pop = out["population"].where(out["population"] > 0)
    out["eur_par_habitant"] = out["montant_dans"] / pop
    out["sans_projet"] = out["projets_dans"] == 0
    return out.reset_index()


def _label_missing(index: pd.Index) -> pd.Index:
    """Replace missing keys of a group index by OUTSIDE (every level of a MultiIndex)."""
    if isinstance(index, pd.MultiIndex):
        arrays = [_label_missing(index.get_level_values(i)) for i in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(arrays, names=index.names)
    values = index.to_series().astype(object)
    return pd.Index(values.where(values.notna(), OUTSIDE).to_numpy(), name=index.name)


def distribution(
    grants: pd.DataFrame, by: str | list[str], population: pd.Series | None = None
) -> pd.DataFrame:
    """Committed, paid, projects and share of the total per group; €/inhabitant with population.

    Grants with no value for the key go into the ``OUTSIDE`` group, so the groups add up to the
    total. ``population`` is indexed like the group key (its first level for a list of keys).
    """
    keys = [by] if isinstance(by, str) else list(by)
    frame = pd.DataFrame({k: grants[k] for k in keys})
    frame["_m"] = amounts(grants)
    frame["_v"] = amounts(grants, "montant_verse")
    grouped = frame.groupby(keys, dropna=False, sort=True)
    out = pd.DataFrame(
        {
            "montant_engage": grouped["_m"].sum(),
            "montant_verse": grouped["_v"].sum(),
            "projets": grouped.size().astype(int),
        }
    )
    out.index = _label_missing(out.index)
    total = frame["_m"].sum()
    out["part_du_total"] = out["montant_engage"] / total if total else np.nan
    if population is not None:
        lookup = (
            out.index
            if out.index.nlevels == population.index.nlevels
            else (out.index.get_level_values(0))
        )
        pop = pd.to_numeric(pd.Series(population), errors="coerce")
        values = pd.Series(lookup.map(pop.to_dict()), index=out.index, dtype=float)
        out["population"] = values
        out["eur_par_habitant"] = out["montant_engage"] / values.where(values > 0)
    return out


def inside_outside_qpv(grants: pd.DataFrame, buffer_m: float = 300, qpv_lists=None) -> pd.DataFrame:
    """Committed, paid and projects inside a QPV, within ``buffer_m`` (not inside), elsewhere.

    The groups come from ``geo.status.qpv_status`` and always add up to the total: a
    ``QPV_UNKNOWN`` row (with the missing list in its label) holds located grants whose QPV list
    is not loaded, a ``NOT_LOCATED`` row the grants without a place. When no grant could be
    placed against a QPV list because the lists it needs are missing, the three QPV rows are NaN
    (shown "—"), never 0.
    """
    status = geo_status.qpv_status(grants, qpv_lists)
    missing = geo_status.missing_qpv_lists(grants, qpv_lists)
    near_label = f"À moins de {fmt_m(buffer_m)} d'un QPV"
    unknown_label = f"{QPV_UNKNOWN} — {geo_status.qpv_missing_reason(missing)}"
    labels = {
        geo_status.INSIDE: INSIDE_QPV,
        geo_status.NEAR: near_label,
        geo_status.AWAY: ELSEWHERE,
        geo_status.UNKNOWN: unknown_label,
        geo_status.UNLOCATED: NOT_LOCATED,
    }
    category = status.map(labels).to_numpy()
    frame = pd.DataFrame(
        {"categorie": category, "_m": amounts(grants), "_v": amounts(grants, "montant_verse")}
    )
    grouped = frame.groupby("categorie")
    qpv_rows = [INSIDE_QPV, near_label, ELSEWHERE]
    order = list(qpv_rows)
    if (status == geo_status.UNKNOWN).any():
        order.append(unknown_label)
    if (status == geo_status.UNLOCATED).any():
        order.append(NOT_LOCATED)
    out = pd.DataFrame(
        {
            "montant_engage": grouped["_m"].sum(),
            "montant_verse": grouped["_v"].sum(),
            "projets": grouped.size(),
        }
    ).reindex(order, fill_value=0)
    out["projets"] = out["projets"].astype(int)
    out.index.name = "categorie"
    total = frame["_m"].sum()
    out["part_du_total"] = out["montant_engage"] / total if total else np.nan
    placed = status.isin([geo_status.INSIDE, geo_status.NEAR, geo_status.AWAY]).any()
    if (missing or (status == geo_status.UNKNOWN).any()) and not placed:
        out.loc[qpv_rows] = np.nan  # unknown, not zero
    return out


def envelope_consumption(
    grants: pd.DataFrame, envelope: float, years: range | list[int] = range(2021, 2027)
) -> pd.DataFrame:
    """Per year: committed, paid, their running totals and the share of the envelope used.

    Payments have no date in the SCDL, so ``montant_verse`` is counted in the grant's year.
    Grants whose year is outside ``years`` are left out.
    """
    year = pd.to_numeric(grants["annee"], errors="coerce")
    frame = pd.DataFrame(
        {"annee": year, "_m": amounts(grants), "_v": amounts(grants, "montant_verse")}
    )
    grouped = frame.groupby("annee")
    index = pd.Index(list(years), name="annee")
    out = pd.DataFrame(
        {
            "montant_engage": grouped["_m"].sum().reindex(index, fill_value=0.0),
            "montant_verse": grouped["_v"].sum().reindex(index, fill_value=0.0),
        }
    )
    out["engage_cumule"] = out["montant_engage"].cumsum()
    out["verse_cumule"] = out["montant_verse"].cumsum()
    out["part_enveloppe_engagee"] = out["engage_cumule"] / envelope if envelope else np.nan
    out["part_enveloppe_versee"] = out["verse_cumule"] / envelope if envelope else np.nan
    return out


POPULATION_LEVELS = ("iris", "commune", "commune_insee", "quartier", "qpv")
ESTIMATE = "estimation (IRIS)"


def _iris_commune(iris: pd.DataFrame) -> pd.Series:
    """The territory code of each IRIS (59350/59298/59355 in Lille, the INSEE code elsewhere)."""
    if "code_commune" in iris.columns:
        return iris["code_commune"].astype(str)
    return iris["code_iris"].astype(str).str[:5]


def _apportion(
    iris_layer: GeoDataFrame, pop: pd.Series, targets: GeoDataFrame, key: str, *, tiling: bool
) -> pd.Series:
    """IRIS population apportioned to ``targets`` by areal weighting within the same commune."""
    codes = targets[key].astype(str).reset_index(drop=True)
    iris = _compute(
        iris_layer.assign(
            _iris=np.arange(len(iris_layer)),
            _p=pop.to_numpy(),
            _c=_iris_commune(iris_layer).to_numpy(),
        )
    )
    iris = iris.assign(_area=iris.geometry.area)
    zones = _compute(targets.assign(_key=codes.to_numpy()))
    pieces = overlay(
        iris[["_iris", "_p", "_c", "_area", "geometry"]],
        zones[["_key", "_pos", "geometry"]],
        how="intersection",
        keep_geom_type=True,
    )
    pieces = pieces.assign(_a=pieces.geometry.area)
    if "code_commune" in targets.columns:
        commune = targets["code_commune"].astype(str).reset_index(drop=True)
    else:  # the commune of the IRIS covering most of the target
        largest = pieces.sort_values("_a").drop_duplicates("_pos", keep="last")
        commune = pd.Series(largest["_c"].to_numpy(), index=largest["_pos"].to_numpy())
        commune = commune.reindex(range(len(codes)))
    pieces = pieces[pieces["_c"].to_numpy() == commune.reindex(pieces["_pos"]).to_numpy()]
    if tiling:  # the targets tile the commune: no inhabitant lost to boundary slivers
        share = pieces["_a"] / pieces.groupby("_iris")["_a"].transform("sum")
    else:  # QPV: only the part of the IRIS inside the target
        share = pieces["_a"] / pieces["_area"]
    pieces = pieces.assign(_w=pieces["_p"] * share)
    result = pieces.groupby("_key")["_w"].sum(min_count=1)
    return result.reindex(codes.to_numpy()).rename("population").rename_axis(key)


def population_by(
    iris_layer: GeoDataFrame,
    level: str,
    quartiers: GeoDataFrame | None = None,
    *,
    targets: GeoDataFrame | None = None,
) -> pd.Series:
    """Census population per IRIS, commune (territory or INSEE), quartier or QPV.

    The one population function of the dashboard (pages, exports, bilan):

    - ``iris``: the IRIS population as published;
    - ``commune``: sum of the IRIS of each territory code (``code_commune``: Lille without its
      associated communes 59350, Hellemmes 59298, Lomme 59355, the INSEE code elsewhere);
    - ``commune_insee``: sum by INSEE commune (the first 5 characters of ``code_iris``: Lille
      59350 with Hellemmes and Lomme, as in the MEL communes layer);
    - ``quartier`` (``quartiers`` layer, keyed by ``code_quartier``) and ``qpv`` (``targets``,
      keyed by ``code_qpv``): areal weighting computed in Lambert-93 (EPSG:2154, overlay) that
      never lets another commune's IRIS in: only the IRIS of the target's own commune count
      (its ``code_commune``; without that column, the commune of the IRIS covering most of the
      target). Quartiers tile their commune, so an IRIS is shared in proportion to its area in
      each quartier of its commune, renormalised over those parts: boundary slivers lose no
      inhabitant and the quartiers of a commune add up to its IRIS. A QPV gets, from each IRIS of
      its commune, the IRIS population times the share of the IRIS area inside the QPV (an
      estimate, "estimation (IRIS)"; pages prefer the official QPV population when published).

    Unknown populations stay NaN.
    """
    pop = pd.to_numeric(iris_layer["population"], errors="coerce")
    if level == "iris":
        return pd.Series(
            pop.to_numpy(), index=iris_layer["code_iris"].astype(str), name="population"
        )
    if level in ("commune", "commune_insee"):
        commune = (
            _iris_commune(iris_layer)
            if level == "commune"
            else iris_layer["code_iris"].astype(str).str[:5]
        )
        frame = pd.DataFrame({"code_commune": commune.to_numpy(), "p": pop.to_numpy()})
        return frame.groupby("code_commune")["p"].sum(min_count=1).rename("population")
    if level == "quartier":
        if quartiers is None:
            raise ValueError(
                "La couche des quartiers est nécessaire pour la population par quartier"
            )
        return _apportion(iris_layer, pop, quartiers, "code_quartier", tiling=True)
    if level == "qpv":
        if targets is None:
            raise ValueError("La couche des QPV est nécessaire pour la population par QPV")
        return _apportion(iris_layer, pop, targets, "code_qpv", tiling=False)
    raise ValueError(f"Niveau inconnu : {level} ({', '.join(POPULATION_LEVELS)})")


_VINTAGE_PATTERNS = (
    re.compile(r"(?:^|[^a-z])rp[ _-]?((?:19|20)\d\d)(?!\d)", re.IGNORECASE),
    re.compile(r"(?:^|[^a-z])p(\d\d)_pop", re.IGNORECASE),
    re.compile(r"pop\w*?[ _-]?((?:19|20)\d\d)(?!\d)", re.IGNORECASE),
)


def census_vintage(*texts: object) -> int | None:
    """The census year named in a layer's source, file name or column (``rp2019``, ``P19_POP``)."""
    for text in texts:
        if not text:
            continue
        for pattern in _VINTAGE_PATTERNS:
            found = pattern.search(str(text))
            if found:
                year = found.group(1)
                return int(year) if len(year) == 4 else 2000 + int(year)
    return None


def population_label(vintage: int | None, *, estimate: bool = False, qpv: bool = False) -> str:
    """How a view names its population: "population RP 2019, INSEE", or an estimate's label."""
    if qpv:
        base = "population publiée avec la liste des QPV"
        return f"{base} (RP {vintage})" if vintage else base
    base = f"population RP {vintage}, INSEE" if vintage else "population INSEE (millésime inconnu)"
    return f"{ESTIMATE}, {base}" if estimate else base


def insee_commune(grants: pd.DataFrame) -> pd.Series:
    """INSEE commune of each grant: Hellemmes (59298) and Lomme (59355) belong to Lille (59350)."""
    if "code_commune" not in grants.columns:
        return pd.Series(None, index=grants.index, dtype=object)
    code = grants["code_commune"].astype(object)
    return code.where(~code.isin(["59298", "59355"]), "59350")


def compare_territories(
    territories: GeoDataFrame,
    establishments: GeoDataFrame | None,
    grants: GeoDataFrame,
    qpv_lists=None,
) -> pd.DataFrame:
    """Per territory: ESS establishments (per 1 000 inhabitants), euros, €/inhabitant, QPV share.

    Territories may overlap (a quartier and a QPV): each gets its own grants. When the
    territories carry a ``cle`` column (``geo.territories.territory_catalogue``), a grant belongs
    to a territory by that enriched column (``code_quartier``, ``code_qpv_2015``…, or
    ``code_insee``: the INSEE commune, Hellemmes and Lomme in Lille), the membership every other
    page uses; otherwise points are joined to the polygons. Establishments (not enriched) are
    always joined; those with ``est_ess`` False are not counted. Committed euros, projects and
    ``part_montant_dans_qpv`` come from ``key_figures`` on the territory's grants, the function
    of Accueil: the share is NaN for a territory without any amount, or holding a grant whose
    QPV list is not loaded (``qpv_lists``, see ``geo.status``): unknown, not 0 %.
    """
    terr = _compute(territories)
    out = pd.DataFrame(
        {
            "code": territories["code"].astype(str).to_numpy(),
            "nom": territories["nom"].to_numpy(),
            "kind": territories["kind"].to_numpy(),
            "population": pd.to_numeric(territories["population"], errors="coerce").to_numpy(),
        }
    )
    n = len(out)
    right = terr[["_pos", "geometry"]].rename(columns={"_pos": "_t"})

    def joined(points: GeoDataFrame) -> pd.DataFrame:
        pts = _compute(points)
        hits = sjoin(pts[["_pos", "geometry"]], right, how="inner", predicate="intersects")
        return pd.DataFrame({"_pos": hits["_pos"].to_numpy(), "_t": hits["_t"].to_numpy()})

    count = np.zeros(n, dtype=int)
    if establishments is not None and len(establishments):
        est = establishments
        if "est_ess" in est.columns:
            est = est[est["est_ess"].fillna(False).astype(bool)]
        pairs = joined(est).drop_duplicates()
        count = pairs.groupby("_t").size().reindex(range(n), fill_value=0).to_numpy()
    g = grants.reset_index(drop=True)
    pairs = joined(g).drop_duplicates()
    if "cle" in territories.columns:  # membership from the enrichment, as on the other pages
        keyed = []
        for t, (cle, code) in enumerate(zip(territories["cle"], out["code"], strict=True)):
            column = insee_commune(g) if cle == "code_insee" else g.get(cle)
            if column is None or not isinstance(cle, str):
                keyed.append(pairs[pairs["_t"] == t])
                continue
            hits = np.flatnonzero(column.astype(str).to_numpy() == str(code))
            keyed.append(pd.DataFrame({"_pos": hits, "_t": t}))
        pairs = pd.concat(keyed, ignore_index=True) if keyed else pairs
    committed = np.zeros(n)
    projects = np.zeros(n, dtype=int)
    in_qpv = np.full(n, np.nan)
    for t, members in pairs.groupby("_t")["_pos"]:
        subset = g.iloc[np.sort(members.to_numpy())]
        figures = key_figures(subset, None, None, qpv_lists=qpv_lists)
        committed[t] = figures["montant_engage"]
        projects[t] = figures["projets"]
        in_qpv[t] = figures["part_montant_dans_qpv"]
    pop = out["population"].where(out["population"] > 0)
    out["etablissements_ess"] = count
    out["etablissements_pour_1000_hab"] = count / pop * 1000
    out["montant_engage"] = committed
    out["projets"] = projects
    out["eur_par_habitant"] = committed / pop
    out["part_montant_dans_qpv"] = in_qpv
    return out


def _nice(x: float, how: str = "round") -> float:
    """Round to a 'nice' value: a multiple of half the power of ten below |x| (3456 -> 3500)."""
    if x == 0 or not math.isfinite(x):
        return 0.0
    step = 10 ** math.floor(math.log10(abs(x))) / 2
    op = {"round": round, "floor": math.floor, "ceil": math.ceil}[how]
    return float(op(x / step) * step)


def classify(values, k: int = 5) -> tuple[list[float], list[str]]:
    """Classed euro scale: ``k`` quantile classes with rounded ("nice") breaks and French labels.

    ``bins`` are edges for ``pd.cut(values, bins, include_lowest=True)``; duplicates collapse,
    so fewer than ``k`` classes come back for values with few distinct levels. Labels read
    "0 € – 5 000 €". No finite value gives ([], []).
    """
    v = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype(float)
    v = v[np.isfinite(v)]
    if v.empty:
        return [], []
    low, high = _nice(float(v.min()), "floor"), _nice(float(v.max()), "ceil")
    inner = [_nice(float(q)) for q in v.quantile(np.linspace(0, 1, k + 1)[1:-1])]
    edges = sorted({low, high, *[x for x in inner if low < x < high]})
    if len(edges) == 1:
        edges.append(edges[0] + max(abs(_nice(edges[0])), 1.0))
    labels = [f"{fmt_eur(a)} – {fmt_eur(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return edges, labels
