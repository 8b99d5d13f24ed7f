"""Consolidated screening lists as ``ListedName`` entries.

Two CSV formats, told apart by their header:
* OpenSanctions ``targets.simple.csv``: ``id, schema, name, aliases`` (";"-separated),
  ``countries``, ``sanctions`` (programme texts, ";"-separated), ``dataset``, ``first_seen`` …
* the US Consolidated Screening List (trade.gov) CSV: ``source`` (the list, e.g. the BIS Entity
  List), ``entity_number``, ``programs``, ``name``, ``alt_names`` (";"-separated),
  ``start_date`` …
Rows without a name are skipped and counted; a file with neither header is an ``InputError``.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from hybridwatch.model.screening import ListedName
from hybridwatch.errors import FormatError, InputError

OPENSANCTIONS = {"id", "schema", "name", "aliases"}
US_CSL = {"source", "name", "alt_names", "programs"}


@dataclass(frozen=True)
class ScreeningList:
    """A list file read: its format, entries and how many rows had no name."""

    path: str
    format: str
    entries: tuple[ListedName, ...]
    skipped: int


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(";") if p.strip())


def read_screening_list(path: str | Path) -> ScreeningList:
    """Read an OpenSanctions ``targets.simple.csv`` or a US CSL CSV."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    csv.field_size_limit(min(sys.maxsize, 1 << 27))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        if OPENSANCTIONS <= header:
            fmt = "opensanctions"
        elif US_CSL <= header:
            fmt = "us-csl"
        else:
            raise FormatError(path, "not a screening list: expected OpenSanctions "
                                    "targets.simple.csv (id, schema, name, aliases …) or the US "
                                    "Consolidated Screening List CSV (source, name, alt_names, "
                                    "programs …)", locator="line 1")
        entries, skipped = [], 0
        for line, row in enumerate(reader, start=2):
            name = (row.get("name") or "").strip()
            if not name:
                skipped += 1
                continue
            if fmt == "opensanctions":
                entries.append(ListedName(
                    entry_id=row["id"], name=name, aliases=_split(row.get("aliases")),
                    list_name="OpenSanctions " + (row.get("dataset") or "").replace(";", ", "),
                    programme="; ".join(_split(row.get("sanctions"))) or None,
                    listed_on=(row.get("first_seen") or None),
                    countries=_split(row.get("countries")), source_line=line))
            else:
                entries.append(ListedName(
                    entry_id=row.get("_id") or row.get("entity_number") or f"line {line}",
                    name=name, aliases=_split(row.get("alt_names")),
                    list_name=(row.get("source") or "US Consolidated Screening List").strip(),
                    programme=(row.get("programs") or None),
                    listed_on=(row.get("start_date") or None),
                    countries=_split(row.get("nationalities")), source_line=line))
    return ScreeningList(str(path), fmt, tuple(entries), skipped)
