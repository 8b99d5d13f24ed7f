"""Dashboard sessions: the API token is typed once into the sign-in form and exchanged for a
session cookie, so the secret never appears in a URL (nor, then, in an access log or a
browser's history).

``POST /api/session`` with ``{"token": "hw_…"}`` answers with ``Set-Cookie: hw_session=…;
HttpOnly; SameSite=Strict; Path=/; Max-Age=…`` (``Secure`` over HTTPS). The cookie's value is a
random 256-bit secret; the server keeps only its SHA-256, with the id of the token it stands for
and its expiry, in memory (``SessionTable``: a restart signs everyone out). Each request on a
session re-reads the token's state, so revoking the token ends its sessions at once.
``DELETE /api/session`` signs out.

Cross-site request forgery: the cookie is ``SameSite=Strict`` (a browser sends it only with
requests started from this site), and a request authenticated by the cookie that changes
something (any method but GET, HEAD, OPTIONS) must also carry an ``Origin`` header naming this
server, else 403. API clients keep sending ``Authorization: Bearer``, which no browser adds on
its own.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

SESSION_COOKIE = "hw_session"
SESSION_SECONDS = 8 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Session:
    token_id: str
    expires_at: float  # on the table's clock


class SessionTable:
    """Open sessions by the SHA-256 of their cookie value; expired ones are dropped."""

    def __init__(self, ttl_seconds: float = SESSION_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._data: dict[str, Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(secret: str) -> str:
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()

    def create(self, token_id: str) -> str:
        """Open a session for ``token_id``; returns the cookie value (shown only now)."""
        secret = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            if len(self._data) > 10_000:
                self._data = {k: s for k, s in self._data.items() if s.expires_at > now}
            self._data[self._key(secret)] = Session(token_id, now + self.ttl_seconds)
        return secret

    def get(self, secret: str) -> Session | None:
        key = self._key(secret)
        with self._lock:
            session = self._data.get(key)
            if session is not None and session.expires_at <= self._clock():
                del self._data[key]
                return None
        return session

    def drop(self, secret: str) -> None:
        with self._lock:
            self._data.pop(self._key(secret), None)

    def __len__(self) -> int:
        return len(self._data)


def same_origin(request: Request) -> bool:
    """Whether the request's ``Origin`` header names this server (scheme, host and port)."""
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    if not origin or not host or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme == request.url.scheme and parts.netloc.lower() == host.lower()


def cookie_settings(request: Request, max_age: int) -> dict:
    """Keyword arguments of ``Response.set_cookie`` for the session cookie."""
    return dict(key=SESSION_COOKIE, max_age=max_age, path="/", httponly=True,
                samesite="strict", secure=request.url.scheme == "https")
