"""A real webhook receiver for the tests: ``http.server`` on loopback, in a thread.

It verifies every request's signature the way ``docs/web.md`` ("Verifying a delivery") tells
a receiver to — written here from the documentation with ``hmac``, not with hybridwatch's own
helper — and records what came. Each request takes the next answer of ``answers`` (an HTTP
status, a (status, reason phrase) pair, or ``"sleep"``: answer nothing until the test ends),
then 200 once they run out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int | str | tuple[int, str]

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300) -> bool:
    """The receiver's check, as documented: HMAC-SHA256 keyed with the secret over
    ``<X-Hybridwatch-Timestamp>.<raw body>``, compared in constant time with the hex after
    ``sha256=`` in ``X-Hybridwatch-Signature``; the timestamp within 5 minutes of now."""
    timestamp = headers.get("x-hybridwatch-timestamp", "")
    sent = headers.get("x-hybridwatch-signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                        hashlib.sha256).hexdigest()
    return sent.startswith("sha256=") and hmac.compare_digest(sent[len("sha256="):], expected)


@dataclass
class Receiver:
    secrets: dict[str, str] = field(default_factory=dict)   # path → the watch's secret
    answers: list[int | str | tuple[int, str]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    released: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self, path: str | None = None) -> list[Received]:
        """The requests answered 2xx (to ``path``, if given)."""
        return [r for r in self.received if r.answered == 200
                and (path is None or r.path == path)]


def start_receiver(*, tls_files: tuple[str, str] | None = None
                   ) -> tuple[Receiver, ThreadingHTTPServer]:
    """Start a receiver; ``tls_files`` (certificate, key: PEM files) serve it over TLS."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer: int | str | tuple[int, str] = \
                receiver.answers.pop(0) if receiver.answers else 200
            secret = receiver.secrets.get(self.path, "")
            receiver.received.append(Received(self.path, headers, body,
                                              bool(secret) and verify(secret, headers, body),
                                              answer))
            if answer == "sleep":
                receiver.released.wait(10)
                return
            status, reason = answer if isinstance(answer, tuple) else (int(answer), None)
            self.send_response(status, reason)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Quiet: http.server logs every request to stderr, which would bury the
            test output."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls_files:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls_files)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.block_on_close = False
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
