"""The territories export: the table behind Répartition as French Excel CSV or JSON.

`geo.territories.territories_table` builds the rows (pure); this module writes them with the
CSV conventions of `loaders.export` (`;`, UTF-8 with BOM, decimal comma, formulas neutralised,
an `Avertissement` first column for the demo data, a last `Sources` column) or as JSON: a list
of objects, one per territory, with the same fields under their canonical names. JSON has no
room for a header, so each object carries `sources` (and `avertissement` for the demo data).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from loaders.export import (
    DEMO_WARNING,
    _source_members,
    _write_atomic,
    csv_bytes,
)

FORMATS = ("csv", "json")
LABELS = {
    "code": "Code",
    "nom": "Territoire",
    "liste": "Liste QPV",
    "population": "Population",
    "population_source": "Source et millésime de la population",
    "projets": "Subventions",
    "montant_engage": "Montant engagé (€)",
    "montant_verse": "Montant versé (€)",
    "eur_par_habitant": "Euros par habitant",
    "montant_dans_qpv": "Montant dans un QPV (€)",
    "montant_pres_qpv": "Montant dans un QPV ou à proximité (€)",
}


def _plain(value):
    """A JSON/CSV-ready Python value: None for missing, floats rounded to the cent."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        return round(value, 2) if math.isfinite(value) else None
    return value


def territories_payload(
    table: pd.DataFrame, fmt: str, *, demo: bool, sources: list[dict] | None = None
) -> bytes:
    """Serialise a `territories_table` as `fmt` (csv or json)."""
    if fmt not in FORMATS:
        raise ValueError(f"format inconnu : « {fmt} » (attendu : {', '.join(FORMATS)})")
    sources = list(sources or [])
    columns = [c for c in LABELS if c in table.columns]
    rows = [[_plain(v) for v in row] for row in table[columns].itertuples(index=False)]
    if fmt == "json":
        members = _source_members(sources)
        records = []
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            if demo:
                record["avertissement"] = DEMO_WARNING
            record["sources"] = members
            records.append(record)
        return json.dumps(records, ensure_ascii=False, indent=1).encode("utf-8")
    return csv_bytes([LABELS[c] for c in columns], rows, demo, sources)


def export_territories(
    table: pd.DataFrame,
    fmt: str,
    path: Path | str | None = None,
    *,
    demo: bool,
    sources: list[dict] | None = None,
) -> bytes:
    """The payload of `territories_payload`, written atomically to `path` when given."""
    payload = territories_payload(table, fmt, demo=demo, sources=sources)
    if path is not None:
        _write_atomic(Path(path), payload)
    return payload


def export_from_store(
    by: str,
    fmt: str,
    path: Path | str,
    *,
    annee: int | None = None,
    axe: int | None = None,
    commune: str | None = None,
) -> tuple[pd.DataFrame, bool]:
    """`python -m loaders export --kind territories`: cached layers, current datasets, filters.

    The options are those of the other exports (year, axis, commune), applied through the
    dashboard's own filters (`geo.filters`, default period: the strategy), so that the file
    holds the figures of Répartition for the same selection. Returns (table, demo).
    """
    from geo import filters as geo_filters
    from geo.territories import layer_vintages, territories_table
    from loaders import config
    from loaders.datasets import load_datasets
    from loaders.layers import load_layers
    from loaders.pipeline import enriched
    from loaders.provenance import sources_records

    loaded = load_layers()
    layers = {name: gdf for name, (gdf, _) in loaded.items()}
    metas = {name: meta for name, (_, meta) in loaded.items()}
    datasets = load_datasets()
    data = enriched(datasets, loaded)
    filters = geo_filters.Filters(
        years=(annee, annee) if annee is not None else None,
        axes=[axe] if axe is not None else [],
        communes=[commune] if commune else [],
    )
    grants = geo_filters.apply(data.grants, data.structures, filters)
    table = territories_table(
        grants, layers, by, vintages=layer_vintages(metas), buffer_m=config.qpv_buffer_m()
    )
    sources = sources_records(metas, datasets.meta, SOURCE_LAYERS[by])
    export_territories(table, fmt, path, demo=datasets.demo, sources=sources)
    return table, datasets.demo


SOURCE_LAYERS = {
    "commune": ["communes", "iris", "qpv_2015", "qpv_2024"],
    "quartier": ["quartiers", "iris", "qpv_2015", "qpv_2024"],
    "iris": ["iris", "qpv_2015", "qpv_2024"],
    "qpv": ["qpv_2015", "qpv_2024", "iris"],
}
