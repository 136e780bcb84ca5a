"""Folium map builders: data in, folium objects out, with Leaflet served by the app itself.

Why this module exists:
- City intranets (and the test browser) cannot reach public CDNs, so every Leaflet asset is served
  from ``static/vendor/`` through Streamlit static serving; `localize_assets` is the one place where
  folium's CDN links are rewritten (and unneeded ones dropped).
- Data reach the browser as ONE GeoJSON layer per theme (never one folium object per row), with
  simplified geometry, 5-decimal coordinates and only the properties a popup needs.
- Every text shown in a popup, tooltip or legend is inserted with ``textContent``: names containing
  quotes, ``<script>`` or ``{{ }}`` display literally and run nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from geo.crs import COMPUTE_CRS, DISPLAY_CRS
from geo.formatting import fmt_date, fmt_eur, fmt_number
from geo.palettes import GRANT_COLOR, MAP_BACKGROUND

# --------------------------------------------------------------------------------------------------
# Assets served by the app (static/vendor) instead of public CDNs
# --------------------------------------------------------------------------------------------------

# st_folium renders the map in a component iframe served at <base>/component/<name>/index.html;
# Streamlit static serving exposes ./static at <base>/app/static/. A path relative to the iframe
# keeps working when the app runs under a server.baseUrlPath (reverse proxy on the intranet).
VENDOR_URL = "../../app/static/vendor"

# folium link name -> file under static/vendor, or None when the map never needs it.
# Leaflet is the version folium 0.20 pins; markercluster is the npm release made for Leaflet 1.9.
VENDORED_ASSETS: dict[str, str | None] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    # folium.Map defaults used only by AwesomeMarkers icons, Bootstrap popups and jQuery HTML
    # popups: none of the builders below uses them, so they are not shipped at all.
    "jquery": None,
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
}

_MARKERCLUSTER_JS = [("markerclusterjs", "leaflet.markercluster.js")]
_MARKERCLUSTER_CSS = [
    ("markerclustercss", "MarkerCluster.css"),
    ("markerclusterdefaultcss", "MarkerCluster.Default.css"),
]


def _local_links(links: Sequence[tuple[str, str]], base_url: str, owner: str) -> list:
    out = []
    for name, url in links:
        if name not in VENDORED_ASSETS:
            raise ValueError(
                f"Ressource JavaScript/CSS non embarquée : « {name} » ({url}), "
                f"demandée par {owner}. "
                "Ajoutez-la à static/vendor et à VENDORED_ASSETS."
            )
        local = VENDORED_ASSETS[name]
        if local is not None:
            out.append((name, f"{base_url}/{local}"))
    return out


def _walk(element: Any):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def localize_assets(m: folium.Map, base_url: str = VENDOR_URL) -> folium.Map:
    """Point every JS/CSS link of the map and its layers to the app's own copies.

    Links are rewritten per instance (folium's class-level lists stay untouched). An element asking
    for an asset that is not vendored raises, rather than silently loading from a CDN.
    """
    for element in _walk(m):
        if type(element).__module__.startswith("branca.colormap"):
            raise ValueError(
                "Les échelles de couleur branca chargent d3 depuis un CDN : utilisez la légende de "
                "geo.maps (choropleth_layer)."
            )
        if isinstance(element, JSCSSMixin):
            owner = type(element).__name__
            element.default_js = _local_links(element.default_js, base_url, owner)
            element.default_css = _local_links(element.default_css, base_url, owner)
    return m


class LocalMap(folium.Map):
    """A folium Map whose assets are localised at render time, so layers added later are too."""

    def render(self, **kwargs):
        localize_assets(self)
        super().render(**kwargs)


# --------------------------------------------------------------------------------------------------
# Popup texts (French formats from geo.formatting)
# --------------------------------------------------------------------------------------------------


def _display_text(value: Any) -> str | None:
    """What a popup shows for one cell: text as is, numbers in French format, None when empty."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if isinstance(value, int | np.integer):
        return fmt_number(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        return fmt_number(value, 0 if value.is_integer() else 2)
    if isinstance(value, pd.Timestamp):
        return fmt_date(value)
    text = str(value)
    return text if text else None


# --------------------------------------------------------------------------------------------------
# Geometry and property preparation
# --------------------------------------------------------------------------------------------------

COORD_DECIMALS = 5  # about 1 m at Lille's latitude
SIMPLIFY_TOLERANCE_M = 5.0


def display_geometries(
    gdf: gpd.GeoDataFrame, columns: Sequence[str] = (), tolerance_m: float = SIMPLIFY_TOLERANCE_M
) -> gpd.GeoDataFrame:
    """Only `columns` + geometry, lines/polygons simplified in Lambert-93, WGS84 at 5 decimals.

    Simplification happens in metres (EPSG:2154) so the tolerance means the same everywhere; the
    coordinates are then snapped to a 1e-5 degree grid (set_precision keeps polygons valid).
    Missing, empty or collapsed geometries are dropped.
    """
    if gdf.crs is None:
        raise ValueError(
            "La couche n'a pas de système de coordonnées (CRS) : impossible de l'afficher."
        )
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise KeyError(f"Colonnes absentes de la couche : {', '.join(missing)}")
    out = gdf[[*columns, gdf.geometry.name]].copy()
    out = out[out.geometry.notna() & ~out.geometry.is_empty]
    if out.empty:
        # Nothing to draw (an empty selection, no located row): an empty layer, same columns.
        out = out.to_crs(DISPLAY_CRS)
        return out if out.geometry.name == "geometry" else out.rename_geometry("geometry")
    geoms = out.geometry
    if not geoms.geom_type.isin(["Point", "MultiPoint"]).all() and tolerance_m > 0:
        geoms = geoms.to_crs(COMPUTE_CRS).simplify(tolerance_m, preserve_topology=True)
    geoms = geoms.to_crs(DISPLAY_CRS)
    snapped = shapely.set_precision(geoms.values, 10.0**-COORD_DECIMALS)
    out = gpd.GeoDataFrame(out.drop(columns=out.geometry.name), geometry=snapped, crs=DISPLAY_CRS)
    return out[~out.geometry.is_empty]


def _feature_collection(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> dict:
    """A GeoJSON FeatureCollection with the given columns as display text (no ids, no bbox)."""
    geometries = shapely.to_geojson(gdf.geometry.values)
    records = _text_records(gdf, columns)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": json.loads(g), "properties": p}
            for g, p in zip(geometries, records, strict=True)
        ],
    }


def _text_records(df: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    if not columns:
        return [{} for _ in range(len(df))]
    texts = {c: [_display_text(v) for v in df[c].tolist()] for c in columns}
    return [{c: texts[c][i] for c in columns} for i in range(len(df))]


_JINJA_OPENER = re.compile(r"\{(?=[{%#])")


def compact_json(obj: Any) -> str:
    """JSON with no spaces, safe to inline in a <script> and in a folium (Jinja) template.

    '<', '>', '&' and quotes are escaped so no text closes the script; '{' before '{', '%' or '#'
    is escaped because folium renders each element's script a second time as a Jinja template:
    a name like "{{ 7*7 }}" would otherwise be evaluated on the server. Compact JSON never has
    these pairs outside strings, so only string contents are touched.
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = _JINJA_OPENER.sub(r"\\u007b", text)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def encode_points(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> dict:
    """Columnar form of a point FeatureCollection, expanded back to GeoJSON in the browser.

    ``{"k": keys, "d": per-key dictionary (or null), "r": [[lon, lat, v1, v2, ...], ...]}``.
    Repeated values (legal forms, communes...) are sent once in a dictionary, then by index.
    A point feature costs ~20 bytes plus its texts instead of ~100 as plain GeoJSON.
    """
    texts = {c: [_display_text(v) for v in gdf[c].tolist()] for c in columns}
    dictionaries: list[list[str] | None] = []
    encoded: list[list] = []
    for c in columns:
        values = texts[c]
        distinct = sorted({v for v in values if v is not None})
        if len(values) >= 8 and len(distinct) <= len(values) // 4:
            index = {v: i for i, v in enumerate(distinct)}
            dictionaries.append(distinct)
            encoded.append([None if v is None else index[v] for v in values])
        else:
            dictionaries.append(None)
            encoded.append(values)
    xs = shapely.get_x(gdf.geometry.values).tolist()
    ys = shapely.get_y(gdf.geometry.values).tolist()
    rows = [[xs[i], ys[i], *(col[i] for col in encoded)] for i in range(len(xs))]
    return {"k": list(columns), "d": dictionaries, "r": rows}


def decode_points(data: dict) -> dict:
    """Python twin of the browser-side expansion (tests and debugging)."""
    features = []
    for row in data["r"]:
        props = {}
        for i, key in enumerate(data["k"]):
            value = row[i + 2]
            dictionary = data["d"][i]
            props[key] = (
                dictionary[value] if dictionary is not None and value is not None else value
            )
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row[0], row[1]]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


_EXPAND_POINTS_JS = """function(d){return {type:"FeatureCollection",features:d.r.map(function(r){
var p={};d.k.forEach(function(k,i){var v=r[i+2];p[k]=(d.d[i]&&v!==null)?d.d[i][v]:v;});
return {type:"Feature",geometry:{type:"Point",coordinates:[r[0],r[1]]},properties:p};})};}"""


def _bounds(gdf: gpd.GeoDataFrame) -> list[list[float | None]]:
    if gdf.empty:
        return [[None, None], [None, None]]
    minx, miny, maxx, maxy = (float(v) for v in gdf.total_bounds)
    return [[miny, minx], [maxy, maxx]]


# --------------------------------------------------------------------------------------------------
# Folium elements
# --------------------------------------------------------------------------------------------------


class GeoJsonLayer(JSCSSMixin, Layer):
    """ONE Leaflet GeoJSON layer fed by one FeatureCollection; points may be clustered.

    Styles are a short list; each feature picks one through an integer property (``class_key``),
    so a choropleth costs one small integer per feature rather than a style object.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var data = {{ this.data_js }};
            {%- if this.columnar %}
            data = ({{ this.expand_js }})(data);
            {%- endif %}
            var styles = {{ this.styles_js }};
            function styleOf(f) {
                {%- if this.class_key %}
                var k = f.properties[{{ this.class_key|tojson }}];
                return styles[k] || styles[0];
                {%- else %}
                return styles[0];
                {%- endif %}
            }
            var opts = {
                style: styleOf,
                pointToLayer: function(f, latlng) { return L.circleMarker(latlng, styleOf(f)); },
                {%- if this.pane %}
                pane: {{ this.pane|tojson }},
                {%- endif %}
                {%- if not this.interactive %}
                interactive: false,
                {%- endif %}
                {%- if this.highlight %}
                onEachFeature: function(f, layer) {
                    layer.on({
                        mouseover: function(e) {
                            var s = styleOf(f);
                            e.target.setStyle({weight: (s.weight || 1) + 2});
                        },
                        mouseout: function(e) { e.target.setStyle(styleOf(f)); }
                    });
                },
                {%- endif %}
            };
            {%- if this.cluster %}
            var copts = {{ this.cluster_options|tojavascript }};
            // Clusters in the layer's own colour (markercluster's default green-yellow-orange
            // would mean nothing in the legend), white count: the same contrast as the points.
            copts.iconCreateFunction = function(c) {
                var n = c.getChildCount();
                var d = n < 10 ? 28 : (n < 100 ? 34 : 42);
                var el = document.createElement("div");
                el.className = "ess-cluster";
                el.textContent = String(n);
                el.style.cssText = "border-radius:50%;text-align:center;color:#ffffff;" +
                    "font:bold 13px sans-serif;border:2px solid #ffffff;box-sizing:border-box";
                el.style.width = d + "px"; el.style.height = d + "px";
                el.style.lineHeight = (d - 4) + "px";
                el.style.background = styles[0].fillColor;
                el.style.boxShadow = "0 0 0 1px " + styles[0].fillColor;
                return L.divIcon({html: el, className: "ess-cluster-icon",
                                  iconSize: L.point(d, d)});
            };
            var layer = L.markerClusterGroup(copts);
            layer.addLayers(L.geoJson(data, opts).getLayers());
            {%- else %}
            var layer = L.geoJson(data, opts);
            {%- endif %}
            {%- if this.legend %}
            // Read by the map's Legend while this layer is on the map (see Legend).
            layer.essLegend = {title: {{ this.legend_title_js }}, rows: {{ this.legend_js }}};
            {%- endif %}
            return layer;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict,
        *,
        name: str,
        styles: Sequence[Mapping[str, Any]],
        bounds: list[list[float | None]],
        columnar: bool = False,
        class_key: str | None = None,
        cluster: bool = False,
        highlight: bool = False,
        show: bool = True,
        pane: str | None = None,
        interactive: bool = True,
        legend: Sequence[Mapping[str, str]] = (),
        legend_title: str | None = None,
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoJsonLayer"
        self.pane = pane
        self.interactive = interactive
        # What the map's legend says of this layer (see LegendControl): rows of
        # {"label", "kind": "point" | "cluster" | "line" | "fill", "color", "fill"?, "dash"?}.
        self.legend = [dict(i) for i in legend]
        self.legend_title = legend_title
        self.legend_js = compact_json(self.legend)
        self.legend_title_js = compact_json(legend_title)
        self.data = data
        self.data_js = compact_json(data)
        self.columnar = columnar
        self.expand_js = _EXPAND_POINTS_JS
        self.styles_js = compact_json([dict(s) for s in styles])
        self.class_key = class_key
        self.cluster = cluster
        self.highlight = highlight
        self.cluster_options = {"chunked_loading": True, "show_coverage_on_hover": False}
        cdn = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.5.3"
        self.default_js = [(n, f"{cdn}/{f}") for n, f in _MARKERCLUSTER_JS] if cluster else []
        self.default_css = [(n, f"{cdn}/{f}") for n, f in _MARKERCLUSTER_CSS] if cluster else []
        self._bounds = bounds

    def _get_self_bounds(self):
        return self._bounds


class SafeDetail(folium.MacroElement):
    """Popup or tooltip of a GeoJsonLayer, built with textContent so nothing in the data runs.

    folium's GeoJsonPopup/GeoJsonTooltip concatenate raw property values into innerHTML; this one
    creates DOM nodes, one line per non-empty field: "<label> : <value>".
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.{{ this.method }}(function(layer) {
            var p = (layer && layer.feature && layer.feature.properties) || {};
            var fields = {{ this.fields_js }};
            var labels = {{ this.labels_js }};
            var root = document.createElement("div");
            root.className = "ess-detail";
            fields.forEach(function(field, i) {
                var v = p[field];
                if (v === null || v === undefined || v === "") { return; }
                var row = document.createElement("div");
                if (labels[i]) {
                    var b = document.createElement("strong");
                    b.textContent = labels[i] + "\u00a0: ";
                    row.appendChild(b);
                }
                row.appendChild(document.createTextNode(String(v)));
                root.appendChild(row);
            });
            return root;
        }, {{ this.options|tojavascript }});
        {% endmacro %}
        """
    )

    def __init__(self, fields: Mapping[str, str | None], kind: str = "popup"):
        super().__init__()
        self._name = "SafeDetail"
        if kind not in ("popup", "tooltip"):
            raise ValueError(f"Type de bulle inconnu : {kind}")
        self.method = "bindPopup" if kind == "popup" else "bindTooltip"
        self.fields_js = compact_json(list(fields.keys()))
        self.labels_js = compact_json([label or "" for label in fields.values()])
        self.options = {"max_width": 320} if kind == "popup" else {"sticky": True}


def text_sizes(large: bool = False) -> dict[str, int]:
    """Pixel sizes of the texts drawn on a map; ``large`` for presentation mode (projector).

    The one rule for legend and place-label sizes: legends at 13 px (20 px on a projector),
    commune names above quartier names above IRIS names.
    """
    if large:
        return {"legend": 20, "swatch": 22, "commune": 24, "quartier": 18, "iris": 14, "note": 19}
    return {"legend": 13, "swatch": 14, "commune": 16, "quartier": 12, "iris": 10, "note": 13}


LEGEND_FOLD_BELOW_PX = 560  # maps narrower than this (phones) open with the legend folded


class Legend(folium.MacroElement):
    """The map's one legend box, listing what the layers on the map say of themselves.

    Each GeoJsonLayer carries its rows (``essLegend``: a title, rows of {"label", "kind": "point"
    | "cluster" | "line" | "fill", "color", "fill"?, "dash"?}); the box lists the layers on the
    map, in the order they were created, and is rebuilt (once per burst) whenever a layer comes or
    goes: a hidden QPV list leaves the legend, and the points that st_folium swaps in after a
    filter change enter it, with no reference from the base map to them.
    Built with textContent (works inside st_folium's iframe, where folium's figure HTML is not
    positioned on the map). Swatches repeat how the layer is drawn: a disc for points, a line
    (dashed when the layer is) for outlines, a filled square for classes, so the "no data" class
    and the QPV lists are recognisable by their outline, not by colour alone.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var map = {{ this._parent.get_name() }};
            var size = {{ this.sizes_js }};
            var legend = L.control({position: "bottomright"});
            var body, pending = null;
            function swatch(it) {
                var sw = document.createElement("span");
                sw.setAttribute("aria-hidden", "true");
                var s = size.swatch;
                sw.style.cssText = "display:inline-block;vertical-align:middle;flex:none;" +
                    "box-sizing:border-box;margin-right:" + Math.round(s / 2) + "px";
                if (it.kind === "cluster") {
                    sw.style.width = Math.round(s * 1.5) + "px";
                    sw.style.height = Math.round(s * 1.5) + "px";
                    sw.style.borderRadius = "50%";
                    sw.style.background = it.color;
                    sw.style.color = "#ffffff";
                    sw.style.fontWeight = "bold";
                    sw.style.fontSize = Math.round(s * 0.75) + "px";
                    sw.style.lineHeight = Math.round(s * 1.5) + "px";
                    sw.style.textAlign = "center";
                    sw.textContent = "3";
                } else if (it.kind === "point") {
                    sw.style.width = s + "px"; sw.style.height = s + "px";
                    sw.style.borderRadius = "50%";
                    sw.style.background = it.color;
                    sw.style.border = "1px solid #ffffff";
                    sw.style.boxShadow = "0 0 0 1px " + it.color;
                } else if (it.kind === "line") {
                    sw.style.width = Math.round(s * 1.6) + "px";
                    sw.style.height = Math.round(s * 0.8) + "px";
                    sw.style.background = it.fill || "transparent";
                    sw.style.border = Math.max(2, Math.round(s / 6)) + "px " +
                        (it.dash ? "dashed " : "solid ") + it.color;
                } else {
                    sw.style.width = Math.round(s * 1.3) + "px"; sw.style.height = s + "px";
                    sw.style.background = it.fill;
                    sw.style.border = "1px " + (it.dash ? "dashed " : "solid ") + it.color;
                }
                return sw;
            }
            function row(it) {
                var el = document.createElement("div");
                el.className = "ess-legend-row";
                if (it.kind === "heading") {
                    el.style.fontWeight = "bold";
                    el.textContent = it.label;
                } else {
                    el.style.display = "flex";
                    el.style.alignItems = "center";
                    el.appendChild(swatch(it));
                    var label = document.createElement("span");
                    label.textContent = it.label;
                    el.appendChild(label);
                }
                return el;
            }
            function rebuild() {
                pending = null;
                var shown = [];
                map.eachLayer(function(l) { if (l.essLegend) { shown.push(l); } });
                shown.sort(function(a, b) { return L.stamp(a) - L.stamp(b); });
                while (body.firstChild) { body.removeChild(body.firstChild); }
                var seen = {};
                shown.forEach(function(l) {
                    var e = l.essLegend;
                    if (e.title) { body.appendChild(row({kind: "heading", label: e.title})); }
                    e.rows.forEach(function(it) {
                        // The same entry twice (e.g. "clustered points" for two layers of the
                        // same colour) is listed once.
                        var key = it.kind + "|" + it.label + "|" + it.color;
                        if (seen[key]) { return; }
                        seen[key] = true;
                        body.appendChild(row(it));
                    });
                });
                legend.getContainer().style.display = shown.length ? "" : "none";
            }
            function later() { if (pending === null) { pending = setTimeout(rebuild, 0); } }
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "ess-legend");
                div.style.cssText = "background:#ffffff;padding:6px 10px;border-radius:4px;" +
                    "box-shadow:0 1px 4px rgba(0,0,0,.35);color:#222222;overflow-y:auto;" +
                    "font-family:sans-serif;max-width:22em";
                div.style.fontSize = size.legend + "px";
                div.style.lineHeight = Math.round(size.legend * 1.4) + "px";
                div.style.maxHeight = Math.max(80, map.getSize().y - 70) + "px";
                // A button folds the legend (folded from the start on a phone-sized map, where
                // it would hide half of it).
                var toggle = document.createElement("button");
                toggle.type = "button";
                toggle.className = "ess-legend-toggle";
                toggle.style.cssText = "display:block;width:100%;text-align:left;border:0;" +
                    "padding:0;background:none;color:inherit;font:inherit;font-weight:bold;" +
                    "cursor:pointer";
                body = document.createElement("div");
                function fold(open) {
                    body.style.display = open ? "" : "none";
                    toggle.setAttribute("aria-expanded", open ? "true" : "false");
                    toggle.textContent = (open ? "\\u25be " : "\\u25b8 ") + "Légende";
                }
                toggle.addEventListener("click", function() {
                    fold(body.style.display === "none");
                });
                div.appendChild(toggle);
                div.appendChild(body);
                fold(map.getSize().x >= {{ this.fold_below_px }});
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo(map);
            legend.getContainer().style.display = "none";
            map.on("layeradd layerremove", later);
            later();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, large: bool = False):
        super().__init__()
        self._name = "Legend"
        self.sizes_js = compact_json(text_sizes(large))
        self.fold_below_px = LEGEND_FOLD_BELOW_PX


def legend_rows(element: Any) -> list[dict]:
    """Python twin of the legend the browser builds (tests): rows of the layers, in order.

    Every GeoJsonLayer under ``element`` (a map, or a feature group of points), shown at opening
    or not: a choropleth's title as a heading, then each layer's rows, each entry once.
    """
    rows: list[dict] = []
    seen: set[tuple] = set()
    for child in _walk(element):
        if not isinstance(child, GeoJsonLayer) or not child.legend:
            continue
        if child.legend_title:
            rows.append({"kind": "heading", "label": child.legend_title, "layer": child.layer_name})
        for item in child.legend:
            key = (item["kind"], item["label"], item["color"])
            if key not in seen:
                seen.add(key)
                rows.append({**item, "layer": child.layer_name})
    return rows


class MapNote(folium.MacroElement):
    """A boxed note on the map itself (e.g. "fictional data"), inserted as text.

    On the map rather than beside it, so that a screenshot or a projected map still says it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var note = L.control({position: "bottomleft"});
            note.onAdd = function() {
                var div = L.DomUtil.create("div", "ess-note");
                div.style.cssText = "background:#fff3cd;color:#5c4400;padding:4px 8px;" +
                    "border:1px solid #c9a227;border-radius:4px;font-weight:bold;" +
                    "font-family:sans-serif";
                div.style.fontSize = {{ this.size }} + "px";
                div.style.lineHeight = {{ (this.size * 1.4)|round|int }} + "px";
                div.textContent = {{ this.text_js }};
                return div;
            };
            note.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str, *, large: bool = False):
        super().__init__()
        self._name = "MapNote"
        self.text_js = compact_json(text)
        self.size = text_sizes(large)["note"]


