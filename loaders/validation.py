"""Check imported rows against the data model and say, in French, what is wrong and where.

Conventions (what a spreadsheet user sees):
- rows are numbered as in Excel or LibreOffice: the header is row 1, the first data row is row 2
  (for GeoJSON/GeoPackage land files, the row number is the feature number, starting at 1);
- a row with one or more blocking problems is rejected as a whole; it may produce several reject
  entries (one per problem), but it counts once in `rejected`, so read = accepted + rejected;
- a value that is unambiguous but not in the standard form (2017/09/08, 08/09/2017, periods joined
  with `_`, "Aide en numéraire", "12 345,67") is normalised, accepted, and reported as a warning
  naming the row, the column and what was changed. Surrounding spaces are trimmed silently.

What blocks a row (reject) and what only warns is decided for the City's use of the data:
- grants: only a missing or unusable amount (numeric, >= 0), a missing beneficiary name, no
  usable year (the `annee` column, else the convention date, else the start of the payment
  period, with a warning) or a repeated identifier reject a row (GRANT_BLOCKING). Any other
  unusable value (an invalid SIRET, a SIRET in scientific notation, an unknown axis) is dropped
  with a warning and the row is kept. Grants outside the strategy period 2021-2026 are kept and
  flagged `hors_periode` ("hors période de la stratégie"): the dashboard leaves them out of its
  strategy figures unless its period filter includes them. A grant without axe/priorité (a plain
  SCDL file has neither) is accepted with the warning "axe/priorité à compléter", so it can be
  classified later; a priority that contradicts its axis (priority 9 under axis 1) is dropped,
  the axis kept. Other SCDL-mandatory fields
  (nature, conditions, payment period, EU notification, share) only warn "à compléter avant
  publication": they matter for the open-data export, not for the dashboard. A missing
  `id_subvention` is generated from the row's content, so an exact repeated line is a duplicate.
- structures: a valid SIRET, a name, and an address or coordinates inside the MEL.
- land: an id, a name, a known type and status, coordinates or a WKT geometry inside the MEL.
  An invalid geometry (a self-intersecting "bow-tie" polygon, say) is repaired here, at import,
  never at display: `shapely.make_valid`, keeping only the polygonal parts of a polygon, with a
  warning naming the defect; a geometry that cannot be repaired, or is empty, rejects the row.
  Every stored geometry is valid.
- amounts: not finite, negative, or above a plausible ceiling (CEILINGS: 100 000 000 € for
  `montant` and `montant_verse`, 10 000 000 € for `loyer_annuel_eur`, 10 000 000 m² for
  `surface_m2`) rejects the row, with the value as typed; a paid amount above the granted amount
  only warns.
- identifiers: apostrophes typed or exported around them are removed (warning); a value in
  scientific notation (2,43E+13) lost digits and is reported as unrecoverable.
- everywhere else: invalid SIRET (Luhn) or RNA, unreadable numbers/dates/booleans, coordinates
  outside the MEL bounding box, duplicate identifiers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable

import pandas as pd
import shapely

from geo.crs import MEL_BBOX
from geo.formatting import NNBSP, fmt_date, fmt_number
from loaders import model
from loaders.mapping import normalise_name
from loaders.readers_tabular import _PLAIN_NUMBER, parse_number
from loaders.scdl_schema import V2_1_ONLY, SchemaUnavailableError, scdl_table_schema

YEAR_MIN, YEAR_MAX = 2021, 2026
# Grants of other years are kept and flagged `hors_periode`; years outside this range are typos.
PLAUSIBLE_YEARS = (1980, 2040)
OUT_OF_PERIOD = f"hors période de la stratégie ({YEAR_MIN}-{YEAR_MAX})"
# What alone rejects a grant: its amounts (granted, paid), its beneficiary's name, a usable date,
# and a repeated identifier. Any other unusable value is dropped with a warning.
DATE_COLUMN = "annee"
GRANT_BLOCKING = frozenset(
    {"montant", "montant_verse", "nomBeneficiaire", DATE_COLUMN, "id_subvention"}
)
NATURES = ("aide en numéraire", "aide en nature")

ID_COLUMN = {"grants": "id_subvention", "structures": "siret", "land": "site_id"}

# Plausible ceilings (value, unit): above them a figure is a typing or export error, never a real
# one. The whole ESS strategy is 700 000 € over six years and the City's yearly budget is about
# 600 M€, so no single grant reaches 100 M€; a yearly rent of ESS premises is counted in thousands
# of euros; 10 km² (1 000 ha) is a quarter of Lille, larger than any land site or friche.
MAX_AMOUNT_EUR = 100_000_000
MAX_RENT_EUR = 10_000_000
MAX_SURFACE_M2 = 10_000_000
CEILINGS: dict[str, tuple[float, str]] = {
    "montant": (MAX_AMOUNT_EUR, "€"),
    "montant_verse": (MAX_AMOUNT_EUR, "€"),
    "loyer_annuel_eur": (MAX_RENT_EUR, "€"),
    "surface_m2": (MAX_SURFACE_M2, "m²"),
}


def row_numbers(df: pd.DataFrame) -> list[int]:
    """Spreadsheet row numbers of `df`: its index, or index + 2 for a default 0-based RangeIndex."""
    if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1:
        return [i + 2 for i in range(len(df))]
    return [int(i) for i in df.index]


# --- value parsers: each returns (value, note) where note says what was normalised -------------

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?: 00:00(?::00)?)?$")


def parse_date(text: str) -> tuple[str | None, str | None]:
    """ISO date from 2017-09-08, 2017/09/08, 08/09/2017 (French day first), 08.09.2017, 8-9-2017.

    Returns (iso or None if unreadable, note when the input was not already ISO).
    """
    if _ISO.match(text):
        y, m, d = (int(p) for p in _ISO.match(text).groups())
    elif match := _YMD.match(text):
        y, m, d = (int(p) for p in match.groups())
    elif match := _DMY.match(text):
        d, m, y = (int(p) for p in match.groups())
    else:
        return None, None
    try:
        iso = dt.date(y, m, d).isoformat()
    except ValueError:
        return None, None
    return iso, None if iso == text else f"date « {text} » lue {fmt_date(iso)} (écrite {iso})"


_CODE = re.compile(
    r"(?:(?:axe|priorite|p|objectif|annee|exercice)\s*)?(?:n\s*[°o]?\s*)?(\d+)(?:\.0+)?"
    r"(?:\s*[-:\u2013]\s*.*)?",
    re.DOTALL,
)


def parse_code(text: str) -> int | None:
    """2 from "2", "2.0", "Axe 2", "axe n°2", "P2", "2 - Accompagner"; None if not unambiguous."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()
    match = _CODE.fullmatch(plain)
    return int(match.group(1)) if match else None


