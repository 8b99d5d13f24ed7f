"""The world's country outlines, offline: Natural Earth 1:110m admin-0 as GeoJSON keyed by ISO3.

The file ``assets/world_110m.geojson`` ships with the package (built once by
``scripts/build_world_outlines.py`` from the ``world-atlas`` npm package; Natural Earth is public
domain). Each feature has ``id`` and ``properties.iso3`` (ISO 3166-1 alpha-3; Kosovo ``XKX``),
``name`` (Natural Earth's short English name), ``iso_numeric`` and ``centroid`` ([lon, lat] of
the largest part, for labels and markers). Coordinates are lon/lat rounded to 0.1°, polygons are
cut at ±180° so flat projections need no special case, rings are wound as RFC 7946 says
(exterior counter-clockwise; d3-geo wants the opposite and needs ``d3.geoRewind`` or
reversed rings). Small states (Singapore, Malta, Bahrain …) are below this scale and absent.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["WORLD_GEOJSON", "country_centroid", "country_iso3s", "world_geojson",
           "world_geojson_path"]

#: File name of the outlines inside ``hybridwatch.outputs/assets``.
WORLD_GEOJSON = "world_110m.geojson"


def world_geojson_path() -> Path:
    """Path of the shipped GeoJSON file (for serving it as it is, e.g. to the dashboard)."""
    return Path(str(resources.files("hybridwatch.outputs").joinpath("assets", WORLD_GEOJSON)))


@lru_cache(maxsize=1)
def _text() -> str:
    return world_geojson_path().read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _index() -> dict[str, dict[str, Any]]:
    return {f["properties"]["iso3"]: f["properties"] for f in json.loads(_text())["features"]}


def world_geojson() -> dict[str, Any]:
    """The outlines as a GeoJSON FeatureCollection (a fresh copy: callers may modify it)."""
    return json.loads(_text())


def country_iso3s() -> frozenset[str]:
    """The ISO3 codes that have an outline."""
    return frozenset(_index())


def country_centroid(iso3: str) -> tuple[float, float] | None:
    """(lon, lat) label point of a country's largest part; None if it has no outline."""
    props = _index().get(iso3.upper())
    if props is None:
        return None
    lon, lat = props["centroid"]
    return float(lon), float(lat)
