"""ESS establishments from the API Recherche d'entreprises (Sirene + ESS France marker).

Units and establishments whose `statut_diffusion` is "P" (the owner opposed publication) are
dropped here, before anything is stored or shown.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import requests

from geo.crs import DISPLAY_CRS
from loaders.config import manifest
from loaders.http import RateLimiter, fetch
from loaders.model import parse_bool
from loaders.readers import read_vector
from loaders.sources.common import (
    LILLE,
    MEL_SIREN,
    Fetched,
    LayerError,
    LayerSource,
    code_str,
    http_date_to_iso,
    pick,
    territory_from_postcode,
)

SCOPES = {"lille": {"code_commune": LILLE}, "mel": {"epci": MEL_SIREN}}
BASE_PARAMS = {
    "est_ess": "true",
    "etat_administratif": "A",
    "per_page": 25,
    "limite_matching_etablissements": 100,
}
SECTIONS = tuple("ABCDEFGHIJKLMNOPQRSTU")  # NAF sections, to split queries over 10 000 results
COLUMNS = (
    "siret",
    "siren",
    "nom",
    "nature_juridique",
    "adresse",
    "code_postal",
    "code_commune",
    "est_ess",
    "est_siege",
)


def scopes() -> list[str]:
    """Which areas to query: ESS_ESS_SCOPE="lille,mel" by default (Lille first, then the MEL)."""
    wanted = [s.strip() for s in os.environ.get("ESS_ESS_SCOPE", "lille,mel").split(",")]
    return [s for s in wanted if s in SCOPES] or ["lille"]


def _public(flag) -> bool:
    return str(flag or "O").upper() != "P"


def rows_from_results(results: list[dict]) -> list[dict]:
    """One row per matching establishment, non-diffusible units and establishments left out."""
    rows = []
    for unit in results:
        if not _public(unit.get("statut_diffusion")):
            continue
        complements = unit.get("complements") or {}
        for etab in unit.get("matching_etablissements") or []:
            if not _public(etab.get("statut_diffusion_etablissement")) or not _public(
                etab.get("statut_diffusion")
            ):
                continue
            if etab.get("etat_administratif") == "F":
                continue
            rows.append(
                {
                    "siret": etab.get("siret"),
                    "siren": unit.get("siren"),
                    "nom": unit.get("nom_complet") or unit.get("nom_raison_sociale"),
                    "nature_juridique": unit.get("nature_juridique"),
                    "adresse": etab.get("adresse"),
                    "code_postal": etab.get("code_postal"),
                    "commune": etab.get("commune"),
                    "est_ess": bool(complements.get("est_ess")),
                    "est_siege": bool(etab.get("est_siege")),
                    "latitude": etab.get("latitude"),
                    "longitude": etab.get("longitude"),
                }
            )
    return rows


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(
        rows, columns=[*COLUMNS[:6], "commune", "est_ess", "est_siege", "latitude", "longitude"]
    )
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    points = gpd.points_from_xy(lon, lat)
    geoms = [p if ok else None for p, ok in zip(points, lon.notna() & lat.notna(), strict=True)]
    return gpd.GeoDataFrame(
        df.drop(columns=["latitude", "longitude"]), geometry=geoms, crs=DISPLAY_CRS
    )


def _api_results(data) -> list | None:
    """The `results` of an API Recherche d'entreprises answer (possibly under "response")."""
    data = data.get("response", data) if isinstance(data, dict) else data
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    return None


def _nothing_kept(results: list) -> str:
    """Why a saved answer gives no establishment, with counts (French)."""
    etabs = [e for u in results for e in (u.get("matching_etablissements") or [])]
    if not etabs:
        return (
            f"{len(results)} unité(s) lue(s), sans établissement correspondant "
            "(« matching_etablissements » vide) : rien à garder"
        )
    closed = sum(1 for e in etabs if e.get("etat_administratif") == "F")
    private = sum(1 for u in results if not _public(u.get("statut_diffusion")))
    return (
        f"{len(results)} unité(s) et {len(etabs)} établissement(s) lus, aucun à garder "
        f"({closed} fermé(s), {private} unité(s) non diffusible(s))"
    )


