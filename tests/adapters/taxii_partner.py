"""A TAXII 2.1 partner on loopback whose every answer a test can replace: a real
``ThreadingHTTPServer`` in a thread, so the client's own HTTP, parsing and paging run unmocked.

``Partner.routes`` maps a path to an ``Answer`` or to a function of the query (``{name: value}``)
returning one; the healthy defaults are a discovery document at ``/taxii2/``, an API root at
``/api1/`` holding one readable collection ``partner`` (id ``COLLECTION``), and no objects.
Every request is recorded in ``Partner.requests`` as ``(path, query, headers)``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

TAXII = "application/taxii+json;version=2.1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
OBJECTS = f"/api1/collections/{COLLECTION}/objects/"


@dataclass
class Answer:
    """One HTTP answer. ``body`` bytes go as they are, anything else as JSON. ``action``:
    ``hang`` (never answer), ``drip`` (headers, then a byte every 0.2 s), ``drop`` (announce
    ``Content-Length`` 10,000, send the body, close), ``chunked`` (no length, the body in
    chunks)."""

    body: Any = b""
    status: int = 200
    content_type: str | None = TAXII
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


Route = Answer | Callable[[dict[str, str]], Answer]


def stix(n: int, kind: str = "campaign") -> dict[str, Any]:
    """A small, well-formed STIX 2.1 object numbered ``n``."""
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--00000000-0000-4000-8000-{n:012d}",
            "created": "2024-03-01T00:00:00.000Z", "modified": "2024-03-01T00:00:00.000Z",
            "name": f"object {n}"}


class Partner:
    """The server, its routes and what it was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {
            "/taxii2/": Answer({"title": "Partner", "default": "/api1/",
                                "api_roots": ["/api1/"]}),
            "/api1/": Answer({"title": "Partner root", "max_content_length": 10_000_000,
                              "versions": [TAXII]}),
            "/api1/collections/": Answer({"collections": [
                {"id": COLLECTION, "title": "partner", "can_read": True, "can_write": False,
                 "media_types": ["application/stix+json;version=2.1"]}]}),
            OBJECTS: Answer({"more": False}),
        }
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.released = threading.Event()
        handler = type("Handler", (_Handler,), {"partner": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve_pages(self, *pages: Any) -> None:
        """Answer the objects endpoint with ``pages`` in turn, chained by ``next`` = page index;
        a page that is not an ``Answer`` is the list of its objects."""
        def answer(query: dict[str, str]) -> Answer:
            at = int(query.get("next", "0"))
            page = pages[at]
            if isinstance(page, Answer):
                return page
            more = at + 1 < len(pages)
            return Answer({"objects": page, "more": more, **({"next": str(at + 1)} if more else {})})
        self.routes[OBJECTS] = answer

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    partner: Partner

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        self.partner.requests.append((url.path, query, dict(self.headers)))
        route = self.partner.routes.get(url.path)
        answer = (route(query) if callable(route) else route) or Answer(
            {"title": "Not Found", "http_status": "404"}, status=404)
        if answer.action == "hang":
            self.partner.released.wait(15)
            return
        body = answer.payload()
        self.send_response(answer.status)
        if answer.content_type:
            self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.action == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 4096):
                chunk = body[start:start + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        length = 10_000 if answer.action == "drop" else len(body)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if answer.action == "drip":
            for _ in range(75):
                if self.partner.released.wait(0.2):
                    break
                self.wfile.write(b" ")
                self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)
        if answer.action == "drop":
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        """Quiet: http.server logs every request to stderr, which would bury the
        test output."""


def elapsed(since: float) -> float:
    return time.monotonic() - since
