"""The maps of each page, composed from the builders of geo/maps.py (pure: data in, map out).

Kept apart from the pages so the benchmark and the tests build exactly what the pages show.
"""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd
import pandas as pd
from folium.template import Template

from geo import palettes
from geo.basemap import add_vector_base
from geo.formatting import fmt_eur, fmt_m, fmt_m2
from geo.indicators import amounts
from geo.maps import (
    MapNote,
    aggregate_by_location,
    base_map,
    choropleth_layer,
    fit_to,
    layer_control,
    localize_assets,
    points_layer,
    polygons_layer,
)

DEMO_NOTE = "Données fictives de démonstration"

QPV_STYLE = {
    "color": palettes.QPV_2024_LINE,
    "weight": 2,
    "fillColor": "#ef8a62",
    "fillOpacity": 0.25,
}
QPV_2015_STYLE = {
    **QPV_STYLE,
    "color": palettes.QPV_2015_LINE,
    "dashArray": "6 4",
    "fillOpacity": 0.1,
}
QUARTIER_STYLE = {
    "color": palettes.QUARTIER_LINE,
    "weight": 1.2,
    "fillOpacity": 0.0,
    "dashArray": "2 3",
}
COMMUNE_STYLE = {"color": palettes.COMMUNE_LINE, "weight": 2.5, "fillOpacity": 0.0}
LAND_STATUS_NAMES = {
    "disponible": "Sites disponibles",
    "attribué": "Sites attribués",
    "à l'étude": "Sites à l'étude",
}


def _present(gdf: gpd.GeoDataFrame | None) -> bool:
    return gdf is not None and len(gdf) > 0


def add_reference_layers(
    m: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    qpv: tuple[str, ...] = ("qpv_2024", "qpv_2015"),
    quartiers: bool = True,
    communes: bool = True,
    iris: bool = True,
    large: bool = False,
) -> None:
    """The vector base (IRIS outlines, place names), then communes, quartiers and QPV outlines.

    Each outline is one simplified GeoJSON layer; drawn whether or not tiles load, they are the
    map when no tile server answers. Names of communes and quartiers are shown even when their
    outlines are not drawn (a choropleth of the quartiers draws them itself).
    """
    add_vector_base(m, layers, iris=iris, large=large)
    if communes and _present(layers.get("communes")):
        polygons_layer(
            layers["communes"],
            name="Communes",
            tooltip_fields={"nom": "Commune"},
            style=COMMUNE_STYLE,
        ).add_to(m)
    if quartiers and _present(layers.get("quartiers")):
        polygons_layer(
            layers["quartiers"],
            name="Quartiers",
            tooltip_fields={"nom_quartier": "Quartier"},
            style=QUARTIER_STYLE,
        ).add_to(m)
    for name in qpv:
        gdf = layers.get(name)
        if _present(gdf):
            label = "QPV 2024" if name == "qpv_2024" else "QPV 2015"
            polygons_layer(
                gdf,
                name=label,
                tooltip_fields={"nom_qpv": label, "code_qpv": "Code"},
                style=QPV_STYLE if name == "qpv_2024" else QPV_2015_STYLE,
                show=name == qpv[0],
            ).add_to(m)


def as_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Parcels shown as a marker at a point inside them, so one point layer holds every site."""
    located = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    return located.set_geometry(located.geometry.representative_point())


def grants_points(grants: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grants grouped per location, with a one-line French summary for the popup."""
    located = grants[grants.geometry.notna() & ~grants.geometry.is_empty]
    return aggregate_by_location(located)


def funded_structures(structures: gpd.GeoDataFrame, grants: pd.DataFrame) -> gpd.GeoDataFrame:
    """The structures receiving at least one of ``grants``, with their count and total."""
    ids = grants["idBeneficiaire"].dropna().astype(str)
    totals = amounts(grants).groupby(grants["idBeneficiaire"])
    funded = structures[structures["siret"].astype(str).isin(set(ids))].copy()
    sums = totals.sum()
    counts = totals.size()
    funded["nb_subventions"] = funded["siret"].map(counts).fillna(0).astype(int)
    funded["montant_total"] = funded["siret"].map(sums).fillna(0.0)
    funded["resume"] = [
        f"{n} subvention{'s' if n > 1 else ''}, {fmt_eur(t)}"
        for n, t in zip(funded["nb_subventions"], funded["montant_total"], strict=True)
    ]
    return funded


FUNDED_LAYER_NAMES = {"grants": "Subventions (par lieu)", "structures": "Structures financées"}


