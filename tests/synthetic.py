"""Synthetic QPV perimeters for tests and benchmarks.

No real QPV outline is available offline; these squares are invented, and their codes and names say
so ("SYNTH-..."/"QPV synthétique ..."). They must never be shown as real geography.
"""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import box

# (code, name, territory code, centre lon, centre lat, half side in degrees, population)
_QPV_2015 = [
    ("SYNTH-QP059A", "QPV synthétique A (Lille-Sud)", "59350", 3.060, 50.612, 0.004, 12000.0),
    ("SYNTH-QP059B", "QPV synthétique B (Fives)", "59350", 3.090, 50.632, 0.003, 8000.0),
    ("SYNTH-QP059C", "QPV synthétique C (Lomme)", "59355", 2.990, 50.640, 0.002, None),
]
_QPV_2024 = [
    ("SYNTH-QN059A", "QPV synthétique A 2024 (Lille-Sud)", "59350", 3.060, 50.612, 0.005, 13000.0),
    ("SYNTH-QN059D", "QPV synthétique D 2024 (Hellemmes)", "59298", 3.110, 50.625, 0.002, 3000.0),
]


def synthetic_qpv(generation: str = "2015") -> gpd.GeoDataFrame:
    """Canonical qpv layer (code_qpv, nom_qpv, code_commune, population, geometry) in EPSG:4326."""
    rows = _QPV_2015 if generation == "2015" else _QPV_2024
    return gpd.GeoDataFrame(
        {
            "code_qpv": [r[0] for r in rows],
            "nom_qpv": [r[1] for r in rows],
            "code_commune": [r[2] for r in rows],
            "population": [r[6] for r in rows],
        },
        geometry=[
            box(r[3] - r[5], r[4] - r[5] * 0.64, r[3] + r[5], r[4] + r[5] * 0.64) for r in rows
        ],
        crs="EPSG:4326",
    )
