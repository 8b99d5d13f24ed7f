"""The DuckDB store: events, articles, quarantine, ingest log; transactional writes and queries.

Reading a file with an adapter is workflow work: ``hybridwatch.workflows.ingest.ingest_file``.
"""

from hybridwatch.store.ingest import FileReport, fingerprint_file
from hybridwatch.store.store import DEFAULT_DB, EventFilter, EventStore, default_db_path

__all__ = ["DEFAULT_DB", "EventFilter", "EventStore", "FileReport", "default_db_path",
           "fingerprint_file"]
