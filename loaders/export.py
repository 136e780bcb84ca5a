"""Downloads of the activity datasets: SCDL for publication, French Excel CSV/XLSX, GeoJSON, GPKG.

Every export names its sources and their last update date (Licence Ouverte), says so when the data
are the fictional demo set, and neutralises spreadsheet formulas in text cells (CSV/XLSX), because
a file downloaded from the dashboard is opened in Excel by people who did not write its content.
Which cells are neutralised is decided in one place, loaders.formulas: `=HYPERLINK(...)` or
`-2+3` get a leading apostrophe, `-Association Avenir` and `-12,5` do not; the importer removes
that apostrophe again, so an export can be imported back unchanged.

Choices (documented in the report to the lead and tested):
- csv/xlsx use the French labels of `loaders.model`; geojson/gpkg keep the canonical column names
  (they are for reuse by software, not for reading).
- Demo data: csv and xlsx get a first column `Avertissement` repeating the warning on every row (a
  comment line above the header would break CSV parsers); xlsx also states it at the top of the
  "Sources" sheet; geojson gets a top-level `avertissement` member; gpkg an `avertissement`
  column and a row in its `sources` table. SCDL export of demo data is refused: SCDL is for
  publication.
- Sources: xlsx has a "Sources" sheet, geojson a top-level `sources` member, gpkg a non-spatial
  `sources` table, csv a last column `Sources` repeated on each row (no sidecar file is possible
  from a download button, and trailing lines would break parsers).
- Rows with `statut_diffusion == "P"` (partial SIRENE diffusion) are never exported.
- SCDL and status P: a grant to a structure whose SIRENE diffusion is partial reaches the export
  as loaders.datasets leaves it, named « Structure non diffusible » with neither SIRET nor RNA.
  The official schema requires one of `idBeneficiaire` or `rnaBeneficiaire` (custom check
  one-of-required) and the identity of such a beneficiary, a natural person who opposed the
  diffusion of its SIRENE data, may not be published: these grants are
  left out of the SCDL file, and their count and amount are stated next to the download and in
  the command line's report (`scdl_withheld`). Every other row must pass the schema, or the export
  is refused with the reasons in French.
- The SCDL file is written verbatim (no formula neutralisation: it is a machine format whose
  patterns the prefix would break) and only after it validates against the official schema.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.formatting import fmt_date, fmt_decimal, fmt_eur, fmt_int
from geo.indicators import amounts
from loaders import scdl_schema
from loaders.formulas import neutralise, spreadsheet_csv
from loaders.model import SCDL_COLUMNS, SCHEMAS, parse_bool, siret_is_valid

FORMATS = ("scdl", "csv", "xlsx", "geojson", "gpkg")
DEMO_WARNING = "Données fictives de démonstration — ne pas réutiliser"
SCDL_VERSION = scdl_schema.SCDL_VERSION
MAX_REPORTED_ERRORS = 10

# French labels of the columns added by enrichment and geocoding (not part of loaders.model).
EXTRA_LABELS = {
    "code_commune": "Code commune",
    "nom_commune": "Territoire",
    "code_quartier": "Code quartier",
    "nom_quartier": "Quartier",
    "code_iris": "Code IRIS",
    "qpv_generation": "Liste QPV",
    "code_qpv": "Code QPV",
    "nom_qpv": "QPV",
    "dist_qpv_m": "Distance au QPV (m)",
    "near_qpv": "Dans ou près d'un QPV",
    "commune_conflict": "Incohérence commune",
    "geocodage_score": "Score de géocodage",
    "geocodage_label": "Adresse géocodée",
    "geocodage_statut": "Statut du géocodage",
}

_ERROR_TYPES_FR = {
    "type-error": "valeur d'un type incorrect",
    "constraint-error": "contrainte du schéma non respectée",
    "missing-label": "colonne manquante",
    "extra-label": "colonne en trop",
    "incorrect-label": "nom de colonne incorrect",
    "missing-cell": "cellule manquante",
    "extra-cell": "cellule en trop",
    "blank-row": "ligne vide",
    "duplicate-label": "colonne en double",
}
_NUMBER = re.compile(r"^\s*[+-]?\d+(?:[.,]\d+)?\s*$")
_FR_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


class ExportError(Exception):
    """An export was refused or failed; the message (French) says why and what to do."""


def export_dataset(
    df: pd.DataFrame | gpd.GeoDataFrame,
    kind: str,
    fmt: str,
    path: Path | None = None,
    *,
    demo: bool,
    sources: list[dict] | None = None,
) -> bytes:
    """Serialise `df` (a `kind` of loaders.model.SCHEMAS) as `fmt`; write it to `path` if given."""
    if kind not in SCHEMAS:
        raise ExportError(f"Jeu de données inconnu : « {kind} » (attendu : {', '.join(SCHEMAS)}).")
    if fmt not in FORMATS:
        raise ExportError(f"Format d'export inconnu : « {fmt} » (attendu : {', '.join(FORMATS)}).")
    df = _public_rows(df)
    sources = list(sources or [])
    if fmt == "scdl":
        payload = _scdl(df, kind, demo)
    elif fmt == "csv":
        payload = _csv(df, kind, demo, sources)
    elif fmt == "xlsx":
        payload = _xlsx(df, kind, demo, sources)
    elif fmt == "geojson":
        payload = _geojson(df, kind, demo, sources)
    else:
        payload = _gpkg(df, kind, demo, sources)
    if path is not None:
        _write_atomic(Path(path), payload)
    return payload


# ---------------------------------------------------------------- values and columns


def _public_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Drop units whose SIRENE diffusion is partial: they are never shown nor exported."""
    if "statut_diffusion" not in df.columns:
        return df
    partial = df["statut_diffusion"].astype(object).map(lambda v: str(v).strip().upper() == "P")
    return df.loc[~partial.to_numpy(dtype=bool)]


