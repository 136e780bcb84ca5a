"""The filters shared by every page, their effect on grants, and their place in the URL.

A ``Filters`` is normalised on creation (sorted unique lists, ints, floats, stripped text) so that
``from_query_params(to_query_params(f)) == f`` always holds. Empty lists and None mean "no
filter". Default values are left out of the URL; values that cannot be read are ignored.

URL parameters: ``annees=2021-2023``, ``axes=1,2``, ``priorites=3,7``, ``communes=59350,59298``,
``quartiers=1,5``, ``dispositifs=A|B`` and ``formes=Association|SCOP`` (``|`` because labels may
hold commas), ``qpv=dans_qpv``, ``montant_min=1000``, ``montant_max=50000``, ``q=texte``,
``feuille=2021-2023`` (the strategy's roadmap, ``ROADMAPS``: intersected with the year filter),
``periode=precedent`` or ``periode=tout`` (``PERIODS``; the default, the strategy 2021-2026, is
left out of the URL).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace

import pandas as pd

from geo import status as geo_status
from geo.formatting import fmt_eur

QPV_MODES = {
    "tous": "Tous les projets",
    "dans_qpv": "Dans un QPV",
    "pres_qpv": "Dans un QPV ou à proximité",
    "hors_qpv": "Hors QPV et hors proximité",
}
AXES = range(1, 5)
# The strategy's two roadmaps (deliberation of 23/06/2021): years they cover, both ends included.
ROADMAPS = {"2021-2023": (2021, 2023), "2024-2026": (2024, 2026)}
# Which years of grants the figures cover: by default the strategy's own period, so that grants of
# an earlier plan (kept on import and flagged ``hors_periode``) never count against its envelope.
PERIODS: dict[str, tuple[str, tuple[int, int] | None]] = {
    "strategie": ("Stratégie 2021-2026", (2021, 2026)),
    "precedent": ("Plan précédent 2016-2020", (2016, 2020)),
    "tout": ("Toutes les années", None),
}
DEFAULT_PERIOD = "strategie"
PRIORITIES = range(1, 21)
_TEXT_SEP = "|"
_CODE_SEP = ","


def _ints(values, allowed: range | None = None) -> list[int]:
    out = set()
    for v in values or []:
        try:
            number = float(v)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(number) or not number.is_integer():
            continue
        if allowed is None or int(number) in allowed:
            out.add(int(number))
    return sorted(out)


def _texts(values) -> list[str]:
    return sorted({str(v).strip() for v in values or [] if v is not None and str(v).strip()})


def _amount(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class Filters:
    """What the user selected; the defaults select everything."""

    years: tuple[int, int] | None = None
    axes: list[int] = field(default_factory=list)
    priorities: list[int] = field(default_factory=list)
    dispositifs: list[str] = field(default_factory=list)
    legal_forms: list[str] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    quartiers: list[str] = field(default_factory=list)
    qpv_mode: str = "tous"
    amount_min: float | None = None
    amount_max: float | None = None
    text: str = ""
    roadmap: str | None = None  # a key of ROADMAPS, None for the whole strategy
    period: str = DEFAULT_PERIOD  # a key of PERIODS

    def __post_init__(self) -> None:
        years = _ints(self.years or [])
        self.years = (years[0], years[-1]) if years else None
        self.axes = _ints(self.axes, AXES)
        self.priorities = _ints(self.priorities, PRIORITIES)
        self.dispositifs = _texts(self.dispositifs)
        self.legal_forms = _texts(self.legal_forms)
        self.communes = _texts(self.communes)
        self.quartiers = _texts(self.quartiers)
        self.qpv_mode = self.qpv_mode if self.qpv_mode in QPV_MODES else "tous"
        self.amount_min = _amount(self.amount_min)
        self.amount_max = _amount(self.amount_max)
        if (
            self.amount_min is not None
            and self.amount_max is not None
            and self.amount_min > self.amount_max
        ):
            self.amount_min, self.amount_max = self.amount_max, self.amount_min
        self.text = " ".join(str(self.text or "").split())
        self.roadmap = self.roadmap if self.roadmap in ROADMAPS else None
        self.period = self.period if self.period in PERIODS else DEFAULT_PERIOD

    @property
    def amount_range(self) -> tuple[float | None, float | None]:
        """(min, max) in euros, None for an open end."""
        return self.amount_min, self.amount_max

    def year_bounds(self) -> tuple[int, int] | None:
        """The years kept by the year filter, the roadmap and the period together (None: all).

        An empty intersection gives (first, last) with first > last, which keeps nothing.
        """
        period = PERIODS[self.period][1]
        bounds = [b for b in (self.years, ROADMAPS.get(self.roadmap or ""), period) if b]
        if not bounds:
            return None
        return max(b[0] for b in bounds), min(b[1] for b in bounds)

    def is_default(self) -> bool:
        """True when nothing is filtered."""
        return self == Filters()


def _fold(series: pd.Series) -> pd.Series:
    """Lower-case, accent-free text for searching ("Élan" -> "elan")."""
    return (
        series.astype(object)
        .where(series.notna(), "")
        .astype(str)
        .str.normalize("NFKD")
        .str.encode("ascii", "ignore")
        .str.decode("ascii")
        .str.casefold()
    )


def _fold_text(text: str) -> str:
    return _fold(pd.Series([text])).iloc[0]


def _structure_column(grants: pd.DataFrame, structures: pd.DataFrame | None, col: str) -> pd.Series:
    """A structure attribute for each grant, through idBeneficiaire -> siret."""
    if structures is None or col not in structures.columns or "idBeneficiaire" not in grants:
        return pd.Series(None, index=grants.index, dtype=object)
    keyed = structures.assign(_siret=structures["siret"].astype(str)).drop_duplicates("_siret")
    lookup = keyed.set_index("_siret")[col]
    ids = grants["idBeneficiaire"]
    return ids.astype(str).where(ids.notna()).map(lookup)


def dispositif_column(grants: pd.DataFrame) -> pd.Series:
    """The grant's scheme: ``dispositif`` if present, else ``dispositifAide``, else ``objet``."""
    for col in ("dispositif", "dispositifAide", "objet"):
        if col in grants.columns:
            return grants[col]
    return pd.Series(None, index=grants.index, dtype=object)


