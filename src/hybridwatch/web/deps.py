"""How an endpoint gets the store, and records what it served in the audit log.

The process holds one read-write DuckDB connection (``app.state.store``, opened by
``create_app``); each request gets its own cursor on it — DuckDB connections are not shared
between threads, cursors are how threads share one database. Routers take it as a dependency::

    from fastapi import Depends
    from hybridwatch.store import EventStore
    from hybridwatch.web.auth import Principal, current_principal
    from hybridwatch.web.deps import audit_access, store_dependency

    @router.get("/things")
    def things(store: EventStore = Depends(store_dependency),
               principal: Principal = Depends(current_principal)):
        rows = store.con.execute("SELECT ...").fetchall()
        audit_access(store, principal, "read", "/things", detail={"returned": len(rows)})
        return {...}

The object is an ``EventStore`` bound to the request's cursor, so every store function
(``latest_run``, ``EventStore.events``, ``ibis_events`` …) works on it unchanged. FastAPI caches a
dependency within one request, so ``current_principal`` and the endpoint share the cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from fastapi import Request

from hybridwatch.store.access_store import audit
from hybridwatch.store.store import EventStore

if TYPE_CHECKING:
    from hybridwatch.web.auth import Principal


class CursorStore(EventStore):
    """An ``EventStore`` on a cursor of the process's connection (no schema checks: the
    connection it came from was checked when the app opened the store)."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection,
                 audit_sink: Any = None) -> None:  # noqa: D107
        self.path = path
        self.con = con
        self.audit_sink = audit_sink  # the app's AuditBuffer


class LazyCursorStore(CursorStore):
    """A ``CursorStore`` that opens its cursor on first use: requests answered from caches
    (a known token, a cached aggregate) never touch DuckDB."""

    def __init__(self, path: Path, root: duckdb.DuckDBPyConnection,
                 audit_sink: Any = None) -> None:  # noqa: D107
        self.path = path
        self._root = root
        self._cursor: duckdb.DuckDBPyConnection | None = None
        self.audit_sink = audit_sink

    @property
    def con(self) -> duckdb.DuckDBPyConnection:  # type: ignore[override]
        if self._cursor is None:
            self._cursor = self._root.cursor()
            self._cursor.execute("SET TimeZone = 'UTC'")  # session setting: not inherited
        return self._cursor

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()


def open_cursor_store(request_or_app: Any) -> CursorStore:
    """A store on a fresh cursor of the app's connection; the caller closes it."""
    app = getattr(request_or_app, "app", request_or_app)
    root: EventStore = app.state.store
    cursor = root.con.cursor()
    cursor.execute("SET TimeZone = 'UTC'")  # session setting: each cursor needs its own
    return CursorStore(root.path, cursor, getattr(app.state, "audit", None))


async def store_dependency(request: Request) -> AsyncIterator[EventStore]:
    """FastAPI dependency: the store on a cursor for this request, closed afterwards.

    ``async`` on purpose: opening a cursor takes microseconds, and a sync dependency would cost
    a thread-pool hop per request; the endpoint itself runs in the pool and uses the cursor."""
    app = request.app
    store = LazyCursorStore(app.state.store.path, app.state.store.con,
                            getattr(app.state, "audit", None))
    try:
        yield store
    finally:
        store.close()


def audit_access(store: EventStore, principal: Principal | None, action: str, resource: str,
                 *, detail: dict[str, Any] | None = None, status: int = 200) -> None:
    """Record that ``principal`` did ``action`` (read, export …) on ``resource``.

    Every endpoint that returns events, findings or exports calls this once per answer, with
    what it returned and withheld in ``detail``. In the server the entry goes through the app's
    ``AuditBuffer`` (written within ``flush_seconds``); elsewhere straight to the store.
    """
    who = dict(token_id=principal.token_id if principal else None,
               name=principal.name if principal else None,
               role=principal.role if principal else None)
    sink = getattr(store, "audit_sink", None)
    if sink is not None:
        sink.record(action=action, resource=resource, detail=detail, status=status, **who)
    else:
        audit(store, action=action, resource=resource, detail=detail, status=status, **who)


async def cache_dependency(request: Request) -> Any:
    """FastAPI dependency: the app's ``QueryCache`` for aggregate answers."""
    return request.app.state.cache
