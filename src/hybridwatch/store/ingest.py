"""Ingest one file into the store as one transaction: all of its good records, or nothing.

The flow per file: fingerprint → skip if already ingested → pick the adapter → stream its
batches into ``events``/``articles`` (skipping ids already stored) and its rejections into
``quarantine`` → log → commit. Any failure, a kill included, leaves the store as it was,
because DuckDB discards an uncommitted transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from hybridwatch.adapters import ReadOptions, detect_format, get_adapter
from hybridwatch.adapters.base import Batch, Rejection
from hybridwatch.errors import InputError, StoreError, StrictModeError
from hybridwatch.store.store import EventStore

#: Called with the number of records read so far in the current file.
ProgressCallback = Callable[[int], None]


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
    ingest_id: int | None = None
    fingerprint: str | None = None
    seconds: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint_file(path: Path) -> tuple[str, int]:
    """sha256 of the file's bytes and its size: the identity of an input file."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return digest.hexdigest(), path.stat().st_size


def ingest_file(store: EventStore, path: str | Path, *, format: str | None = None,
                options: ReadOptions = ReadOptions(), strict: bool = False,
                progress: ProgressCallback | None = None) -> FileReport:
    """Ingest ``path`` into ``store``; raise ``InputError`` if the file cannot be ingested at all.

    With ``strict`` the first rejected record raises ``StrictModeError`` and nothing is written.
    """
    path = Path(path)
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    if not path.is_file():
        raise InputError(path, "no such file" if not path.exists() else "not a regular file")
    fingerprint, size = fingerprint_file(path)
    previous = store.con.execute(
        "SELECT ingest_id, format FROM ingest_log WHERE fingerprint = ? LIMIT 1",
        [fingerprint]).fetchall()
    if previous:
        previous_id, previous_format = previous[0]
        return FileReport(str(path), previous_format, "unchanged", ingest_id=previous_id,
                          fingerprint=fingerprint)
    if size == 0:
        raise InputError(path, "file is empty")
    adapter = get_adapter(format) if format else detect_format(path)

    con = store.con
    con.begin()
    try:
        ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log"
                                ).fetchall()[0][0]
        totals = {"read": 0, "ingested": 0, "duplicates": 0, "quarantined": 0, "skipped": 0}
        for batch in adapter.read(path, options):
            if strict and batch.rejections:
                first = batch.rejections[0]
                raise StrictModeError(path, f"{first.reason} (--strict: nothing written)",
                                      locator=first.locator(), field=first.field)
            inserted = _insert_rows(con, batch, ingest_id)
            totals["read"] += batch.read
            totals["skipped"] += batch.skipped
            totals["ingested"] += inserted
            totals["duplicates"] += batch.table.num_rows - inserted
            totals["quarantined"] += _insert_rejections(con, batch.rejections, ingest_id,
                                                        path, adapter.name)
            if progress:
                progress(totals["read"])
        if totals["read"] == 0:
            raise InputError(path, f"no records found (read as {adapter.name})")
        finished = datetime.now(timezone.utc).replace(tzinfo=None)
        con.execute("INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [ingest_id, str(path), fingerprint, size, adapter.name, started, finished,
                     totals["read"], totals["ingested"], totals["duplicates"],
                     totals["quarantined"], totals["skipped"]])
        con.commit()
    except BaseException as exc:  # KeyboardInterrupt too: the store must stay as it was
        con.rollback()
        if isinstance(exc, duckdb.Error):
            raise StoreError(f"{path}: store write failed, nothing written ({exc})") from exc
        raise
    return FileReport(str(path), adapter.name, "ingested", ingest_id=ingest_id,
                      fingerprint=fingerprint,
                      seconds=round((finished - started).total_seconds(), 3), **totals)


def _insert_rows(con: duckdb.DuckDBPyConnection, batch: Batch, ingest_id: int) -> int:
    """Insert the batch's rows whose ids are not stored yet; return how many were new."""
    if batch.table.num_rows == 0:
        return 0
    table, key = ("events", "event_id") if batch.kind == "events" else ("articles", "article_id")
    con.register("incoming_batch", _first_of_each_id(batch.table, key))
    try:
        return con.execute(
            f"INSERT INTO {table} BY NAME "
            f"SELECT *, {int(ingest_id)} AS ingest_id FROM incoming_batch AS n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} o WHERE o.{key} = n.{key})"
        ).fetchall()[0][0]
    finally:
        con.unregister("incoming_batch")


def _first_of_each_id(table: pa.Table, key: str) -> pa.Table:
    """``table`` without repeated ids, keeping each id's first row in file order (deterministic,
    unlike SQL's DISTINCT ON)."""
    if pc.count_distinct(table[key]).as_py() == table.num_rows:
        return table
    indexed = table.select([key]).append_column("row", pa.array(range(table.num_rows)))
    first_rows = indexed.group_by(key, use_threads=False).aggregate([("row", "min")])["row_min"]
    return table.take(pc.take(first_rows, pc.sort_indices(first_rows)))


def _insert_rejections(con: duckdb.DuckDBPyConnection, rejections: list[Rejection],
                       ingest_id: int, path: Path, format_name: str) -> int:
    """Keep each rejected record verbatim; the same record rejected again is kept once."""
    if not rejections:
        return 0
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = pa.table({
        "rejection_id": [hashlib.md5(f"{format_name}:{r.raw}:{r.reason}".encode(
            "utf-8", "surrogateescape")).hexdigest() for r in rejections],
        "ingest_id": [ingest_id] * len(rejections),
        "path": [str(path)] * len(rejections),
        "format": [format_name] * len(rejections),
        "line": pa.array([r.line for r in rejections], pa.int64()),
        "record": pa.array([r.record for r in rejections], pa.string()),
        "field": pa.array([r.field for r in rejections], pa.string()),
        "reason": [r.reason for r in rejections],
        "raw": [r.raw for r in rejections],
        "quarantined_at": pa.array([now] * len(rejections), pa.timestamp("us")),
    })
    con.register("incoming_rejections", rows)
    try:
        con.execute("INSERT INTO quarantine BY NAME SELECT DISTINCT ON (rejection_id) * "
                    "FROM incoming_rejections AS n WHERE NOT EXISTS "
                    "(SELECT 1 FROM quarantine q WHERE q.rejection_id = n.rejection_id)")
    finally:
        con.unregister("incoming_rejections")
    # every rejection counts for this file, even one already quarantined by an earlier ingest
    return len(rejections)