class MetricScale(folium.MacroElement):
    """Leaflet's scale bar in metres and kilometres only (Leaflet adds miles by default)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({{ this.options|tojavascript }}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, *, large: bool = False):
        super().__init__()
        self._name = "MetricScale"
        self.options = {"metric": True, "imperial": False, "maxWidth": 200 if large else 120}


class FrenchControls(folium.MacroElement):
    """Map controls that speak French: zoom buttons, the layer switcher's button, popup close.

    Leaflet's own texts are English ("Zoom in", "Layers", "Close popup") and screen readers read
    them out. The layer switcher may be added after this (st_folium adds it last), so its button
    is titled whenever it appears in the map's control corners.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var map = {{ this._parent.get_name() }};
            L.control.zoom({
                position: "topleft", zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière"
            }).addTo(map);
            function name(el, text) {
                if (el && el.getAttribute("title") !== text) {
                    el.setAttribute("title", text);
                    el.setAttribute("aria-label", text);
                }
            }
            var corners = map.getContainer().querySelector(".leaflet-control-container");
            function layersButton() {
                name(corners.querySelector(".leaflet-control-layers-toggle"),
                     "Couches de la carte");
            }
            new MutationObserver(layersButton).observe(corners, {childList: true, subtree: true});
            layersButton();
            map.on("popupopen", function(e) {
                var el = e.popup.getElement();
                name(el && el.querySelector(".leaflet-popup-close-button"), "Fermer");
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "FrenchControls"


class PlainBackground(Layer):
    """The offline base layer: nothing but the map's light background, under the vector layers.

    A base layer of its own so the layer switcher offers it next to the tiles, and so the map
    switches to it when no tile server answers (see BaseSwitch).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        {% endmacro %}
        """
    )

    def __init__(self, name: str, *, show: bool = True):
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "PlainBackground"


TILE_TIMEOUT_MS = 8000


class BaseSwitch(folium.MacroElement):
    """Light map background, and the switch to the vector base when no tile is ever received.

    Tiles that fail before any tile has loaded (no network, tile server down or blocked by the
    intranet's proxy), or no tile at all after TILE_TIMEOUT_MS (requests held by a proxy), remove
    the tile layer and select the plain background: the outlines and place names drawn from the
    loaded layers are the map. Once a tile has loaded, a later failure is a missing tile, not an
    offline map, and changes nothing. The container says which base is shown
    (data-ess-base="tuiles" | "vectoriel") for tests and for support.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var map = {{ this._parent.get_name() }};
            var box = map.getContainer();
            box.style.background = {{ this.background|tojson }};
            var vector = {{ this.vector.get_name() }};
            {%- if this.tiles %}
            var tiles = {{ this.tiles.get_name() }};
            var loaded = 0;
            box.setAttribute("data-ess-base", "tuiles");
            function offline() {
                if (loaded > 0 || !map.hasLayer(tiles)) { return; }
                map.removeLayer(tiles);
                vector.addTo(map);
                box.setAttribute("data-ess-base", "vectoriel");
            }
            tiles.on("tileload", function() { loaded += 1; });
            tiles.on("tileerror", offline);
            // A proxy that holds requests gives neither tiles nor errors: same switch.
            setTimeout(offline, {{ this.timeout_ms }});
            map.on("baselayerchange", function(e) {
                box.setAttribute("data-ess-base", e.layer === tiles ? "tuiles" : "vectoriel");
            });
            {%- else %}
            box.setAttribute("data-ess-base", "vectoriel");
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, vector: PlainBackground, tiles: folium.TileLayer | None, background: str):
        super().__init__()
        self._name = "BaseSwitch"
        self.vector = vector
        self.tiles = tiles
        self.background = background
        self.timeout_ms = TILE_TIMEOUT_MS


# --------------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------------

OSM_TILES = "OpenStreetMap"
MIN_ZOOM, MAX_ZOOM = 9, 19
TILES_NAME = "Fond de plan OpenStreetMap"
OSM_ATTRIBUTION = (
    '&copy; les contributeurs d\'<a href="https://www.openstreetmap.org/copyright">'
    "OpenStreetMap</a>"
)
VECTOR_BASE_NAME = "Fond vectoriel (hors ligne)"
# Panes (Leaflet z-index): the light outlines of the vector base under the thematic layers (400),
# place names above them and above the markers (600) but under tooltips (650) and popups (700):
# a name stays readable over a cluster, which still takes the clicks (neither pane catches the
# pointer).
BASE_PANE, LABEL_PANE = "essBase", "essLabels"


def base_map(
    center: tuple[float, float] = (50.63, 3.05),
    zoom: int = 12,
    tiles: str | None = OSM_TILES,
    *,
    large: bool = False,
) -> LocalMap:
    """An empty map centred on Lille, readable with or without a tile server.

    Two base layers, named in French in the layer switcher: the tiles (OpenStreetMap, with their
    attribution) and a plain light background; the map falls back to the latter when no tile
    loads (BaseSwitch). tiles=None gives the plain background only. The scale bar is metric.
    """
    m = LocalMap(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        control_scale=False,
        zoom_control=False,
        width="100%",
        height="100%",
        # Quarter zoom steps: fitBounds fills the map with the communes instead of leaving a
        # wide margin whenever the next whole zoom would not quite fit.
        zoomSnap=0.25,
        # Set on the map itself: without a tile layer Leaflet (and markercluster) has no max zoom.
        maxZoom=MAX_ZOOM,
        minZoom=MIN_ZOOM,
    )
    folium.map.CustomPane(BASE_PANE, z_index=350, pointer_events=False).add_to(m)
    folium.map.CustomPane(LABEL_PANE, z_index=620, pointer_events=False).add_to(m)
    tile_layer = None
    if tiles:
        tile_layer = folium.TileLayer(
            tiles,
            name=TILES_NAME,
            max_zoom=MAX_ZOOM,
            attr=OSM_ATTRIBUTION if tiles == OSM_TILES else None,
        ).add_to(m)
    vector = PlainBackground(VECTOR_BASE_NAME, show=tile_layer is None).add_to(m)
    m.add_child(BaseSwitch(vector, tile_layer, MAP_BACKGROUND))
    m.add_child(MetricScale(large=large))
    m.add_child(FrenchControls())
    m.add_child(Legend(large=large))
    return m


def fit_to(m: folium.Map, gdf: gpd.GeoDataFrame | None, padding_px: int = 6) -> None:
    """Open the map on the extent of ``gdf`` (e.g. the three communes) whatever the screen width.

    A fixed centre and zoom cut Lomme and Hellemmes off on a phone; Leaflet's fitBounds picks the
    zoom that shows the whole extent in the map's actual size. Nothing happens for no geometry.
    """
    if gdf is None or gdf.empty:
        return
    shown = gdf.to_crs(DISPLAY_CRS)
    shown = shown[shown.geometry.notna() & ~shown.geometry.is_empty]
    if shown.empty:
        return
    minx, miny, maxx, maxy = (float(v) for v in shown.total_bounds)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(padding_px, padding_px))


def points_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    popup_fields: Mapping[str, str],
    tooltip_field: str | None = None,
    color: str = GRANT_COLOR,
    cluster: bool = False,
    radius: float = 6,
    show: bool = True,
) -> GeoJsonLayer:
    """Points as one GeoJSON layer (clustered or not) with an escaped popup and tooltip.

    `popup_fields` maps column -> French label; values are shown as text (numbers in French format:
    pre-format amounts, e.g. with geo.formatting.fmt_eur, to show a unit). Only these columns are
    sent.
    """
    columns = list(dict.fromkeys([*popup_fields, *([tooltip_field] if tooltip_field else [])]))
    prepared = display_geometries(gdf, columns)
    if not prepared.empty and not prepared.geom_type.eq("Point").all():
        raise ValueError(f"La couche « {name} » doit contenir uniquement des points.")
    style = {
        "radius": radius,
        "color": "#ffffff",
        "weight": 1,
        "fillColor": color,
        "fillOpacity": 0.9,
    }
    layer = GeoJsonLayer(
        encode_points(prepared, columns),
        name=name,
        styles=[style],
        bounds=_bounds(prepared),
        columnar=True,
        cluster=cluster,
        show=show,
        legend=[{"label": name, "kind": "point", "color": color}]
        + ([{"label": CLUSTER_LABEL, "kind": "cluster", "color": color}] if cluster else []),
    )
    if popup_fields:
        layer.add_child(SafeDetail(popup_fields, "popup"))
    if tooltip_field:
        layer.add_child(SafeDetail({tooltip_field: None}, "tooltip"))
    return layer


CLUSTER_LABEL = "Points proches regroupés (nombre)"

DEFAULT_POLYGON_STYLE = {
    "color": "#444444",
    "weight": 1.5,
    "fillColor": "#999999",
    "fillOpacity": 0.1,
}


def polygons_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    tooltip_fields: Mapping[str, str],
    style: Mapping[str, Any] | None = None,
    show: bool = True,
    pane: str | None = None,
    interactive: bool = True,
) -> GeoJsonLayer:
    """Simplified polygons with one static Leaflet path style and an escaped tooltip.

    ``interactive=False`` (no tooltip, no highlight) for the light outlines of the vector base.
    """
    columns = list(tooltip_fields) if interactive else []
    prepared = display_geometries(gdf, columns)
    full_style = {**DEFAULT_POLYGON_STYLE, **(style or {})}
    layer = GeoJsonLayer(
        _feature_collection(prepared, columns),
        name=name,
        styles=[full_style],
        bounds=_bounds(prepared),
        highlight=interactive,
        show=show,
        pane=pane,
        interactive=interactive,
        legend=[outline_legend_row(name, full_style)],
    )
    if not interactive:
        return layer
    if tooltip_fields:
        layer.add_child(SafeDetail(tooltip_fields, "tooltip"))
    return layer


# ColorBrewer YlGnBu, sequential and colour-blind safe (colorbrewer2.org), 3 to 7 classes.
YLGNBU = {
    3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
    4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
    5: ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
    6: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"],
    7: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
}
NO_DATA_LABEL = "Aucun projet"
NO_DATA_STYLE = {
    "color": "#555555",
    "weight": 1.2,
    "dashArray": "4 4",
    "fillColor": "#ffffff",
    "fillOpacity": 0.15,
}
CLASS_KEY = "_k"


def _rgba(color: str, alpha: float) -> str:
    text = color.lstrip("#")
    r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


def outline_legend_row(label: str, style: Mapping[str, Any]) -> dict:
    """The legend row of an outline layer: its line colour and dash, its fill when visible."""
    row: dict[str, Any] = {"label": label, "kind": "line", "color": style["color"]}
    if style.get("dashArray"):
        row["dash"] = True
    if float(style.get("fillOpacity", 0)) > 0.05 and style.get("fillColor"):
        row["fill"] = _rgba(style["fillColor"], float(style["fillOpacity"]))
    return row


def sequential_palette(n: int) -> list[str]:
    """n colours of YlGnBu (1 to 7 classes)."""
    if not 1 <= n <= 7:
        raise ValueError(f"Entre 1 et 7 classes sont possibles, pas {n}.")
    return YLGNBU[max(n, 3)][-n:] if n < 3 else YLGNBU[n]


def class_labels(bins: Sequence[float]) -> list[str]:
    """French euro labels for classes (lo, hi]: '1 à 10 000 €', ..., 'plus de 50 000 €'."""
    labels = []
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        if math.isinf(hi):
            labels.append(f"plus de {fmt_eur(lo)}")
        elif lo <= 0:
            labels.append(f"jusqu'à {fmt_eur(hi)}")
        else:
            labels.append(f"{fmt_number(lo)} à {fmt_eur(hi)}")
    return labels


def class_index(values: pd.Series, bins: Sequence[float]) -> pd.Series:
    """Class index 1..n for values in (bins[i-1], bins[i]]; 0 for missing or zero ('no project').

    Which class each area falls in, given edges (e.g. from geo.indicators.classify, which computes
    the edges and labels). Values above the last edge go to the last class, values at or below the
    first edge (but positive) to the first one.
    """
    edges = list(bins)
    if len(edges) < 2 or any(b >= a for a, b in zip(edges[1:], edges[:-1], strict=True)):
        raise ValueError("Les bornes de classes doivent être strictement croissantes (au moins 2).")
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    inner = np.asarray(edges[1:-1], dtype=float)
    idx = np.searchsorted(inner, numbers.to_numpy(), side="left") + 1
    empty = numbers.isna().to_numpy() | (numbers.to_numpy() == 0)
    return pd.Series(np.where(empty, 0, idx).astype(int), index=values.index)


def choropleth_layer(
    gdf: gpd.GeoDataFrame,
    value_col: str,
    bins: Sequence[float],
    labels: Sequence[str] | None = None,
    *,
    name: str,
    legend_title: str,
    tooltip_fields: Mapping[str, str] | None = None,
    show: bool = True,
) -> GeoJsonLayer:
    """Euro amounts by area in classed YlGnBu colours, with a legend and value labels in tooltips.

    Not relying on colour alone: every tooltip states the amount and its class in words, and the
    "no project" class (missing or zero amount) is drawn with a dashed outline and a near-white
    fill, repeated in its legend swatch.
    """
    n = len(bins) - 1
    labels = list(labels) if labels is not None else class_labels(bins)
    if len(labels) != n:
        raise ValueError(f"{n} classes mais {len(labels)} libellés.")
    palette = sequential_palette(n)
    extra = dict(tooltip_fields or {})
    prepared = display_geometries(gdf, list(dict.fromkeys([*extra, value_col])))
    classes = class_index(prepared[value_col], bins)
    prepared = prepared.assign(
        valeur=[
            fmt_eur(v) if c else NO_DATA_LABEL
            for v, c in zip(prepared[value_col], classes, strict=True)
        ],
        classe=[labels[c - 1] if c else NO_DATA_LABEL for c in classes],
    )
    fields = {**extra, "valeur": legend_title, "classe": "Classe"}
    collection = _feature_collection(prepared, list(fields))
    for feature, k in zip(collection["features"], classes.tolist(), strict=True):
        feature["properties"][CLASS_KEY] = k
    styles = [NO_DATA_STYLE] + [
        {"color": "#555555", "weight": 1, "fillColor": c, "fillOpacity": 0.75} for c in palette
    ]
    items = [
        {"label": label, "kind": "fill", "color": "#555555", "fill": color}
        for label, color in zip(labels, palette, strict=True)
    ][::-1]
    items.append(
        {
            "label": NO_DATA_LABEL,
            "kind": "fill",
            "color": "#555555",
            "fill": "#ffffff",
            "dash": True,
        }
    )
    layer = GeoJsonLayer(
        collection,
        name=name,
        styles=styles,
        bounds=_bounds(prepared),
        class_key=CLASS_KEY,
        highlight=True,
        show=show,
        legend=items,
        legend_title=legend_title,
    )
    layer.add_child(SafeDetail(fields, "tooltip"))
    return layer


def layer_switcher() -> folium.LayerControl:
    """The layers switcher, not yet on a map (st_folium's ``layer_control`` adds it last).

    Folded into its button (titled in French by FrenchControls) until hovered or focused, so it
    never hides a commune or the legend, on a phone as on a projector.
    """
    return folium.LayerControl(collapsed=True, position="topright")


def layer_control(m: folium.Map) -> folium.LayerControl:
    """The layers switcher, added last so it lists every layer."""
    control = layer_switcher()
    control.add_to(m)
    return control


# --------------------------------------------------------------------------------------------------
# Aggregation for display
# --------------------------------------------------------------------------------------------------


def aggregate_by_location(
    points: gpd.GeoDataFrame,
    *,
    amount_col: str = "montant",
    name_col: str = "nomBeneficiaire",
) -> gpd.GeoDataFrame:
    """One point per location (5-decimal coordinates): count, total and a French summary.

    50 000 grants fit on a city map as a few thousand locations; the popup says
    "3 subventions, 12 345 €" instead of 3 stacked markers.
    Columns: nom, nb_subventions, montant_total, resume, geometry (EPSG:4326).
    """
    pts = points.to_crs(DISPLAY_CRS)
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    frame = pd.DataFrame(
        {
            "x": np.round(shapely.get_x(pts.geometry.values), COORD_DECIMALS),
            "y": np.round(shapely.get_y(pts.geometry.values), COORD_DECIMALS),
            "nom": pts[name_col].astype("string").to_numpy(),
            "montant": pd.to_numeric(pts[amount_col], errors="coerce").to_numpy(),
        }
    )
    grouped = (
        frame.groupby(["x", "y"], sort=True)
        .agg(
            nom=("nom", "first"),
            noms=("nom", "nunique"),
            nb_subventions=("montant", "size"),
            montant_total=("montant", "sum"),
        )
        .reset_index()
    )
    several = grouped["noms"] > 1
    grouped["nom"] = grouped["nom"].where(
        ~several, grouped["noms"].map(lambda n: f"{n} bénéficiaires")
    )
    grouped["resume"] = [
        f"{n} subvention{'s' if n > 1 else ''}, {fmt_eur(t)}"
        for n, t in zip(grouped["nb_subventions"], grouped["montant_total"], strict=True)
    ]
    return gpd.GeoDataFrame(
        grouped[["nom", "nb_subventions", "montant_total", "resume"]],
        geometry=gpd.points_from_xy(grouped["x"], grouped["y"]),
        crs=DISPLAY_CRS,
    )
