"""Import one of the City's files: read, map columns, validate, optionally enrich, then store.

Optional steps, in this order, on the accepted rows: SIRENE enrichment of structures (ESS flag,
legal form, position and diffusion status from their SIRET), then geocoding of the addresses still
without coordinates. An import replaces the stored dataset of its kind (grants, structures or
land) with the accepted rows of the file; `loaders.store.undo_last` brings the previous one back. A
file whose rows are all rejected leaves the store unchanged. The report says, in French, what was
read, what was accepted, what was rejected and why (row and column), and what was normalised on
the way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders import mapping as mapping_mod
from loaders import validation
from loaders.formulas import neutralise, spreadsheet_csv
from loaders.readers_tabular import (
    ImportFileError,
    RawTable,
    cell_text,
    read_tabular,
)

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp", ".kml")
KIND_LABELS = mapping_mod.KIND_LABELS


@dataclass
class ImportReport:
    """What an import did; `to_json()` is the machine-readable summary written by --report."""

    file: str
    kind: str
    sha256: str
    read: int
    accepted: int
    rejected: int
    rejects: list[dict]
    warnings: list[dict]
    accepted_df: pd.DataFrame
    conformity: list[dict] = field(default_factory=list)
    scdl_version: str | None = None
    mapping: dict = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    stored: bool = False
    source_frame: pd.DataFrame | None = None  # the file's own columns and values, by row
    malformed: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        """{"read", "accepted", "rejected", "rejects": [{"row", "column", "reason"}], ...}."""
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejects": [
                {"row": r["row"], "column": r["column"], "reason": r["reason"]}
                for r in self.rejects
            ],
            "warnings": self.warnings,
            "conformite_scdl": self.conformity,
            "fichier": self.file,
            "type": self.kind,
            "sha256": self.sha256,
            "enregistre": self.stored,
        }

    def summary_fr(self) -> str:
        """A few French lines for the command line and the interface."""
        label = KIND_LABELS.get(self.kind, self.kind)
        lines = [
            f"Fichier « {self.file} » ({label}) : {self.read} ligne(s) lue(s), "
            f"{self.accepted} acceptée(s), {self.rejected} rejetée(s).",
            *self.notes,
        ]
        if self.ignored_columns:
            lines.append("Colonnes ignorées : " + ", ".join(self.ignored_columns) + ".")
        if self.warnings:
            count = len(self.warnings)
            lines.append(f"{count} avertissement(s) (valeurs normalisées ou à compléter).")
        if self.scdl_version:
            lines.append(
                f"Conformité au schéma SCDL {self.scdl_version} : "
                + (f"{len(self.conformity)} écart(s)." if self.conformity else "aucun écart.")
            )
        for reject in self.rejects[:10]:
            column = f", colonne {reject['column']}" if reject["column"] else ""
            lines.append(f"  Ligne {reject['row']}{column} : {reject['reason']}")
        if len(self.rejects) > 10:
            lines.append(f"  … et {len(self.rejects) - 10} autre(s) motif(s) de rejet.")
        if self.dry_run:
            lines.append("Simulation : rien n'a été enregistré.")
        elif self.stored:
            lines.append("Données enregistrées (commande « undo » pour annuler).")
        else:
            lines.append("Aucune ligne acceptée : les données enregistrées sont inchangées.")
        return "\n".join(lines)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_vector_table(path: Path, file_name: str) -> RawTable:
    """A land file as GeoJSON/GeoPackage/Shapefile: attributes as strings, points as lat/lon."""
    try:
        from loaders.readers import ReaderError, read_vector
    except ImportError:  # pragma: no cover - loaders/readers.py is part of the project
        import geopandas as gpd

        def read_vector(p):  # noqa: ANN001, ANN202 - same contract as loaders.readers
            return gpd.read_file(p).to_crs("EPSG:4326")

        ReaderError = ValueError  # noqa: N806
    try:
        gdf = read_vector(path)
    except ReaderError as exc:
        raise ImportFileError(str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - GDAL and JSON errors on a user file
        raise ImportFileError(
            f"Impossible de lire « {file_name} » : fichier géographique illisible "
            f"({type(exc).__name__})"
        ) from exc
    frame = pd.DataFrame(
        {c: [cell_text(v) for v in gdf[c]] for c in gdf.columns if c != gdf.geometry.name},
        dtype=object,
    )
    geoms = gdf.geometry
    is_point = (geoms.geom_type == "Point").to_numpy()
    pairs = list(zip(is_point, geoms, strict=True))
    frame["lat"] = ["" if not p or g is None else repr(g.y) for p, g in pairs]
    frame["lon"] = ["" if not p or g is None else repr(g.x) for p, g in pairs]
    frame["geometry"] = ["" if p or g is None or g.is_empty else g.wkt for p, g in pairs]
    frame.index = pd.Index(range(1, len(frame) + 1), name="ligne")
    note = "Fichier géographique : une ligne par entité, numérotées à partir de 1."
    return RawTable(file_name, frame, [], None, None, None, [note])


def _read(
    path: Path, kind: str, file_name: str, sheet: str | None, fix_mojibake: bool = False
) -> RawTable:
    if kind == "land" and path.suffix.lower() in VECTOR_SUFFIXES:
        return _with_site_ids(_read_vector_table(path, file_name), path)
    raw = read_tabular(
        path,
        sheet=sheet,
        file_name=file_name,
        header_score=lambda cells: mapping_mod.recognised_count(cells, kind),
        fix_mojibake=fix_mojibake,
    )
    return _cnig_friches(raw) if kind == "land" else raw


def _cnig_friches(raw: RawTable) -> RawTable:
    """A CNIG Friches table (Cartofriches export): declared missing values ("NA") blanked, and
    one geometry column, the site's outline (geomsurf) else its centroid (geompoint)."""
    columns = set(raw.columns)
    if not {"site_id", "geompoint"} <= columns:
        return raw
    from loaders.readers import MISSING_VALUES

    frame = raw.frame.map(lambda v: "" if isinstance(v, str) and v.strip() in MISSING_VALUES else v)
    if "geomsurf" in columns:
        frame["geomsurf"] = frame["geomsurf"].where(frame["geomsurf"] != "", frame["geompoint"])
        frame = frame.drop(columns="geompoint")
    raw.frame = frame
    raw.notes.append(
        "Fichier au standard CNIG Friches : valeurs « NA » lues comme vides ; géométrie du "
        "périmètre (geomsurf), sinon du centroïde (geompoint) ; statuts CNIG traduits."
    )
    return raw