def funded_base(
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    land: gpd.GeoDataFrame | None = None,
    establishments: gpd.GeoDataFrame | None = None,
    show_qpv: tuple[str, ...] = ("qpv_2024", "qpv_2015"),
    tiles: str | None = "OpenStreetMap",
    demo: bool = False,
    large: bool = False,
) -> folium.Map:
    """Everything on the funded map but the selection: outlines, extra layers, the demo note.

    Built once per data version and view options; the selection's points come separately
    (`funded_points`), so a filter change replaces them without rebuilding or resending this.
    No layer switcher: it must list the points too, so it is added last (`funded_map`, or
    st_folium's ``layer_control``).
    """
    m = base_map(tiles=tiles, large=large)
    add_reference_layers(m, layers, qpv=show_qpv, large=large)
    if establishments is not None and len(establishments):
        points_layer(
            establishments,
            name="Établissements ESS (SIRENE)",
            popup_fields={"nom": "Établissement", "adresse": "Adresse"},
            tooltip_field="nom",
            color=palettes.ESTABLISHMENT_COLOR,
            cluster=True,
            radius=4,
            show=False,
        ).add_to(m)
    if land is not None and len(land):
        points_layer(
            as_points(land),
            name="Sites fonciers",
            popup_fields={"nom": "Site", "type": "Type", "statut": "Statut"},
            tooltip_field="nom",
            color=palettes.LAND_COLOR,
            radius=6,
        ).add_to(m)
    return _frame(m, layers, demo, large)


def funded_points(
    grants: gpd.GeoDataFrame,
    *,
    structures: gpd.GeoDataFrame | None = None,
    cluster: bool = True,
) -> folium.FeatureGroup:
    """The selection on the funded map: grants per location, or the funded structures.

    One feature group holding one points layer, its assets served locally; st_folium's
    ``feature_group_to_add`` swaps it on the drawn map when the filters change.
    Pass ``structures`` to draw one point per funded structure instead of per grant location.
    """
    if structures is not None:
        name = FUNDED_LAYER_NAMES["structures"]
        layer = points_layer(
            funded_structures(structures, grants),
            name=name,
            popup_fields={"nom": "Structure", "forme_juridique": "Forme", "resume": "Subventions"},
            tooltip_field="nom",
            color=palettes.STRUCTURE_COLOR,
            cluster=cluster,
        )
    else:
        name = FUNDED_LAYER_NAMES["grants"]
        layer = points_layer(
            grants_points(grants),
            name=name,
            popup_fields={"nom": "Bénéficiaire", "resume": "Subventions"},
            tooltip_field="nom",
            color=palettes.GRANT_COLOR,
            cluster=cluster,
        )
    group = folium.FeatureGroup(name=name, overlay=True, control=True, show=True)
    layer.add_to(group)
    return localize_assets(group)


def funded_map(
    grants: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    structures: gpd.GeoDataFrame | None = None,
    land: gpd.GeoDataFrame | None = None,
    establishments: gpd.GeoDataFrame | None = None,
    show_qpv: tuple[str, ...] = ("qpv_2024", "qpv_2015"),
    tiles: str | None = "OpenStreetMap",
    cluster: bool = True,
    demo: bool = False,
    large: bool = False,
) -> folium.Map:
    """The funded-structures map in one piece: `funded_base` + `funded_points` + the switcher.

    Pass ``structures`` to draw one point per funded structure instead of per grant location.
    """
    m = funded_base(
        layers,
        land=land,
        establishments=establishments,
        show_qpv=show_qpv,
        tiles=tiles,
        demo=demo,
        large=large,
    )
    funded_points(grants, structures=structures, cluster=cluster).add_to(m)
    layer_control(m)
    return m