_UNKNOWN_BOUND = {"nc", "nd", "na", "n/a", "?", "-", "inconnu", "inconnue"}


def parse_period(text: str) -> tuple[str | None, str | None]:
    """SCDL payment period: one date or two joined by "/"; `_`, ` au `, `;` and formats fixed.

    Dates may use "/" themselves ("2017/09/08_2021/09/07", "08/09/2017 au 07/09/2021"): the
    other joiners are tried first. A placeholder bound ("NC/2019-06-30") leaves the known date.
    """
    parts = [p.strip() for p in re.split(r"\s*(?:_|;|\bau\b|\s-\s)\s*", text) if p.strip()]
    if len(parts) == 1:
        parts = [p.strip() for p in re.split(r"\s*/\s*", text) if p.strip()]
        if len(parts) > 2:  # one date written with slashes
            parts = [text.strip()]
    known = [p for p in parts if p.lower() not in _UNKNOWN_BOUND]
    if len(parts) == 2 and len(known) == 1:
        iso, _ = parse_date(known[0])
        if iso is None:
            return None, None
        return iso, f"période « {text} » : borne inconnue, réduite à « {iso} »"
    if len(parts) not in (1, 2):
        return None, None
    isos = []
    for part in parts:
        iso, _ = parse_date(part)
        if iso is None:
            return None, None
        isos.append(iso)
    value = "/".join(isos)
    return value, None if value == text else f"période « {text} » normalisée en « {value} »"


# --- the checker -------------------------------------------------------------------------------