def _with_site_ids(raw: RawTable, path: Path) -> RawTable:
    """Sites without any identifier (KML placemarks: an empty `id`) numbered after the file."""
    ids = [c for c in raw.columns if mapping_mod.suggest_mapping([c], "land").get(c) == "site_id"]
    if any(raw.frame[c].map(lambda v: bool(str(v).strip())).any() for c in ids):
        return raw
    numbers = [f"{path.stem}-{n}" for n in raw.frame.index]
    if ids:
        raw.frame[ids[0]] = numbers
    else:
        raw.frame.insert(0, "site_id", numbers)
    raw.notes.append(
        f"Aucune colonne d'identifiant : sites numérotés « {path.stem}-1 », « {path.stem}-2 »…"
    )
    return raw


def _blank_after_mapping(canonical: pd.DataFrame) -> pd.Index:
    """Rows with no value in any recognised column (a note, a subtotal in ignored columns)."""
    if canonical.empty or not len(canonical.columns):
        return canonical.index
    filled = canonical.apply(lambda col: col.map(lambda v: bool(str(v or "").strip())))
    return canonical.index[~filled.any(axis=1).to_numpy()]


def import_file(
    path: str | Path,
    kind: str,
    *,
    mapping: dict[str, str | None] | str | None = None,
    dry_run: bool = False,
    geocode: bool = False,
    sirene: bool = False,
    sirene_base_url: str | None = None,
    sheet: str | None = None,
    file_name: str | None = None,
    fix_mojibake: bool = False,
) -> ImportReport:
    """Import a CSV/XLSX file (or a GeoJSON/GeoPackage for land) of `kind` into the local store.

    `mapping` is a saved mapping name or {source column: canonical column or None}; columns it does
    not cover are recognised automatically. With `dry_run` nothing is written.

    With `sirene` (structures only; other kinds get a warning), accepted rows go through
    `loaders.sirene.enrich_sirets`: gaps in est_ess, forme_juridique, lat/lon and statut_diffusion
    are filled from API Recherche d'entreprises; `sirene_base_url` points it at another host (a
    mirror, or a local server in tests; default: the public API). Rows that turn out "P" stay in
    the store and in the counts; loaders.datasets hides them. With `geocode`, rows without
    coordinates then go through `loaders.geocode.geocode_missing`, "P" rows excepted (they are
    never shown, so their address is not sent). Network trouble in either step only adds warnings.

    Values that look like mojibake ("DÃ©partemental") are reported with a proposed repair, applied
    when `fix_mojibake`. A row with no value in any recognised column is one reject ("ligne vide
    après correspondance"), never several.

    Raises ImportFileError (French) when the file cannot be read at all, or when none of the
    essential columns of `kind` is recognised (`mapping.diagnose_columns`: expected names and
    the closest ones found); malformed rows are rejects, never dropped: read = accepted + rejected.
    """
    if kind not in mapping_mod.KINDS:
        raise ValueError(f"type de données inconnu : « {kind} »")
    path = Path(path)
    name = file_name or path.name
    raw = _read(path, kind, name, sheet, fix_mojibake)
    sha = file_sha256(path)

    given = mapping_mod.load_mapping(mapping) if isinstance(mapping, str) else mapping
    used = mapping_mod.resolve_mapping(raw.columns, kind, given)
    diagnosis = mapping_mod.diagnose_columns(raw.columns, used, kind)
    if diagnosis:
        raise ImportFileError(f"Fichier « {name} » : {diagnosis}")
    ignored = [c for c, target in used.items() if target is None]
    canonical = raw.frame[[c for c, t in used.items() if t]].rename(columns=used)
    blank = _blank_after_mapping(canonical)

    accepted, rejects, warnings = validation.validate(
        canonical.drop(index=blank), kind, file_name=name
    )
    rejects.extend(
        {
            "row": int(row),
            "column": "",
            "reason": "ligne vide après correspondance des colonnes (seules des colonnes "
            "ignorées sont remplies)",
        }
        for row in blank
    )
    file_warnings = list(raw.warnings) + [
        {"row": None, "column": c, "message": f"colonne ignorée : « {c} » (non reconnue)"}
        for c in ignored
    ]
    for bad in raw.malformed:
        rejects.append({"row": bad["row"], "column": "", "reason": bad["reason"]})
    rejects.sort(key=lambda r: (r["row"], r["column"]))
    warnings = file_warnings + warnings

    version, conformity = (None, [])
    if kind == "grants":
        version, conformity = validation.check_scdl_conformity(raw.frame)

    read = len(raw.frame) + len(raw.malformed)
    rejected = validation.count_rejected(rejects)
    if read != len(accepted) + rejected:  # pragma: no cover - guaranteed by validate()
        raise AssertionError("read != accepted + rejected")

    notes = list(raw.notes)
    if sirene and len(accepted):
        if kind == "structures":
            accepted, sirene_warnings, sirene_note = _enrich_from_sirene(accepted, sirene_base_url)
            warnings.extend(sirene_warnings)
            notes.append(sirene_note)
        else:
            warnings.append(
                {
                    "row": None,
                    "column": "",
                    "message": "enrichissement SIRENE non appliqué : il ne concerne que les "
                    "structures",
                }
            )

    if geocode and len(accepted):
        try:
            from loaders.geocode import geocode_missing
        except ImportError:
            warnings.append(
                {
                    "row": None,
                    "column": "",
                    "message": "géocodage indisponible (module loaders.geocode absent)",
                }
            )
        else:
            private = _is_private(accepted)
            if private.all():
                geo_warnings: list = []
            elif private.any():
                # "P" rows are never shown: their address is not sent to the geocoder.
                located, geo_warnings = geocode_missing(accepted.loc[~private])
                accepted = pd.concat([located, accepted.loc[private]]).loc[accepted.index]
            else:
                # Same rows back, with lat/lon filled where the address was found.
                accepted, geo_warnings = geocode_missing(accepted)
            warnings.extend(
                w if isinstance(w, dict) else {"row": None, "column": "adresse", "message": str(w)}
                for w in geo_warnings
            )

    report = ImportReport(
        file=name,
        kind=kind,
        sha256=sha,
        read=read,
        accepted=len(accepted),
        rejected=rejected,
        rejects=rejects,
        warnings=warnings,
        accepted_df=accepted,
        conformity=conformity,
        scdl_version=version,
        mapping=used,
        ignored_columns=ignored,
        notes=notes,
        dry_run=dry_run,
        source_frame=raw.frame,
        malformed=raw.malformed,
    )
    if not dry_run and len(accepted):
        from loaders import store

        store.write_import(
            kind,
            accepted,
            {
                "file": name,
                "sha256": sha,
                "kind": kind,
                "read": report.read,
                "accepted": report.accepted,
                "rejected": report.rejected,
                "warnings": len(warnings),
            },
        )
        report.stored = True
        _prepare_pages(report)
    return report


