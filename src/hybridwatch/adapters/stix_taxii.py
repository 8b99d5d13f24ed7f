"""Fetch a partner's TAXII 2.1 collection into a STIX bundle file, for the normal ingest path.

``fetch_collection(url, collection, directory, token=…)`` pages through the collection's objects
and writes them as one bundle; ``hybridwatch pull`` then ingests that file like any other
(quarantine, de-duplication, markings, finding runs all apply). ``url`` is a server's discovery
URL (``…/taxii2/``: its default API root is used) or an API root; ``collection`` is a
collection's id or title.

A partner's server is untrusted input, so the client (``adapters.taxii_http``, on the standard
library's HTTP: no extra needed) holds it to limits, each a keyword argument:

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
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from hybridwatch.adapters.taxii_http import (
    MAX_PAGE_BYTES, TIMEOUT_SECONDS, TaxiiClient, json_kind, origin, taxii_error,
)

PAGE_OBJECTS = 1000
MAX_TOTAL_BYTES = 2**30
MAX_PAGES = 10_000
_COLLECTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")  # one safe path segment


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
    client = TaxiiClient(url, token, verify=verify, timeout_seconds=timeout_seconds,
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
                raise taxii_error(objects_url, f"more than {max_total_bytes:,} bytes in all: "
                                  "pull less at a time with --added-after", where)
            if cursor is None:
                break
            if cursor in cursors:
                raise taxii_error(objects_url, f"{cursor!r} repeats an earlier page's: the "
                                  "server is going round in circles", where, field="next")
            cursors.add(cursor)
            query["next"] = cursor
        else:
            raise taxii_error(objects_url, f"more than {max_pages:,} pages: pull less at a "
                              "time with --added-after", f"page {max_pages}")
    return PulledBundle(path, root, found["id"], found.get("title") or found["id"],
                        bundle.count, page)


def _api_root(client: TaxiiClient, url: str) -> str:
    """The API root at ``url``, or the default one if ``url`` is a discovery endpoint."""
    answer, answered = client.get_json(url)
    if not isinstance(answer, dict):
        raise taxii_error(url, f"not a JSON object ({json_kind(answer)})")
    if "versions" in answer:
        return answered if answered.endswith("/") else answered + "/"
    if "api_roots" not in answer and "default" not in answer:
        raise taxii_error(url, "neither a TAXII discovery answer (no api_roots) nor an API root "
                          "(no versions)")
    roots = answer.get("api_roots", [])
    if not isinstance(roots, list):
        raise taxii_error(url, f"not a list ({json_kind(roots)})", field="api_roots")
    if not all(isinstance(root, str) and root for root in roots):
        raise taxii_error(url, "not a list of URLs", field="api_roots")
    default = answer.get("default")
    if default is not None and not (isinstance(default, str) and default):
        raise taxii_error(url, f"not a URL ({json_kind(default)})", field="default")
    chosen = default or (roots[0] if roots else None)
    if chosen is None:
        raise taxii_error(url, "the TAXII server lists no API root")
    root = urljoin(answered, chosen)
    root = root if root.endswith("/") else root + "/"
    if origin(root) != client.origin:
        raise taxii_error(url, f"its API root {root} is on another origin: the token is only "
                          "sent to the server named; if you trust that one, run: "
                          f"hybridwatch pull {root}",
                          field="default" if default else "api_roots")
    return root


def _find_collection(client: TaxiiClient, root: str, wanted: str) -> dict[str, Any]:
    """The entry of the collection whose id or title is ``wanted``."""
    url = root + "collections/"
    answer, _ = client.get_json(url)
    if not isinstance(answer, dict):
        raise taxii_error(url, f"not a JSON object ({json_kind(answer)})")
    entries = answer.get("collections", [])
    if not isinstance(entries, list):
        raise taxii_error(url, f"not a list ({json_kind(entries)})", field="collections")
    usable, malformed = [], 0
    for at, entry in enumerate(entries):
        problem = _collection_problem(entry)
        if isinstance(entry, dict) and wanted in (entry.get("id"), entry.get("title")):
            if problem:
                raise taxii_error(url, problem[1], f"entry {at}", field=problem[0])
            if entry.get("can_read") is False:
                raise taxii_error(url, f"collection {wanted!r} cannot be read with this token")
            return entry
        if problem:
            malformed += 1
        else:
            usable.append(entry)
    names = ", ".join(f"{entry.get('title') or '?'} ({entry['id']})" for entry in usable[:20])
    names = (names or "none") + (f" and {len(usable) - 20} more" if len(usable) > 20 else "")
    skipped = f"; {malformed} malformed entries skipped" if malformed else ""
    raise taxii_error(url, f"no collection {wanted!r} (collections: {names}{skipped})")


def _collection_problem(entry: Any) -> tuple[str | None, str] | None:
    if not isinstance(entry, dict):
        return None, f"not a collection ({json_kind(entry)})"
    ident = entry.get("id")
    if not isinstance(ident, str) or not ident:
        return "id", "missing"
    if not _COLLECTION_ID.fullmatch(ident):
        return "id", f"not a usable collection id ({ident!r})"
    if not isinstance(entry.get("title", ""), str):
        return "title", f"not a string ({json_kind(entry['title'])})"
    if not isinstance(entry.get("can_read", True), bool):
        return "can_read", f"not true or false ({json_kind(entry['can_read'])})"
    return None


def _envelope(envelope: Any, url: str, where: str) -> tuple[list[Any], str | None]:
    """The objects of one page and the cursor of the next (None on the last page)."""
    if not isinstance(envelope, dict):
        raise taxii_error(url, f"not a JSON object ({json_kind(envelope)})", where)
    objects = envelope.get("objects", [])
    if not isinstance(objects, list):
        raise taxii_error(url, f"not a list ({json_kind(objects)})", where, field="objects")
    more = envelope.get("more", False)
    if not isinstance(more, bool):
        raise taxii_error(url, f"not true or false ({json_kind(more)})", where, field="more")
    if not more:
        return objects, None
    cursor = envelope.get("next")
    if cursor is None or cursor == "":
        raise taxii_error(url, "true but no next: the server gives no way to the following page",
                          where, field="more")
    if not isinstance(cursor, str):
        raise taxii_error(url, f"not a string ({json_kind(cursor)})", where, field="next")
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
            raise taxii_error(url, "a string holds a lone surrogate (not Unicode text)",
                              where) from None
        except RecursionError:
            raise taxii_error(url, "JSON nested too deeply to write", where) from None
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
