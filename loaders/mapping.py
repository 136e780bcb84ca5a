"""Recognise the columns of a user file (SCDL names and the usual variants) and remember mappings.

Names are compared without case, accents, spaces, underscores or punctuation, so "Nom du
bénéficiaire", "nom_beneficiaire" and "NOM BENEFICIAIRE" all land on `nomBeneficiaire`; a unit in
brackets is ignored ("Montant (€)"). For grants, every field of the official SCDL subventions
schemas is recognised by its name and by its title ("Montant total de la subvention",
"Identification du bénéficiaire"): the titles are read from the schema file when one is at hand
(`ESS_SCDL_SCHEMA`, or the copy cached by exports), else from SCDL_TITLES, checked against the
official files by tests/test_import_headers.py. Older pre-SCDL column families (`COLL_NOM`,
`ATTRIB_NOM`, `SUB_MONTANT`...) are variants too. Columns that match nothing are kept aside and
reported as "colonne ignorée"; they are not an error, unless nothing at all is recognised
(`diagnose_columns`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from loaders import model, scdl_schema
from loaders.config import store_dir

KINDS = tuple(model.SCHEMAS)
KIND_LABELS = {"structures": "structures", "grants": "subventions", "land": "sites fonciers"}

# Variants per kind and canonical column (any spelling: they are normalised before comparison).
_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "grants": {
        "nomAttribuant": ("attribuant", "nom attribuant", "collectivité", "financeur"),
        "idAttribuant": ("id attribuant", "siret attribuant", "siret de l'attribuant"),
        "dateConvention": (
            "date convention",
            "date de convention",
            "date de la convention",
            "date",
            "date d'attribution",
            "date attribution",
        ),
        "referenceDecision": (
            "référence décision",
            "référence de la décision",
            "décision",
            "délibération",
            "numéro de délibération",
        ),
        "nomBeneficiaire": (
            "bénéficiaire",
            "nom du bénéficiaire",
            "nom bénéficiaire",
            "raison sociale",
            "structure",
            "nom de la structure",
            "association",
            "nom",
        ),
        "idBeneficiaire": (
            "siret",
            "siret bénéficiaire",
            "siret du bénéficiaire",
            "id bénéficiaire",
            "numéro siret",
        ),
        "rnaBeneficiaire": ("rna", "numéro rna", "rna bénéficiaire", "rna du bénéficiaire"),
        "objet": ("objet de la subvention", "intitulé", "intitulé du projet", "projet", "libellé"),
        "montant": (
            "montant attribué",
            "montant accordé",
            "montant voté",
            "montant de la subvention",
            "montant en euros",
            "montant eur",
            "subvention",
        ),
        "nature": ("nature de l'aide", "nature aide", "type d'aide"),
        "conditionsVersement": (
            "conditions de versement",
            "conditions versement",
            "modalités de versement",
        ),
        "datesPeriodeVersement": (
            "dates période versement",
            "période de versement",
            "dates de versement",
            "date de versement",
        ),
        "idRAE": ("rae", "id rae", "identifiant rae"),
        "notificationUE": ("notification ue", "notification à l'ue"),
        "pourcentageSubvention": (
            "pourcentage subvention",
            "pourcentage",
            "taux de subvention",
            "part subventionnée",
        ),
        "dispositifAide": ("dispositif aide", "id dispositif"),
        "id_subvention": (
            "id",
            "identifiant",
            "id subvention",
            "identifiant subvention",
            "numéro de dossier",
            "n° dossier",
            "dossier",
        ),
        "axe": ("axe stratégique", "numéro d'axe", "n° axe", "axe de la stratégie"),
        "priorite": (
            "priorité stratégique",
            "numéro de priorité",
            "n° priorité",
            "priorités",
        ),
        "annee": ("année", "exercice", "exercice budgétaire", "année budgétaire", "millésime"),
        "montant_verse": ("montant versé", "versé", "montant payé", "payé", "mandaté"),
        "dispositif": ("appel à projets", "dispositif de soutien"),
        "lat_projet": ("latitude projet", "latitude du projet", "lat", "latitude", "y"),
        "lon_projet": (
            "longitude projet",
            "longitude du projet",
            "lon",
            "lng",
            "long",
            "longitude",
            "x",
        ),
        "cible_qpv": ("qpv", "cible qpv", "quartier prioritaire", "projet en qpv"),
    },
    "structures": {
        "siret": ("numéro siret", "n° siret", "siret établissement", "siret de l'établissement"),
        "siren": ("numéro siren", "n° siren"),
        "rna": ("numéro rna", "n° rna", "identifiant association", "numéro d'association"),
        "nom": (
            "raison sociale",
            "dénomination",
            "nom de la structure",
            "structure",
            "nom du bénéficiaire",
            "nom structure",
        ),
        "forme_juridique": ("statut juridique", "nature juridique", "forme"),
        "est_ess": ("ess", "économie sociale et solidaire", "structure ess"),
        "adresse": ("adresse postale", "voie", "adresse complète"),
        "code_postal": ("cp", "code postal"),
        "commune": ("ville", "localité", "nom commune"),
        "lat": ("latitude", "y"),
        "lon": ("longitude", "lng", "long", "x"),
        "statut_diffusion": ("statut de diffusion", "diffusion"),
    },
    "land": {
        "site_id": ("id", "identifiant", "id site", "identifiant du site", "référence"),
        "nom": ("site nom", "nom du site", "libellé", "nom du local", "désignation", "name"),
        "lat": ("latitude", "y"),
        "lon": ("longitude", "lng", "long", "x"),
        "geometry": ("géométrie", "wkt", "geom", "the geom", "geomsurf", "geompoint"),
        "surface_m2": (
            "surface",
            "site surface",
            "superficie",
            "surface en m2",
            "surface (m²)",
            "unite fonciere surface",
        ),
        "type": ("site type", "type de site", "type de bien", "catégorie"),
        "statut": ("site statut", "statut du site", "état", "disponibilité"),
        "siret_occupant": ("siret", "siret de l'occupant", "occupant siret"),
        "mode_occupation": ("mode d'occupation", "type d'occupation", "contrat"),
        "date_debut": ("début", "date de début", "début d'occupation"),
        "date_fin": ("fin", "date de fin", "fin d'occupation"),
        "loyer_annuel_eur": ("loyer", "loyer annuel", "loyer annuel (€)", "redevance"),
    },
}


# Field titles of the official SCDL subventions schemas, 2.1.1 then 2.0.2 where they differ
# (tests/test_import_headers.py compares them with the published schema files).
SCDL_TITLES: dict[str, tuple[str, ...]] = {
    "nomAttribuant": ("Nom de l'attribuant",),
    "idAttribuant": ("Identification de l'attribuant",),
    "dateConvention": ("Date de la convention de subvention",),
    "referenceDecision": ("Référence de la décision",),
    "nomBeneficiaire": ("Nom du bénéficiaire",),
    "idBeneficiaire": ("Identification SIRET du bénéficiaire", "Identification du bénéficiaire"),
    "rnaBeneficiaire": ("Identification RNA du bénéficiaire",),
    "objet": ("Objet de la subvention",),
    "montant": ("Montant total de la subvention",),
    "nature": ("Nature de la subvention",),
    "conditionsVersement": ("Conditions de versement de la subvention",),
    "datesPeriodeVersement": ("Date ou période de versement",),
    "idRAE": ("Identifiant RAE de l’aide au titre de laquelle la subvention est attribuée",),
    "notificationUE": ("Aide d'Etat notifiée à la Commission Européenne",),
    "pourcentageSubvention": (
        "Pourcentage du montant total de la subvention attribuée au bénéficiaire",
    ),
    "dispositifAide": (
        "Identifiant référençant le dispositif d'aide à l'origine de la subvention",
    ),
}

# Column families of grant files published before the SCDL (2015-2017 portals, finance exports).
LEGACY_GRANT_COLUMNS: dict[str, tuple[str, ...]] = {
    "nomAttribuant": ("COLL_NOM", "COLLECTIVITE", "NOM_COLLECTIVITE", "ORGANISME_ATTRIBUANT"),
    "idAttribuant": ("COLL_SIRET", "SIRET_COLLECTIVITE", "COLL_ID"),
    "nomBeneficiaire": (
        "ATTRIB_NOM",
        "BENEF_NOM",
        "BENEFICIAIRE_NOM",
        "NOM_BENEFICIAIRE",
        "Nom de l'organisme",
        "Organisme",
        "Tiers",
        "Nom du tiers",
    ),
    "idBeneficiaire": ("ATTRIB_SIRET", "BENEF_SIRET", "SIRET_BENEFICIAIRE", "N° SIRET"),
    "rnaBeneficiaire": ("ATTRIB_RNA", "BENEF_RNA"),
    "objet": ("SUB_OBJET", "OBJET_SUBVENTION", "Objet du dossier", "Objet de la demande"),
    "montant": (
        "SUB_MONTANT",
        "MONTANT_SUBVENTION",
        "MONTANT_VOTE",
        "Montant alloué",
        "Montant",
        "Montant en €",
    ),
    "nature": ("SUB_NATURE", "NATURE_SUBVENTION"),
    "conditionsVersement": ("SUB_CONDITIONS", "CONDITIONS_VERSEMENT"),
    "datesPeriodeVersement": ("SUB_PERIODE", "PERIODE_VERSEMENT", "DATES_VERSEMENT"),
    "dateConvention": ("SUB_DATE", "DATE_CONVENTION", "DATE_DECISION", "Date de décision"),
    "referenceDecision": ("DELIB_REF", "REF_DELIB", "NUM_DELIB", "Numéro de délibération"),
    "annee": ("ANNEE", "ANNEE_BUDGETAIRE", "EXERCICE", "Année budgétaire", "Année de vote"),
    "id_subvention": ("SUB_ID", "NUM_DOSSIER", "ID_SUBVENTION"),
    "notificationUE": ("NOTIF_UE",),
    "pourcentageSubvention": ("SUB_TAUX", "TAUX_SUBVENTION"),
}


def cached_schema_path() -> Path:
    """The copy of the official SCDL schema cached by loaders.scdl_schema."""
    return scdl_schema.scdl_schema_cache_path()


def _schema_files() -> tuple[tuple[str, float], ...]:
    """(path, mtime) of the SCDL schema files at hand: $ESS_SCDL_SCHEMA, then the cached copy."""
    files = [Path(env)] if (env := os.environ.get(scdl_schema.SCDL_SCHEMA_ENV)) else []
    files.append(cached_schema_path())
    return tuple((str(f), f.stat().st_mtime) for f in files if f.is_file())


def _schema_titles_from(path: str) -> tuple[tuple[str, str], ...]:
    try:
        fields = json.loads(Path(path).read_text(encoding="utf-8"))["fields"]
        return tuple((f["name"], f["title"]) for f in fields if f.get("name") and f.get("title"))
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def scdl_titles() -> dict[str, list[str]]:
    """SCDL field name -> its titles: SCDL_TITLES plus those of the schema files at hand."""
    return {name: list(values) for name, values in _titles(_schema_files()).items()}


@lru_cache(maxsize=8)
def _titles(files: tuple[tuple[str, float], ...]) -> dict[str, tuple[str, ...]]:
    titles = {name: list(values) for name, values in SCDL_TITLES.items()}
    for path, _mtime in files:
        for name, title in _schema_titles_from(path):
            if name in titles and title not in titles[name]:
                titles[name].append(title)
    return {name: tuple(values) for name, values in titles.items()}


class MappingError(ValueError):
    """A mapping cannot be used or saved (message in French)."""


@lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """Lower case, no accents, letters and digits: "Nom du bénéficiaire" -> "nomdubeneficiaire"."""
    decomposed = unicodedata.normalize("NFKD", str(name))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _without_unit(name: str) -> str:
    """The name without a bracketed unit or note: "Montant (en €)" -> "Montant "."""
    return re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", str(name))


def _lookup(kind: str) -> dict[str, str]:
    """Normalised name -> canonical column; canonical names and French labels win over variants."""
    if kind not in model.SCHEMAS:
        raise MappingError(f"type de données inconnu : « {kind} » (attendu : {', '.join(KINDS)})")
    return _lookup_table(kind, _schema_files())


@lru_cache(maxsize=16)
def _lookup_table(kind: str, schema_files: tuple[tuple[str, float], ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    if kind == "grants":
        for canonical, titles in _titles(schema_files).items():
            for title in titles:
                table[normalise_name(title)] = canonical
        for canonical, variants in LEGACY_GRANT_COLUMNS.items():
            for variant in variants:
                table.setdefault(normalise_name(variant), canonical)
    for canonical, variants in _VARIANTS[kind].items():
        for variant in variants:
            table.setdefault(normalise_name(variant), canonical)
    for column in model.SCHEMAS[kind]:
        table[normalise_name(column.label)] = column.name
    for column in model.SCHEMAS[kind]:
        table[normalise_name(column.name)] = column.name
    return table


def suggest_mapping(columns: list[str], kind: str) -> dict[str, str | None]:
    """Map each source column to a canonical column of `kind`, or None when it is not recognised.

    Each canonical column is taken once: an exact canonical name beats a variant, then the first
    column in file order wins (a second "Montant" column is left unmapped and reported).
    """
    table = _lookup(kind)
    canonical_names = {normalise_name(c.name): c.name for c in model.SCHEMAS[kind]}
    result: dict[str, str | None] = {str(c): None for c in columns}
    taken: set[str] = set()
    for exact_pass in (True, False):
        for column in columns:
            key = normalise_name(column)
            if result[str(column)] is not None:
                continue
            if exact_pass:
                target = canonical_names.get(key)
            else:
                target = table.get(key) or table.get(normalise_name(_without_unit(column)))
            if target and target not in taken:
                result[str(column)] = target
                taken.add(target)
    return result


def recognised_count(cells: list[str], kind: str) -> int:
    """How many of `cells` name a column of `kind`: the score of a candidate header row."""
    table = _lookup(kind)
    return sum(
        1
        for c in cells
        if c and (normalise_name(c) in table or normalise_name(_without_unit(c)) in table)
    )


def closest_columns(columns: list[str], kind: str, limit: int = 5) -> list[tuple[str, list[str]]]:
    """(file column, up to 3 canonical columns) whose known names are close to the column's."""
    table = _lookup(kind)
    keys = list(table)
    pairs = []
    for column in columns:
        key = normalise_name(column)
        if not key:
            continue
        matches = difflib.get_close_matches(key, keys, n=6, cutoff=0.75)
        targets = list(dict.fromkeys(table[m] for m in matches))[:3]
        if targets:
            pairs.append((str(column), targets))
    return pairs[:limit]


