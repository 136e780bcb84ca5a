"""The activity data model: columns of structures, grants and land sites, and identifier checks.

One definition serves validation on import, the demo generator, exports and the README, so the
documented model and the enforced model cannot drift apart (tests/test_docs.py checks the README).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from numbers import Real

from stdnum.fr import siren, siret

from loaders.config import strategy


@dataclass(frozen=True)
class Column:
    """One column of a dataset: its type, whether it is required, and what it means."""

    name: str
    dtype: str  # "str", "int", "float", "bool", "date"
    required: bool
    label: str  # French label shown in the interface
    description: str  # English meaning, for the README


SCDL_COLUMNS: tuple[Column, ...] = (
    Column("nomAttribuant", "str", True, "Attribuant", "SCDL: name of the granting body."),
    Column("idAttribuant", "str", True, "SIRET attribuant", "SCDL: SIRET of the granting body."),
    Column("dateConvention", "date", True, "Date de convention", "SCDL: date of the agreement."),
    Column("referenceDecision", "str", False, "Décision", "SCDL: council decision reference."),
    Column("nomBeneficiaire", "str", True, "Bénéficiaire", "SCDL: beneficiary name."),
    Column("idBeneficiaire", "str", False, "SIRET bénéficiaire", "SCDL: beneficiary SIRET."),
    Column("rnaBeneficiaire", "str", False, "RNA bénéficiaire", "SCDL: association RNA number."),
    Column("objet", "str", True, "Objet", "SCDL: purpose of the grant (256 characters max)."),
    Column("montant", "float", True, "Montant attribué", "SCDL: amount granted, in euros."),
    Column("nature", "str", True, "Nature", "SCDL: `aide en numéraire` and/or `aide en nature`."),
    Column("conditionsVersement", "str", True, "Versement", "SCDL: `unique`, `échelonné` or text."),
    Column(
        "datesPeriodeVersement",
        "str",
        True,
        "Période de versement",
        "SCDL: payment date or period `YYYY-MM-DD/YYYY-MM-DD`.",
    ),
    Column("idRAE", "str", False, "Identifiant RAE", "SCDL: RAE identifier (5 characters max)."),
    Column(
        "notificationUE", "bool", True, "Notification UE", "SCDL: notified to the EU (oui/non)."
    ),
    Column(
        "pourcentageSubvention",
        "float",
        True,
        "Part subventionnée",
        "SCDL: share of the project funded (0.01 to 1).",
    ),
    Column("dispositifAide", "str", False, "Dispositif d'aide", "SCDL: aid scheme identifier."),
)

STRATEGY_GRANT_COLUMNS: tuple[Column, ...] = (
    Column("id_subvention", "str", True, "Identifiant", "Unique identifier of the grant row."),
    Column("axe", "int", True, "Axe", "Strategy axis, 1 to 4."),
    Column("priorite", "int", True, "Priorité", "Strategy priority, 1 to 20, within its axis."),
    Column(
        "annee",
        "int",
        True,
        "Année",
        "Budget year; grants outside the strategy's 2021-2026 are kept and flagged.",
    ),
    Column(
        "hors_periode",
        "bool",
        False,
        "Hors période",
        "Outside the strategy period 2021-2026 (« hors période de la stratégie »): left out of "
        "envelope and strategy figures unless the period filter includes its year.",
    ),
    Column("montant_verse", "float", False, "Montant versé", "Amount paid so far, in euros."),
    Column(
        "dispositif",
        "str",
        False,
        "Dispositif",
        "Aid scheme label (e.g. appel à projets permanent ESS).",
    ),
    Column(
        "lat_projet",
        "float",
        False,
        "Latitude du projet",
        "Project location (WGS84) when it differs from the beneficiary's.",
    ),
    Column("lon_projet", "float", False, "Longitude du projet", "Project longitude (WGS84)."),
    Column(
        "cible_qpv", "bool", False, "Cible QPV", "The project targets a priority neighbourhood."
    ),
)

GRANT_COLUMNS: tuple[Column, ...] = SCDL_COLUMNS + STRATEGY_GRANT_COLUMNS

STRUCTURE_COLUMNS: tuple[Column, ...] = (
    Column(
        "siret",
        "str",
        True,
        "SIRET",
        "14-digit establishment identifier; its key and its SIREN's key checked.",
    ),
    Column("siren", "str", False, "SIREN", "9-digit legal unit identifier (derived from SIRET)."),
    Column("rna", "str", False, "RNA", "Association register number, W followed by 9 digits."),
    Column("nom", "str", True, "Nom", "Name of the structure."),
    Column("forme_juridique", "str", False, "Forme juridique", "Legal form label."),
    Column("est_ess", "bool", False, "ESS", "Belongs to the social and solidarity economy."),
    Column("adresse", "str", False, "Adresse", "Postal address (street, number)."),
    Column(
        "code_postal", "str", False, "Code postal", "Postcode, used to cross-check the commune."
    ),
    Column("commune", "str", False, "Commune", "Commune name as given by the source."),
    Column("lat", "float", False, "Latitude", "WGS84 latitude (or geocoded from the address)."),
    Column("lon", "float", False, "Longitude", "WGS84 longitude."),
    Column(
        "statut_diffusion",
        "str",
        False,
        "Diffusion",
        "SIRENE diffusion status: O public, P partial (never shown).",
    ),
)

LAND_COLUMNS: tuple[Column, ...] = (
    Column("site_id", "str", True, "Identifiant", "Unique identifier of the site."),
    Column("nom", "str", True, "Nom", "Name of the site or premises."),
    Column("lat", "float", False, "Latitude", "WGS84 latitude of the site (point)."),
    Column("lon", "float", False, "Longitude", "WGS84 longitude of the site (point)."),
    Column("geometry", "str", False, "Géométrie", "Parcel outline as WKT, instead of lat/lon."),
    Column("surface_m2", "float", False, "Surface (m²)", "Surface in square metres."),
    Column("type", "str", True, "Type", "`local`, `terrain` or `friche`."),
    Column("statut", "str", True, "Statut", "`disponible`, `attribué` or `à l'étude`."),
    Column("siret_occupant", "str", False, "SIRET occupant", "SIRET of the occupying structure."),
    Column("mode_occupation", "str", False, "Mode d'occupation", "Tenure (bail, convention...)."),
    Column("date_debut", "date", False, "Début", "Start of the occupancy."),
    Column("date_fin", "date", False, "Fin", "End of the occupancy."),
    Column("loyer_annuel_eur", "float", False, "Loyer annuel", "Yearly rent in euros."),
)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "structures": STRUCTURE_COLUMNS,
    "grants": GRANT_COLUMNS,
    "land": LAND_COLUMNS,
}

LEGAL_FORMS = (
    "Association",
    "SCOP",
    "SCIC",
    "Coopérative",
    "Mutuelle",
    "Fondation",
    "SAS ESUS",
    "SARL ESUS",
)
LAND_TYPES = ("local", "terrain", "friche")
LAND_STATUSES = ("disponible", "attribué", "à l'étude")

_RNA = re.compile(r"^W\d{9}$")


def siren_is_valid(value: str) -> bool:
    """Nine digits whose last is the Luhn key (python-stdnum's stdnum.fr.siren)."""
    return isinstance(value, str) and value.isdigit() and siren.is_valid(value)


def siret_is_valid(value: str) -> bool:
    """Fourteen digits with both keys right: the SIRET's own and its SIREN's (stdnum.fr.siret).

    The one SIRET check of the dashboard. La Poste's establishments (SIREN 356000000) share one
    SIREN and follow their own rule (digit sum divisible by 5), which stdnum applies.
    """
    return isinstance(value, str) and len(value) == 14 and value.isdigit() and siret.is_valid(value)


# Yes/no words of the files the City and its partners send (any case, accents or punctuation:
# "Oui", "VRAI", "x" ticked in a spreadsheet); exports always write "oui"/"non".
TRUE_WORDS = frozenset({"oui", "o", "vrai", "true", "t", "yes", "y", "1", "x"})
FALSE_WORDS = frozenset({"non", "n", "faux", "false", "f", "no", "0"})
_WHOLE_01 = re.compile(r"^[01](?:[.,]0+)?$")


def parse_bool(value: object) -> bool | None:
    """True or False for a yes/no value (TRUE_WORDS, FALSE_WORDS, 1/0, 1.0), else None.

    The one boolean parser of the dashboard: imports, the typed datasets, exports and SIRENE
    answers all read yes/no values with it.
    """
    if value is None or isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy
        return bool(value)
    if isinstance(value, Real):  # numpy numbers included
        if math.isnan(value):
            return None
        return bool(value) if value in (0, 1) else None
    text = str(value).strip()
    if _WHOLE_01.match(text):
        return text[0] == "1"
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    word = re.sub(r"[^a-z0-9]", "", "".join(c for c in decomposed if not unicodedata.combining(c)))
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def rna_is_valid(value: str) -> bool:
    """W followed by nine digits."""
    return bool(_RNA.match(value))


def priority_axis() -> dict[int, int]:
    """Map each of the 20 priorities to its axis, from data/strategy.json."""
    return {p["numero"]: a["numero"] for a in strategy()["axes"] for p in a["priorites"]}


def axis_titles() -> dict[int, str]:
    """Official title of each axis."""
    return {a["numero"]: a["titre"] for a in strategy()["axes"]}
