"""The figures of the annual evaluation (« bilan annuel ») of the ESS strategy, as pure functions.

``build_bilan(inputs, year, cumul=False)`` computes everything the document shows, once, from the
enriched datasets and the reference layers; ``geo.bilan_render`` only typesets it (PDF and HTML
from the same blocks). Nothing here reads a file or formats a number for display.

Scope: the grants of ``year`` (or, with ``cumul``, of every year of the strategy up to ``year``).
The key figures always give both the year and the running total. A missing layer or an empty
selection never raises: the section holds ``None`` and a French reason instead of its table.

Definitions:
- committed = ``montant``, paid = ``montant_verse`` (counted in the grant's year, as the SCDL has
  no payment date); structures = distinct beneficiaries (SIRET, else RNA, else name);
- remaining = envelope - committed to date; pace needed = remaining / years left after ``year``
  up to the strategy's last year (None in the last year);
- a beneficiary is *renewed* in a group when the City had already funded it (any priority) in a
  year before the year of its last grant of that group, else *new*;
- QPV: each grant is placed against the QPV list in force in its year (``geo.enrich``), within
  ``buffer_m`` metres counting as near; shares are None with a reason when a list is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.communes import commune_codes
from geo.crs import COMPUTE_CRS
from geo.indicators import amounts, envelope_consumption
from geo.status import (
    AWAY,
    INSIDE,
    NEAR,
    UNLOCATED,
    loaded_qpv_lists,
    missing_qpv_lists,
    qpv_status,
)

LAND_PRIORITY = 7
QPV_PRIORITY = 16
MEL_PRIORITY = 20
HIDDEN_NAME = "Structure non diffusible"  # as loaders.datasets names a SIRENE status P beneficiary
QPV_LISTS = ("2015", "2024")


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def qpv_missing_reason(lists: list[str]) -> str:
    """'couche QPV non chargée (liste 2024)', or '(listes 2015 et 2024)'."""
    names = sorted(set(lists))
    if len(names) == 1:
        return f"couche QPV non chargée (liste {names[0]})"
    return f"couche QPV non chargée (listes {', '.join(names[:-1])} et {names[-1]})"


@dataclass
class BilanInputs:
    """What a bilan is computed from (the dashboard's bundle, or the command line's load)."""

    grants: pd.DataFrame  # enriched grants of every year (geo.enrich columns)
    structures: pd.DataFrame | None
    land: pd.DataFrame | None
    layers: dict  # {layer name: GeoDataFrame or None}
    strategy: dict  # data/strategy.json
    demo: bool = False
    data_date: str | None = None  # ISO date of the data (latest dataset update)
    sources: list[dict] = field(default_factory=list)  # {"nom", "producteur", "mis_a_jour"}
    buffer_m: float = 300.0
    qpv_switch_year: int = 2024


@dataclass
class Section:
    """A table of figures, or the French reason it cannot be given."""

    table: pd.DataFrame | None = None
    reason: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.table is not None and self.reason is None


@dataclass
class Bilan:
    """Every figure of one annual evaluation."""

    year: int
    cumul: bool
    period: tuple[int, int]  # the years the sections cover
    strategy: dict
    demo: bool
    data_date: str | None
    sources: list[dict]
    key: dict
    envelope: pd.DataFrame  # per strategy year: committed, paid, running totals
    axes: pd.DataFrame
    priorities: pd.DataFrame
    communes: Section
    quartiers: Section
    qpv: Section
    land: Section
    p16: Section
    p20: Section
    roadmaps: pd.DataFrame
    annex: pd.DataFrame
    map_layers: dict  # geometries for the static maps (EPSG:2154), see _map_layers
    buffer_m: float
    qpv_list: str  # "2015" or "2024": the QPV list in force in ``year``
    grants_in_scope: int = 0


def _years(df: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(df["annee"], errors="coerce") if "annee" in df else pd.Series(np.nan)


def beneficiary_key(grants: pd.DataFrame) -> pd.Series:
    """Who was funded: SIRET, else RNA, else the name; None for a hidden (status P) beneficiary."""
    key = pd.Series(None, index=grants.index, dtype=object)
    for col, prefix in (("idBeneficiaire", "siret:"), ("rnaBeneficiaire", "rna:")):
        if col in grants.columns:
            values = grants[col].astype(object)
            key = key.where(key.notna(), (prefix + values.astype(str)).where(values.notna()))
    if "nomBeneficiaire" in grants.columns:
        names = grants["nomBeneficiaire"].astype(object)
        usable = names.notna() & (names != HIDDEN_NAME)
        key = key.where(key.notna(), ("nom:" + names.astype(str)).where(usable))
    return key


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _group_table(scope: pd.DataFrame, first_year: pd.Series, by: str, index: list) -> pd.DataFrame:
    """Committed, paid, grants, structures, new and renewed beneficiaries per value of ``by``."""
    frame = pd.DataFrame(
        {
            "k": scope[by].to_numpy() if len(scope) else [],
            "m": amounts(scope).to_numpy(),
            "v": amounts(scope, "montant_verse").to_numpy(),
            "b": beneficiary_key(scope).to_numpy(),
            "y": _years(scope).to_numpy(),
        }
    )
    frame["k"] = pd.to_numeric(frame["k"], errors="coerce")
    grouped = frame.groupby("k")
    out = pd.DataFrame(index=pd.Index(index, name=by))
    out["montant_engage"] = grouped["m"].sum().reindex(out.index, fill_value=0.0)
    out["montant_verse"] = grouped["v"].sum().reindex(out.index, fill_value=0.0)
    out["subventions"] = grouped.size().reindex(out.index, fill_value=0).astype(int)
    known = frame.dropna(subset=["b"])
    out["structures"] = (
        known.groupby("k")["b"].nunique().reindex(out.index, fill_value=0).astype(int)
    )
    last = known.groupby(["k", "b"])["y"].max().reset_index()
    last["renouvelee"] = last["b"].map(first_year) < last["y"]
    out["renouvelees"] = (
        last.groupby("k")["renouvelee"].sum().reindex(out.index, fill_value=0).astype(int)
    )
    out["nouvelles"] = out["structures"] - out["renouvelees"]
    return out


def _key_figures(grants: pd.DataFrame, year: int, strategy: dict) -> dict:
    years = _years(grants)
    amount, paid = amounts(grants), amounts(grants, "montant_verse")
    envelope = float(strategy.get("enveloppe_eur") or 0.0)
    first, last = (int(y) for y in strategy.get("periode", (2021, 2026)))
    in_year = years == year
    to_date = years.between(first, year)
    committed_year = float(amount[in_year].sum())
    committed_prev = float(amount[years == year - 1].sum())
    committed_cum = float(amount[to_date].sum())
    remaining = envelope - committed_cum
    years_left = last - year
    return {
        "annee": year,
        "enveloppe": envelope,
        "engage_annee": committed_year,
        "verse_annee": float(paid[in_year].sum()),
        "subventions_annee": int(in_year.sum()),
        "structures_annee": int(beneficiary_key(grants[in_year.to_numpy()]).dropna().nunique()),
        "engage_cumule": committed_cum,
        "verse_cumule": float(paid[to_date].sum()),
        "subventions_cumulees": int(to_date.sum()),
        "part_enveloppe_engagee": _ratio(committed_cum, envelope),
        "part_enveloppe_versee": _ratio(float(paid[to_date].sum()), envelope),
        "part_enveloppe_annee": _ratio(committed_year, envelope),
        "reste": remaining,
        "annees_restantes": max(years_left, 0),
        "rythme_necessaire": remaining / years_left if years_left > 0 else None,
        "engage_annee_precedente": committed_prev if year > first else None,
        "evolution": (committed_year - committed_prev) / committed_prev
        if year > first and committed_prev
        else None,
        "premiere_annee": first,
        "derniere_annee": last,
    }


def _envelope(grants: pd.DataFrame, strategy: dict, year: int) -> pd.DataFrame:
    """Envelope consumption from the strategy's first year to `year` (geo.indicators' rule)."""
    first, last = (int(y) for y in strategy.get("periode", (2021, 2026)))
    envelope = float(strategy.get("enveloppe_eur") or 0.0)
    return envelope_consumption(grants, envelope, range(first, min(year, last) + 1))


def _communes(scope: pd.DataFrame, layers: dict) -> Section:
    communes = layers.get("communes")
    if communes is None or not len(communes):
        return Section(reason="La couche des communes n'est pas chargée : pas de répartition.")
    names = dict(zip(communes["code"].astype(str), communes["nom"].astype(str), strict=False))
    pops = pd.to_numeric(communes.get("population"), errors="coerce")
    pop = dict(zip(communes["code"].astype(str), pops, strict=False))
    codes = scope["code_commune"].astype(object) if "code_commune" in scope else None
    frame = pd.DataFrame(
        {
            "code": codes.where(codes.notna(), None).to_numpy() if codes is not None else None,
            "m": amounts(scope).to_numpy(),
            "b": beneficiary_key(scope).to_numpy(),
        }
    )
    rows = []
    for code in names:
        part = frame[frame["code"].astype(str) == code] if len(frame) else frame
        population = pop.get(code)
        amount = float(part["m"].sum())
        rows.append(
            {
                "territoire": names[code],
                "montant_engage": amount,
                "subventions": len(part),
                "structures": int(part["b"].dropna().nunique()),
                "population": population,
                "eur_par_habitant": amount / population
                if population and not pd.isna(population) and population > 0
                else None,
            }
        )
    other = frame[~frame["code"].astype(str).isin(names)] if len(frame) else frame
    if len(other):
        rows.append(
            {
                "territoire": "Hors des trois communes / non localisé",
                "montant_engage": float(other["m"].sum()),
                "subventions": len(other),
                "structures": int(other["b"].dropna().nunique()),
                "population": None,
                "eur_par_habitant": None,
            }
        )
    return Section(table=pd.DataFrame(rows))


def _quartiers(scope: pd.DataFrame, layers: dict, population: pd.Series | None) -> Section:
    quartiers = layers.get("quartiers")
    if quartiers is None or not len(quartiers):
        return Section(
            reason="La couche des quartiers n'est pas chargée : la répartition par quartier et "
            "la carte choroplèthe ne peuvent pas être établies."
        )
    codes = quartiers["code_quartier"].astype(str)
    frame = pd.DataFrame(
        {
            "q": scope["code_quartier"].astype(object).to_numpy()
            if "code_quartier" in scope
            else [None] * len(scope),
            "m": amounts(scope).to_numpy(),
        }
    )
    frame["q"] = frame["q"].map(lambda v: None if v is None or pd.isna(v) else str(v))
    grouped = frame.groupby("q")
    out = pd.DataFrame(
        {
            "code_quartier": codes.to_numpy(),
            "territoire": quartiers["nom_quartier"].astype(str).to_numpy(),
        }
    )
    out["montant_engage"] = grouped["m"].sum().reindex(codes, fill_value=0.0).to_numpy()
    out["subventions"] = grouped.size().reindex(codes, fill_value=0).astype(int).to_numpy()
    if population is not None:
        pop = pd.to_numeric(population.reindex(codes), errors="coerce").to_numpy()
        out["population"] = pop
        with np.errstate(invalid="ignore", divide="ignore"):
            out["eur_par_habitant"] = np.where(pop > 0, out["montant_engage"] / pop, np.nan)
    out = out.sort_values("territoire", kind="stable").reset_index(drop=True)
    note = (
        "population des IRIS répartie par surface"
        if population is not None
        else "la couche IRIS n'est pas chargée : pas d'euros par habitant par quartier"
    )
    return Section(table=out, extra={"population": note})


def _qpv(scope: pd.DataFrame, inputs: BilanInputs, year: int) -> tuple[Section, str]:
    generation = "2024" if year >= inputs.qpv_switch_year else "2015"
    loaded = loaded_qpv_lists(inputs.layers)
    missing = missing_qpv_lists(scope, loaded)
    if generation not in loaded:
        missing = sorted({*missing, generation})
    if missing:
        return Section(
            reason=f"{_upper_first(qpv_missing_reason(missing))} : la part des "
            "montants dans les quartiers prioritaires et à proximité ne peut pas être calculée."
        ), generation
    status = qpv_status(scope, loaded)
    amount = amounts(scope)
    total = float(amount.sum())
    labels = [
        (INSIDE, "Dans un QPV"),
        (NEAR, f"À moins de {inputs.buffer_m:g} m d'un QPV (hors QPV)"),
        (AWAY, "Ailleurs"),
        (UNLOCATED, "Non localisé"),
    ]
    rows = []
    for key, label in labels:
        mask = (status == key).to_numpy()
        if key == UNLOCATED and not mask.any():
            continue
        rows.append(
            {
                "categorie": label,
                "montant_engage": float(amount[mask].sum()),
                "subventions": int(mask.sum()),
                "part": _ratio(float(amount[mask].sum()), total),
            }
        )
    layer = inputs.layers.get(f"qpv_{generation}")
    per_qpv = []
    in_force = scope[
        scope.get("qpv_generation", pd.Series(generation, index=scope.index)).astype(str)
        == generation
    ]
    inside_codes = in_force["code_qpv"].astype(object) if "code_qpv" in in_force else None
    # Once for all the QPV of the list, not once per QPV.
    codes = inside_codes.astype(str).to_numpy() if len(in_force) else None
    amount_in_force = amounts(in_force).to_numpy()
    for row in layer.itertuples():
        mask = codes == str(row.code_qpv) if len(in_force) else []
        amount_in = float(amount_in_force[mask].sum()) if len(in_force) else 0.0
        population = pd.to_numeric(pd.Series([getattr(row, "population", None)])).iloc[0]
        per_qpv.append(
            {
                "code_qpv": str(row.code_qpv),
                "nom_qpv": str(row.nom_qpv),
                "subventions_dans": int(np.sum(mask)) if len(in_force) else 0,
                "montant_dans": amount_in,
                "population": None if pd.isna(population) else float(population),
                "eur_par_habitant": amount_in / population
                if not pd.isna(population) and population > 0
                else None,
            }
        )
    return Section(
        table=pd.DataFrame(rows),
        extra={
            "par_qpv": pd.DataFrame(per_qpv),
            "part_dans": _ratio(float(amount[(status == INSIDE).to_numpy()].sum()), total),
            "part_proche": _ratio(
                float(amount[status.isin([INSIDE, NEAR]).to_numpy()].sum()),
                total,
            ),
        },
    ), generation


def _land(inputs: BilanInputs, scope: pd.DataFrame, year: int) -> Section:
    land = inputs.land
    p7 = (
        scope[pd.to_numeric(scope["priorite"], errors="coerce") == LAND_PRIORITY]
        if len(scope)
        else scope
    )
    extra = {
        "montant_p7": float(amounts(p7).sum()),
        "subventions_p7": len(p7),
        "structures_p7": int(beneficiary_key(p7).dropna().nunique()),
    }
    friches = inputs.layers.get("friches")
    if friches is None or not len(friches):
        extra["friches"] = None
    else:
        communes = inputs.layers.get("communes")
        inside = friches
        if communes is not None and len(communes):  # the one membership rule (geo.communes)
            inside = friches[commune_codes(friches.geometry, communes).notna().to_numpy()]
        surface = pd.to_numeric(inside.get("surface_m2"), errors="coerce")
        extra["friches"] = {"sites": len(inside), "surface_m2": float(surface.sum(skipna=True))}
        if land is not None and len(land) and "geometry" in land:
            located = land[land.geometry.notna()]
            if len(located):
                zones = located.to_crs(COMPUTE_CRS).buffer(500).union_all()
                near = inside.to_crs(COMPUTE_CRS).intersects(zones)
                extra["friches"]["a_500m_d_un_site"] = int(near.sum())
    if land is None or not len(land):
        return Section(reason="Aucun site foncier n'est enregistré.", extra=extra)
    surface = pd.to_numeric(land.get("surface_m2"), errors="coerce")
    start = pd.to_datetime(land.get("date_debut"), errors="coerce")
    rows = []
    for statut in ("disponible", "attribué", "à l'étude"):
        mask = (land["statut"].astype(str) == statut).to_numpy()
        rows.append(
            {
                "statut": statut,
                "sites": int(mask.sum()),
                "surface_m2": float(surface[mask].sum(skipna=True)),
            }
        )
    occupied = (land["statut"].astype(str) == "attribué").to_numpy()
    extra.update(
        {
            "sites": len(land),
            "surface_m2": float(surface.sum(skipna=True)),
            "occupes": int(occupied.sum()),
            "taux_occupation": _ratio(int(occupied.sum()), len(land)),
            "mis_a_disposition_annee": int((start.dt.year == year).sum()),
            "surface_mise_a_disposition_annee": float(
                surface[(start.dt.year == year).to_numpy()].sum(skipna=True)
            ),
        }
    )
    return Section(table=pd.DataFrame(rows), extra=extra)


def _priority_section(scope: pd.DataFrame, number: int) -> pd.DataFrame:
    if not len(scope):
        return scope
    return scope[pd.to_numeric(scope["priorite"], errors="coerce") == number]


def _p16(scope: pd.DataFrame, inputs: BilanInputs) -> Section:
    grants = _priority_section(scope, QPV_PRIORITY)
    extra = {
        "montant": float(amounts(grants).sum()),
        "subventions": len(grants),
        "structures": int(beneficiary_key(grants).dropna().nunique()),
        "cible_qpv": int(grants["cible_qpv"].fillna(False).astype(bool).sum())
        if "cible_qpv" in grants and len(grants)
        else 0,
    }
    if not len(grants):
        return Section(reason="Aucune subvention de la priorité 16 sur la période.", extra=extra)
    loaded = loaded_qpv_lists(inputs.layers)
    missing = missing_qpv_lists(grants, loaded)
    if missing:
        return Section(
            reason=f"{_upper_first(qpv_missing_reason(missing))} : la localisation des "
            "projets par rapport aux QPV ne peut pas être établie.",
            extra=extra,
        )
    status = qpv_status(grants, loaded)
    amount = amounts(grants)
    for key, name in ((INSIDE, "dans"), (NEAR, "proche")):
        mask = (status == key).to_numpy()
        extra[f"montant_{name}"] = float(amount[mask].sum())
        extra[f"subventions_{name}"] = int(mask.sum())
    return Section(table=pd.DataFrame([extra]), extra=extra)


def _p20(scope: pd.DataFrame) -> Section:
    grants = _priority_section(scope, MEL_PRIORITY)
    extra = {
        "montant": float(amounts(grants).sum()),
        "montant_verse": float(amounts(grants, "montant_verse").sum()),
        "subventions": len(grants),
        "structures": int(beneficiary_key(grants).dropna().nunique()),
    }
    if not len(grants):
        return Section(reason="Aucune subvention de la priorité 20 sur la période.", extra=extra)
    dispositif = grants.get("dispositif", grants.get("objet"))
    objects = (
        pd.DataFrame({"d": dispositif.fillna("Non renseigné").astype(str), "m": amounts(grants)})
        .groupby("d")["m"]
        .agg(["sum", "size"])
        .reset_index()
        .rename(columns={"d": "dispositif", "sum": "montant_engage", "size": "subventions"})
        .sort_values("montant_engage", ascending=False, kind="stable")
    )
    return Section(table=objects, extra=extra)


def _roadmaps(grants: pd.DataFrame, strategy: dict, year: int, roadmaps: dict) -> pd.DataFrame:
    envelope = float(strategy.get("enveloppe_eur") or 0.0)
    years = _years(grants)
    rows = []
    for name, (first, last) in roadmaps.items():
        end = min(last, year)
        mask = years.between(first, end).to_numpy() if end >= first else np.zeros(len(grants), bool)
        part = grants[mask]
        committed = float(amounts(part).sum())
        rows.append(
            {
                "feuille": name,
                "annees": f"{first}-{last}",
                "jusqu_a": end if end >= first else None,
                "montant_engage": committed,
                "montant_verse": float(amounts(part, "montant_verse").sum()),
                "subventions": len(part),
                "structures": int(beneficiary_key(part).dropna().nunique()),
                "part_enveloppe": _ratio(committed, envelope),
                "moyenne_annuelle": committed / (end - first + 1) if end >= first else None,
            }
        )
    return pd.DataFrame(rows)


ANNEX_COLUMNS = [
    "dateConvention",
    "nomBeneficiaire",
    "idBeneficiaire",
    "objet",
    "priorite",
    "montant",
    "montant_verse",
]


def annex(grants: pd.DataFrame) -> pd.DataFrame:
    """Every grant given, as published in the SCDL, sorted by date; hidden names stay hidden.

    A beneficiary with SIRENE status P has no identifier and the name ``HIDDEN_NAME`` (the loader
    removed them); any other text in its place is never shown.
    """
    out = pd.DataFrame({c: grants[c] if c in grants else None for c in ANNEX_COLUMNS})
    hidden = out["idBeneficiaire"].isna() & out["nomBeneficiaire"].eq(HIDDEN_NAME)
    out.loc[hidden, "nomBeneficiaire"] = HIDDEN_NAME
    out["_d"] = pd.to_datetime(out["dateConvention"], errors="coerce")
    if "id_subvention" in grants:
        out["_id"] = grants["id_subvention"].astype(str).to_numpy()
    else:
        out["_id"] = ""
    out = out.sort_values(["_d", "_id"], kind="stable").drop(columns=["_d", "_id"])
    return out.reset_index(drop=True)


def _map_layers(inputs: BilanInputs, scope: pd.DataFrame, generation: str) -> dict:
    """Layers of the static maps in EPSG:2154: communes, quartiers, QPV in force, grant points."""

    def project(gdf):
        if gdf is None or not len(gdf):
            return None
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        return gdf.to_crs(COMPUTE_CRS) if len(gdf) else None

    points = None
    if isinstance(scope, gpd.GeoDataFrame) and len(scope):
        located = scope[scope.geometry.notna() & ~scope.geometry.is_empty]
        if len(located):
            points = gpd.GeoDataFrame(
                {"montant": amounts(located).to_numpy()},
                geometry=located.geometry.to_crs(COMPUTE_CRS).to_numpy(),
                crs=COMPUTE_CRS,
            )
    return {
        "communes": project(inputs.layers.get("communes")),
        "quartiers": project(inputs.layers.get("quartiers")),
        "qpv": project(inputs.layers.get(f"qpv_{generation}")),
        "points": points,
    }


def build_bilan(
    inputs: BilanInputs,
    year: int,
    cumul: bool = False,
    roadmaps: dict | None = None,
    quartier_population: pd.Series | None = None,
) -> Bilan:
    """All the figures of the bilan of ``year`` (sections over 2021..year with ``cumul``)."""
    from geo.filters import ROADMAPS  # the same two roadmaps as the shared filter

    strategy = inputs.strategy
    first, _ = (int(y) for y in strategy.get("periode", (2021, 2026)))
    grants = inputs.grants
    years = _years(grants)
    grants = grants[(years <= year).to_numpy()]  # nothing after the year is known yet
    years = _years(grants)
    period = (first, year) if cumul else (year, year)
    scope = grants[years.between(*period).to_numpy()]
    keys = beneficiary_key(grants)
    first_year = (
        pd.DataFrame({"b": keys, "y": years}).dropna().groupby("b")["y"].min()
        if len(grants)
        else pd.Series(dtype=float)
    )
    axes_meta = strategy["axes"]
    axes = _group_table(scope, first_year, "axe", [a["numero"] for a in axes_meta])
    axes.insert(0, "titre", [a["titre"] for a in axes_meta])
    axes.insert(1, "intitule_court", [a.get("intitule_court", "") for a in axes_meta])
    numbers = [p["numero"] for a in axes_meta for p in a["priorites"]]
    priorities = _group_table(scope, first_year, "priorite", numbers)
    priorities.insert(0, "titre", [p["titre"] for a in axes_meta for p in a["priorites"]])
    priorities.insert(0, "axe", [a["numero"] for a in axes_meta for _ in a["priorites"]])
    priorities["sans_activite"] = priorities["subventions"] == 0
    qpv, generation = _qpv(scope, inputs, year)
    return Bilan(
        year=year,
        cumul=cumul,
        period=period,
        strategy=strategy,
        demo=inputs.demo,
        data_date=inputs.data_date,
        sources=list(inputs.sources),
        key=_key_figures(grants, year, strategy),
        envelope=_envelope(grants, strategy, year),
        axes=axes,
        priorities=priorities,
        communes=_communes(scope, inputs.layers),
        quartiers=_quartiers(scope, inputs.layers, quartier_population),
        qpv=qpv,
        land=_land(inputs, scope, year),
        p16=_p16(scope, inputs),
        p20=_p20(scope),
        roadmaps=_roadmaps(grants, strategy, year, roadmaps or ROADMAPS),
        annex=annex(grants[(years == year).to_numpy()]),
        map_layers=_map_layers(inputs, scope, generation),
        buffer_m=inputs.buffer_m,
        qpv_list=generation,
        grants_in_scope=len(scope),
    )


def finite(x) -> bool:
    """True for a real number that is not NaN or infinite."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False