def apply(grants: pd.DataFrame, structures: pd.DataFrame | None, filters: Filters) -> pd.DataFrame:
    """The grants that pass every filter (same type and index as ``grants``).

    ``pres_qpv`` keeps grants inside a QPV or within the buffer (``near_qpv``); ``hors_qpv`` keeps
    the located grants known to be neither (``geo.status``): a grant without a place, or whose
    QPV list is not loaded, is in none of the three. The legal form is the grant's
    ``forme_juridique`` if present, else its beneficiary's. The text is searched in the
    beneficiary's name, the structure's name and the grant's object, ignoring case and accents.
    """
    mask = pd.Series(True, index=grants.index)
    if filters.year_bounds() and "annee" in grants.columns:  # land sites have no year
        year = pd.to_numeric(grants["annee"], errors="coerce")
        mask &= year.between(*filters.year_bounds())
    if filters.axes:
        mask &= pd.to_numeric(grants["axe"], errors="coerce").isin(filters.axes)
    if filters.priorities:
        mask &= pd.to_numeric(grants["priorite"], errors="coerce").isin(filters.priorities)
    if filters.dispositifs:
        mask &= dispositif_column(grants).isin(filters.dispositifs)
    if filters.legal_forms:
        forms = (
            grants["forme_juridique"]
            if "forme_juridique" in grants.columns
            else _structure_column(grants, structures, "forme_juridique")
        )
        mask &= forms.isin(filters.legal_forms)
    if filters.communes:
        mask &= grants["code_commune"].astype(object).isin(filters.communes)
    if filters.quartiers:
        mask &= grants["code_quartier"].astype(object).isin(filters.quartiers)
    if filters.qpv_mode != "tous":
        status = geo_status.qpv_status(grants)
        kept = {
            "dans_qpv": [geo_status.INSIDE],
            "pres_qpv": [geo_status.INSIDE, geo_status.NEAR],
            "hors_qpv": [geo_status.AWAY],
        }[filters.qpv_mode]
        mask &= status.isin(kept)
    if filters.amount_min is not None or filters.amount_max is not None:
        amount = pd.to_numeric(grants["montant"], errors="coerce")
        if filters.amount_min is not None:
            mask &= amount >= filters.amount_min
        if filters.amount_max is not None:
            mask &= amount <= filters.amount_max
    if filters.text:
        needle = _fold_text(filters.text)
        hay = pd.Series("", index=grants.index)
        for col in ("nomBeneficiaire", "objet", "nom"):
            if col in grants.columns:
                hay = hay + " " + _fold(grants[col])
        hay = hay + " " + _fold(_structure_column(grants, structures, "nom"))
        mask &= hay.str.contains(needle, regex=False)
    return grants[mask.to_numpy()]


