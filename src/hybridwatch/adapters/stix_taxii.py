"""Fetch a partner's TAXII 2.1 collection into a STIX bundle file, for the normal ingest path.

``fetch_collection(url, collection, token=…)`` pages through the collection's objects with
``taxii2-client`` and writes them as one bundle; ``hybridwatch pull`` then ingests that file like
any other (quarantine, de-duplication, markings, finding runs all apply). ``url`` is a server's
discovery URL (``…/taxii2/``: its default API root is used) or an API root; ``collection`` is a
collection's id or title.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridwatch.errors import InputError

PAGE_OBJECTS = 1000


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


def _bearer(token: str | None):
    import requests

    class BearerAuth(requests.auth.AuthBase):
        def __call__(self, request):
            request.headers["Authorization"] = f"Bearer {token}"
            return request

    return BearerAuth() if token else None


def fetch_collection(url: str, collection: str, directory: Path, *, token: str | None = None,
                     added_after: str | None = None, verify: bool = True,
                     per_request: int = PAGE_OBJECTS) -> PulledBundle:
    """Write every object of ``collection`` at ``url`` to a bundle file in ``directory``."""
    import requests
    from taxii2client.exceptions import TAXIIServiceException
    from taxii2client.v21 import ApiRoot, Server, as_pages

    auth = _bearer(token)
    try:
        root = _api_root(url, auth, verify, ApiRoot, Server)
        found = _find_collection(root, collection)
        if not found.can_read:
            raise InputError(url, f"collection {collection!r} cannot be read with this token")
        filters = {"added_after": added_after} if added_after else {}
        objects: list[dict[str, Any]] = []
        pages = 0
        for envelope in as_pages(found.get_objects, per_request=per_request, **filters):
            pages += 1
            objects.extend(envelope.get("objects") or [])
    except (TAXIIServiceException, requests.RequestException) as exc:
        raise InputError(url, f"TAXII request failed ({_reason(exc)})") from None
    digest = hashlib.sha256(json.dumps(objects, sort_keys=True).encode()).hexdigest()
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid5(uuid.NAMESPACE_URL, digest)}",
              "objects": objects}
    path = Path(directory) / f"taxii-{found.id}.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return PulledBundle(path, root.url, found.id, found.title, len(objects), pages)


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        return f"HTTP {response.status_code} {response.reason}: {response.text[:200]}"
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _api_root(url: str, auth: Any, verify: bool, api_root_cls: Any, server_cls: Any):
    """The API root at ``url``, or the default one if ``url`` is a discovery endpoint."""
    root = api_root_cls(url, auth=auth, verify=verify)
    try:
        root.refresh_information()
        return root
    except Exception:
        # not an API root: perhaps the discovery endpoint
        server = server_cls(url, auth=auth, verify=verify)
        if server.default is not None:
            return server.default
        if server.api_roots:
            return server.api_roots[0]
        raise InputError(url, "the TAXII server lists no API root") from None


def _find_collection(root: Any, wanted: str):
    collections = root.collections
    for collection in collections:
        if wanted in (collection.id, collection.title):
            return collection
    names = ", ".join(f"{c.title} ({c.id})" for c in collections) or "none"
    raise InputError(root.url, f"no collection {wanted!r} (collections: {names})")
