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
shape, TAXII's own errors (400 for any malformed parameter, 404, 406) the TAXII error resource.
Filters: ``added_after``, ``match[type]``, ``match[id]``, ``match[spec_version]`` (2.1),
``match[version]`` (``first``, ``last``, ``all`` or a timestamp; every object has one version);
``limit`` (above 1000 counts as 1000) and ``next`` page through objects sorted by
``date_added``, which is when the object's finding run was made or its evidence entered the
store. The collection cannot be written to (``can_write`` false). The OpenAPI description of
these routes is in ``hybridwatch.web.taxii_schema``.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from hybridwatch.model.stix_findings import stix_uuid
from hybridwatch.store.store import EventStore
from hybridwatch.web.auth import Principal, current_principal
from hybridwatch.web.deps import audit_access, store_dependency
from hybridwatch.web.taxii_query import (
    MAX_PAGE,
    TaxiiError,
    TaxiiQuery,
    id_type_match,
    paging,
    taxii_time,
    version_match,
)
from hybridwatch.web.taxii_schema import (
    ACCEPT_NOTE,
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    TaxiiApiRoot,
    TaxiiCollection,
    TaxiiCollections,
    TaxiiDiscovery,
    TaxiiEnvelope,
    TaxiiManifest,
    TaxiiResponse,
    TaxiiVersions,
    taxii_responses,
)

__all__ = ["API_ROOT", "COLLECTION_ID", "MAX_PAGE", "STIX_MEDIA_TYPE", "TAXII_MEDIA_TYPE",
           "TaxiiError", "taxii_router"]

API_ROOT = "hybridwatch"
COLLECTION_ID = stix_uuid("taxii-collection", "findings")
_COLLECTION = Path(description=f"the collection's id: {COLLECTION_ID} ('findings') is the "
                               "only one")
_OBJECT = Path(description="a STIX id (type--UUID)")


class _TaxiiRoute(APIRoute):
    """A route answering ``TaxiiError`` (from the endpoint or its dependencies) and malformed
    parameters with the TAXII error resource; other errors keep the API's handlers."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def taxii_handler(request: Request):
            try:
                return await handler(request)
            except TaxiiError as exc:
                return _error(exc)
            except RequestValidationError as exc:  # TAXII says 400, not the API's 422
                where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: "
                                  f"{e.get('msg', '')}" for e in exc.errors())
                return _error(TaxiiError(400, "bad parameter", where))

        return taxii_handler


def _taxii(body: dict[str, Any], status: int = 200,
           headers: dict[str, str] | None = None) -> TaxiiResponse:
    return TaxiiResponse(body, status_code=status, headers=headers)


def _error(exc: TaxiiError) -> TaxiiResponse:
    return _taxii({"title": exc.title, "description": exc.description,
                   "http_status": str(exc.status)}, exc.status)


def _check_accept(request: Request) -> None:
    """406 unless the client accepts TAXII 2.1 JSON (or anything / plain JSON)."""
    accept = request.headers.get("accept", "*/*")
    for part in accept.split(","):
        media, *params = [p.strip().lower() for p in part.split(";")]
        values = dict(p.split("=", 1) for p in params if "=" in p)
        values = {k.strip(): v.strip().strip('"') for k, v in values.items()}
        if _refused(values.get("q")):
            continue
        if media in ("*/*", "application/*", "application/json"):
            return
        if media == "application/taxii+json" and values.get("version") in (None, "2.1"):
            return
    raise TaxiiError(406, "not acceptable", f"this server speaks {TAXII_MEDIA_TYPE}; "
                                            f"the request accepts only {accept!r}")


def _refused(quality: str | None) -> bool:
    """Whether an Accept entry's ``q`` says "not this" (q=0)."""
    try:
        return quality is not None and float(quality) <= 0
    except ValueError:
        return False


def _collection() -> dict[str, Any]:
    return {"id": COLLECTION_ID, "title": "findings",
            "description": "hybridwatch's latest findings and their evidence as STIX 2.1, "
                           "up to the caller's TLP clearance.",
            "can_read": True, "can_write": False, "media_types": [STIX_MEDIA_TYPE]}


def _export_at(request: Request, store: EventStore, clearance: str):
    """The STIX export at ``clearance``, computed once per store state and clearance."""
    from hybridwatch.outputs.stix_export import default_org, export_stix

    org = getattr(request.app.state, "org", None) or default_org()
    key = ("taxii-export", clearance, org, store.version())
    cache = getattr(request.app.state, "cache", None)

    def compute():
        return _listing(export_stix(store, tlp=clearance, org=org))

    return cache.get_or_compute(key, compute) if cache is not None else compute()


