"""Shared fixtures: where the real public data of ../shared lives, and an isolated ESS_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("ESS_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The real public data of ../shared/data (never copied into the repository)."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing at {SHARED_DATA}")
        pytest.skip(f"shared data missing at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def official_scdl_schema(monkeypatch) -> None:
    """The official SCDL schema from ../shared/data: tests never download it (they may unset it)."""
    path = SHARED_DATA / "activity" / "scdl_subventions_schema_v2.1.1.json"
    if path.is_file():
        monkeypatch.setenv("ESS_SCDL_SCHEMA", str(path))


@pytest.fixture
def ess_home(tmp_path, monkeypatch) -> Path:
    """An empty ESS_HOME so tests never touch the developer's cache or store."""
    home = tmp_path / "ess_home"
    home.mkdir()
    monkeypatch.setenv("ESS_HOME", str(home))
    monkeypatch.delenv("ESS_STORE", raising=False)
    return home
