"""A read-only TAXII 2.1 server over the store's shareable findings.

Routes (media type ``application/taxii+json;version=2.1``)::

    GET /taxii2/                                            discovery
    GET /taxii2/hybridwatch/                                the API root
    GET /taxii2/hybridwatch/collections/                    collections
    GET /taxii2/hybridwatch/collections/{id}/               one collection
    GET /taxii2/hybridwatch/collections/{id}/objects/       envelope (paged, filtered)
    GET /taxii2/hybridwatch/collections/{id}/objects/{object_id}/            one object
    GET /taxii2/hybridwatch/collections/{id}/objects/{object_id}/versions/   its versions
    GET /taxii2/hybridwatch/collections/{id}/manifest/      manifest (paged, filtered)

One collection, ``findings``: what ``hybridwatch export stix`` would export at the caller's
clearance (viewer → TLP:AMBER, analyst → AMBER+STRICT, admin → RED), so the same token sees the
same objects over TAXII as in an export, and nothing above its clearance ever leaves. Every
request needs a bearer token (``hybridwatch token create``); 401 answers use the API's JSON error
shape, TAXII's own errors (404, 406, 400) the TAXII error resource. Filters: ``added_after``,
``match[type]``, ``match[id]``, ``match[spec_version]`` (2.1), ``match[version]`` (every object
has one version, so any value selects it); ``limit`` (≤ 1000) and ``next`` page through
objects sorted by ``date_added``, which is when the object's finding run was made or its
evidence entered the store. The collection cannot be written to (``can_write`` false).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from hybridwatch.adapters.stix_findings import stix_uuid
from hybridwatch.outputs.stix_objects import stix_time
from hybridwatch.store.store import EventStore
from hybridwatch.web.auth import Principal, current_principal
from hybridwatch.web.deps import audit_access, store_dependency

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
API_ROOT = "hybridwatch"
COLLECTION_ID = stix_uuid("taxii-collection", "findings")
MAX_PAGE = 1000


class TaxiiError(Exception):
    """Answer with a TAXII error message resource."""

    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.description = status, title, description


class _TaxiiRoute(APIRoute):
    """A route answering ``TaxiiError`` (from the endpoint or its dependencies) with the TAXII
    error resource; other errors keep the API's handlers."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def taxii_handler(request: Request):
            try:
                return await handler(request)
            except TaxiiError as exc:
                return _error(exc)

        return taxii_handler


def _taxii(body: dict[str, Any], status: int = 200,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


def _error(exc: TaxiiError) -> JSONResponse:
    return _taxii({"title": exc.title, "description": exc.description,
                   "http_status": str(exc.status)}, exc.status)


def _check_accept(request: Request) -> None:
    """406 unless the client accepts TAXII 2.1 JSON (or anything / plain JSON)."""
    accept = request.headers.get("accept", "*/*")
    for part in accept.split(","):
        media, *params = [p.strip().lower() for p in part.split(";")]
        version = next((p.split("=", 1)[1] for p in params if p.startswith("version=")), None)
        if media in ("*/*", "application/*", "application/json"):
            return
        if media == "application/taxii+json" and version in (None, "2.1"):
            return
    raise TaxiiError(406, "not acceptable", f"this server speaks {TAXII_MEDIA_TYPE}; "
                                            f"the request accepts only {accept!r}")


def _collection(request: Request) -> dict[str, Any]:
    return {"id": COLLECTION_ID, "title": "findings",
            "description": "hybridwatch's latest findings and their evidence as STIX 2.1, "
                           "up to the caller's TLP clearance.",
            "can_read": True, "can_write": False, "media_types": [STIX_MEDIA_TYPE]}


def _export_at(request: Request, store: EventStore, clearance: str):
    """The STIX export at ``clearance``, computed once per store state and clearance."""
    from hybridwatch.outputs.stix_export import default_org, export_stix

    org = getattr(request.app.state, "org", None) or default_org()
    key = ("taxii-export", clearance, org, _store_version(store))
    cache = getattr(request.app.state, "cache", None)

    def compute():
        return _listing(export_stix(store, tlp=clearance, org=org))

    return cache.get_or_compute(key, compute) if cache is not None else compute()


def _store_version(store: EventStore) -> tuple[Any, ...]:
    """What changes when events or findings change: the ingest log and the finding runs."""
    ingests = store.con.execute("SELECT count(*), max(ingest_id) FROM ingest_log").fetchall()[0]
    try:
        runs = store.con.execute("SELECT string_agg(run_id, ',' ORDER BY run_id) "
                                 "FROM finding_runs").fetchall()[0][0]
    except Exception:  # no findings tables yet
        runs = None
    return (*ingests, runs)


def _listing(export) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, int]]:
    """Objects sorted by date added (bundle order breaks ties), their dates, and counts."""
    order = {obj["id"]: i for i, obj in enumerate(export.objects)}
    objects = sorted(export.objects, key=lambda o: (export.added[o["id"]], order[o["id"]]))
    return objects, dict(export.added), dict(export.withheld)


