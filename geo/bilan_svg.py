"""Static vector maps of the bilan, drawn as SVG from the layers themselves (no tile server).

Input geometries are in Lambert-93 (EPSG:2154, metres), so the map is a plain affine transform:
x to the right, y flipped. Each SVG carries a <title> and a <desc> (its text alternative), and its
legend is real text. The same SVG goes into the PDF (Typst) and the HTML version.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo.formatting import fmt_eur

WIDTH = 640
# Sequential blues (ColorBrewer Blues, 5 classes): readable in grey and for colour-blind readers.
BLUES = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]
QPV_COLOR = "#D55E00"
POINT_COLOR = "#0072B2"


class _Frame:
    """Affine transform from Lambert-93 to SVG pixels for given bounds."""

    def __init__(self, bounds, width: int = WIDTH, margin: int = 10):
        minx, miny, maxx, maxy = bounds
        span_x, span_y = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        self.scale = (width - 2 * margin) / span_x
        self.minx, self.maxy, self.margin = minx, maxy, margin
        self.width = width
        self.height = int(round(span_y * self.scale + 2 * margin))

    def xy(self, coords) -> np.ndarray:
        arr = np.asarray(coords, dtype=float)[:, :2]
        x = (arr[:, 0] - self.minx) * self.scale + self.margin
        y = (self.maxy - arr[:, 1]) * self.scale + self.margin
        return np.column_stack([x, y])

    def path(self, geom: BaseGeometry) -> str:
        """SVG path data of a (multi)polygon or line, rounded to 0.1 px."""
        parts = []
        for poly in getattr(geom, "geoms", [geom]):
            rings = [poly.exterior, *poly.interiors] if hasattr(poly, "exterior") else [poly]
            for ring in rings:
                pts = self.xy(ring.coords)
                if len(pts) < 2:
                    continue
                text = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                parts.append(f"M{text}Z")
        return "".join(parts)


def _bounds(layers: dict) -> tuple | None:
    for name in ("communes", "quartiers", "qpv", "points"):
        gdf = layers.get(name)
        if gdf is not None and len(gdf):
            return tuple(gdf.total_bounds)
    return None


def _svg(frame: _Frame, title: str, desc: str, body: list[str], legend: list[str]) -> str:
    legend_h = 22 * len(legend) + (10 if legend else 0)
    height = frame.height + legend_h
    items = "".join(
        f'<g transform="translate(10,{frame.height + 8 + 22 * i})">{entry}</g>'
        for i, entry in enumerate(legend)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {height}" '
        f'width="{frame.width}" height="{height}" role="img" aria-labelledby="t d">'
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(desc)}</desc>'
        f'<rect width="{frame.width}" height="{height}" fill="#ffffff"/>'
        + "".join(body)
        + items
        + "</svg>"
    )


def _legend_text(text: str) -> str:
    return (
        f'<text x="30" y="12" font-family="sans-serif" font-size="12" '
        f'fill="#222222">{escape(text)}</text>'
    )


def overview_map(layers: dict, *, title: str, desc: str, buffer_label: str = "") -> str | None:
    """Communes, quartiers, QPV in force and the grants' places (dot area ~ amount)."""
    bounds = _bounds(layers)
    if bounds is None:
        return None
    frame = _Frame(bounds)
    body, legend = [], []
    quartiers, communes = layers.get("quartiers"), layers.get("communes")
    if quartiers is not None:
        body += [
            f'<path d="{frame.path(g)}" fill="#f4f4f4" stroke="#9a9a9a" stroke-width="0.6"/>'
            for g in quartiers.geometry
        ]
    if communes is not None:
        fill = "none" if quartiers is not None else "#f4f4f4"
        body += [
            f'<path d="{frame.path(g)}" fill="{fill}" stroke="#444444" stroke-width="1.4"/>'
            for g in communes.geometry
        ]
        legend.append(
            '<rect width="20" height="12" fill="#f4f4f4" stroke="#444444"/>'
            + _legend_text("Communes (et quartiers)" if quartiers is not None else "Communes")
        )
    qpv = layers.get("qpv")
    if qpv is not None:
        body += [
            f'<path d="{frame.path(g)}" fill="{QPV_COLOR}" fill-opacity="0.18" '
            f'stroke="{QPV_COLOR}" stroke-width="1.2" stroke-dasharray="4 2"/>'
            for g in qpv.geometry
        ]
        legend.append(
            f'<rect width="20" height="12" fill="{QPV_COLOR}" fill-opacity="0.18" '
            f'stroke="{QPV_COLOR}" stroke-dasharray="4 2"/>'
            + _legend_text("Quartier prioritaire (QPV) de la liste en vigueur")
        )
    points = layers.get("points")
    if points is not None and len(points):
        amounts = points["montant"].to_numpy(dtype=float)
        top = max(float(np.nanmax(amounts)), 1.0)
        radius = 2.0 + 8.0 * np.sqrt(np.clip(amounts, 0, None) / top)
        xy = frame.xy(np.column_stack([points.geometry.x, points.geometry.y]))
        order = np.argsort(-radius)  # big dots first, small ones stay visible on top
        body += [
            f'<circle cx="{xy[i, 0]:.1f}" cy="{xy[i, 1]:.1f}" r="{radius[i]:.1f}" '
            f'fill="{POINT_COLOR}" fill-opacity="0.55" stroke="#ffffff" stroke-width="0.5"/>'
            for i in order
        ]
        legend.append(
            f'<circle cx="10" cy="6" r="5" fill="{POINT_COLOR}" fill-opacity="0.55"/>'
            + _legend_text(f"Subvention (surface du disque selon le montant, max. {fmt_eur(top)})")
        )
    return _svg(frame, title, desc, body, legend)


def choropleth_map(
    quartiers, values: pd.Series, edges: list[float], labels: list[str], *, title: str, desc: str
) -> str | None:
    """Quartiers coloured by class of ``values`` (indexed by code_quartier), with a legend."""
    if quartiers is None or not len(quartiers):
        return None
    frame = _Frame(tuple(quartiers.total_bounds))
    codes = quartiers["code_quartier"].astype(str)
    vals = pd.to_numeric(values.reindex(codes), errors="coerce").to_numpy()
    colors = BLUES[-len(labels) :] if labels else []
    body = []
    for geom, value in zip(quartiers.geometry, vals, strict=True):
        if labels and np.isfinite(value):
            k = int(np.clip(np.searchsorted(edges, value, side="right") - 1, 0, len(labels) - 1))
            fill = colors[k]
        else:
            fill = "#dddddd"
        body.append(
            f'<path d="{frame.path(geom)}" fill="{fill}" stroke="#555555" stroke-width="0.8"/>'
        )
    legend = [
        f'<rect width="20" height="12" fill="{c}" stroke="#555555"/>' + _legend_text(label)
        for c, label in zip(colors, labels, strict=True)
    ]
    return _svg(frame, title, desc, body, legend)
