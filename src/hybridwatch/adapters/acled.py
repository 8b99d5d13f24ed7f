"""ACLED (Armed Conflict Location & Event Data) CSV exports, one event a row.

Mapping:

- ``source_record_id``: ``event_id_cnty`` (stable across ACLED's weekly updates).
- ``occurred_at``: ``event_date``, read as ``YYYY-MM-DD`` or ``DD Month YYYY`` (both occur in
  exports); ``occurred_precision`` from ``time_precision``: 1 → day, 2 → week, 3 → month.
  ``occurred_at`` is the date ACLED coded, which for precision 2 and 3 lies *inside* the week
  or month, not necessarily at its start.
- ``domain``: from ``event_type``, refined by ``sub_event_type`` (``DOMAIN_BY_EVENT_TYPE`` and
  ``DOMAIN_BY_SUB_EVENT_TYPE`` below); ``source_type``: ``sub_event_type``.
- ``actor_name``: ``actor1``. ACLED's actor1/actor2 carry no direction (neither is "the
  attacker"), so no actor country is guessed from them.
- ``location_iso3`` and ``target_iso3s`` (that one country): the country where the event happened, from ``iso``
  (ISO 3166 numeric) or, if that is empty or unknown, from ``country`` (name). ACLED events are
  located, not aimed: the country they happen in is the one they affect, and giving it as target
  lets ACLED series sit beside GDELT/EuRepoC target series.
- ``location_name``, ``lat``, ``lon``: ``location``, ``latitude``, ``longitude``.
- ``intensity``: ``fatalities`` (kind ``fatalities``); ``source_name``: ``source``;
  ``title``: the first 200 characters of ``notes``.
- ``extra``: every other column with a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycountry

from hybridwatch.adapters.base import Adapter, Batch, ReadOptions, RecordError
from hybridwatch.adapters.csv_rows import csv_batches
from hybridwatch.adapters.textio import decode_head, iter_csv_records, read_csv_header
from hybridwatch.errors import FormatError
from hybridwatch.model.countries import to_iso3
from hybridwatch.model.times import parse_time

SOURCE = "acled"
TITLE_CHARS = 200
REQUIRED_COLUMNS = ("event_id_cnty", "event_date", "event_type", "sub_event_type", "country")
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y")
PRECISION_BY_CODE = {"1": "day", "2": "week", "3": "month"}

#: ACLED event type → hybrid-threat domain.
DOMAIN_BY_EVENT_TYPE = {
    "battles": "military",
    "explosions/remote violence": "military",
    "violence against civilians": "military",
    "protests": "social",
    "riots": "social",
    "strategic developments": "political",
}
#: Sub-event types whose domain differs from their event type's (all Strategic developments).
DOMAIN_BY_SUB_EVENT_TYPE = {
    "agreement": "diplomacy",                        # ceasefires, peace deals, prisoner swaps
    "arrests": "legal",                              # detentions by state forces
    "disrupted weapons use": "military",             # intercepted missiles, defused bombs
    "headquarters or base established": "military",
    "non-violent transfer of territory": "military",  # armed groups taking ground unopposed
    "looting/property destruction": "social",
    "change to group/activity": "political",
    "other": "political",
}
#: Columns turned into event fields; the rest go to ``extra``.
_MAPPED = frozenset({"event_id_cnty", "event_date", "time_precision", "sub_event_type", "actor1",
                     "location", "latitude", "longitude", "fatalities", "source", "notes"})


def acled_domain(event_type: str, sub_event_type: str) -> str:
    """The domain of an ACLED event type and sub-type (``RecordError`` for an unknown type)."""
    sub = sub_event_type.strip().lower()
    if sub in DOMAIN_BY_SUB_EVENT_TYPE and event_type.strip().lower() == "strategic developments":
        return DOMAIN_BY_SUB_EVENT_TYPE[sub]
    try:
        return DOMAIN_BY_EVENT_TYPE[event_type.strip().lower()]
    except KeyError:
        raise RecordError("event_type", f"unknown ACLED event type {event_type!r}") from None


def event_country(iso_numeric: str, country: str) -> str | None:
    """ISO3 of the event's country: ``iso`` (numeric) first, else the ``country`` name."""
    code = iso_numeric.strip()
    if code.isdigit():
        found = pycountry.countries.get(numeric=code.zfill(3))
        if found is not None:
            return found.alpha_3
    try:
        iso3 = to_iso3(country, "name")
    except ValueError:
        raise RecordError("country", f"unknown country {country!r} (iso {code or 'empty'})") \
            from None
    if iso3 is None and country.strip():
        raise RecordError("country", f"not a country ({country!r})")
    return iso3


def _float(row: dict[str, str], column: str) -> float | None:
    text = row.get(column, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise RecordError(column, f"not a number ({text!r})") from None


def _occurred(row: dict[str, str]) -> tuple[Any, str]:
    try:
        occurred_at, _ = parse_time(row["event_date"], formats=DATE_FORMATS)
    except ValueError as exc:
        raise RecordError("event_date", str(exc)) from None
    code = row.get("time_precision", "").strip() or "1"
    if code not in PRECISION_BY_CODE:
        raise RecordError("time_precision", f"not 1, 2 or 3 ({code!r})")
    return occurred_at, PRECISION_BY_CODE[code]


def acled_event(row: dict[str, str]) -> dict[str, Any]:
    """The event of one ACLED row (``RecordError`` if the row cannot be one)."""
    occurred_at, precision = _occurred(row)
    iso3 = event_country(row.get("iso", ""), row["country"])
    notes = row.get("notes", "").strip()
    return {
        "source_record_id": row["event_id_cnty"].strip(),
        "occurred_at": occurred_at,
        "occurred_precision": precision,
        "domain": acled_domain(row["event_type"], row["sub_event_type"]),
        "source_type": row["sub_event_type"].strip() or None,
        "actor_name": row.get("actor1", "").strip() or None,
        "target_iso3s": [iso3] if iso3 else [],
        "location_iso3": iso3,
        "location_name": row.get("location", "").strip() or None,
        "lat": _float(row, "latitude"),
        "lon": _float(row, "longitude"),
        "intensity": _float(row, "fatalities"),
        "intensity_kind": "fatalities",
        "source_name": row.get("source", "").strip() or None,
        "title": notes[:TITLE_CHARS] or None,
        "extra": {k: v.strip() for k, v in row.items() if k not in _MAPPED and v.strip()},
    }


class AcledAdapter(Adapter):
    """ACLED event export (CSV with ACLED's column names)."""

    name = "acled"
    description = "ACLED conflict and protest events (CSV export)"

    def sniff(self, path: Path, head: bytes) -> int:
        first_line = decode_head(head).split("\n", 1)[0]
        columns = {name.strip().strip('"').lower() for name in first_line.split(",")}
        return 95 if {"event_id_cnty", "event_date"} <= columns else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        records = iter_csv_records(path, max_record_bytes=options.max_record_bytes)
        header = [name.lower() for name in read_csv_header(records, path)]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:  # checked after lower-casing: some exports write EVENT_ID_CNTY
            raise FormatError(path, f"missing column(s) {', '.join(missing)} (not an ACLED "
                                    "export?)", locator="line 1")
        yield from csv_batches(records, header, kind="events", source=SOURCE,
                               convert=acled_event, not_after=options.not_after())


ADAPTERS = (AcledAdapter(),)
