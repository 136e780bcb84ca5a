"""Encodings as real files mix them (issue 9, item 2): a BOM before Windows-1252 text, lines in
two encodings, mojibake already present in the source. The report's column list never holds a
BOM or mojibake, and read = accepted + rejected throughout.
"""

from __future__ import annotations

from loaders.importer import import_file
from loaders.readers_tabular import read_tabular_bytes, repair_mojibake

HEADER = "nomAttribuant;nomBeneficiaire;montant;annee;objet\r\n"
LINE_1252 = "Département du Nord;Régie de quartier;1500;2022;Éco-chantier\r\n"
LINE_UTF8 = "Ville de Lille;Épicerie Solidaire;800;2023;Café associatif\r\n"


def _clean(columns):
    return not any("\ufeff" in c or "ï»¿" in c or "Ã" in c or "â€" in c for c in columns)


def test_bom_followed_by_windows_1252(tmp_path, ess_home):
    path = tmp_path / "bom_1252.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + LINE_1252).encode("cp1252"))
    report = import_file(path, "grants", dry_run=True)
    assert list(report.source_frame.columns)[0] == "nomAttribuant"
    assert _clean(report.mapping) and report.ignored_columns == []
    assert report.accepted_df.loc[2, "nomAttribuant"] == "Département du Nord"
    assert (report.read, report.accepted, report.rejected) == (1, 1, 0)


def test_lines_in_two_encodings_each_read_in_its_own(tmp_path, ess_home):
    path = tmp_path / "concat.csv"
    content = (HEADER + LINE_1252).encode("cp1252") + LINE_UTF8.encode("utf-8")
    content += LINE_1252.replace("1500", "90").encode("cp1252")
    path.write_bytes(content)
    report = import_file(path, "grants", dry_run=True)
    assert report.accepted_df["nomBeneficiaire"].tolist() == [
        "Régie de quartier",
        "Épicerie Solidaire",
        "Régie de quartier",
    ]
    assert report.accepted_df.loc[3, "objet"] == "Café associatif"
    assert report.notes[0].startswith("Encodage détecté : mixte (UTF-8 et Windows-1252")
    assert {
        "row": None,
        "column": "",
        "message": "encodages mélangés : 2 ligne(s) du fichier en Windows-1252 (ligne(s) 2, 4), "
        "les autres en UTF-8 ; chaque ligne a été lue dans son encodage",
    } in report.warnings
    assert (report.read, report.accepted, report.rejected) == (3, 3, 0)


MOJIBAKE = (
    "nomAttribuant;Nom du bÃ©nÃ©ficiaire;montant;annee;objet\n"
    "Conseil DÃ©partemental;Lâ€™Atelier;1500;2022;Ã‰co-chantier\n"
    "Ville de Lille;Régie;800;2023;Café\n"
)


def test_mojibake_reported_with_a_proposed_repair_applied_on_request(tmp_path, ess_home):
    path = tmp_path / "mojibake.csv"
    path.write_text(MOJIBAKE, encoding="utf-8")
    report = import_file(path, "grants", dry_run=True)
    # The header is always repaired: the column list holds no mojibake.
    assert "Nom du bénéficiaire" in report.mapping and _clean(report.mapping)
    assert report.mapping["Nom du bénéficiaire"] == "nomBeneficiaire"
    by_column = {w["column"]: w["message"] for w in report.warnings if w["row"] is None}
    assert by_column["nomAttribuant"] == (
        "1 valeur(s) semblent mal encodées (ex. « Conseil DÃ©partemental ») : réparation "
        "proposée « Conseil Départemental » (option « réparer l'encodage »), ligne(s) 2"
    )
    assert "« Lâ€™Atelier »" in by_column["Nom du bénéficiaire"]
    # Not repaired unless asked.
    assert report.accepted_df.loc[2, "nomAttribuant"] == "Conseil DÃ©partemental"
    fixed = import_file(path, "grants", dry_run=True, fix_mojibake=True)
    assert fixed.accepted_df.loc[2, "nomAttribuant"] == "Conseil Départemental"
    assert fixed.accepted_df.loc[2, "nomBeneficiaire"] == "L’Atelier"
    assert fixed.accepted_df.loc[2, "objet"] == "Éco-chantier"
    assert fixed.accepted_df.loc[3, "objet"] == "Café"  # sound values untouched
    assert (fixed.read, fixed.accepted, fixed.rejected) == (2, 2, 0)


def test_repair_is_only_proposed_for_true_mojibake():
    assert repair_mojibake("DÃ©partemental") == "Départemental"
    assert repair_mojibake("Lâ€™Atelier") == "L’Atelier"
    assert repair_mojibake("Département") is None
    table = read_tabular_bytes("a;b\nÀ Lille;ça va\n".encode(), "f.csv")
    assert table.warnings == []


def test_command_line_fix_mojibake(tmp_path, ess_home, capsys):
    import argparse

    from loaders import io_cli, store

    path = tmp_path / "mojibake.csv"
    path.write_text(MOJIBAKE, encoding="utf-8")
    parser = argparse.ArgumentParser(prog="python -m loaders")
    io_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["import", str(path), "--kind", "grants", "--fix-mojibake"])
    assert args.func(args) == 0
    assert store.read_kind("grants")["nomAttribuant"].tolist()[0] == "Conseil Départemental"
    assert "2 ligne(s) lue(s), 2 acceptée(s), 0 rejetée(s)" in capsys.readouterr().out
