"""EUvsDisinfo disinformation cases (the EEAS East StratCom database), one case a row.

Columns: ``date, id, title, countries, keywords, languages, outlets``; list cells are
``"+"``-joined (``"Russia+Germany"``).

Mapping (one event per case, domain ``information``, source_type ``disinformation_case``):

- ``source_record_id`` and ``source_url``: ``id``, the case URL.
- ``occurred_at``: ``date`` (day) — the date EUvsDisinfo gives the case (first publication).
- ``actor_iso3``: always ``RUS``. The database collects *pro-Kremlin* disinformation by
  definition, so the actor country is the database's scope, not a per-case judgement; the
  outlets that carried the claim are kept (``extra.outlets``), the first one as ``actor_name``.
- ``target_iso3s``: every listed country that is not Russia, in order, no repeats, if the
  case names any other country; else Russia (a claim aimed at Russian audiences about Russia).
  A case naming Germany and Poland counts once for each. Regions and blocs ("EU", "Baltic
  states") and dissolved unions ("USSR") are not countries and are skipped. Every named country
  is kept as ISO3 in ``extra.target_iso3_all`` (Russia included), the names as written in
  ``extra.countries``.
- ``extra``: ``countries``, ``keywords``, ``languages``, ``outlets`` as lists.

A country name the country table does not know rejects the case (field ``countries``), so
a new spelling is seen in quarantine rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hybridwatch.adapters.base import Adapter, Batch, ReadOptions, RecordError
from hybridwatch.adapters.csv_rows import csv_batches
from hybridwatch.adapters.textio import decode_head, iter_csv_records, read_csv_header
from hybridwatch.model.countries import to_iso3
from hybridwatch.model.times import parse_time

SOURCE = "euvsdisinfo"
COLUMNS = ("date", "id", "title", "countries", "keywords", "languages", "outlets")
ACTOR_ISO3 = "RUS"  # the database's scope: pro-Kremlin disinformation


def split_plus(text: str) -> list[str]:
    """Items of a ``"+"``-joined cell, blanks dropped (``"Russia+Germany"`` → two names)."""
    return [part.strip() for part in text.split("+") if part.strip()]


def target_countries(names: list[str]) -> list[str]:
    """ISO3 of every country among ``names``, order kept, no repeats (non-countries skipped)."""
    found: list[str] = []
    for name in names:
        try:
            iso3 = to_iso3(name, "name")
        except ValueError:
            raise RecordError("countries", f"unknown country {name!r}") from None
        if iso3 and iso3 not in found:
            found.append(iso3)
    return found


def case_targets(iso3s: list[str]) -> list[str]:
    """The countries that are not Russia when there are others, else Russia (or none)."""
    others = [code for code in iso3s if code != ACTOR_ISO3]
    return others or iso3s[:1]


def case_event(row: dict[str, str]) -> dict[str, Any]:
    """The event of one case (``RecordError`` if the row cannot be one)."""
    try:
        occurred_at, _ = parse_time(row["date"], formats=("%Y-%m-%d",))
    except ValueError as exc:
        raise RecordError("date", str(exc)) from None
    countries = split_plus(row["countries"])
    iso3s = target_countries(countries)
    outlets = split_plus(row["outlets"])
    return {
        "source_record_id": row["id"].strip(),
        "occurred_at": occurred_at,
        "occurred_precision": "day",
        "domain": "information",
        "source_type": "disinformation_case",
        "title": row["title"].strip() or None,
        "source_url": row["id"].strip() or None,
        "actor_iso3": ACTOR_ISO3,
        "actor_name": outlets[0] if outlets else None,
        "target_iso3s": case_targets(iso3s),
        "extra": {
            "countries": countries,
            "target_iso3_all": iso3s,
            "keywords": split_plus(row["keywords"]),
            "languages": split_plus(row["languages"]),
            "outlets": outlets,
            **{k: v for k, v in row.items() if k not in COLUMNS and v.strip()},
        },
    }


class EuvsdisinfoAdapter(Adapter):
    """EUvsDisinfo case table (as scraped to ``posts.csv``)."""

    name = "euvsdisinfo"
    description = "EUvsDisinfo pro-Kremlin disinformation cases (CSV: date,id,title,countries,...)"

    def sniff(self, path: Path, head: bytes) -> int:
        first_line = decode_head(head).split("\n", 1)[0].strip()
        columns = [name.strip().strip('"') for name in first_line.split(",")]
        return 95 if columns[: len(COLUMNS)] == list(COLUMNS) else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        records = iter_csv_records(path, max_record_bytes=options.max_record_bytes)
        header = read_csv_header(records, path, COLUMNS)
        yield from csv_batches(records, header, kind="events", source=SOURCE,
                               convert=case_event, not_after=options.not_after())


ADAPTERS = (EuvsdisinfoAdapter(),)
