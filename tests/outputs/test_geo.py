"""World outlines: keyed by ISO3, flat-map ready, and places fall in the right countries."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pycountry
import pytest

from hybridwatch.outputs.geo import (
    country_centroid, country_iso3s, world_geojson, world_geojson_path,
)

REPO = Path(__file__).resolve().parents[2]


def _polygons(feature: dict) -> list:
    geometry = feature["geometry"]
    return geometry["coordinates"] if geometry["type"] == "MultiPolygon" \
        else [geometry["coordinates"]]


def _area(ring: list) -> float:
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))


def _inside(lon: float, lat: float, feature: dict) -> bool:
    """Even-odd ray casting over every ring of the feature."""
    hit = False
    for polygon in _polygons(feature):
        for ring in polygon:
            for (x0, y0), (x1, y1) in itertools.pairwise(ring):
                if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
                    hit = not hit
    return hit


@pytest.fixture(scope="module")
def features() -> dict[str, dict]:
    return {f["properties"]["iso3"]: f for f in world_geojson()["features"]}


def test_keyed_by_iso3(features: dict[str, dict]) -> None:
    collection = world_geojson()
    assert collection["type"] == "FeatureCollection"
    assert "public domain" in collection["licence"]
    assert len(features) == len(collection["features"]) > 170  # unique keys
    for iso3, feature in features.items():
        assert feature["id"] == iso3
        assert iso3 == "XKX" or pycountry.countries.get(alpha_3=iso3) is not None
        assert feature["properties"]["name"]
    # units without an ISO code are folded into the recognised state, not dropped
    assert {"XKX", "CYP", "SOM"} <= set(features) and "None" not in features
    assert country_iso3s() == frozenset(features)


def test_file_is_compact() -> None:
    path = world_geojson_path()
    assert path.stat().st_size < 300_000
    text = path.read_text(encoding="utf-8")
    coordinates = [c for f in json.loads(text)["features"] for p in _polygons(f)
                   for r in p for c in r]
    assert all(round(x, 1) == x and round(y, 1) == y for x, y in coordinates)


def test_rings_are_flat_map_ready(features: dict[str, dict]) -> None:
    for iso3, feature in features.items():
        for polygon in _polygons(feature):
            for k, ring in enumerate(polygon):
                assert ring[0] == ring[-1] and len(ring) >= 4, iso3
                assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in ring), iso3
                # no edge jumps across the antimeridian (only Antarctica's closing edge along
                # the south pole spans the map)
                for (x0, y0), (x1, _) in itertools.pairwise(ring):
                    assert abs(x1 - x0) <= 180 or y0 == -90, iso3
                assert (_area(ring) > 0) == (k == 0), f"{iso3}: RFC 7946 winding"


@pytest.mark.parametrize(("iso3", "lon", "lat"), [
    ("DEU", 13.40, 52.52),     # Berlin
    ("POL", 21.01, 52.23),     # Warsaw
    ("TWN", 120.96, 23.70),    # central Taiwan (a 110m outline is coarse at the coast)
    ("LTU", 25.28, 54.69),     # Vilnius
    ("FRA", 2.35, 48.86),      # Paris
    ("RUS", 37.62, 55.76),     # Moscow
    ("RUS", 177.5, 64.7),      # Anadyr, west of the antimeridian
    ("RUS", -172.0, 65.5),     # Chukotka east of it
    ("USA", -100.0, 40.0),
    ("XKX", 21.17, 42.66),     # Pristina
])
def test_places_fall_in_their_country(features: dict[str, dict], iso3: str, lon: float,
                                      lat: float) -> None:
    assert _inside(lon, lat, features[iso3])
    others = [k for k, f in features.items() if k != iso3 and _inside(lon, lat, f)]
    assert others == []


def test_centroids() -> None:
    lon, lat = country_centroid("deu")
    assert 5.9 < lon < 15.0 and 47.3 < lat < 55.1     # Germany's extent
    lon, lat = country_centroid("FRA")                 # the largest part, not French Guiana
    assert -5 < lon < 8 and 42 < lat < 51
    lon, lat = country_centroid("RUS")
    assert 30 < lon < 180 and 45 < lat < 75
    assert country_centroid("SGP") is None             # below the 1:110m scale


def test_copy_per_call() -> None:
    first = world_geojson()
    first["features"].clear()
    assert world_geojson()["features"]


def _build_module():
    spec = importlib.util.spec_from_file_location(
        "build_world_outlines", REPO / "scripts" / "build_world_outlines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_decodes_topojson() -> None:
    """A tiny TopoJSON in world-atlas's layout: two squares sharing an arc (quantised,
    delta-encoded), one of them a country without an ISO code, one crossing ±180°."""
    build = _build_module()
    topology = {
        "type": "Topology", "transform": {"scale": [1, 1], "translate": [0, 0]},
        "arcs": [
            [[10, 0], [0, 10]],                        # shared edge x=10, 0..10
            [[10, 10], [-10, 0], [0, -10], [10, 0]],   # rest of square A (0..10)
            [[10, 0], [10, 0], [0, 10], [-10, 0]],     # rest of square B (10..20)
            [[170, 20], [-340, 0], [0, 10], [340, 0], [0, -10]],
        ],
        "objects": {"countries": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0, 1]], "id": "276", "properties": {"name": "A"}},
            {"type": "Polygon", "arcs": [[2, -1]], "properties": {"name": "Kosovo"}},
            {"type": "Polygon", "arcs": [[3]], "id": "242", "properties": {"name": "Fiji"}},
        ]}},
    }
    features = {f["id"]: f for f in build.build(topology)["features"]}
    assert set(features) == {"DEU", "XKX", "FJI"}
    square_a = features["DEU"]["geometry"]["coordinates"][0]
    assert {tuple(p) for p in square_a} == {(0, 0), (10, 0), (10, 10), (0, 10)}
    assert _area(square_a) == 100                       # counter-clockwise exterior
    assert {tuple(p) for p in features["XKX"]["geometry"]["coordinates"][0]} == \
        {(10, 0), (20, 0), (20, 10), (10, 10)}
    fiji = features["FJI"]["geometry"]
    assert fiji["type"] == "MultiPolygon" and len(fiji["coordinates"]) == 2
    spans = sorted((min(x for x, _ in p[0]), max(x for x, _ in p[0])) for p in fiji["coordinates"])
    assert spans == [(-180, -170), (170, 180)]
