"""A choropleth of targets as inline SVG, drawn from the shipped Natural Earth outlines.

Projection: equirectangular with a standard parallel at the middle of the shown extent (x scaled
by its cosine), which keeps shapes fair across the few dozen degrees of latitude a regional
briefing covers, and needs nothing beyond numpy. The extent is fitted to the targets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape

from hybridwatch.outputs.geo import world_geojson

#: Light → dark sequential classes (ColorBrewer OrRd, 5 classes).
CLASSES = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
LAND, WATER, EDGE = "#eeeeee", "#f7fbff", "#9a9a9a"
WORLD = (-180.0, 180.0, -58.0, 84.0)


@dataclass(frozen=True)
class MapResult:
    svg: str
    drawn: tuple[str, ...]       # targets with an outline at this scale
    missing: tuple[str, ...]     # targets too small for the 1:110m outlines


def _polygons(feature: dict) -> list:
    geometry = feature["geometry"]
    return geometry["coordinates"] if geometry["type"] == "MultiPolygon" \
        else [geometry["coordinates"]]


def _bounds(ring: list) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), max(xs), min(ys), max(ys)


def _extent(features: Mapping[str, dict], targets: list[str]) -> tuple[float, float, float, float]:
    """Longitude/latitude box around the targets' main parts, padded, at least 50° × 25°."""
    boxes = []
    for iso3 in targets:
        largest = max(_polygons(features[iso3]), key=lambda p: len(p[0]))
        boxes.append(_bounds(largest[0]))
    if not boxes:
        return WORLD
    west, east = min(b[0] for b in boxes) - 12, max(b[1] for b in boxes) + 12
    south, north = min(b[2] for b in boxes) - 7, max(b[3] for b in boxes) + 7
    if east - west < 50:
        middle = (east + west) / 2
        west, east = middle - 25, middle + 25
    if north - south < 25:
        middle = (north + south) / 2
        south, north = middle - 12.5, middle + 12.5
    return max(west, -180), min(east, 180), max(south, -85), min(north, 85)


def render_map(values: Mapping[str, float], *, maximum: float | None = None,
               value_label: Callable[[float], str] = lambda v: f"{v:g}",
               legend_title: str = "", width: float = 640.0) -> MapResult:
    """Shade each target (ISO3 → value ≥ 0) in one of five classes from 0 to ``maximum``
    (default: the largest value); label it with ``value_label(value)``."""
    import numpy as np

    features = {f["properties"]["iso3"]: f for f in world_geojson()["features"]}
    drawn = sorted(k for k in values if k in features)
    missing = tuple(sorted(k for k in values if k not in features))
    west, east, south, north = _extent(features, drawn)
    k = np.cos(np.radians((south + north) / 2))
    scale = width / ((east - west) * k)
    height = (north - south) * scale

    def project(ring: list) -> np.ndarray:
        points = np.asarray(ring, dtype=float)
        return np.column_stack(((points[:, 0] - west) * k * scale, (north - points[:, 1]) * scale))

    top = maximum if maximum is not None else max(values.values(), default=0.0) or 1.0

    def colour(value: float) -> str:
        position = min(max(value / top, 0.0), 1.0)
        return CLASSES[min(int(position * len(CLASSES)), len(CLASSES) - 1)]

    paths, labels = [], []
    for iso3, feature in features.items():
        rings = [ring for polygon in _polygons(feature) for ring in polygon]
        if not any(_overlaps(_bounds(r), west, east, south, north) for r in rings):
            continue
        d = " ".join("M" + " ".join(f"{x:.1f},{y:.1f}" for x, y in project(r)) + "Z"
                     for r in rings)
        fill = colour(values[iso3]) if iso3 in values else LAND
        name = escape(feature["properties"]["name"])
        paths.append(f'<path d="{d}" fill="{fill}" stroke="{EDGE}" stroke-width="0.5" '
                     f'fill-rule="evenodd"><title>{name}</title></path>')
    for iso3 in drawn:
        lon, lat = features[iso3]["properties"]["centroid"]
        x, y = project([[lon, lat]])[0]
        text = escape(f"{iso3} {value_label(values[iso3])}")
        for halo in ('stroke="#ffffff" stroke-width="2.5" ', ""):
            labels.append(f'<text x="{x:.1f}" y="{y:.1f}" {halo}text-anchor="middle" '
                          f'font-size="10" font-weight="bold" fill="#222222">{text}</text>')
    legend = _legend(top, value_label, legend_title, height)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height + 34:.0f}" '
           f'class="chart map" role="img" aria-label="{escape(legend_title)}">'
           f'<defs><clipPath id="map-clip"><rect width="{width:.0f}" height="{height:.1f}"/>'
           f'</clipPath></defs>'
           f'<rect width="{width:.0f}" height="{height:.1f}" fill="{WATER}"/>'
           f'<g clip-path="url(#map-clip)">{"".join(paths)}{"".join(labels)}</g>'
           f'<rect width="{width:.0f}" height="{height:.1f}" fill="none" stroke="{EDGE}"/>'
           f"{legend}</svg>")
    return MapResult(svg, tuple(drawn), missing)


def _overlaps(box: tuple[float, float, float, float], west: float, east: float, south: float,
              north: float) -> bool:
    return box[0] <= east and box[1] >= west and box[2] <= north and box[3] >= south


def _legend(top: float, value_label: Callable[[float], str], title: str, y0: float) -> str:
    step = top / len(CLASSES)
    parts = [f'<text x="0" y="{y0 + 14:.1f}" font-size="9">{escape(title)}</text>']
    for i, fill in enumerate(CLASSES):
        x = 150 + i * 90
        parts.append(f'<rect x="{x}" y="{y0 + 5:.1f}" width="14" height="11" fill="{fill}" '
                     f'stroke="{EDGE}" stroke-width="0.5"/>')
        span = f"{value_label(i * step)}–{value_label((i + 1) * step)}"
        parts.append(f'<text x="{x + 18}" y="{y0 + 14:.1f}" font-size="9">{escape(span)}</text>')
    return "".join(parts)
