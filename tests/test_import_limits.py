"""Compressed inputs are judged by their uncompressed size before anything decompresses them.

The bombs are built here, streamed (a 300 Mo member of zeros compresses to about 1.4 Mo at level
1), and must be refused quickly, with a French message naming the file and the sizes; genuine
workbooks and zipped Shapefiles still go through.
"""

from __future__ import annotations

import gzip
import io
import struct
import time
import tracemalloc
import zipfile

import geopandas as gpd
import openpyxl
import pytest
import shapely

from geo.formatting import NNBSP
from loaders import archives
from loaders.archives import MAX_UNCOMPRESSED_BYTES, ArchiveTooLargeError, gunzip_limited, size_fr
from loaders.importer import import_file
from loaders.layers import ReaderError, import_layer
from loaders.readers import read_table, read_vector
from loaders.readers_tabular import ImportFileError, read_tabular

MIB = 1024 * 1024
ZEROS = b"\0" * MIB


def _workbook_parts() -> dict[str, bytes]:
    """The parts of a genuine small workbook of grants (French headers)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Subventions"
    sheet.append(["Identifiant", "Nom du bénéficiaire", "Montant attribué", "Année", "Axe"])
    sheet.append(["S1", "Régie de quartier Fives", 12345.5, 2023, 1])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _streamed_member(archive: zipfile.ZipFile, name: str, mebibytes: int, head=b"") -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(head)
        for _ in range(mebibytes):
            member.write(ZEROS)


def _xlsx_bomb(path, mebibytes: int = 300):
    """A workbook whose sheet part inflates to `mebibytes` Mo (the sheet of a real workbook)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in _workbook_parts().items():
            if name == "xl/worksheets/sheet1.xml":
                _streamed_member(archive, name, mebibytes, head=content[:200])
            else:
                archive.writestr(name, content)
    return path


def _refused_quickly(call, error, match: str, max_memory: int = 50 * MIB) -> str:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(error, match=match) as info:
            call()
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 5, f"refused after {elapsed:.1f} s"
    assert peak < max_memory, f"{peak / MIB:.0f} Mo allocated before refusing"
    return str(info.value)


def test_sizes_in_french_units():
    assert size_fr(4.2 * 1024**3) == f"4,2{NNBSP}Go"
    assert size_fr(MAX_UNCOMPRESSED_BYTES) == f"200{NNBSP}Mo"
    assert size_fr(1_400_000) == f"1,3{NNBSP}Mo"
    assert size_fr(2048) == f"2,0{NNBSP}Ko"
    assert size_fr(12) == f"12{NNBSP}octets"


def test_xlsx_bomb_is_refused_before_openpyxl_reads_it(tmp_path, ess_home):
    path = _xlsx_bomb(tmp_path / "subventions_2024.xlsx")
    assert path.stat().st_size < 3 * MIB  # small on disk, like the 2.9 Mo file of the issue
    message = _refused_quickly(
        lambda: import_file(path, "grants"), ImportFileError, "une fois décompressé"
    )
    assert message.startswith("« subventions_2024.xlsx » : ")
    assert f"300{NNBSP}Mo une fois décompressé, limite 200{NNBSP}Mo" in message
    assert not (ess_home / "store").exists() or not any((ess_home / "store").rglob("*.parquet"))


def test_xlsx_member_inflating_more_than_100_times_is_refused(tmp_path):
    """Under the total limit, but a 20 Mo part made of zeros: a bomb's ratio, not a sheet's."""
    path = _xlsx_bomb(tmp_path / "structures.xlsx", mebibytes=20)
    message = _refused_quickly(lambda: read_tabular(path), ImportFileError, "pour 1")
    assert "« structures.xlsx »" in message and "« xl/worksheets/sheet1.xml »" in message
    assert f"à 20{NNBSP}Mo une fois décompressé" in message
    assert "limite 100 pour 1" in message


def test_archive_with_too_many_members_is_refused(tmp_path):
    path = tmp_path / "sites.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in _workbook_parts().items():
            archive.writestr(name, content)
        for i in range(archives.MAX_MEMBERS):
            archive.writestr(f"xl/media/vide{i}.bin", b"")
    message = _refused_quickly(lambda: read_tabular(path), ImportFileError, "fichiers dans")
    members = len(_workbook_parts()) + archives.MAX_MEMBERS
    assert f"« sites.xlsx » : 10{NNBSP}0{members - 10_000:02d} fichiers dans l'archive" in message
    assert f"limite 10{NNBSP}000" in message


def test_genuine_workbook_is_still_read(tmp_path, ess_home):
    path = tmp_path / "subventions.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _workbook_parts().items():
            archive.writestr(name, content)
    raw = read_tabular(path)
    assert raw.columns == ["Identifiant", "Nom du bénéficiaire", "Montant attribué", "Année", "Axe"]
    assert raw.frame.loc[2, "Montant attribué"] == "12345.5"


# -- zipped Shapefiles and gzipped GeoJSON (reference layers, land sites) --


def _shapefile_bomb(path, mebibytes: int = 300):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("quartiers.prj", 'PROJCS["RGF93_Lambert_93"]')
        _streamed_member(archive, "quartiers.dbf", 2)
        _streamed_member(archive, "quartiers.shp", mebibytes)
    return path


