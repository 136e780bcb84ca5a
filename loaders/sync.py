"""`python -m loaders sync` and `status`: refresh reference layers and say where each comes from.

Each layer is taken from a user's folder when it holds a matching file, else from the official
source (unless offline); failures keep the cache and are reported in French, and the
enrichment is rebuilt at the end so the dashboard shows the new layers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from geo.formatting import fmt_date, fmt_int
from loaders.http import FetchError
from loaders.layers import (
    LAYER_NAMES,
    LayerError,
    LayerMeta,
    ReaderError,
    fetch_layer,
    import_layer,
    load_layer,
)
from loaders.readers import VECTOR_SUFFIXES
from loaders.sources import SOURCES

ESSENTIAL_LAYERS = ("communes",)  # without these the dashboard cannot draw its maps


@dataclass
class LayerReport:
    """What sync did for one layer, for the French report."""

    name: str
    action: str  # imported, fetched, kept, embedded, missing, failed
    message: str
    rows: int = 0


def candidate_files(directories: Iterable[str | Path]) -> list[Path]:
    """Readable data files directly inside the given folders."""
    files: list[Path] = []
    for directory in directories:
        folder = Path(directory)
        if not folder.is_dir():
            raise FileNotFoundError(f"Dossier introuvable : {folder}")
        files.extend(
            p
            for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in VECTOR_SUFFIXES
        )
    return files


def _describe_current(name: str) -> LayerReport:
    gdf, meta = load_layer(name)
    if gdf is None:
        return LayerReport(name, "missing", f"absente — {meta.reason}")
    if meta.embedded:
        return LayerReport(name, "embedded", f"défaut embarqué conservé ({meta.source})", meta.rows)
    return LayerReport(
        name,
        "kept",
        f"cache conservé ({meta.source}, obtenu le {fmt_date(meta.retrieved, 'inconnue')})",
        meta.rows,
    )


def sync_layer(
    name: str,
    files: Sequence[Path],
    *,
    offline: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> LayerReport:
    """Import the layer from `files` when one matches, else fetch it unless offline."""
    matched = SOURCES[name].find_files(list(files)) if files else None
    if matched:
        names = " + ".join(p.name for p in matched)
        try:
            _, meta = import_layer(name, matched)
        except (LayerError, ReaderError) as exc:
            current = _describe_current(name)
            return LayerReport(
                name,
                "failed",
                f"import de {names} refusé : {exc} ; {current.message}",
                current.rows,
            )
        return LayerReport(name, "imported", f"importée depuis {names}", meta.rows)
    if offline:
        return _describe_current(name)
    try:
        gdf, meta = fetch_layer(name, sleep=sleep)
    except (LayerError, ReaderError, FetchError) as exc:
        current = _describe_current(name)
        return LayerReport(
            name, "failed", f"téléchargement refusé : {exc} ; {current.message}", current.rows
        )
    if meta.warning:
        action = "missing" if gdf is None else ("embedded" if meta.embedded else "kept")
        return LayerReport(name, action, meta.warning, meta.rows)
    if gdf is None:
        return LayerReport(name, "missing", f"absente — {meta.reason}")
    return LayerReport(name, "fetched", f"téléchargée depuis {meta.source_url}", meta.rows)


def sync_layers(
    from_dirs: Sequence[str | Path] = (),
    *,
    offline: bool = False,
    layers: Sequence[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[LayerReport]:
    """Sync the requested layers (all by default), in dependency order."""
    unknown = [n for n in layers or () if n not in LAYER_NAMES]
    if unknown:
        raise KeyError(
            f"Couche(s) inconnue(s) : {', '.join(unknown)} (couches : {', '.join(LAYER_NAMES)})"
        )
    files = candidate_files(from_dirs)
    wanted = [n for n in LAYER_NAMES if not layers or n in layers]
    return [sync_layer(name, files, offline=offline, sleep=sleep) for name in wanted]


def run_sync(
    from_dirs: Sequence[str | Path], offline: bool, layers: Sequence[str] | None, out=print
) -> int:
    """The `sync` command: report per layer, rebuild the enrichment, exit 0 if the app can run."""
    reports = sync_layers(from_dirs, offline=offline, layers=layers)
    out("Couches de référence :")
    for report in reports:
        rows = f" ({fmt_int(report.rows)} lignes)" if report.rows else ""
        out(f"  - {report.name}{rows} : {report.message}")
    from loaders import pipeline

    try:
        summary = pipeline.rebuild()
    except Exception as exc:  # any failure here must be reported, not crash the report
        out(f"Échec de la reconstruction de l'enrichissement : {exc}")
        return 1
    out("Enrichissement reconstruit :")
    for key, value in (summary or {}).items():
        out(f"  - {key} : {value}")
    essential_ok = all(load_layer(n)[0] is not None for n in ESSENTIAL_LAYERS)
    if not essential_ok:
        out("Le tableau de bord ne peut pas fonctionner sans la couche des communes.")
    return 0 if essential_ok else 1


def layer_status(meta: LayerMeta) -> dict:
    """The status entry of one layer: rows, source, updated, and reason when missing."""
    entry = {"rows": meta.rows, "source": meta.source, "updated": meta.updated}
    if meta.rows == 0:
        entry["reason"] = meta.reason
    return entry


def status() -> dict:
    """What `status --json` prints: layers, datasets and whether the demo data is shown."""
    from loaders.datasets import load_datasets

    layers = {name: layer_status(load_layer(name)[1]) for name in LAYER_NAMES}
    ds = load_datasets()
    datasets = {key: ds.meta.get(key, {}) for key in ("structures", "grants", "land")}
    return {"layers": layers, "datasets": datasets, "demo": bool(ds.demo)}


def run_status(as_json: bool, out=print) -> int:
    """The `status` command: JSON on stdout, or a readable French table."""
    data = status()
    if as_json:
        out(json.dumps(data, ensure_ascii=False, default=str))
        return 0
    out(_table(data))
    return 0


def _table(data: dict) -> str:
    lines = ["Couches de référence", ""]
    rows = [("Couche", "Lignes", "Mise à jour", "Source")]
    notes = []
    for name, entry in data["layers"].items():
        rows.append(
            (
                name,
                fmt_int(entry["rows"]),
                fmt_date(entry.get("updated"), "inconnue"),
                entry.get("source") or "",
            )
        )
        if entry.get("reason"):
            notes.append(f"  {name} : {entry['reason']}")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        lines.append("  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3])
    if notes:
        lines += ["", "Couches manquantes :", *notes]
    lines += ["", "Données d'activité" + (" (démonstration fictive)" if data["demo"] else "")]
    for key, label in (
        ("structures", "Structures"),
        ("grants", "Subventions"),
        ("land", "Foncier"),
    ):
        meta = data["datasets"].get(key) or {}
        lines.append(
            f"  {label} : {fmt_int(meta.get('rows') or 0)} lignes — "
            f"{meta.get('source') or 'source inconnue'} "
            f"(mise à jour : {fmt_date(meta.get('updated'), 'inconnue')})"
        )
    return "\n".join(lines)
