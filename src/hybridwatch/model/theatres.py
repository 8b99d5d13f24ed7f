"""Named theatres (Taiwan Strait, Baltic Sea …): a shipped, overridable table of sea areas and
regions, each defined by a coarse polygon and place names, with the countries it concerns.

An event lies in a theatre when its coordinates fall inside the theatre's polygon (the smallest
theatre wins where they overlap) or, for an event without coordinates, when its location name
names the theatre. The episode scan uses the theatre as the event's "where" when it has neither
a target nor a location country (``store.located``).

The shipped table is ``theatres.toml`` next to this module. A user file in the same format
(``--theatres FILE`` or ``$HYBRIDWATCH_THEATRES``) replaces theatres of the same name and adds
new ones; ``replace_shipped = true`` drops the shipped ones. This module is pure: it parses
and validates the table and turns it into Arrow tables (``theatre_tables``) that the store
joins in SQL, so no event is ever looked at row by row in Python.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from hybridwatch.errors import InputError
from hybridwatch.model.toml_tables import read_tables
from hybridwatch.model.countries import to_iso3

SHIPPED = Path(__file__).with_name("theatres.toml")
#: Environment variable naming a user theatre file (same format as the shipped one).
ENV_VAR = "HYBRIDWATCH_THEATRES"
_KEYS = {"name", "countries", "aliases", "polygon", "bbox"}


@dataclass(frozen=True)
class Theatre:
    """A named theatre: polygon vertices as (lon, lat) in degrees, not repeated at the end."""

    name: str
    countries: tuple[str, ...]
    aliases: tuple[str, ...]
    polygon: tuple[tuple[float, float], ...]

    @property
    def area(self) -> float:
        """Planar area in square degrees (shoelace): only to rank overlapping theatres."""
        ring = self.polygon + self.polygon[:1]
        return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))) / 2

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        lons = [p[0] for p in self.polygon]
        lats = [p[1] for p in self.polygon]
        return min(lons), min(lats), max(lons), max(lats)

    def to_dict(self) -> dict:
        return {"name": self.name, "countries": list(self.countries),
                "aliases": list(self.aliases), "polygon": [list(p) for p in self.polygon]}


def load_theatres(path: str | Path | None = None) -> tuple[Theatre, ...]:
    """The shipped theatres overridden by ``path`` (default: ``$HYBRIDWATCH_THEATRES`` if set).

    A user theatre replaces a shipped one of the same name (case-insensitive) and adds the rest;
    with ``replace_shipped = true`` only the user's theatres are used. Sorted by name.
    """
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    theatres = {t.name.lower(): t for t in _read(SHIPPED)[1]}
    if path is not None:
        replace_shipped, own = _read(Path(path))
        if replace_shipped:
            theatres = {}
        theatres.update({t.name.lower(): t for t in own})
    return tuple(sorted(theatres.values(), key=lambda t: t.name))


def find_theatre(theatres: tuple[Theatre, ...], name: str) -> Theatre:
    """The theatre called ``name`` (case-insensitive); ``ValueError`` listing the names."""
    for theatre in theatres:
        if theatre.name.lower() == name.strip().lower():
            return theatre
    raise ValueError(f"unknown theatre {name!r} (theatres: "
                     f"{', '.join(t.name for t in theatres)})")


def _read(path: Path) -> tuple[bool, list[Theatre]]:
    replace_shipped, tables = read_tables(path, what="theatre", table="theatre")
    theatres, seen = [], set()
    for number, table in enumerate(tables, start=1):
        theatre = _theatre(path, number, table)
        if theatre.name.lower() in seen:
            raise InputError(path, f"theatre {theatre.name!r} is defined twice",
                             locator=f"[[theatre]] #{number}", field="name")
        seen.add(theatre.name.lower())
        theatres.append(theatre)
    return replace_shipped, theatres


def _theatre(path: Path, number: int, table: dict) -> Theatre:
    locator = f"[[theatre]] #{number}"
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(path, "each theatre needs a non-empty name", locator=locator,
                         field="name")
    locator = f"[[theatre]] #{number} ({name})"

    def fail(field: str, reason: str) -> InputError:
        return InputError(path, reason, locator=locator, field=field)

    unknown = set(table) - _KEYS
    if unknown:
        raise fail(", ".join(sorted(unknown)), f"unknown key (keys: {', '.join(sorted(_KEYS))})")
    countries = table.get("countries", [])
    if not isinstance(countries, list) or not all(isinstance(c, str) for c in countries):
        raise fail("countries", "a list of ISO 3166 alpha-3 codes, e.g. [\"CHN\", \"TWN\"]")
    for code in countries:
        try:
            if len(code) != 3 or to_iso3(code, "iso3") != code.upper():
                raise ValueError
        except ValueError:
            raise fail("countries", f"{code!r} is not an ISO 3166 alpha-3 code") from None
    aliases = table.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip()
                                                for a in aliases):
        raise fail("aliases", "a list of non-empty place names")
    if ("polygon" in table) == ("bbox" in table):
        raise fail("polygon", "give either polygon = [[lon, lat], ...] or "
                              "bbox = [min_lon, min_lat, max_lon, max_lat]")
    polygon = (_polygon(table["polygon"], fail) if "polygon" in table
               else _bbox(table["bbox"], fail))
    return Theatre(name.strip(), tuple(c.upper() for c in countries),
                   tuple(a.strip() for a in aliases), polygon)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _polygon(raw: object, fail) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, list) or len(raw) < 3:
        raise fail("polygon", "needs at least three [lon, lat] vertices")
    points = []
    for i, vertex in enumerate(raw, start=1):
        pair = [_number(v) for v in vertex] if isinstance(vertex, list) else []
        if len(pair) != 2 or None in pair:
            raise fail("polygon", f"vertex {i}: expected [lon, lat] numbers, got {vertex!r}")
        lon, lat = pair
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise fail("polygon", f"vertex {i}: [{lon}, {lat}] is not a longitude in "
                                  "[-180, 180] and a latitude in [-90, 90]")
        points.append((lon, lat))
    if points[0] == points[-1]:
        points.pop()
    if len(set(points)) < 3:
        raise fail("polygon", "needs at least three distinct vertices")
    return tuple(points)


def _bbox(raw: object, fail) -> tuple[tuple[float, float], ...]:
    values = [_number(v) for v in raw] if isinstance(raw, list) else []
    if len(values) != 4 or None in values:
        raise fail("bbox", "expected [min_lon, min_lat, max_lon, max_lat] numbers")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise fail("bbox", f"{raw!r}: need -180 ≤ min_lon < max_lon ≤ 180 and "
                           "-90 ≤ min_lat < max_lat ≤ 90")
    return ((min_lon, min_lat), (max_lon, min_lat), (max_lon, max_lat), (min_lon, max_lat))


def alias_pattern(alias: str) -> str:
    """An RE2 pattern matching ``alias`` case-insensitively in a location name: as a whole word
    where the name begins or ends with an ASCII letter or digit, as a substring otherwise
    (scripts without word spaces)."""
    escaped = re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", alias)
    escaped = re.sub(r"\s+", r"\\s+", escaped)
    start = r"\b" if re.match(r"[A-Za-z0-9]", alias) else ""
    end = r"\b" if re.search(r"[A-Za-z0-9]$", alias) else ""
    return f"(?i){start}{escaped}{end}"


def theatre_tables(theatres: tuple[Theatre, ...]) -> dict[str, pa.Table]:
    """Arrow tables the store joins: ``theatre_boxes`` (name, countries, bounding box, area,
    rank: 1 = smallest), ``theatre_edges`` (one row per polygon edge) and ``theatre_aliases``
    (name, RE2 pattern, rank)."""
    ranked = sorted(theatres, key=lambda t: (t.area, t.name))
    rank = {t.name: i for i, t in enumerate(ranked, start=1)}
    boxes = pa.table({
        "theatre": [t.name for t in theatres],
        "countries": pa.array([list(t.countries) for t in theatres], pa.list_(pa.string())),
        "min_lon": [t.bbox[0] for t in theatres], "min_lat": [t.bbox[1] for t in theatres],
        "max_lon": [t.bbox[2] for t in theatres], "max_lat": [t.bbox[3] for t in theatres],
        "area": [t.area for t in theatres], "rank": [rank[t.name] for t in theatres]},
    )
    edges: dict[str, list] = {"theatre": [], "x1": [], "y1": [], "x2": [], "y2": []}
    for t in theatres:
        ring = t.polygon + t.polygon[:1]
        for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
            if y1 == y2:
                continue  # a horizontal edge never crosses a horizontal ray
            for key, value in zip(("theatre", "x1", "y1", "x2", "y2"), (t.name, x1, y1, x2, y2)):
                edges[key].append(value)
    aliases: dict[str, list] = {"theatre": [], "pattern": [], "rank": []}
    for t in theatres:
        for alias in (t.name, *t.aliases):
            aliases["theatre"].append(t.name)
            aliases["pattern"].append(alias_pattern(alias))
            aliases["rank"].append(rank[t.name])
    return {"theatre_boxes": boxes,
            "theatre_edges": pa.table(edges, schema=pa.schema(
                [("theatre", pa.string())] + [(k, pa.float64()) for k in ("x1", "y1", "x2", "y2")])),
            "theatre_aliases": pa.table(aliases, schema=pa.schema(
                [("theatre", pa.string()), ("pattern", pa.string()), ("rank", pa.int64())]))}