# Without any of these, a file is not of the kind at all (one diagnosis, not one reject per row).
ESSENTIAL = {
    "grants": ("nomBeneficiaire", "montant"),
    "structures": ("siret", "nom"),
    "land": ("site_id", "nom"),
}


def diagnose_columns(columns: list[str], mapping: dict[str, str | None], kind: str) -> str | None:
    """A French file-level diagnosis when no essential column of `kind` is recognised, else None.

    It names the expected columns (with their usual titles) and the closest names found.
    """
    targets = {t for t in mapping.values() if t}
    if targets & set(ESSENTIAL[kind]):
        return None
    labels = {c.name: c.label for c in model.SCHEMAS[kind]}
    titles = scdl_titles() if kind == "grants" else {}
    expected = []
    for name in ESSENTIAL[kind]:
        shown = titles.get(name, [labels[name]])[0]
        expected.append(f"{name} (« {shown} »)")
    closest = closest_columns([c for c in columns if not mapping.get(c)], kind)
    found = ", ".join(f"« {c} » ≈ {' / '.join(targets)}" for c, targets in closest)
    listed = ", ".join(f"« {c} »" for c in columns[:12]) + (" …" if len(columns) > 12 else "")
    message = (
        f"aucune colonne essentielle des {KIND_LABELS[kind]} reconnue parmi les {len(columns)} "
        f"colonne(s) du fichier ({listed}). Colonnes attendues : {', '.join(expected)}"
    )
    if found:
        message += f". Noms proches trouvés : {found}"
    return message + ". Associez les colonnes à la main ou renommez-les."


