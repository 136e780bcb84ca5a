"""The local store: atomic writes (a crash leaves the previous data), log, undo."""

from __future__ import annotations

import pandas as pd
import pytest

from loaders import store


def frame(names: list[str], amounts: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"nomBeneficiaire": names, "montant": amounts, "axe": pd.array([1] * len(names), "Int64")}
    )


def entry(name: str, n: int) -> dict:
    return {"file": name, "sha256": "ab" * 32, "read": n, "accepted": n, "rejected": 0}


def snapshot() -> tuple:
    grants = store.read_kind("grants")
    land = store.read_kind("land")
    return (
        None if grants is None else grants.to_dict("list"),
        None if land is None else land.to_dict("list"),
        store.store_meta(),
        store.import_log(),
    )


def test_empty_store(ess_home):
    assert store.read_kind("grants") is None
    assert store.store_meta() == {}
    assert store.import_log() == []
    assert store.undo_last() is None


def test_write_read_meta_log(ess_home):
    store.write_import("grants", frame(["A", "B"], [10.0, 20.5]), entry("g1.csv", 2))
    store.write_import("land", pd.DataFrame({"site_id": ["T1"]}), entry("l1.csv", 1))
    grants = store.read_kind("grants")
    assert grants["montant"].tolist() == [10.0, 20.5]
    assert str(grants["axe"].dtype) == "Int64"
    meta = store.store_meta()
    assert meta["grants"]["file"] == "g1.csv" and meta["grants"]["rows"] == 2
    assert meta["land"]["rows"] == 1
    assert set(meta["grants"]) == {"file", "sha256", "imported_at", "rows"}
    log = store.import_log()
    assert [e["file"] for e in log] == ["g1.csv", "l1.csv"]
    assert log[0]["kind"] == "grants" and log[0]["imported_at"]
    assert (ess_home / "store" / "CURRENT").is_file()


def test_store_location_follows_ess_store(ess_home, tmp_path, monkeypatch):
    shared = tmp_path / "partage"
    monkeypatch.setenv("ESS_STORE", str(shared))
    store.write_import("grants", frame(["A"], [1.0]), entry("g.csv", 1))
    assert (shared / "CURRENT").is_file()
    assert not (ess_home / "store" / "CURRENT").exists()


def test_crash_while_writing_parquet_keeps_previous_state(ess_home, monkeypatch):
    store.write_import("grants", frame(["A"], [1.0]), entry("g1.csv", 1))
    store.write_import("land", pd.DataFrame({"site_id": ["T1"]}), entry("l1.csv", 1))
    before = snapshot()
    real = store._write_parquet

    def write_then_crash(df, path):
        real(df, path)  # the first file is fully written...
        raise OSError("disque plein")  # ...then the process dies

    monkeypatch.setattr(store, "_write_parquet", write_then_crash)
    with pytest.raises(OSError, match="disque plein"):
        store.write_import("grants", frame(["X", "Y", "Z"], [9.0, 9.0, 9.0]), entry("g2.csv", 3))
    assert snapshot() == before
    leftovers = [p.name for p in (ess_home / "store" / "versions").iterdir()]
    assert not any(name.startswith(".tmp") for name in leftovers)


def test_crash_before_pointer_switch_keeps_previous_state(ess_home, monkeypatch):
    store.write_import("grants", frame(["A"], [1.0]), entry("g1.csv", 1))
    before = snapshot()

    def crash(name):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(store, "_switch", crash)
        with pytest.raises(KeyboardInterrupt):
            store.write_import("grants", frame(["B"], [2.0]), entry("g2.csv", 1))
    assert snapshot() == before
    store.write_import("grants", frame(["C"], [3.0]), entry("g3.csv", 1))
    assert store.read_kind("grants")["nomBeneficiaire"].tolist() == ["C"]
    assert [e["file"] for e in store.import_log()] == ["g1.csv", "g3.csv"]


def test_undo_restores_previous_state(ess_home):
    store.write_import("grants", frame(["A"], [1.0]), entry("g1.csv", 1))
    first = snapshot()
    store.write_import("grants", frame(["B", "C"], [2.0, 3.0]), entry("g2.csv", 2))
    assert store.read_kind("grants")["nomBeneficiaire"].tolist() == ["B", "C"]
    undone = store.undo_last()
    assert undone["file"] == "g2.csv" and undone["accepted"] == 2
    assert snapshot() == first
    undone = store.undo_last()
    assert undone["file"] == "g1.csv"
    assert store.read_kind("grants") is None and store.import_log() == []
    assert store.undo_last() is None


def test_history_is_pruned(ess_home, monkeypatch):
    monkeypatch.setattr(store, "KEEP_VERSIONS", 2)
    for i in range(5):
        store.write_import("grants", frame([f"N{i}"], [float(i)]), entry(f"g{i}.csv", 1))
    assert len(list((ess_home / "store" / "versions").iterdir())) == 3
    for expected in ("N3", "N2"):
        store.undo_last()
        assert store.read_kind("grants")["nomBeneficiaire"].tolist() == [expected]


def test_unknown_kind(ess_home):
    with pytest.raises(ValueError, match="inconnu"):
        store.read_kind("budget")