def _prepare_pages(report: ImportReport) -> None:
    """Post-import hook: builds the enrichment cache now, so no page view waits for it."""
    from loaders.pipeline import warm

    if warm() is None:
        report.notes.append(
            "L'enrichissement spatial n'a pas pu être préparé : il sera calculé à l'affichage "
            "de la première page (détails dans le journal du serveur)."
        )


_SIRET_AT_START = re.compile(r"SIRET (\d{14})\b")
_SIRENE_COLUMNS = ("est_ess", "forme_juridique", "lat", "lon", "statut_diffusion")


def _is_private(df: pd.DataFrame) -> pd.Series:
    """Rows with SIRENE diffusion status "P" (never shown, see loaders.datasets)."""
    if "statut_diffusion" not in df.columns:
        return pd.Series(False, index=df.index)
    status = df["statut_diffusion"].astype("string").str.strip().str.upper()
    return status.eq("P").fillna(False).astype(bool)


def _enrich_from_sirene(
    accepted: pd.DataFrame, base_url: str | None
) -> tuple[pd.DataFrame, list[dict], str]:
    """Structures completed from their SIRET, their warnings as {row, column, message}, a note.

    enrich_sirets speaks per SIRET ("SIRET 123… : …"); SIRETs are unique among accepted rows, so
    each such warning is pinned to its row. Service-wide warnings keep row None.
    """
    from loaders.sirene import enrich_sirets

    enriched, messages = enrich_sirets(accepted, base_url=base_url)
    enriched["est_ess"] = enriched["est_ess"].astype("boolean")  # model dtype, as validated

    rows_by_siret: dict[str, list[int]] = {}
    for row, siret in accepted["siret"].items():
        if isinstance(siret, str):
            rows_by_siret.setdefault(siret, []).append(int(row))
    warnings = []
    for message in messages:
        match = _SIRET_AT_START.match(message)
        rows = rows_by_siret.get(match.group(1), []) if match else []
        warnings.append(
            {
                "row": rows[0] if len(rows) == 1 else None,
                "column": "est_ess" if "ESS France" in message else "siret",
                "message": message,
            }
        )

    before = accepted[list(_SIRENE_COLUMNS)].isna().to_numpy()
    after = enriched[list(_SIRENE_COLUMNS)].isna().to_numpy()
    completed = int((before & ~after).any(axis=1).sum())
    private = int(_is_private(enriched).sum())
    note = (
        f"Enrichissement SIRENE (API Recherche d'entreprises) : {completed} structure(s) "
        f"complétée(s) sur {len(enriched)}."
    )
    if private:
        note += (
            f" {private} structure(s) en diffusion partielle (statut P) : conservée(s) mais "
            "jamais affichée(s) ni exportée(s)."
        )
    return enriched, warnings, note


