"""The event endpoints' answers, computed once and cached (``QueryCache``): used by the
endpoints and by the start-up warm-up of the dashboard's default views, so both share keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hybridwatch.store.store import EventStore
from hybridwatch.web.cache import QueryCache
from hybridwatch.store.event_filter import EventFilter
from hybridwatch.store.event_views import (
    check_periods, count_by, count_visible, event_page, series, span, withheld_events,
)

#: Pages up to this size are cached (immutable while the server holds the store).
MAX_CACHED_PAGE = 200


def totals(cache: QueryCache, store: EventStore, query: EventFilter,
           clearance: str) -> tuple[int, int]:
    """(visible events matching ``query``, events withheld from ``clearance`` in the whole
    store — one number per clearance, computed once)."""
    visible = cache.get_or_compute(("count", query, clearance),
                                   lambda: count_visible(store, query, clearance, rollup=True))
    return visible, withheld_from(cache, store, clearance)


def withheld_from(cache: QueryCache, store: EventStore, clearance: str) -> int:
    """The store's events above ``clearance`` (one number per clearance, never filtered)."""
    return cache.get_or_compute(("withheld", clearance),
                                lambda: withheld_events(store, clearance, rollup=True))


def page_answer(cache: QueryCache, store: EventStore, query: EventFilter, clearance: str, *,
                limit: int, cursor: str | None, order: str, count: bool) -> dict[str, Any]:
    def compute():
        return event_page(store, query, clearance, limit=limit, cursor=cursor,
                          descending=order == "desc")

    events, next_cursor = (cache.get_or_compute(("page", query, clearance, limit, cursor, order),
                                                compute)
                           if limit <= MAX_CACHED_PAGE else compute())
    total, withheld = totals(cache, store, query, clearance) if count else (None, None)
    return {"events": events, "count": len(events), "limit": limit, "next_cursor": next_cursor,
            "total": total, "withheld": withheld, "filters": query.to_dict()}


def series_answer(cache: QueryCache, store: EventStore, query: EventFilter, clearance: str, *,
                  freq: str, by: str | None, max_groups: int,
                  intensity: bool = False) -> dict[str, Any]:
    check_periods(freq, query, cache.get_or_compute(("span", clearance),
                                                    lambda: span(store, clearance)))
    answer = cache.get_or_compute(
        ("series", query, clearance, freq, by, max_groups, intensity),
        lambda: series(store, query, clearance, freq=freq, by=by, max_groups=max_groups,
                       rollup=True, intensity=intensity,
                       withheld=withheld_from(cache, store, clearance)))
    return {**answer, "filters": query.to_dict()}


def counts_answer(cache: QueryCache, store: EventStore, query: EventFilter, clearance: str, *,
                  by: str, limit: int) -> dict[str, Any]:
    counts = cache.get_or_compute(
        ("by", query, clearance, by, limit),
        lambda: count_by(store, query, clearance, by, limit=limit, rollup=True))
    total, withheld = totals(cache, store, query, clearance)
    return {"by": by, "counts": counts, "total": total, "withheld": withheld,
            "filters": query.to_dict()}


def warm_dashboard(cache: QueryCache, store: EventStore, clearances: list[str]) -> int:
    """Compute what the dashboard asks for on its first load, for each clearance; returns
    the number of answers computed. Runs in the background when the server starts."""
    from hybridwatch.web.overview import build_overview

    done = 0
    for clearance in clearances:
        overview = cache.get_or_compute(("overview", clearance),
                                        lambda: build_overview(store, clearance))
        everything = EventFilter()
        for by in ("target_iso3", "domain", "actor_iso3"):
            counts_answer(cache, store, everything, clearance, by=by, limit=300)
        last = overview["events"]["last_day"]
        if last:  # the dashboard opens on the last year
            from datetime import date

            since = date.fromisoformat(last) - timedelta(days=364)
            first = overview["events"]["first_day"]
            query = EventFilter.parse(since=since.isoformat()) \
                if first and since.isoformat() > first else everything
            days = (date.fromisoformat(last) - (since if query.since else
                                                date.fromisoformat(first))).days
            freq = "day" if days <= 180 else "week" if days <= 1500 else "month"
            series_answer(cache, store, query, clearance, freq=freq, by="domain", max_groups=13)
            counts_answer(cache, store, query, clearance, by="target_iso3", limit=300)
            page_answer(cache, store, query, clearance, limit=50, cursor=None, order="desc",
                        count=True)
        done += 1
    return done