class _Checker:
    """Collects rejects and warnings for one file; rows are the spreadsheet row numbers."""

    def __init__(self, kind: str, file_name: str, present: set[str]) -> None:
        self.kind = kind
        self.file_name = file_name
        self.present = present
        self.rejects: list[dict] = []
        self.warnings: list[dict] = []
        self.row_rejected = False

    def reject(self, row: int, column: str, reason: str) -> None:
        """Reject the row; for grants, a problem outside GRANT_BLOCKING only drops the value."""
        if self.kind == "grants" and column not in GRANT_BLOCKING:
            self.warn(row, column, f"{reason} : valeur non reprise, ligne conservée")
            return
        self.rejects.append({"row": row, "column": column, "reason": reason})
        self.row_rejected = True

    def warn(self, row: int | None, column: str, message: str) -> None:
        self.warnings.append({"row": row, "column": column, "message": message})

    # typed readers: they reject or warn, and return the clean value (None when empty/invalid)

    def number(self, row: int, col: str, text: str, *, minimum: float | None = 0) -> float | None:
        """A finite number, >= minimum and within CEILINGS[col] when the column has a ceiling."""
        if not text:
            return None
        value = parse_number(text)
        if value is None:
            if _non_finite(text):
                self.reject(row, col, f"valeur non finie : « {_short(text)} »")
            else:
                self.reject(row, col, f"valeur non numérique : « {_short(text)} »")
            return None
        if minimum is not None and value < minimum:
            shown = fmt_number(value, 2, trim=True) if value > -1e12 else f"« {_short(text)} »"
            self.reject(row, col, f"valeur négative : {shown}")
            return None
        if col in CEILINGS and value > CEILINGS[col][0]:
            ceiling, unit = CEILINGS[col]
            self.reject(
                row,
                col,
                f"valeur hors de la plage plausible : « {_short(text)} » "
                f"(plafond : {fmt_number(ceiling)}{NNBSP}{unit})",
            )
            return None
        if not _PLAIN_NUMBER.match(text):
            self.warn(row, col, f"nombre « {text} » lu {fmt_number(value, 2, trim=True)}")
        return value

    def date(self, row: int, col: str, text: str) -> str | None:
        if not text:
            return None
        iso, note = parse_date(text)
        if iso is None:
            self.reject(row, col, f"date illisible : « {_short(text)} » (attendu JJ/MM/AAAA)")
            return None
        if note:
            self.warn(row, col, note)
        return iso

    def boolean(self, row: int, col: str, text: str) -> bool | None:
        if not text:
            return None
        value = model.parse_bool(text)
        if value is None:
            self.reject(row, col, f"valeur « {_short(text)} » non reconnue (oui ou non attendu)")
        elif text not in ("oui", "non"):
            self.warn(row, col, f"« {text} » lu « {'oui' if value else 'non'} »")
        return value

    def siret(self, row: int, col: str, text: str) -> str | None:
        if not text:
            return None
        digits = re.sub(r"[\s\u00a0\u202f.]", "", text)
        if len(digits) == 13 and digits.isdigit() and model.siret_is_valid("0" + digits):
            self.warn(row, col, f"SIRET « {text} » complété du zéro initial perdu par le tableur")
            digits = "0" + digits
        if not model.siret_is_valid(digits):
            hint = " (9 chiffres : c'est un SIREN)" if len(digits) == 9 else ""
            self.reject(row, col, f"SIRET invalide : « {_short(text)} »{hint}")
            return None
        if digits != text:
            self.warn(row, col, f"SIRET « {text} » écrit sans espaces : {digits}")
        return digits

    def rna(self, row: int, col: str, text: str) -> str | None:
        if not text:
            return None
        value = re.sub(r"\s", "", text).upper()
        if not model.rna_is_valid(value):
            self.reject(
                row, col, f"numéro RNA invalide : « {_short(text)} » (W suivi de 9 chiffres)"
            )
            return None
        if value != text:
            self.warn(row, col, f"RNA « {text} » normalisé en {value}")
        return value

    def coordinates(
        self, row: int, lat_col: str, lon_col: str, lat_text: str, lon_text: str
    ) -> tuple[float | None, float | None]:
        if not lat_text and not lon_text:
            return None, None
        if not lat_text or not lon_text:
            missing = lat_col if not lat_text else lon_col
            self.reject(row, missing, "coordonnées incomplètes : latitude et longitude attendues")
            return None, None
        lat = self.number(row, lat_col, lat_text, minimum=None)
        lon = self.number(row, lon_col, lon_text, minimum=None)
        if lat is None or lon is None:
            return None, None
        if in_mel(lon, lat):
            return lat, lon
        if in_mel(lat, lon):
            self.warn(row, lat_col, "latitude et longitude étaient inversées : remises en ordre")
            return lon, lat
        self.reject(
            row,
            lat_col,
            f"coordonnées hors de la Métropole européenne de Lille "
            f"(latitude {fmt_number(lat, 2, trim=True)}, "
            f"longitude {fmt_number(lon, 2, trim=True)}) : attendu du WGS84 en degrés",
        )
        return None, None

    def choice(self, row: int, col: str, text: str, allowed: tuple[str, ...]) -> str | None:
        if not text:
            return None
        by_key = {normalise_name(a): a for a in allowed}
        value = by_key.get(normalise_name(text))
        if value is None:
            self.reject(
                row, col, f"valeur « {_short(text)} » inconnue (attendu : {', '.join(allowed)})"
            )
        elif value != text:
            self.warn(row, col, f"« {text} » normalisé en « {value} »")
        return value


def _non_finite(text: str) -> bool:
    """ "inf", "NaN", "1e309": text that Python reads as a number that is not finite."""
    try:
        return not math.isfinite(float(text.strip().replace(",", ".")))
    except ValueError:
        return False


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def in_mel(lon: float, lat: float) -> bool:
    lon_min, lat_min, lon_max, lat_max = MEL_BBOX
    return lon_min <= lon <= lon_max and lat_min <= lat <= lat_max


# --- per-kind rules ----------------------------------------------------------------------------


def _check_grant(c: _Checker, row: int, v: dict[str, str]) -> dict:
    out: dict = {}
    for col in ("nomAttribuant", "referenceDecision", "objet", "dispositifAide", "dispositif"):
        out[col] = v[col] or None
    out["nomBeneficiaire"] = v["nomBeneficiaire"] or None
    if not v["nomBeneficiaire"]:
        c.reject(row, "nomBeneficiaire", "nom du bénéficiaire manquant")
    for col in ("idAttribuant", "idBeneficiaire"):
        out[col] = c.siret(row, col, _identifier_text(c, row, col, v[col]))
    out["rnaBeneficiaire"] = c.rna(
        row, "rnaBeneficiaire", _identifier_text(c, row, "rnaBeneficiaire", v["rnaBeneficiaire"])
    )
    if not v["montant"]:
        c.reject(row, "montant", "montant manquant")
        out["montant"] = None
    else:
        out["montant"] = c.number(row, "montant", v["montant"])
    out["montant_verse"] = c.number(row, "montant_verse", v["montant_verse"])
    if out["montant"] is not None and out["montant_verse"] is not None:
        if out["montant_verse"] > out["montant"]:
            c.warn(row, "montant_verse", "montant versé supérieur au montant attribué")

    out["dateConvention"], out["annee"], out["hors_periode"] = _grant_dates(c, row, v)

    axis, prio = _check_strategy(c, row, v)
    out["axe"], out["priorite"] = axis, prio

    out["nature"] = _nature(c, row, v["nature"])
    out["conditionsVersement"] = _conditions(c, row, v["conditionsVersement"])
    out["datesPeriodeVersement"] = _grant_period(c, row, v["datesPeriodeVersement"])
    out["idRAE"] = v["idRAE"] or None
    if len(v["idRAE"]) > 5:
        c.warn(row, "idRAE", "identifiant RAE de plus de 5 caractères (non conforme au SCDL)")
    if len(v["objet"]) > 256:
        c.warn(row, "objet", "objet de plus de 256 caractères (non conforme au SCDL)")
    out["notificationUE"] = c.boolean(row, "notificationUE", v["notificationUE"])
    out["pourcentageSubvention"] = _share(c, row, v["pourcentageSubvention"])
    out["cible_qpv"] = c.boolean(row, "cible_qpv", v["cible_qpv"])
    out["lat_projet"], out["lon_projet"] = c.coordinates(
        row, "lat_projet", "lon_projet", v["lat_projet"], v["lon_projet"]
    )
    if not out["idBeneficiaire"] and not out["rnaBeneficiaire"] and out["nomBeneficiaire"]:
        c.warn(row, "idBeneficiaire", "ni SIRET ni RNA du bénéficiaire (l'un des deux est attendu)")
    for col in _SCDL_TO_COMPLETE:
        if col in c.present and not v[col]:
            c.warn(row, col, "champ obligatoire du SCDL vide : à compléter avant publication")
    out["id_subvention"] = v["id_subvention"] or None
    if not v["id_subvention"]:
        out["id_subvention"] = "SUB-" + _content_hash(v)
        if "id_subvention" in c.present:
            c.warn(row, "id_subvention", f"identifiant absent : généré ({out['id_subvention']})")
    return out


