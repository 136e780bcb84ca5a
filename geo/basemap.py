"""The vector base of every map: IRIS outlines and the names of communes, quartiers and IRIS.

Why this module exists: at a public event or on an intranet no tile server may answer; the maps
must still say where things are. The layers already loaded (communes, quartiers, IRIS) are drawn
as light outlines with permanent names, so the map reads the same with or without tiles
(geo.maps.base_map switches the background when tiles fail).

Names sit at a point inside each area, computed in Lambert-93 (EPSG:2154) and shown in WGS84;
commune names always, quartier names from zoom 12 (the whole city on one screen), IRIS names from
zoom 15 only. In the browser, a name that would overlap one of higher rank is hidden, so the
labels never pile up into an unreadable block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.template import Template

from geo.crs import COMPUTE_CRS, DISPLAY_CRS
from geo.maps import (
    BASE_PANE,
    COORD_DECIMALS,
    LABEL_PANE,
    GeoJsonLayer,
    compact_json,
    polygons_layer,
    text_sizes,
)
from geo.palettes import IRIS_LINE

COMMUNE_LABEL_MIN_ZOOM = 0
QUARTIER_LABEL_MIN_ZOOM = 12
IRIS_LABEL_MIN_ZOOM = 15
IRIS_LAYER_NAME = "Contours des IRIS"
IRIS_STYLE = {"color": IRIS_LINE, "weight": 0.7, "opacity": 0.8, "fillOpacity": 0.0}

# Label text colours (dark, on a white halo): checked against the map background in the tests.
LABEL_COLORS = {"commune": "#1a1a1a", "quartier": "#333333", "iris": "#4d4d4d"}

_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")


def label_text(name: object) -> str:
    """The name shown on the map: without a trailing qualifier in brackets, trimmed.

    "Lille (hors Hellemmes et Lomme)" is the territory's exact name in tables and tooltips; on the
    map the label sits inside the outline that already says what is excluded, so "Lille" suffices.
    """
    text = "" if name is None else str(name).strip()
    if text.lower() in ("nan", "none", "<na>"):
        return ""
    stripped = _QUALIFIER.sub("", text)
    return stripped or text


def label_points(gdf: gpd.GeoDataFrame | None, name_col: str) -> gpd.GeoDataFrame:
    """One label per named area: ``label`` and a point inside the area (EPSG:4326, 5 decimals).

    The point is shapely's representative point computed in Lambert-93 (always inside the
    polygon, unlike the centroid of a crescent-shaped quartier); rows without a name or a
    geometry are dropped.
    """
    empty = gpd.GeoDataFrame({"label": pd.Series([], dtype=object)}, geometry=[], crs=DISPLAY_CRS)
    if gdf is None or gdf.empty or name_col not in gdf.columns:
        return empty
    if gdf.crs is None:
        raise ValueError("La couche n'a pas de système de coordonnées (CRS) : noms non placés.")
    shown = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    labels = shown[name_col].map(label_text)
    keep = (labels != "").to_numpy()
    shown, labels = shown[keep], labels[keep]
    if shown.empty:
        return empty
    inside = shown.geometry.to_crs(COMPUTE_CRS).representative_point().to_crs(DISPLAY_CRS)
    points = shapely.set_precision(inside.values, 10.0**-COORD_DECIMALS)
    return gpd.GeoDataFrame(
        {"label": labels.to_numpy()}, geometry=np.asarray(points), crs=DISPLAY_CRS
    )


class PlaceLabels(folium.MacroElement):
    """Permanent place names in their own pane, by rank, shown from a zoom level, never overlapping.

    Each label is a non-interactive Leaflet marker whose icon is a text node (textContent: a name
    never runs as code), centred on its point, dark on a white halo so it stays readable over
    tiles, outlines and fills alike. After each zoom or move, labels are checked in rank order
    (communes, then quartiers, then IRIS): one overlapping an already kept label is hidden.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var map = {{ this._parent.get_name() }};
            var groups = {{ this.groups_js }}.map(function(g) {
                var layer = L.layerGroup();
                g.rows.forEach(function(r) {
                    var span = document.createElement("span");
                    span.className = "ess-label ess-label-" + g.kind;
                    span.textContent = r[2];
                    span.style.cssText = "position:absolute;left:0;top:0;display:block;" +
                        "transform:translate(-50%,-50%);width:max-content;text-align:center;" +
                        "font-family:sans-serif;pointer-events:none;" +
                        "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff,0 0 1px #fff";
                    span.style.fontSize = g.size + "px";
                    span.style.lineHeight = Math.round(g.size * 1.15) + "px";
                    span.style.fontWeight = g.weight;
                    span.style.color = g.color;
                    span.style.maxWidth = g.wrap + "em";
                    var icon = L.divIcon({className: "ess-label-anchor", html: span,
                                          iconSize: null});
                    L.marker([r[1], r[0]], {icon: icon, interactive: false, keyboard: false,
                                            pane: {{ this.pane|tojson }}}).addTo(layer);
                });
                return {g: g, layer: layer};
            });
            function overlaps(a, b) {
                return a.left < b.right && a.right > b.left && a.top < b.bottom &&
                    a.bottom > b.top;
            }
            function declutter() {
                var kept = [];
                groups.forEach(function(x) {
                    if (!map.hasLayer(x.layer)) { return; }
                    x.layer.eachLayer(function(marker) {
                        var el = marker.getElement();
                        var span = el && el.firstChild;
                        if (!span) { return; }
                        span.style.visibility = "visible";
                        var r = span.getBoundingClientRect();
                        if (!r.width) { return; }
                        if (kept.some(function(k) { return overlaps(r, k); })) {
                            span.style.visibility = "hidden";
                        } else {
                            kept.push(r);
                        }
                    });
                });
            }
            function update() {
                var z = map.getZoom();
                groups.forEach(function(x) {
                    var on = z >= x.g.min_zoom;
                    if (on && !map.hasLayer(x.layer)) { x.layer.addTo(map); }
                    if (!on && map.hasLayer(x.layer)) { map.removeLayer(x.layer); }
                });
                declutter();
            }
            map.on("zoomend moveend resize", update);
            update();
            setTimeout(update, 0);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, groups: Sequence[Mapping], *, pane: str = LABEL_PANE):
        super().__init__()
        self._name = "PlaceLabels"
        self.groups = [dict(g) for g in groups]
        self.groups_js = compact_json(self.groups)
        self.pane = pane


