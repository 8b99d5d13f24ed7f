"""Selectors: the text an analyst writes to name an event series, parsed into a typed value.

    domain=cyber actor=RUS target=DEU            cyber events by Russian actors against Germany
    domain=military actor=CHN location=TWN       Chinese military activity located in Taiwan
    source=pla_sorties intensity>p90             days with sorties above their rolling 90th pct.
    source_type=15*                              CAMEO 15x (exhibit force posture), by prefix
    where=TWN domain=military                    military events whose "where" is Taiwan
    theatre="Taiwan Strait"                      events located in a named theatre

Terms are separated by spaces and combine with AND; ``key=v1,v2`` means any of the values;
double quotes keep spaces in a value (``theatre="Black Sea","Sea of Azov"``). ``where`` is the
dimension the episode scan counts an event for — its target, else its location country, else its
theatre (ISO3 or theatre name); ``theatre`` selects by place (coordinates in the theatre's polygon,
or a place name naming it). Both read the store's ``located_events`` view. A
grid (``domain=cyber,military target=DEU,POL``) expands into one selector per combination, and
``;`` joins grids (``domain=cyber actor=RUS target=DEU ; source=euvsdisinfo target=DEU``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from hybridwatch.errors import SelectorError
from hybridwatch.model.domains import normalise_domain

#: Selector keys and the event column each one filters.
KEYS = {
    "domain": "domain", "actor": "actor_iso3", "actor_country": "actor_iso3",
    "actor_code": "actor_code", "actor_name": "actor_name", "target": "target_iso3",
    "location": "location_iso3", "source": "source", "source_name": "source_name",
    "source_type": "source_type", "sector": "target_sector", "where": "wheres",
    "theatre": "theatre",
}
#: Columns of the ``located_events`` view rather than of the events table.
LOCATED_COLUMNS = frozenset({"wheres", "theatre"})
_COUNTRY_COLUMNS = {"actor_iso3", "target_iso3", "location_iso3"}
_THRESHOLD = re.compile(r"^(count|intensity)(>=|>)(p?)(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Threshold:
    """Which days count as events: ``measure`` above a fixed ``value`` or above its rolling
    ``percentile`` over the previous ``window_days`` (a trailing window: no look-ahead)."""

    measure: str                    # "count" or "intensity" (daily sum)
    inclusive: bool                 # >= rather than >
    value: float | None = None
    percentile: float | None = None
    window_days: int = 90

    def text(self) -> str:
        op = ">=" if self.inclusive else ">"
        bound = f"p{self.percentile:g}" if self.percentile is not None else f"{self.value:g}"
        return f"{self.measure}{op}{bound}"


@dataclass(frozen=True)
class Selector:
    """Filters on event columns (column → accepted values) and an optional threshold."""

    filters: tuple[tuple[str, tuple[str, ...]], ...]
    threshold: Threshold | None = None
    label: str = ""

    def as_mapping(self) -> dict[str, tuple[str, ...]]:
        return dict(self.filters)

    @property
    def located(self) -> bool:
        """Whether it selects on ``where`` or ``theatre`` (the ``located_events`` view)."""
        return any(column in LOCATED_COLUMNS for column, _ in self.filters)

    def __str__(self) -> str:
        return self.label


def parse_selector(text: str) -> Selector:
    """Parse one selector; raise ``SelectorError`` naming the bad term."""
    selectors = parse_grid(text)
    if len(selectors) != 1:
        raise SelectorError(f"selector {text!r} names {len(selectors)} series; a single series "
                            "takes one value per key (use --grid for several)")
    return selectors[0]


def parse_grid(text: str) -> list[Selector]:
    """Parse a grid: every ``key=v1,v2`` term with several values multiplies the selectors;
    ``;`` separates grids whose selectors are listed one after the other (duplicates once)."""
    selectors: list[Selector] = []
    for part in text.split(";"):
        for selector in _parse_product(part):
            if selector.label not in {s.label for s in selectors}:
                selectors.append(selector)
    return selectors


def _parse_product(text: str) -> list[Selector]:
    terms = _terms(text)
    if not terms:
        raise SelectorError("empty selector: write terms like 'domain=cyber target=DEU'")
    axes: list[list[tuple[str, str]]] = []
    threshold = None
    for term in terms:
        found = _THRESHOLD.match(term)
        if found:
            if threshold is not None:
                raise SelectorError(f"{term!r}: only one threshold per selector")
            threshold = _threshold(found, term)
            continue
        key, sep, values = term.partition("=")
        if not sep or not values:
            raise SelectorError(f"{term!r}: expected key=value (keys: {', '.join(KEYS)}) or a "
                                "threshold such as count>=2 or intensity>p90")
        if key not in KEYS:
            raise SelectorError(f"{term!r}: unknown key {key!r} (keys: {', '.join(KEYS)})")
        axes.append([(key, _normalise(key, value.strip(), term))
                     for value in values.split(",") if value.strip()])
    selectors = []
    for combination in itertools.product(*axes):
        merged: dict[str, list[str]] = {}
        for key, value in combination:
            merged.setdefault(KEYS[key], []).append(value)
        filters = tuple((column, tuple(values)) for column, values in merged.items())
        label = " ".join([f"{key}={_quoted(value)}" for key, value in combination]
                         + ([threshold.text()] if threshold else []))
        selectors.append(Selector(filters, threshold, label))
    return selectors


def _terms(text: str) -> list[str]:
    """Split on whitespace outside double quotes; the quotes themselves are dropped."""
    if text.count('"') % 2:
        raise SelectorError(f"{text.strip()!r}: unbalanced double quote")
    terms, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            if current:
                terms.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        terms.append("".join(current))
    return terms


def _quoted(value: str) -> str:
    return f'"{value}"' if any(c.isspace() for c in value) else value


def _normalise(key: str, value: str, term: str) -> str:
    column = KEYS[key]
    if column == "wheres":
        # an ISO3 code (upper-cased) or a theatre name (checked against the store's table)
        return value.upper() if re.fullmatch(r"[A-Za-z]{3}", value) else value
    if column == "domain":
        try:
            return normalise_domain(value)
        except ValueError as exc:
            raise SelectorError(f"{term!r}: {exc}") from None
    if column in _COUNTRY_COLUMNS:
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise SelectorError(f"{term!r}: {value!r} is not an ISO 3166 alpha-3 code (e.g. DEU)")
        return value.upper()
    return value


def _threshold(found: re.Match, term: str) -> Threshold:
    measure, op, is_percentile, number = found.groups()
    value = float(number)
    if is_percentile and not 0 < value < 100:
        raise SelectorError(f"{term!r}: a percentile lies between 0 and 100")
    return Threshold(measure=measure, inclusive=op == ">=",
                     value=None if is_percentile else value,
                     percentile=value if is_percentile else None)