_APOSTROPHES = re.compile(r"['\u2019`]")
_SCIENTIFIC = re.compile(r"^\d+(?:[.,]\d+)?[eE][+-]?\d+$")


def clean_identifier(text: str) -> tuple[str, str | None]:
    """An identifier without the apostrophes a spreadsheet adds; (text, problem or None).

    "224 900 019 000 15'" -> "224 900 019 000 15" (the SIRET check then removes spaces and
    no-break spaces, with its own warning). A value in scientific notation ("2,43E+13") lost its
    last digits in the spreadsheet: ("", "notation scientifique").
    """
    plain = _APOSTROPHES.sub("", text).strip()
    if _SCIENTIFIC.match(re.sub(r"[\s\u00a0\u202f]", "", plain)):
        return "", "notation scientifique"
    return plain, None


def _identifier_text(c: _Checker, row: int, col: str, text: str) -> str:
    """`text` cleaned by clean_identifier, with a warning naming what was removed or lost."""
    if not text:
        return text
    clean, problem = clean_identifier(text)
    if problem:
        c.warn(
            row,
            col,
            f"identifiant « {_short(text)} » en notation scientifique (format de nombre du "
            "tableur) : ses derniers chiffres sont perdus, identifiant non repris",
        )
    elif clean != text:
        c.warn(row, col, f"identifiant « {_short(text)} » : apostrophe retirée ({clean})")
    return clean


def _grant_period(c: _Checker, row: int, text: str) -> str | None:
    """The SCDL payment period of a grant, normalised with a warning, or kept as typed."""
    if not text:
        return None
    period, note = parse_period(text)
    if period is None:
        c.warn(
            row,
            "datesPeriodeVersement",
            f"période « {_short(text)} » non reconnue, gardée telle quelle",
        )
        return text
    if note:
        c.warn(row, "datesPeriodeVersement", note)
    return period


_BARE_YEAR = re.compile(r"^(\d{4})(?:\.0+)?$")


def _grant_dates(c: _Checker, row: int, v: dict[str, str]) -> tuple[str | None, int | None, bool]:
    """(dateConvention, annee, hors_periode) of a grant.

    The year is the `annee` column, else the convention date's, else (warning) the year the payment
    period starts. A bare year typed as the convention date is taken as the year. A grant outside
    YEAR_MIN-YEAR_MAX is kept and flagged; one without any usable year is rejected.
    """
    text = v["dateConvention"]
    date = None
    year_from_date = None
    if bare := _BARE_YEAR.match(text):
        year_from_date = int(bare.group(1))
        c.warn(
            row,
            "dateConvention",
            f"date de convention réduite à l'année {year_from_date} : année retenue, date vide",
        )
    elif text:
        date = c.date(row, "dateConvention", text)
        year_from_date = int(date[:4]) if date else None
    year: int | None = None
    if v["annee"]:
        year = parse_code(v["annee"])
        if year is None:
            c.warn(row, "annee", f"année illisible : « {_short(v['annee'])} »")
        elif str(year) != v["annee"]:
            c.warn(row, "annee", f"« {v['annee']} » lu {year}")
    if year is None and year_from_date is not None:
        year = year_from_date
        if "annee" in c.present:
            c.warn(row, "annee", f"année déduite de la date de convention : {year}")
    if year is None and v["datesPeriodeVersement"]:
        period, _ = parse_period(v["datesPeriodeVersement"])
        if period:
            year = int(period[:4])
            c.warn(
                row,
                "annee",
                f"année {year} déduite de la période de versement (date de convention absente)",
            )
    if year is None:
        c.reject(row, DATE_COLUMN, "ni année ni date lisible : impossible de dater la subvention")
        return date, None, False
    if not PLAUSIBLE_YEARS[0] <= year <= PLAUSIBLE_YEARS[1]:
        c.reject(
            row, DATE_COLUMN, f"année {year} invraisemblable : impossible de dater la subvention"
        )
        return date, None, False
    out_of_period = not YEAR_MIN <= year <= YEAR_MAX
    if out_of_period:
        c.warn(row, "annee", f"année {year} {OUT_OF_PERIOD} : subvention gardée et signalée")
    return date, year, out_of_period