def is_api_answer(path: Path) -> bool:
    """True for a saved answer of /search: {"results": [units with a siren]} (GeoJSON is not)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    results = _api_results(data)
    return bool(results) and all(isinstance(u, dict) and "siren" in u for u in results[:5])


class EssEstablishmentsSource(LayerSource):
    name = "ess_establishments"
    title = "établissements de l'ESS"
    geometry_kind = "point"
    columns = COLUMNS
    file_patterns = (r"ess", r"etablissement", r"sirene")

    def recognises(self, table: pd.DataFrame) -> bool:
        return (
            "siret" in table.columns
            and pick(table.columns, "nom", "nom_complet", "denomination", "raison_sociale")
            is not None
        )

    def normalise(self, raw: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
        if "siret" not in raw.columns:
            raise self.fail(origin, "colonne « siret » introuvable")
        df = raw.copy()
        status = pick(
            df.columns,
            "statut_diffusion",
            "statut_diffusion_etablissement",
            "statutdiffusionetablissement",
        )
        if status is not None:
            df = df[df[status].map(_public)]
        siret = code_str(df["siret"], 14)
        siren = code_str(df["siren"], 9) if "siren" in df.columns else siret.str[:9]
        name_col = pick(df.columns, "nom", "nom_complet", "denomination", "raison_sociale")
        postcode = (
            code_str(df[pick(df.columns, "code_postal", "cp", "codepostal")], 5)
            if pick(df.columns, "code_postal", "cp", "codepostal")
            else pd.Series(None, index=df.index, dtype=object)
        )
        commune_col = pick(df.columns, "code_commune", "commune", "code_insee")
        communes = (
            code_str(df[commune_col])
            if commune_col
            else pd.Series(None, index=df.index, dtype=object)
        )

        def flag(col: str, default: bool) -> pd.Series:
            if col not in df.columns:
                return pd.Series(default, index=df.index)
            return df[col].map(lambda v: parse_bool(v) is True)

        gdf = gpd.GeoDataFrame(
            {
                "siret": siret.values,
                "siren": siren.values,
                "nom": df[name_col].astype(object).values if name_col else None,
                "nature_juridique": (
                    code_str(df["nature_juridique"], 4).values
                    if "nature_juridique" in df.columns
                    else None
                ),
                "adresse": df["adresse"].astype(object).values if "adresse" in df.columns else None,
                "code_postal": postcode.values,
                "code_commune": territory_from_postcode(postcode, communes).values,
                "est_ess": flag("est_ess", True).values,
                "est_siege": flag("est_siege", False).values,
            },
            geometry=df.geometry.values,
            crs=df.crs,
        )
        gdf = gdf[gdf["siret"].notna()]
        return gdf.drop_duplicates("siret")

    def check(self, gdf: gpd.GeoDataFrame, origin: str) -> None:
        bad = ~gdf["siret"].astype(str).str.fullmatch(r"\d{14}")
        if bad.any():
            raise self.fail(origin, f"{int(bad.sum())} SIRET invalide(s) (14 chiffres attendus)")

    def read_files(self, paths: list[Path]) -> gpd.GeoDataFrame:
        """A saved API answer ({"results": [...]}) or a table with siret and coordinates."""
        path = Path(paths[0])
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except ValueError as exc:
                raise self.fail(path.name, f"JSON invalide ({exc})") from exc
            results = _api_results(data)
            if results is not None:
                rows = rows_from_results(results)
                if not rows:
                    raise self.fail(path.name, _nothing_kept(results))
                raw = _frame(rows)
                return self.validate(self.normalise(raw, path.name), path.name)
        return self.validate(self.normalise(read_vector(path), path.name), path.name)

    def find_files(self, candidates: list[Path]) -> list[Path] | None:
        """A saved answer of API Recherche d'entreprises first, else a recognised table."""
        for path in sorted(candidates):
            if path.suffix.lower() == ".json" and is_api_answer(path):
                return [path]
        return super().find_files(candidates)

    def fetch(
        self,
        urls: list[str],
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
        retries: int = 3,
    ) -> Fetched:
        """Page through /search for each scope, splitting by NAF section past 10 000 results."""
        conf = manifest().get(self.name, {})
        limiter = RateLimiter(float(conf.get("rate_limit_per_s", 7)), sleep=sleep)
        max_results = int(conf.get("max_results", 10_000))
        url = urls[0]
        own = session is None
        session = session or requests.Session()
        rows: list[dict] = []
        updated = None
        truncated = False
        try:
            for scope in scopes():
                params = {**BASE_PARAMS, **SCOPES[scope]}
                got, date, cut = self._query(
                    url, params, limiter, max_results, session, sleep, timeout, retries, split=True
                )
                rows.extend(got)
                updated = updated or date
                truncated |= cut
        finally:
            if own:
                session.close()
        raw = _frame(rows)
        gdf = self.validate(self.normalise(raw, url), url)
        note = " (résultats tronqués à 10 000 par requête)" if truncated else ""
        source = f"{self.producer()} — {url} ({', '.join(scopes())}){note}"
        return Fetched(gdf, source, url, updated)

    def _query(
        self, url, params, limiter, max_results, session, sleep, timeout, retries, *, split: bool
    ) -> tuple[list[dict], str | None, bool]:
        first = self._page(url, {**params, "page": 1}, limiter, session, sleep, timeout, retries)
        data, date = first
        total = int(data.get("total_results") or 0)
        per_page = int(params["per_page"])
        if total > max_results and split:
            rows: list[dict] = []
            truncated = False
            for section in SECTIONS:
                got, _, cut = self._query(
                    url,
                    {**params, "section_activite_principale": section},
                    limiter,
                    max_results,
                    session,
                    sleep,
                    timeout,
                    retries,
                    split=False,
                )
                rows.extend(got)
                truncated |= cut
            return rows, date, truncated
        pages = min(
            int(data.get("total_pages") or math.ceil(total / per_page)), max_results // per_page
        )
        rows = rows_from_results(data.get("results") or [])
        for page in range(2, pages + 1):
            more, _ = self._page(
                url, {**params, "page": page}, limiter, session, sleep, timeout, retries
            )
            rows.extend(rows_from_results(more.get("results") or []))
        return rows, date, total > max_results

    def _page(self, url, params, limiter, session, sleep, timeout, retries):
        limiter.wait()
        response = fetch(
            url, params=params, timeout=timeout, retries=retries, session=session, sleep=sleep
        )
        try:
            data = response.json()
        except ValueError as exc:
            raise LayerError(
                f"Couche « {self.title} » ({response.url}) : réponse JSON invalide ou tronquée"
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise LayerError(f"Couche « {self.title} » ({response.url}) : réponse sans « results »")
        return data, http_date_to_iso(response.headers.get("Last-Modified"))

    def missing_reason(self) -> str:
        return (
            "Établissements de l'ESS non chargés : lancez « python -m loaders sync » avec accès à "
            "Internet (API Recherche d'entreprises), ou importez une liste (CSV avec siret, nom, "
            "latitude, longitude) avec « python -m loaders sync --from-dir DOSSIER »."
        )


SOURCE = EssEstablishmentsSource()
