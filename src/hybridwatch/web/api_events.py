"""Event endpoints: pages of events, one event, series and counts — all within the caller's
TLP clearance, with the number of matching events withheld above it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from hybridwatch.store.store import EventStore
from hybridwatch.web.auth import Principal, current_principal
from hybridwatch.web.deps import audit_access, cache_dependency, store_dependency
from hybridwatch.web.errors import ApiError, error_responses
from hybridwatch.web.models import ActorTargetsAnswer, CountsAnswer, EventDetail, EventsPage, SeriesAnswer
from hybridwatch.web.answers import counts_answer, page_answer, series_answer, totals
from hybridwatch.store.event_filter import EventFilter
from hybridwatch.store.event_views import MAX_GROUPS, actor_target_counts, event_by_id

GroupBy = Literal["domain", "target_iso3", "actor_iso3", "location_iso3", "source", "tlp"]


def _text(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def event_query(
    _caller: Principal = Depends(current_principal),  # 401 before any 422 on the filters
    domain: str | None = Query(None, max_length=400,
                               description="Domains, comma-separated (e.g. cyber,military)"),
    target: str | None = Query(None, max_length=400,
                               description="Target countries, ISO3 (or names: Germany → DEU), "
                                           "comma-separated"),
    actor: str | None = Query(None, max_length=400,
                              description="Actor countries, ISO3 (or names), comma-separated"),
    actor_name: str | None = Query(None, max_length=100,
                                   description="Part of the actor's name, or its exact code"),
    source: str | None = Query(None, max_length=400,
                               description="Dataset families or source names (gdelt, stix …)"),
    since: date | datetime | None = Query(None, description="Inclusive, UTC date or date-time"),
    until: date | datetime | None = Query(None, description="Exclusive, UTC date or date-time"),
    tlp: str | None = Query(None, max_length=80, description="Only these TLP levels"),
) -> EventFilter:
    """The filters shared by every event endpoint (an empty period matches nothing).

    The values are checked by ``EventFilter.parse``, not by regular expressions here, so a bad
    value gets the same friendly message as on the CLI ("domain: unknown domain 'cyberr'
    (expected one of: …)") rather than a pattern."""
    return EventFilter.parse(domain=domain, target=target, actor=actor, actor_name=actor_name,
                            source=source, since=_text(since), until=_text(until), tlp=tlp)


def events_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["events"],
                       responses=error_responses(401, 403, 422))

    @router.get("/events", response_model=EventsPage, summary="A page of events")
    def list_events(
        request_query: EventFilter = Depends(event_query),
        limit: int = Query(100, ge=1, le=1000),
        cursor: str | None = Query(None, max_length=400, pattern=r"^[A-Za-z0-9_-]+$",
                                   description="next_cursor of the previous page"),
        order: Literal["asc", "desc"] = Query("asc", description="oldest or newest first"),
        count: bool = Query(True, description="also count total and withheld (cached)"),
        store: EventStore = Depends(store_dependency),
        principal: Principal = Depends(current_principal),
        cache=Depends(cache_dependency),
    ):
        """Events matching the filters, in (occurred_at, event_id) order, within your TLP
        clearance. Page with ``next_cursor`` (keyset pagination: every page is as fast as the
        first)."""
        answer = page_answer(cache, store, request_query, principal.clearance, limit=limit,
                             cursor=cursor, order=order, count=count)
        audit_access(store, principal, "read", "/api/events",
                     detail={"filters": request_query.to_dict(), "returned": answer["count"],
                             "withheld": answer["withheld"], "cursor": bool(cursor)})
        return JSONResponse(answer)

    @router.get("/events/{event_id}", response_model=EventDetail, summary="One event",
                responses=error_responses(404))
    def get_event(event_id: str, store: EventStore = Depends(store_dependency),
                  principal: Principal = Depends(current_principal)):
        """One event with its ``extra`` fields; 404 when absent or above your clearance (the
        two are not told apart, so an id reveals nothing)."""
        event = event_by_id(store, event_id) if len(event_id) <= 64 else None
        if event is None or not principal.can_read(event.get("tlp")):
            audit_access(store, principal, "read", f"/api/events/{event_id[:64]}", status=404)
            raise ApiError(404, f"no event {event_id[:64]!r} within your clearance")
        audit_access(store, principal, "read", f"/api/events/{event_id}")
        return JSONResponse(event)

    @router.get("/series", response_model=SeriesAnswer, summary="Events per period")
    def get_series(
        request_query: EventFilter = Depends(event_query),
        freq: Literal["day", "week", "month", "year"] = Query("day"),
        by: GroupBy | None = Query(None, description="split the series by this column"),
        max_groups: int = Query(12, ge=1, le=MAX_GROUPS,
                                description="largest groups kept; the rest is '(other)'"),
        intensity: bool = Query(False, description="also the intensity sums"),
        store: EventStore = Depends(store_dependency),
        principal: Principal = Depends(current_principal),
        cache=Depends(cache_dependency),
    ):
        """Visible events per day/week (Monday)/month/year, optionally per ``by`` value (and the
        intensity sums), as ``counts[group][period]``. Only periods with events are listed. At
        most 4,000 periods: a coarser ``freq`` for long spans."""
        answer = series_answer(cache, store, request_query, principal.clearance, freq=freq,
                               by=by, max_groups=max_groups, intensity=intensity)
        audit_access(store, principal, "read", "/api/series",
                     detail={"filters": request_query.to_dict(), "freq": freq, "by": by,
                             "periods": len(answer["periods"]), "withheld": answer["withheld"]})
        return JSONResponse(answer)

    @router.get("/actor-targets", response_model=ActorTargetsAnswer,
                summary="Who acts against whom: events per actor, target and domain")
    def get_actor_targets(
        request_query: EventFilter = Depends(event_query),
        limit: int = Query(120, ge=1, le=1000, description="largest links kept"),
        store: EventStore = Depends(store_dependency),
        principal: Principal = Depends(current_principal),
        cache=Depends(cache_dependency),
    ):
        """Visible events per (actor country, target country, domain), largest first; events
        without an actor or target country, or aimed at their own country, are left out.
        ``withheld`` counts the store's events above your clearance (never filtered)."""
        links, total = cache.get_or_compute(
            ("actor-targets", request_query, principal.clearance, limit),
            lambda: actor_target_counts(store, request_query, principal.clearance, limit=limit))
        _, withheld = totals(cache, store, request_query, principal.clearance)
        audit_access(store, principal, "read", "/api/actor-targets",
                     detail={"filters": request_query.to_dict(), "returned": len(links),
                             "withheld": withheld})
        return JSONResponse({"links": links, "total_links": total, "withheld": withheld,
                             "filters": request_query.to_dict()})

    @router.get("/counts", response_model=CountsAnswer, summary="Events per value of a column")
    def get_counts(
        request_query: EventFilter = Depends(event_query),
        by: GroupBy = Query("target_iso3"),
        limit: int = Query(300, ge=1, le=1000),
        store: EventStore = Depends(store_dependency),
        principal: Principal = Depends(current_principal),
        cache=Depends(cache_dependency),
    ):
        """Visible events per target, actor, domain, source … (the map and the filter lists)."""
        answer = counts_answer(cache, store, request_query, principal.clearance, by=by,
                               limit=limit)
        audit_access(store, principal, "read", "/api/counts",
                     detail={"filters": request_query.to_dict(), "by": by,
                             "withheld": answer["withheld"]})
        return JSONResponse(answer)

    return router