_SCDL_TO_COMPLETE = (
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "objet",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "notificationUE",
    "pourcentageSubvention",
)


def _content_hash(v: dict[str, str]) -> str:
    keys = ("nomAttribuant", "idAttribuant", "dateConvention", "annee", "nomBeneficiaire")
    keys += ("idBeneficiaire", "objet", "montant", "datesPeriodeVersement", "axe", "priorite")
    text = "\x1f".join(v[k] for k in keys)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _check_strategy(c: _Checker, row: int, v: dict[str, str]) -> tuple[int | None, int | None]:
    axes = model.axis_titles()
    prio_axis = model.priority_axis()
    axis = prio = None
    if v["axe"]:
        axis = parse_code(v["axe"])
        if axis not in axes:
            c.reject(row, "axe", f"axe inconnu : « {_short(v['axe'])} » (1 à {max(axes)})")
            axis = None
        elif str(axis) != v["axe"]:
            c.warn(row, "axe", f"« {v['axe']} » lu axe {axis}")
    if v["priorite"]:
        prio = parse_code(v["priorite"])
        if prio not in prio_axis:
            c.reject(
                row,
                "priorite",
                f"priorité inconnue : « {_short(v['priorite'])} » (1 à {max(prio_axis)})",
            )
            prio = None
        elif str(prio) != v["priorite"]:
            c.warn(row, "priorite", f"« {v['priorite']} » lu priorité {prio}")
    if prio is not None and axis is not None and prio_axis[prio] != axis:
        c.reject(
            row,
            "priorite",
            f"la priorité {prio} relève de l'axe {prio_axis[prio]}, pas de l'axe {axis}",
        )
        prio = None
    elif prio is not None and axis is None and not v["axe"]:
        axis = prio_axis[prio]
        c.warn(row, "axe", f"axe déduit de la priorité {prio} : axe {axis}")
    elif axis is None and prio is None and not v["axe"] and not v["priorite"]:
        if {"axe", "priorite"} & c.present:
            c.warn(row, "axe", "axe/priorité à compléter")
    elif axis is not None and prio is None and not v["priorite"]:
        c.warn(row, "priorite", "priorité à compléter")
    return axis, prio


def _nature(c: _Checker, row: int, text: str) -> str | None:
    if not text:
        return None
    parts = [p for p in re.split(r"\s*[;,/+]\s*|\s+et\s+", text) if p.strip()]
    keys = {normalise_name(n): n for n in NATURES}
    found = [keys.get(normalise_name(p)) for p in parts]
    if not found or None in found:
        c.warn(
            row, "nature", f"nature « {_short(text)} » non conforme au SCDL, gardée telle quelle"
        )
        return text
    value = ";".join(dict.fromkeys(found))
    if value != text:
        c.warn(row, "nature", f"« {text} » normalisé en « {value} »")
    return value


def _conditions(c: _Checker, row: int, text: str) -> str | None:
    if not text:
        return None
    known = {"unique": "unique", "echelonne": "échelonné", "autre": "autre"}
    value = known.get(normalise_name(text), text)
    if value != text:
        c.warn(row, "conditionsVersement", f"« {text} » normalisé en « {value} »")
    return value


def _share(c: _Checker, row: int, text: str) -> float | None:
    if not text:
        return None
    value = c.number(row, "pourcentageSubvention", text.replace("%", ""))
    if value is None:
        return None
    if "%" in text or 1 < value <= 100:
        value = value / 100
        c.warn(row, "pourcentageSubvention", f"« {text} » lu comme un pourcentage : {value:g}")
    if not 0.01 <= value <= 1:
        c.warn(row, "pourcentageSubvention", "part subventionnée hors de 0,01–1 (SCDL)")
    return value


def _check_structure(c: _Checker, row: int, v: dict[str, str]) -> dict:
    out: dict = {}
    if not v["siret"]:
        c.reject(row, "siret", "SIRET manquant")
        out["siret"] = None
    else:
        out["siret"] = c.siret(row, "siret", _identifier_text(c, row, "siret", v["siret"]))
    out["siren"] = None
    siren = re.sub(r"\s", "", v["siren"])
    if siren and out["siret"] and siren != out["siret"][:9]:
        c.reject(row, "siren", f"SIREN « {_short(v['siren'])} » incohérent avec le SIRET")
    elif out["siret"]:
        out["siren"] = out["siret"][:9]
    out["rna"] = c.rna(row, "rna", v["rna"])
    out["nom"] = v["nom"] or None
    if not v["nom"]:
        c.reject(row, "nom", "nom manquant")
    form = v["forme_juridique"]
    known = {normalise_name(f): f for f in model.LEGAL_FORMS}
    out["forme_juridique"] = known.get(normalise_name(form), form) or None
    if form and out["forme_juridique"] != form:
        c.warn(row, "forme_juridique", f"« {form} » normalisé en « {out['forme_juridique']} »")
    out["est_ess"] = c.boolean(row, "est_ess", v["est_ess"])
    out["adresse"] = v["adresse"] or None
    out["code_postal"] = _postcode(c, row, v["code_postal"])
    out["commune"] = v["commune"] or None
    out["lat"], out["lon"] = c.coordinates(row, "lat", "lon", v["lat"], v["lon"])
    if not v["adresse"] and not (v["lat"] or v["lon"]):
        c.reject(row, "adresse", "ni adresse ni coordonnées : impossible de localiser la structure")
    diffusion = v["statut_diffusion"].upper()
    out["statut_diffusion"] = diffusion or None
    if diffusion and diffusion not in ("O", "P"):
        c.warn(row, "statut_diffusion", f"statut de diffusion « {v['statut_diffusion']} » inconnu")
    return out


