"""`python -m loaders sync` / `status`: the real command line on the shared data, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from loaders.layers import LAYER_NAMES
from loaders.sync import sync_layers

REPO = Path(__file__).resolve().parent.parent


def _features(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ESS_HOME": str(home)}
    env.pop("ESS_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_sync_from_shared_dirs_then_status(shared_data, tmp_path):
    home = tmp_path / "ess_home"
    geo, activity = shared_data / "geo", shared_data / "activity"
    sync = _run(["sync", "--from-dir", str(geo), "--from-dir", str(activity), "--offline"], home)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert "importée depuis lille_hellemmes_lomme.geojson" in sync.stdout
    assert "qpv_2015" in sync.stdout and "absente" in sync.stdout

    status = _run(["status", "--json"], home)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert set(data) == {"layers", "datasets", "demo"}
    layers = data["layers"]
    assert set(layers) == set(LAYER_NAMES)
    assert layers["communes"]["rows"] == len(_features(geo / "lille_hellemmes_lomme.geojson")) == 3
    mel_rows = len(pd.read_csv(geo / "mel_communes_2026.csv"))
    assert layers["mel_communes"]["rows"] == mel_rows == 95
    assert (
        layers["quartiers"]["rows"]
        == len(_features(geo / "quartiers_lille_hellemmes_lomme.geojson"))
        == 12
    )
    iris_rows = len(_features(geo / "iris_mel_rp2019.geojson"))
    assert layers["iris"]["rows"] == iris_rows and iris_rows >= 110
    assert layers["friches"]["rows"] == len(
        _features(activity / "cartofriches_lille_2023-10.geojson")
    )
    for name in ("qpv_2015", "qpv_2024"):
        assert layers[name]["rows"] == 0
        assert "python -m loaders sync" in layers[name]["reason"]
    assert layers["friches"]["updated"] == "2023-10"
    assert set(data["datasets"]) == {"structures", "grants", "land"}
    assert isinstance(data["demo"], bool)

    table = _run(["status"], home)
    assert table.returncode == 0 and "Couches de référence" in table.stdout


def test_sync_offline_reports_each_layer(ess_home, shared_data, tmp_path):
    reports = {r.name: r for r in sync_layers([shared_data / "geo"], offline=True)}
    assert reports["quartiers"].action == "imported" and reports["quartiers"].rows == 12
    assert reports["iris"].message == (
        "importée depuis iris_mel_rp2019.geojson + iris_population_mel_rp2019.csv"
    )
    assert reports["friches"].action == "missing"  # not in geo/, no cache, no default
    assert reports["qpv_2024"].action == "missing" and "--from-dir" in reports["qpv_2024"].message

    # A file of the right layer under another name is recognised by its columns.
    renamed = tmp_path / "mes_donnees"
    renamed.mkdir()
    (renamed / "decoupage.geojson").write_bytes(
        (shared_data / "geo" / "quartiers_lille_hellemmes_lomme.geojson").read_bytes()
    )
    again = {
        r.name: r for r in sync_layers([renamed], offline=True, layers=["quartiers", "communes"])
    }
    assert again["quartiers"].message == "importée depuis decoupage.geojson"
    assert again["communes"].action == "kept"  # cached by the first sync, kept offline
