"""The territories export (table behind Répartition): hand-computed rows, writers, command line.

Synthetic squares for the hand-computed figures; the acceptance on the real IRIS RP 2019 and
quartiers of ../shared/data/geo, synced with `python -m loaders sync --from-dir`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from geo.indicators import OUTSIDE
from geo.territories import territories_table
from loaders.export_territories import export_territories

REPO = Path(__file__).resolve().parent.parent


def layers() -> dict:
    """Synthetic commune 59298 (one IRIS of 1 000 inhabitants, one quartier) and a QPV 2015."""
    square = box(3.10, 50.60, 3.12, 50.62)
    return {
        "communes": gpd.GeoDataFrame(
            {"code": ["59298"], "nom": ["Commune synthétique"], "population": [999.0]},
            geometry=[square],
            crs="EPSG:4326",
        ),
        "iris": gpd.GeoDataFrame(
            {
                "code_iris": ["593502401"],
                "nom_iris": ["IRIS synthétique"],
                "code_commune": ["59298"],
                "population": [1000.0],
            },
            geometry=[square],
            crs="EPSG:4326",
        ),
        "quartiers": gpd.GeoDataFrame(
            {
                "code_quartier": ["100"],
                "nom_quartier": ["Quartier synthétique"],
                "code_commune": ["59298"],
            },
            geometry=[square],
            crs="EPSG:4326",
        ),
        "qpv_2015": gpd.GeoDataFrame(
            {
                "code_qpv": ["SYNTH-Q1"],
                "nom_qpv": ["QPV synthétique"],
                "code_commune": ["59298"],
                "population": [400.0],
            },
            geometry=[box(3.10, 50.60, 3.11, 50.61)],
            crs="EPSG:4326",
        ),
    }


def grants() -> gpd.GeoDataFrame:
    """Three grants of 2022 in the commune (one inside the QPV, one near), one not located."""
    return gpd.GeoDataFrame(
        {
            "montant": [1000.0, 2000.0, 4000.0, 500.0],
            "montant_verse": [1000.0, 0.0, 4000.0, np.nan],
            "annee": [2022, 2022, 2022, 2022],
            "qpv_generation": ["2015"] * 4,
            "code_commune": ["59298", "59298", "59298", None],
            "code_quartier": ["100", "100", "100", None],
            "code_iris": ["593502401"] * 3 + [None],
            "code_qpv": ["SYNTH-Q1", None, None, None],
            "near_qpv": [True, True, False, False],
            "dist_qpv_m": [0.0, 100.0, 900.0, np.nan],
        },
        geometry=[Point(3.105, 50.605), Point(3.111, 50.605), Point(3.118, 50.618), None],
        crs="EPSG:4326",
    )


def test_commune_rows_by_hand():
    table = territories_table(grants(), layers(), "commune", vintages={"iris": 2019})
    row = table.set_index("code").loc["59298"]
    assert row["nom"] == "Commune synthétique"
    assert row["population"] == 1000  # from the IRIS (one vintage), not the communes' 999
    assert row["population_source"] == "population RP 2019, INSEE"
    assert row["projets"] == 3
    assert row["montant_engage"] == 7000 and row["montant_verse"] == 5000
    assert row["eur_par_habitant"] == pytest.approx(7.0)
    assert row["montant_dans_qpv"] == 1000 and row["montant_pres_qpv"] == 3000
    outside = table[table["nom"] == OUTSIDE].iloc[0]
    assert outside["code"] == "" and outside["montant_engage"] == 500
    assert table["montant_engage"].sum() == 7500  # rows add up to the selection


def test_qpv_rows_keep_the_official_population():
    table = territories_table(grants(), layers(), "qpv", vintages={"iris": 2019}, buffer_m=300)
    row = table.set_index("code").loc["SYNTH-Q1"]
    assert row["liste"] == "2015" and row["population"] == 400
    assert row["population_source"] == "population publiée avec la liste des QPV"
    assert row["projets"] == 1 and row["montant_engage"] == 1000 and row["montant_verse"] == 1000
    assert row["montant_pres_qpv"] == 3000  # inside + the grant about 70 m east
    assert row["eur_par_habitant"] == pytest.approx(2.5)


def test_unknown_qpv_list_gives_unknown_amounts():
    without = {k: v for k, v in layers().items() if k != "qpv_2015"}
    table = territories_table(grants(), without, "quartier").set_index("code")
    assert math.isnan(table.loc["100", "montant_dans_qpv"])
    assert table.loc["100", "montant_engage"] == 7000


def test_writers_csv_french_excel_and_json_list():
    table = territories_table(grants(), layers(), "quartier", vintages={"iris": 2019})
    sources = [{"nom": "IRIS et population", "producteur": "INSEE", "mis_a_jour": "2022-06-28"}]
    payload = export_territories(table, "csv", demo=True, sources=sources)
    assert payload.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Avertissement" and rows[0][-1] == "Sources"
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Territoire"] == "Quartier synthétique"
    assert first["Montant engagé (€)"] == "7000" and first["Euros par habitant"] == "7"
    assert first["Source et millésime de la population"] == "population RP 2019, INSEE"
    assert "IRIS et population (INSEE), mise à jour le 28/06/2022" in first["Sources"]
    records = json.loads(export_territories(table, "json", demo=False, sources=sources))
    assert isinstance(records, list) and records[0]["code"] == "100"
    assert records[0]["population"] == 1000 and records[0]["montant_pres_qpv"] == 3000
    assert records[0]["sources"][0]["mis_a_jour"] == "2022-06-28"
    assert records[-1]["nom"] == OUTSIDE and records[-1]["population"] is None


def _cli(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ESS_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("ESS_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_real_quartier_populations_add_up_to_the_communes(shared_data, tmp_path):
    """Acceptance: after `sync --from-dir ../shared/data/geo`, the export's quartiers add up."""
    home = tmp_path / "ess_home"
    sync = _cli(["sync", "--from-dir", str(shared_data / "geo"), "--offline"], home)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    out = {}
    for by in ("quartier", "commune"):
        path = tmp_path / f"{by}.json"
        done = _cli(
            ["export", "--kind", "territories", "--by", by, "--format", "json", "-o", str(path)],
            home,
        )
        assert done.returncode == 0, done.stderr
        out[by] = {r["code"]: r for r in json.loads(path.read_text(encoding="utf-8"))}
    quartiers, communes = out["quartier"], out["commune"]
    commune_total = sum(communes[c]["population"] for c in ("59350", "59298", "59355"))
    assert commune_total == pytest.approx(234475, rel=1e-4)  # RP 2019, INSEE
    quartier_total = sum(r["population"] for r in quartiers.values() if r["population"])
    assert quartier_total == pytest.approx(commune_total, rel=0.01)
    assert quartiers["100"]["population"] == pytest.approx(
        communes["59298"]["population"], rel=0.01
    )
    assert quartiers["200"]["population"] == pytest.approx(
        communes["59355"]["population"], rel=0.01
    )
    assert {r["population_source"] for r in quartiers.values() if r["code"]} == {
        "population RP 2019, INSEE"
    }
    assert quartiers["100"]["sources"], "every export names its sources"
    bad = _cli(["export", "--kind", "territories", "--format", "csv", "-o", "x.csv"], home)
    assert bad.returncode == 2 and "--by" in bad.stderr
