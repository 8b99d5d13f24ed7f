"""A Parquet lake as a store: the folder ``hybridwatch export --parquet DIR`` writes.

Layout: ``DIR/manifest.json`` (schema version; per table its file, rows and DDL), one
``DIR/<table>.parquet`` per small table (articles, quarantine, ingest log, findings …) and the
events partitioned by source and year, ``DIR/events/source=S/year=Y/part-<uuid>.parquet``. Each
event file holds every event column (``source`` too) plus ``year``; the manifest lists the event
files, so a reader takes exactly the files of finished writes (a killed append leaves files the
manifest does not name, and they are never read). Both engines read the listed files by their
columns, never by the partition values in the paths.

Opened as a store (``EventStore(DIR)``) the lake lives in an in-memory DuckDB: the small tables
are loaded, ``events`` is a view over the listed files. An ingest (``begin_append``) swaps that
view for a table holding the lake's event ids (enough for ingest's first-wins dedupe, see
``store.ingest``) plus the new rows; ``flush`` writes the new rows as new files in their
partitions, rewrites the small tables and then the manifest, and puts the view back. A lock file
keeps two writers apart (DuckDB's own file lock does the same for a store file).
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from hybridwatch import __version__
from hybridwatch.errors import StoreError
from hybridwatch.model import gdelt_extra
from hybridwatch.store.schema import META_DDL, STORE_SCHEMA_VERSION, create_tables

MANIFEST = "manifest.json"
EXPORT_FORMAT = "hybridwatch-parquet-export"
EVENTS = "events"
#: Partition columns of the events, in path order.
PARTITIONING = ("source", "year")
LOCK = ".hybridwatch-lake.lock"


def is_lake(path: str | Path) -> bool:
    """A ``--db`` that is a folder is a lake (an empty folder: a new one)."""
    return Path(path).is_dir()


def quoted(path: str | Path) -> str:
    return str(path).replace("'", "''")


def write_events(con: duckdb.DuckDBPyConnection, directory: Path, where: str = "TRUE"
                 ) -> tuple[int, list[str]]:
    """Append the events matching ``where`` to ``directory/events`` as new files partitioned by
    source and year; returns the rows written and the new files, relative to ``directory``."""
    out = directory / EVENTS
    out.mkdir(parents=True, exist_ok=True)
    # GDELT's unmapped columns go back into ``extra`` (a lake has no side table)
    side = con.execute("SELECT count(*) FROM information_schema.tables "
                       f"WHERE table_name = '{gdelt_extra.TABLE}'").fetchall()[0][0]
    relation = (f"(SELECT e.* REPLACE ({gdelt_extra.merged_extra_sql('e', 'x')} AS extra) "
                f"FROM events e LEFT JOIN {gdelt_extra.TABLE} x ON x.event_id = e.event_id)"
                if side else "events")
    rows, files = con.execute(
        f"COPY (SELECT *, CAST(year(occurred_at) AS BIGINT) AS year FROM {relation} "
        f"WHERE {where}) "
        f"TO '{quoted(out)}' (FORMAT parquet, COMPRESSION zstd, "
        f"PARTITION_BY ({', '.join(PARTITIONING)}), WRITE_PARTITION_COLUMNS true, "
        "FILENAME_PATTERN 'part-{uuid}', RETURN_FILES true, APPEND true)").fetchall()[0]
    return rows, sorted(str(Path(f).relative_to(directory)) for f in files)


def event_files(directory: Path, entry: dict[str, Any]) -> list[Path]:
    """The event files of a manifest entry: the listed partition files, or the single file of
    an export written before events were partitioned."""
    if "files" in entry:
        return [directory / f for f in entry["files"]]
    return [directory / entry["file"]]


def events_relation(directory: Path, entry: dict[str, Any]) -> str | None:
    """A DuckDB relation of the lake's events with exactly the event columns (None: no files)."""
    files = event_files(directory, entry)
    if not files:
        return None
    listed = ", ".join(f"'{quoted(f)}'" for f in files)
    drop = " EXCLUDE (year)" if "files" in entry else ""
    return f"(SELECT *{drop} FROM read_parquet([{listed}], union_by_name = true))"


def write_manifest(directory: Path, entries: list[dict[str, Any]], not_exported: list[str]
                   ) -> Path:
    """Write the manifest last and atomically: a folder without one is an unfinished export."""
    manifest = {"format": EXPORT_FORMAT, "schema_version": STORE_SCHEMA_VERSION,
                "hybridwatch_version": __version__,
                "exported_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "not_exported": not_exported, "tables": entries}
    partial = directory / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, directory / MANIFEST)
    return directory / MANIFEST