def _filtered(objects: list[dict[str, Any]], added: dict[str, str], *, added_after: str | None,
              types: str | None, ids: str | None, spec_versions: str | None
              ) -> list[dict[str, Any]]:
    if added_after:
        try:
            after = stix_time(added_after)
        except ValueError:
            raise TaxiiError(400, "bad added_after", f"not a timestamp: {added_after!r}") \
                from None
        objects = [o for o in objects if added[o["id"]] > after]
    if types:
        wanted = {t.strip() for t in types.split(",")}
        objects = [o for o in objects if o["type"] in wanted]
    if ids:
        wanted = {i.strip() for i in ids.split(",")}
        objects = [o for o in objects if o["id"] in wanted]
    if spec_versions:
        wanted = {v.strip() for v in spec_versions.split(",")}
        objects = [o for o in objects if o.get("spec_version", "2.1") in wanted]
    return objects


def _page(items: list[Any], limit: int | None, token: str | None) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise TaxiiError(400, "bad next", f"not a page token of this server: {token!r}") \
                from None
    size = min(limit or MAX_PAGE, MAX_PAGE)
    page = items[start:start + size]
    end = start + len(page)
    more = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return page, more


def _range_headers(page: list[dict[str, Any]], added: dict[str, str]) -> dict[str, str]:
    if not page:
        return {}
    return {"X-TAXII-Date-Added-First": added[page[0]["id"]],
            "X-TAXII-Date-Added-Last": added[page[-1]["id"]]}


def _version(obj: dict[str, Any]) -> str:
    return obj.get("modified") or obj.get("created") or ""