def land_map(
    land: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    friches: gpd.GeoDataFrame | None = None,
    tiles: str | None = "OpenStreetMap",
    demo: bool = False,
    large: bool = False,
) -> folium.Map:
    """Land sites by status, with the Cartofriches supply and the QPV outlines; a legend."""
    m = base_map(tiles=tiles, large=large)
    add_reference_layers(m, layers, qpv=("qpv_2024",), quartiers=True, large=large)
    if friches is not None and len(friches):
        points_layer(
            friches.assign(surface=friches["surface_m2"].map(_fmt_surface)),
            name="Friches (Cartofriches)",
            popup_fields={"nom": "Friche", "statut": "Statut", "surface": "Surface"},
            tooltip_field="nom",
            color=palettes.FRICHE_COLOR,
            radius=4,
        ).add_to(m)
    colours = palettes.LAND_STATUS_COLORS
    names = LAND_STATUS_NAMES
    fields = {
        "nom": "Site",
        "type": "Type",
        "statut": "Statut",
        "surface": "Surface",
        "distance": "Distance au QPV",
    }
    for status, colour in colours.items():
        subset = land[land["statut"] == status]
        if subset.empty:
            continue
        shown = subset.assign(
            surface=subset["surface_m2"].map(_fmt_surface),
            distance=subset["dist_qpv_m"].map(fmt_m) if "dist_qpv_m" in subset else "—",
        )
        name = names[status]
        points = shown.geom_type == "Point"
        if points.any():
            points_layer(
                shown[points],
                name=name,
                popup_fields=fields,
                tooltip_field="nom",
                color=colour,
                radius=7,
            ).add_to(m)
        if (~points).any():
            # Parcels are drawn as their outline, in the status colour.
            polygons_layer(
                shown[~points],
                name=f"{name} (parcelles)",
                tooltip_fields=fields,
                style={"color": colour, "fillColor": colour, "fillOpacity": 0.5, "weight": 2},
            ).add_to(m)
    return _finish(m, layers, demo, large)


def choropleth_base(
    layers: Mapping[str, gpd.GeoDataFrame | None] | None = None,
    *,
    tiles: str | None = "OpenStreetMap",
    demo: bool = False,
    large: bool = False,
    fallback: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """A choropleth map's context, built once per data version: commune and QPV outlines of
    `layers`, the view (on ``fallback``, the areas' layer, when the communes are not loaded) and
    the demo note. The classed areas come separately (`choropleth_areas`)."""
    m = base_map(tiles=tiles, large=large)
    if layers is not None:
        add_reference_layers(
            m, layers, qpv=("qpv_2024",), quartiers=False, communes=True, large=large
        )
    return _frame(m, layers or {}, demo, large, fallback=fallback)


class _BelowOutlines(folium.MacroElement):
    """Keeps a feature group under the outlines, whenever it is (re)added to the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on("add", function(e) { e.target.bringToBack(); });
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "BelowOutlines"


def choropleth_areas(
    areas: gpd.GeoDataFrame,
    value_col: str,
    bins: list[float],
    labels: list[str],
    *,
    name: str,
    legend_title: str,
    tooltip_fields: Mapping[str, str],
) -> folium.FeatureGroup:
    """A classed euro choropleth with its legend, as one feature group drawn under the outlines.

    Built per selection; st_folium's ``feature_group_to_add`` swaps it on the drawn map.
    """
    group = folium.FeatureGroup(name=name, overlay=True, control=True, show=True)
    choropleth_layer(
        areas,
        value_col,
        bins,
        labels,
        name=name,
        legend_title=legend_title,
        tooltip_fields=tooltip_fields,
    ).add_to(group)
    group.add_child(_BelowOutlines())
    return localize_assets(group)


def choropleth_map(
    areas: gpd.GeoDataFrame,
    value_col: str,
    bins: list[float],
    labels: list[str],
    *,
    name: str,
    legend_title: str,
    tooltip_fields: Mapping[str, str],
    layers: Mapping[str, gpd.GeoDataFrame | None] | None = None,
    tiles: str | None = "OpenStreetMap",
    demo: bool = False,
    large: bool = False,
) -> folium.Map:
    """A classed euro choropleth, with the commune and QPV outlines of `layers` for context:
    `choropleth_base` + `choropleth_areas` + the layer switcher."""
    m = choropleth_base(layers, tiles=tiles, demo=demo, large=large, fallback=areas)
    choropleth_areas(
        areas,
        value_col,
        bins,
        labels,
        name=name,
        legend_title=legend_title,
        tooltip_fields=tooltip_fields,
    ).add_to(m)
    layer_control(m)
    return m


def _frame(
    m: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    demo: bool,
    large: bool,
    *,
    fallback: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The view every page map opens on, and the demo notice.

    The map opens on the three communes (all of Lille, Hellemmes and Lomme on any screen, a phone
    included), or on ``fallback`` (the mapped areas) when the communes are not loaded.
    """
    communes = layers.get("communes")
    fit_to(m, communes if _present(communes) else fallback)
    if demo:
        m.add_child(MapNote(DEMO_NOTE, large=large))
    return m


def _finish(
    m: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    demo: bool,
    large: bool,
    *,
    fallback: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Last touches shared by every page map: the view, the demo notice, the layer switcher."""
    _frame(m, layers, demo, large, fallback=fallback)
    layer_control(m)
    return m


def _fmt_surface(value: object) -> str:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return fmt_m2(number)
