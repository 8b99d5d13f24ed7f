"""Fetch a partner's TAXII 2.1 collection into a STIX bundle file, for the normal ingest path.

``fetch_collection(url, collection, directory, token=…)`` pages through the collection's objects
and writes them as one bundle; ``hybridwatch pull`` then ingests that file like any other
(quarantine, de-duplication, markings, finding runs all apply). ``url`` is a server's discovery
URL (``…/taxii2/``: its default API root is used) or an API root; ``collection`` is a
collection's id or title.

A partner's server is untrusted input, so the client (the standard library's HTTP, no extra
needed) holds it to limits, each a keyword argument:

* ``timeout_seconds`` (30; ``pull --timeout``): the longest wait to connect or for the server to
  send anything, and the longest one whole answer may take to arrive;
* ``max_page_bytes`` (32 MiB): the largest answer (a page of the 1,000 objects asked for is
  typically 1–3 MB);
* ``max_total_bytes`` (1 GiB): the most one pull fetches (the ingest reads the bundle whole);
* ``max_pages`` (10,000, ten million objects); a ``next`` cursor the server already gave ends
  the pull at once;
* redirects (at most 5) and API roots must stay on the origin (scheme, host, port) of ``url``:
  the token is only sent to the server the user named.

Answers must be ``application/taxii+json`` (version 2.1 if a version is given), UTF-8 and strict
JSON (no ``NaN``/``Infinity``, no number beyond a double's range). Anything else ends the pull in
one ``InputError`` naming the URL, the page, the field and the reason; the bundle is written to
a temporary file beside its place and renamed only when complete, so a failed pull leaves
nothing behind (and an earlier bundle intact). The objects go into the bundle exactly as served:
an entry that is not a STIX object (not a JSON object, no ``id`` or ``type``) is quarantined by
the ingest with its reason, never dropped here.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import math
import os
import re
import ssl
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from hybridwatch import __version__
from hybridwatch.errors import InputError

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
PAGE_OBJECTS = 1000
TIMEOUT_SECONDS = 30.0
MAX_PAGE_BYTES = 32 * 2**20
MAX_TOTAL_BYTES = 2**30
MAX_PAGES = 10_000
MAX_REDIRECTS = 5
_READ_BYTES = 64 * 2**10
_COLLECTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")  # one safe path segment
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class PulledBundle:
    """A collection fetched into ``path``: how many objects, from where."""

    path: Path
    api_root: str
    collection_id: str
    collection_title: str
    objects: int
    pages: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "api_root": self.api_root,
                "collection_id": self.collection_id, "collection": self.collection_title,
                "objects": self.objects, "pages": self.pages}


def fetch_collection(url: str, collection: str, directory: Path, *, token: str | None = None,
                     added_after: str | None = None, verify: bool = True,
                     per_request: int = PAGE_OBJECTS, timeout_seconds: float = TIMEOUT_SECONDS,
                     max_page_bytes: int = MAX_PAGE_BYTES,
                     max_total_bytes: int = MAX_TOTAL_BYTES,
                     max_pages: int = MAX_PAGES) -> PulledBundle:
    """Write every object of ``collection`` at ``url`` to a bundle file in ``directory``.

    Raises ``InputError`` (naming URL, page, field and reason) if the server cannot be reached,
    refuses, or answers anything but TAXII 2.1 within the limits of the module docstring."""
    for name, value in (("per_request", per_request), ("timeout_seconds", timeout_seconds),
                        ("max_page_bytes", max_page_bytes), ("max_total_bytes", max_total_bytes),
                        ("max_pages", max_pages)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, not {value!r}")
    client = _Client(url, token, verify=verify, timeout_seconds=timeout_seconds,
                     max_page_bytes=max_page_bytes)
    root = _api_root(client, url)
    found = _find_collection(client, root, collection)
    objects_url = f"{root}collections/{found['id']}/objects/"
    query: dict[str, Any] = {"limit": per_request, **({"added_after": added_after}
                                                      if added_after else {})}
    path = Path(directory) / f"taxii-{found['id']}.json"
    cursors: set[str] = set()
    with _BundleWriter(path) as bundle:
        for page in range(1, max_pages + 1):
            where = f"page {page}"
            objects, cursor = _envelope(client.get_json(objects_url, query, where)[0],
                                        objects_url, where)
            for at, obj in enumerate(objects):
                bundle.add(obj, objects_url, f"{where} object {at}")
            if client.received > max_total_bytes:
                raise _error(objects_url, f"more than {max_total_bytes:,} bytes in all: pull "
                             "less at a time with --added-after", where)
            if cursor is None:
                break
            if cursor in cursors:
                raise _error(objects_url, f"{cursor!r} repeats an earlier page's: the server "
                             "is going round in circles", where, field="next")
            cursors.add(cursor)
            query["next"] = cursor
        else:
            raise _error(objects_url, f"more than {max_pages:,} pages: pull less at a time with "
                         "--added-after", f"page {max_pages}")
    return PulledBundle(path, root, found["id"], found.get("title") or found["id"],
                        bundle.count, page)


def _error(url: str, reason: str, locator: str | None = None, *,
           field: str | None = None) -> InputError:
    """An ``InputError`` whose text, partly the server's, is one printable line."""
    return InputError(_printable(url, 300), _printable(reason, 600), locator=locator, field=field)


