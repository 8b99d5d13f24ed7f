"""Named reads over ``events`` for the workflows, outputs and web views that need more than
``EventStore.events``/``count_events``: each query has a name saying what it answers, so no
module outside the store writes SQL against its tables.

Conditions that carry domain rules (hostility, "names this target") come from ``model`` as SQL
fragments; the store only composes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from hybridwatch.model.hostility import COOPERATIVE_SQL, HOSTILE_SQL
from hybridwatch.model.targets import events_by_target_sql, names_target_sql
from hybridwatch.model.tlp import most_restricted
from hybridwatch.store.store import EventStore


def source_counts(store: EventStore, where_sql: str = "TRUE",
                  params: Sequence[Any] = ()) -> dict[str, int]:
    """Events per source among those a SQL condition selects."""
    return dict(store.con.execute(f"SELECT source, count(*) FROM events WHERE {where_sql} "
                                  "GROUP BY source", list(params)).fetchall())


def event_span(store: EventStore, where_sql: str = "TRUE") -> tuple[date | None, date | None]:
    """First and last day of the events a SQL condition selects (None, None when none)."""
    first, last = store.con.execute(
        f"SELECT CAST(min(occurred_at) AS DATE), CAST(max(occurred_at) AS DATE) FROM events "
        f"WHERE {where_sql}").fetchall()[0]
    return first, last


def months_with_events(store: EventStore) -> list[datetime]:
    """The months (first instant) in which the store holds any event."""
    return [row[0] for row in store.con.execute(
        "SELECT DISTINCT date_trunc('month', occurred_at) FROM events").fetchall()]


def hostile_actors_of(store: EventStore, event_ids: Sequence[str]) -> set[str]:
    """Actor countries of the hostile events among ``event_ids``."""
    return {row[0] for row in store.con.execute(
        f"SELECT DISTINCT actor_iso3 FROM events WHERE event_id IN (SELECT unnest(?)) "
        f"AND {HOSTILE_SQL}", [list(event_ids)]).fetchall()}


def daily_cooperation(store: EventStore, a: str, b: str, *, source: str = "gdelt"
                      ) -> list[tuple[date, float, int]]:
    """Per day of ``source``: the Goldstein weight of cooperative events between ``a`` and
    ``b`` (either direction) and the count of all the source's events that day."""
    return store.con.execute(f"""
        SELECT CAST(occurred_at AS DATE) AS day,
               sum(CASE WHEN {COOPERATIVE_SQL} AND ((actor_iso3 = ? AND {names_target_sql()})
                         OR (actor_iso3 = ? AND {names_target_sql()}))
                        THEN greatest(coalesce(intensity, 0), 0) ELSE 0 END),
               count(*)
        FROM events WHERE source = ? GROUP BY day ORDER BY day""", [a, b, b, a, source]
    ).fetchall()


def monthly_trade_event_values(store: EventStore, a: str, b: str
                               ) -> list[tuple[datetime, float]]:
    """Declared trade value (USD) of trade events between ``a`` and ``b`` per month (events of
    the deprecated ``comtrade_trade`` mapping)."""
    return store.con.execute(f"""
        SELECT date_trunc('month', occurred_at), sum(intensity) FROM events
        WHERE intensity_kind = 'trade_value_usd' AND ((actor_iso3 = ? AND {names_target_sql()})
              OR (actor_iso3 = ? AND {names_target_sql()})) GROUP BY 1""", [a, b, b, a]
    ).fetchall()


def daily_target_counts(store: EventStore, *, by: str, counted_sql: str,
                        before: date) -> pa.Table:
    """Events per day × target × ``by`` (a column: domain or target_sector) before ``before``,
    counting the events ``counted_sql`` selects; non-empty cells only."""
    if by not in ("domain", "target_sector"):
        raise ValueError(f"cannot count events by {by!r}")
    return store.con.sql(f"""
        SELECT CAST(occurred_at AS DATE) AS day, target_iso3 AS target, {by} AS kind,
               count(*) AS n
        FROM {events_by_target_sql(where=f"{by} IS NOT NULL AND {counted_sql} "
                                        "AND occurred_at < ?")}
        GROUP BY ALL""", params=[before]).to_arrow_table()


def latest_hostile_events_against(store: EventStore, target: str, *, levels: Sequence[str],
                                  before: date, limit: int) -> list[tuple]:
    """The latest hostile events naming ``target`` at the given TLP levels, before ``before``:
    ``(event_id, day, domain, label, url, tlp)``; the label is the title or says what it was."""
    return store.con.execute(f"""
        SELECT event_id, CAST(occurred_at AS DATE), domain,
               coalesce(title, domain || ' event' || coalesce(' by ' || actor_iso3, '')
                        || ' (' || coalesce(source_name, source) || ')'),
               source_url, coalesce(tlp, 'clear')
        FROM events WHERE {names_target_sql()} AND {HOSTILE_SQL}
          AND coalesce(tlp, 'clear') IN (SELECT unnest(?)) AND occurred_at < ?
        ORDER BY occurred_at DESC LIMIT ?""",
        [target, list(levels), before, int(limit)]).fetchall()