def check_mapping(mapping: dict[str, str | None], kind: str) -> None:
    """Refuse targets that are not columns of `kind` or that are used twice."""
    valid = {c.name for c in model.SCHEMAS[kind]}
    seen: dict[str, str] = {}
    for source, target in mapping.items():
        if target is None:
            continue
        if target not in valid:
            raise MappingError(
                f"la colonne « {source} » est associée à « {target} », "
                f"qui n'existe pas pour les {KIND_LABELS[kind]}"
            )
        if target in seen:
            raise MappingError(
                f"les colonnes « {seen[target]} » et « {source} » sont toutes deux associées "
                f"à « {target} »"
            )
        seen[target] = source


def resolve_mapping(
    columns: list[str], kind: str, given: dict[str, str | None] | None = None
) -> dict[str, str | None]:
    """The mapping actually used: `given` entries win, other columns get suggestions."""
    given = {str(k): v for k, v in (given or {}).items() if str(k) in set(map(str, columns))}
    check_mapping(given, kind)
    taken = {v for v in given.values() if v}
    rest = [c for c in columns if str(c) not in given]
    suggested = suggest_mapping(rest, kind)
    result: dict[str, str | None] = {}
    for column in columns:
        column = str(column)
        if column in given:
            result[column] = given[column]
        else:
            target = suggested.get(column)
            result[column] = target if target not in taken else None
            if target:
                taken.add(target)
    return result