def _number_text(x: float) -> str:
    return str(int(x)) if x.is_integer() else repr(x)


def to_query_params(filters: Filters) -> dict[str, str]:
    """URL parameters for the non-default filters."""
    params: dict[str, str] = {}
    if filters.years:
        params["annees"] = f"{filters.years[0]}-{filters.years[1]}"
    if filters.roadmap:
        params["feuille"] = filters.roadmap
    if filters.period != DEFAULT_PERIOD:
        params["periode"] = filters.period
    for key, values in (
        ("axes", filters.axes),
        ("priorites", filters.priorities),
        ("communes", filters.communes),
        ("quartiers", filters.quartiers),
    ):
        if values:
            params[key] = _CODE_SEP.join(str(v) for v in values)
    for key, values in (("dispositifs", filters.dispositifs), ("formes", filters.legal_forms)):
        if values:
            params[key] = _TEXT_SEP.join(values)
    if filters.qpv_mode != "tous":
        params["qpv"] = filters.qpv_mode
    if filters.amount_min is not None:
        params["montant_min"] = _number_text(filters.amount_min)
    if filters.amount_max is not None:
        params["montant_max"] = _number_text(filters.amount_max)
    if filters.text:
        params["q"] = filters.text
    return params


def from_query_params(params: dict) -> Filters:
    """Filters from URL parameters; unknown keys and unreadable values are ignored.

    Values may be strings or lists of strings (as some frameworks return repeated keys).
    """

    def get(key: str) -> str:
        value = params.get(key, "")
        if isinstance(value, list | tuple):
            value = value[-1] if value else ""
        return str(value) if value is not None else ""

    def split(key: str, sep: str) -> list[str]:
        return [part for part in get(key).split(sep) if part.strip()]

    years = None
    parts = get("annees").split("-")
    if len(parts) == 2:
        numbers = _ints(parts)
        if len(numbers) in (1, 2) and all(p.strip() for p in parts):
            years = tuple(numbers)
    elif len(parts) == 1 and parts[0].strip():
        years = tuple(_ints(parts))
    return Filters(
        years=years or None,
        axes=_ints(split("axes", _CODE_SEP), AXES),
        priorities=_ints(split("priorites", _CODE_SEP), PRIORITIES),
        communes=split("communes", _CODE_SEP),
        quartiers=split("quartiers", _CODE_SEP),
        dispositifs=split("dispositifs", _TEXT_SEP),
        legal_forms=split("formes", _TEXT_SEP),
        qpv_mode=get("qpv") or "tous",
        amount_min=_amount(get("montant_min")) if get("montant_min") else None,
        amount_max=_amount(get("montant_max")) if get("montant_max") else None,
        text=get("q"),
        roadmap=get("feuille").strip() or None,
        period=get("periode").strip() or DEFAULT_PERIOD,
    )


# Filters that make sense for any located record (land sites...), not only for grants.
PLACE_FIELDS = ("communes", "quartiers", "qpv_mode", "text")


def only(filters: Filters, names: Iterable[str]) -> Filters:
    """The same filters with every field outside ``names`` back to its default."""
    keep = set(names)
    default = Filters()
    return replace(
        filters,
        **{f.name: getattr(default, f.name) for f in fields(Filters) if f.name not in keep},
    )


def _series(values: list, singular: str, plural: str) -> str:
    return f"{singular if len(values) == 1 else plural} {', '.join(values)}"


