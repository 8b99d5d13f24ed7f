"""Named reads over ``events`` for the workflows, outputs and web views that need more than
``EventStore.events``/``count_events``: each query has a name saying what it answers, so no
module outside the store writes SQL against its tables.

Conditions that carry domain rules (hostility, "names this target") come from ``model`` as SQL
fragments; the store only composes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from hybridwatch.model.event_titles import event_title
from hybridwatch.model.hostility import COOPERATIVE_SQL, HOSTILE_SQL
from hybridwatch.model.targets import events_by_target_sql, names_target_sql
from hybridwatch.model.tlp import most_restricted
from hybridwatch.store.store import EventStore


def source_counts(store: EventStore, where_sql: str = "TRUE",
                  params: Sequence[Any] = ()) -> dict[str, int]:
    """Events per source among those a SQL condition selects."""
    return dict(store._con.execute(f"SELECT source, count(*) FROM events WHERE {where_sql} "
                                  "GROUP BY source", list(params)).fetchall())


def event_span(store: EventStore, where_sql: str = "TRUE") -> tuple[date | None, date | None]:
    """First and last day of the events a SQL condition selects (None, None when none)."""
    first, last = store._con.execute(
        f"SELECT CAST(min(occurred_at) AS DATE), CAST(max(occurred_at) AS DATE) FROM events "
        f"WHERE {where_sql}").fetchall()[0]
    return first, last


def months_with_events(store: EventStore) -> list[datetime]:
    """The months (first instant) in which the store holds any event."""
    return [row[0] for row in store._con.execute(
        "SELECT DISTINCT date_trunc('month', occurred_at) FROM events").fetchall()]


def hostile_actors_of(store: EventStore, event_ids: Sequence[str]) -> set[str]:
    """Actor countries of the hostile events among ``event_ids``."""
    return {row[0] for row in store._con.execute(
        f"SELECT DISTINCT actor_iso3 FROM events WHERE event_id IN (SELECT unnest(?)) "
        f"AND {HOSTILE_SQL}", [list(event_ids)]).fetchall()}


def daily_cooperation(store: EventStore, a: str, b: str, *, source: str = "gdelt"
                      ) -> list[tuple[date, float, int]]:
    """Per day of ``source``: the Goldstein weight of cooperative events between ``a`` and
    ``b`` (either direction) and the count of all the source's events that day (on the store's
    engine: a scan of every event of the source)."""
    table = store.engine_sql(f"""
        SELECT CAST(occurred_at AS DATE) AS day,
               sum(CASE WHEN {COOPERATIVE_SQL} AND ((actor_iso3 = ? AND {names_target_sql()})
                         OR (actor_iso3 = ? AND {names_target_sql()}))
                        THEN greatest(coalesce(intensity, 0), 0) ELSE 0 END) AS weight,
               count(*) AS n
        FROM events WHERE source = ? GROUP BY CAST(occurred_at AS DATE) ORDER BY day""",
        [a, b, b, a, source])
    return list(zip(table["day"].to_pylist(), table["weight"].to_pylist(),
                    table["n"].to_pylist()))


def monthly_trade_event_values(store: EventStore, a: str, b: str
                               ) -> list[tuple[datetime, float]]:
    """Declared trade value (USD) of trade events between ``a`` and ``b`` per month (events of
    the deprecated ``comtrade_trade`` mapping), on the store's engine."""
    table = store.engine_sql(f"""
        SELECT date_trunc('month', occurred_at) AS month, sum(intensity) AS value FROM events
        WHERE intensity_kind = 'trade_value_usd' AND ((actor_iso3 = ? AND {names_target_sql()})
              OR (actor_iso3 = ? AND {names_target_sql()}))
        GROUP BY date_trunc('month', occurred_at) ORDER BY month""", [a, b, b, a])
    return list(zip(table["month"].to_pylist(), table["value"].to_pylist()))


def daily_target_counts(store: EventStore, *, by: str, counted_sql: str,
                        before: date) -> pa.Table:
    """Events per day × target × ``by`` (a column: domain or target_sector) before ``before``,
    counting the events ``counted_sql`` selects; non-empty cells only, ordered (on the store's
    engine)."""
    if by not in ("domain", "target_sector"):
        raise ValueError(f"cannot count events by {by!r}")
    return store.engine_sql(f"""
        SELECT CAST(occurred_at AS DATE) AS day, target_iso3 AS target, {by} AS kind,
               count(*) AS n
        FROM {events_by_target_sql(where=f"{by} IS NOT NULL AND {counted_sql} "
                                        "AND occurred_at < ?")} AS t
        GROUP BY CAST(occurred_at AS DATE), target_iso3, {by}
        ORDER BY day, target, kind""", [before])