def _rows(points: gpd.GeoDataFrame) -> list[list]:
    xs = shapely.get_x(points.geometry.values).tolist()
    ys = shapely.get_y(points.geometry.values).tolist()
    return [[x, y, t] for x, y, t in zip(xs, ys, points["label"].tolist(), strict=True)]


def label_groups(
    layers: Mapping[str, gpd.GeoDataFrame | None], *, large: bool = False
) -> list[dict]:
    """The label groups of PlaceLabels, by rank: communes, quartiers, IRIS (those loaded).

    A quartier named like a commune (Hellemmes, Lomme are both) is not labelled twice.
    """
    sizes = text_sizes(large)
    communes = label_points(layers.get("communes"), "nom")
    quartiers = label_points(layers.get("quartiers"), "nom_quartier")
    iris = label_points(iris_of_territory(layers), "nom_iris")
    taken = {t.casefold() for t in communes["label"]}
    quartiers = quartiers[[t.casefold() not in taken for t in quartiers["label"]]]
    specs = [
        ("commune", communes, COMMUNE_LABEL_MIN_ZOOM, "bold", 10),
        ("quartier", quartiers, QUARTIER_LABEL_MIN_ZOOM, "600", 8),
        ("iris", iris, IRIS_LABEL_MIN_ZOOM, "normal", 8),
    ]
    return [
        {
            "kind": kind,
            "min_zoom": min_zoom,
            "size": sizes[kind],
            "weight": weight,
            "wrap": wrap,
            "color": LABEL_COLORS[kind],
            "rows": _rows(points),
        }
        for kind, points, min_zoom, weight, wrap in specs
        if not points.empty
    ]


def iris_of_territory(layers: Mapping[str, gpd.GeoDataFrame | None]) -> gpd.GeoDataFrame | None:
    """The IRIS of the communes shown (the IRIS layer may cover the whole metropolis)."""
    iris = layers.get("iris")
    communes = layers.get("communes")
    if iris is None or iris.empty:
        return None
    if communes is None or communes.empty or "code_commune" not in iris.columns:
        return iris
    return iris[iris["code_commune"].astype(str).isin(set(communes["code"].astype(str)))]


def iris_outlines(iris: gpd.GeoDataFrame) -> GeoJsonLayer:
    """The IRIS as thin grey lines under every thematic layer, catching no pointer event."""
    return polygons_layer(
        iris,
        name=IRIS_LAYER_NAME,
        tooltip_fields={},
        style=IRIS_STYLE,
        pane=BASE_PANE,
        interactive=False,
    )


def add_vector_base(
    m: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    iris: bool = True,
    large: bool = False,
) -> None:
    """IRIS outlines (when asked and loaded) and the place names of the loaded layers."""
    shown = iris_of_territory(layers) if iris else None
    if shown is not None and not shown.empty:
        iris_outlines(shown).add_to(m)
    groups = label_groups(layers if iris else {**layers, "iris": None}, large=large)
    if groups:
        m.add_child(PlaceLabels(groups))
