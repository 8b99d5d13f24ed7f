"""Pre-aggregated daily event counts: events per UTC day, domain, source, target list and TLP
level (``event_day_counts``, DDL in ``store.schema``).

The API's series, totals and per-value counts read this table instead of the events: a few
rows a day per combination instead of every event. TLP is a key column, so a reader's
clearance applies to it exactly as to the events (``model.tlp.readable_sql`` runs on it
unchanged); the target *list* is a key too, so an event counts once in a total and once per
target it names when exploded (``model.targets.events_by_target_sql``).

Kept current in SQL inside the ingest's transaction, never by a Python loop: an ingest notes the
days whose events may change before it changes them (stored events a later version replaces or
re-marks: ``note_changing_events``, called by ``store.versions``), and after the insert
``refresh_after_ingest`` recomputes those days and the days of the rows it inserted from the
events themselves. An ingest that removes earlier ingests (``--replace``) rebuilds the table.
A store written before the table existed, or changed by another route (a Parquet import, SQL
by hand), is rebuilt when opened read-write (``ensure_event_counts``: the counts must add up to
the events).
"""

from __future__ import annotations

from datetime import timedelta

import duckdb

from hybridwatch.store.schema import EVENT_DAY_COUNTS_DDL

TABLE = "event_day_counts"
#: Days an ingest noted for recomputation (a temporary table of the ingest's connection).
_DAYS = "_hw_count_days"
_AGGREGATE = ("SELECT CAST(occurred_at AS DATE) AS day, domain, source, target_iso3s, tlp, "
              "count(*) AS n_events, sum(intensity) AS intensity FROM events WHERE {where} "
              "GROUP BY ALL")


def has_event_counts(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = ? AND table_type = 'BASE TABLE' "
                            "AND table_schema = current_schema()", [TABLE]).fetchall()[0][0])


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the table exists and adds up to the events (a cheap check that catches stores
    written before the table existed and rows added or removed by other routes)."""
    if not has_event_counts(con):
        return False
    held, events = con.execute(f"SELECT (SELECT coalesce(sum(n_events), 0) FROM {TABLE}), "
                               "(SELECT count(*) FROM events)").fetchall()[0]
    return held == events


def ensure_event_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Create the table if needed and rebuild it when it does not add up (read-write stores)."""
    con.execute(EVENT_DAY_COUNTS_DDL)
    if not is_current(con):
        rebuild_event_counts(con)


def rebuild_event_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the whole table from the events (inside the caller's transaction if one is
    open), sorted by domain and day so filters on them skip most of it by zonemap."""
    con.execute(EVENT_DAY_COUNTS_DDL)
    con.execute(f"DELETE FROM {TABLE}")
    con.execute(f"INSERT INTO {TABLE} {_AGGREGATE.format(where='TRUE')} "
                "ORDER BY domain, day, source")
    con.execute(f"DROP TABLE IF EXISTS {_DAYS}")


def note_changing_events(con: duckdb.DuckDBPyConnection, event_ids_sql: str) -> None:
    """Before stored events are deleted or re-marked: note their days for recomputation.
    ``event_ids_sql`` is a SELECT of one column of event ids."""
    if not has_event_counts(con):
        return
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_DAYS} (day DATE)")
    con.execute(f"INSERT INTO {_DAYS} SELECT DISTINCT CAST(occurred_at AS DATE) FROM events "
                f"WHERE event_id IN ({event_ids_sql})")


def refresh_after_ingest(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """After an ingest inserted its rows (same transaction): recompute the counts of every day
    it touched — the days of its rows and the days noted by ``note_changing_events``."""
    if not has_event_counts(con):
        return
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_DAYS} (day DATE)")
    con.execute(f"INSERT INTO {_DAYS} SELECT DISTINCT CAST(occurred_at AS DATE) FROM events "
                "WHERE ingest_id = ?", [int(ingest_id)])
    first, last = con.execute(f"SELECT min(day), max(day) FROM {_DAYS}").fetchall()[0]
    if first is not None:
        con.execute(f"DELETE FROM {TABLE} WHERE day IN (SELECT day FROM {_DAYS})")
        # the time bounds let the scan skip row groups by their occurred_at zonemaps
        where = (f"occurred_at >= ? AND occurred_at < ? AND CAST(occurred_at AS DATE) IN "
                 f"(SELECT day FROM {_DAYS})")
        con.execute(f"INSERT INTO {TABLE} {_AGGREGATE.format(where=where)}",
                    [first, last + timedelta(days=1)])
    con.execute(f"DROP TABLE IF EXISTS {_DAYS}")