def _postcode(c: _Checker, row: int, text: str) -> str | None:
    if not text:
        return None
    value = re.sub(r"\s", "", text).removesuffix(".0")
    if re.fullmatch(r"\d{4}", value):
        value = "0" + value
    if not re.fullmatch(r"\d{5}", value):
        c.warn(row, "code_postal", f"code postal « {_short(text)} » non conforme (5 chiffres)")
        return text
    if value != text:
        c.warn(row, "code_postal", f"code postal « {text} » normalisé en {value}")
    return value


def _check_land(c: _Checker, row: int, v: dict[str, str]) -> dict:
    from shapely import wkt  # local: only land files carry geometries

    out: dict = {"site_id": v["site_id"] or None, "nom": v["nom"] or None}
    if not v["site_id"]:
        c.reject(row, "site_id", "identifiant du site manquant")
    if not v["nom"]:
        c.reject(row, "nom", "nom manquant")
    for col, allowed in (("type", model.LAND_TYPES), ("statut", model.LAND_STATUSES)):
        if not v[col]:
            c.reject(row, col, f"{col} manquant (attendu : {', '.join(allowed)})")
            out[col] = None
        else:
            out[col] = c.choice(row, col, _cnig_friche_word(c, row, col, v[col]), allowed)
    out["lat"], out["lon"] = c.coordinates(row, "lat", "lon", v["lat"], v["lon"])
    out["geometry"] = None
    if v["geometry"]:
        try:
            shape = wkt.loads(v["geometry"])
        except Exception:  # noqa: BLE001 - shapely raises several types on bad WKT
            c.reject(row, "geometry", "géométrie WKT illisible")
        else:
            out["geometry"] = _land_geometry(c, row, shape)
    elif not v["lat"] and not v["lon"]:
        c.reject(row, "lat", "ni coordonnées ni géométrie : impossible de localiser le site")
    out["surface_m2"] = c.number(row, "surface_m2", v["surface_m2"])
    out["loyer_annuel_eur"] = c.number(row, "loyer_annuel_eur", v["loyer_annuel_eur"])
    out["siret_occupant"] = c.siret(
        row, "siret_occupant", _identifier_text(c, row, "siret_occupant", v["siret_occupant"])
    )
    out["mode_occupation"] = v["mode_occupation"] or None
    out["date_debut"] = c.date(row, "date_debut", v["date_debut"])
    out["date_fin"] = c.date(row, "date_fin", v["date_fin"])
    if out["date_debut"] and out["date_fin"] and out["date_fin"] < out["date_debut"]:
        c.reject(row, "date_fin", "date de fin antérieure à la date de début")
    return out


# The CNIG Friches standard's vocabulary (site_statut, site_type) in the dashboard's words.
CNIG_FRICHE_STATUSES = {
    "friche sans projet": "disponible",
    "friche avec projet": "à l'étude",
    "site avec projet": "à l'étude",
    "friche potentielle": "à l'étude",
    "friche reconvertie": "attribué",
}


def _cnig_friche_word(c: _Checker, row: int, col: str, text: str) -> str:
    """A CNIG Friches status or site type ("friche industrielle") as a dashboard value, warned."""
    key = normalise_name(text)
    if col == "statut":
        value = {normalise_name(k): v for k, v in CNIG_FRICHE_STATUSES.items()}.get(key)
    else:
        value = "friche" if key.startswith("friche") or key == "mixte" else None
    if value is None or normalise_name(value) == key:
        return text
    c.warn(row, col, f"« {text} » (standard CNIG Friches) lu « {value} »")
    return value


# GEOS's reasons (shapely.is_valid_reason, how they start) in French.
_GEOMETRY_DEFECTS = {
    "Self-intersection": "polygone auto-intersecté",
    "Ring Self-intersection": "contour qui se recoupe",
    "Too few points": "trop peu de points",
    "Hole lies outside shell": "trou en dehors du contour",
    "Interior is disconnected": "intérieur en plusieurs morceaux",
    "Nested holes": "trous imbriqués",
    "Nested shells": "polygones imbriqués",
    "Duplicate Rings": "contours en double",
    "Invalid Coordinate": "coordonnée non finie",
    "Ring is not closed": "contour non fermé",
}
_POLYGONAL = ("Polygon", "MultiPolygon")
# A parcel may overhang the MEL's bounding box a little, never by more than this (degrees).
_BBOX_MARGIN = 0.05


def geometry_defect(geom) -> str | None:
    """Why `geom` is invalid, in French (None when it is valid)."""
    if shapely.is_valid(geom):
        return None
    reason = (shapely.is_valid_reason(geom) or "").split("[", 1)[0].strip()
    for key, label in _GEOMETRY_DEFECTS.items():
        if reason.startswith(key):
            return label
    return f"géométrie invalide ({reason or 'raison inconnue'})"


