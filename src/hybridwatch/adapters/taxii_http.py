"""The HTTP side of ``hybridwatch pull``: GETs of TAXII 2.1 JSON from one untrusted origin.

``TaxiiClient.get_json`` follows same-origin redirects itself (at most ``MAX_REDIRECTS``; the
token never goes to another origin), gives up after the timeout and past the size cap, and
accepts only ``application/taxii+json`` (version 2.1 if one is given) in UTF-8, strict JSON (no
``NaN``/``Infinity``, no number beyond a double's range). Every refusal is one ``InputError``
(``taxii_error``) whose text, partly the server's, is one printable line. The protocol (API
root, collections, envelopes, the bundle) is ``adapters.stix_taxii``'s.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import ssl
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from hybridwatch import __version__
from hybridwatch.errors import InputError

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
TIMEOUT_SECONDS = 30.0
MAX_PAGE_BYTES = 32 * 2**20
MAX_REDIRECTS = 5
_READ_BYTES = 64 * 2**10
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def taxii_error(url: str, reason: str, locator: str | None = None, *,
                field: str | None = None) -> InputError:
    """An ``InputError`` whose text, partly the server's, is one printable line."""
    return InputError(printable(url, 300), printable(reason, 600), locator=locator, field=field)


def printable(text: str, limit: int) -> str:
    text = _UNPRINTABLE.sub(" ", str(text))
    return text if len(text) <= limit else text[:limit] + "…"


def json_kind(value: Any) -> str:
    kind = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return "a JSON " + kind.get(type(value), "number")


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = -1
    return parts.scheme, (parts.hostname or "").lower(), port


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:  # the client follows them itself
        return None


class TaxiiClient:
    """GETs TAXII JSON from one origin, within a timeout and a size cap."""

    def __init__(self, url: str, token: str | None, *, verify: bool, timeout_seconds: float,
                 max_page_bytes: int) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise taxii_error(url, "not an http(s) URL of a TAXII server")
        self.origin = origin(url)
        self.timeout = timeout_seconds
        self.max_bytes = max_page_bytes
        self.received = 0
        self.headers = {"Accept": TAXII_MEDIA_TYPE, "User-Agent": f"hybridwatch/{__version__}",
                        **({"Authorization": f"Bearer {token}"} if token else {})}
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(_NoRedirects(),
                                                  urllib.request.HTTPSHandler(context=context))

    def get_json(self, url: str, query: dict[str, Any] | None = None,
                 where: str | None = None) -> tuple[Any, str]:
        """The parsed answer at ``url`` and the URL that gave it (after same-origin redirects)."""
        target = url + ("?" + urlencode(query) if query else "")
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, body = self._get(target, url, where)
            if status in (301, 302, 303, 307, 308):
                moved = urljoin(target, headers.get("Location") or "")
                if moved == target:
                    raise taxii_error(url, f"HTTP {status} without a usable Location", where)
                if origin(moved) != self.origin:
                    raise taxii_error(url, f"redirected to another origin ({moved}): the token is "
                                      "only sent to the server named; pull from there directly if "
                                      "you trust it", where)
                target = moved
                continue
            if not 200 <= status < 300:
                raise taxii_error(url, _http_failure(status, body), where)
            _check_media_type(headers.get("Content-Type"), url, where)
            return _parse(body, url, where), target
        raise taxii_error(url, f"too many redirects (more than {MAX_REDIRECTS})", where)

    def _get(self, target: str, url: str, where: str | None) -> tuple[int, Any, bytes]:
        request = urllib.request.Request(target, headers=self.headers)
        deadline = time.monotonic() + self.timeout
        try:
            try:
                with self.opener.open(request, timeout=self.timeout) as response:
                    return response.status, response.headers, self._read(response, deadline,
                                                                          url, where)
            except urllib.error.HTTPError as refusal:  # any status but 2xx, redirects too
                with refusal:
                    return refusal.code, refusal.headers, refusal.read(4096)
        except (TimeoutError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise taxii_error(url, f"timed out after {self.timeout:g} s (--timeout)",
                                  where) from None
            raise taxii_error(url, f"cannot connect ({reason})", where) from None
        except (http.client.HTTPException, OSError) as exc:
            raise taxii_error(url, f"connection failed ({type(exc).__name__}: {exc})",
                              where) from None

    def _read(self, response: Any, deadline: float, url: str, where: str | None) -> bytes:
        """The body, refused past the size cap or the deadline (checked between reads, each of
        which waits at most the timeout)."""
        too_large = f"answer larger than {self.max_bytes:,} bytes (the cap per page)"
        if response.length is not None and response.length > self.max_bytes:
            raise taxii_error(url, too_large, where)
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(_READ_BYTES):
            size += len(chunk)
            self.received += len(chunk)
            if size > self.max_bytes:
                raise taxii_error(url, too_large, where)
            if time.monotonic() > deadline:
                raise TimeoutError
            chunks.append(chunk)
        if response.length:
            raise taxii_error(url, f"connection closed after {size:,} of "
                              f"{size + response.length:,} bytes", where)
        return b"".join(chunks)


def _http_failure(status: int, body: bytes) -> str:
    """``HTTP 401 Unauthorized: <the server's title>: what to do``."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "?"
    try:
        answer = json.loads(body.decode("utf-8"))
        detail = answer.get("title") or answer.get("description") or ""
    except (ValueError, AttributeError, RecursionError):
        detail = body.decode("utf-8", "replace")
    advice = {401: "check the token (--token or $HYBRIDWATCH_TAXII_TOKEN)",
              403: "the token may not read this: check the token and the collection",
              404: "check the URL and the collection"}.get(status)
    if status >= 500:
        advice = "the server failed; try again later"
    return ": ".join(part for part in (f"HTTP {status} {phrase}", printable(detail, 200).strip(),
                                       advice) if part)


def _check_media_type(value: str | None, url: str, where: str | None) -> None:
    expected = f"not {TAXII_MEDIA_TYPE}"
    if not value:
        raise taxii_error(url, f"no Content-Type, {expected}", where)
    media, *parameters = (part.strip().lower() for part in value.split(";"))
    versions = {p.partition("=")[2].strip('" ') for p in parameters if p.startswith("version=")}
    if media != "application/taxii+json" or versions - {"2.1"}:
        raise taxii_error(url, f"Content-Type {printable(value, 100)!r}, {expected}", where)


def _parse(body: bytes, url: str, where: str | None) -> Any:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise taxii_error(url, f"not UTF-8 ({exc.reason} at byte {exc.start})", where) from None
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise taxii_error(url, f"not valid JSON ({exc.msg} at line {exc.lineno} column "
                          f"{exc.colno})", where) from None
    except RecursionError:
        raise taxii_error(url, "JSON nested too deeply to read", where) from None
    except ValueError as exc:  # our own refusals below, and integers too long to convert
        raise taxii_error(url, f"not valid JSON ({exc})", where) from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond the range of a number")
    return value
