"""How an endpoint gets the store, and records what it served in the audit log.

The process holds one read-write DuckDB connection (``app.state.store``, opened by
``create_app``); each request gets its own cursor on it — DuckDB connections are not shared
between threads, cursors are how threads share one database; they come from the app's pool
(``app.state.cursors``, a ``store.cursors.CursorPool``) and go back after the answer, so a
request opens no cursor. Routers take it as a dependency::

    from fastapi import Depends
    from hybridwatch.store import EventStore
    from hybridwatch.store.findings_store import latest_run
    from hybridwatch.web.auth import Principal, current_principal
    from hybridwatch.web.deps import audit_access, store_dependency

    @router.get("/things")
    def things(store: EventStore = Depends(store_dependency),
               principal: Principal = Depends(current_principal)):
        rows = latest_run(store, "episodes").items      # named store reads, never raw SQL
        audit_access(store, principal, "read", "/things", detail={"returned": len(rows)})
        return {...}

The object is an ``EventStore`` bound to the request's cursor (``store.cursors``), so every store function
(``latest_run``, ``EventStore.events``, ``ibis_events`` …) works on it unchanged. FastAPI caches a
dependency within one request, so ``current_principal`` and the endpoint share the cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import Request

from hybridwatch.store.access_store import audit
from hybridwatch.store.store import EventStore

if TYPE_CHECKING:
    from hybridwatch.web.auth import Principal


def open_cursor_store(request_or_app: Any) -> EventStore:
    """A store on a fresh cursor of the app's connection; the caller closes it."""
    app = getattr(request_or_app, "app", request_or_app)
    return app.state.store.cursor_store(audit_sink=getattr(app.state, "audit", None))


async def store_dependency(request: Request) -> AsyncIterator[EventStore]:
    """FastAPI dependency: the store on a cursor for this request, closed afterwards.

    ``async`` on purpose: opening a cursor takes microseconds, and a sync dependency would cost
    a thread-pool hop per request; the endpoint itself runs in the pool and uses the cursor."""
    app = request.app
    store = app.state.store.cursor_store(lazy=True, audit_sink=getattr(app.state, "audit", None),
                                         pool=getattr(app.state, "cursors", None))
    try:
        yield store
    except BaseException:
        store.discard()  # a failed request's cursor may hold a transaction: not reused
        raise
    else:
        store.close()    # back into the app's pool of read cursors


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
