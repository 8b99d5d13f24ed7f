"""The audit log writer of the server: entries are queued by requests and appended in one
transaction every ``flush_seconds`` by a background thread.

A DuckDB commit costs several milliseconds and commits are serialised, so one commit per API
answer would queue concurrent requests behind each other. Batching keeps that off the request
path. The queue is flushed when the server stops and before the audit log is read through the
API; a hard kill (SIGKILL, power loss) can lose the entries of the last ``flush_seconds``.
``flush_seconds=0`` writes every entry before the answer is sent.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any

import duckdb

from hybridwatch.store.access_store import append_audit_rows, ensure_access_tables
from hybridwatch.store.store import EventStore



class AuditBuffer:
    def __init__(self, store: EventStore, *, flush_seconds: float = 0.2) -> None:
        self._store = store.cursor_store()  # its own cursor: flushes run on their own thread
        self._detached = False
        ensure_access_tables(store)
        self.flush_seconds = flush_seconds
        self._rows: list[tuple] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if flush_seconds > 0:
            self._thread = threading.Thread(target=self._run, name="hybridwatch-audit",
                                            daemon=True)
            self._thread.start()

    def record(self, *, action: str, resource: str, token_id: str | None, name: str | None,
               role: str | None, detail: dict[str, Any] | None, status: int) -> None:
        row = (datetime.now(timezone.utc).replace(tzinfo=None), token_id, name, role, action,
               resource, json.dumps(detail or {}, sort_keys=True, default=str), int(status))
        with self._lock:
            self._rows.append(row)
        if self._thread is None:
            self.flush()

    def detach(self) -> None:
        """The store is closing (lent to a command, ``web.store_lease``): keep queueing."""
        with self._write_lock:
            self._store.close()
            self._detached = True

    def attach(self, store: EventStore) -> None:
        """Write to ``store`` (reopened) from now on, starting with what queued meanwhile."""
        with self._write_lock:
            self._store = store.cursor_store()
            self._detached = False
        self.flush()

    def flush(self) -> int:
        """Write every queued entry now; returns how many (none while detached)."""
        with self._write_lock:
            if self._detached:
                return 0
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                append_audit_rows(self._store, rows)
            except duckdb.Error:
                with self._lock:  # keep them for the next try rather than lose them
                    self._rows[:0] = rows
                raise
            return len(rows)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except duckdb.Error:
                pass  # retried at the next tick; close() flushes once more

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.flush()
        finally:
            self._store.close()
