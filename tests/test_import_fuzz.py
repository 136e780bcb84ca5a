"""Property tests: whatever bytes arrive, import never crashes and read = accepted + rejected."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.importer import import_file, rejects_csv
from loaders.readers_tabular import ImportFileError

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KINDS = st.sampled_from(["grants", "structures", "land"])

HEADERS = {
    "grants": ["id_subvention", "nomBeneficiaire", "idBeneficiaire", "montant", "dateConvention"]
    + ["axe", "priorite", "nature", "datesPeriodeVersement", "notificationUE"],
    "structures": ["siret", "nom", "adresse", "lat", "lon", "est_ess", "code_postal"],
    "land": ["site_id", "nom", "type", "statut", "lat", "lon", "geometry", "surface_m2"],
}
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "21590350100017",
            "12 345,67",
            "-3",
            "2023-05-01",
            "08/09/2023",
            "2017-01-01_2017-12-31",
            "Aide en numéraire",
            "oui",
            "1",
            "P9",
            "50.63",
            "3.06",
            "local",
            "disponible",
            "POLYGON((3.05 50.62, 3.06 50.62, 3.06 50.63, 3.05 50.62))",
            "POLYGON((",
            '"',
            'a"b',
            ";",
            "\n",
            "=1+1",
        ]
    ),
    st.text(max_size=30),
    st.integers(min_value=140_000, max_value=160_000).map(lambda n: "x" * n),  # a huge field
)


def check(path: Path, kind: str, name: str) -> None:
    try:
        report = import_file(path, kind, dry_run=True, file_name=name)
    except ImportFileError as exc:
        assert name in str(exc)
        return
    assert report.read == report.accepted + report.rejected
    assert report.accepted == len(report.accepted_df)
    assert {r["row"] for r in report.rejects}.isdisjoint(report.accepted_df.index)
    rejects_csv(report)  # the download always works too


def _tmp_file(content: bytes, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return Path(name)


@st.composite
def csv_bytes(draw) -> tuple[bytes, str]:
    kind = draw(KINDS)
    sep = draw(st.sampled_from([";", ",", "\t", "|"]))
    header = draw(st.permutations(HEADERS[kind]))
    rows = draw(
        st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 2), min_size=0, max_size=6)
    )
    quote = draw(st.booleans())
    lines = [sep.join(header)]
    for row in rows:
        cells = [f'"{c}"' if quote and '"' not in c else c for c in row]
        lines.append(sep.join(cells))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    cut = draw(st.integers(min_value=0, max_value=len(text)))
    if draw(st.booleans()):
        text = text[:cut]  # truncated file
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    content = text.encode(encoding, errors="replace")
    return content, kind


@FUZZ
@given(csv_bytes())
def test_malformed_csv_never_crashes(case):
    content, kind = case
    path = _tmp_file(content, ".csv")
    try:
        check(path, kind, path.name)
    finally:
        path.unlink()


@FUZZ
@given(st.binary(max_size=2048), KINDS, st.sampled_from([".csv", ".xlsx", ".geojson"]))
def test_binary_junk_never_crashes(content, kind, suffix):
    path = _tmp_file(content, suffix)
    try:
        check(path, kind, path.name)
    finally:
        path.unlink()


@st.composite
def xlsx_bytes(draw) -> tuple[bytes, str]:
    kind = draw(KINDS)
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(list(draw(st.permutations(HEADERS[kind]))))
    xlsx_cells = st.one_of(
        CELLS.filter(lambda c: len(c) < 30_000),  # Excel's own cell limit is 32 767
        st.integers(min_value=-(10**15), max_value=10**15),
        st.floats(allow_nan=True, allow_infinity=False),
        st.dates(),
        st.booleans(),
        st.none(),
    )
    for row in draw(st.lists(st.lists(xlsx_cells, max_size=12), max_size=6)):
        cleaned = [
            "".join(ch for ch in c if ch >= " " or ch in "\t\n") if isinstance(c, str) else c
            for c in row
        ]
        sheet.append(cleaned)
    buffer = io.BytesIO()
    wb.save(buffer)
    content = buffer.getvalue()
    mode = draw(st.sampled_from(["whole", "truncated", "flipped"]))
    if mode == "truncated":
        content = content[: draw(st.integers(min_value=0, max_value=len(content)))]
    elif mode == "flipped":
        at = draw(st.integers(min_value=0, max_value=len(content) - 1))
        content = content[:at] + bytes([content[at] ^ 0xFF]) + content[at + 1 :]
    return content, kind


@FUZZ
@given(xlsx_bytes())
def test_malformed_xlsx_never_crashes(case):
    content, kind = case
    path = _tmp_file(content, ".xlsx")
    try:
        check(path, kind, path.name)
    finally:
        path.unlink()
