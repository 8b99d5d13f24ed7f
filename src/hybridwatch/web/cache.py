"""A small thread-safe LRU cache for aggregate answers (counts, series, totals).

Valid while ``hybridwatch serve`` holds the store's write lock: no other process can change
events or findings then, and the server itself never writes them. When the server lends the
store to another command (``web.store_lease``) it clears the cache as it takes the store back.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class QueryCache:
    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value for ``key``, computing it once (outside the lock) when missing."""
        if self.max_entries <= 0:
            return compute()
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class TokenCache:
    """Verified tokens for ``ttl_seconds``, so a request costs no token lookup.

    Exact while serving: only this process can revoke a token (it holds the store's write
    lock), revoking through the API clears the cache, and so does taking the store back from a
    command it was lent to (``web.store_lease``).
    """

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Any | None:
        with self._lock:
            entry = self._data.get(token)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, record: Any) -> None:
        with self._lock:
            if len(self._data) > 10_000:  # bounded: only valid tokens are ever put
                self._data.clear()
            self._data[token] = (time.monotonic() + self.ttl_seconds, record)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