def _listing(export) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, int]]:
    """Objects sorted by date added (bundle order breaks ties), their dates, and counts."""
    order = {obj["id"]: i for i, obj in enumerate(export.objects)}
    objects = sorted(export.objects, key=lambda o: (export.added[o["id"]], order[o["id"]]))
    return objects, dict(export.added), dict(export.withheld)


def _version(obj: dict[str, Any]) -> str:
    return obj.get("modified") or obj.get("created") or ""


def _same_time(value: str) -> str:
    """A partner's timestamp in our form (microseconds, offsets), to compare versions."""
    try:
        return taxii_time(value)
    except ValueError:
        return value


def _filtered(objects: list[dict[str, Any]], added: dict[str, str],
              query: TaxiiQuery) -> list[dict[str, Any]]:
    if query.added_after:
        objects = [o for o in objects if added[o["id"]] > query.added_after]
    if query.types is not None:
        objects = [o for o in objects if o["type"] in query.types]
    if query.ids is not None:
        objects = [o for o in objects if o["id"] in query.ids]
    if query.spec_versions is not None:
        objects = [o for o in objects if o.get("spec_version", "2.1") in query.spec_versions]
    if query.versions is not None:
        objects = [o for o in objects if _same_time(_version(o)) in query.versions]
    return objects


def _page(items: list[Any], query: TaxiiQuery) -> tuple[list[Any], str | None]:
    page = items[query.start:query.start + query.limit]
    end = query.start + len(page)
    more = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return page, more


def _paged(key: str, items: list[Any], query: TaxiiQuery) -> tuple[dict[str, Any], list[Any]]:
    """A TAXII page of ``items``: ``{"more", ["next",] key}``, and the items on it."""
    page, more = _page(items, query)
    body: dict[str, Any] = {"more": more is not None}
    if more:
        body["next"] = more
    body[key] = page
    return body, page


def _range_headers(page: list[dict[str, Any]], added: dict[str, str]) -> dict[str, str]:
    if not page:
        return {}
    return {"X-TAXII-Date-Added-First": added[page[0]["id"]],
            "X-TAXII-Date-Added-Last": added[page[-1]["id"]]}


def _known(collection_id: str) -> None:
    if collection_id != COLLECTION_ID:
        raise TaxiiError(404, "no such collection",
                         f"{collection_id!r} is not a collection here (there is "
                         f"{COLLECTION_ID}, 'findings')")


def _visible(collection_id: str, request: Request, store: EventStore, principal: Principal,
             query: TaxiiQuery) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, int]]:
    """The collection's objects within the principal's clearance that pass the filters."""
    _known(collection_id)
    objects, added, withheld = _export_at(request, store, principal.clearance)
    return _filtered(objects, added, query), added, withheld


def _one(collection_id: str, object_id: str, request: Request, store: EventStore,
         principal: Principal, query: TaxiiQuery):
    """The object ``object_id`` (exactly that id) as far as ``query`` lets it through."""
    everything = TaxiiQuery(ids=frozenset({object_id}))
    found, added, _ = _visible(collection_id, request, store, principal, everything)
    if not found:  # absent and above clearance look the same: no existence leak
        raise TaxiiError(404, "no such object", f"{object_id} is not in this collection")
    return _filtered(found, added, query), added


