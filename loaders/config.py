"""Where the dashboard keeps its files, read from the environment so IT staff can move them."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_DIR / "data"
DEMO_DIR = DATA_DIR / "demo"
USER_AGENT = "ess-lille-dashboard/0.1 (tableau de bord ESS Ville de Lille; open source)"


def home_dir() -> Path:
    """Root of everything written at run time (cache, store, enrichment); ESS_HOME overrides."""
    path = Path(os.environ.get("ESS_HOME", PROJECT_DIR / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Reference layers as last fetched or imported, one GeoParquet and one JSON meta per layer."""
    path = home_dir() / "layers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_dir() -> Path:
    """The City's own imported datasets; ESS_STORE overrides (a shared network folder, say)."""
    path = Path(os.environ.get("ESS_STORE", home_dir() / "store"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def enriched_dir() -> Path:
    """Spatially enriched tables, one file per dataset and data version."""
    path = home_dir() / "enriched"
    path.mkdir(parents=True, exist_ok=True)
    return path


@cache
def manifest() -> dict:
    """Official source URLs of every reference layer (data/sources.json)."""
    data = json.loads((DATA_DIR / "sources.json").read_text(encoding="utf-8"))
    data.pop("_comment", None)
    return data


@cache
def strategy() -> dict:
    """The ESS strategy 2021-2026: axes, priorities and envelope (data/strategy.json)."""
    return json.loads((DATA_DIR / "strategy.json").read_text(encoding="utf-8"))


def qpv_generation(year: int) -> str:
    """QPV list in force for a year: 2015 list up to ESS_QPV_SWITCH_YEAR - 1 (default 2024)."""
    switch = int(os.environ.get("ESS_QPV_SWITCH_YEAR", "2024"))
    return "qpv_2024" if year >= switch else "qpv_2015"


def qpv_buffer_m() -> float:
    """Distance in metres for the 'near a QPV' flag (ESS_QPV_BUFFER_M, default 300)."""
    return float(os.environ.get("ESS_QPV_BUFFER_M", "300"))


def state_token() -> str:
    """Cheap fingerprint of the on-disk state (layer cache and store), to invalidate UI caches."""
    stamps = []
    for folder in (cache_dir(), store_dir()):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                stamps.append(f"{path.name}:{stat.st_mtime_ns}:{stat.st_size}")
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:16]
