"""Records per source and day: the table behind every coverage question.

``source_days`` holds, per ``kind`` (``events``: the event's ``source``; ``articles``: the
article's ``outlet``) and UTC day, how many records the store holds. Ingest adds the aggregate of
the rows it inserted (one SQL statement, no Python loop); a store written before the table existed
(or changed by another route, e.g. a Parquet import) is rebuilt from its rows when it is opened
read-write, and read-only readers aggregate on the fly when the table is missing or stale.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from hybridwatch.store.schema import SOURCE_DAYS_DDL


#: The aggregate of each table, with a filter placeholder for one ingest.
_AGGREGATES = {
    "events": "SELECT 'events' AS kind, source, CAST(occurred_at AS DATE) AS day, "
              "count(*) AS records FROM events WHERE {where} GROUP BY ALL",
    "articles": "SELECT 'articles' AS kind, coalesce(outlet, source) AS source, "
                "CAST(published_at AS DATE) AS day, count(*) AS records FROM articles "
                "WHERE {where} GROUP BY ALL",
}


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = 'source_days'").fetchall()[0][0])


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the table exists and adds up to the rows of events and articles (a cheap check
    that catches stores written before the table existed and rows added by other routes)."""
    if not _exists(con):
        return False
    events_held, events, articles_held, articles = con.execute(
        "SELECT (SELECT coalesce(sum(records), 0) FROM source_days WHERE kind = 'events'), "
        "(SELECT count(*) FROM events), "
        "(SELECT coalesce(sum(records), 0) FROM source_days WHERE kind = 'articles'), "
        "(SELECT count(*) FROM articles)").fetchall()[0]
    return events_held == events and articles_held == articles


def ensure_source_days(con: duckdb.DuckDBPyConnection) -> None:
    """Create the table if needed and rebuild it when it does not match the rows (read-write)."""
    con.execute(SOURCE_DAYS_DDL)
    if not is_current(con):
        rebuild_source_days(con)


def rebuild_source_days(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the whole table from events and articles (inside the caller's transaction if
    one is open)."""
    con.execute(SOURCE_DAYS_DDL)
    con.execute("DELETE FROM source_days")
    for sql in _AGGREGATES.values():
        con.execute(f"INSERT INTO source_days {sql.format(where='TRUE')}")


def add_ingest(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """Add the records one ingest inserted (call inside the ingest's transaction)."""
    con.execute(SOURCE_DAYS_DDL)
    for sql in _AGGREGATES.values():
        con.execute(
            f"INSERT INTO source_days {sql.format(where=f'ingest_id = {int(ingest_id)}')} "
            "ON CONFLICT (kind, source, day) DO UPDATE SET records = records + EXCLUDED.records")


def read_source_days(con: duckdb.DuckDBPyConnection, kind: str = "events", *,
                     run: Callable[[str], pa.Table] | None = None) -> pa.Table:
    """``source``, ``day``, ``records`` of ``kind`` ('events' or 'articles'), ordered; computed
    from the rows when the table is missing or stale (read-only stores), by ``run`` when given
    (the store's engine: ``EventStore.engine_sql``)."""
    if kind not in _AGGREGATES:
        raise ValueError(f"kind must be one of {', '.join(_AGGREGATES)}")
    if is_current(con):
        sql = "SELECT source, day, records FROM source_days WHERE kind = ?"
        return con.sql(f"{sql} ORDER BY source, day", params=[kind]).to_arrow_table()
    sql = _AGGREGATES[kind].format(where="TRUE")
    sql = f"SELECT source, day, records FROM ({sql}) AS a ORDER BY source, day"
    return run(sql) if run is not None else con.sql(sql).to_arrow_table()