def latest_hostile_events_against(store: EventStore, target: str, *, levels: Sequence[str],
                                  before: date, limit: int) -> list[tuple]:
    """The latest hostile events naming ``target`` at the given TLP levels, before ``before``:
    ``(event_id, day, domain, label, url, tlp)``; the label is the title or says what it was
    (``model.event_titles``: a GDELT event's CAMEO action in words and its link's headline)."""
    rows = store._con.execute(f"""
        SELECT event_id, CAST(occurred_at AS DATE), domain, title, source, source_type,
               source_url, coalesce(tlp, 'clear')
        FROM events WHERE {names_target_sql()} AND {HOSTILE_SQL}
          AND coalesce(tlp, 'clear') IN (SELECT unnest(?)) AND occurred_at < ?
        ORDER BY occurred_at DESC, event_id LIMIT ?""",
        [target, list(levels), before, int(limit)]).fetchall()
    return [(event_id, day, domain,
             event_title(title=title, source=source, source_type=source_type, url=url),
             url, tlp)
            for event_id, day, domain, title, source, source_type, url, tlp in rows]


def events_with_ingest_time(store: EventStore, event_ids: Sequence[str],
                            columns: Sequence[str]) -> pa.Table:
    """The events with these ids (each once, in the order given), their ``columns`` and
    ``ingested_at``: when the file that brought them was ingested."""
    ids = pa.table({"event_id": pa.array(list(dict.fromkeys(event_ids)), pa.string())})
    selected = ", ".join(f"e.{_column(c)}" for c in columns)
    store._con.register("hybridwatch_event_ids", ids)
    try:
        return store._con.sql(
            f"SELECT {selected}, l.finished_at AS ingested_at FROM hybridwatch_event_ids i "
            "JOIN events e USING (event_id) "
            "LEFT JOIN ingest_log l ON l.ingest_id = e.ingest_id").to_arrow_table()
    finally:
        store._con.unregister("hybridwatch_event_ids")


def _column(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not a column name: {name!r}")
    return name


def actor_names(store: EventStore) -> list[dict[str, Any]]:
    """Distinct actor names of the events, with their count, up to five event ids and the most
    restricted TLP among them."""
    rows = store._con.execute("""
        SELECT actor_name, count(*) AS n, list(event_id ORDER BY occurred_at, event_id)[1:5],
               list(DISTINCT coalesce(tlp, 'clear'))
        FROM events WHERE actor_name IS NOT NULL AND trim(actor_name) <> ''
        GROUP BY actor_name ORDER BY actor_name""").fetchall()
    return [{"name": r[0], "evidence": {"events": r[1], "event_ids": r[2]},
             "tlp": most_restricted(r[3])} for r in rows]


def events_after(store: EventStore, where_sql: str, day: date, *, limit: int
                 ) -> tuple[int, list[tuple]]:
    """How many of the events ``where_sql`` selects are dated after ``day``, and the latest
    ``limit`` of them: ``(source, source_record_id, event_id, day)``."""
    condition = f"({where_sql}) AND CAST(occurred_at AS DATE) > ?"
    n = store._con.execute(f"SELECT count(*) FROM events WHERE {condition}", [day]
                          ).fetchall()[0][0]
    rows = store._con.execute(
        f"SELECT source, source_record_id, event_id, CAST(occurred_at AS DATE) FROM events "
        f"WHERE {condition} ORDER BY occurred_at DESC, source, source_record_id LIMIT ?",
        [day, int(limit)]).fetchall()
    return int(n), rows


def events_of_type(store: EventStore, source_type: str, *, limit: int | None = None
                   ) -> list[tuple]:
    """Events of one ``source_type``, oldest first: ``(event_id, title, occurred_at,
    source_url, extra)``."""
    sql = ("SELECT event_id, title, occurred_at, source_url, extra FROM events "
           "WHERE source_type = ? ORDER BY occurred_at, event_id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return store._con.execute(sql, [source_type]).fetchall()


def training_counts(store: EventStore, *, counted_sql: str, before: date,
                    targets: Sequence[str]) -> tuple[list[tuple], date | None]:
    """What a risk model read: events (``counted_sql``, with a domain, before ``before``) per
    target × domain × source with their first and last day, for ``targets``; and the first
    day of any such event."""
    relation = events_by_target_sql(where=f"{counted_sql} AND domain IS NOT NULL "
                                          "AND occurred_at < ?")
    rows = store._con.execute(f"""
        SELECT target_iso3, domain, source, count(*) AS n,
               min(CAST(occurred_at AS DATE)), max(CAST(occurred_at AS DATE))
        FROM {relation} WHERE target_iso3 IN (SELECT unnest(?))
        GROUP BY ALL""", [before, list(targets)]).fetchall()
    first = store._con.execute(f"SELECT min(CAST(occurred_at AS DATE)) FROM {relation}",
                              [before]).fetchall()[0][0]
    return rows, first

