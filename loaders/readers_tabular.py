"""Read the City's spreadsheets (CSV or XLSX) as plain strings, whatever Excel or a portal produced.

Everything comes out as text so that validation, not the reader, decides what a value means, and so
that a rejected row can be handed back exactly as it was typed. Files are only ever parsed: never
executed, unpickled or evaluated (XLSX formulas are read as their cached values, never computed).

An XLSX workbook is a zip archive: its declared uncompressed size is checked (loaders.archives)
before openpyxl opens it. A leading apostrophe that a neutralising export put before a formula
trigger (`'=SUM(A1)`, see loaders.formulas) is removed from every cell, so that our own exports
can be imported back unchanged.

Row numbers follow what a spreadsheet user sees: the header is row 1, the first data row is row 2.
For a CSV file a "row" is a record: a quoted field spanning several lines still counts as one row,
exactly as Excel or LibreOffice display it. Blank rows keep their number but are not data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders.archives import ArchiveTooLargeError, check_zip

MAX_FILE_BYTES = 50 * 1024 * 1024
SEPARATORS = (";", ",", "\t")
SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 avec BOM",
    "cp1252": "Windows-1252",
    "mixte": "mixte (UTF-8 et Windows-1252 selon les lignes)",
}
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc

# A single huge field must not make the whole file unreadable: the file-size cap is the real limit.
csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))


class ImportFileError(ValueError):
    """The file cannot be read at all (message in French, names the file and what is wrong)."""


@dataclass
class RawTable:
    """The strings of a file: well-formed rows in `frame`, the others in `malformed`.

    `frame` has one str column per header name (made unique) and is indexed by the spreadsheet row
    number. `malformed` holds {"row", "values", "reason"} for rows with a wrong number of fields.
    """

    file_name: str
    frame: pd.DataFrame
    malformed: list[dict] = field(default_factory=list)
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)  # {"row", "column", "message"}
    header_row: int = 1

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def _fail(file_name: str, what: str) -> ImportFileError:
    return ImportFileError(f"Impossible de lire « {file_name} » : {what}")


HeaderScore = Callable[[list[str]], int]


def read_tabular(
    path: str | Path,
    *,
    sheet: str | None = None,
    file_name: str | None = None,
    header_score: HeaderScore | None = None,
    fix_mojibake: bool = False,
) -> RawTable:
    """Read a CSV or XLSX file into strings; raise ImportFileError if it cannot be read at all.

    `header_score(cells)` says how many cells of a row are known column names: the header is the
    best-scoring of the first rows (a title or a group row above it is skipped). Values that look
    like mojibake are reported, and repaired when `fix_mojibake` (see `mojibake_warnings`).
    """
    path = Path(path)
    name = file_name or path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(name, "fichier introuvable ou inaccessible") from exc
    if size > MAX_FILE_BYTES:
        raise _fail(name, f"fichier trop volumineux ({size // (1024 * 1024)} Mo, maximum 50 Mo)")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise _fail(name, f"lecture impossible ({exc.strerror or exc})") from exc
    return read_tabular_bytes(
        content, name, sheet=sheet, header_score=header_score, fix_mojibake=fix_mojibake
    )


def read_tabular_bytes(
    content: bytes,
    file_name: str,
    *,
    sheet: str | None = None,
    header_score: HeaderScore | None = None,
    fix_mojibake: bool = False,
) -> RawTable:
    """Same as read_tabular, from the bytes of an upload (the name only chooses messages/format)."""
    if not content.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise _fail(file_name, "le fichier est vide")
    if content.startswith(_ZIP_MAGIC) or file_name.lower().endswith(XLSX_SUFFIXES):
        table = _read_xlsx(content, file_name, sheet, header_score)
    elif content.startswith(_OLE_MAGIC):
        raise _fail(file_name, "ancien format Excel (.xls) : enregistrez-le en .xlsx ou en CSV")
    elif sheet is not None:
        raise _fail(file_name, "une feuille ne peut être choisie que dans un fichier Excel (.xlsx)")
    else:
        table = _read_csv(content, file_name, header_score)
    table.warnings.extend(mojibake_warnings(table, repair=fix_mojibake))
    return table


# --- header row --------------------------------------------------------------------------------

HEADER_SEARCH_ROWS = 20


def find_header(rows: list[list[str]], header_score: HeaderScore | None) -> int | None:
    """Index of the header among the first non-blank rows; None when every row is blank.

    With `header_score`, the row naming most known columns (at least 2) wins, the first on a tie.
    Otherwise, or when no row names 2, the first row filled at least half as much as the fullest
    of the first rows: a title or group row ("Subventions 2019", "Bénéficiaire | | Montant") has
    few cells.
    """
    candidates = [
        i for i, r in enumerate(rows[: HEADER_SEARCH_ROWS * 3]) if any(c.strip() for c in r)
    ][:HEADER_SEARCH_ROWS]
    if not candidates:
        return None
    if header_score is not None:
        scores = [(header_score([c.strip() for c in rows[i]]), -i) for i in candidates]
        best, minus_index = max(scores)
        if best >= 2:
            return -minus_index
    filled = {i: sum(1 for c in rows[i] if c.strip()) for i in candidates}
    fullest = max(filled.values())
    return next(i for i in candidates if filled[i] * 2 >= fullest)


def _header_note(header_at: int, row: int) -> list[str]:
    if not header_at:
        return []
    return [
        f"En-tête lu ligne {row} : {header_at} ligne(s) au-dessus (titre, groupe de colonnes) "
        "ignorée(s)."
    ]


# --- mojibake ----------------------------------------------------------------------------------

# UTF-8 read as Windows-1252: "é" -> "Ã©", "è" -> "Ã¨", "’" -> "â€™", "°" -> "Â°".
_MOJIBAKE = re.compile(
    r"Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|â€|Â[\u00a0-\u00bf]"
)


def looks_like_mojibake(text: str) -> bool:
    """True when `text` holds a sequence typical of UTF-8 decoded as Windows-1252 ("Ã©")."""
    return bool(_MOJIBAKE.search(text))


def repair_mojibake(text: str) -> str | None:
    """The text before a wrong decoding ("DÃ©partemental" -> "Départemental"), None if unsure."""
    if not looks_like_mojibake(text):
        return None
    for codec in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        return fixed if fixed != text else None
    return None


def mojibake_warnings(table: RawTable, *, repair: bool = False) -> list[dict]:
    """Warnings for mojibake: header names are always repaired; values only when `repair`.

    One warning per column names its rows and an example with the proposed repair, so that the
    user can accept it (import page, `import --fix-mojibake`).
    """
    frame = table.frame
    warnings: list[dict] = []
    renames = {}
    for column in frame.columns:
        fixed = repair_mojibake(str(column))
        if fixed and fixed not in frame.columns:
            renames[column] = fixed
            warnings.append(
                {
                    "row": table.header_row,
                    "column": fixed,
                    "message": f"en-tête « {column} » mal encodé, réparé en « {fixed} »",
                }
            )
    if renames:
        table.frame = frame = frame.rename(columns=renames)
    for column in frame.columns:
        values = frame[column]
        suspect = values.map(lambda v: isinstance(v, str) and looks_like_mojibake(v))
        if not suspect.any():
            continue
        fixes = values[suspect].map(repair_mojibake)
        fixable = fixes.notna()
        rows = [int(r) for r in fixes.index[fixable]]
        if not rows:
            continue
        example = values[suspect][fixable].iloc[0]
        shown = ", ".join(str(r) for r in rows[:20]) + (" …" if len(rows) > 20 else "")
        if repair:
            frame.loc[fixes.index[fixable], column] = fixes[fixable]
            message = (
                f"{len(rows)} valeur(s) mal encodée(s) réparée(s) (ex. « {example} » → "
                f"« {fixes[fixable].iloc[0]} »), ligne(s) {shown}"
            )
        else:
            message = (
                f"{len(rows)} valeur(s) semblent mal encodées (ex. « {example} ») : réparation "
                f"proposée « {fixes[fixable].iloc[0]} » (option « réparer l'encodage »), "
                f"ligne(s) {shown}"
            )
        warnings.append({"row": None, "column": str(column), "message": message})
    return warnings


# --- CSV ---------------------------------------------------------------------------------------


def decode_text(content: bytes, file_name: str) -> tuple[str, str]:
    """Decode strict UTF-8, else Windows-1252, else line by line; return (text, encoding used).

    A UTF-8 BOM is removed whatever follows it. A file whose lines mix UTF-8 and Windows-1252 (two
    exports pasted together) is decoded line by line ("mixte"; see `mixed_lines`).
    """
    if b"\x00" in content:
        raise _fail(file_name, "fichier binaire ou encodé en UTF-16 (enregistrez-le en CSV UTF-8)")
    bom = content.startswith(b"\xef\xbb\xbf")
    body = content[3:] if bom else content
    try:
        text = body.decode("utf-8")
        encoding = "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        utf8_lines = sum(1 for line in body.split(b"\n") if _is_utf8_non_ascii(line))
        try:
            if utf8_lines:
                text = "\n".join(_decode_line(line) for line in body.split(b"\n"))
                encoding = "mixte"
            else:
                text = body.decode("cp1252")
                encoding = "cp1252"
        except UnicodeDecodeError as exc:
            raise _fail(
                file_name, "encodage non reconnu (ni UTF-8 ni Windows-1252) ou fichier binaire"
            ) from exc
    if _looks_binary(text):
        raise _fail(file_name, "contenu binaire : ce n'est pas un fichier texte CSV")
    return text, encoding


def _is_utf8_non_ascii(line: bytes) -> bool:
    if line.isascii():
        return False
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252")


def mixed_lines(content: bytes) -> list[int]:
    """Line numbers (from 1) of the lines that are not UTF-8 (read as Windows-1252)."""
    out = []
    for number, line in enumerate(content.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            out.append(number)
    return out


def _looks_binary(text: str) -> bool:
    """Many control characters means an image, an archive or another binary file renamed .csv."""
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return controls > max(8, len(sample) // 20)


def _records(text: str, separator: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=False)
    out = []
    for record in reader:
        out.append(record)
        if limit is not None and len(out) >= limit:
            break
    return out


def detect_separator(text: str) -> str:
    """Pick the separator giving the widest header that most of the first records agree with."""
    best, best_score = ";", (-1.0, -1)
    for sep in SEPARATORS:
        try:
            records = [r for r in _records(text, sep, limit=50) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not records:
            continue
        widths = [len(r) for r in records]
        width = max(set(widths), key=lambda w: (widths.count(w), w))  # a title row is narrower
        if width < 2:
            continue
        agree = widths.count(width) / len(records)
        score = (agree, width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _unique_names(raw: list[str]) -> list[str]:
    """Header names made usable: blank ones numbered, repeated ones suffixed (« Montant (2) »)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(raw, start=1):
        name = str(value).strip() or f"colonne_{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        names.append(name)
    return names


