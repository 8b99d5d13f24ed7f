"""A choropleth of targets as inline SVG, drawn from the shipped Natural Earth outlines.

Projection: equirectangular with a standard parallel at the middle of each panel's extent (x
scaled by its cosine), which keeps shapes fair across the few dozen degrees of latitude a
regional briefing covers, and needs nothing beyond numpy.

The map zooms to the findings: targets are grouped by where they are (a gap of more than
``REGION_GAP_DEGREES`` between neighbours starts a new group), the largest group fills the main
panel, and every other group gets an inset of its own — Germany and Poland with Taiwan give a
map of central Europe with an East-Asia inset, not a strip from the Atlantic to the Pacific.
Labels that would overlap move aside, with a leader line to their country.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from hybridwatch.outputs.geo import world_geojson

#: Light → dark sequential classes (ColorBrewer OrRd, 5 classes) for counts.
CLASSES = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
#: One shade per PHIA term, light → dark (ColorBrewer YlOrRd, 7 classes; colour-blind safe and
#: readable in greyscale: lightness falls monotonically).
PHIA_CLASSES = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
LAND, WATER, EDGE = "#eeeeee", "#f7fbff", "#9a9a9a"
WORLD = (-180.0, 180.0, -58.0, 84.0)
#: Targets further apart than this (degrees of longitude or latitude between the nearest
#: members) are drawn in separate panels.
REGION_GAP_DEGREES = 35.0
#: An inset's width as a share of the map's.
INSET_SHARE = 0.34
LABEL_SIZE = 10.0


@dataclass(frozen=True)
class MapClass:
    """One legend entry: values in ``[low, high]`` take ``colour``."""

    label: str
    low: float
    high: float
    colour: str


@dataclass(frozen=True)
class MapResult:
    svg: str
    drawn: tuple[str, ...]       # targets with an outline at this scale
    missing: tuple[str, ...]     # targets too small for the 1:110m outlines
    panels: tuple[tuple[str, ...], ...] = ()   # targets per panel, the main panel first


def phia_classes() -> tuple[MapClass, ...]:
    """The PHIA yardstick as map classes (a value in a gap takes the nearer band's class, as
    ``model.phia`` words it)."""
    from hybridwatch.model.phia import PHIA_BANDS

    return tuple(MapClass(term, low / 100, high / 100, colour)
                 for (term, low, high), colour in zip(PHIA_BANDS, PHIA_CLASSES))


def _polygons(feature: dict) -> list:
    geometry = feature["geometry"]
    return geometry["coordinates"] if geometry["type"] == "MultiPolygon" \
        else [geometry["coordinates"]]


def _bounds(ring: list) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), max(xs), min(ys), max(ys)


def _main_box(feature: dict) -> tuple[float, float, float, float]:
    return _bounds(max(_polygons(feature), key=lambda p: len(p[0]))[0])


def _extent(features: Mapping[str, dict], targets: Sequence[str],
            min_width: float = 50.0, min_height: float = 25.0
            ) -> tuple[float, float, float, float]:
    """Longitude/latitude box around the targets' main parts, padded, at least
    ``min_width`` × ``min_height`` degrees."""
    boxes = [_main_box(features[iso3]) for iso3 in targets]
    if not boxes:
        return WORLD
    west, east = min(b[0] for b in boxes) - 8, max(b[1] for b in boxes) + 8
    south, north = min(b[2] for b in boxes) - 5, max(b[3] for b in boxes) + 5
    if east - west < min_width:
        middle = (east + west) / 2
        west, east = middle - min_width / 2, middle + min_width / 2
    if north - south < min_height:
        middle = (north + south) / 2
        south, north = middle - min_height / 2, middle + min_height / 2
    return max(west, -180), min(east, 180), max(south, -85), min(north, 85)


def regions(features: Mapping[str, dict], targets: Sequence[str]) -> list[list[str]]:
    """Targets grouped by place (single linkage on the gap between their boxes), the group
    with most targets first (ties: the westernmost)."""
    boxes = {t: _main_box(features[t]) for t in targets}
    groups: list[list[str]] = []
    for target in sorted(targets, key=lambda t: boxes[t][0]):
        a = boxes[target]
        near = [g for g in groups
                if any(_gap(a, boxes[o]) <= REGION_GAP_DEGREES for o in g)]
        merged = [target] + [t for g in near for t in g]
        groups = [g for g in groups if g not in near] + [merged]
    groups = [sorted(g) for g in groups]
    return sorted(groups, key=lambda g: (-len(g), min(boxes[t][0] for t in g)))


def _gap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Degrees between two boxes (0 when they overlap), the larger of the two axes' gaps."""
    dx = max(0.0, max(a[0], b[0]) - min(a[1], b[1]))
    dy = max(0.0, max(a[2], b[2]) - min(a[3], b[3]))
    return max(dx, dy)