def test_zipped_shapefile_bomb_is_refused_by_every_reader(tmp_path, ess_home):
    path = _shapefile_bomb(tmp_path / "quartiers_lille.zip")
    for call, error in (
        (lambda: read_vector(path), ReaderError),
        (lambda: read_table(path), ReaderError),
        (lambda: import_layer("quartiers", path), ReaderError),
        (lambda: import_file(path, "land"), ImportFileError),
    ):
        message = _refused_quickly(call, error, "une fois décompressé")
        assert f"« quartiers_lille.zip » : 302{NNBSP}Mo une fois décompressé" in message
        assert f"limite 200{NNBSP}Mo" in message
    assert not (ess_home / "layers").exists() or not any((ess_home / "layers").iterdir())


def test_archive_understating_its_sizes_never_reaches_gdal(tmp_path):
    """Declared 1 000 bytes, holds 1 Mo: extraction stops at the declared size and fails."""
    path = tmp_path / "zones.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zones.shp", ZEROS)
    content = bytearray(path.read_bytes())
    content[22:26] = struct.pack("<I", 1000)  # local header: uncompressed size
    central = content.rindex(b"PK\x01\x02")
    content[central + 24 : central + 28] = struct.pack("<I", 1000)
    path.write_bytes(bytes(content))
    with pytest.raises(ReaderError, match="archive ZIP illisible"):
        read_vector(path)


def test_genuine_zipped_shapefile_in_a_folder_is_read(tmp_path):
    squares = gpd.GeoDataFrame(
        {"nom": ["Fives", "Wazemmes"]},
        geometry=[shapely.box(3.08, 50.63, 3.09, 50.64), shapely.box(3.04, 50.62, 3.05, 50.63)],
        crs="EPSG:4326",
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    squares.to_crs("EPSG:2154").to_file(folder / "Quartiers.shp")
    path = tmp_path / "quartiers.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LISEZMOI.txt", "Quartiers de Lille")
        for part in folder.iterdir():
            archive.write(part, f"export/{part.name}")
    gdf = read_vector(path)
    assert gdf.crs.to_epsg() == 4326
    assert gdf["nom"].tolist() == ["Fives", "Wazemmes"]
    assert gdf.total_bounds == pytest.approx(squares.total_bounds, abs=1e-6)
    assert read_table(path)["nom"].tolist() == ["Fives", "Wazemmes"]


def _gzip_bomb(path, mebibytes: int) -> None:
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(b'{"type": "FeatureCollection", "features": []')
        for _ in range(mebibytes):
            out.write(b" " * MIB)
        out.write(b"}")


def test_gzipped_geojson_bomb_is_refused_from_its_recorded_size(tmp_path):
    path = tmp_path / "communes.geojson.gz"
    _gzip_bomb(path, 210)
    message = _refused_quickly(lambda: read_vector(path), ReaderError, "sans être décompressé")
    assert message.startswith(f"« communes.geojson.gz » : au moins 210{NNBSP}Mo une fois")


def test_gzip_understating_its_size_is_stopped_at_the_limit(tmp_path):
    """The recorded size is forged to 0: decompression runs, and stops at 200 Mo."""
    path = tmp_path / "communes.geojson.gz"
    _gzip_bomb(path, 210)
    path.write_bytes(path.read_bytes()[:-4] + b"\0\0\0\0")
    message = _refused_quickly(
        lambda: read_vector(path), ReaderError, "décompression arrêtée", max_memory=320 * MIB
    )
    assert message.startswith(f"« communes.geojson.gz » : plus de 200{NNBSP}Mo")


def test_gunzip_limited_matches_gzip_on_genuine_payloads():
    payload = b'{"type": "FeatureCollection", "features": []}' * 1000
    two_members = gzip.compress(payload) + gzip.compress(b"fin") + b"\0\0\0"
    assert gunzip_limited(two_members, "x.gz") == payload + b"fin"
    with pytest.raises(EOFError):
        gunzip_limited(gzip.compress(payload)[:-12], "x.gz")
    with pytest.raises(OSError):
        gunzip_limited(gzip.compress(payload) + b"garbage", "x.gz")


def test_limits_are_inclusive():
    at_limit = [_info("xl/worksheets/sheet1.xml", MAX_UNCOMPRESSED_BYTES, 10 * MIB)]
    archives.check_members(at_limit, "x.xlsx")  # 20 to 1, exactly 200 Mo: accepted
    with pytest.raises(ArchiveTooLargeError, match="une fois décompressé"):
        archives.check_members([*at_limit, _info("xl/styles.xml", 1, 1)], "x.xlsx")
    archives.check_members([_info("a.xml", 10 * MIB, 104_858)], "x.xlsx")  # 99.9996 to 1
    with pytest.raises(ArchiveTooLargeError, match="limite 100 pour 1"):
        archives.check_members([_info("a.xml", 10 * MIB, 104_857)], "x.xlsx")  # 100.0004 to 1


def _info(name: str, size: int, packed: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.file_size, info.compress_size = size, packed
    return info