def describe(
    filters: Filters,
    *,
    names: Mapping[str, Mapping[str, str]] | None = None,
    qpv_missing: Iterable[str] = (),
) -> list[str]:
    """The active filters in French, one phrase each, in the sidebar's order.

    ``names`` maps "communes" and "quartiers" to {code: name}; ``qpv_missing`` lists the QPV lists
    the data would need but are not loaded, said next to a QPV filter.
    """
    names = names or {}
    parts = []
    if filters.roadmap:
        parts.append(f"feuille de route {filters.roadmap}")
    if filters.period != DEFAULT_PERIOD:
        parts.append(f"période « {PERIODS[filters.period][0]} »")
    if filters.years:
        first, last = filters.years
        parts.append(f"année {first}" if first == last else f"années {first} à {last}")
    if filters.axes:
        parts.append(_series([str(a) for a in filters.axes], "axe", "axes"))
    if filters.priorities:
        parts.append(_series([str(p) for p in filters.priorities], "priorité", "priorités"))
    if filters.dispositifs:
        quoted = [f"« {d} »" for d in filters.dispositifs]
        parts.append(_series(quoted, "dispositif", "dispositifs"))
    if filters.legal_forms:
        quoted = [f"« {f} »" for f in filters.legal_forms]
        parts.append(_series(quoted, "forme juridique", "formes juridiques"))
    for key, singular, plural in (
        ("communes", "commune", "communes"),
        ("quartiers", "quartier", "quartiers"),
    ):
        codes = getattr(filters, key)
        if codes:
            lookup = names.get(key, {})
            parts.append(_series([str(lookup.get(c, c)) for c in codes], singular, plural))
    if filters.qpv_mode != "tous":
        phrase = QPV_MODES[filters.qpv_mode].lower().replace("qpv", "QPV")
        missing = list(qpv_missing)
        if missing:
            phrase += f" — {geo_status.qpv_missing_reason(missing)}"
        parts.append(phrase)
    low, high = filters.amount_range
    if low is not None and high is not None:
        parts.append(f"montant de {fmt_eur(low)} à {fmt_eur(high)}")
    elif low is not None:
        parts.append(f"montant d'au moins {fmt_eur(low)}")
    elif high is not None:
        parts.append(f"montant d'au plus {fmt_eur(high)}")
    if filters.text:
        parts.append(f"recherche « {filters.text} »")
    return parts


def nothing_to_show(
    filters: Filters,
    *,
    subject: str = "Aucune subvention",
    names: Mapping[str, Mapping[str, str]] | None = None,
    qpv_missing: Iterable[str] = (),
    extra: Iterable[str] = (),
) -> str:
    """The French message of an empty selection, naming the filters that empty it.

    « Aucune subvention ne correspond aux filtres : recherche « zzz ». Modifiez ou réinitialisez
    les filtres. » Without any active filter: « Aucune subvention à afficher. » ``extra`` adds
    phrases for a page's own filters (« statut « disponible » »).
    """
    parts = describe(filters, names=names, qpv_missing=qpv_missing) + list(extra)
    if not parts:
        return f"{subject} à afficher."
    return (
        f"{subject} ne correspond aux filtres : {' ; '.join(parts)}. "
        "Modifiez ou réinitialisez les filtres."
    )


def territory_names(layers: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """{"communes": {code: name}, "quartiers": {code: name}} from the loaded layers."""
    out: dict[str, dict[str, str]] = {}
    for key, layer_name, code, name in (
        ("communes", "communes", "code", "nom"),
        ("quartiers", "quartiers", "code_quartier", "nom_quartier"),
    ):
        layer = layers.get(layer_name)
        if layer is not None and {code, name} <= set(layer.columns):
            out[key] = dict(zip(layer[code].astype(str), layer[name].astype(str), strict=True))
    return out


def empty_selection_message(
    filters: Filters,
    records: pd.DataFrame,
    layers: Mapping[str, object],
    *,
    subject: str = "Aucune subvention",
    extra: Iterable[str] = (),
) -> str:
    """``nothing_to_show`` with the territory names of ``layers`` and the missing QPV lists.

    ``records`` is the whole dataset before filtering: the QPV lists its years need and that are
    not loaded are named next to a QPV filter (« dans un QPV — couche QPV non chargée »).
    """
    missing = geo_status.missing_qpv_lists(records, geo_status.loaded_qpv_lists(layers))
    return nothing_to_show(
        filters,
        subject=subject,
        names=territory_names(layers),
        qpv_missing=missing,
        extra=extra,
    )