def repair_geometry(geom):
    """A valid version of `geom`, or None when nothing usable is left.

    `shapely.make_valid`, then, for a polygon, only its polygonal parts (a bow-tie becomes two
    triangles; a polygon flattened into a line has none left).
    """
    if geom is None or geom.is_empty:
        return None
    if shapely.is_valid(geom):
        return geom
    try:
        fixed = shapely.make_valid(geom)
        if geom.geom_type in _POLYGONAL and fixed.geom_type not in _POLYGONAL:
            parts = [p for p in shapely.get_parts(fixed) if p.geom_type in _POLYGONAL]
            fixed = shapely.union_all(parts) if parts else None
    except shapely.errors.GEOSException:
        return None
    if fixed is None or fixed.is_empty or not shapely.is_valid(fixed):
        return None
    return fixed


def _land_geometry(c: _Checker, row: int, shape) -> str | None:
    """The WKT to store for a land site's geometry, repaired if need be; None when rejected."""
    if shape.is_empty:
        c.reject(row, "geometry", "géométrie vide")
        return None
    defect = geometry_defect(shape)
    if defect is not None:
        fixed = repair_geometry(shape)
        if fixed is None:
            c.reject(row, "geometry", f"{defect} : géométrie impossible à réparer")
            return None
        c.warn(row, "geometry", f"{defect} : géométrie réparée")
        shape = fixed
    xmin, ymin, xmax, ymax = shape.bounds
    lon_min, lat_min, lon_max, lat_max = MEL_BBOX
    point = shape.representative_point()
    inside = (
        in_mel(point.x, point.y)
        and xmin >= lon_min - _BBOX_MARGIN
        and ymin >= lat_min - _BBOX_MARGIN
        and xmax <= lon_max + _BBOX_MARGIN
        and ymax <= lat_max + _BBOX_MARGIN
    )
    if not inside and in_mel(point.y, point.x):
        c.warn(row, "geometry", "latitude et longitude étaient inversées : remises en ordre")
        return shapely.transform(shape, lambda xy: xy[:, ::-1]).wkt
    if not inside:
        c.reject(row, "geometry", "géométrie hors de la Métropole européenne de Lille")
        return None
    return shape.wkt


_RULES: dict[str, Callable[[_Checker, int, dict[str, str]], dict]] = {
    "grants": _check_grant,
    "structures": _check_structure,
    "land": _check_land,
}


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value).strip()


_DTYPES = {"str": "object", "date": "object", "int": "Int64", "float": "float64", "bool": "boolean"}


def typed_frame(records: list[dict], kind: str, rows: list[int]) -> pd.DataFrame:
    """Canonical columns of `kind` in model order, with model dtypes (dates as ISO strings)."""
    columns = model.SCHEMAS[kind]
    data = {}
    for col in columns:
        values = [r.get(col.name) for r in records]
        if col.dtype == "float":
            values = [float("nan") if x is None else float(x) for x in values]
        data[col.name] = pd.Series(values, dtype=_DTYPES[col.dtype])
    frame = pd.DataFrame(data)
    frame.index = pd.Index(rows, name="ligne", dtype="int64")
    return frame


def validate(
    df: pd.DataFrame, kind: str, *, file_name: str
) -> tuple[pd.DataFrame, list[dict], list[dict]]:
    """Split canonical-named string rows into accepted rows and rejects, with warnings.

    `df` holds the file's values (any column subset of the model; extra columns are ignored) and is
    indexed by spreadsheet row number (a 0-based RangeIndex is read as rows 2, 3, ...). Returns the
    accepted rows as a typed frame with every canonical column, the rejects as
    {"row", "column", "reason"} (a row may appear several times: it counts once), and the warnings
    as {"row", "column", "message"} (row None for file-level remarks).
    """
    if kind not in _RULES:
        raise ValueError(f"type de données inconnu : « {kind} »")
    names = [c.name for c in model.SCHEMAS[kind]]
    present = {c for c in df.columns if c in names}
    checker = _Checker(kind, file_name, present)
    _file_level_warnings(checker, kind, present)
    id_col = ID_COLUMN[kind]
    seen_ids: dict[str, int] = {}
    records: list[dict] = []
    kept_rows: list[int] = []
    columns = [c for c in names if c in present]
    rows = row_numbers(df)
    for row, values in zip(rows, df[columns].itertuples(index=False, name=None), strict=True):
        v = dict.fromkeys(names, "")
        v.update({c: _as_text(x) for c, x in zip(columns, values, strict=True)})
        checker.row_rejected = False
        out = _RULES[kind](checker, row, v)
        ident = out.get(id_col)
        if ident:
            if ident in seen_ids:
                what = "ligne identique à" if not v[id_col] else "identifiant déjà utilisé"
                checker.reject(row, id_col, f"doublon : {what} la ligne {seen_ids[ident]}")
            else:
                seen_ids[ident] = row
        if not checker.row_rejected:
            records.append(out)
            kept_rows.append(row)
    return typed_frame(records, kind, kept_rows), checker.rejects, checker.warnings


def _file_level_warnings(c: _Checker, kind: str, present: set[str]) -> None:
    if kind != "grants":
        return
    if not {"axe", "priorite"} & present:
        c.warn(None, "axe", "colonnes axe et priorité absentes : axe/priorité à compléter")
    if "annee" not in present:
        c.warn(None, "annee", "colonne année absente : année déduite de la date de convention")
    if "id_subvention" not in present:
        c.warn(None, "id_subvention", "colonne identifiant absente : identifiants générés")
    missing = [col for col in _SCDL_TO_COMPLETE if col not in present]
    if missing:
        c.warn(
            None,
            ",".join(missing),
            "colonnes obligatoires du SCDL absentes (à compléter avant publication) : "
            + ", ".join(missing),
        )


