"""Lending the store to a command while the server runs.

DuckDB lets one process write a database file, or several processes read it — never both.
The server is that one writer (it writes the audit log, tokens and reviews), so another
``hybridwatch`` command on the same store would fail with "store in use". Instead, the server
lends it the store for as long as the command runs:

1. ``serve`` writes ``<db>.serve.json`` (mode 0600, removed when it stops): its URL and a random
   lease secret. Whoever can read that file can read the store beside it, so the secret gives
   nothing more.
2. A command that finds the store locked reads the file and asks ``POST /api/local/lease``
   (header ``X-Hybridwatch-Lease``). The server stops admitting requests (they wait, up to
   ``REQUEST_WAIT_SECONDS``, then answer 503 with ``Retry-After``), lets the ones in flight
   finish, writes the queued audit entries, closes the store and answers.
3. The command opens the store, runs, closes it and calls ``DELETE /api/local/lease``. The
   server reopens the store (retrying while anything still holds it), rebuilds its rollup,
   forgets its caches (the command may have changed events, findings or tokens) and admits
   requests again. If the command dies without saying so, the server takes the store back
   after ``LEASE_SECONDS`` or as soon as the lock is free, whichever is later.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from hybridwatch.errors import StoreError
from hybridwatch.store.access_store import ensure_access_tables
from hybridwatch.store.event_rollups import build_rollups
from hybridwatch.store.store import EventStore
from hybridwatch.web.errors import error_json

LEASE_HEADER = "X-Hybridwatch-Lease"
LEASE_SECONDS = 120.0
REQUEST_WAIT_SECONDS = 30.0
log = logging.getLogger("hybridwatch.web")


def lease_file(db_path: str | Path) -> Path:
    """Where ``serve`` announces itself for ``db_path``: ``<db>.serve.json``."""
    path = Path(db_path)
    return path.with_name(path.name + ".serve.json")


def write_lease_file(db_path: str | Path, url: str, secret: str) -> Path:
    """Write the announcement, readable by its owner only."""
    target = lease_file(db_path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"pid": os.getpid(), "url": url, "secret": secret}, out)
    return target


class StoreGate:
    """Counts the requests using the store and holds new ones while it is lent out."""

    def __init__(self, app: FastAPI, *, memory_limit: str, threads: int) -> None:
        self.app = app
        self.memory_limit = memory_limit
        self.threads = threads
        self.secret = secrets.token_urlsafe(32)
        self.active = 0
        self.lent = False
        self._open = asyncio.Event()
        self._open.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._returned = threading.Event()
        self._lock = asyncio.Lock()

    async def enter(self) -> bool:
        """Admit a request (False: the store stayed lent out too long)."""
        if not self._open.is_set():
            try:
                await asyncio.wait_for(self._open.wait(), REQUEST_WAIT_SECONDS)
            except asyncio.TimeoutError:
                return False
        self.active += 1
        self._idle.clear()
        return True

    def leave(self) -> None:
        self.active -= 1
        if self.active == 0:
            self._idle.set()

    def authorised(self, request: Request) -> bool:
        sent = request.headers.get(LEASE_HEADER, "")
        return bool(sent) and hmac.compare_digest(sent, self.secret)

    async def lend(self) -> None:
        """Stop admitting requests, wait for those in flight, close the store."""
        async with self._lock:
            if self.lent:
                return
            self._open.clear()
            await self._idle.wait()
            await asyncio.to_thread(self._close)
            self.lent = True
            self._returned.clear()
            threading.Thread(target=self._take_back, name="hybridwatch-lease", daemon=True,
                             ).start()

    def give_back(self) -> None:
        """The command is done: reopen now (the reopening thread retries while locked)."""
        self._returned.set()

    def _close(self) -> None:
        state = self.app.state
        state.audit.flush()
        state.audit.detach()
        state.cursors.close()
        state.store.close()

    def _take_back(self) -> None:
        self._returned.wait(LEASE_SECONDS)
        state = self.app.state
        while True:
            try:
                store = EventStore(state.db_path, memory_limit=self.memory_limit)
                break
            except StoreError:
                time.sleep(0.2)  # the command still holds it
        ensure_access_tables(store)
        build_rollups(store)
        state.store = store
        state.cursors = store.cursor_pool(keep=self.threads)
        state.audit.attach(store)
        state.cache.clear()        # the command may have ingested or re-run analyses
        state.token_cache.clear()  # ... or revoked a token
        loop = self._loop
        self.lent = False
        loop.call_soon_threadsafe(self._open.set)
        log.info("store taken back from the command it was lent to")

    def bind_loop(self) -> None:
        self._loop = asyncio.get_running_loop()


def install_store_gate(app: FastAPI, *, memory_limit: str, threads: int) -> StoreGate:
    """Route every request through the gate and add the lease endpoints (not in the schema)."""
    gate = StoreGate(app, memory_limit=memory_limit, threads=threads)
    app.state.gate = gate
    router = APIRouter(prefix="/api/local", include_in_schema=False)

    @router.post("/lease")
    async def lend(request: Request) -> Any:
        if not gate.authorised(request):
            return error_json(403, "not a lease holder of this store")
        await gate.lend()
        return JSONResponse({"lent": True, "lease_seconds": LEASE_SECONDS})

    @router.delete("/lease")
    async def give_back(request: Request) -> Any:
        if not gate.authorised(request):
            return error_json(403, "not a lease holder of this store")
        gate.give_back()
        return JSONResponse({"lent": False})

    app.include_router(router)

    app.add_middleware(GateMiddleware, gate=gate)
    return gate


class GateMiddleware:
    """Every request but the lease endpoints passes the gate, and holds it until its answer is
    sent (plain ASGI: Starlette's ``@app.middleware`` costs a task group per request)."""

    def __init__(self, app: Any, *, gate: StoreGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not hasattr(self.gate, "_loop"):
            self.gate.bind_loop()
        if scope["path"].startswith("/api/local/"):
            await self.app(scope, receive, send)
            return
        if not await self.gate.enter():
            busy = error_json(503, "the store is lent to a hybridwatch command that is still "
                                   "running; retry shortly", headers={"Retry-After": "5"})
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()
