"""Findings endpoints: the latest results of the analyses (never recomputed here), each item
within the caller's TLP clearance, plus the overview and the latest briefing.

Every registered finding kind (``model.finding_kinds``) is served at its ``api_route``: the
kinds below with filters of their own by hand, every other kind by ``_generic_route``
(paging, and ``significant`` where the kind declares a significance field)."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from typing import Any, Callable, Literal

from fastapi import APIRouter, Body, Depends, Path as PathParam, Query
from fastapi.responses import HTMLResponse, JSONResponse

from hybridwatch.errors import SelectorError
from hybridwatch.model.countries import parse_country
from hybridwatch.model.domains import normalise_domain
from hybridwatch.model.finding_kinds import FindingKind, get_kind, kinds
from hybridwatch.store.findings_store import finding, latest_run
from hybridwatch.store.store import EventStore
from hybridwatch.store.reviews_store import record_review, reviews_of
from hybridwatch.web.auth import Principal, current_principal, require_role
from hybridwatch.web.deps import audit_access, cache_dependency, store_dependency
from hybridwatch.web.errors import ApiError, error_responses
from hybridwatch.web.models import (
    FindingDetail, FindingsAnswer, NarrativeSeries, ReviewCreate, ReviewOut,
)
from hybridwatch.web.narratives import narrative_labels, narrative_series
from hybridwatch.store.event_filter import parse_bound
from hybridwatch.store.event_views import events_by_ids, evidence_groups


def _id() -> Any:
    """A fresh path-parameter declaration (FastAPI binds each to one parameter)."""
    return PathParam(..., min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_.:-]+$")


def _page(store: EventStore, principal: Principal, kind: str, *, limit: int, offset: int,
          keep: Callable[[dict[str, Any]], bool] = lambda item: True,
          resource: str, filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The latest run of ``kind`` at the principal's clearance, filtered and paged."""
    run = latest_run(store, kind, clearance=principal.clearance)
    if run is None:
        answer = {"kind": kind, "available": False, "items": [], "total_items": 0,
                  "withheld": 0, "limit": limit, "offset": offset,
                  "message": f"not computed on this store yet: run "
                             f"`{get_kind(kind).how_to_run(store.path.name)}`"}
    else:
        items = [item for item in run.items if keep(item)]
        answer = {**run.to_dict(), "available": True, "items": items[offset: offset + limit],
                  "total_items": len(items), "limit": limit, "offset": offset}
    audit_access(store, principal, "read", resource,
                 detail={"filters": filters or {}, "returned": len(answer["items"]),
                         "withheld": answer["withheld"]})
    return answer


def _iso3(name: str, text: str | None) -> str | None:
    """One country: an ISO3 code, or a name resolved to one (a friendly 422 otherwise)."""
    if text is None or not text.strip():
        return None
    try:
        return parse_country(text)
    except ValueError as exc:
        raise SelectorError(f"{name}: {exc}") from None


