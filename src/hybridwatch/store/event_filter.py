"""Which events a query reads: the one filter type behind ``hybridwatch events`` and the REST API.

Every field is a tuple of alternatives (OR) and fields combine with AND. ``actors`` and
``targets`` are ISO 3166 alpha-3 codes (a country name or ISO2 code is resolved to one,
"Germany" → DEU; an unknown one is a ``SelectorError``); ``actor_name`` matches part of an actor's name or its
exact code. The CLI and the API parse the same text the same way; only the names of the
options in error messages differ (``--since`` on the CLI, ``since`` in the API).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hybridwatch.errors import SelectorError
from hybridwatch.model.countries import parse_country
from hybridwatch.model.domains import normalise_domain
from hybridwatch.model.targets import names_any_target_sql
from hybridwatch.model.times import parse_time
from hybridwatch.model.tlp import TLP_LEVELS

ISO3_TEXT = re.compile(r"^[A-Za-z]{3}$")
SOURCE_TEXT = re.compile(r"^[\w.:/ -]{1,80}$")


def split_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_bound(name: str, text: str | None) -> datetime | None:
    """A ``since``/``until`` value as naive UTC (``SelectorError`` naming the option)."""
    if text is None or not text.strip():
        return None
    try:
        value = parse_time(text)[0]
    except (ValueError, OverflowError) as exc:
        raise SelectorError(f"{name}: {exc}; use YYYY-MM-DD or an ISO 8601 date-time") from None
    if not 1 <= value.year <= 9999:
        raise SelectorError(f"{name}: year {value.year} is out of range")
    return value


def tlp_clause(levels: tuple[str, ...] | list[str]) -> str:
    """SQL true for events whose TLP is one of ``levels`` (unmarked events count as clear)."""
    quoted = ", ".join(f"'{level}'" for level in levels if level in TLP_LEVELS)
    null = "tlp IS NULL OR " if "clear" in levels else ""
    return f"({null}tlp IN ({quoted or 'NULL'}))"


@dataclass(frozen=True)
class EventFilter:
    """Filters of an event query (each a tuple of alternatives, combined with AND)."""

    domains: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()           # actor ISO3 codes
    actor_name: str | None = None          # part of the actor's name, or its exact code
    sources: tuple[str, ...] = ()          # dataset family (gdelt, stix …) or source name
    since: datetime | None = None          # inclusive, UTC
    until: datetime | None = None          # exclusive, UTC
    tlp: tuple[str, ...] = ()              # only these TLP levels (clear = unmarked too)

    @classmethod
    def parse(cls, *, domain: str | None = None, target: str | None = None,
              actor: str | None = None, actor_name: str | None = None,
              source: str | None = None, since: str | None = None, until: str | None = None,
              tlp: str | None = None, option_prefix: str = "") -> EventFilter:
        """Build from user text (comma-separated lists); errors name the option as
        ``option_prefix + name`` (``--`` on the CLI)."""
        def name(field: str) -> str:
            return option_prefix + (field.replace("_", "-") if option_prefix else field)

        try:
            domains = tuple(sorted({normalise_domain(d) for d in split_list(domain)}))
        except ValueError as exc:
            raise SelectorError(f"{name('domain')}: {exc}") from None
        codes = {}
        for field, text in (("target", target), ("actor", actor)):
            resolved = []
            for value in split_list(text):
                try:
                    resolved.append(parse_country(value))
                except ValueError as exc:
                    hint = (f"; use {name('actor_name')} for part of a name or an actor code"
                            if field == "actor" else "")
                    raise SelectorError(f"{name(field)}: {exc}{hint}") from None
            codes[field] = tuple(sorted(set(resolved)))
        sources = split_list(source)
        if any(not SOURCE_TEXT.match(s) for s in sources):
            raise SelectorError(f"{name('source')}: a dataset family or source name, "
                                "e.g. gdelt, stix")
        if actor_name is not None and (len(actor_name) > 100 or
                                       any(ord(ch) < 32 for ch in actor_name)):
            raise SelectorError(f"{name('actor_name')}: at most 100 printable characters")
        levels = tuple(sorted({t.lower().removeprefix("tlp:") for t in split_list(tlp)}))
        if any(level not in TLP_LEVELS for level in levels):
            raise SelectorError(f"{name('tlp')}: levels are {', '.join(TLP_LEVELS)}")
        return cls(domains, codes["target"], codes["actor"], actor_name or None,
                   tuple(sorted(set(sources))), parse_bound(name("since"), since),
                   parse_bound(name("until"), until), levels)

    def where(self) -> tuple[str, list[Any]]:
        """The filter as a SQL condition on ``events`` with ``?`` parameters."""
        clauses, params = ["TRUE"], []

        def any_of(column: str, values: tuple[str, ...]) -> None:
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)

        any_of("domain", self.domains)
        if self.targets:
            clauses.append(names_any_target_sql(len(self.targets)))
            params.extend(self.targets)
        any_of("actor_iso3", self.actors)
        if self.sources:
            marks = ", ".join("?" * len(self.sources))
            clauses.append(f"(source IN ({marks}) OR source_name IN ({marks}))")
            params += [*self.sources, *self.sources]
        if self.actor_name:
            clauses.append("(actor_name ILIKE ? OR actor_code = ?)")
            params += [f"%{self.actor_name}%", self.actor_name]
        if self.since:
            clauses.append("occurred_at >= ?")
            params.append(self.since)
        if self.until:
            clauses.append("occurred_at < ?")
            params.append(self.until)
        if self.tlp:
            clauses.append(tlp_clause(self.tlp))
        return " AND ".join(clauses), params

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in {
            "domain": list(self.domains), "target": list(self.targets),
            "actor": list(self.actors), "actor_name": self.actor_name,
            "source": list(self.sources), "tlp": list(self.tlp),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None}.items() if v}