def count_rejected(rejects: list[dict]) -> int:
    """Number of distinct rows among reject entries."""
    return len({r["row"] for r in rejects})


# --- conformity with the official SCDL Table Schema (frictionless) ------------------------------


def scdl_columns_in(columns: list[str]) -> dict[str, str]:
    """Source column -> SCDL field, for columns named like SCDL fields (any case or accents)."""
    wanted = {normalise_name(c.name): c.name for c in model.SCDL_COLUMNS}
    found: dict[str, str] = {}
    for column in columns:
        target = wanted.get(normalise_name(column))
        if target and target not in found.values():
            found[column] = target
    return found


def looks_like_scdl(columns: list[str]) -> bool:
    """Most SCDL columns (10 of the 14 common to 2.0 and 2.1) are there under their SCDL names."""
    return len(scdl_columns_in(columns)) >= 10


_TYPE_FR = {
    "number": "un nombre écrit avec un point décimal (ex. 1234.5)",
    "date": "une date AAAA-MM-JJ",
    "boolean": "« oui » ou « non »",
    "string": "du texte",
}


def _constraint_fr(field: dict, name: str, cell: object) -> str:
    constraints = field.get("constraints", {})
    if name == "required":
        return "valeur obligatoire manquante"
    if name == "enum":
        allowed = " | ".join(constraints["enum"])
        return f"« {_short(str(cell))} » hors des valeurs autorisées ({allowed})"
    if name == "pattern":
        hints = {
            "datesPeriodeVersement": "AAAA-MM-JJ ou AAAA-MM-JJ/AAAA-MM-JJ",
            "idAttribuant": "14 chiffres",
            "idBeneficiaire": "14 chiffres",
            "rnaBeneficiaire": "W suivi de 9 chiffres",
        }
        return f"« {_short(str(cell))} » ne respecte pas le format {hints.get(field['name'], '')}"
    if name == "maxLength":
        return f"texte trop long (maximum {constraints['maxLength']} caractères)"
    if name in ("minimum", "maximum"):
        return f"« {cell} » hors de l'intervalle 0,01 à 1"
    return f"contrainte « {name} » non respectée"


def check_scdl_conformity(frame: pd.DataFrame) -> tuple[str | None, list[dict]]:
    """Validate a file that looks like SCDL against the official Table Schema with frictionless.

    `frame` is the file as read (original header names, strings, indexed by spreadsheet row).
    Returns (version checked or None when the file does not look like SCDL, findings as
    {"row", "column", "message"} in French). Findings describe conformity to the published
    standard; they never decide whether a row is imported (see `validate`).
    """
    columns = [str(c) for c in frame.columns]
    if not looks_like_scdl(columns):
        return None, []
    from frictionless import Detector, Resource, Schema  # local: slow to import

    found = scdl_columns_in(columns)
    version = "2.1.1" if set(found.values()) & set(V2_1_ONLY) else "2.0.2"
    prefix = f"Conformité SCDL {version} : "
    try:
        descriptor = scdl_table_schema(version)
    except SchemaUnavailableError as exc:  # offline without the official file: say so, import
        return version, [{"row": None, "column": "", "message": prefix + f"non vérifiée. {exc}"}]
    fields = {f["name"]: f for f in descriptor["fields"]}
    findings: list[dict] = []
    for name, field in fields.items():
        if field.get("constraints", {}).get("required") and name not in found.values():
            findings.append(
                {"row": None, "column": name, "message": prefix + "colonne obligatoire absente"}
            )
    for source, target in found.items():
        if source != target:
            findings.append(
                {
                    "row": None,
                    "column": source,
                    "message": prefix + f"colonne « {source} » à renommer « {target} »",
                }
            )
    order = [found[c] for c in columns if c in found and found[c] in fields]
    expected = [name for name in fields if name in order]
    if order != expected:
        first = next(i for i, (a, b) in enumerate(zip(order, expected, strict=True)) if a != b)
        findings.append(
            {
                "row": None,
                "column": order[first],
                "message": prefix
                + f"colonnes dans un ordre différent du schéma (« {order[first]} » à la place "
                f"de « {expected[first]} », position {first + 1})",
            }
        )
    sources = [s for s in found if found[s] in fields]
    header = [found[s] for s in sources]
    rows = row_numbers(frame)
    data = [header] + [
        [_as_text(x) for x in values]
        for values in frame[sources].itertuples(index=False, name=None)
    ]
    resource = Resource(
        data=data, schema=Schema.from_descriptor(descriptor), detector=Detector(schema_sync=True)
    )
    report = resource.validate(limit_errors=100_000)
    for task in report.tasks:
        for error in task.errors:
            number = getattr(error, "row_number", None)
            row = (
                rows[number - 2]
                if isinstance(number, int) and 2 <= number <= len(rows) + 1
                else None
            )
            column = getattr(error, "field_name", None) or ""
            field = fields.get(column, {"name": column})
            cell = getattr(error, "cell", "")
            if error.type == "type-error":
                text = f"« {_short(str(cell))} » n'est pas {_TYPE_FR.get(field.get('type'), '')}"
            elif error.type == "constraint-error":
                match = re.search(r'constraint "(\w+)"', error.note or "")
                text = _constraint_fr(field, match.group(1) if match else "", cell)
            elif error.type == "blank-row":
                continue
            else:
                text = f"anomalie de structure ({error.type})"
            findings.append({"row": row, "column": column, "message": prefix + text})
    return version, findings
