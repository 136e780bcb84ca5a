"""Coordinates for rows that only have a postal address, through the national address API (BAN).

One batch CSV request per 1 000 addresses (POST /search/csv) instead of one request per row keeps
us far below the 50 requests/s per IP limit; results are cached on disk keyed by the normalised
address, so a re-import does not re-send what is already known. Weak matches are not trusted: the
row stays unlocated with a French warning and is fixed by hand on the import page.

Call it on a plain DataFrame, before the geometry is built from lat/lon.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import requests

from geo.communes import territory_of_postcode
from geo.formatting import fmt_number
from loaders.config import home_dir
from loaders.http import FetchError, RateLimiter, fetch

GEOCODE_URLS = (
    "https://data.geopf.fr/geocodage/search/csv",  # IGN Géoplateforme (current service)
    "https://api-adresse.data.gouv.fr/search/csv/",  # historic BAN host, kept as a fallback
)
CHUNK_ROWS = 1000
REQUESTS_PER_S = 40  # documented limit is 50/s per IP; stay below it
LILLE_CITYCODE = "59350"
# "municipality" only locates the town centre: useless for neighbourhood and QPV analysis.
ACCEPTED_TYPES = frozenset({"housenumber", "street", "locality"})

STATUS_OK = "ok"
STATUS_TO_FIX = "a_corriger"
STATUS_FAILED = "echec"
STATUS_MANUAL = "manuel"

_limiter = RateLimiter(REQUESTS_PER_S)


class JsonCache:
    """Key -> JSON value in one SQLite file: survives restarts, safe to open from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL, stored TEXT NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get_many(
        self, keys: Iterable[str], *, max_age_days: float | None = None
    ) -> dict[str, object]:
        """The cached values of those keys that are present (and younger than max_age_days)."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, object] = {}
        oldest = (
            (datetime.now(UTC) - timedelta(days=max_age_days)).isoformat(timespec="seconds")
            if max_age_days is not None
            else ""
        )
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                query = (
                    f"SELECT key, value FROM entries WHERE key IN ({marks}) "  # noqa: S608
                    "AND stored >= ?"
                )
                for key, value in db.execute(query, [*part, oldest]):
                    found[key] = json.loads(value)
        return found

    def put_many(self, items: dict[str, object]) -> None:
        """Store (or replace) values."""
        stored = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO entries (key, value, stored) VALUES (?, ?, ?)",
                [(k, json.dumps(v, ensure_ascii=False), stored) for k, v in items.items()],
            )


def geocode_cache() -> JsonCache:
    """The address cache under ESS_HOME/geocode_cache."""
    return JsonCache(home_dir() / "geocode_cache" / "adresses.sqlite")


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _fold(text: str) -> str:
    """Lower case, no accents, single spaces: the form addresses are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def lille_citycode(postcode: str, commune: str) -> str:
    """59350 when the postcode (and, for shared postcodes, the commune) says Lille, else ''.

    The rule is geo.communes.territory_of_postcode; the address base codes all of Lille 59350.
    """
    return LILLE_CITYCODE if territory_of_postcode(postcode, commune_name=commune) else ""


