"""Signed POSTs to webhooks: the transport that alert deliveries and pings share.

``post_signed`` sends one body to a watch's webhook the one way hybridwatch does: signed
afresh at each attempt (``model.webhooks.signature`` over its own timestamp), with the
headers of ``docs/web.md`` ("Webhooks"), connected only to a destination address that
``model.webhooks.address_problem`` allows (the address checked is the address dialled), a
deadline per attempt, no redirects followed, and retries with exponential backoff on
connection errors, timeouts, 5xx, 408 and 429 (whose ``Retry-After`` is honoured up to the
cap), none on other answers. It never raises for what the network or the receiver does: each
attempt comes back as a ``PostAttempt`` whose ``answer`` says what happened. No store access:
callers read what to send first and release the store while receivers answer.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from hybridwatch import __version__
from hybridwatch.errors import SelectorError
from hybridwatch.model.webhooks import (
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, TLP_HEADER,
    address_problem, signature,
)

#: Environment settings read by ``watch run`` and ``watch webhook-test`` (the timeout and retries
#: through their options' envvar; ``WebhookSettings.allow_private_from_env``).
ALLOW_PRIVATE_ENV = "HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE"
TIMEOUT_ENV = "HYBRIDWATCH_WEBHOOK_TIMEOUT"
RETRIES_ENV = "HYBRIDWATCH_WEBHOOK_RETRIES"


@dataclass(frozen=True)
class WebhookSettings:
    """How deliveries are made. ``timeout_seconds``: an attempt's deadline, counted from its
    start, for connecting and for the answer's status line (each blocking read waits at most
    the time left then); ``retries``: further attempts after the first, for
    retryable failures only; ``backoff_seconds``: the wait before retry n is
    ``backoff_seconds * 2**(n-1)``, at most ``max_backoff_seconds`` (which also caps a
    ``Retry-After``); ``allow_private``: every watch may post to loopback and private
    addresses, as if saved with ``--allow-private``."""

    timeout_seconds: float = 5.0
    retries: int = 2
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    allow_private: bool = False
    max_alerts_per_body: int = 100

    def __post_init__(self) -> None:
        checks = (("--webhook-timeout", self.timeout_seconds, 0.001, 300.0),
                  ("--webhook-retries", self.retries, 0, 10),
                  ("--webhook-backoff", self.backoff_seconds, 0.0, 300.0),
                  ("max_backoff_seconds", self.max_backoff_seconds, 0.0, 3600.0),
                  ("max_alerts_per_body", self.max_alerts_per_body, 1, 10_000))
        for option, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not low <= value <= high:
                raise SelectorError(f"{option}: {value!r} is not between {low:g} and {high:g}")

    @staticmethod
    def allow_private_from_env(environ: dict[str, str]) -> bool:
        """Whether ``HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE`` is set to 1/true/yes."""
        return environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class PostAnswer:
    """What one POST got: the HTTP status (None: no answer) and, unless delivered, why it
    failed; whether that failure is worth a retry, and a ``Retry-After`` in seconds."""

    http_status: int | None
    error: str | None          # None: delivered
    retryable: bool = False
    retry_after: float | None = None


_PRINTABLE = re.compile(r"[^\x20-\x7e]")


def _clean(text: object, limit: int = 200) -> str:
    """A receiver's or the OS's words, safe for a log line: printable ASCII, cut short."""
    return _PRINTABLE.sub("?", str(text))[:limit]


def _connect(host: str, port: int, *, timeout: float, allow_private: bool
             ) -> tuple[socket.socket | None, PostAnswer | None]:
    """A connected socket to an address ``host`` resolves to, every one of them checked by
    ``address_problem`` first (the connection goes to the checked address: no second lookup)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return None, PostAnswer(None, f"cannot resolve {_clean(host, 80)} "
                                   f"({_clean(getattr(exc, 'strerror', None) or exc)})",
                             retryable=True)
    addresses = []
    for family, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        problem = address_problem(address, allow_private=allow_private)
        if problem:
            return None, PostAnswer(None, f"{_clean(host, 80)} resolves to {problem}")
        addresses.append((family, sockaddr))
    last: PostAnswer | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock, None
        except OSError as exc:
            sock.close()
            last = _network_failure(exc, timeout)
    return None, last or PostAnswer(None, f"{_clean(host, 80)} has no address", retryable=True)


