"""The FastAPI application: ``create_app(db_path)``.

One process holds the store's single read-write DuckDB connection on ``app.state.store`` (the
audit log and tokens are written through it; events and findings are only read). Requests get
a cursor each through ``hybridwatch.web.deps.store_dependency``, borrowed from a pool of
read cursors (``app.state.cursors``) and given back after the answer. Because this process holds the
store's lock, nothing else writes events or findings while it serves: aggregate answers are
cached (``app.state.cache``). Another ``hybridwatch`` command on the store borrows it from the
server (``web.store_lease``): the server closes it meanwhile, then reopens it and forgets its
caches.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders

from hybridwatch import __version__
from hybridwatch.errors import StoreError
from hybridwatch.store.access_store import ensure_access_tables
from hybridwatch.store.store import EventStore
from hybridwatch.web.audit_buffer import AuditBuffer
from hybridwatch.web.cache import QueryCache, TokenCache
from hybridwatch.web.errors import error_responses, install_error_handlers
from hybridwatch.web.sessions import SessionTable
from hybridwatch.web.store_lease import install_store_gate
from hybridwatch.store.event_rollups import build_rollups

API_DESCRIPTION = """Events, series and the latest findings of hybridwatch's analyses, filtered
by the caller's TLP clearance. Authenticate with `Authorization: Bearer <token>` (tokens from
`hybridwatch token create --role viewer|analyst|admin`). Every error answers
`{"error": {"status", "code", "message", "details"}}`."""


def create_app(db_path: str | Path, *, memory_limit: str = "1GB", cache_entries: int = 512,
               threads: int | None = None, close_on_shutdown: bool = False,
               audit_flush_seconds: float = 0.2, warm: bool = False) -> FastAPI:
    """Open the store at ``db_path`` (it must exist) and build the API and dashboard on it.

    ``cache_entries=0`` turns the aggregate cache off; ``threads`` sets how many requests run at
    once (default: anyio's 40). ``close_on_shutdown`` closes the store when the server stops
    (``serve`` sets it; test clients that start and stop the app per request must not).
    ``audit_flush_seconds``: how often queued audit entries are written (0: before each answer;
    see ``hybridwatch.web.audit_buffer``). ``warm`` computes the dashboard's first views for
    every active token's clearance in a background thread at start-up.
    """
    path = Path(db_path)
    if not path.exists():
        raise StoreError(f"{path}: no store here (run `hybridwatch ingest` or "
                         "`hybridwatch demo` first, or pass --db)")
    store = EventStore(path, memory_limit=memory_limit)
    ensure_access_tables(store)
    build_rollups(store)  # a few seconds on 10 million events; aggregates then read far less
    audit_log = AuditBuffer(store, flush_seconds=audit_flush_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if threads:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        if warm:
            threading.Thread(target=_warm, args=(app,), name="hybridwatch-warm",
                             daemon=True).start()
        yield
        if not app.state.gate.lent:
            app.state.audit.flush()
        if close_on_shutdown and not app.state.gate.lent:
            app.state.audit.close()
            app.state.cursors.close()
            app.state.store.close()

    app = FastAPI(title="hybridwatch", version=__version__, description=API_DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,
                  responses=error_responses(422, 500))
    app.state.store = store
    app.state.db_path = path
    app.state.cache = QueryCache(cache_entries)
    app.state.rollup = True
    app.state.token_cache = TokenCache()
    app.state.sessions = SessionTable()
    app.state.audit = audit_log
    app.state.cursors = store.cursor_pool(keep=threads or 40)  # one per request thread
    install_error_handlers(app)
    install_store_gate(app, memory_limit=memory_limit, threads=threads or 40)
    install_security_headers(app)  # added last: wraps the gate's 503s too

    from hybridwatch.web.api_admin import admin_router
    from hybridwatch.web.api_docs import install_api_docs
    from hybridwatch.web.api_alerts import alerts_router
    from hybridwatch.web.api_events import events_router
    from hybridwatch.web.api_findings import findings_router
    from hybridwatch.web.api_session import session_router
    from hybridwatch.web.dashboard import STATIC_DIR, dashboard_router

    app.include_router(events_router())
    app.include_router(findings_router())
    app.include_router(admin_router())
    app.include_router(session_router())
    app.include_router(alerts_router())
    if importlib.util.find_spec("hybridwatch.web.taxii") is not None:
        from hybridwatch.web.taxii import taxii_router

        app.include_router(taxii_router())
    app.include_router(dashboard_router())
    install_api_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


#: The dashboard loads only its own scripts and styles and talks only to this server; nothing
#: may frame it.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
#: The API docs (/api/docs): Swagger UI from this server's bundled files only (web/api_docs.py),
#: under a policy as strict as the dashboard's: nothing from a CDN, no inline script or style.
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: The briefing is a self-contained HTML page with its own inline styles and no scripts.
BRIEFING_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def install_security_headers(app: FastAPI) -> None:
    """A strict Content-Security-Policy and the usual hardening headers on every answer."""
    app.add_middleware(SecurityHeaders)


class SecurityHeaders:
    """Plain ASGI middleware (Starlette's ``@app.middleware`` spawns a task group and a
    memory stream per request: about a quarter of the event loop thread's samples in a
    profile of cold event pages)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        policy = DOCS_CSP if path.startswith("/api/docs") else \
            BRIEFING_CSP if path.startswith("/api/briefings") else CSP

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _warm(app: FastAPI) -> None:
    """Fill the cache with the dashboard's first views (failures only cost the speed-up)."""
    from hybridwatch.store.access_store import list_tokens
    from hybridwatch.web.answers import warm_dashboard
    from hybridwatch.web.deps import open_cursor_store

    store = open_cursor_store(app)
    try:
        levels = sorted({t.clearance for t in list_tokens(store, include_revoked=False)})
        warm_dashboard(app.state.cache, store, levels)
    except Exception:  # noqa: BLE001 - a warm-up must never take the server down
        logging.getLogger("hybridwatch.web").exception("cache warm-up failed")
    finally:
        store.close()