def events_with_ingest_time(store: EventStore, event_ids: Sequence[str],
                            columns: Sequence[str]) -> pa.Table:
    """The events with these ids (each once, in the order given), their ``columns`` and
    ``ingested_at``: when the file that brought them was ingested."""
    ids = pa.table({"event_id": pa.array(list(dict.fromkeys(event_ids)), pa.string())})
    selected = ", ".join(f"e.{_column(c)}" for c in columns)
    store.con.register("hybridwatch_event_ids", ids)
    try:
        return store.con.sql(
            f"SELECT {selected}, l.finished_at AS ingested_at FROM hybridwatch_event_ids i "
            "JOIN events e USING (event_id) "
            "LEFT JOIN ingest_log l ON l.ingest_id = e.ingest_id").to_arrow_table()
    finally:
        store.con.unregister("hybridwatch_event_ids")


def _column(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not a column name: {name!r}")
    return name


def actor_names(store: EventStore) -> list[dict[str, Any]]:
    """Distinct actor names of the events, with their count, up to five event ids and the most
    restricted TLP among them."""
    rows = store.con.execute("""
        SELECT actor_name, count(*) AS n, list(event_id ORDER BY occurred_at, event_id)[1:5],
               list(DISTINCT coalesce(tlp, 'clear'))
        FROM events WHERE actor_name IS NOT NULL AND trim(actor_name) <> ''
        GROUP BY actor_name ORDER BY actor_name""").fetchall()
    return [{"name": r[0], "evidence": {"events": r[1], "event_ids": r[2]},
             "tlp": most_restricted(r[3])} for r in rows]


@dataclass(frozen=True)
class TailCut:
    """Per source, the last day before its coverage outlier tail; the outliers themselves."""

    dense_last: dict[str, date]
    latest: date | None                # the latest selected event, outliers included
    n_outliers: int
    listed: list[tuple]                # (source, source_record_id, event_id, day, after_ingest)


def coverage_tail_cut(store: EventStore, where_sql: str, *, min_source_days: int,
                      min_gap_days: int, gap_factor: float, max_tail_share: float,
                      n_listed: int) -> TailCut:
    """Cut each source's *coverage outlier tail* among the events ``where_sql`` selects.

    Per source: records dated after the day they were ingested are outliers; of the rest, the
    distinct days are scanned for the first gap longer than ``min_gap_days`` and
    ``gap_factor`` × the source's 90th-percentile gap after which at most ``max_tail_share``
    of its records remain — those records are the tail (sources with fewer than
    ``min_source_days`` days are taken as they are).
    """
    con = store.con
    records = f"""records AS (
        SELECT e.source, e.event_id, e.source_record_id, CAST(e.occurred_at AS DATE) AS day,
               coalesce(CAST(e.occurred_at AS DATE) > CAST(l.started_at AS DATE), false)
                 AS after_ingest
        FROM (SELECT * FROM events WHERE {where_sql}) e
        LEFT JOIN ingest_log l ON e.ingest_id = l.ingest_id)"""
    ends = con.execute(f"""
        WITH {records},
        days AS (
          SELECT source, day, count(*) AS n FROM records WHERE NOT after_ingest GROUP BY ALL),
        gaps AS (
          SELECT source, day, n,
                 day - lag(day) OVER (PARTITION BY source ORDER BY day) AS gap,
                 sum(n) OVER (PARTITION BY source ORDER BY day DESC) AS tail,
                 sum(n) OVER (PARTITION BY source) AS total,
                 count(*) OVER (PARTITION BY source) AS n_days
          FROM days),
        typical AS (SELECT source, quantile_cont(gap, 0.9) AS p90 FROM gaps GROUP BY source),
        cuts AS (
          SELECT g.source, min(g.day) AS tail_start FROM gaps g JOIN typical t USING (source)
          WHERE g.n_days >= ? AND g.gap > greatest(?, ? * t.p90) AND g.tail <= ? * g.total
          GROUP BY g.source)
        SELECT g.source, max(g.day) FILTER (WHERE c.tail_start IS NULL OR g.day < c.tail_start)
        FROM gaps g LEFT JOIN cuts c USING (source) GROUP BY g.source
        """, [min_source_days, min_gap_days, gap_factor, max_tail_share]).fetchall()
    dense_last = dict(ends)
    latest = con.execute(f"SELECT CAST(max(occurred_at) AS DATE) FROM events WHERE {where_sql}"
                         ).fetchall()[0][0]
    outlier_sql = f"""WITH {records} SELECT {{}} FROM records r
        LEFT JOIN hybridwatch_as_of_dense d USING (source)
        WHERE r.after_ingest OR d.dense_last IS NULL OR r.day > d.dense_last"""
    con.register("hybridwatch_as_of_dense", pa.table({
        "source": pa.array(list(dense_last), pa.string()),
        "dense_last": pa.array(list(dense_last.values()), pa.date32())}))
    try:
        n_outliers = con.execute(outlier_sql.format("count(*)")).fetchall()[0][0]
        listed = con.execute(outlier_sql.format(
            "r.source, r.source_record_id, r.event_id, r.day, r.after_ingest")
            + " ORDER BY r.day DESC, r.source, r.source_record_id LIMIT ?",
            [n_listed]).fetchall()
    finally:
        con.unregister("hybridwatch_as_of_dense")
    return TailCut(dense_last, latest, int(n_outliers), listed)