def taxii_router() -> APIRouter:
    """The TAXII 2.1 routes (discovery, API root, collections, objects, manifest)."""
    router = APIRouter(prefix="/taxii2", tags=["taxii"], route_class=_TaxiiRoute,
                       default_response_class=TaxiiResponse)
    root = f"/{API_ROOT}"
    objects_path = root + "/collections/{collection_id}/objects/"

    def route(path: str, model: type, summary: str, *errors: int, dated: bool = False):
        return router.get(path, response_model=model, summary=summary, description=ACCEPT_NOTE,
                          responses=taxii_responses(*errors, date_headers=dated),
                          dependencies=[Depends(guard)])

    def guard(request: Request) -> None:
        _check_accept(request)

    @route("/", TaxiiDiscovery, "TAXII discovery")
    def discovery(request: Request, principal: Principal = Depends(current_principal)):
        base = str(request.base_url).rstrip("/")
        return _taxii({"title": "hybridwatch TAXII 2.1",
                       "description": "Findings of hybrid-threat analyses and their evidence.",
                       "default": f"{base}/taxii2{root}/",
                       "api_roots": [f"{base}/taxii2{root}/"]})

    @route(root + "/", TaxiiApiRoot, "TAXII API root")
    def api_root(principal: Principal = Depends(current_principal)):
        return _taxii({"title": "hybridwatch", "versions": [TAXII_MEDIA_TYPE],
                       "max_content_length": 100 * 1024 * 1024,
                       "description": "One read-only collection of findings."})

    @route(root + "/collections/", TaxiiCollections, "TAXII collections")
    def collections(principal: Principal = Depends(current_principal)):
        return _taxii({"collections": [_collection()]})

    @route(root + "/collections/{collection_id}/", TaxiiCollection, "A TAXII collection", 404)
    def collection(collection_id: str = _COLLECTION,
                   principal: Principal = Depends(current_principal)):
        _known(collection_id)
        return _taxii(_collection())

    @route(objects_path, TaxiiEnvelope, "A page of the collection's objects", 400, 404,
           dated=True)
    def objects(request: Request, collection_id: str = _COLLECTION,
                principal: Principal = Depends(current_principal),
                query: TaxiiQuery = Depends(paging),
                version_filter: frozenset[str] | None = Depends(version_match),
                id_type: tuple = Depends(id_type_match),
                store: EventStore = Depends(store_dependency)):
        query = replace(query, types=id_type[0], ids=id_type[1], versions=version_filter)
        found, added, withheld = _visible(collection_id, request, store, principal, query)
        body, page = _paged("objects", found, query)
        audit_access(store, principal, "read", f"taxii:{collection_id}/objects",
                     detail={"returned": len(page), "withheld": withheld,
                             "clearance": principal.clearance})
        return _taxii(body, headers=_range_headers(page, added))

    @route(objects_path + "{object_id}/", TaxiiEnvelope, "One object", 400, 404, dated=True)
    def one_object(request: Request, collection_id: str = _COLLECTION,
                   object_id: str = _OBJECT,
                   principal: Principal = Depends(current_principal),
                   query: TaxiiQuery = Depends(paging),
                   version_filter: frozenset[str] | None = Depends(version_match),
                   store: EventStore = Depends(store_dependency)):
        query = replace(query, versions=version_filter)
        found, added = _one(collection_id, object_id, request, store, principal, query)
        body, page = _paged("objects", found, query)
        audit_access(store, principal, "read", f"taxii:{collection_id}/objects/{object_id}",
                     detail={"returned": len(page)})
        return _taxii(body, headers=_range_headers(page, added))

    @route(objects_path + "{object_id}/versions/", TaxiiVersions, "An object's versions",
           400, 404, dated=True)
    def versions(request: Request, collection_id: str = _COLLECTION,
                 object_id: str = _OBJECT,
                 principal: Principal = Depends(current_principal),
                 query: TaxiiQuery = Depends(paging),
                 store: EventStore = Depends(store_dependency)):
        found, added = _one(collection_id, object_id, request, store, principal, query)
        body, page = _paged("versions", found, query)
        body["versions"] = [_version(o) for o in page]
        audit_access(store, principal, "read",
                     f"taxii:{collection_id}/objects/{object_id}/versions",
                     detail={"returned": len(page)})
        return _taxii(body, headers=_range_headers(page, added))

    @route(root + "/collections/{collection_id}/manifest/", TaxiiManifest,
           "A page of the collection's manifest", 400, 404, dated=True)
    def manifest(request: Request, collection_id: str = _COLLECTION,
                 principal: Principal = Depends(current_principal),
                 query: TaxiiQuery = Depends(paging),
                 version_filter: frozenset[str] | None = Depends(version_match),
                 id_type: tuple = Depends(id_type_match),
                 store: EventStore = Depends(store_dependency)):
        query = replace(query, types=id_type[0], ids=id_type[1], versions=version_filter)
        found, added, _ = _visible(collection_id, request, store, principal, query)
        records = [{"id": o["id"], "date_added": added[o["id"]], "version": _version(o),
                    "media_type": STIX_MEDIA_TYPE} for o in found]
        body, page = _paged("objects", records, query)
        audit_access(store, principal, "read", f"taxii:{collection_id}/manifest",
                     detail={"returned": len(page)})
        return _taxii(body, headers=_range_headers(page, added))

    return router