def _domain(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        return normalise_domain(text)
    except ValueError as exc:
        raise SelectorError(f"domain: {exc}") from None


def findings_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["findings"],
                       responses=error_responses(401, 403, 422))
    limit_q = Query(50, ge=1, le=500)
    offset_q = Query(0, ge=0, le=1_000_000)

    @router.get("/episodes", response_model=FindingsAnswer, summary="Multi-domain episodes")
    def episodes(target: str | None = Query(None, max_length=60,
                                            description="ISO3 (or a country name)"),
                 where: str | None = Query(None, max_length=60, pattern="^[A-Za-z][A-Za-z /-]*$",
                                           description="a signal's where: ISO3 or theatre name"),
                 where_kind: Literal["target", "location", "theatre"] | None = Query(
                     None, description="the dimension a signal used"),
                 domain: str | None = Query(None, max_length=40),
                 since: date | datetime | None = Query(None, description="ends on/after"),
                 until: date | datetime | None = Query(None, description="starts before"),
                 limit: int = limit_q, offset: int = offset_q,
                 store: EventStore = Depends(store_dependency),
                 principal: Principal = Depends(current_principal)):
        """Windows where several domains were jointly elevated, as last detected."""
        iso3 = _iso3("target", target)
        domain = _domain(domain)
        start, end = (parse_bound(name, value.isoformat() if value else None)
                      for name, value in (("since", since), ("until", until)))

        wanted = where.upper() if where and len(where) == 3 else where

        def keep(item: dict[str, Any]) -> bool:
            signals = item.get("signals", ())
            return ((iso3 is None or iso3 in item.get("targets", ())) and
                    (wanted is None or any(s.get("where") == wanted for s in signals)) and
                    (where_kind is None or any(s.get("where_kind") == where_kind
                                               for s in signals)) and
                    (domain is None or domain in item.get("domains", ())) and
                    (start is None or item.get("end", "") >= start.date().isoformat()) and
                    (end is None or item.get("start", "") < end.date().isoformat()))

        filters = {k: v for k, v in dict(target=iso3, where=wanted, where_kind=where_kind,
                                         domain=domain,
                                         since=start and start.isoformat(),
                                         until=end and end.isoformat()).items() if v}
        return JSONResponse(_page(store, principal, "episodes", limit=limit, offset=offset,
                                  keep=keep, resource="/api/episodes", filters=filters))

    @router.get("/episodes/{finding_id}", response_model=FindingDetail,
                summary="One episode with its evidence events", responses=error_responses(404))
    def episode(finding_id: str = _id(),
                evidence_limit: int = Query(100, ge=0, le=1000),
                evidence_offset: int = Query(0, ge=0, le=1_000_000),
                store: EventStore = Depends(store_dependency),
                principal: Principal = Depends(current_principal)):
        """The episode, and a page of the events behind it (those within your clearance;
        ``evidence.withheld`` counts the others)."""
        item = finding(store, finding_id, clearance=principal.clearance)
        if item is None or item["kind"] != "episodes":
            audit_access(store, principal, "read", f"episodes/{finding_id}", status=404)
            raise ApiError(404, f"no episode {finding_id!r} within your clearance")
        events, total, withheld = events_by_ids(store, list(item.get("event_ids", [])),
                                                principal.clearance, limit=evidence_limit,
                                                offset=evidence_offset)
        audit_access(store, principal, "read", f"episodes/{finding_id}",
                     detail={"evidence_returned": len(events), "evidence_withheld": withheld})
        groups = evidence_groups(store, list(item.get("event_ids", [])), principal.clearance)
        return JSONResponse({**item, "evidence": {"events": events, "total": total,
                                                  "withheld": withheld, "groups": groups,
                                                  "limit": evidence_limit,
                                                  "offset": evidence_offset}})

    @router.get("/coincidences", response_model=FindingsAnswer,
                summary="Coinciding series (event coincidence analysis)")
    def coincidences(significant: bool | None = Query(None),
                     series: str | None = Query(None, max_length=100,
                                                description="part of either series' label"),
                     limit: int = limit_q, offset: int = offset_q,
                     store: EventStore = Depends(store_dependency),
                     principal: Principal = Depends(current_principal)):
        """Ordered pairs ``b -> a`` (B precedes A) of the latest grid, with q-values."""
        def keep(item: dict[str, Any]) -> bool:
            return ((significant is None or bool(item.get("significant")) == significant) and
                    (not series or series.lower() in f"{item.get('a')} {item.get('b')}".lower()))

        return JSONResponse(_page(store, principal, "coincidences", limit=limit, offset=offset,
                                  keep=keep, resource="/api/coincidences",
                                  filters={"significant": significant, "series": series}))

    @router.get("/narratives", response_model=FindingsAnswer,
                summary="Narrative synchronisation between two actors' media")
    def narratives(significant: bool | None = Query(None), limit: int = limit_q,
                   offset: int = offset_q, store: EventStore = Depends(store_dependency),
                   principal: Principal = Depends(current_principal),
                   cache=Depends(cache_dependency)):
        """Shared narratives, who leads and by how many days, with labels and terms."""
        labels = cache.get_or_compute(("narrative-labels",), lambda: narrative_labels(store))
        answer = _page(store, principal, "narrative_sync", limit=limit, offset=offset,
                       keep=lambda i: significant is None or bool(i.get("significant")) ==
                       significant, resource="/api/narratives",
                       filters={"significant": significant})
        answer["items"] = [{**item, **labels.get(item.get("narrative"), {})}
                           for item in answer["items"]]
        return JSONResponse(answer)

    @router.get("/narratives/{narrative_id}/series", response_model=NarrativeSeries,
                summary="Articles of one narrative per period and actor group",
                responses=error_responses(404))
    def narrative_counts(narrative_id: str = _id(),
                         freq: Literal["day", "week", "month"] = Query("day"),
                         store: EventStore = Depends(store_dependency),
                         principal: Principal = Depends(current_principal),
                         cache=Depends(cache_dependency)):
        """How many articles of each actor group (ru_state, cn_state, control …) carried the
        narrative each period: the synchronisation view."""
        answer = cache.get_or_compute(("narrative-series", narrative_id, freq),
                                      lambda: narrative_series(store, narrative_id, freq))
        if answer is None:
            raise ApiError(404, f"no narrative {narrative_id!r}")
        audit_access(store, principal, "read", f"narratives/{narrative_id}/series")
        return JSONResponse(answer)

    @router.get("/convergence", response_model=FindingsAnswer,
                summary="Convergence index of two actors, per period")
    def convergence(limit: int = Query(500, ge=1, le=5000), offset: int = offset_q,
                    store: EventStore = Depends(store_dependency),
                    principal: Principal = Depends(current_principal)):
        """The index with its uncertainty band and components, one item per period."""
        return JSONResponse(_page(store, principal, "convergence", limit=limit, offset=offset,
                                  resource="/api/convergence"))

    @router.get("/assessments", response_model=FindingsAnswer,
                summary="Calibrated risk assessments per target")
    def assessments(target: str | None = Query(None, max_length=60,
                                               description="ISO3 (or a country name)"),
                    limit: int = limit_q, offset: int = offset_q,
                    store: EventStore = Depends(store_dependency),
                    principal: Principal = Depends(current_principal)):
        """Probability of the outcome per target over the horizon, its PHIA term, drivers,
        evidence, and the backtest behind the calibration."""
        iso3 = _iso3("target", target)
        return JSONResponse(_page(store, principal, "assessment", limit=limit, offset=offset,
                                  keep=lambda i: iso3 is None or i.get("target") == iso3,
                                  resource="/api/assessments", filters={"target": iso3}))

    served = {route.path for route in router.routes}
    for kind in kinds():
        if kind.api_route not in served:
            _generic_route(router, kind, limit_q, offset_q)

    @router.get("/findings/{finding_id}", response_model=FindingDetail,
                summary="Any finding by id", responses=error_responses(404))
    def any_finding(finding_id: str = _id(), store: EventStore = Depends(store_dependency),
                    principal: Principal = Depends(current_principal)):
        item = finding(store, finding_id, clearance=principal.clearance)
        audit_access(store, principal, "read", f"findings/{finding_id}",
                     status=200 if item else 404)
        if item is None:
            raise ApiError(404, f"no finding {finding_id!r} within your clearance")
        return JSONResponse({**item, "reviews": [r.to_dict()
                                                 for r in reviews_of(store, finding_id)]})

    @router.post("/findings/{finding_id}/reviews", response_model=ReviewOut, status_code=201,
                 summary="Review a finding: confirm, reject or mark as needing work "
                         "(analyst, admin)",
                 responses=error_responses(404))
    def review(body: ReviewCreate = Body(...), finding_id: str = _id(),
               store: EventStore = Depends(store_dependency),
               principal: Principal = Depends(require_role("analyst", "admin"))):
        """The verdict is recorded under the token's name and written to the audit log; a
        rejected finding leaves the briefing. Only findings within your clearance."""
        if finding(store, finding_id, clearance=principal.clearance) is None:
            audit_access(store, principal, "review", f"findings/{finding_id}", status=404)
            raise ApiError(404, f"no finding {finding_id!r} within your clearance")
        done = record_review(store, finding_id, verdict=body.verdict, note=body.note,
                             analyst=principal.name, token_id=principal.token_id,
                             role=principal.role)
        return JSONResponse(done.to_dict(), status_code=201)

    @router.get("/overview", summary="Key judgements at a glance")
    def overview(store: EventStore = Depends(store_dependency),
                 principal: Principal = Depends(current_principal),
                 cache=Depends(cache_dependency)) -> dict[str, Any]:
        """Store span and size, the assessments' statements, the latest convergence, and how
        many episodes, coinciding pairs and synchronised narratives there are."""
        from hybridwatch.web.overview import build_overview

        answer = cache.get_or_compute(("overview", principal.clearance),
                                      lambda: build_overview(store, principal.clearance))
        audit_access(store, principal, "read", "/api/overview",
                     detail={"withheld": answer["withheld"]})
        return JSONResponse(answer)

    @router.get("/briefings/latest", response_class=HTMLResponse,
                summary="The briefing at your clearance (HTML)",
                responses={200: {"content": {"text/html": {}}},
                           **error_responses(401, 403, 422, 503)})
    def briefing(period: str | None = Query(
                     None, max_length=40, pattern=r"^(\d{4}-\d{2}-\d{2})?\.\.(\d{4}-\d{2}-\d{2})?$",
                     description="FIRST..LAST, e.g. 2024-01-01..2024-06-30"),
                 store: EventStore = Depends(store_dependency),
                 principal: Principal = Depends(current_principal)):
        """The briefing rendered from the stored findings, marked and filtered at your
        clearance. Recorded in the audit log as an export."""
        if importlib.util.find_spec("hybridwatch.outputs.briefing") is None:
            raise ApiError(503, "briefings are not available in this installation")
        from hybridwatch.outputs import briefing as briefing_module

        if not hasattr(briefing_module, "render_briefing_html"):
            raise ApiError(503, "briefings are not available in this installation yet")
        html = briefing_module.render_briefing_html(store, tlp=principal.clearance,
                                                    period=period)
        audit_access(store, principal, "export", "/api/briefings/latest",
                     detail={"tlp": principal.clearance, "period": period, "bytes": len(html)})
        return HTMLResponse(html)

    return router


def _generic_route(router: APIRouter, kind: FindingKind, limit_q: Any, offset_q: Any) -> None:
    """``GET kind.api_route``: the kind's latest run at the caller's clearance, paged."""
    name = kind.name

    def listing(significant: bool | None = Query(
                    None, description="only items that passed (or failed) the kind's test"),
                limit: int = limit_q, offset: int = offset_q,
                store: EventStore = Depends(store_dependency),
                principal: Principal = Depends(current_principal)):
        flag = kind.significant_field

        def keep(item: dict[str, Any]) -> bool:
            return significant is None or flag is None or bool(item.get(flag)) == significant

        return JSONResponse(_page(store, principal, name, limit=limit, offset=offset,
                                  keep=keep, resource=kind.api_route,
                                  filters={"significant": significant}))

    listing.__doc__ = f"{kind.description} ({kind.noun}, latest run; TLP rule: " \
                      f"{kind.tlp_rule})."
    listing.__name__ = f"findings_{name}"
    router.add_api_route(kind.api_route.removeprefix("/api"), listing, methods=["GET"],
                         response_model=FindingsAnswer, summary=kind.title)