def _columns(df: pd.DataFrame, kind: str) -> list[tuple[str, str, str]]:
    """(name, dtype, French label) of the exported columns: the model's, then the extra ones."""
    geometry_name = df.active_geometry_name if isinstance(df, gpd.GeoDataFrame) else None
    model = [(c.name, c.dtype, c.label) for c in SCHEMAS[kind] if c.name in df.columns]
    known = {name for name, _, _ in model}
    extra = [
        (str(name), "auto", EXTRA_LABELS.get(str(name), str(name)))
        for name in df.columns
        if name not in known and name != geometry_name
    ]
    model = [col for col in model if col[0] != geometry_name]
    return model + extra


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return not math.isfinite(float(value))
    return False


def _parse_number(text: str) -> int | float | None:
    if not _NUMBER.match(text):
        return None
    cleaned = text.strip().replace(",", ".")
    number = float(cleaned)
    return int(number) if "." not in cleaned else number


def _parse_date(text: str) -> date | None:
    text = text.strip()
    match = _FR_DATE.match(text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _cell(value, dtype: str):
    """A plain Python value (None, bool, int, float, date or str) for a cell of type `dtype`."""
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp | datetime):
        value = value.date()
    if isinstance(value, bool):
        return value if dtype in ("bool", "auto") else str(value)
    if isinstance(value, int | float):
        if dtype == "str":
            return str(int(value)) if float(value).is_integer() else str(value)
        if dtype == "int" and float(value).is_integer():
            return int(value)
        return value
    if isinstance(value, date):
        return value if dtype in ("date", "auto") else value.isoformat()
    text = str(value)
    parsed = None
    if dtype == "bool":
        parsed = parse_bool(text)
    elif dtype == "date":
        parsed = _parse_date(text)
    elif dtype in ("int", "float"):
        parsed = _parse_number(text)
    return text if parsed is None else parsed


def _rows(df: pd.DataFrame, columns: list[tuple[str, str, str]]) -> list[list]:
    values = [df[name].astype(object).tolist() for name, _, _ in columns]
    kinds = [dtype for _, dtype, _ in columns]
    return [[_cell(v, kinds[j]) for j, v in enumerate(row)] for row in zip(*values, strict=True)]


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float):
        return fmt_decimal(value)
    if isinstance(value, date):
        return fmt_date(value)
    return neutralise(value)


def _source_date(source: dict) -> date | None:
    value = source.get("mis_a_jour")
    if _missing(value):
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_date(str(value))


def _source_line(source: dict) -> str:
    updated = _source_date(source)
    when = (
        f"mise à jour le {fmt_date(updated)}" if updated else "date de mise à jour non renseignée"
    )
    producer = source.get("producteur")
    text = str(source.get("nom") or "source sans nom")
    if producer:
        text += f" ({producer})"
    text += f", {when}"
    if source.get("licence"):
        text += f", {source['licence']}"
    return text


