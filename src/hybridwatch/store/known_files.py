"""Which files a store has ingested already: fingerprints, the per-file report, and a quick
look-up that needs neither the adapters nor Arrow, for a no-op re-ingest that starts fast.

``hybridwatch ingest FILE`` of a file already in the store reads the file's sha256 and one
small table (``ingest_log``) and stops: this module imports only the standard library and
DuckDB, so that path costs Python's start, DuckDB's import, the hash and one query (a test
checks no heavy module is imported; docs/BENCHMARKS.md has the time).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Bump when a table is added or changes shape (``store.schema`` has the DDL, ``store.migrations``
#: the numbered migrations); ``EventStore`` refuses other versions (older ones name
#: ``hybridwatch migrate``). Kept here, free of Arrow, for the quick look-up.
STORE_SCHEMA_VERSION = 6


@dataclass(frozen=True)
class FileReport:
    """What ingesting one file did. ``status`` is ``ingested``, ``unchanged`` (same fingerprint
    already ingested: nothing read) or ``failed`` (nothing written; ``error`` says why)."""

    path: str
    format: str | None
    status: str
    read: int = 0
    ingested: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0            # left out on purpose by the adapter's filter (not errors)
    exploded: int = 0           # events beyond one per record (a mapping's explode): read +
                                # exploded = ingested + duplicates + quarantined + skipped
    nulled: int = 0             # values set to null on purpose (a mapping's lenient country);
                                # the first MAX_WARNING_EXAMPLES are quoted in ``warnings``
    updated: int = 0            # of ``ingested``: later versions that replaced a stored event
    tightened: int = 0          # stored events whose marking this file made more restrictive
    released: int = 0           # stored events a signed re-release made less restrictive
    findings: int = 0           # finding runs restored (from a hybridwatch STIX export)
    replaced: int = 0           # earlier ingests of this file replaced (``replace=True``)
    removed: int = 0            # records (events, articles, trade flows) those ingests stored
    ingest_id: int | None = None
    fingerprint: str | None = None
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint_file(path: Path) -> tuple[str, int]:
    """sha256 of the file's bytes and its size: the identity of an input file's content."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return digest.hexdigest(), path.stat().st_size


def ingest_fingerprint(file_sha256: str, format_name: str, settings_sha256: str | None) -> str:
    """The identity of an ingest: the file's bytes, the format read, the adapter's settings.

    Stores written before the fingerprint covered format and mapping hold the sha256 of the
    bytes alone; ``ingest_file`` still recognises those for formats without settings.
    """
    return hashlib.sha256(f"{file_sha256}|{format_name}|{settings_sha256 or ''}".encode()
                          ).hexdigest()


def known_reports(db: Path, files: list[Path], format_name: str | None
                  ) -> list[FileReport] | None:
    """``unchanged`` reports for ``files`` when the store ``db`` holds an ingest of every one
    of them with the same bytes read without settings (no mapping) — as ``format_name``, or
    when it is None as whatever format it was read as before; else None (ingest them).

    Read-only, and None whenever the quick answer is not certain: the store is a lake, in use,
    of another schema version, or any file is new, changed, or unreadable. The full ingest
    then decides (and reports errors) as always.
    """
    if not db.is_file() or not files or not all(path.is_file() for path in files):
        return None
    import duckdb

    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        version = con.execute("SELECT value FROM hybridwatch_meta "
                              "WHERE key = 'schema_version'").fetchall()
        if version != [(str(STORE_SCHEMA_VERSION),)]:
            return None
        log = con.execute("SELECT ingest_id, fingerprint, format FROM ingest_log "
                          "ORDER BY ingest_id").fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    reports = []
    for path in files:
        try:
            sha, _ = fingerprint_file(path)
        except OSError:
            return None
        match = next(((ingest_id, fingerprint, fmt) for ingest_id, fingerprint, fmt in log
                      if format_name in (None, fmt)
                      and fingerprint in (ingest_fingerprint(sha, fmt, None), sha)), None)
        if match is None:
            return None
        ingest_id, _, fmt = match
        reports.append(FileReport(str(path), fmt, "unchanged", ingest_id=ingest_id,
                                  fingerprint=ingest_fingerprint(sha, fmt, None)))
    return reports
