"""The DuckDB store: events, articles, quarantine, ingest log; transactional writes and queries.

Reading a file with an adapter is workflow work: ``hybridwatch.workflows.ingest.ingest_file``.
The names below load on first use, so importing one light module of the package (e.g.
``store.known_files`` for a no-op re-ingest) does not import Arrow and the query layer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybridwatch.store.known_files import FileReport, fingerprint_file
    from hybridwatch.store.store import DEFAULT_DB, EventFilter, EventStore, default_db_path

_HOMES = {"FileReport": "known_files", "fingerprint_file": "known_files",
          "DEFAULT_DB": "store", "EventFilter": "store", "EventStore": "store",
          "default_db_path": "store"}

__all__ = ["DEFAULT_DB", "EventFilter", "EventStore", "FileReport", "default_db_path",
           "fingerprint_file"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
