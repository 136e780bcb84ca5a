"""Command-line import, undo and export of the City's datasets (`python -m loaders import ...`),
and the annual bilan of the strategy (`python -m loaders bilan --annee 2025 --format pdf -o F`).

`import --geocode` locates addresses without coordinates (national address base); `import
--sirene` completes structures from their SIRET through API Recherche d'entreprises (both need the
network; without it the import still succeeds, with warnings).

Exit codes: 0 done (an import whose rows were all rejected still exits 0: the file was read and
the report says why), 1 nothing to undo, 2 the file, mapping or option could not be used (French
message on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KINDS = ("grants", "structures", "land")
FORMATS = ("scdl", "csv", "xlsx", "geojson", "gpkg")
TERRITORY_LEVELS = ("commune", "quartier", "iris", "qpv")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `import`, `undo` and `export` subcommands; each sets `func(args) -> exit code`."""
    p = subparsers.add_parser(
        "import",
        help="importer un fichier de la Ville (CSV, XLSX, GeoJSON)",
        description="Importe un fichier de la Ville (CSV, XLSX, GeoJSON pour le foncier) : "
        "contrôle des lignes, puis, sur demande, enrichissement SIRENE des structures et "
        "géocodage des adresses, avant enregistrement (annulable avec « undo »).",
    )
    p.add_argument("file", metavar="FICHIER", help="fichier à importer")
    p.add_argument("--kind", required=True, choices=KINDS, help="type de données")
    p.add_argument("--dry-run", action="store_true", help="vérifier sans rien enregistrer")
    p.add_argument("--report", metavar="CHEMIN", help="écrire le rapport JSON dans ce fichier")
    p.add_argument("--rejects", metavar="CHEMIN", help="écrire les lignes rejetées (CSV Excel)")
    p.add_argument("--mapping", metavar="NOM", help="correspondance de colonnes enregistrée")
    p.add_argument("--sheet", metavar="FEUILLE", help="feuille du classeur Excel")
    p.add_argument(
        "--fix-mojibake",
        action="store_true",
        help="réparer les valeurs mal encodées signalées par le rapport (« DÃ©partemental » → "
        "« Départemental »)",
    )
    p.add_argument(
        "--sirene",
        action="store_true",
        help="structures seulement : compléter ESS, forme juridique, position et statut de "
        "diffusion depuis le SIRET (API Recherche d'entreprises, accès Internet requis)",
    )
    p.add_argument(
        "--geocode",
        action="store_true",
        help="géocoder les adresses sans coordonnées (Base adresse nationale, accès Internet "
        "requis)",
    )
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("undo", help="annuler le dernier import")
    p.set_defaults(func=cmd_undo)

    p = subparsers.add_parser("export", help="exporter un jeu de données")
    p.add_argument(
        "--kind",
        required=True,
        choices=(*KINDS, "territories"),
        help="type de données (territories : le tableau de la page Répartition)",
    )
    p.add_argument("--format", required=True, choices=(*FORMATS, "json"), dest="fmt", help="format")
    p.add_argument(
        "--by",
        choices=TERRITORY_LEVELS,
        help="territories seulement : découpage (commune, quartier, iris ou qpv)",
    )
    p.add_argument("-o", "--output", required=True, metavar="CHEMIN", help="fichier à écrire")
    p.add_argument("--annee", type=int, help="année (subventions)")
    p.add_argument("--axe", type=int, help="axe de la stratégie (subventions)")
    p.add_argument("--commune", metavar="CODE", help="code de commune : 59350, 59298 ou 59355")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser(
        "bilan",
        help="produire le bilan annuel de la stratégie ESS (PDF ou HTML)",
        description="Bilan annuel de la stratégie ESS pour le Comité de pilotage : chiffres clés, "
        "axes et priorités, territoires, foncier, feuilles de route, annexe des subventions.",
    )
    p.add_argument("--annee", type=int, required=True, help="année du bilan (2021 à 2026)")
    p.add_argument(
        "--cumul", action="store_true", help="sections en cumul depuis 2021 (sinon l'année seule)"
    )
    p.add_argument("--format", choices=("pdf", "html"), default="pdf", dest="fmt", help="format")
    p.add_argument("-o", "--output", required=True, metavar="CHEMIN", help="fichier à écrire")
    p.set_defaults(func=cmd_bilan)


def _error(message: str) -> int:
    print(f"Erreur : {message}", file=sys.stderr)
    return 2