def _sources_text(sources: list[dict]) -> str:
    if not sources:
        return "Source non renseignée"
    return " ; ".join(_source_line(s) for s in sources)


# ---------------------------------------------------------------- csv / xlsx


def _csv(df: pd.DataFrame, kind: str, demo: bool, sources: list[dict]) -> bytes:
    columns = _columns(df, kind)
    labels = [label for _, _, label in columns]
    return csv_bytes(labels, _rows(df, columns), demo, sources)


def csv_bytes(labels: list[str], rows, demo: bool, sources: list[dict]) -> bytes:
    """French-Excel CSV (`;`, CRLF, UTF-8 BOM): demo warning column first, sources column last.

    Every export in CSV goes through here, so they all neutralise formulas and name their
    sources the same way.
    """
    header = [neutralise(label) for label in labels]
    body = [[_csv_text(v) for v in row] for row in rows]
    if demo:
        header = ["Avertissement", *header]
        body = [[DEMO_WARNING, *row] for row in body]
    header.append("Sources")
    sources_text = neutralise(_sources_text(sources))
    body = [[*row, sources_text] for row in body]
    return spreadsheet_csv([header, *body])


def _xlsx_value(value):
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, str):
        return neutralise(value)
    return value


def _xlsx(df: pd.DataFrame, kind: str, demo: bool, sources: list[dict]) -> bytes:
    # Imported here: openpyxl takes a tenth of a second to import and only XLSX exports need it.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    columns = _columns(df, kind)
    book = Workbook()
    sheet = book.active
    sheet.title = "Données"
    header = [neutralise(label) for _, _, label in columns]
    if demo:
        header = ["Avertissement", *header]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _rows(df, columns):
        values = [_xlsx_value(v) for v in row]
        sheet.append([DEMO_WARNING, *values] if demo else values)
    for column_cells in sheet.iter_cols(min_row=2):
        for cell in column_cells:
            if isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    for index, label in enumerate(header, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
            10, min(50, len(label) + 2)
        )

    meta = book.create_sheet("Sources")
    if demo:
        meta.append([DEMO_WARNING])
        meta["A1"].font = Font(bold=True, color="C00000")
        meta.append([])
    meta.append(["Source", "Producteur", "Dernière mise à jour", "Licence"])
    for cell in meta[meta.max_row]:
        cell.font = Font(bold=True)
    if not sources:
        meta.append(["Source non renseignée"])
    for source in sources:
        updated = _source_date(source)
        meta.append(
            [
                neutralise(str(source.get("nom") or "")),
                neutralise(str(source.get("producteur") or "")),
                updated,
                neutralise(str(source.get("licence") or "")),
            ]
        )
        if updated:
            meta.cell(row=meta.max_row, column=3).number_format = "DD/MM/YYYY"
    for letter, width in zip("ABCD", (45, 45, 20, 25), strict=True):
        meta.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- geojson / gpkg


