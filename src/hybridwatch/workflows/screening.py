"""Screen the names in the data (events' actor names, or a file of names such as the importers
and exporters of a shipment-level table) against screening lists; record the ``screening`` run."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridwatch.adapters.screening_lists import read_screening_list
from hybridwatch.analyses.screening import ScreeningIndex
from hybridwatch.errors import InputError, SelectorError
from hybridwatch.model.results import AnalysisResult
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


@dataclass(frozen=True, eq=False)
class ScreeningReport(AnalysisResult):
    """Screening leads: each match with ``evidence`` of where its name was seen (file and
    line, or the events naming that actor) and that evidence's TLP level; ``parameters`` hold
    ``min_score``, ``provenance`` the lists read."""

    matches: tuple[dict[str, Any], ...]
    names_screened: int
    names_from: str
    caution: str = CAUTION

    def to_dict(self) -> dict[str, Any]:
        """The public JSON view (``hybridwatch screen --json``, the recorded run)."""
        return {"matches": [dict(m) for m in self.matches],
                "names_screened": self.names_screened,
                "min_score": self.parameters["min_score"],
                "lists": [dict(lst) for lst in self.provenance["lists"]],
                "names_from": self.names_from, "caution": self.caution,
                "parameters": dict(self.parameters), "warnings": list(self.warnings),
                "run_id": self.run_id}


def run_screening(store: EventStore | None, lists: list[str | Path], *,
                  names_file: str | Path | None = None, column: str | None = None,
                  min_score: float = 0.85) -> ScreeningReport:
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
    names_from = str(names_file) if names_file else "events.actor_name"
    warnings = () if grouped else (f"no names to screen in {names_from}",)
    return ScreeningReport(
        tuple(matches), len(grouped), names_from,
        parameters={"min_score": min_score, "column": column}, warnings=warnings,
        provenance={"lists": [{"path": lst.path, "format": lst.format,
                               "entries": len(lst.entries), "rows_without_name": lst.skipped}
                              for lst in read]})


def record_screening(store: EventStore, report: ScreeningReport) -> ScreeningReport:
    """Record ``report`` as a ``screening`` run; returns it with its run id (each match
    carries its own level)."""
    return report.with_run_id(record(store, report_of("screening", report.to_dict())).run_id)
