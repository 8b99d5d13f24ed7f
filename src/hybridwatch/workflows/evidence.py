"""Looking up the events behind a finding by selector and day, on the table the selectors need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import ibis

from hybridwatch.analyses.selectors import Selector
from hybridwatch.analyses.series import select_events
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore

#: What an evidence entry shows of each event.
EVIDENCE_COLUMNS = ("event_id", "occurred_at", "source", "source_type", "title", "actor_iso3",
                    "target_iso3s", "domain", "source_url")


def located_events(store: EventStore, selectors: Sequence[Selector | None], *,
                   located: bool = False):
    """The events table the selectors need: the ``located_events`` view (with ``theatre``,
    ``wheres``, ``where_kind``) when one selects on ``where`` or ``theatre`` or ``located`` is
    set, else the plain table. Theatre names are checked against the store's theatre table."""
    chosen = [s for s in selectors if s is not None]
    for selector in chosen:
        wanted = selector.as_mapping()
        store.check_theatres(wanted.get("theatre", ()))
        named = [w for w in wanted.get("wheres", ()) if len(w) != 3 or not w.isupper()]
        for name, canonical in zip(named, store.check_theatres(named)):
            if name != canonical:
                raise SelectorError(f"where={name}: write the theatre as {canonical!r}")
    return store.ibis_events(located=located or any(s.located for s in chosen))


def events_on_days(store: EventStore, selector: Selector, days: Iterable[date],
                   *, per_day: int = 5) -> dict[date, list[dict]]:
    """Up to ``per_day`` events of ``selector`` on each of ``days``, keyed by day."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    events = select_events(located_events(store, [selector]), selector)
    day = events.occurred_at.truncate("D").cast("date")
    rows = (events.filter(day.isin([ibis.date(d.isoformat()) for d in wanted]))
            .mutate(day=day)
            .order_by(["occurred_at", "event_id"])
            .select("day", *EVIDENCE_COLUMNS)).to_pyarrow().to_pylist()
    found: dict[date, list[dict]] = {}
    for row in rows:
        bucket = found.setdefault(row.pop("day"), [])
        if len(bucket) < per_day:
            bucket.append({**row, "occurred_at": row["occurred_at"].isoformat()})
    return found