_NAME = re.compile(r"^[\w\- ]{1,64}$")


def _mapping_path(name: str):
    if not _NAME.match(name or "") or name.strip() != name:
        raise MappingError(
            f"nom de correspondance invalide : « {name} » "
            "(lettres, chiffres, espaces, - et _ seulement, 64 caractères au plus)"
        )
    folder = store_dir() / "mappings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.json"


def save_mapping(name: str, mapping: dict[str, str | None], kind: str | None = None) -> None:
    """Save a column mapping as JSON under store_dir()/mappings/NAME.json for later imports."""
    if kind is not None:
        check_mapping(mapping, kind)
    payload = {
        "name": name,
        "kind": kind,
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mapping": {str(k): v for k, v in mapping.items()},
    }
    path = _mapping_path(name)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)


def load_mapping(name: str) -> dict[str, str | None]:
    """A mapping saved by save_mapping; MappingError (French) if absent or unreadable."""
    path = _mapping_path(name)
    if not path.is_file():
        raise MappingError(f"correspondance de colonnes « {name} » introuvable")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        mapping = payload["mapping"]
        if not isinstance(mapping, dict) or not all(
            isinstance(v, str | type(None)) for v in mapping.values()
        ):
            raise TypeError("mapping")
    except (ValueError, KeyError, TypeError) as exc:
        raise MappingError(f"correspondance de colonnes « {name} » illisible") from exc
    return {str(k): v for k, v in mapping.items()}


def list_mappings() -> list[str]:
    """Names of the saved mappings, sorted."""
    folder = store_dir() / "mappings"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