def _geodataframe(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """The rows as a GeoDataFrame in EPSG:4326 (from its geometry, lat/lon or WKT)."""
    if isinstance(df, gpd.GeoDataFrame) and df.active_geometry_name in df.columns:
        gdf = df
        if gdf.crs is None:
            gdf = gdf.set_crs("EPSG:4326")
        return gdf.to_crs("EPSG:4326")
    for lat, lon in (("lat", "lon"), ("lat_projet", "lon_projet")):
        if lat in df.columns and lon in df.columns:
            ys = pd.to_numeric(df[lat], errors="coerce").to_numpy(dtype=float)
            xs = pd.to_numeric(df[lon], errors="coerce").to_numpy(dtype=float)
            points = shapely.points(xs, ys)
            points[np.isnan(xs) | np.isnan(ys)] = None
            return gpd.GeoDataFrame(df, geometry=points, crs="EPSG:4326")
    if "geometry" in df.columns:
        geoms = shapely.from_wkt(df["geometry"].astype(object).to_numpy(), on_invalid="ignore")
        frame = df.drop(columns=["geometry"])
        return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")
    raise ExportError(
        "Export géographique impossible : le tableau n'a ni géométrie ni colonnes lat/lon."
    )


def _json_value(value):
    return value.isoformat() if isinstance(value, date) else value


def _source_members(sources: list[dict]) -> list[dict]:
    members = []
    for source in sources:
        updated = _source_date(source)
        member = {
            "nom": source.get("nom"),
            "producteur": source.get("producteur"),
            "mis_a_jour": updated.isoformat() if updated else None,
        }
        if source.get("licence"):
            member["licence"] = source["licence"]
        members.append(member)
    return members


def _geojson(df: pd.DataFrame, kind: str, demo: bool, sources: list[dict]) -> bytes:
    gdf = _geodataframe(df)
    columns = _columns(gdf, kind)
    names = [name for name, _, _ in columns]
    geometries = gdf.geometry.to_numpy()
    texts = shapely.to_geojson(geometries)
    features = []
    for row, geom, text in zip(_rows(gdf, columns), geometries, texts, strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": {n: _json_value(v) for n, v in zip(names, row, strict=True)},
                "geometry": None if geom is None or geom.is_empty else json.loads(text),
            }
        )
    collection: dict = {"type": "FeatureCollection", "name": kind}
    if demo:
        collection["avertissement"] = DEMO_WARNING
    collection["sources"] = _source_members(sources)
    collection["features"] = features
    return json.dumps(collection, ensure_ascii=False).encode("utf-8")


def _gpkg_column(values: list, dtype: str) -> pd.Series:
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        if None in values:
            return pd.Series(values, dtype="boolean")
        return pd.Series(values, dtype=bool)
    if kinds and kinds <= {int, float} and dtype != "str":
        return pd.Series([np.nan if v is None else v for v in values], dtype=float)
    if kinds == {date}:
        return pd.Series(pd.to_datetime(values))
    return pd.Series([None if v is None else str(v) for v in values], dtype=object)


def _gpkg(df: pd.DataFrame, kind: str, demo: bool, sources: list[dict]) -> bytes:
    gdf = _geodataframe(df)
    columns = _columns(gdf, kind)
    rows = _rows(gdf, columns)
    data = {
        name: _gpkg_column([row[j] for row in rows], dtype)
        for j, (name, dtype, _) in enumerate(columns)
    }
    if demo:
        data = {"avertissement": pd.Series([DEMO_WARNING] * len(rows), dtype=object), **data}
    out = gpd.GeoDataFrame(data, geometry=list(gdf.geometry.to_numpy()), crs="EPSG:4326")
    table = pd.DataFrame(
        _source_members(sources) or [{"nom": "Source non renseignée"}],
        columns=["nom", "producteur", "mis_a_jour", "licence"],
    ).astype(object)
    if demo:
        table = pd.concat(
            [table, pd.DataFrame([{"nom": DEMO_WARNING}], columns=table.columns)],
            ignore_index=True,
        ).astype(object)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"{kind}.gpkg"
        out.to_file(target, layer=kind, driver="GPKG", engine="pyogrio")
        pyogrio.write_dataframe(table, target, layer="sources", driver="GPKG")
        return target.read_bytes()


# ---------------------------------------------------------------- SCDL


def load_scdl_schema() -> dict:
    """The official SCDL subventions 2.1.1 Table Schema (loaders.scdl_schema), or ExportError."""
    try:
        return scdl_schema.load_scdl_schema()
    except scdl_schema.SchemaUnavailableError as exc:
        raise ExportError(f"Export SCDL impossible : {exc}") from exc


def _scdl_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return np.format_float_positional(value, trim="-")
    if isinstance(value, date):
        return value.isoformat()
    return value.strip()


def _scdl_extra_checks(rows: list[list[str]]) -> list[str]:
    """The schema's custom checks, which frictionless does not run (SIRET keys, one-of-required)."""
    index = {c.name: i for i, c in enumerate(SCDL_COLUMNS)}
    problems = []
    for number, row in enumerate(rows, start=2):
        attribuant, beneficiaire = row[index["idAttribuant"]], row[index["idBeneficiaire"]]
        if attribuant and not siret_is_valid(attribuant):
            problems.append(f"ligne {number}, colonne « idAttribuant » : SIRET invalide")
        if beneficiaire and not siret_is_valid(beneficiaire):
            problems.append(f"ligne {number}, colonne « idBeneficiaire » : SIRET invalide")
        if not beneficiaire and not row[index["rnaBeneficiaire"]]:
            problems.append(
                f"ligne {number} : il faut un SIRET (idBeneficiaire) ou un numéro RNA "
                "(rnaBeneficiaire) du bénéficiaire"
            )
    return problems