def _read_csv(content: bytes, file_name: str, header_score: HeaderScore | None = None) -> RawTable:
    text, encoding = decode_text(content, file_name)
    separator = detect_separator(text)
    try:
        records = _records(text, separator)
    except csv.Error as exc:
        raise _fail(file_name, f"structure CSV illisible ({exc})") from exc
    header_at = find_header(records, header_score)
    if header_at is None:
        raise _fail(file_name, "le fichier est vide")
    header = _unique_names(records[header_at])
    width = len(header)
    good: list[list[str]] = []
    good_rows: list[int] = []
    malformed: list[dict] = []
    for offset, record in enumerate(records[header_at + 1 :]):
        row = header_at + 2 + offset
        if not any(c.strip() for c in record):
            continue
        if len(record) > width and not any(c.strip() for c in record[width:]):
            record = record[:width]  # trailing separators, as some exports write them
        if len(record) != width:
            malformed.append(
                {
                    "row": row,
                    "values": record,
                    "reason": (
                        f"ligne mal formée : {len(record)} champ(s) au lieu de {width} "
                        "(guillemet non fermé, séparateur en trop ou ligne tronquée ?)"
                    ),
                }
            )
            continue
        good.append(record)
        good_rows.append(row)
    stripped = _unneutralise_rows(good)
    frame = pd.DataFrame(
        good, columns=header, index=pd.Index(good_rows, name="ligne"), dtype=object
    )
    notes = [
        f"Encodage détecté : {ENCODING_NAMES[encoding]} ; "
        f"séparateur : {SEPARATOR_NAMES[separator]}."
    ]
    notes += _header_note(header_at, header_at + 1)
    notes += _unneutralised_note(stripped)
    warnings = []
    if encoding == "mixte":
        lines = mixed_lines(content)
        shown = ", ".join(str(n) for n in lines[:20]) + (" …" if len(lines) > 20 else "")
        warnings.append(
            {
                "row": None,
                "column": "",
                "message": f"encodages mélangés : {len(lines)} ligne(s) du fichier en "
                f"Windows-1252 (ligne(s) {shown}), les autres en UTF-8 ; chaque ligne a été lue "
                "dans son encodage",
            }
        )
    elif content.startswith(b"\xef\xbb\xbf") and encoding == "cp1252":
        notes[0] = notes[0].replace("Windows-1252", "Windows-1252 après une marque UTF-8 (BOM)")
    return RawTable(
        file_name, frame, malformed, encoding, separator, None, notes, warnings, header_at + 1
    )