def _missing_coord(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").isna()


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in ("lat", "lon", "geocodage_score"):
        out[column] = (
            pd.to_numeric(out[column], errors="coerce").astype(float)
            if column in out.columns
            else float("nan")
        )
    for column in ("geocodage_label", "geocodage_statut"):
        out[column] = out[column].astype(object) if column in out.columns else None
    return out


def _request_csv(queries: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["id", "adresse", "code_postal", "commune", "citycode"]
    )
    writer.writeheader()
    for number, query in enumerate(queries):
        writer.writerow({"id": str(number), **query})
    return buffer.getvalue().encode("utf-8")


def _float(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _parse_response(content: bytes, count: int) -> list[dict]:
    """One result per query line, in order, from the geocoded CSV; ValueError if unusable."""
    text = content.decode("utf-8-sig")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise ValueError("réponse du géocodeur sans colonne id")
    if "latitude" not in reader.fieldnames and "result_status" not in reader.fieldnames:
        raise ValueError("réponse du géocodeur sans colonnes de résultat")
    results: list[dict | None] = [None] * count
    for row in reader:
        try:
            number = int(row.get("id") or "")
        except ValueError:
            continue
        if 0 <= number < count:
            results[number] = {
                "lat": _float(row.get("latitude")),
                "lon": _float(row.get("longitude")),
                "score": _float(row.get("result_score")),
                "label": row.get("result_label") or "",
                "type": row.get("result_type") or "",
                "status": row.get("result_status") or "",
                "citycode": row.get("result_citycode") or "",
                "oldcity": row.get("result_oldcity") or "",
            }
    if any(r is None for r in results):
        raise ValueError("réponse du géocodeur incomplète (lignes manquantes)")
    return results  # type: ignore[return-value]


def _post_chunk(
    url: str, queries: list[dict], session: requests.Session, sleep: Callable[[float], None]
) -> list[dict]:
    _limiter.wait()
    fields = [("columns", "adresse"), ("columns", "code_postal"), ("columns", "commune")]
    fields.append(("citycode", "citycode"))
    response = fetch(
        url,
        method="POST",
        data=fields,
        files={"data": ("adresses.csv", _request_csv(queries), "text/csv")},
        timeout=120,
        session=session,
        sleep=sleep,
    )
    return _parse_response(response.content, len(queries))


def _geocode_queries(
    queries: dict[str, dict], urls: list[str], sleep: Callable[[float], None]
) -> tuple[dict[str, dict], str | None]:
    """Results by key for the queries the service answered, and the last failure (French)."""
    keys = list(queries)
    results: dict[str, dict] = {}
    failure = None
    current = 0
    with requests.Session() as session:
        for start in range(0, len(keys), CHUNK_ROWS):
            part = keys[start : start + CHUNK_ROWS]
            while current < len(urls):
                try:
                    answers = _post_chunk(urls[current], [queries[k] for k in part], session, sleep)
                except (FetchError, ValueError, UnicodeDecodeError) as exc:
                    failure = str(exc)
                    current += 1
                    continue
                results.update(zip(part, answers, strict=True))
                break
            if current >= len(urls):
                break
    return results, failure


def _who(row: pd.Series, row_id, address: str) -> str:
    name = _text(row.get("nom")) if "nom" in row.index else ""
    return f"Ligne {row_id} ({name + ', ' if name else ''}{address})"


def geocode_missing(
    df: pd.DataFrame,
    *,
    score_min: float = 0.6,
    base_urls: list[str] | tuple[str, ...] | None = None,
    cache: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[pd.DataFrame, list[str]]:
    """Fill lat/lon of rows that have an `adresse` but no coordinates; return (df, warnings).

    Adds `geocodage_score`, `geocodage_label` and `geocodage_statut` ("ok", "a_corriger",
    "echec"). Never raises on network trouble: rows stay unlocated and one warning says why.
    """
    if not df.index.is_unique:
        raise ValueError("Le tableau à géocoder doit avoir un index sans doublon.")
    out = _prepare(df)
    if "adresse" not in out.columns:
        return out, []
    addresses = out["adresse"].map(_text)
    todo = (addresses != "") & (_missing_coord(out["lat"]) | _missing_coord(out["lon"]))
    if not todo.any():
        return out, []

    queries: dict[str, dict] = {}
    row_keys: dict = {}
    for row_id in out.index[todo.to_numpy()]:
        postcode = _text(out.at[row_id, "code_postal"]) if "code_postal" in out.columns else ""
        commune = _text(out.at[row_id, "commune"]) if "commune" in out.columns else ""
        query = {
            "adresse": addresses.at[row_id],
            "code_postal": postcode,
            "commune": commune,
            "citycode": lille_citycode(postcode, commune),
        }
        key = "|".join(_fold(query[k]) for k in ("adresse", "code_postal", "commune", "citycode"))
        queries.setdefault(key, query)
        row_keys[row_id] = key

    store = geocode_cache() if cache else None
    known: dict[str, dict] = store.get_many(queries) if store else {}  # type: ignore[assignment]
    pending = {k: q for k, q in queries.items() if k not in known}
    failure = None
    if pending:
        fresh, failure = _geocode_queries(pending, list(base_urls or GEOCODE_URLS), sleep)
        if store and fresh:
            # only definitive answers: a row the service skipped or failed is asked again next time
            store.put_many({k: v for k, v in fresh.items() if v.get("status") in ("", "ok")})
        known.update(fresh)

    warnings: list[str] = []
    unreached = 0
    for row_id, key in row_keys.items():
        result = known.get(key)
        if result is None:
            out.at[row_id, "geocodage_statut"] = STATUS_FAILED
            unreached += 1
            continue
        problem = _problem(result, score_min)
        if result.get("score") is not None:
            out.at[row_id, "geocodage_score"] = result["score"]
        out.at[row_id, "geocodage_label"] = result.get("label") or None
        if problem:
            out.at[row_id, "geocodage_statut"] = STATUS_TO_FIX
            warnings.append(f"{_who(out.loc[row_id], row_id, queries[key]['adresse'])} : {problem}")
            continue
        out.at[row_id, "lat"] = result["lat"]
        out.at[row_id, "lon"] = result["lon"]
        out.at[row_id, "geocodage_statut"] = STATUS_OK
    if unreached:
        warnings.append(
            f"Géocodage impossible ({failure or 'service injoignable'}) : {unreached} "
            "adresse(s) restent sans coordonnées ; réessayez plus tard ou saisissez les "
            "coordonnées à la main."
        )
    return out, warnings


def _problem(result: dict, score_min: float) -> str | None:
    """Why a geocoder answer cannot be trusted (French), or None when it can."""
    status = result.get("status") or ""
    if status not in ("", "ok"):
        return f"adresse non traitée par le géocodeur (statut « {status} ») : corriger à la main"
    if result.get("lat") is None or result.get("lon") is None:
        return "adresse introuvable : corriger à la main"
    score = result.get("score")
    if score is None or score < score_min:
        shown = fmt_number(score, 2) if score is not None else "inconnu"
        return f"score faible ({shown}) : corriger à la main"
    if result.get("type") and result["type"] not in ACCEPTED_TYPES:
        return "seule la commune a été reconnue, pas l'adresse : corriger à la main"
    return None


def apply_manual_fix(df: pd.DataFrame, row_id, lat: float, lon: float) -> pd.DataFrame:
    """Set coordinates typed by hand on the import page for one row (WGS84 degrees)."""
    if row_id not in df.index:
        raise KeyError(f"Ligne {row_id} introuvable dans le tableau.")
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise ValueError("Latitude et longitude doivent être des nombres.") from exc
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise ValueError(f"Latitude invalide ({lat}) : elle doit être comprise entre -90 et 90.")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise ValueError(f"Longitude invalide ({lon}) : elle doit être comprise entre -180 et 180.")
    out = _prepare(df)
    out.at[row_id, "lat"] = lat
    out.at[row_id, "lon"] = lon
    out.at[row_id, "geocodage_score"] = float("nan")
    out.at[row_id, "geocodage_label"] = "saisie manuelle"
    out.at[row_id, "geocodage_statut"] = STATUS_MANUAL
    return out


def apply_manual_fixes(
    df: pd.DataFrame, fixes: pd.DataFrame, bbox: tuple[float, float, float, float]
) -> tuple[pd.DataFrame, list[str]]:
    """Apply the coordinates typed on the page (rows of `fixes` indexed like `df`).

    Rows left blank are skipped; rows outside `bbox` (lon_min, lat_min, lon_max, lat_max) are
    refused with a French message naming them. Returns the corrected copy and the messages.
    """
    out, problems = df, []
    lon_min, lat_min, lon_max, lat_max = bbox
    for row_id, row in fixes.dropna(subset=["lat", "lon"]).iterrows():
        name = row.get("nom", row_id)
        if not (lat_min <= row["lat"] <= lat_max and lon_min <= row["lon"] <= lon_max):
            problems.append(f"« {name} » : coordonnées hors de la Métropole Européenne de Lille")
            continue
        out = apply_manual_fix(out, row_id, row["lat"], row["lon"])
    return out, problems
