"""Display tables: the accessible twins of the maps, with French headers and French formats.

Values are pre-formatted strings (12 345 €, 23/06/2021) because the interface must read in French
whatever the browser's locale; exports carry the raw numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from geo.formatting import fmt_date, fmt_eur, fmt_int, fmt_m, fmt_number, fmt_pct

GRANT_COLUMNS = {
    "id_subvention": "Identifiant",
    "nomBeneficiaire": "Bénéficiaire",
    "objet": "Objet",
    "annee": "Année",
    "axe": "Axe",
    "priorite": "Priorité",
    "dispositif": "Dispositif",
    "montant": "Montant attribué",
    "montant_verse": "Montant versé",
    "dateConvention": "Date de convention",
    "nom_commune": "Commune",
    "nom_quartier": "Quartier",
    "nom_qpv": "QPV",
    "dist_qpv_m": "Distance au QPV",
}


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(None, index=df.index, dtype=object)


def _fmt(series: pd.Series, formatter) -> pd.Series:
    return series.map(formatter).astype(str)


def grants_table(grants: pd.DataFrame) -> pd.DataFrame:
    """One row per grant, in the order of the input."""
    out = pd.DataFrame(index=grants.index)
    for col, label in GRANT_COLUMNS.items():
        series = _col(grants, col)
        if col in ("montant", "montant_verse"):
            series = _fmt(pd.to_numeric(series, errors="coerce"), fmt_eur)
        elif col == "dateConvention":
            series = _fmt(series, fmt_date)
        elif col == "dist_qpv_m":
            series = _fmt(pd.to_numeric(series, errors="coerce"), fmt_m)
        elif col in ("annee", "axe", "priorite"):
            series = pd.to_numeric(series, errors="coerce").astype("Int64").astype(str)
            series = series.replace("<NA>", "—")
        else:
            series = series.astype(object).where(series.notna(), "—").astype(str)
        out[label] = series.to_numpy()
    return out.reset_index(drop=True)


def money_table(df: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Formats a numeric indicator table: euros, counts, shares and per-inhabitant values.

    Columns are recognised by name: ``montant*``/``*_cumule``/``eur_par_habitant`` are euros,
    ``part*`` shares, ``projets``/``nb_*``/``population`` counts. ``labels`` renames and orders.
    """
    out = pd.DataFrame(index=df.index)
    for col, label in labels.items():
        if col not in df.columns:
            continue
        series = df[col]
        if col == "eur_par_habitant" or col.endswith("_par_habitant"):
            out[label] = _fmt(pd.to_numeric(series, errors="coerce"), lambda v: fmt_eur(v, 2))
        elif col.startswith("montant") or col.endswith("_cumule"):
            out[label] = _fmt(pd.to_numeric(series, errors="coerce"), fmt_eur)
        elif col.startswith("part"):
            out[label] = _fmt(pd.to_numeric(series, errors="coerce"), fmt_pct)
        elif col in ("projets", "population", "etablissements_ess") or col.startswith("nb_"):
            out[label] = _fmt(pd.to_numeric(series, errors="coerce"), fmt_int)
        elif "_pour_1000" in col:
            out[label] = _fmt(
                pd.to_numeric(series, errors="coerce"),
                lambda v: fmt_number(v, 2),
            )
        else:
            out[label] = series.astype(object).where(series.notna(), "—").astype(str)
    return out


