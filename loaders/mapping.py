"""Recognise the columns of a user file (SCDL names and the usual variants) and remember mappings.

Names are compared without case, accents, spaces, underscores or punctuation, so "Nom du
bénéficiaire", "nom_beneficiaire" and "NOM BENEFICIAIRE" all land on `nomBeneficiaire`. Columns
that match nothing are kept aside and reported as "colonne ignorée"; they are not an error.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata

from loaders import model
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
        "nom": ("site nom", "nom du site", "libellé", "nom du local", "désignation"),
        "lat": ("latitude", "y"),
        "lon": ("longitude", "lng", "long", "x"),
        "geometry": ("géométrie", "wkt", "geom", "the geom"),
        "surface_m2": ("surface", "site surface", "superficie", "surface en m2", "surface (m²)"),
        "type": ("site type", "type de site", "type de bien", "catégorie"),
        "statut": ("site statut", "statut du site", "état", "disponibilité"),
        "siret_occupant": ("siret", "siret de l'occupant", "occupant siret"),
        "mode_occupation": ("mode d'occupation", "type d'occupation", "contrat"),
        "date_debut": ("début", "date de début", "début d'occupation"),
        "date_fin": ("fin", "date de fin", "fin d'occupation"),
        "loyer_annuel_eur": ("loyer", "loyer annuel", "loyer annuel (€)", "redevance"),
    },
}


class MappingError(ValueError):
    """A mapping cannot be used or saved (message in French)."""


def normalise_name(name: str) -> str:
    """Lower case, no accents, letters and digits: "Nom du bénéficiaire" -> "nomdubeneficiaire"."""
    decomposed = unicodedata.normalize("NFKD", str(name))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _lookup(kind: str) -> dict[str, str]:
    """Normalised name -> canonical column; canonical names and French labels win over variants."""
    if kind not in model.SCHEMAS:
        raise MappingError(f"type de données inconnu : « {kind} » (attendu : {', '.join(KINDS)})")
    table: dict[str, str] = {}
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
            target = canonical_names.get(key) if exact_pass else table.get(key)
            if target and target not in taken:
                result[str(column)] = target
                taken.add(target)
    return result


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
