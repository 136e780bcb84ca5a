"""The official SCDL subventions 2.1.1 Table Schema: the one place that reads it.

Nothing of the schema is copied into the code: exports validate against it, imports check
conformity with it, and the 2.0.2 variant (older files) is derived from it. It comes from:

1. the file named by ``ESS_SCDL_SCHEMA`` (offline installations, tests);
2. else the copy cached under ``ESS_HOME/schemas/`` by an earlier download;
3. else the official URL, once, then cached.

When none is at hand (offline, no file) ``load_scdl_schema`` raises ``SchemaUnavailableError``
whose French message says how to provide it; callers decide what that means (an SCDL export is
refused, an import is kept and its conformity is reported as not checked).

Version 2.0.2 differs from 2.1.1 only by the two fields 2.1 added (``rnaBeneficiaire``,
``dispositifAide``) and by ``idBeneficiaire``, which 2.0.2 requires as 14 digits; the changelog of
the standard (schema.data.gouv.fr/scdl/subventions) documents these three differences and
tests/test_import_scdl.py checks the derivation against the official 2.0.2 file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from loaders.config import home_dir

SCDL_VERSION = "2.1.1"
SCDL_SCHEMA_URL = "https://schema.data.gouv.fr/schemas/scdl/subventions/2.1.1/schema.json"
SCDL_SCHEMA_ENV = "ESS_SCDL_SCHEMA"
V2_1_ONLY = ("rnaBeneficiaire", "dispositifAide")
_FIELD_KEYS = ("name", "type", "constraints", "trueValues", "falseValues")


class SchemaUnavailableError(Exception):
    """The official schema could not be read nor fetched; the message (French) says what to do."""


def scdl_schema_cache_path() -> Path:
    """Where the official SCDL schema is kept once fetched."""
    return home_dir() / "schemas" / f"scdl_subventions_{SCDL_VERSION}.json"


def how_to_provide() -> str:
    return (
        f"Téléchargez le schéma officiel ({SCDL_SCHEMA_URL}) puis indiquez son chemin dans la "
        f"variable d'environnement {SCDL_SCHEMA_ENV}, ou copiez-le sous "
        f"{scdl_schema_cache_path()}."
    )


def _checked(descriptor: object, origin: str) -> dict:
    from loaders.model import SCDL_COLUMNS

    fields = descriptor.get("fields", []) if isinstance(descriptor, dict) else []
    names = [f.get("name") for f in fields if isinstance(f, dict)]
    if names != [c.name for c in SCDL_COLUMNS]:
        raise SchemaUnavailableError(
            f"Le fichier {origin} n'est pas le schéma SCDL subventions {SCDL_VERSION} "
            f"(colonnes inattendues). {how_to_provide()}"
        )
    return descriptor


def _write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_scdl_schema(*, download: bool = True) -> dict:
    """The official descriptor: $ESS_SCDL_SCHEMA, else the cached copy, else the official URL."""
    env_path = os.environ.get(SCDL_SCHEMA_ENV)
    if env_path:
        try:
            descriptor = json.loads(Path(env_path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SchemaUnavailableError(
                f"Schéma SCDL illisible à l'emplacement {env_path} ({SCDL_SCHEMA_ENV}) : {exc}. "
                f"{how_to_provide()}"
            ) from exc
        return _checked(descriptor, env_path)
    cached = scdl_schema_cache_path()
    if cached.exists():
        try:
            return _checked(json.loads(cached.read_text(encoding="utf-8")), str(cached))
        except (ValueError, SchemaUnavailableError):
            cached.unlink(missing_ok=True)
    if not download:
        raise SchemaUnavailableError(
            f"Schéma SCDL subventions {SCDL_VERSION} absent. {how_to_provide()}"
        )
    from loaders.http import FetchError, fetch

    try:
        descriptor = fetch(SCDL_SCHEMA_URL, retries=1).json()
    except (FetchError, ValueError) as exc:
        raise SchemaUnavailableError(
            f"Schéma SCDL subventions {SCDL_VERSION} indisponible ({exc}). {how_to_provide()}"
        ) from exc
    descriptor = _checked(descriptor, SCDL_SCHEMA_URL)
    _write_atomic(cached, json.dumps(descriptor, ensure_ascii=False, indent=1).encode("utf-8"))
    return descriptor


def scdl_table_schema(version: str = SCDL_VERSION, *, download: bool = True) -> dict:
    """The fields of the SCDL subventions Table Schema "2.1.1" (official) or "2.0.2" (derived)."""
    official = load_scdl_schema(download=download)
    fields = []
    for field in official["fields"]:
        if version.startswith("2.0") and field["name"] in V2_1_ONLY:
            continue
        kept = {k: field[k] for k in _FIELD_KEYS if k in field}
        if version.startswith("2.0") and field["name"] == "idBeneficiaire":
            kept["constraints"] = {"required": True, "pattern": r"^\d{14}$"}
        fields.append(kept)
    return {"fields": fields}
