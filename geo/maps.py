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
            var group = L.markerClusterGroup({{ this.cluster_options|tojavascript }});
            group.addLayers(L.geoJson(data, opts).getLayers());
            return group;
            {%- else %}
            return L.geoJson(data, opts);
            {%- endif %}
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
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoJsonLayer"
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


class Legend(folium.MacroElement):
    """A Leaflet control listing classes; shown while its parent layer is on the map.

    Built in JavaScript with textContent (works inside st_folium's iframe, where folium's figure
    HTML is not positioned on the map). Swatches repeat the layer's border style so the "no data"
    class is recognisable by its dashed outline, not by colour alone.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var layer = {{ this._parent.get_name() }};
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "ess-legend");
                div.style.cssText = "background:#fff;padding:6px 8px;border-radius:4px;" +
                    "box-shadow:0 1px 4px rgba(0,0,0,.35);font:12px/18px sans-serif;color:#222";
                var title = document.createElement("div");
                title.style.fontWeight = "bold";
                title.textContent = {{ this.title_js }};
                div.appendChild(title);
                {{ this.items_js }}.forEach(function(it) {
                    var row = document.createElement("div");
                    var sw = document.createElement("span");
                    sw.style.cssText = "display:inline-block;width:16px;height:12px;" +
                        "margin-right:6px;vertical-align:middle;box-sizing:border-box";
                    sw.style.background = it.fill;
                    sw.style.border = it.border;
                    row.appendChild(sw);
                    row.appendChild(document.createTextNode(it.label));
                    div.appendChild(row);
                });
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            layer.on("add", function(e) { legend.addTo(e.target._map); });
            layer.on("remove", function() { legend.remove(); });
            if (layer._map) { legend.addTo(layer._map); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, items: Sequence[Mapping[str, str]]):
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.items = [dict(i) for i in items]
        self.title_js = compact_json(title)
        self.items_js = compact_json(self.items)


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
                    "border:1px solid #c9a227;border-radius:4px;font:bold 13px/18px sans-serif";
                div.textContent = {{ this.text_js }};
                return div;
            };
            note.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "MapNote"
        self.text_js = compact_json(text)


# --------------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------------

OSM_TILES = "OpenStreetMap"
MIN_ZOOM, MAX_ZOOM = 9, 19


def base_map(
    center: tuple[float, float] = (50.63, 3.05), zoom: int = 12, tiles: str | None = OSM_TILES
) -> LocalMap:
    """An empty map centred on Lille; tiles=None for offline use (the vector layers still draw).

    OpenStreetMap tiles come with their attribution (folium/xyzservices adds it).
    """
    return LocalMap(
        location=list(center),
        zoom_start=zoom,
        tiles=tiles,
        control_scale=True,
        width="100%",
        height="100%",
        # Set on the map itself: without a tile layer Leaflet (and markercluster) has no max zoom.
        maxZoom=MAX_ZOOM,
        minZoom=MIN_ZOOM,
    )


def points_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    popup_fields: Mapping[str, str],
    tooltip_field: str | None = None,
    color: str = "#1f78b4",
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
    )
    if popup_fields:
        layer.add_child(SafeDetail(popup_fields, "popup"))
    if tooltip_field:
        layer.add_child(SafeDetail({tooltip_field: None}, "tooltip"))
    return layer


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
) -> GeoJsonLayer:
    """Simplified polygons with one static Leaflet path style and an escaped tooltip."""
    columns = list(tooltip_fields)
    prepared = display_geometries(gdf, columns)
    layer = GeoJsonLayer(
        _feature_collection(prepared, columns),
        name=name,
        styles=[{**DEFAULT_POLYGON_STYLE, **(style or {})}],
        bounds=_bounds(prepared),
        highlight=True,
        show=show,
    )
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
    layer = GeoJsonLayer(
        collection,
        name=name,
        styles=styles,
        bounds=_bounds(prepared),
        class_key=CLASS_KEY,
        highlight=True,
        show=show,
    )
    layer.add_child(SafeDetail(fields, "tooltip"))
    items = [
        {"label": label, "fill": color, "border": "1px solid #555555"}
        for label, color in zip(labels, palette, strict=True)
    ][::-1]
    items.append({"label": NO_DATA_LABEL, "fill": "#ffffff", "border": "1px dashed #555555"})
    layer.add_child(Legend(legend_title, items))
    return layer


def layer_switcher() -> folium.LayerControl:
    """The layers switcher, not yet on a map (st_folium's ``layer_control`` adds it last)."""
    return folium.LayerControl(collapsed=False, position="topright")


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
