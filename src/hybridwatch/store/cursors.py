"""Stores on cursors of one process-wide connection, for threads (the web server's requests and
its audit writer).

DuckDB connections are not shared between threads; cursors are how threads share one database.
A ``CursorStore`` is an ``EventStore`` bound to one cursor, so every store function works on it
unchanged. Get one with ``EventStore.cursor_store``.
"""

from __future__ import annotations

from typing import Any

import duckdb

from hybridwatch.store.store import EventStore


class CursorStore(EventStore):
    """An ``EventStore`` on a cursor of a checked connection (no schema checks: the connection
    it came from was checked when the store was opened). Everything else — path, engine, lake,
    theatres — is the opened store's."""

    def __init__(self, root: EventStore, con: duckdb.DuckDBPyConnection | None,
                 audit_sink: Any = None) -> None:  # noqa: D107
        self.__dict__.update({k: v for k, v in vars(root).items() if k != "con"})
        if con is not None:
            self.con = con
        self.audit_sink = audit_sink  # e.g. the web app's AuditBuffer

    def close(self) -> None:
        """Close this cursor only (the opened store, its lake included, stays open)."""
        self.con.close()


class LazyCursorStore(CursorStore):
    """A ``CursorStore`` that opens its cursor on first use: requests answered from caches
    (a known token, a cached aggregate) never touch DuckDB."""

    def __init__(self, root: EventStore, audit_sink: Any = None) -> None:  # noqa: D107
        super().__init__(root, None, audit_sink)
        self._root = root.con
        self._cursor: duckdb.DuckDBPyConnection | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:  # type: ignore[override]
        if self._cursor is None:
            self._cursor = utc_cursor(self._root)
        return self._cursor

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()


def utc_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new cursor on ``con`` in UTC (a session setting: each cursor needs its own)."""
    cursor = con.cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    return cursor
