"""ESS flag, legal form and coordinates for the City's structures, from their SIRET.

The City's files often carry only a SIRET and a name; API Recherche d'entreprises (public, no key,
7 requests/s per IP) gives the ESS flag of ESS France/INSEE, the legal category and the
establishment's geocoded position. Units with a partial diffusion status ("P": the person opposed
publication) are marked "P" and nothing identifying (name, address, coordinates) is taken from the
API for them; downstream code drops them from display and exports.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pandas as pd
import requests

from loaders.config import home_dir
from loaders.geocode import JsonCache
from loaders.http import FetchError, RateLimiter, fetch
from loaders.model import parse_bool, siret_is_valid

API_ROOT = "https://recherche-entreprises.api.gouv.fr"
REQUESTS_PER_S = 7
CACHE_MAX_AGE_DAYS = 30  # ESS flags and closures change; refresh monthly

# INSEE legal categories (level III) of the ESS families, mapped to the labels of
# loaders.model.LEGAL_FORMS. Other codes are kept as the raw code. SCIC have no code of their own
# (they are "autre coopérative"), nor have ESUS companies (plain SAS/SARL).
LEGAL_FORM_BY_CODE: dict[str, str] = {
    **dict.fromkeys(("9210", "9220", "9221", "9222", "9223", "9230", "9260"), "Association"),
    **dict.fromkeys(("5458", "5558", "5658"), "SCOP"),
    **dict.fromkeys(
        (
            "5203 5307 5309 5443 5451 5453 5454 5455 5459 5460 5543 5547 5551 5552 5553 "
            "5554 5555 5559 5560 5643 5647 5651 5652 5653 5654 5655 5659 5660 6316 6317 "
            "6318 6543 6551 6554 6558 6560"
        ).split(),
        "Coopérative",
    ),
    **dict.fromkeys(("6411", "8210", "8250", "8290"), "Mutuelle"),
    "9300": "Fondation",
}

_limiter = RateLimiter(REQUESTS_PER_S)


def sirene_cache() -> JsonCache:
    """Extracted lookups (never raw responses) under ESS_HOME/sirene_cache."""
    return JsonCache(home_dir() / "sirene_cache" / "siret.sqlite")


def legal_form(code: str | None) -> str | None:
    """The model's legal-form label for an INSEE legal category code, else the code itself."""
    if not code:
        return None
    return LEGAL_FORM_BY_CODE.get(str(code), str(code))


def normalise_siret(value) -> str:
    """Digits of a SIRET as typed (spaces, dots, a float read by a spreadsheet)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "".join(ch for ch in str(value) if ch.isdigit())


def _coord(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def extract_record(payload: dict, siret: str) -> dict:
    """What the dashboard keeps of a /search answer for one SIRET (no name nor address, ever).

    `found` is False when no result has the SIRET's SIREN. Coordinates come from the establishment
    with that SIRET (matching establishments, or the head office when it is that establishment)
    and are left out when the unit or the establishment has a partial diffusion status.
    """
    siren = siret[:9]
    unit = next(
        (r for r in payload.get("results") or [] if str(r.get("siren")) == siren),
        None,
    )
    if unit is None:
        return {"found": False}
    establishment = next(
        (e for e in unit.get("matching_etablissements") or [] if str(e.get("siret")) == siret),
        None,
    )
    siege = unit.get("siege") or {}
    if establishment is None and str(siege.get("siret")) == siret:
        establishment = siege
    statuses = {unit.get("statut_diffusion")}
    if establishment is not None:
        statuses.add(establishment.get("statut_diffusion_etablissement"))
    statuses.discard(None)
    diffusion = "P" if "P" in statuses else ("O" if "O" in statuses else None)
    complements = unit.get("complements") or {}
    est_ess = complements.get("est_ess")
    record = {
        "found": True,
        "statut_diffusion": diffusion,
        "est_ess": est_ess if isinstance(est_ess, bool) else None,
        "nature_juridique": unit.get("nature_juridique"),
        "etat_administratif": (establishment or {}).get("etat_administratif"),
        "lat": None,
        "lon": None,
    }
    if diffusion != "P" and establishment is not None:
        lat, lon = _coord(establishment.get("latitude")), _coord(establishment.get("longitude"))
        if lat is not None and lon is not None:
            record["lat"], record["lon"] = lat, lon
    return record


def lookup_siret(
    siret: str,
    *,
    base_url: str | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Direct lookup of one SIRET (`/search?q=<siret>`); raises FetchError."""
    _limiter.wait()
    url = (base_url or API_ROOT).rstrip("/") + "/search"
    response = fetch(url, params={"q": siret}, session=session, sleep=sleep)
    try:
        payload = response.json()
    except ValueError as exc:
        raise FetchError(f"Réponse illisible de {url} pour le SIRET {siret}.", url) from exc
    return extract_record(payload, siret)


