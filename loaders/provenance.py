"""Which sources a page, a bilan or an export names (Licence Ouverte): one record per source.

A record is ``{"nom", "producteur", "mis_a_jour", "recupere"}``: the French label of the layer or
dataset, its producer (from data/sources.json) and origin, the publisher's last update date and
the retrieval date (ISO text, empty when unknown). Pages, the annual bilan and the command-line
exports build them here, from the same layer metadata and dataset metadata, so a file downloaded
from a page and the same file written by `python -m loaders export` name the same sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from loaders import config

LAYER_LABELS = {
    "communes": "Communes (Lille, Hellemmes, Lomme)",
    "mel_communes": "Communes de la MEL",
    "quartiers": "Quartiers",
    "iris": "IRIS et population",
    "qpv_2015": "QPV (liste 2015)",
    "qpv_2024": "QPV (liste 2024)",
    "friches": "Friches (Cartofriches)",
    "ess_establishments": "Établissements ESS (SIRENE)",
}
DATASET_LABELS = {"structures": "Structures", "grants": "Subventions", "land": "Sites fonciers"}


def sources_records(
    metas: Mapping[str, object], datasets_meta: Mapping[str, dict], layer_names: Iterable[str]
) -> list[dict]:
    """The loaded layers among `layer_names` (with rows), then every activity dataset.

    `metas` maps a layer name to its loaders.layers.LayerMeta (or to a (layer, meta) pair as
    load_layers returns it); `datasets_meta` is loaders.datasets.Datasets.meta.
    """
    manifest = config.manifest()
    out = []
    for name in layer_names:
        meta = metas.get(name)
        if isinstance(meta, tuple):
            meta = meta[1]
        if meta is None or not meta.rows:
            continue
        producer = manifest.get(name, {}).get("producteur")
        out.append(
            {
                "nom": LAYER_LABELS.get(name, name),
                "producteur": f"{producer} — {meta.source}" if producer else meta.source,
                "mis_a_jour": meta.updated or "",
                "recupere": meta.retrieved or "",
            }
        )
    for kind, meta in datasets_meta.items():
        out.append(
            {
                "nom": DATASET_LABELS.get(kind, kind),
                "producteur": meta.get("source", ""),
                "mis_a_jour": meta.get("updated") or "",
                "recupere": "",
            }
        )
    return out