def validate_scdl(payload: bytes, descriptor: dict) -> list[str]:
    """French descriptions of what makes `payload` break the SCDL schema (empty: valid)."""
    from frictionless import Resource, Schema

    schema = Schema.from_descriptor(descriptor)
    report = Resource(payload, format="csv", encoding="utf-8", schema=schema).validate()
    problems = []
    for row_number, field, kind, note in report.flatten(["rowNumber", "fieldName", "type", "note"]):
        where = f"ligne {row_number}" if row_number else "fichier"
        if field:
            where += f", colonne « {field} »"
        problems.append(f"{where} : {_ERROR_TYPES_FR.get(kind, kind)} ({note})")
    return problems


def _non_diffusible(df: pd.DataFrame) -> pd.Series:
    """Grants whose beneficiary has SIRENE diffusion status P (as loaders.datasets hides them)."""
    from loaders.datasets import HIDDEN_NAME

    if "nomBeneficiaire" not in df.columns:
        return pd.Series(False, index=df.index)

    def blank(column: str) -> pd.Series:
        if column not in df.columns:
            return pd.Series(True, index=df.index)
        return df[column].astype(object).map(lambda v: _missing(v) or not str(v).strip())

    named = df["nomBeneficiaire"].astype(object).map(lambda v: str(v).strip() == HIDDEN_NAME)
    return named & blank("idBeneficiaire") & blank("rnaBeneficiaire")


def scdl_withheld(df: pd.DataFrame) -> tuple[int, float]:
    """(count, committed euros) of the grants the SCDL export leaves out (status P)."""
    hidden = _non_diffusible(df).to_numpy(dtype=bool)
    return int(hidden.sum()), float(amounts(df.loc[hidden]).sum())


def scdl_withheld_text(df: pd.DataFrame) -> str | None:
    """The French sentence saying what the SCDL export left out, None when nothing was."""
    count, amount = scdl_withheld(df)
    if not count:
        return None
    return (
        f"{fmt_int(count)} subvention(s) pour {fmt_eur(amount, 2)} non publiée(s) : bénéficiaire "
        "dont l'INSEE ne diffuse pas l'identité (statut de diffusion partielle) ; le SCDL exige "
        "son SIRET ou son numéro RNA."
    )


def _scdl(df: pd.DataFrame, kind: str, demo: bool) -> bytes:
    if kind != "grants":
        raise ExportError("Le format SCDL ne concerne que les subventions.")
    if demo:
        raise ExportError(
            "Export SCDL refusé : ce sont les données fictives de démonstration. Le format SCDL "
            "sert à publier des données réelles ; importez les subventions de la Ville d'abord."
        )
    missing = [c.name for c in SCDL_COLUMNS if c.required and c.name not in df.columns]
    if missing:
        raise ExportError(
            "Export SCDL impossible : colonnes obligatoires absentes : " + ", ".join(missing) + "."
        )
    df = df.loc[~_non_diffusible(df).to_numpy(dtype=bool)]
    descriptor = load_scdl_schema()
    columns = [(c.name, c.dtype, c.label) for c in SCDL_COLUMNS]
    frame = df.copy()
    for name, _, _ in columns:
        if name not in frame.columns:
            frame[name] = None
    rows = [[_scdl_text(v) for v in row] for row in _rows(frame, columns)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")
    writer.writerow([name for name, _, _ in columns])
    writer.writerows(rows)
    payload = buffer.getvalue().encode("utf-8")
    problems = _scdl_extra_checks(rows) + validate_scdl(payload, descriptor)
    if problems:
        shown = problems[:MAX_REPORTED_ERRORS]
        more = len(problems) - len(shown)
        suffix = f" (et {more} autre(s) erreur(s))" if more else ""
        raise ExportError(
            f"Export SCDL refusé : le fichier ne respecte pas le schéma subventions "
            f"{SCDL_VERSION} — " + " ; ".join(shown) + suffix + "."
        )
    return payload


# ---------------------------------------------------------------- writing


def _write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