def _unneutralise_rows(rows: list[list[str]]) -> int:
    """Remove, in place, the apostrophe exports put before formula triggers; count the cells."""
    from loaders.formulas import unneutralise  # local: loaders.formulas imports this module

    count = 0
    for row in rows:
        for i, value in enumerate(row):
            if value.startswith("'"):
                plain = unneutralise(value)
                if plain != value:
                    row[i] = plain
                    count += 1
    return count


def _unneutralised_note(count: int) -> list[str]:
    if not count:
        return []
    return [
        f"{count} cellule(s) commençant par une apostrophe de protection contre les formules "
        "(ajoutée par un export) : apostrophe retirée."
    ]


# --- XLSX --------------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as the text a user would type: 12 not 12.0, dates in ISO, booleans as oui/non."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:  # NaN: an empty cell once in pandas
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(
    content: bytes, file_name: str, sheet: str | None, header_score: HeaderScore | None = None
) -> RawTable:
    import openpyxl  # local: only XLSX imports need it

    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise _fail(file_name, "ce n'est pas un classeur Excel .xlsx valide (archive illisible)")
    try:
        check_zip(content, file_name)
    except ArchiveTooLargeError as exc:
        raise ImportFileError(str(exc)) from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _fail(
            file_name, "ce n'est pas un classeur Excel .xlsx valide (archive illisible)"
        ) from exc
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=True, keep_links=False
        )
    except Exception as exc:  # noqa: BLE001 - any parser failure on a user file means "unreadable"
        raise _fail(
            file_name, f"classeur Excel illisible ou corrompu ({type(exc).__name__})"
        ) from exc
    skipped: list[str] = []
    try:
        names = list(workbook.sheetnames)
        if sheet is None:
            if not names:
                raise _fail(file_name, "le classeur ne contient aucune feuille")
            candidates = names
        elif sheet in names:
            candidates = [sheet]
        else:
            raise _fail(
                file_name,
                f"feuille « {sheet} » absente (feuilles : {', '.join(names) or 'aucune'})",
            )
        for sheet_name in candidates:  # the first sheet holding something (empty ones skipped)
            rows = [_rstrip_empty(r) for r in _sheet_rows(workbook, sheet_name, file_name)]
            if any(rows):
                break
            skipped.append(sheet_name)
    finally:
        workbook.close()
    header_at = find_header(rows, header_score)
    if header_at is None:
        if len(candidates) > 1:
            raise _fail(file_name, "toutes les feuilles du classeur sont vides")
        raise _fail(file_name, f"la feuille « {sheet_name} » est vide")
    width = max(len(r) for r in rows)
    header = _unique_names(rows[header_at] + [""] * (width - len(rows[header_at])))
    data, index = [], []
    for offset, row in enumerate(rows[header_at + 1 :]):
        if not any(c.strip() for c in row):
            continue
        data.append(row + [""] * (width - len(row)))
        index.append(header_at + 2 + offset)
    stripped = _unneutralise_rows(data)
    frame = pd.DataFrame(data, columns=header, index=pd.Index(index, name="ligne"), dtype=object)
    notes = [f"Classeur Excel : feuille « {sheet_name} » lue (valeurs seulement)."]
    if skipped:
        notes.append(f"Feuille(s) vide(s) ignorée(s) : {', '.join(skipped)}.")
    others = [n for n in names if n != sheet_name and n not in skipped]
    if sheet is None and others:
        notes.append(
            f"Autre(s) feuille(s) non lue(s) : {', '.join(others)} (choisissez la feuille à "
            "importer pour en lire une autre)."
        )
    notes += _header_note(header_at, header_at + 1)
    notes += _unneutralised_note(stripped)
    return RawTable(file_name, frame, [], None, None, sheet_name, notes, [], header_at + 1)


def _sheet_rows(workbook, sheet_name: str, file_name: str) -> list[list[str]]:
    try:
        worksheet = workbook[sheet_name]
        # Ignore the declared dimension (a crafted "A1:XFD1048576" would pad every row).
        worksheet.reset_dimensions()
        return [[cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
    except Exception as exc:  # noqa: BLE001 - corrupt sheet XML
        raise _fail(
            file_name, f"feuille « {sheet_name} » illisible ({type(exc).__name__})"
        ) from exc


def _rstrip_empty(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


# --- numbers -----------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float | None:
    """Read "12 345,67", "12345.67", "1.234,5", "12 345 €" as a float; None when not a number.

    Spaces, no-break spaces and apostrophes are thousands separators; a comma is the decimal mark
    unless a dot comes after it. A lone dot with exactly three digits after it and nothing else
    ("1.234") stays a decimal point, as in the SCDL standard.
    """
    s = _SPACES.sub("", text.strip())
    s = s.removesuffix("€").removesuffix("EUR").removesuffix("eur")
    if not s:
        return None
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif s.count(",") == 1:
        s = s.replace(",", ".")
    elif s.count(",") > 1:
        return None
    if not _PLAIN_NUMBER.match(s):
        return None
    value = float(s)
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value