def taxii_router() -> APIRouter:
    """The TAXII 2.1 routes (discovery, API root, collections, objects, manifest)."""
    router = APIRouter(prefix="/taxii2", tags=["taxii"], route_class=_TaxiiRoute)
    root = f"/{API_ROOT}"

    def guard(request: Request) -> None:
        _check_accept(request)

    @router.get("/", dependencies=[Depends(guard)])
    def discovery(request: Request, principal: Principal = Depends(current_principal)):
        base = str(request.base_url).rstrip("/")
        return _taxii({"title": "hybridwatch TAXII 2.1",
                       "description": "Findings of hybrid-threat analyses and their evidence.",
                       "default": f"{base}/taxii2{root}/",
                       "api_roots": [f"{base}/taxii2{root}/"]})

    @router.get(root + "/", dependencies=[Depends(guard)])
    def api_root(principal: Principal = Depends(current_principal)):
        return _taxii({"title": "hybridwatch", "versions": [TAXII_MEDIA_TYPE],
                       "max_content_length": 100 * 1024 * 1024,
                       "description": "One read-only collection of findings."})

    @router.get(root + "/collections/", dependencies=[Depends(guard)])
    def collections(request: Request, principal: Principal = Depends(current_principal)):
        return _taxii({"collections": [_collection(request)]})

    def known(collection_id: str) -> None:
        if collection_id != COLLECTION_ID:
            raise TaxiiError(404, "no such collection",
                             f"{collection_id!r} is not a collection here (there is "
                             f"{COLLECTION_ID}, 'findings')")

    @router.get(root + "/collections/{collection_id}/", dependencies=[Depends(guard)])
    def collection(collection_id: str, request: Request,
                   principal: Principal = Depends(current_principal)):
        known(collection_id)
        return _taxii(_collection(request))

    def listing(collection_id: str, request: Request, store: EventStore, principal: Principal,
                filters: dict[str, Any]):
        known(collection_id)
        objects, added, withheld = _export_at(request, store, principal.clearance)
        return _filtered(objects, added, **filters), added, withheld

    def filters_of(added_after, match_type, match_id, match_spec_version) -> dict[str, Any]:
        return {"added_after": added_after, "types": match_type, "ids": match_id,
                "spec_versions": match_spec_version}

    @router.get(root + "/collections/{collection_id}/objects/", dependencies=[Depends(guard)])
    def objects(collection_id: str, request: Request,
                added_after: str | None = None, limit: int | None = Query(None, ge=1),
                next: str | None = None,  # TAXII's parameter name
                match_type: str | None = Query(None, alias="match[type]"),
                match_id: str | None = Query(None, alias="match[id]"),
                match_version: str | None = Query(None, alias="match[version]"),
                match_spec_version: str | None = Query(None, alias="match[spec_version]"),
                store: EventStore = Depends(store_dependency),
                principal: Principal = Depends(current_principal)):
        found, added, withheld = listing(collection_id, request, store, principal, filters_of(
            added_after, match_type, match_id, match_spec_version))
        page, more = _page(found, limit, next)
        audit_access(store, principal, "read", f"taxii:{collection_id}/objects",
                     detail={"returned": len(page), "withheld": withheld,
                             "clearance": principal.clearance})
        body: dict[str, Any] = {"more": more is not None, "objects": page}
        if more:
            body["next"] = more
        return _taxii(body, headers=_range_headers(page, added))

    @router.get(root + "/collections/{collection_id}/objects/{object_id}/",
                dependencies=[Depends(guard)])
    def one_object(collection_id: str, object_id: str, request: Request,
                   store: EventStore = Depends(store_dependency),
                   principal: Principal = Depends(current_principal)):
        found, added, _ = listing(collection_id, request, store, principal,
                                  filters_of(None, None, object_id, None))
        if not found:  # absent and above clearance look the same: no existence leak
            raise TaxiiError(404, "no such object", f"{object_id} is not in this collection")
        audit_access(store, principal, "read", f"taxii:{collection_id}/objects/{object_id}")
        return _taxii({"more": False, "objects": found}, headers=_range_headers(found, added))

    @router.get(root + "/collections/{collection_id}/objects/{object_id}/versions/",
                dependencies=[Depends(guard)])
    def versions(collection_id: str, object_id: str, request: Request,
                 store: EventStore = Depends(store_dependency),
                 principal: Principal = Depends(current_principal)):
        found, added, _ = listing(collection_id, request, store, principal,
                                  filters_of(None, None, object_id, None))
        if not found:
            raise TaxiiError(404, "no such object", f"{object_id} is not in this collection")
        return _taxii({"more": False, "versions": [_version(found[0])]},
                      headers=_range_headers(found, added))

    @router.get(root + "/collections/{collection_id}/manifest/", dependencies=[Depends(guard)])
    def manifest(collection_id: str, request: Request,
                 added_after: str | None = None, limit: int | None = Query(None, ge=1),
                 next: str | None = None,
                 match_type: str | None = Query(None, alias="match[type]"),
                 match_id: str | None = Query(None, alias="match[id]"),
                 match_version: str | None = Query(None, alias="match[version]"),
                 match_spec_version: str | None = Query(None, alias="match[spec_version]"),
                 store: EventStore = Depends(store_dependency),
                 principal: Principal = Depends(current_principal)):
        found, added, _ = listing(collection_id, request, store, principal, filters_of(
            added_after, match_type, match_id, match_spec_version))
        page, more = _page(found, limit, next)
        audit_access(store, principal, "read", f"taxii:{collection_id}/manifest",
                     detail={"returned": len(page)})
        records = [{"id": o["id"], "date_added": added[o["id"]], "version": _version(o),
                    "media_type": STIX_MEDIA_TYPE} for o in page]
        body: dict[str, Any] = {"more": more is not None, "objects": records}
        if more:
            body["next"] = more
        return _taxii(body, headers=_range_headers(page, added))

    return router