def _safe_cell(value: object) -> str:
    """Neutralise spreadsheet formulas in a value we hand back (CSV injection, loaders.formulas)."""
    return neutralise("" if value is None else str(value))


def rejects_csv(report: ImportReport) -> bytes:
    """Rejected rows as typed in the file, plus columns and reasons (UTF-8 BOM, `;`: for Excel)."""
    source = report.source_frame if report.source_frame is not None else pd.DataFrame()
    columns = [str(c) for c in source.columns]
    by_row: dict[int, list[dict]] = {}
    for reject in report.rejects:
        by_row.setdefault(reject["row"], []).append(reject)
    malformed = {m["row"]: m["values"] for m in report.malformed}
    lines = [["ligne", *columns, "colonnes en cause", "motifs du rejet"]]
    for row in sorted(by_row):
        if row in malformed:
            values = list(malformed[row])
            values = values[: len(columns) - 1] + [";".join(values[len(columns) - 1 :])]
            values += [""] * (len(columns) - len(values))
        elif row in source.index:
            values = [cell_text(v) for v in source.loc[row].tolist()]
        else:
            values = [""] * len(columns)
        entries = by_row[row]
        lines.append(
            [
                row,
                *(_safe_cell(v) for v in values),
                ", ".join(dict.fromkeys(e["column"] for e in entries if e["column"])),
                _safe_cell(" | ".join(e["reason"] for e in entries)),
            ]
        )
    return spreadsheet_csv(lines)


def warnings_csv(report: ImportReport) -> bytes:
    """Every warning of the import, one per line: row, column, message (UTF-8 BOM, `;`)."""
    header = ["ligne", "colonne", "avertissement"]
    return spreadsheet_csv(
        [header]
        + [[w["row"], _safe_cell(w["column"]), _safe_cell(w["message"])] for w in report.warnings]
    )