def _is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip() == ""


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in ("lat", "lon"):
        out[column] = (
            pd.to_numeric(out[column], errors="coerce").astype(float)
            if column in out.columns
            else float("nan")
        )
    for column in ("est_ess", "forme_juridique", "statut_diffusion"):
        out[column] = out[column].astype(object) if column in out.columns else None
    return out


def _fetch_records(
    sirets: list[str],
    base_url: str | None,
    store: JsonCache | None,
    sleep: Callable[[float], None],
) -> tuple[dict[str, dict], list[str]]:
    records: dict[str, dict] = (
        store.get_many(sirets, max_age_days=CACHE_MAX_AGE_DAYS) if store else {}  # type: ignore[assignment]
    )
    warnings: list[str] = []
    pending = [s for s in sirets if s not in records]
    with requests.Session() as session:
        for position, siret in enumerate(pending):
            try:
                record = lookup_siret(siret, base_url=base_url, session=session, sleep=sleep)
            except FetchError as exc:
                if exc.status is not None and exc.status != 429 and exc.status < 500:
                    warnings.append(f"SIRET {siret} : recherche refusée par l'API ({exc}).")
                    continue
                left = len(pending) - position
                warnings.append(
                    f"API Recherche d'entreprises injoignable ({exc}) : {left} SIRET non "
                    "enrichi(s) ; réessayez plus tard."
                )
                break
            records[siret] = record
            if store and record.get("found"):
                store.put_many({siret: record})
    return records, warnings


def enrich_sirets(
    df: pd.DataFrame,
    *,
    base_url: str | None = None,
    cache: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[pd.DataFrame, list[str]]:
    """Fill est_ess, forme_juridique, lat/lon and statut_diffusion from each row's SIRET.

    Values already in the file are kept (the API only fills gaps), except statut_diffusion,
    which becomes "P" whenever SIRENE says so. Never raises on network trouble.
    """
    if "siret" not in df.columns:
        return df.copy(), []
    out = _prepare(df)
    sirets = out["siret"].map(normalise_siret)
    warnings: list[str] = []
    invalid = sorted({s for s in sirets if s and not siret_is_valid(s)})
    warnings += [f"SIRET {s} invalide : non recherché." for s in invalid]
    distinct = sorted({s for s in sirets if s and siret_is_valid(s)})
    if not distinct:
        return out, warnings

    records, fetch_warnings = _fetch_records(
        distinct, base_url, sirene_cache() if cache else None, sleep
    )
    warnings += fetch_warnings
    for siret in distinct:
        record = records.get(siret)
        if record is None:
            continue
        if not record.get("found"):
            warnings.append(
                f"SIRET {siret} introuvable dans la base Sirene (erroné, ou unité non diffusible)."
            )
            continue
        if record.get("etat_administratif") == "F":
            warnings.append(f"SIRET {siret} : établissement fermé selon Sirene.")
        for row_id in out.index[(sirets == siret).to_numpy()]:
            warnings += _apply(out, row_id, siret, record)
    return out, warnings


def _apply(out: pd.DataFrame, row_id, siret: str, record: dict) -> list[str]:
    """Fill one row's gaps from its record; the warnings it raises (French)."""
    warnings: list[str] = []
    current = out.at[row_id, "statut_diffusion"]
    if record.get("statut_diffusion") == "P":
        out.at[row_id, "statut_diffusion"] = "P"
    elif _is_missing(current) and record.get("statut_diffusion"):
        out.at[row_id, "statut_diffusion"] = record["statut_diffusion"]
    partial = str(out.at[row_id, "statut_diffusion"]).strip().upper() == "P"

    est_ess = record.get("est_ess")
    if est_ess is not None:
        mine = out.at[row_id, "est_ess"]
        if _is_missing(mine):
            out.at[row_id, "est_ess"] = est_ess
        elif parse_bool(mine) is not None and parse_bool(mine) != est_ess:
            side = "marqué ESS" if parse_bool(mine) else "non marqué ESS"
            warnings.append(
                f"SIRET {siret} : {side} dans le fichier, l'inverse selon ESS France/INSEE "
                "(valeur du fichier conservée)."
            )
    form = legal_form(record.get("nature_juridique"))
    if form and _is_missing(out.at[row_id, "forme_juridique"]):
        out.at[row_id, "forme_juridique"] = form
    if partial:
        return warnings
    missing_position = _is_missing(out.at[row_id, "lat"]) or _is_missing(out.at[row_id, "lon"])
    if missing_position and record.get("lat") is not None and record.get("lon") is not None:
        out.at[row_id, "lat"] = record["lat"]
        out.at[row_id, "lon"] = record["lon"]
    return warnings