def _printable(text: str, limit: int) -> str:
    text = _UNPRINTABLE.sub(" ", str(text))
    return text if len(text) <= limit else text[:limit] + "…"


def _kind(value: Any) -> str:
    kind = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return "a JSON " + kind.get(type(value), "number")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = -1
    return parts.scheme, (parts.hostname or "").lower(), port


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:  # the client follows them itself
        return None


class _Client:
    """GETs TAXII JSON from one origin, within a timeout and a size cap."""

    def __init__(self, url: str, token: str | None, *, verify: bool, timeout_seconds: float,
                 max_page_bytes: int) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _error(url, "not an http(s) URL of a TAXII server")
        self.origin = _origin(url)
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
                    raise _error(url, f"HTTP {status} without a usable Location", where)
                if _origin(moved) != self.origin:
                    raise _error(url, f"redirected to another origin ({moved}): the token is "
                                 "only sent to the server named; pull from there directly if "
                                 "you trust it", where)
                target = moved
                continue
            if not 200 <= status < 300:
                raise _error(url, _http_failure(status, body), where)
            _check_media_type(headers.get("Content-Type"), url, where)
            return _parse(body, url, where), target
        raise _error(url, f"too many redirects (more than {MAX_REDIRECTS})", where)

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
                raise _error(url, f"timed out after {self.timeout:g} s (--timeout)",
                             where) from None
            raise _error(url, f"cannot connect ({reason})", where) from None
        except (http.client.HTTPException, OSError) as exc:
            raise _error(url, f"connection failed ({type(exc).__name__}: {exc})", where) from None

    def _read(self, response: Any, deadline: float, url: str, where: str | None) -> bytes:
        """The body, refused past the size cap or the deadline (checked between reads, each of
        which waits at most the timeout)."""
        too_large = f"answer larger than {self.max_bytes:,} bytes (the cap per page)"
        if response.length is not None and response.length > self.max_bytes:
            raise _error(url, too_large, where)
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(_READ_BYTES):
            size += len(chunk)
            self.received += len(chunk)
            if size > self.max_bytes:
                raise _error(url, too_large, where)
            if time.monotonic() > deadline:
                raise TimeoutError
            chunks.append(chunk)
        if response.length:
            raise _error(url, f"connection closed after {size:,} of {size + response.length:,} "
                         "bytes", where)
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
    return ": ".join(part for part in (f"HTTP {status} {phrase}", _printable(detail, 200).strip(),
                                       advice) if part)


def _check_media_type(value: str | None, url: str, where: str | None) -> None:
    expected = f"not {TAXII_MEDIA_TYPE}"
    if not value:
        raise _error(url, f"no Content-Type, {expected}", where)
    media, *parameters = (part.strip().lower() for part in value.split(";"))
    versions = {p.partition("=")[2].strip('" ') for p in parameters if p.startswith("version=")}
    if media != "application/taxii+json" or versions - {"2.1"}:
        raise _error(url, f"Content-Type {_printable(value, 100)!r}, {expected}", where)


def _parse(body: bytes, url: str, where: str | None) -> Any:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(url, f"not UTF-8 ({exc.reason} at byte {exc.start})", where) from None
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise _error(url, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                     where) from None
    except RecursionError:
        raise _error(url, "JSON nested too deeply to read", where) from None
    except ValueError as exc:  # our own refusals below, and integers too long to convert
        raise _error(url, f"not valid JSON ({exc})", where) from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond the range of a number")
    return value


def _api_root(client: _Client, url: str) -> str:
    """The API root at ``url``, or the default one if ``url`` is a discovery endpoint."""
    answer, answered = client.get_json(url)
    if not isinstance(answer, dict):
        raise _error(url, f"not a JSON object ({_kind(answer)})")
    if "versions" in answer:
        return answered if answered.endswith("/") else answered + "/"
    if "api_roots" not in answer and "default" not in answer:
        raise _error(url, "neither a TAXII discovery answer (no api_roots) nor an API root "
                     "(no versions)")
    roots = answer.get("api_roots", [])
    if not isinstance(roots, list):
        raise _error(url, f"not a list ({_kind(roots)})", field="api_roots")
    if not all(isinstance(root, str) and root for root in roots):
        raise _error(url, "not a list of URLs", field="api_roots")
    default = answer.get("default")
    if default is not None and not (isinstance(default, str) and default):
        raise _error(url, f"not a URL ({_kind(default)})", field="default")
    chosen = default or (roots[0] if roots else None)
    if chosen is None:
        raise _error(url, "the TAXII server lists no API root")
    root = urljoin(answered, chosen)
    root = root if root.endswith("/") else root + "/"
    if _origin(root) != client.origin:
        raise _error(url, f"its API root {root} is on another origin: the token is only sent to "
                     f"the server named; if you trust that one, run: hybridwatch pull {root}",
                     field="default" if default else "api_roots")
    return root


