"""EuRepoC Global Database (European Repository of Cyber Incidents): one cyber incident a row.

Mapping (one event per incident, domain ``cyber``):

=================  ==========================================================================
event field        EuRepoC column
=================  ==========================================================================
source_record_id   ``ID``
occurred_at        ``start_date`` (day); a row without a parseable start date is rejected
ended_at           ``end_date`` (day); left null when it lies before ``start_date`` (83 rows of
                   release 1.1 do: EuRepoC codes an unknown end as an earlier coarse date), the
                   raw value stays in ``extra``
title              ``name``
source_type        ``incident_type`` ("Data theft; Hijacking with Misuse")
intensity          ``weighted_cyber_intensity`` (kind ``cyber_intensity``)
actor_name         first ``initiator_name`` that is a name, else first ``attributed_initiator``
actor_iso3         first ``initiator_country`` that is a country (all of them in ``extra``)
target_iso3s       every ``receiver_country`` that is a country, in order, no repeats
target_sector      first ``receiver_category`` of the first receiver
source_url         first of ``sources_url``
extra              every other column, list cells as lists; plus ``receiver_iso3`` and
                   ``initiator_iso3``: every country of those columns as ISO3, in order, no repeats
=================  ==========================================================================

Why one event per incident, not one per receiver country: the incident is the unit EuRepoC
codes (one intensity score, one set of dates), so a fan-out would multiply its intensity in
any sum over events. The event names every receiver country in ``target_iso3s``, so it counts
once for each of them in series and counts by target (``model.targets``).

List cells are Python-list strings (``"['Armenia']"``, ``"[['ASIA', 'CENTAS']]"``) or
``"; "``-joined text; both are read (``ast.literal_eval`` with a fallback to splitting). Country
cells also hold regions and organisations ("EU (region)", "NATO (region)", "Unknown"): they
are known non-countries and skipped; a truly unknown name rejects the row.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hybridwatch.adapters.base import Adapter, Batch, ReadOptions, RecordError
from hybridwatch.adapters.csv_rows import csv_batches
from hybridwatch.adapters.textio import decode_head, iter_csv_records, read_csv_header
from hybridwatch.model.countries import to_iso3
from hybridwatch.model.times import parse_time

SOURCE = "eurepoc"
REQUIRED_COLUMNS = ("ID", "name", "start_date", "end_date", "incident_type", "receiver_country",
                    "initiator_country")
SNIFF_COLUMNS = ("ID", "name", "description", "start_date", "receiver_country")
#: Columns turned into event fields (everything else goes to ``extra`` as it is).
_MAPPED = frozenset({"ID", "name", "start_date", "incident_type", "weighted_cyber_intensity"})
#: Placeholders EuRepoC writes where a name is not known.
_NO_NAME = frozenset({"", "not available", "unknown", "none", "nan"})


def parse_list_cell(text: str) -> list[str]:
    """The items of a EuRepoC list cell, flattened, without blanks.

    ``"[['a', 'b'], ['c']]"`` → ``['a', 'b', 'c']``; ``"a; b"`` → ``['a', 'b']``;
    ``""`` → ``[]``.
    A cell that looks like a list but is not valid Python falls back to the ``"; "`` split.
    """
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if isinstance(value, (list, tuple)):
            return [item for item in _flatten(value) if item]
    return [part.strip() for part in text.split(";") if part.strip()]


def _flatten(value: Any) -> Iterator[str]:
    for item in value:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        elif item is not None:
            yield str(item).strip()


def _nested_first(text: str) -> str | None:
    """First item of the first inner list of a cell like ``"[['Media', 'Other'], ['Health']]"``."""
    items = parse_list_cell(text)
    return items[0] if items else None


def countries_iso3(names: list[str], column: str) -> list[str]:
    """ISO3 of every country in ``names`` (order kept, repeats and non-countries dropped)."""
    found: list[str] = []
    for name in names:
        try:
            iso3 = to_iso3(name, "name")
        except ValueError:
            raise RecordError(column, f"unknown country {name!r}") from None
        if iso3 and iso3 not in found:
            found.append(iso3)
    return found


def _first_name(*cells: list[str]) -> str | None:
    for items in cells:
        for item in items:
            if item.strip().lower() not in _NO_NAME:
                return item.strip()
    return None


def _day(text: str, column: str) -> Any:
    try:
        value, _ = parse_time(text, formats=("%Y-%m-%d",))
    except ValueError as exc:
        raise RecordError(column, str(exc) if text.strip() else "missing date") from None
    return value


def _intensity(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise RecordError("weighted_cyber_intensity", f"not a number ({text!r})") from None


def incident_event(row: dict[str, str]) -> dict[str, Any]:
    """The event of one EuRepoC row (``RecordError`` if the row cannot be one)."""
    occurred_at = _day(row["start_date"], "start_date")
    ended_at = _day(row["end_date"], "end_date") if row["end_date"].strip() else None
    if ended_at is not None and ended_at < occurred_at:
        ended_at = None  # raw end_date stays in extra; see module docstring
    receivers = countries_iso3(parse_list_cell(row["receiver_country"]), "receiver_country")
    initiators = countries_iso3(parse_list_cell(row["initiator_country"]), "initiator_country")
    urls = parse_list_cell(row.get("sources_url", ""))
    extra: dict[str, Any] = {name: _extra_value(value) for name, value in row.items()
                             if name not in _MAPPED and value.strip()}
    extra["receiver_iso3"] = receivers
    extra["initiator_iso3"] = initiators
    return {
        "source_record_id": row["ID"].strip(),
        "occurred_at": occurred_at,
        "occurred_precision": "day",
        "ended_at": ended_at,
        "title": row["name"].strip() or None,
        "domain": "cyber",
        "source_type": row["incident_type"].strip() or None,
        "intensity": _intensity(row.get("weighted_cyber_intensity", "")),
        "intensity_kind": "cyber_intensity",
        "actor_name": _first_name(parse_list_cell(row.get("initiator_name", "")),
                                  parse_list_cell(row.get("attributed_initiator", ""))),
        "actor_iso3": initiators[0] if initiators else None,
        "target_iso3s": receivers,
        "target_sector": _nested_first(row.get("receiver_category", "")),
        "source_url": urls[0] if urls else None,
        "extra": extra,
    }


def _extra_value(text: str) -> Any:
    """List cells as lists, the rest as the text EuRepoC wrote."""
    stripped = text.strip()
    if stripped.startswith("["):
        return parse_list_cell(stripped)
    return stripped


class EurepocAdapter(Adapter):
    """EuRepoC Global Database CSV (release 1.1 and later)."""

    name = "eurepoc"
    description = "EuRepoC Global Database of cyber incidents (CSV, one incident a row)"

    def sniff(self, path: Path, head: bytes) -> int:
        first_line = decode_head(head).split("\n", 1)[0]
        columns = {name.strip().strip('"') for name in first_line.split(",")}
        return 95 if all(name in columns for name in SNIFF_COLUMNS) else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        records = iter_csv_records(path, max_record_bytes=options.max_record_bytes)
        header = read_csv_header(records, path, REQUIRED_COLUMNS)
        yield from csv_batches(records, header, kind="events", source=SOURCE,
                               convert=incident_event, not_after=options.not_after())


ADAPTERS = (EurepocAdapter(),)
