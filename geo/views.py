"""What a page and a presentation scene both show, built once here (data in, tables or maps out).

pages/qpv.py and the "QPV" scene draw the same coverage map, pages/repartition.py and the
"territories" scene the same choropleth, pages/comparer.py and the "comparison" scene the same
territories: each builder lives here so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd

from geo.indicators import classify, qpv_coverage
from geo.pagemaps import choropleth_areas, choropleth_map

# Scale of pages/repartition.py and of the territories scene: grant column, name column,
# layer, layer key.
LEVELS = {
    "commune": ("code_commune", "nom_commune", "communes", "code"),
    "quartier": ("code_quartier", "nom_quartier", "quartiers", "code_quartier"),
    "iris": ("code_iris", None, "iris", "code_iris"),
}
LEVEL_NAME_FIELDS = {"communes": "nom", "quartiers": "nom_quartier", "iris": "nom_iris"}


def list_coverage(
    grants: pd.DataFrame,
    structures: pd.DataFrame | None,
    qpv: gpd.GeoDataFrame,
    generation: str,
    buffer_m: float,
) -> pd.DataFrame:
    """``geo.indicators.qpv_coverage`` against one chosen QPV list (``qpv_2015``/``qpv_2024``).

    Elsewhere a grant is matched to the list in force in its year; here one list is chosen.
    """
    chosen = grants.assign(
        code_qpv=grants[f"code_{generation}"], near_qpv=grants[f"near_{generation}"]
    )
    return qpv_coverage(chosen, structures, qpv, buffer_m)


@dataclass(frozen=True)
class ClassedAreas:
    """Areas classed for a euro choropleth, with their legend: what a page and a scene both draw."""

    areas: gpd.GeoDataFrame
    value: str
    bins: list[float]
    labels: list[str]
    title: str
    legend_title: str
    tooltip_fields: Mapping[str, str]

    def layer(self) -> folium.FeatureGroup:
        """The shaded areas alone, to swap on a map whose base is built once."""
        return choropleth_areas(
            self.areas,
            self.value,
            self.bins,
            self.labels,
            name=self.title,
            legend_title=self.legend_title,
            tooltip_fields=self.tooltip_fields,
        )

    def map(
        self,
        layers: Mapping[str, gpd.GeoDataFrame | None],
        *,
        demo: bool = False,
        large: bool = False,
    ) -> folium.Map:
        """A whole map: the outlines of ``layers`` with the shaded areas."""
        return choropleth_map(
            self.areas,
            self.value,
            self.bins,
            self.labels,
            name=self.title,
            legend_title=self.legend_title,
            tooltip_fields=self.tooltip_fields,
            layers=layers,
            demo=demo,
            large=large,
        )


def coverage_areas(qpv: gpd.GeoDataFrame, coverage: pd.DataFrame) -> ClassedAreas | None:
    """Euros committed inside each QPV, classed; None when no QPV holds any project."""
    areas = qpv[["code_qpv", "geometry"]].merge(coverage, on="code_qpv")
    bins, labels = classify(areas.loc[areas["montant_dans"] > 0, "montant_dans"])
    if not bins:
        return None
    return ClassedAreas(
        areas,
        "montant_dans",
        bins,
        labels,
        title="Montant dans le QPV",
        legend_title="Montant engagé dans le QPV",
        tooltip_fields={"nom_qpv": "QPV"},
    )


def coverage_map(
    qpv: gpd.GeoDataFrame,
    coverage: pd.DataFrame,
    communes: gpd.GeoDataFrame | None,
    *,
    demo: bool = False,
    large: bool = False,
) -> folium.Map | None:
    """``coverage_areas`` on a whole map with the commune outlines; None when nothing is shaded."""
    classed = coverage_areas(qpv, coverage)
    return classed.map({"communes": communes}, demo=demo, large=large) if classed else None


def territory_names(layer: gpd.GeoDataFrame | None, level: str) -> dict[str, str]:
    """Code → name of the territories of a level (empty when the layer is missing)."""
    if layer is None:
        return {}
    _, _, layer_name, layer_key = LEVELS[level]
    return dict(
        zip(layer[layer_key].astype(str), layer[LEVEL_NAME_FIELDS[layer_name]], strict=False)
    )


def territory_areas(
    layer: gpd.GeoDataFrame, level: str, table: pd.DataFrame, *, per_inhabitant: bool
) -> ClassedAreas | None:
    """The classed areas of a distribution table (``geo.indicators.distribution`` with a
    ``territoire`` column), in euros or euros per inhabitant; None when nothing is positive."""
    layer_key = LEVELS[level][3]
    value = "eur_par_habitant" if per_inhabitant else "montant_engage"
    areas = layer.assign(_code=layer[layer_key].astype(str)).merge(
        table[[c for c in ("territoire", "montant_engage", "eur_par_habitant") if c in table]],
        left_on="_code",
        right_index=True,
        how="left",
    )
    if value not in areas:
        return None
    positive = areas.loc[pd.to_numeric(areas[value], errors="coerce") > 0, value]
    bins, labels = classify(positive)
    if not bins:
        return None
    title = "Euros par habitant" if per_inhabitant else "Montant engagé"
    return ClassedAreas(
        areas,
        value,
        bins,
        labels,
        title=title,
        legend_title=title,
        tooltip_fields={"territoire": "Territoire"},
    )


def territory_map(
    layer: gpd.GeoDataFrame,
    level: str,
    table: pd.DataFrame,
    *,
    per_inhabitant: bool,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    demo: bool = False,
    large: bool = False,
) -> folium.Map | None:
    """``territory_areas`` on a whole map with the outlines of ``layers``; None when nothing is
    shaded."""
    classed = territory_areas(layer, level, table, per_inhabitant=per_inhabitant)
    return classed.map(layers, demo=demo, large=large) if classed else None


DEFAULT_COMPARED = ("quartier:5", "quartier:2")
MAX_COMPARED = 4


def compared_ids(available: Sequence[str], from_url: str | None) -> list[str]:
    """The territories to compare: those of the URL (``territoires=a,b``, at most 4) that exist,
    else two default quartiers, else the first two territories."""
    known = list(available)
    chosen = [i for i in (from_url or "").split(",") if i in known][:MAX_COMPARED]
    defaults = [i for i in known if i in DEFAULT_COMPARED][:2]
    return chosen or defaults or known[:2]
