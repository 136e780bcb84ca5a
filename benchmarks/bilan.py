"""The annual bilan's cost: time and peak memory for the demo data and for 50 000 grants.

Each case runs in its own Python process (so that its peak resident memory is its own):
- **demo**: the fictional demo data in a throw-away ESS_HOME (embedded commune outlines only,
  as on a fresh install), the bilan of 2025 as PDF then HTML, exactly as `python -m loaders
  bilan` builds it;
- **50k**: the same layers and the demo's enriched grants resampled to 50 000 grants (seeded:
  new ids, years 2021-2026, amounts scaled by a random factor, 3 000 beneficiaries), so the
  year holds about 8 300 grants, every one of them a row of the annex and a dot of the map.

Timed: loading and enriching the data (``load``), the figures (``figures``: geo.bilan), the
blocks (``blocks``: charts through vl-convert, maps), the typesetting of the PDF (``pdf``:
Typst) and of the HTML (``html``); ``page_view`` = figures + blocks + HTML, what the Bilan page
pays to show the bilan (its files are built on click). Peak memory: the process's maximum
resident set size (``ru_maxrss``). Prints readable lines, then one JSON line. Run from the
repository root:

    python benchmarks/bilan.py [--grants 50000] [--year 2025]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SEED = 20210623


def _case(kind: str, n_grants: int, year: int) -> dict:
    """One measured build, in this process."""
    import numpy as np

    from geo.bilan import build_bilan
    from geo.bilan_render import blocks, to_html, to_pdf
    from loaders.bilan import load_inputs

    timings = {}
    start = time.perf_counter()
    inputs, population = load_inputs()
    timings["load_s"] = time.perf_counter() - start
    if kind == "large":
        grants = inputs.grants
        rng = np.random.default_rng(SEED)
        picked = grants.iloc[rng.integers(0, len(grants), n_grants)].reset_index(drop=True)
        picked["id_subvention"] = [f"BENCH-{i:06d}" for i in range(n_grants)]
        picked["annee"] = rng.integers(2021, 2027, n_grants)
        picked["qpv_generation"] = np.where(picked["annee"] >= 2024, "2024", "2015")
        picked["montant"] = (picked["montant"].to_numpy() * rng.uniform(0.5, 1.5, n_grants)).round()
        picked["montant_verse"] = picked["montant"]
        sirets = [f"{i:014d}" for i in rng.integers(10**9, 10**9 + 3000, n_grants)]
        picked["idBeneficiaire"] = sirets
        inputs.grants = picked
    start = time.perf_counter()
    bilan = build_bilan(inputs, year, quartier_population=population)
    timings["figures_s"] = time.perf_counter() - start
    start = time.perf_counter()
    items = blocks(bilan)
    timings["blocks_s"] = time.perf_counter() - start
    start = time.perf_counter()
    pdf = to_pdf(items, demo=bilan.demo, year=year)
    timings["pdf_s"] = time.perf_counter() - start
    start = time.perf_counter()
    html = to_html(items, demo=bilan.demo, year=year)
    timings["html_s"] = time.perf_counter() - start
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    return {
        "case": kind,
        "grants": len(inputs.grants),
        "grants_in_year": int(bilan.key["subventions_annee"]),
        **{k: round(v, 2) for k, v in timings.items()},
        "total_s": round(sum(timings.values()), 2),
        # What the Bilan page pays to show the bilan (the files are built on click).
        "page_view_s": round(timings["figures_s"] + timings["blocks_s"] + timings["html_s"], 2),
        "pdf_bytes": len(pdf),
        "pdf_pages": pages,
        "html_bytes": len(html.encode("utf-8")),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _run_child(kind: str, n_grants: int, year: int, home: str) -> dict:
    env = {**os.environ, "ESS_HOME": home, "PYTHONPATH": str(REPO)}
    env.pop("ESS_STORE", None)
    args = [sys.executable, __file__, "--child", kind, "--grants", str(n_grants)]
    done = subprocess.run(
        [*args, "--year", str(year)], env=env, cwd=REPO, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=50_000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--child", choices=("demo", "large"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_case(args.child, args.grants, args.year)))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="ess_bench_bilan_") as home:
        for kind in ("demo", "large"):
            result = _run_child(kind, args.grants, args.year, home)
            results.append(result)
            print(
                f"{kind:5} {result['grants']:>6} grants ({result['grants_in_year']} in "
                f"{args.year}): load {result['load_s']} s, figures {result['figures_s']} s, "
                f"blocks (charts, maps) {result['blocks_s']} s, "
                f"PDF {result['pdf_s']} s ({result['pdf_pages']} pages, "
                f"{result['pdf_bytes'] / 1e6:.2f} MB), HTML "
                f"{result['html_s']} s ({result['html_bytes'] / 1e6:.2f} MB), total "
                f"{result['total_s']} s, peak RSS {result['peak_rss_mb']} MB; the page "
                f"shows it in {result['page_view_s']} s (figures, blocks, HTML)"
            )
    print(json.dumps({r["case"]: r for r in results}))


if __name__ == "__main__":
    main()