def _find_collection(client: _Client, root: str, wanted: str) -> dict[str, Any]:
    """The entry of the collection whose id or title is ``wanted``."""
    url = root + "collections/"
    answer, _ = client.get_json(url)
    if not isinstance(answer, dict):
        raise _error(url, f"not a JSON object ({_kind(answer)})")
    entries = answer.get("collections", [])
    if not isinstance(entries, list):
        raise _error(url, f"not a list ({_kind(entries)})", field="collections")
    usable, malformed = [], 0
    for at, entry in enumerate(entries):
        problem = _collection_problem(entry)
        if isinstance(entry, dict) and wanted in (entry.get("id"), entry.get("title")):
            if problem:
                raise _error(url, problem[1], f"entry {at}", field=problem[0])
            if entry.get("can_read") is False:
                raise _error(url, f"collection {wanted!r} cannot be read with this token")
            return entry
        if problem:
            malformed += 1
        else:
            usable.append(entry)
    names = ", ".join(f"{entry.get('title') or '?'} ({entry['id']})" for entry in usable[:20])
    names = (names or "none") + (f" and {len(usable) - 20} more" if len(usable) > 20 else "")
    skipped = f"; {malformed} malformed entries skipped" if malformed else ""
    raise _error(url, f"no collection {wanted!r} (collections: {names}{skipped})")


def _collection_problem(entry: Any) -> tuple[str | None, str] | None:
    if not isinstance(entry, dict):
        return None, f"not a collection ({_kind(entry)})"
    ident = entry.get("id")
    if not isinstance(ident, str) or not ident:
        return "id", "missing"
    if not _COLLECTION_ID.fullmatch(ident):
        return "id", f"not a usable collection id ({ident!r})"
    if not isinstance(entry.get("title", ""), str):
        return "title", f"not a string ({_kind(entry['title'])})"
    if not isinstance(entry.get("can_read", True), bool):
        return "can_read", f"not true or false ({_kind(entry['can_read'])})"
    return None


def _envelope(envelope: Any, url: str, where: str) -> tuple[list[Any], str | None]:
    """The objects of one page and the cursor of the next (None on the last page)."""
    if not isinstance(envelope, dict):
        raise _error(url, f"not a JSON object ({_kind(envelope)})", where)
    objects = envelope.get("objects", [])
    if not isinstance(objects, list):
        raise _error(url, f"not a list ({_kind(objects)})", where, field="objects")
    more = envelope.get("more", False)
    if not isinstance(more, bool):
        raise _error(url, f"not true or false ({_kind(more)})", where, field="more")
    if not more:
        return objects, None
    cursor = envelope.get("next")
    if cursor is None or cursor == "":
        raise _error(url, "true but no next: the server gives no way to the following page",
                     where, field="more")
    if not isinstance(cursor, str):
        raise _error(url, f"not a string ({_kind(cursor)})", where, field="next")
    return objects, cursor


class _BundleWriter:
    """Objects streamed into a hidden temporary file beside ``path``, renamed to ``path`` only
    once complete. The bundle id is uuid5 of the sha256 of the objects' sorted-key JSON list."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.digest = hashlib.sha256(b"[")

    def __enter__(self) -> _BundleWriter:
        self.stream = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in __exit__)
            "wb", dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".partial",
            delete=False)
        self.stream.write(b'{"type": "bundle", "objects": [')
        return self

    def add(self, obj: Any, url: str, where: str) -> None:
        try:
            data = json.dumps(obj, ensure_ascii=False, allow_nan=False).encode("utf-8")
            canonical = json.dumps(obj, sort_keys=True)
        except UnicodeEncodeError:
            raise _error(url, "a string holds a lone surrogate (not Unicode text)",
                         where) from None
        except RecursionError:
            raise _error(url, "JSON nested too deeply to write", where) from None
        separator = b", " if self.count else b""
        self.stream.write(separator + data)
        self.digest.update(separator + canonical.encode())
        self.count += 1

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self.digest.update(b"]")
                ident = uuid.uuid5(uuid.NAMESPACE_URL, self.digest.hexdigest())
                self.stream.write(f'], "id": "bundle--{ident}"}}\n'.encode())
                self.stream.close()
                os.replace(self.stream.name, self.path)
        finally:
            self.stream.close()
            Path(self.stream.name).unlink(missing_ok=True)