def land_table(land: pd.DataFrame, structures: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per land site; the occupant's name comes from the structures when it is known.

    Structures with diffusion status P are absent from ``structures``, so their name never shows.
    """
    names = {}
    if structures is not None and len(structures):
        names = dict(zip(structures["siret"].astype(str), structures["nom"], strict=False))
    occupant = _col(land, "siret_occupant").map(
        lambda s: names.get(str(s), "—") if isinstance(s, str) and s else "—"
    )
    return pd.DataFrame(
        {
            "Site": _col(land, "nom").astype(str).to_numpy(),
            "Type": _col(land, "type").astype(str).to_numpy(),
            "Statut": _col(land, "statut").astype(str).to_numpy(),
            "Surface": _fmt(
                pd.to_numeric(_col(land, "surface_m2"), errors="coerce"),
                lambda v: "—" if pd.isna(v) else f"{fmt_int(v)} m²",
            ).to_numpy(),
            "Occupant": occupant.to_numpy(),
            "Mode d'occupation": _col(land, "mode_occupation").fillna("—").astype(str).to_numpy(),
            "Début": _fmt(_col(land, "date_debut"), fmt_date).to_numpy(),
            "Fin": _fmt(_col(land, "date_fin"), fmt_date).to_numpy(),
            "Loyer annuel": _fmt(
                pd.to_numeric(_col(land, "loyer_annuel_eur"), errors="coerce"), fmt_eur
            ).to_numpy(),
            "Quartier": _col(land, "nom_quartier").fillna("—").astype(str).to_numpy(),
            "Distance au QPV": _fmt(
                pd.to_numeric(_col(land, "dist_qpv_m"), errors="coerce"), fmt_m
            ).to_numpy(),
        }
    )


def location_table(points: pd.DataFrame) -> pd.DataFrame:
    """The map's points as rows: one per place, with its grants and their total."""
    return pd.DataFrame(
        {
            "Bénéficiaire(s)": points["nom"].astype(str).to_numpy(),
            "Subventions": points["nb_subventions"].map(fmt_int).to_numpy(),
            "Montant total": points["montant_total"].map(fmt_eur).to_numpy(),
            "Longitude": points.geometry.x.round(5).to_numpy(),
            "Latitude": points.geometry.y.round(5).to_numpy(),
        }
    )


TABLE_PAGE_ROWS = 200  # rows sent to the browser per page of a long table
FULL_DATA_NOTE = "la sélection complète est dans le téléchargement"


@dataclass(frozen=True)
class TablePage:
    """Which rows of a long table one page shows: rows ``start`` to ``stop - 1`` (0-based)."""

    start: int
    stop: int
    page: int  # 1-based, clamped to 1..pages
    pages: int
    total: int

    def caption(self, note: str = FULL_DATA_NOTE) -> str | None:
        """French caption when the page shows part of the rows (``note`` says where the rest
        is); None when it shows them all."""
        if self.pages <= 1:
            return None
        if self.page == 1:
            shown = f"{fmt_int(self.stop)} premières lignes"
        else:
            shown = f"Lignes {fmt_int(self.start + 1)} à {fmt_int(self.stop)}"
        return f"{shown} sur {fmt_int(self.total)} — {note}"


def table_page(total: int, page: int = 1, size: int = TABLE_PAGE_ROWS) -> TablePage:
    """The slice of a ``total``-row table shown on ``page`` (clamped), ``size`` rows a page.

    Long tables are sent to the browser a page at a time: 10 000 formatted rows cost seconds
    and megabytes on every rerun, while the full selection is one download away.
    """
    if size < 1:
        raise ValueError(f"Taille de page invalide : {size}")
    total = max(int(total), 0)
    pages = max(math.ceil(total / size), 1)
    page = min(max(int(page), 1), pages)
    start = (page - 1) * size
    return TablePage(start, min(start + size, total), page, pages, total)


def rejects_table(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejected cells of an import (row, column, reason) with French headers."""
    return pd.DataFrame(
        {
            "Ligne": rejects["row"].to_numpy(),
            "Colonne": rejects["column"].fillna("").astype(str).replace("", "—").to_numpy(),
            "Motif": rejects["reason"].to_numpy(),
        }
    )


WARNING_EXAMPLES = 5  # rows listed per kind of import warning
_QUOTED = re.compile(r"«[^»]*»")
_NUMBER = re.compile(r"\d(?:[\d\s.,]*\d)?")


def warning_kind(message: str) -> str:
    """The warning with its values masked: « 1 500,50 » lu 1500.5 -> « … » lu …."""
    return _NUMBER.sub("…", _QUOTED.sub("« … »", str(message)))


def warnings_summary(warnings: list[dict]) -> pd.DataFrame:
    """Import warnings grouped by column and kind (``warning_kind``): how many rows, which first.

    A large file can raise tens of thousands of warnings, most of them the same normalisation
    with other values; one line per kind reads at a glance, the full list is a download away.
    """
    columns = ["Colonne", "Avertissement", "Lignes", "Premières lignes", "Exemple"]
    if not warnings:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(warnings, columns=["row", "column", "message"])
    # File-level warnings (a missing column, say) have no row: they sort last and show « — ».
    frame["row"] = pd.to_numeric(frame["row"], errors="coerce").astype("Int64")
    frame = frame.sort_values("row", kind="stable", na_position="last")
    frame["column"] = frame["column"].fillna("").astype(str)
    frame["kind"] = frame["message"].map(warning_kind)
    summary = (
        frame.groupby(["column", "kind"], sort=False)
        .agg(
            count=("message", "size"),
            rows=("row", lambda r: [int(x) for x in r.dropna()]),
            example=("message", "first"),
        )
        .reset_index()
        .sort_values("count", ascending=False, kind="stable")
    )

    def first_rows(rows: list[int]) -> str:
        if not rows:
            return "—"
        text = ", ".join(str(r) for r in rows[:WARNING_EXAMPLES])
        more = len(rows) - WARNING_EXAMPLES
        return text + (f" … (+{fmt_int(more)})" if more > 0 else "")

    return pd.DataFrame(
        {
            "Colonne": summary["column"].replace("", "—").to_numpy(),
            "Avertissement": summary["kind"].to_numpy(),
            "Lignes": summary["count"].map(fmt_int).to_numpy(),
            "Premières lignes": summary["rows"].map(first_rows).to_numpy(),
            "Exemple": summary["example"].to_numpy(),
        },
        columns=columns,
    )