class Lake:
    """A lake opened on an in-memory DuckDB connection (see the module docstring)."""

    def __init__(self, directory: Path, con: duckdb.DuckDBPyConnection, *,
                 read_only: bool) -> None:
        from hybridwatch.store.parquet_io import read_manifest

        self.directory, self._con, self.read_only = directory, con, read_only
        self._lock = None
        if not read_only:
            self._lock = open(directory / LOCK, "w")
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._lock.close()
                raise StoreError(f"{directory}: the lake is in use by another writer") from None
        self.manifest = read_manifest(directory) if (directory / MANIFEST).exists() else None
        if self.manifest is None:
            if read_only:
                raise StoreError(f"{directory}: not a hybridwatch lake (no {MANIFEST}; write "
                                 "one with `hybridwatch export --parquet DIR` or ingest with "
                                 "--db DIR)")
            self._create()
        else:
            self._load()
        self.appending = False

    # -- open ----------------------------------------------------------------------------------

    def _create(self) -> None:
        """A new lake: the store's tables, empty; events listed with no files yet."""
        create_tables(self._con)
        self._con.execute("INSERT INTO hybridwatch_meta VALUES ('schema_version', ?)",
                         [str(STORE_SCHEMA_VERSION)])
        ddl = self._con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'events'"
                               ).fetchall()[0][0]
        self.events_entry = {"table": EVENTS, "file": EVENTS, "files": [], "rows": 0,
                             "ddl": ddl, "partitioning": list(PARTITIONING)}
        self._con.execute("DROP TABLE events")
        self._events_view()

    def _load(self) -> None:
        self._con.execute(META_DDL)
        self._con.execute("INSERT INTO hybridwatch_meta VALUES ('schema_version', ?)",
                         [str(STORE_SCHEMA_VERSION)])
        for entry in self.manifest["tables"]:
            if entry["table"] == EVENTS:
                self.events_entry = dict(entry)
                continue
            self._con.execute(entry["ddl"])
            self._con.execute(f'INSERT INTO "{entry["table"]}" BY NAME SELECT * FROM '
                             f"read_parquet('{quoted(self.directory / entry['file'])}')")
        if not self.read_only:  # tables the manifest does not list (none at this version)
            create_tables(self._con)
        self._con.execute(gdelt_extra.ddl())  # always empty: a lake keeps GDELT's in ``extra``
        self._events_view()

    def _events_view(self) -> None:
        relation = events_relation(self.directory, self.events_entry)
        self._drop_events()
        if relation is None:
            self._con.execute(self.events_entry["ddl"])
        else:
            self._con.execute(f"CREATE VIEW events AS SELECT * FROM {relation}")

    def _drop_events(self) -> None:
        kind = self._con.execute("SELECT table_type FROM information_schema.tables "
                                "WHERE table_name = 'events'").fetchall()
        if kind:
            self._con.execute(f"DROP {'VIEW' if kind[0][0] == 'VIEW' else 'TABLE'} events")

    def event_paths(self) -> list[Path]:
        return event_files(self.directory, self.events_entry)

    # -- append --------------------------------------------------------------------------------

    def begin_append(self, *, replace: bool) -> None:
        """Make ``events`` a table ingest can insert into: the lake's event ids (the other
        columns null, never written back) and, after the ingest, its new rows."""
        if self.read_only:
            raise StoreError(f"{self.directory}: opened read-only")
        if replace:
            raise StoreError(f"{self.directory}: --replace is not supported on a lake (its event "
                             "files are append-only); import it into a DuckDB store "
                             "(`hybridwatch import --parquet DIR --db FILE`), replace there "
                             "and export again")
        if self.appending:
            return
        self.watermark = self._con.execute("SELECT coalesce(max(ingest_id), 0) FROM ingest_log"
                                          ).fetchall()[0][0]
        relation = events_relation(self.directory, self.events_entry)
        columns = self._con.execute("DESCRIBE events").fetchall()
        ddl = ", ".join(f'"{c[0]}" {c[1]}' for c in columns)   # no NOT NULL: ids only
        self._drop_events()
        self._con.execute(f"CREATE TABLE events ({ddl})")
        if relation is not None:
            self._con.execute(f"INSERT INTO events (event_id, ingest_id) "
                             f"SELECT event_id, ingest_id FROM {relation}")
        self.appending = True

    def flush(self) -> None:
        """Write what changed: new event files, the small tables, then the manifest."""
        if self.read_only:
            return
        entries: list[dict[str, Any]] = []
        if self.appending:
            written, files = write_events(self._con, self.directory,
                                          f"ingest_id > {int(self.watermark)}")
            self.events_entry = {**self.events_entry,
                                 "files": sorted(self.events_entry.get("files", []) + files),
                                 "rows": self.events_entry["rows"] + written}
        entries.append(self.events_entry)
        from hybridwatch.store.parquet_io import NOT_EXPORTED, table_ddls

        for table, ddl in table_ddls(self._con):
            if table == EVENTS:
                continue
            target = self.directory / f"{table}.parquet"
            partial = self.directory / f".{table}.parquet.partial"
            self._con.execute(f'COPY "{table}" TO \'{quoted(partial)}\' '
                             "(FORMAT parquet, COMPRESSION zstd)")
            os.replace(partial, target)
            rows = self._con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
            entries.append({"table": table, "file": target.name, "rows": rows, "ddl": ddl})
        self.manifest = {"tables": entries}
        write_manifest(self.directory, entries, sorted(NOT_EXPORTED - {"hybridwatch_meta"}))
        if self.appending:
            self.appending = False
            self._events_view()

    def close(self) -> None:
        try:
            if not self.read_only:
                self.flush()
        finally:
            if self._lock is not None:
                fcntl.flock(self._lock, fcntl.LOCK_UN)
                self._lock.close()
                self._lock = None
