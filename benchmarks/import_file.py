"""Import of a 20 000-row grants file: wall time and peak memory of loaders.importer.import_file.

The file is synthetic and seeded, written to a temporary folder and removed afterwards. It looks
like what collectivities publish: Windows-1252, `;`, a title row above the header, SCDL field
titles as headers, French numbers ("1 500,50"), French dates, a trailing apostrophe on some SIRET,
a few values in scientific notation, 15 % of the grants dated 2016-2020 (out of the strategy
period: kept and flagged), and a TOTAL row. Run from the repository root:

    python benchmarks/import_file.py [--rows 20000] [--runs 3] [--xlsx]

Time = best of N runs of `time.perf_counter()` around `import_file(..., dry_run=True)`; peak
memory = `tracemalloc`'s peak during one more run (Python allocations, numpy and pandas buffers
included) and the process's maximum resident size. Prints readable lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from loaders.importer import import_file  # noqa: E402

HEADER = [
    "Nom de l'attribuant",
    "Identification de l'attribuant",
    "Date de la convention de subvention",
    "Référence de la décision",
    "Nom du bénéficiaire",
    "Identification du bénéficiaire",
    "Objet de la subvention",
    "Montant total de la subvention",
    "Nature de la subvention",
    "Conditions de versement de la subvention",
    "Date ou période de versement",
    "Aide d'Etat notifiée à la Commission Européenne",
    "Pourcentage du montant total de la subvention attribuée au bénéficiaire",
    "Axe",
    "Priorité",
]
SIRETS = ["21590350100017", "73282932000074", "44137080600016", "38047555800058"]


def _french_amount(value: float) -> str:
    whole, cents = f"{value:.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return " ".join(groups) + "," + cents


def make_rows(n: int, seed: int = 20260623) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    rows = []
    years = rng.choice(
        [2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025],
        size=n,
        p=[0.04, 0.04, 0.04, 0.03, 0.17, 0.17, 0.17, 0.17, 0.17],
    )
    for i in range(n):
        year = int(years[i])
        month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
        siret = SIRETS[i % len(SIRETS)]
        if i % 50 == 0:
            siret = siret[:3] + " " + siret[3:6] + " " + siret[6:9] + " " + siret[9:] + "'"
        elif i % 997 == 0:
            siret = "2,16E+13"
        priority = int(rng.integers(1, 21))
        rows.append(
            [
                "Ville de Lille",
                "21590350100017",
                f"{day:02d}/{month:02d}/{year}",
                f"{year % 100}/{i % 500}",
                f"Association n° {i % 3000} (Élan solidaire)",
                siret,
                "Soutien à l'économie sociale et solidaire",
                _french_amount(float(rng.integers(100, 3_000_000)) / 100),
                "aide en numéraire",
                "unique" if i % 3 else "échelonné",
                f"{year}-{month:02d}-{day:02d}/{year}-12-31",
                "non",
                "0,5",
                "",
                str(priority),
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    lines = ["Subventions de la Ville de Lille" + ";" * (len(HEADER) - 1), ";".join(HEADER)]
    lines += [";".join(r) for r in rows]
    lines.append(";;;;TOTAL;;;" + ";" * (len(HEADER) - 8))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    workbook.create_sheet("Notes")
    sheet = workbook.create_sheet("Subventions")
    sheet.append(["Subventions de la Ville de Lille"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--xlsx", action="store_true", help="an XLSX workbook instead of a CSV")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ess-bench-import-") as folder:
        os.environ["ESS_HOME"] = str(Path(folder) / "home")
        path = Path(folder) / ("subventions.xlsx" if args.xlsx else "subventions.csv")
        rows = make_rows(args.rows)
        (write_xlsx if args.xlsx else write_csv)(path, rows)
        size = path.stat().st_size
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            report = import_file(path, "grants", dry_run=True)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        import_file(path, "grants", dry_run=True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    out_of_period = int(report.accepted_df["hors_periode"].sum())
    print(f"File: {path.name}, {args.rows} grant rows + title and TOTAL rows, {size / 1e6:.2f} MB")
    print(
        f"Report: read {report.read}, accepted {report.accepted} ({out_of_period} out of the "
        f"strategy period), rejected {report.rejected}, {len(report.warnings)} warnings"
    )
    print(
        f"Import (dry run): best {min(times):.2f} s of {args.runs} "
        f"({', '.join(f'{t:.2f}' for t in times)})"
    )
    print(f"Peak memory: {peak / 2**20:.0f} MiB traced, {rss / 2**20:.0f} MiB max RSS")
    result = {
        "rows": args.rows,
        "format": "xlsx" if args.xlsx else "csv",
        "file_bytes": size,
        "import_s": round(min(times), 3),
        "peak_traced_mib": round(peak / 2**20, 1),
        "max_rss_mib": round(rss / 2**20, 1),
        "read": report.read,
        "accepted": report.accepted,
        "rejected": report.rejected,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
