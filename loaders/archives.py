"""Size limits on compressed inputs (zip archives, XLSX workbooks, gzip payloads).

A compressed file is judged by what it would become, before anything decompresses it: a 2.9 MB
XLSX whose sheet inflates to gigabytes once kept the importer busy for minutes and took 4.4 GB of
memory before failing. Zip archives (XLSX workbooks are zip archives too) are checked from their
central directory, which costs milliseconds whatever they hold; gzip payloads, whose header does
not tell their size reliably, are decompressed in chunks and abandoned as soon as they pass the
limit.

Limits (one set for workbooks, zipped Shapefiles and gzipped GeoJSON):
- MAX_UNCOMPRESSED_BYTES, 200 Mo in all: four times the 50 Mo cap on uploaded files. Measured on
  real files, workbooks inflate about 13 times (a 100 000-row sheet: 1.7 Mo -> 22 Mo) and zipped
  Shapefiles 2 to 22 times (the MEL's IRIS), so every file of the City or of the reference layers
  fits, with room to spare; a bigger workbook is better saved as CSV anyway.
- MAX_MEMBERS, 10 000 files in one archive: a workbook holds a few dozen parts, a Shapefile a
  handful.
- MAX_RATIO, 100 to 1, for members of RATIO_MIN_BYTES (10 Mo) or more once decompressed: real data
  compress 2 to 25 times, a run of zeros or of identical XML about 1 000 times. Small members are
  not judged on their ratio (a tiny, very repetitive part is harmless).
"""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from geo.formatting import NNBSP, fmt_int, fmt_number

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_RATIO = 100
RATIO_MIN_BYTES = 10 * 1024 * 1024
_CHUNK = 1024 * 1024
_DEFLATE_MAX_RATIO = 1032  # the most deflate can compress anything


class ArchiveTooLargeError(ValueError):
    """A compressed file would exceed the limits once decompressed (French message)."""


def size_fr(size: float) -> str:
    """A byte count in French units: 4509715660 -> '4,2 Go', 209715200 -> '200 Mo'."""
    for factor, unit in ((1024**3, "Go"), (1024**2, "Mo"), (1024, "Ko")):
        if size >= factor:
            value = size / factor
            return f"{fmt_number(value, 1 if value < 9.95 else 0)}{NNBSP}{unit}"
    return f"{fmt_int(size)}{NNBSP}octets"


def _too_large(
    file_name: str, size: float | None = None, *, at_least: bool = False
) -> ArchiveTooLargeError:
    """The refusal; size None when decompression was stopped at the limit (size unknown)."""
    limit = size_fr(MAX_UNCOMPRESSED_BYTES)
    if size is None:
        return ArchiveTooLargeError(
            f"« {file_name} » : plus de {limit} une fois décompressé, limite {limit} ; "
            "décompression arrêtée, fichier refusé."
        )
    return ArchiveTooLargeError(
        f"« {file_name} » : {'au moins ' if at_least else ''}{size_fr(size)} une fois "
        f"décompressé, limite {limit} ; fichier refusé sans être décompressé."
    )


def check_members(infos: list[zipfile.ZipInfo], file_name: str) -> None:
    """Raise ArchiveTooLargeError when the sizes declared by an archive pass the limits."""
    if len(infos) > MAX_MEMBERS:
        raise ArchiveTooLargeError(
            f"« {file_name} » : {fmt_int(len(infos))} fichiers dans l'archive, "
            f"limite {fmt_int(MAX_MEMBERS)} ; fichier refusé sans être décompressé."
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _too_large(file_name, total)
    for info in infos:
        packed = max(info.compress_size, 1)
        if info.file_size >= RATIO_MIN_BYTES and info.file_size > MAX_RATIO * packed:
            raise ArchiveTooLargeError(
                f"« {file_name} » : l'élément « {info.filename} » passe de {size_fr(packed)} à "
                f"{size_fr(info.file_size)} une fois décompressé (taux de "
                f"{fmt_int(info.file_size / packed)} pour 1, limite {MAX_RATIO} pour 1) ; "
                "fichier refusé sans être décompressé."
            )


def check_zip(source: str | Path | bytes | BinaryIO, file_name: str) -> list[zipfile.ZipInfo]:
    """Check a zip archive (or XLSX workbook) from its central directory; return its members.

    Raises ArchiveTooLargeError past the limits, zipfile.BadZipFile when it is not an archive.
    """
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
    check_members(infos, file_name)
    return infos


def extract_members(
    archive: zipfile.ZipFile, names: dict[str, str], folder: Path, file_name: str
) -> None:
    """Write members {name in the archive: plain file name} into `folder`, within the size limit.

    The bytes actually written are counted, so an archive that understates its sizes is stopped
    too (Python's zipfile already refuses to return more than the declared size).
    """
    budget = MAX_UNCOMPRESSED_BYTES
    for member, target in names.items():
        with archive.open(member) as source, open(folder / target, "wb") as out:
            while chunk := source.read(_CHUNK):
                budget -= len(chunk)
                if budget < 0:
                    raise _too_large(file_name)
                out.write(chunk)


def gunzip_limited(content: bytes, file_name: str) -> bytes:
    """gzip.decompress that stops at MAX_UNCOMPRESSED_BYTES (ArchiveTooLargeError).

    Handles several concatenated members and trailing zero padding, as gzip.decompress does;
    raises gzip.BadGzipFile (an OSError) or EOFError on a corrupt or truncated payload. The size
    a gzip file records at its end (modulo 4 Gio, of its last member only: a lower bound) refuses
    an honest bomb at once, unless deflate could not reach it (a truncated file ends with other
    bytes); a file that understates it is stopped once the limit is reached.
    """
    declared = int.from_bytes(content[-4:], "little") if len(content) >= 18 else 0
    if MAX_UNCOMPRESSED_BYTES < declared <= _DEFLATE_MAX_RATIO * len(content):
        raise _too_large(file_name, declared, at_least=True)
    out = bytearray()
    data = content
    while data:
        if data[:2] != b"\x1f\x8b":
            raise gzip.BadGzipFile("données en trop après la fin de l'archive gzip")
        inflater = zlib.decompressobj(wbits=31)
        while not inflater.eof:
            try:
                chunk = inflater.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise gzip.BadGzipFile(str(exc)) from exc
            out += chunk
            if len(out) > MAX_UNCOMPRESSED_BYTES:
                raise _too_large(file_name)
            data = inflater.unconsumed_tail
            if not chunk and not data and not inflater.eof:
                raise EOFError("archive gzip tronquée")
        data = inflater.unused_data.lstrip(b"\x00")
    return bytes(out)
