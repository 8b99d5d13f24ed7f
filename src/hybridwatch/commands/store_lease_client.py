"""The command side of ``web.store_lease``: borrow the store from a running ``serve``.

A command that finds its store locked looks for ``<db>.serve.json``. If a live hybridwatch
server wrote it, the command asks that server to lend it the store, runs (the server closes the
store meanwhile and holds its requests), and gives it back when done. Standard library only:
``--help`` and light commands stay light.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hybridwatch.errors import StoreInUseError

LEASE_HEADER = "X-Hybridwatch-Lease"  # the same as web.store_lease.LEASE_HEADER
TIMEOUT_SECONDS = 60.0  # the server first lets the requests in flight finish


def _announcement(db_path: str) -> dict | None:
    path = Path(db_path)
    file = path.with_name(path.name + ".serve.json")
    try:
        found = json.loads(file.read_text(encoding="utf-8"))
        os.kill(int(found["pid"]), 0)  # alive? (signal 0 only checks)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found.get("url"), str) and found.get("secret") else None


def _call(found: dict, method: str) -> None:
    request = urllib.request.Request(found["url"].rstrip("/") + "/api/local/lease",
                                     method=method, headers={LEASE_HEADER: found["secret"]})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
        answer.read()


@contextmanager
def borrowed_from_server(error: StoreInUseError) -> Iterator[bool]:
    """Yields True while the running server has lent the store (give it back afterwards),
    False when no hybridwatch server holds it (the caller re-raises ``error``)."""
    found = _announcement(error.path)
    if found is None:
        yield False
        return
    try:
        _call(found, "POST")
    except (urllib.error.URLError, OSError):
        yield False
        return
    try:
        yield True
    finally:
        try:
            _call(found, "DELETE")
        except (urllib.error.URLError, OSError):
            pass  # the server takes the store back by itself after its lease time
