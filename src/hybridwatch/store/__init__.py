"""The DuckDB store: events, articles, quarantine, ingest log; ingest and queries."""

from hybridwatch.store.ingest import FileReport, fingerprint_file, ingest_file
from hybridwatch.store.store import DEFAULT_DB, EventFilter, EventStore, default_db_path

__all__ = ["DEFAULT_DB", "EventFilter", "EventStore", "FileReport", "default_db_path",
           "fingerprint_file", "ingest_file"]