def _network_failure(exc: BaseException, timeout: float) -> PostAnswer:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return PostAnswer(None, f"timed out after {timeout:g} s", retryable=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PostAnswer(None, f"TLS certificate not trusted ({_clean(exc.verify_message)})")
    if isinstance(exc, ssl.SSLError):
        return PostAnswer(None, f"TLS failed ({_clean(exc.reason or exc)})")
    if isinstance(exc, ConnectionRefusedError):
        return PostAnswer(None, "connection refused", retryable=True)
    if isinstance(exc, (ConnectionError, http.client.HTTPException)):
        return PostAnswer(None, f"connection failed ({_clean(type(exc).__name__)}: "
                             f"{_clean(exc, 120)})", retryable=True)
    return PostAnswer(None, f"network error ({_clean(getattr(exc, 'strerror', None) or exc)})",
                   retryable=True)


def post_once(url: str, body: bytes, headers: dict[str, str], *, timeout: float,
              allow_private: bool) -> PostAnswer:
    """One POST of ``body`` to ``url``; never raises for what the network or receiver does."""
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout
    sock, failed = _connect(host, port, timeout=timeout, allow_private=allow_private)
    if sock is None:
        assert failed is not None
        return failed
    connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
    conn = connection_class(host, port, timeout=timeout)
    conn.sock = sock             # connected to the checked address: http.client will not dial
    try:
        if https:
            conn.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn.request("POST", path, body=body, headers=headers)
        conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
        answer = conn.getresponse()
        status = answer.status
        retry_after = answer.getheader("Retry-After", "")
        reason = answer.reason
    except (OSError, http.client.HTTPException) as exc:
        return _network_failure(exc, timeout)
    finally:
        conn.close()
    if 200 <= status < 300:
        return PostAnswer(status, None)
    words = f"HTTP {status}" + (f" {_clean(reason, 60)}" if reason else "")
    if 300 <= status < 400:
        return PostAnswer(status, f"{words}: redirects are not followed")
    retryable = status >= 500 or status in (408, 429)
    wait = float(retry_after) if retry_after.strip().isdigit() else None
    return PostAnswer(status, words, retryable=retryable, retry_after=wait)


@dataclass(frozen=True)
class SignedPost:
    """One body to POST to a webhook, and what its headers say about it: ``event`` is the
    ``X-Hybridwatch-Event`` value (``alerts`` or ``ping``), ``delivery_id`` the
    ``X-Hybridwatch-Delivery`` id (the same on every retry), ``tlp`` the
    ``X-Hybridwatch-TLP`` level."""

    url: str
    body: bytes = field(repr=False)
    secret: str = field(repr=False)
    event: str
    delivery_id: str
    tlp: str
    allow_private: bool = False


@dataclass(frozen=True)
class PostAttempt:
    """One attempt of a ``SignedPost``: its number (1, 2 …), the answer, when it ended (UTC)."""

    number: int
    answer: PostAnswer
    at: datetime

    @property
    def ok(self) -> bool:
        return self.answer.error is None


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def signed_headers(post: SignedPost, timestamp: str) -> dict[str, str]:
    """The request headers of one attempt of ``post`` signed at ``timestamp`` (Unix seconds)."""
    return {"Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"hybridwatch/{__version__}",
            EVENT_HEADER: post.event, DELIVERY_HEADER: post.delivery_id,
            TLP_HEADER: post.tlp.upper(), TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(post.secret, timestamp, post.body)}


def post_signed(post: SignedPost, settings: WebhookSettings, *,
                sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.time) -> tuple[PostAttempt, ...]:
    """POST ``post``, retrying as ``settings`` say; each attempt is signed afresh (its own
    timestamp) over the same body and delivery id. The last attempt tells the outcome."""
    allow_private = post.allow_private or settings.allow_private
    attempts: list[PostAttempt] = []
    for number in range(1, settings.retries + 2):
        answer = post_once(post.url, post.body, signed_headers(post, str(int(clock()))),
                           timeout=settings.timeout_seconds, allow_private=allow_private)
        attempts.append(PostAttempt(number, answer, _now()))
        if answer.error is None or not answer.retryable or number > settings.retries:
            break
        wait = settings.backoff_seconds * 2 ** (number - 1)
        if answer.retry_after is not None:
            wait = max(wait, answer.retry_after)
        sleep(min(wait, settings.max_backoff_seconds))
    return tuple(attempts)
