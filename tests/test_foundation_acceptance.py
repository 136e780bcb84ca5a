"""End to end on the real reference layers: sync from ../shared/data/geo, then the demo enriched.

The acceptance criteria of the data foundation: the layer counts, exactly one commune and one
quartier per demo structure, and totals that reconcile across communes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from geo.indicators import distribution
from loaders.config import DEMO_DIR
from tests.conftest import REPO


@pytest.fixture
def synced(shared_data, ess_home):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loaders",
            "sync",
            "--from-dir",
            str(shared_data / "geo"),
            "--offline",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return ess_home


def test_status_counts_after_sync(synced):
    run = subprocess.run(
        [sys.executable, "-m", "loaders", "status", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    status = json.loads(run.stdout)
    layers = status["layers"]
    assert layers["communes"]["rows"] == 3
    assert layers["mel_communes"]["rows"] == 95
    assert layers["quartiers"]["rows"] == 12
    assert layers["iris"]["rows"] >= 110
    assert layers["qpv_2024"]["rows"] == 0 and layers["qpv_2024"]["reason"]
    assert status["demo"] is True
    demo_structures = pd.read_csv(DEMO_DIR / "structures.csv", dtype=str)
    public = int((demo_structures["statut_diffusion"] != "P").sum())
    assert status["datasets"]["structures"]["rows"] == public


def test_every_demo_structure_has_one_commune_and_one_quartier(synced):
    from loaders.datasets import load_datasets
    from loaders.layers import load_layers
    from loaders.pipeline import enriched

    data = enriched(load_datasets(), load_layers())
    structures = data.structures
    assert structures["code_commune"].notna().all()
    assert structures["code_quartier"].notna().all()
    assert set(structures["code_commune"]) <= {"59350", "59298", "59355"}
    # Postcodes agree with the commune found on the map (59260 Hellemmes, 59160 Lomme).
    assert data.conflicts.empty, data.conflicts
    hellemmes = structures["code_postal"] == "59260"
    assert (structures.loc[hellemmes, "code_commune"] == "59298").all()

    grants = data.grants
    by_commune = distribution(grants, "code_commune")
    assert by_commune["montant_engage"].sum() == pytest.approx(grants["montant"].sum())
    by_quartier = distribution(grants, "code_quartier")
    assert by_quartier["projets"].sum() == len(grants)
    raw_total = pd.read_csv(DEMO_DIR / "grants.csv")["montant"].sum()
    assert grants["montant"].sum() == pytest.approx(raw_total)
