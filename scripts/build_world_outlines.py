"""Build ``src/hybridwatch/outputs/assets/world_110m.geojson`` from Natural Earth 110m countries.

Source: the npm package ``world-atlas`` (Natural Earth 4.1.0 admin-0 countries, 1:110m, as
TopoJSON; Natural Earth is public domain, world-atlas is ISC). Run once; the output is committed::

    cd /tmp && npm pack world-atlas && tar xzf world-atlas-*.tgz
    python scripts/build_world_outlines.py /tmp/package/countries-110m.json

The TopoJSON is decoded here (delta-encoded quantised arcs, shared between neighbours) so no
topojson library is needed. Countries are keyed by ISO 3166-1 alpha-3 (from the numeric id via
pycountry). Three Natural Earth units have no ISO numeric code: Kosovo becomes ``XKX`` (the
user-assigned code the rest of hybridwatch uses), and N. Cyprus and Somaliland are merged into
CYP and SOM — internationally recognised borders decide, as in ``model/countries.py``.
Coordinates are rounded to 0.1° (a 110m map cannot show more) and rings follow RFC 7946
(exterior counter-clockwise).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import pycountry

OUT = Path(__file__).resolve().parents[1] / "src/hybridwatch/outputs/assets/world_110m.geojson"
#: Natural Earth units without an ISO numeric id → the ISO3 they are shown as
UNNUMBERED = {"Kosovo": "XKX", "N. Cyprus": "CYP", "Somaliland": "SOM"}
DIGITS = 1  # decimals kept: 0.1°


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat arcs from a quantised, delta-encoded TopoJSON topology."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indices: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Stitch a ring from arc indices (``~i`` = arc ``i`` reversed); shared end points once."""
    points: list[tuple[float, float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def split_antimeridian(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Cut a ring that crosses ±180° into rings that do not (world-atlas stitches Russia, Fiji
    and Antarctica across it; flat maps need them cut, as in Natural Earth's shapefiles).

    Each crossing ends a piece on one side of the meridian and starts the next on the other; a
    piece closed along the meridian is a ring. One crossing only means the ring goes round a
    pole (Antarctica): it is closed through the pole's corners instead.
    """
    crossings = [i for i in range(len(points) - 1)
                 if abs(points[i + 1][0] - points[i][0]) > 180]
    if not crossings:
        return [points]
    pieces: list[list[tuple[float, float]]] = []
    start = crossings[0] + 1
    order = points[start:-1] + points[:start]  # ring rotated to begin right after a crossing
    edge0 = None
    current: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in zip(order, order[1:] + order[:1], strict=True):
        current.append((x0, y0))
        if abs(x1 - x0) > 180:
            edge = 180.0 if x0 > 0 else -180.0
            unwrapped = x1 + 360 if edge > 0 else x1 - 360
            t = (edge - x0) / (unwrapped - x0) if unwrapped != x0 else 0.0
            y = y0 + t * (y1 - y0)
            current.append((edge, y))
            pieces.append(current)
            current = [(-edge, y)]
            edge0 = edge0 if edge0 is not None else -edge
    # the rotated ring began just after the first crossing: its start joins the last piece
    pieces[0] = current + pieces[0] if len(current) > 1 else pieces[0]
    if len(pieces) == 1:  # round a pole: close via the pole along the meridian edges
        piece = pieces[0]
        pole = -90.0 if sum(y for _, y in piece) < 0 else 90.0
        piece += [(piece[-1][0], pole), (piece[0][0], pole)]
    return [piece + [piece[0]] for piece in pieces]


def signed_area(points: list[tuple[float, float]]) -> float:
    """Planar signed area in square degrees (positive = counter-clockwise)."""
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(points))


def compact(points: list[tuple[float, float]], digits: int) -> list[list[float]] | None:
    """Round, drop repeated points, close; None when the ring collapses below a triangle."""
    out: list[list[float]] = []
    for x, y in points:
        p = [round(x, digits), round(y, digits)]
        if not out or p != out[-1]:
            out.append(p)
    if out[0] != out[-1]:
        out.append(out[0])
    if len(out) < 4 or abs(signed_area([tuple(p) for p in out])) == 0:
        return None
    return out


def polygons(geometry: dict, arcs: list, digits: int) -> list[list[list[list[float]]]]:
    """The geometry's polygons, rounded, RFC 7946 winding; collapsed rings dropped."""
    shapes = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    out = []
    for shape in shapes:
        exterior, *holes = (ring(indices, arcs) for indices in shape)
        parts = split_antimeridian(exterior)
        if len(parts) > 1:
            assert not holes, "a ring crossing the antimeridian with holes is not handled"
        for part in parts:
            rings = []
            for k, points in enumerate([part, *holes]):
                points = compact(points, digits)
                if points is None:
                    if k == 0:
                        break
                    continue
                if (signed_area([tuple(p) for p in points]) > 0) != (k == 0):
                    points.reverse()  # RFC 7946: exterior counter-clockwise, holes clockwise
                rings.append(points)
            if rings:
                out.append(rings)
    return out


def centroid(polygons_: list) -> list[float]:
    """Area-weighted centroid of the largest polygon's exterior (a label point: France's sits in
    France, not between Paris and French Guiana)."""
    exterior = max((p[0] for p in polygons_), key=lambda r: abs(signed_area([tuple(q) for q in r])))
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(exterior):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return [round(cx / (3 * a), 2), round(cy / (3 * a), 2)]


def build(topology: dict) -> dict:
    arcs = decode_arcs(topology)
    by_iso3: dict[str, dict] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        numeric = geometry.get("id")
        if numeric is None:
            iso3 = UNNUMBERED[name]
        else:
            iso3 = pycountry.countries.get(numeric=numeric).alpha_3
        polys = polygons(geometry, arcs, DIGITS) or polygons(geometry, arcs, 2)
        entry = by_iso3.setdefault(iso3, {"name": name, "numeric": numeric, "polygons": []})
        if numeric is not None:  # the ISO unit names the merged country
            entry["name"], entry["numeric"] = name, numeric
        entry["polygons"].extend(polys)
    features = []
    for iso3, entry in sorted(by_iso3.items()):
        polys = entry["polygons"]
        geometry = ({"type": "Polygon", "coordinates": polys[0]} if len(polys) == 1
                    else {"type": "MultiPolygon", "coordinates": polys})
        features.append({"type": "Feature", "id": iso3,
                         "properties": {"iso3": iso3, "name": entry["name"],
                                        "iso_numeric": entry["numeric"],
                                        "centroid": centroid(polys)},
                         "geometry": geometry})
    return {"type": "FeatureCollection",
            "source": "Natural Earth 4.1.0 admin-0 countries 1:110m via world-atlas 2.0.2",
            "licence": "Natural Earth: public domain; world-atlas TopoJSON: ISC (Mike Bostock)",
            "features": features}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topojson", type=Path, help="world-atlas countries-110m.json")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    collection = build(json.loads(args.topojson.read_text(encoding="utf-8")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{args.out}: {len(collection['features'])} countries, {len(text) / 1024:.0f} KiB",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
