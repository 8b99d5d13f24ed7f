"""Looking up the events behind a finding: by selector and day, or by (day, target, domain)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import ibis
import pyarrow as pa

from hybridwatch.analyses.selectors import Selector
from hybridwatch.analyses.series import select_events
from hybridwatch.store import EventStore

#: What an evidence entry shows of each event.
EVIDENCE_COLUMNS = ("event_id", "occurred_at", "source", "source_type", "title", "actor_iso3",
                    "target_iso3", "domain", "source_url")


def events_on_days(store: EventStore, selector: Selector, days: Iterable[date],
                   *, per_day: int = 5) -> dict[date, list[dict]]:
    """Up to ``per_day`` events of ``selector`` on each of ``days``, keyed by day."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    events = select_events(store.ibis_events(), selector)
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


def event_ids_in_cells(store: EventStore, cells: Sequence[tuple[date, str, str]],
                       *, where: Selector | None = None) -> list[str]:
    """Ids of the events on the given (day, target ISO3, domain) cells, in time order."""
    if not cells:
        return []
    lookup = pa.table({"cell_day": [c[0] for c in cells], "cell_target": [c[1] for c in cells],
                       "cell_domain": [c[2] for c in cells]})
    events = store.ibis_events()
    if where is not None:
        events = select_events(events, where)
    wanted = ibis.memtable(lookup)
    joined = events.join(wanted, [events.occurred_at.truncate("D").cast("date") == wanted.cell_day,
                                  events.target_iso3 == wanted.cell_target,
                                  events.domain == wanted.cell_domain])
    table = joined.order_by(["occurred_at", "event_id"]).select("event_id").to_pyarrow()
    return table["event_id"].to_pylist()
