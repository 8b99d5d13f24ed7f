"""Stores on cursors of one process-wide connection, for threads (the web server's requests and
its audit writer).

DuckDB connections are not shared between threads; cursors are how threads share one database.
A ``CursorStore`` is an ``EventStore`` bound to one cursor, so every store function works on it
unchanged. Get one with ``EventStore.cursor_store``.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from hybridwatch.store.store import EventStore


class CursorStore(EventStore):
    """An ``EventStore`` on a cursor of a checked connection (no schema checks: the connection
    it came from was checked when the store was opened). Everything else — path, engine, lake,
    theatres — is the opened store's."""

    def __init__(self, root: EventStore, con: duckdb.DuckDBPyConnection | None,
                 audit_sink: Any = None) -> None:  # noqa: D107
        self.__dict__.update({k: v for k, v in vars(root).items() if k != "_con"})
        if con is not None:
            self._con = con
        self.audit_sink = audit_sink  # e.g. the web app's AuditBuffer

    def close(self) -> None:
        """Close this cursor only (the opened store, its lake included, stays open)."""
        self._con.close()


class CursorPool:
    """Idle UTC cursors of one connection, handed to one thread at a time and taken back.

    A request's store borrows one instead of opening a cursor and setting its time zone (a
    statement) every time; at most ``keep`` idle cursors are kept, any beyond are closed. A
    cursor whose borrower failed is closed, not returned: it may hold an open transaction.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, keep: int = 40) -> None:  # noqa: D107
        self._con, self._keep = con, keep
        self._idle: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def borrow(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return utc_cursor(self._con)

    def give_back(self, cursor: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(cursor)
                return
        cursor.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for cursor in idle:
            cursor.close()


class LazyCursorStore(CursorStore):
    """A ``CursorStore`` that opens its cursor on first use: requests answered from caches
    (a known token, a cached aggregate) never touch DuckDB. With a ``pool`` the cursor is
    borrowed from it and given back by ``close`` (``discard`` closes it instead)."""

    def __init__(self, root: EventStore, audit_sink: Any = None,
                 pool: CursorPool | None = None) -> None:  # noqa: D107
        super().__init__(root, None, audit_sink)
        self._root = root._con
        self._pool = pool
        self._cursor: duckdb.DuckDBPyConnection | None = None

    @property
    def _con(self) -> duckdb.DuckDBPyConnection:  # type: ignore[override]
        if self._cursor is None:
            self._cursor = (self._pool.borrow() if self._pool is not None
                            else utc_cursor(self._root))
        return self._cursor

    def close(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            if self._pool is not None:
                self._pool.give_back(cursor)
            else:
                cursor.close()

    def discard(self) -> None:
        """Close the cursor for good (after a failure: never back into a pool)."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            cursor.close()


def utc_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new cursor on ``con`` in UTC (a session setting: each cursor needs its own)."""
    cursor = con.cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    return cursor