class _Panel:
    """One projected view: an extent drawn at ``width`` pixels from ``(x0, y0)``."""

    def __init__(self, extent: tuple[float, float, float, float], width: float,
                 x0: float = 0.0, y0: float = 0.0) -> None:
        import numpy as np

        self.west, self.east, self.south, self.north = extent
        self.k = float(np.cos(np.radians((self.south + self.north) / 2)))
        self.scale = width / ((self.east - self.west) * self.k)
        self.width, self.height = width, (self.north - self.south) * self.scale
        self.x0, self.y0 = x0, y0

    def project(self, ring: list):
        import numpy as np

        points = np.asarray(ring, dtype=float)
        return np.column_stack(
            (self.x0 + (points[:, 0] - self.west) * self.k * self.scale,
             self.y0 + (self.north - points[:, 1]) * self.scale))

    def shows(self, box: tuple[float, float, float, float]) -> bool:
        return (box[0] <= self.east and box[1] >= self.west and box[2] <= self.north
                and box[3] >= self.south)


def render_map(values: Mapping[str, float], *, maximum: float | None = None,
               value_label: Callable[[float], str] = lambda v: f"{v:g}",
               legend_title: str = "", width: float = 640.0,
               classes: Sequence[MapClass] | None = None) -> MapResult:
    """Shade each target (ISO3 → value ≥ 0) by ``classes`` (default: five equal classes from 0
    to ``maximum``, itself by default the largest value); label it "ISO3 value"."""
    features = {f["properties"]["iso3"]: f for f in world_geojson()["features"]}
    drawn = sorted(k for k in values if k in features)
    missing = tuple(sorted(k for k in values if k not in features))
    top = maximum if maximum is not None else max(values.values(), default=0.0) or 1.0
    equal = classes is None
    if classes is None:
        step = top / len(CLASSES)
        classes = tuple(MapClass(f"{value_label(i * step)}–{value_label((i + 1) * step)}",
                                 i * step, (i + 1) * step, colour)
                        for i, colour in enumerate(CLASSES))

    def colour(value: float) -> str:
        if equal:   # equal classes include their lower edge: [0, 1), [1, 2) … [4, 5]
            position = min(max(value / top, 0.0), 1.0)
            return CLASSES[min(int(position * len(CLASSES)), len(CLASSES) - 1)]
        for c in classes:
            if value <= c.high:
                if value >= c.low:
                    return c.colour
                # in a gap between classes: the nearer edge's class
                previous = classes[max(classes.index(c) - 1, 0)]
                return c.colour if c.low - value < value - previous.high else previous.colour
        return classes[-1].colour

    groups = regions(features, drawn) if drawn else [[]]
    main = _Panel(_extent(features, groups[0]), width)
    parts: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []
    parts.append(_panel_svg(main, features, values, colour, value_label, groups[0], "map-main",
                            boxes))
    for n, group in enumerate(groups[1:], start=1):
        inset_width = width * INSET_SHARE
        panel = _Panel(_extent(features, group, 28.0, 16.0), inset_width)
        # stack insets up the right edge, inside the main panel
        y = main.height - n * (panel.height + 6)
        panel.x0, panel.y0 = width - inset_width - 4, max(y, 4.0)
        parts.append(_panel_svg(panel, features, values, colour, value_label, group,
                                f"map-inset-{n}", boxes, framed=True))
    legend = _legend(classes, legend_title, main.height)
    legend_rows = 1 + (len(classes) - 1) // 4
    height = main.height + 20 + 16 * legend_rows
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'class="chart map" role="img" aria-label="{escape(legend_title)}">'
           f'{"".join(parts)}{legend}</svg>')
    return MapResult(svg, tuple(drawn), missing, tuple(tuple(g) for g in groups if g))


