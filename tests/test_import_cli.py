"""`import`, `undo` and `export` subcommands, driven through their own argparse parser."""

from __future__ import annotations

import argparse
import json
import sys
import types

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from loaders import io_cli, store

GRANTS = (
    "Identifiant;Nom du bénéficiaire;SIRET;Montant;Date de convention;Axe;Priorité;Commentaire\n"
    "S1;Régie;21590350100017;1 500,50;02/05/2023;1;3;ok\n"
    "S2;Épicerie;73282932000074;-10;2023-06-01;2;10;\n"
    "S3;Atelier;73282932000074;200;2023-06-01;1;9;\n"
)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders")
    io_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_import_report_json_and_exit_code_0(tmp_path, ess_home, capsys):
    source = tmp_path / "subventions.csv"
    source.write_text(GRANTS, encoding="utf-8")
    report_path = tmp_path / "rapport.json"
    rejects_path = tmp_path / "rejets.csv"
    code = run(
        [
            "import",
            str(source),
            "--kind",
            "grants",
            "--report",
            str(report_path),
            "--rejects",
            str(rejects_path),
        ]
    )
    assert code == 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert (report["read"], report["accepted"], report["rejected"]) == (3, 2, 1)
    assert report["rejects"] == [
        {"row": 3, "column": "montant", "reason": "valeur négative : -10"},
    ]
    # A priority that contradicts its axis is dropped, the grant kept (issue 9).
    assert {
        "row": 4,
        "column": "priorite",
        "message": "la priorité 9 relève de l'axe 2, pas de l'axe 1 : valeur non reprise, "
        "ligne conservée",
    } in report["warnings"]
    assert any(
        w["message"] == "colonne ignorée : « Commentaire » (non reconnue)"
        for w in report["warnings"]
    )
    out = capsys.readouterr().out
    assert "3 ligne(s) lue(s), 2 acceptée(s), 1 rejetée(s)" in out
    assert "Ligne 3, colonne montant : valeur négative : -10" in out
    assert store.read_kind("grants")["montant"].tolist() == [1500.5, 200.0]
    assert rejects_path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_dry_run_writes_nothing(tmp_path, ess_home, capsys):
    source = tmp_path / "subventions.csv"
    source.write_text(GRANTS, encoding="utf-8")
    assert run(["import", str(source), "--kind", "grants", "--dry-run"]) == 0
    assert store.read_kind("grants") is None
    assert "Simulation" in capsys.readouterr().out


def test_unreadable_file_exit_code_2(tmp_path, ess_home, capsys):
    source = tmp_path / "vide.csv"
    source.write_bytes(b"")
    report_path = tmp_path / "rapport.json"
    code = run(["import", str(source), "--kind", "grants", "--report", str(report_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "Impossible de lire « vide.csv » : le fichier est vide" in err
    assert not report_path.exists()
    assert run(["import", str(tmp_path / "absent.csv"), "--kind", "land"]) == 2
    assert "fichier introuvable" in capsys.readouterr().err
    assert run(["import", str(tmp_path / "vide.csv"), "--kind", "land", "--mapping", "x/y"]) == 2


def test_undo(tmp_path, ess_home, capsys):
    assert run(["undo"]) == 1
    source = tmp_path / "subventions.csv"
    source.write_text(GRANTS, encoding="utf-8")
    run(["import", str(source), "--kind", "grants"])
    capsys.readouterr()
    assert run(["undo"]) == 0
    assert "Import annulé : « subventions.csv » (grants, 2 ligne(s)" in capsys.readouterr().out
    assert store.read_kind("grants") is None


def test_export_filters_and_calls_export_dataset(tmp_path, ess_home, monkeypatch, capsys):
    grants = gpd.GeoDataFrame(
        {
            "id_subvention": ["a", "b", "c", "d"],
            "annee": [2023, 2023, 2024, 2023],
            "axe": [1, 2, 1, 1],
            "code_commune": ["59350", "59350", "59350", "59298"],
        },
        geometry=[Point(3.06, 50.63)] * 4,
        crs="EPSG:4326",
    )
    datasets = types.SimpleNamespace(grants=grants, structures=None, land=None, demo=True, meta={})
    calls = []
    fake_datasets = types.ModuleType("loaders.datasets")
    fake_datasets.load_datasets = lambda: datasets
    fake_export = types.ModuleType("loaders.export")
    fake_export.ExportError = type("ExportError", (Exception,), {})
    fake_export.scdl_withheld = fake_export.scdl_withheld_text = None
    fake_export.export_dataset = lambda df, kind, fmt, path, *, demo, sources: calls.append(
        (list(df["id_subvention"]), kind, fmt, path, demo)
    )
    monkeypatch.setitem(sys.modules, "loaders.datasets", fake_datasets)
    monkeypatch.setitem(sys.modules, "loaders.export", fake_export)
    out = str(tmp_path / "s.csv")
    argv = ["export", "--kind", "grants", "--format", "csv", "-o", out]
    assert run([*argv, "--annee", "2023", "--axe", "1", "--commune", "59350"]) == 0
    assert calls == [(["a"], "grants", "csv", out, True)]
    printed = capsys.readouterr().out
    assert "1 ligne(s) écrite(s)" in printed and "démonstration fictives" in printed
    argv_land = ["export", "--kind", "land", "--format", "csv", "-o", out, "--axe", "1"]
    assert run(argv_land) == 2
    assert "--axe ne s'appliquent qu'aux subventions" in capsys.readouterr().err


def test_filter_commune_by_column():
    df = pd.DataFrame({"code_commune": ["59350", "59355", None]})
    assert io_cli.filter_commune(df, "59355").index.tolist() == [1]


def test_python_m_loaders_entry_point(tmp_path, ess_home, capsys):
    from loaders.__main__ import main

    source = tmp_path / "vide.csv"
    source.write_bytes(b"\x00\x01\x02")
    assert main(["import", str(source), "--kind", "structures"]) == 2
    assert "binaire" in capsys.readouterr().err
    good = tmp_path / "subventions.csv"
    good.write_text(GRANTS, encoding="utf-8")
    assert main(["import", str(good), "--kind", "grants", "--dry-run"]) == 0
