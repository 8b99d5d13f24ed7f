"""The DuckDB event store: one file holding events, articles, quarantine and the ingest log."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from hybridwatch.errors import SelectorError, StoreError, StoreInUseError
from hybridwatch.model import gdelt_extra
from hybridwatch.model.hostility import HOSTILE_SQL
from hybridwatch.model.theatres import Theatre, find_theatre, load_theatres, theatre_tables
from hybridwatch.model.engine import check_engine, current_engine
from hybridwatch.store.event_summary import event_summary, filter_events
from hybridwatch.store.lake import Lake, is_lake
from hybridwatch.store.located import VIEW as located_view
from hybridwatch.store.located import LOCATED_SQL, event_days_sql
from hybridwatch.store.located import install as install_located
from hybridwatch.store.migrations import stored_version, version_problem
from hybridwatch.store.schema import STORE_SCHEMA_VERSION, create_tables
from hybridwatch.store.staging import remove_stale_staging
from hybridwatch.store.event_filter import EventFilter
from hybridwatch.store.event_counts import ensure_event_counts
from hybridwatch.store.source_days import ensure_source_days, read_source_days

DEFAULT_DB = "hybridwatch.duckdb"


def default_db_path() -> Path:
    """``$HYBRIDWATCH_DB`` if set, else ``./hybridwatch.duckdb``."""
    return Path(os.environ.get("HYBRIDWATCH_DB", DEFAULT_DB))


class EventStore:
    """An open store. Use as a context manager, or call ``close``.

    ``memory_limit`` caps DuckDB's own memory (it spills to disk beyond it), which keeps ingest of
    files of any size under a fixed footprint.
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False,
                 memory_limit: str = "500MB", theatres: str | Path | None = None,
                 engine: str | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._theatres_path = theatres
        self._theatres: tuple[Theatre, ...] | None = None
        self._located = False
        self._spark_views: dict[str, str] = {}
        self.engine = check_engine(engine) if engine else current_engine()
        self.lake: Lake | None = None
        if is_lake(self.path):
            self._open_lake(read_only, memory_limit)
            return
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no store here (run `hybridwatch ingest` or "
                             "`hybridwatch demo` first, or pass --db)")
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only,
                                      config={"memory_limit": memory_limit})
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise StoreInUseError(self.path, f"{self.path}: the store is in use by another "
                                      f"process ({text.splitlines()[0]})") from None
            raise StoreError(f"{self.path}: not a DuckDB store ({text.splitlines()[0]})") from None
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open store ({exc})") from None
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = false")  # progress is ours, on stderr
        self._prepare(read_only)
        if not read_only:  # we hold the write lock: no other process ingests into this store
            remove_stale_staging(self.path)

    def _open_lake(self, read_only: bool, memory_limit: str) -> None:
        """A Parquet lake folder (``store.lake``): its tables in an in-memory DuckDB."""
        self._con = duckdb.connect(":memory:", config={"memory_limit": memory_limit})
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = false")
        try:
            self.lake = Lake(self.path, self._con, read_only=read_only)
        except BaseException:
            self._con.close()
            raise

    def begin_append(self, *, replace: bool = False) -> None:
        """Before an ingest writes: a lake makes its events insertable (``Lake.begin_append``);
        a DuckDB store needs nothing."""
        if self.lake is not None:
            self.lake.begin_append(replace=replace)

    def end_append(self) -> None:
        """After an ingest committed: a lake writes the new rows as files (``Lake.flush``)."""
        if self.lake is not None:
            self.lake.flush()

    def _prepare(self, read_only: bool) -> None:
        tables = {row[0] for row in self._con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        if tables and "hybridwatch_meta" not in tables:
            self.close()
            raise StoreError(f"{self.path}: a DuckDB database, but not a hybridwatch store "
                             f"(tables: {', '.join(sorted(tables)[:6])}); pass another --db")
        if not tables and not read_only:
            create_tables(self._con)
            self._con.execute("INSERT INTO hybridwatch_meta VALUES ('schema_version', ?)",
                             [str(STORE_SCHEMA_VERSION)])
            ensure_source_days(self._con)
            ensure_event_counts(self._con)
            return
        problem = version_problem(self.path, stored_version(self._con))
        if problem:
            self.close()
            raise StoreError(problem)
        if not read_only:  # the GDELT view (migrated stores lack it); derived tables changed
            # by other routes (a Parquet import) are recounted
            self._con.execute(gdelt_extra.typed_view_sql())
            ensure_source_days(self._con)
            ensure_event_counts(self._con)

    def has_table(self, name: str) -> bool:
        return bool(self._con.execute("SELECT count(*) FROM information_schema.tables "
                                     "WHERE table_name = ?", [name]).fetchall()[0][0])

    def version(self) -> tuple[Any, ...]:
        """What changes when events or findings change: the ingest log, the finding runs (and
        their pins) and the analyst reviews (a cache key for views computed from them)."""
        ingests = self._con.execute("SELECT count(*), max(ingest_id) FROM ingest_log"
                                   ).fetchall()[0]
        # pins too: pinning changes which run readers use
        runs = self._con.execute("SELECT string_agg(run_id || ':' || pinned, ',' "
                                "ORDER BY run_id) FROM finding_runs").fetchall()[0][0] \
            if self.has_table("finding_runs") else None
        reviews = self._con.execute("SELECT count(*) FROM finding_reviews").fetchall()[0][0] \
            if self.has_table("finding_reviews") else 0
        return (*ingests, runs, reviews)

    def cursor_pool(self, *, keep: int = 40) -> Any:
        """A ``store.cursors.CursorPool`` of this store's connection (for the server's threads)."""
        from hybridwatch.store.cursors import CursorPool

        return CursorPool(self._con, keep=keep)

    def cursor_store(self, *, lazy: bool = False, audit_sink: Any = None,
                     pool: Any = None) -> EventStore:
        """This store on a new cursor of its connection, for another thread; the caller closes
        it. ``lazy``: the cursor opens on first use, borrowed from ``pool`` (a
        ``store.cursors.CursorPool``) when given (see ``store.cursors``)."""
        from hybridwatch.store.cursors import CursorStore, LazyCursorStore, utc_cursor

        if lazy:
            return LazyCursorStore(self, audit_sink, pool)
        return CursorStore(self, utc_cursor(self._con), audit_sink)

    def close(self) -> None:
        try:
            if self.lake is not None:
                self.lake.close()
        finally:
            self._con.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- queries -------------------------------------------------------------------------------

    def events(self, where: EventFilter = EventFilter(), *, limit: int | None = 100,
               offset: int = 0, columns: Sequence[str] | None = None) -> pa.Table:
        """Events matching ``where``, oldest first, as an Arrow table (on the store's engine)."""
        table = filter_events(self.ibis_events(), where)
        table = table.select(*columns) if columns else table.drop("ingest_id")
        table = table.order_by(["occurred_at", "event_id"])
        # the offset is applied here: Ibis's OFFSET on PySpark leaks its row-number column
        if limit is not None:
            table = table.limit(int(limit) + int(offset))
        return self.with_side_extra(table.to_pyarrow().slice(int(offset)))

    def with_side_extra(self, table: pa.Table) -> pa.Table:
        """``table`` (events) with ``extra`` filled in for GDELT events whose unmapped columns
        live in the side table (``model.gdelt_extra``): the JSON object they were read as."""
        if "extra" not in table.column_names or "event_id" not in table.column_names \
                or self.lake is not None or not table.num_rows:
            return table
        extra = table.column("extra")
        if extra.null_count == 0:
            return table
        found = dict(self._con.execute(
            f"SELECT x.event_id, {gdelt_extra.extra_json_sql('x')} FROM {gdelt_extra.TABLE} x "
            "WHERE x.event_id IN (SELECT unnest(?))",
            [table.column("event_id").to_pylist()]).fetchall())
        if not found:
            return table
        filled = [value if value is not None else found.get(event_id)
                  for event_id, value in zip(table.column("event_id").to_pylist(),
                                             extra.to_pylist())]
        return table.set_column(table.column_names.index("extra"), "extra",
                                pa.array(filled, pa.string()))

    def count_events(self, where: EventFilter = EventFilter()) -> int:
        return int(filter_events(self.ibis_events(), where).count().to_pyarrow().as_py())

    def count_events_by_source_record(self, record_ids: Sequence[str]) -> int:
        """How many stored events carry one of these source record ids."""
        return self._con.execute(
            "SELECT count(*) FROM events WHERE source_record_id IN (SELECT unnest(?))",
            [list(record_ids)]).fetchall()[0][0]

    def stats(self) -> dict[str, Any]:
        """Counts of everything in the store, by domain, source and target, and its time span;
        the events' part runs on the store's engine (``store.event_summary``)."""
        events = event_summary(self.ibis_events())
        articles, quarantined, files = self._con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM quarantine), "
            "(SELECT count(*) FROM ingest_log)").fetchall()[0]
        return {
            "db": str(self.path), "events": events["events"], "articles": articles,
            "quarantined": quarantined, "files_ingested": files,
            "first_event": events["first_event"], "last_event": events["last_event"],
            "by_domain": events["by_domain"], "by_source": events["by_source"],
            "by_target": events["by_target"],
            "trade_flows": self._con.execute("SELECT count(*) FROM trade_flows").fetchall()[0][0]
            if self.has_table("trade_flows") else 0,
        }

    def quarantine(self, *, limit: int | None = None) -> pa.Table:
        # ids of this version are '<ingest_id>:<position>': order by the position they number
        sql = ("SELECT ingest_id, TRY_CAST(split_part(rejection_id, ':', 2) AS BIGINT) AS "
               "position, path, format, line, record, field, reason, raw, quarantined_at "
               "FROM quarantine ORDER BY ingest_id, position NULLS LAST, line, record")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._con.sql(sql).to_arrow_table()

    def ingest_log(self) -> pa.Table:
        return self._con.sql("SELECT * FROM ingest_log ORDER BY ingest_id").to_arrow_table()

    def source_days(self, kind: str = "events") -> pa.Table:
        """Records per source (``kind='events'``) or outlet (``'articles'``) and UTC day:
        ``source``, ``day``, ``records``, ordered by source and day."""
        run = self.engine_sql if self.engine == "spark" and kind == "events" else None
        return read_source_days(self._con, kind, run=run)

    def ibis_events(self, *, located: bool = False):
        """The events table as an Ibis expression on this connection (for portable aggregations).

        ``located=True`` gives the ``located_events`` view instead: every event column plus
        ``theatre``, ``wheres`` and ``where_kind`` (``store.located``)."""
        import ibis

        if self.engine == "spark":
            from hybridwatch.store.spark import table

            return table(self.spark_views(located=located)[located_view if located
                                                           else "events"])
        if located:
            self._install_located()
        return ibis.duckdb.from_connection(self._con).table(
            located_view if located else "events")

    def spark_events(self):
        """The events as an Ibis table on Spark (``store.spark``); the store must be a lake."""
        from hybridwatch.store.spark import table

        return table(self.spark_views()["events"])

    def spark_views(self, *, located: bool = False) -> dict[str, str]:
        """The Spark temp views of this store, by the table names its DuckDB SQL uses:
        ``events`` (the lake's listed files) and, with ``located``, the theatre tables and
        ``located_events`` (``store.located.LOCATED_SQL`` run on Spark)."""
        if self.lake is None:
            raise StoreError(f"{self.path}: --engine spark reads a Parquet lake, not a DuckDB "
                             "file: write one with `hybridwatch export --parquet DIR` and pass "
                             "--db DIR")
        from hybridwatch.store import spark

        if "events" not in self._spark_views:
            empty = self._con.sql("SELECT * FROM events LIMIT 0").to_arrow_table()
            paths = [spark.lake_uri(p, self.lake.directory) for p in self.lake.event_paths()]
            self._spark_views["events"] = spark.events_view(paths, empty)
        if located and located_view not in self._spark_views:
            views = dict(self._spark_views)
            for name, theatre_table in theatre_tables(self.theatres).items():
                views[name] = spark.register_arrow(theatre_table, f"hybridwatch_{name}")
            name = f"hybridwatch_located_{len(views)}_{id(self)}"
            spark.duckdb_sql_on_spark(LOCATED_SQL, tables=views).createOrReplaceTempView(name)
            self._spark_views.update({**views, located_view: name})
        return self._spark_views

    def engine_sql(self, sql: str, params: Sequence[Any] = (), *, located: bool = False,
                   tables: dict[str, pa.Table] | None = None) -> pa.Table:
        """Run one of the store's DuckDB queries over the events on the store's engine, as an
        Arrow table: on DuckDB as written; on Spark transpiled (``store.spark``), reading the
        lake's files. ``located`` makes ``located_events`` available; ``tables`` are small
        Arrow tables the query joins, by name."""
        tables = tables or {}
        if self.engine == "spark":
            from hybridwatch.store import spark

            views = dict(self.spark_views(located=located))
            views.update({name: spark.register_arrow(t, f"hybridwatch_{name}")
                          for name, t in tables.items()})
            return spark.duckdb_sql_on_spark(sql, params, tables=views).toArrow()
        if located:
            self._install_located()
        for name, t in tables.items():
            self._con.register(name, t)
        try:
            return self._con.sql(sql, params=list(params)).to_arrow_table()  # no DB-API copy
        finally:
            for name in tables:
                self._con.unregister(name)

    # -- theatres and "where" ------------------------------------------------------------------

    @property
    def theatres(self) -> tuple[Theatre, ...]:
        """The theatre table of this store: shipped, overridden by ``theatres=`` or
        ``$HYBRIDWATCH_THEATRES``."""
        if self._theatres is None:
            self._theatres = load_theatres(self._theatres_path)
        return self._theatres

    def use_theatres(self, path: str | Path | None) -> None:
        """Switch to the theatre table of ``path`` (None: shipped + ``$HYBRIDWATCH_THEATRES``)."""
        self._theatres_path, self._theatres, self._located = path, None, False
        for name in (located_view, "theatre_boxes", "theatre_edges", "theatre_aliases"):
            self._spark_views.pop(name, None)

    def check_theatres(self, names: Sequence[str]) -> list[str]:
        """The theatres' canonical names; ``SelectorError`` naming the known ones otherwise."""
        try:
            return [find_theatre(self.theatres, name).name for name in names]
        except ValueError as exc:
            raise SelectorError(str(exc)) from None

    def _install_located(self) -> None:
        if not self._located:
            install_located(self._con, self.theatres)
            self._located = True

    def where_day_counts(self, selected_sql: str, *, spread_days: int,
                         hostile_only: bool) -> pa.Table:
        """Events per ``day, where_name, where_kind, domain`` (``n_events``) of the events that
        ``selected_sql`` (a SELECT over ``located_events``) returns; see
        ``located.event_days_sql`` for how events with an end are spread over days. Runs on
        the store's engine (``engine_sql``)."""
        days = event_days_sql(selected_sql, spread_days=spread_days,
                              hostile_sql=HOSTILE_SQL if hostile_only else None)
        return self.engine_sql(
            f"SELECT day, where_name, where_kind, domain, count(*) AS n_events FROM ({days}) "
            "GROUP BY day, where_name, where_kind, domain "
            "ORDER BY day, where_name, where_kind, domain", located=True)

    def where_day_event_ids(self, selected_sql: str, cells: pa.Table, *, spread_days: int,
                            hostile_only: bool) -> dict[int, list[str]]:
        """Ids of the events counted on the ``cells`` (columns ``group``, ``day``,
        ``where_name``, ``domain``) by ``where_day_counts`` with the same arguments, per group
        (e.g. one group per episode), in time order; one query for every group, on the
        store's engine."""
        days = event_days_sql(selected_sql, spread_days=spread_days,
                              hostile_sql=HOSTILE_SQL if hostile_only else None)
        rows = self.engine_sql(f"""
            SELECT DISTINCT c."group" AS grp, d.event_id, e.occurred_at FROM ({days}) d
            JOIN hw_cells c ON c.day = d.day AND c.where_name = d.where_name
                            AND c.domain = d.domain
            JOIN events e ON e.event_id = d.event_id
            ORDER BY grp, e.occurred_at, d.event_id""", located=True,
                               tables={"hw_cells": cells})
        found: dict[int, list[str]] = {}
        for group, event_id in zip(rows["grp"].to_pylist(), rows["event_id"].to_pylist()):
            found.setdefault(group, []).append(event_id)
        return found

    # -- Parquet -------------------------------------------------------------------------------

    def export_parquet(self, directory: str | Path) -> dict[str, Any]:
        """Every table but the API tokens to ``DIR/<table>.parquet``, with ``manifest.json``
        (see ``store.parquet_io``)."""
        from hybridwatch.store.parquet_io import export_parquet

        if self.lake is not None:
            raise StoreError(f"{self.path}: already a Parquet lake (the layout an export "
                             "writes): copy the folder")
        return export_parquet(self._con, directory)

    def import_parquet(self, directory: str | Path) -> dict[str, int]:
        """Restore an ``export_parquet`` folder into this new or empty store, in one
        transaction; ``StoreError`` for another schema version or a store holding data."""
        from hybridwatch.store.parquet_io import import_parquet

        added = import_parquet(self._con, directory)
        ensure_source_days(self._con)   # derived: rebuilt from the imported rows
        ensure_event_counts(self._con)
        return added