def cmd_import(args: argparse.Namespace) -> int:
    from loaders.importer import import_file, rejects_csv
    from loaders.mapping import MappingError
    from loaders.readers_tabular import ImportFileError
    from loaders.store import StoreError

    if args.sirene and args.kind != "structures":
        return _error("l'option --sirene ne s'applique qu'aux structures (--kind structures)")
    if not Path(args.file).is_file():
        return _error(f"fichier introuvable : « {args.file} »")
    try:
        report = import_file(
            args.file,
            args.kind,
            mapping=args.mapping,
            dry_run=args.dry_run,
            geocode=args.geocode,
            sirene=args.sirene,
            sheet=args.sheet,
            fix_mojibake=args.fix_mojibake,
        )
    except (ImportFileError, MappingError, StoreError) as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"écriture impossible dans le dossier des données ({exc})")
    try:
        if args.report:
            Path(args.report).write_text(
                json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8"
            )
        if args.rejects and report.rejected:
            Path(args.rejects).write_bytes(rejects_csv(report))
    except OSError as exc:
        print(report.summary_fr())
        return _error(f"impossible d'écrire le rapport ({exc})")
    print(report.summary_fr())
    if args.report:
        print(f"Rapport écrit dans {args.report}")
    if args.rejects and report.rejected:
        print(f"Lignes rejetées écrites dans {args.rejects}")
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    from loaders.pipeline import warm
    from loaders.store import undo_last

    entry = undo_last()
    if entry is None:
        print("Aucun import à annuler.", file=sys.stderr)
        return 1
    warm()
    print(
        f"Import annulé : « {entry.get('file')} » ({entry.get('kind')}, "
        f"{entry.get('accepted', entry.get('rows'))} ligne(s), {entry.get('imported_at')})."
    )
    return 0


def cmd_export_territories(args: argparse.Namespace) -> int:
    """`export --kind territories --by LEVEL --format csv|json`: the table behind Répartition."""
    if args.by is None:
        return _error(
            "l'option --by est requise avec --kind territories (commune, quartier, iris, qpv)"
        )
    if args.fmt not in ("csv", "json"):
        return _error("le tableau des territoires s'exporte en csv ou json (--format csv|json)")
    from loaders.export_territories import export_from_store

    try:
        table, demo = export_from_store(
            args.by, args.fmt, args.output, annee=args.annee, axe=args.axe, commune=args.commune
        )
    except (OSError, ValueError) as exc:
        return _error(f"export impossible : {exc}")
    note = " (données de démonstration fictives)" if demo else ""
    print(f"Export : {len(table)} territoire(s) écrit(s) dans {args.output}{note}.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if args.kind == "territories":
        return cmd_export_territories(args)
    if args.by is not None or args.fmt == "json":
        return _error("les options --by et --format json ne s'appliquent qu'à --kind territories")
    if args.kind != "grants" and (args.annee is not None or args.axe is not None):
        return _error("les options --annee et --axe ne s'appliquent qu'aux subventions (grants)")
    try:
        from loaders.datasets import load_datasets
        from loaders.export import ExportError, export_dataset, scdl_withheld, scdl_withheld_text
        from loaders.layers import load_layers
        from loaders.provenance import LAYER_LABELS, sources_records
    except ImportError as exc:
        return _error(f"export indisponible dans cette installation ({exc.name})")
    datasets = load_datasets()
    sources = sources_records(load_layers(), datasets.meta, LAYER_LABELS)
    df = getattr(datasets, args.kind)
    if args.annee is not None:
        df = df[df["annee"] == args.annee]
    if args.axe is not None:
        df = df[df["axe"] == args.axe]
    if args.commune:
        try:
            df = filter_commune(df, args.commune)
        except LookupError as exc:
            return _error(str(exc))
    withheld = scdl_withheld_text(df) if args.fmt == "scdl" else None
    try:
        export_dataset(df, args.kind, args.fmt, args.output, demo=datasets.demo, sources=sources)
    except ExportError as exc:
        return _error(str(exc))
    except (OSError, ValueError) as exc:
        return _error(f"export impossible : {exc}")
    demo = " (données de démonstration fictives)" if datasets.demo else ""
    written = len(df) - (scdl_withheld(df)[0] if withheld else 0)
    print(f"Export : {written} ligne(s) écrite(s) dans {args.output}{demo}.")
    if withheld:
        print(withheld)
    return 0


def filter_commune(df, code: str):
    """Rows located in commune `code`: by a `code_commune` column, else by geo.communes' rule."""
    if "code_commune" in df.columns:
        return df[df["code_commune"].astype("string") == code]
    from geo.communes import commune_codes
    from loaders.layers import load_layer

    communes, meta = load_layer("communes")
    if communes is None:
        raise LookupError(f"couche des communes indisponible ({meta.reason})")
    if not (communes["code"].astype(str) == code).any():
        codes = ", ".join(sorted(communes["code"].astype(str)))
        raise LookupError(f"commune « {code} » inconnue (codes : {codes})")
    return df.loc[(commune_codes(df.geometry, communes) == code).to_numpy(dtype=bool)]


def cmd_bilan(args: argparse.Namespace) -> int:
    from geo.bilan import build_bilan
    from geo.bilan_render import render
    from loaders.bilan import load_inputs
    from loaders.config import strategy

    first, last = (int(y) for y in strategy()["periode"])
    if not first <= args.annee <= last:
        return _error(f"l'année doit être comprise entre {first} et {last} (reçu : {args.annee})")
    inputs, population = load_inputs()
    bilan = build_bilan(inputs, args.annee, cumul=args.cumul, quartier_population=population)
    try:
        Path(args.output).write_bytes(render(bilan, args.fmt))
    except OSError as exc:
        return _error(f"écriture impossible de « {args.output} » ({exc})")
    demo = " (données de démonstration fictives)" if inputs.demo else ""
    print(
        f"Bilan {args.annee} ({args.fmt.upper()}, {bilan.key['subventions_annee']} subvention(s) "
        f"de l'année) écrit dans {args.output}{demo}."
    )
    return 0
