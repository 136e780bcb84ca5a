"""A throw-away ESS_HOME holding N synthetic grants, imported as the City would import them.

Shared by the benchmarks that open the dashboard on a large dataset (benchmarks/load.py,
benchmarks/interactive.py). Everything goes through the app's own code:
- reference layers: `loaders.sync.sync_layers` (`python -m loaders sync --offline --from-dir`)
  on the real public files of `$ESS_SHARED_DATA`, else `../shared/data` (`geo/`, `activity/`:
  communes, MEL communes, quartiers, IRIS, friches), read in place and never copied into the
  repository; then the synthetic QPV of `tests/synthetic.py` for both lists (no real QPV
  perimeter is available offline) through `loaders.layers.import_layer`;
- the City's data: a CSV of structures, then a CSV of grants, through
  `loaders.importer.import_file` (validation, store, and the enrichment built after the import).

Synthetic, seeded data (every name says "synthétique"): min(3 000, N) ESS structures at uniform
random points inside Lille, Hellemmes and Lomme, with valid SIRET keys and the postcode of the
commune they fall in; N grants, each a row of the fictional demo dataset (`data/demo/grants.csv`:
dates, years, axes, priorities, schemes stay consistent) given a new identifier, a beneficiary
among those structures and a log-normal amount; 20 % are placed at one of 500 project sites
instead of their beneficiary.

    python benchmarks/synthetic_grants.py ESS_HOME [--grants 10000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from stdnum import luhn  # noqa: E402

from benchmarks.map_page import random_points_in, shared_data  # noqa: E402

MAX_STRUCTURES = 3_000
PROJECT_SITES = 500
AT_PROJECT_SITE = 0.2
FORMS = ["Association", "SCOP", "SCIC", "Coopérative", "Mutuelle", "Fondation", "SAS ESUS"]
POSTCODES = {"59350": "59000", "59298": "59260", "59355": "59160"}  # territory -> postcode


@contextmanager
def using_home(ess_home: Path) -> Iterator[None]:
    """ESS_HOME set to `ess_home` (and no ESS_STORE elsewhere) for the duration of the block."""
    before = {name: os.environ.get(name) for name in ("ESS_HOME", "ESS_STORE")}
    os.environ["ESS_HOME"] = str(ess_home)
    os.environ.pop("ESS_STORE", None)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def valid_sirets(numbers: np.ndarray) -> list[str]:
    """One SIRET per number, with both Luhn keys right (the SIREN's and the SIRET's)."""
    sirets = []
    for number in numbers:
        siren8 = f"{80_000_000 + int(number):08d}"
        siren = siren8 + luhn.calc_check_digit(siren8)
        base = f"{siren}0001"
        sirets.append(base + luhn.calc_check_digit(base))
    return sirets


def _structures(communes: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    points = gpd.GeoDataFrame(geometry=random_points_in(communes, n, rng), crs=communes.crs)
    inside = gpd.sjoin(points, communes[["code", "nom", "geometry"]], predicate="within")
    inside = inside[~inside.index.duplicated()].reindex(points.index)
    sirets = valid_sirets(np.arange(n))
    return pd.DataFrame(
        {
            "siret": sirets,
            "siren": [s[:9] for s in sirets],
            "nom": [f"Structure synthétique n°{i}" for i in range(n)],
            "forme_juridique": rng.choice(FORMS, n),
            "est_ess": "oui",
            "adresse": [f"{i % 200 + 1} rue de l'Exemple" for i in range(n)],
            "code_postal": inside["code"].map(POSTCODES).fillna("").to_numpy(),
            "commune": inside["nom"].fillna("").to_numpy(),
            "lat": points.geometry.y.round(6).to_numpy(),
            "lon": points.geometry.x.round(6).to_numpy(),
            "statut_diffusion": "O",
        }
    )


def _grants(
    structures: pd.DataFrame, sites: np.ndarray, n: int, rng: np.random.Generator
) -> pd.DataFrame:
    demo = pd.read_csv(REPO / "data" / "demo" / "grants.csv", dtype=str, keep_default_na=False)
    grants = demo.iloc[rng.integers(0, len(demo), n)].reset_index(drop=True)
    benef = rng.integers(0, len(structures), n)
    amounts = np.round(rng.lognormal(8.0, 1.0, n), 2)
    at_site = rng.random(n) < AT_PROJECT_SITE
    site = sites[rng.integers(0, len(sites), n)]
    grants["id_subvention"] = [f"SYNTH-{i:06d}" for i in range(n)]
    grants["nomBeneficiaire"] = structures["nom"].to_numpy()[benef]
    grants["idBeneficiaire"] = structures["siret"].to_numpy()[benef]
    grants["rnaBeneficiaire"] = ""
    grants["objet"] = [f"Projet synthétique {i}" for i in range(n)]
    grants["montant"] = [f"{a:.2f}" for a in amounts]
    grants["montant_verse"] = grants["montant"]
    grants["lat_projet"] = [f"{p.y:.6f}" if s else "" for p, s in zip(site, at_site, strict=True)]
    grants["lon_projet"] = [f"{p.x:.6f}" if s else "" for p, s in zip(site, at_site, strict=True)]
    return grants


def build_store(ess_home: Path, n_grants: int, seed: int = 0) -> None:
    """Fill `ess_home` (created if needed) with the layers and `n_grants` synthetic grants.

    Raises RuntimeError when the shared data folder is missing or an import stores nothing.
    """
    from loaders.importer import import_file
    from loaders.layers import import_layer, load_layer
    from loaders.sync import sync_layers
    from tests.synthetic import synthetic_qpv

    data = shared_data()
    if not (data / "geo").is_dir():
        raise RuntimeError(f"données publiques absentes : {data} (ESS_SHARED_DATA)")
    ess_home = Path(ess_home)
    ess_home.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    with using_home(ess_home), tempfile.TemporaryDirectory(prefix="ess_synth_") as tmp:
        work = Path(tmp)
        sync_layers([data / "geo", data / "activity"], offline=True)
        for generation in ("2015", "2024"):
            path = work / f"qpv_{generation}.geojson"
            synthetic_qpv(generation).to_file(path, driver="GeoJSON")
            import_layer(f"qpv_{generation}", path)
        communes, _ = load_layer("communes")  # canonical: code 59350/59298/59355, nom
        structures = _structures(communes, min(MAX_STRUCTURES, n_grants), rng)
        sites = random_points_in(communes, PROJECT_SITES, rng)
        grants = _grants(structures, sites, n_grants, rng)
        for kind, frame in (("structures", structures), ("grants", grants)):
            path = work / f"{kind}_synthetiques.csv"
            frame.to_csv(path, index=False)
            report = import_file(path, kind)
            if not report.stored or report.accepted != len(frame):
                raise RuntimeError(f"import {kind} : {report.summary_fr()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ess_home", type=Path)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    build_store(args.ess_home, args.grants, args.seed)
    elapsed = time.perf_counter() - start
    print(f"{args.grants} subventions importées dans {args.ess_home} en {elapsed:.1f} s")


if __name__ == "__main__":
    main()
