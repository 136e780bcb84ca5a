"""Inputs of the annual bilan read from disk (layers, datasets, enrichment), for the command line.

The dashboard's « Bilan annuel » page builds the same ``geo.bilan.BilanInputs`` from its cached
bundle; the figures and the typesetting are in ``geo.bilan`` and ``geo.bilan_render``.
"""

from __future__ import annotations

import pandas as pd

from geo.bilan import BilanInputs
from loaders import config
from loaders.provenance import sources_records

LAYERS = ("communes", "quartiers", "iris", "qpv_2015", "qpv_2024", "friches")


def sources(metas: dict, datasets_meta: dict) -> list[dict]:
    """Each source the bilan uses, with its producer and last update date."""
    return sources_records(metas, datasets_meta, LAYERS)


def data_date(datasets_meta: dict) -> str | None:
    """The latest update date of the datasets (ISO), if any is known."""
    dates = [str(m.get("updated")) for m in datasets_meta.values() if m.get("updated")]
    return max(dates) if dates else None


def quartier_population(layers: dict) -> pd.Series | None:
    """Population per quartier from the IRIS (area shares), None when a layer is missing."""
    from geo.indicators import population_by

    iris, quartiers = layers.get("iris"), layers.get("quartiers")
    if iris is None or quartiers is None or not len(iris) or not len(quartiers):
        return None
    try:
        return population_by(iris, "quartier", quartiers)
    except (ValueError, KeyError):
        return None


def inputs_from(layers: dict, metas: dict, datasets, data) -> BilanInputs:
    """BilanInputs from loaded layers {name: gdf}, their metas, Datasets and Enriched."""
    from loaders.pipeline import qpv_switch_year

    return BilanInputs(
        grants=data.grants,
        structures=data.structures,
        land=data.land,
        layers=layers,
        strategy=config.strategy(),
        demo=datasets.demo,
        data_date=data_date(datasets.meta),
        sources=sources(metas, datasets.meta),
        buffer_m=config.qpv_buffer_m(),
        qpv_switch_year=qpv_switch_year(),
    )


def load_inputs() -> tuple[BilanInputs, pd.Series | None]:
    """Everything a bilan needs, from the cache and the store (no network)."""
    from loaders.datasets import load_datasets
    from loaders.layers import load_layers
    from loaders.pipeline import enriched

    loaded = load_layers()
    layers = {name: gdf for name, (gdf, _) in loaded.items()}
    metas = {name: meta for name, (_, meta) in loaded.items()}
    datasets = load_datasets()
    data = enriched(datasets, loaded)
    return inputs_from(layers, metas, datasets, data), quartier_population(layers)
