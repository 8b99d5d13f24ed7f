"""Screen the names in the data (events' actor names, or a file of names such as the importers
and exporters of a shipment-level table) against screening lists; record the ``screening`` run."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from hybridwatch.adapters.screening_lists import read_screening_list
from hybridwatch.analyses.screening import ScreeningIndex
from hybridwatch.errors import InputError, SelectorError
from hybridwatch.store import EventStore
from hybridwatch.store.event_queries import actor_names
from hybridwatch.workflows.recording import record, report_of

CAUTION = ("Matches are leads for an analyst to check — similar names, not established "
           "identities. A match says nothing about wrongdoing by anyone.")


def file_names(path: str | Path, column: str | None) -> list[dict[str, Any]]:
    """Names from a CSV column (``column``) or a text file with one name a line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    out: list[dict[str, Any]] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        if column:
            reader = csv.DictReader(handle)
            if column not in (reader.fieldnames or ()):
                raise SelectorError(f"--column {column!r}: not a column of {path} (columns: "
                                    f"{', '.join(reader.fieldnames or ())})")
            for line, row in enumerate(reader, start=2):
                if (row.get(column) or "").strip():
                    out.append({"name": row[column].strip(),
                                "evidence": {"file": str(path), "line": line}, "tlp": "clear"})
        else:
            for line, text in enumerate(handle, start=1):
                if text.strip():
                    out.append({"name": text.strip(),
                                "evidence": {"file": str(path), "line": line}, "tlp": "clear"})
    return out


def run_screening(store: EventStore | None, lists: list[str | Path], *,
                  names_file: str | Path | None = None, column: str | None = None,
                  min_score: float = 0.85) -> dict[str, Any]:
    """Screen the names; evidence of one name seen on several lines is gathered."""
    if not lists:
        raise SelectorError("--list: give at least one screening list (OpenSanctions "
                            "targets.simple.csv or the US Consolidated Screening List CSV)")
    read = [read_screening_list(path) for path in lists]
    index = ScreeningIndex(e for lst in read for e in lst.entries)
    names = file_names(names_file, column) if names_file else actor_names(store)
    grouped: dict[str, dict[str, Any]] = {}
    for entry in names:
        if entry["name"] in grouped:
            grouped[entry["name"]]["evidence"].setdefault("more", []).append(entry["evidence"])
        else:
            grouped[entry["name"]] = {**entry, "evidence": dict(entry["evidence"])}
    matches = []
    for name, entry in grouped.items():
        for match in index.screen(name, min_score=min_score):
            matches.append({**match.to_dict(), "evidence": entry["evidence"],
                            "tlp": entry["tlp"]})
    matches.sort(key=lambda m: (-m["score"], m["name"], m["listed_name"]))
    return {"matches": matches, "names_screened": len(grouped), "min_score": min_score,
            "lists": [{"path": lst.path, "format": lst.format, "entries": len(lst.entries),
                       "rows_without_name": lst.skipped} for lst in read],
            "names_from": str(names_file) if names_file else "events.actor_name",
            "caution": CAUTION}


def record_screening(store: EventStore, report: dict[str, Any]) -> str:
    return record(store, report_of("screening", report)).run_id   # items carry their level