def _panel_svg(panel: _Panel, features: Mapping[str, dict], values: Mapping[str, float],
               colour: Callable[[float], str], value_label: Callable[[float], str],
               labelled: Sequence[str], clip_id: str,
               taken: list[tuple[float, float, float, float]], framed: bool = False) -> str:
    paths = []
    for iso3, feature in features.items():
        rings = [ring for polygon in _polygons(feature) for ring in polygon]
        if not any(panel.shows(_bounds(r)) for r in rings):
            continue
        d = " ".join("M" + " ".join(f"{x:.1f},{y:.1f}" for x, y in panel.project(r)) + "Z"
                     for r in rings)
        fill = colour(values[iso3]) if iso3 in values else LAND
        name = escape(feature["properties"]["name"])
        paths.append(f'<path d="{d}" fill="{fill}" stroke="{EDGE}" stroke-width="0.5" '
                     f'fill-rule="evenodd"><title>{name}</title></path>')
    labels = _labels(panel, features, values, value_label, labelled, taken)
    x, y, w, h = panel.x0, panel.y0, panel.width, panel.height
    frame_style = 'stroke="#555555" stroke-width="1"' if framed else f'stroke="{EDGE}"'
    return (f'<g class="map-panel"><defs><clipPath id="{clip_id}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"/></clipPath></defs>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{WATER}"/>'
            f'<g clip-path="url(#{clip_id})">{"".join(paths)}{labels}</g>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" '
            f'{frame_style}/></g>')


def _label_box(x: float, y: float, text: str) -> tuple[float, float, float, float]:
    """Approximate box (x0, x1, y0, y1) of bold 10 px text centred at x, baseline y."""
    half = 0.33 * LABEL_SIZE * len(text)
    return x - half, x + half, y - LABEL_SIZE, y + 2


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _labels(panel: _Panel, features: Mapping[str, dict], values: Mapping[str, float],
            value_label: Callable[[float], str], labelled: Sequence[str],
            taken: list[tuple[float, float, float, float]]) -> str:
    """'ISO3 value' at each target's centroid; a label that would cover one already placed
    moves down, up, right or left in steps until it is free, with a leader line back."""
    out = []
    order = sorted(labelled, key=lambda t: (-values[t], t))
    step = LABEL_SIZE + 3
    offsets = [(0.0, 0.0)] + [(dx * step * 2.2, dy * step) for r in (1, 2, 3, 4)
                              for dx, dy in ((0, r), (0, -r), (r, 0), (-r, 0))]
    for iso3 in order:
        lon, lat = features[iso3]["properties"]["centroid"]
        cx, cy = panel.project([[lon, lat]])[0]
        text = f"{iso3} {value_label(values[iso3])}"
        for dx, dy in offsets:
            box = _label_box(cx + dx, cy + dy + 4, text)
            inside = (box[0] >= panel.x0 and box[1] <= panel.x0 + panel.width
                      and box[2] >= panel.y0 and box[3] <= panel.y0 + panel.height)
            if inside and not any(_overlap(box, other) for other in taken):
                break
        taken.append(box)
        x, y = cx + dx, cy + dy + 4
        if (dx, dy) != (0.0, 0.0):
            out.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" '
                       f'y2="{y - LABEL_SIZE / 2:.1f}" stroke="#222222" stroke-width="0.6"/>')
        safe = escape(text)
        for halo in ('stroke="#ffffff" stroke-width="2.5" ', ""):
            out.append(f'<text x="{x:.1f}" y="{y:.1f}" {halo}text-anchor="middle" '
                       f'font-size="{LABEL_SIZE:g}" font-weight="bold" fill="#222222" '
                       f'class="map-label">{safe}</text>')
    return "".join(out)


def _legend(classes: Sequence[MapClass], title: str, y0: float) -> str:
    parts = [f'<text x="0" y="{y0 + 16:.1f}" font-size="11">{escape(title)}</text>']
    for i, c in enumerate(classes):
        row, column = divmod(i, 4)
        x, y = 150 + column * 122, y0 + 6 + row * 16
        parts.append(f'<rect x="{x}" y="{y:.1f}" width="14" height="11" fill="{c.colour}" '
                     f'stroke="{EDGE}" stroke-width="0.5"/>')
        parts.append(f'<text x="{x + 18}" y="{y + 9.5:.1f}" font-size="11">'
                     f'{escape(c.label)}</text>')
    return "".join(parts)
