"""Command line: `python -m loaders sync|status`; `import`, `undo`, `export`, `bilan`: io_cli."""

from __future__ import annotations

import argparse
import sys

from loaders.layers import LAYER_NAMES


def _sync(args: argparse.Namespace) -> int:
    from loaders.sync import run_sync

    return run_sync(args.from_dir or [], args.offline, args.layer or None)


def _status(args: argparse.Namespace) -> int:
    from loaders.sync import run_status

    return run_status(args.json)


def build_parser() -> argparse.ArgumentParser:
    """All subcommands; loaders.io_cli adds `import`, `undo`, `export` and `bilan`."""
    parser = argparse.ArgumentParser(
        prog="python -m loaders",
        description="Données du tableau de bord ESS : couches de référence et jeux de la Ville.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)

    sync = subparsers.add_parser(
        "sync", help="met à jour les couches de référence puis reconstruit l'enrichissement"
    )
    sync.add_argument(
        "--from-dir",
        action="append",
        metavar="DOSSIER",
        help="importe les couches trouvées dans ce dossier (répétable)",
    )
    sync.add_argument(
        "--offline", action="store_true", help="n'interroge aucune source en ligne (garde le cache)"
    )
    sync.add_argument(
        "--layer",
        action="append",
        choices=LAYER_NAMES,
        metavar="COUCHE",
        help=f"limite à cette couche (répétable) : {', '.join(LAYER_NAMES)}",
    )
    sync.set_defaults(func=_sync)

    status = subparsers.add_parser("status", help="état des couches et des jeux de données")
    status.add_argument("--json", action="store_true", help="sortie JSON sur stdout")
    status.set_defaults(func=_status)

    from loaders import io_cli

    io_cli.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (KeyError, FileNotFoundError, ValueError) as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
