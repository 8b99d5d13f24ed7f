"""A whole store as Parquet files and back: ``export --parquet DIR`` / ``import --parquet DIR``.

The export writes one ``<table>.parquet`` (zstd) per table of the store — articles,
quarantine, ingest_log, narratives and their assignments, findings, the audit log and any table
a later version adds — and the events partitioned by source and year (``events/source=S/
year=Y/part-<uuid>.parquet``, listed in the manifest), from one snapshot, then
``manifest.json``: the store schema version and, per table, its file(s), row count and DDL.
Such a folder is also a *lake*: ``--db DIR`` reads it in place and ``ingest --db DIR`` appends
to it (``store.lake``), on DuckDB or Spark. API tokens and webhooks are never exported: they are
credentials.
The manifest is written last, so a folder without one is an export that did not finish.

The import restores such a folder into a new or empty store in ONE transaction: every table or
none. It refuses an export of another store schema version (migrate the store that wrote it, or
use the hybridwatch that did) and a store that already holds data (restoring into it would mix
two stores' ingest ids and findings).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb

from hybridwatch.errors import StoreError
from hybridwatch.store.lake import (
    EVENTS, EXPORT_FORMAT, MANIFEST, PARTITIONING, events_relation, quoted, write_events,
    write_manifest,
)
from hybridwatch.store.schema import STORE_SCHEMA_VERSION

#: Never exported: the store's own metadata (the manifest carries the version) and credentials
#: (API tokens; watches' webhooks: their URLs and signing keys).
#: source_days is derived from events and articles: rebuilt after an import, not exported
#: gdelt_extra goes back into the events' ``extra`` (``lake.write_events``)
NOT_EXPORTED = frozenset({"hybridwatch_meta", "api_tokens", "watch_webhooks", "source_days",
                          "event_day_counts", "gdelt_extra"})
#: Written first and in this order; any other table follows by name.
CORE_TABLES = ("events", "articles", "quarantine", "ingest_log", "trade_flows")
#: A store with rows in any of these holds data an import would mix with another store's.
DATA_TABLES = frozenset(CORE_TABLES) | {"narratives", "article_narratives", "finding_runs",
                                        "findings", "media_provenance"}


def table_ddls(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """``(name, DDL)`` of the store's own tables (not the web layer's attached schemas)."""
    rows = con.execute("SELECT table_name, sql FROM duckdb_tables() WHERE NOT temporary "
                       "AND database_name = current_database() AND schema_name = 'main'"
                       ).fetchall()
    ddl = {name: sql for name, sql in rows if name not in NOT_EXPORTED}
    order = [t for t in CORE_TABLES if t in ddl] + sorted(set(ddl) - set(CORE_TABLES))
    return [(name, ddl[name]) for name in order]


def export_parquet(con: duckdb.DuckDBPyConnection, directory: str | Path
                   ) -> dict[str, Any]:
    """Write every table but the tokens to ``DIR/<table>.parquet`` and the manifest; returns
    ``{"tables": {table: {path, rows}}, "manifest": path, "schema_version": N}``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)   # a stale manifest must not vouch for new files
    written: dict[str, dict[str, Any]] = {}
    entries = []
    con.begin()  # one snapshot for every table
    try:
        for table, ddl in table_ddls(con):
            if table == EVENTS:   # partitioned by source and year (store.lake)
                shutil.rmtree(out / EVENTS, ignore_errors=True)
                rows, files = write_events(con, out)
                written[table] = {"path": str(out / EVENTS), "rows": rows}
                entries.append({"table": table, "file": EVENTS, "files": files, "rows": rows,
                                "ddl": ddl, "partitioning": list(PARTITIONING)})
                continue
            target = out / f"{table}.parquet"
            con.execute(f'COPY (SELECT * FROM "{table}") TO \'{quoted(target)}\' '
                        "(FORMAT parquet, COMPRESSION zstd)")
            rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
            written[table] = {"path": str(target), "rows": rows}
            entries.append({"table": table, "file": target.name, "rows": rows, "ddl": ddl})
    finally:
        con.rollback()
    write_manifest(out, entries, sorted(NOT_EXPORTED - {"hybridwatch_meta"}))
    return {"tables": written, "manifest": str(out / MANIFEST),
            "schema_version": STORE_SCHEMA_VERSION}


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of an export folder, checked; ``StoreError`` says what is wrong."""
    src = Path(directory)
    path = src / MANIFEST
    if not path.is_file():
        raise StoreError(f"{src}: not a complete hybridwatch Parquet export (no {MANIFEST}: "
                         "the export was interrupted, or written by a hybridwatch older than "
                         "manifests; export the store again with this hybridwatch, after "
                         "`hybridwatch migrate` if it asks for it)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise StoreError(f"{path}: not a hybridwatch Parquet export manifest")
    version = manifest.get("schema_version")
    if version != STORE_SCHEMA_VERSION:
        raise StoreError(
            f"{src}: exported from store schema version {version}, but this hybridwatch "
            f"reads version {STORE_SCHEMA_VERSION}; import it with the hybridwatch that "
            "exported it and run `hybridwatch migrate` on that store, then export again")
    missing = [str(path.relative_to(src)) for e in manifest.get("tables", [])
               for path in ([src / f for f in e["files"]] if "files" in e else [src / e["file"]])
               if not path.is_file()]
    if missing:
        raise StoreError(f"{src}: export incomplete, missing {', '.join(missing)}")
    return manifest


def import_parquet(con: duckdb.DuckDBPyConnection, directory: str | Path) -> dict[str, int]:
    """Restore an export into this store, which must hold no data; every table or none.
    Returns the rows restored per table."""
    src = Path(directory)
    manifest = read_manifest(src)
    present = {name for name, _ in table_ddls(con)}
    holding = [t for t in sorted(present & DATA_TABLES)
               if con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]]
    if holding:
        raise StoreError(f"{src}: the store already holds data ({', '.join(holding)}); an "
                         "import restores a store: pass --db with a new store file")
    added: dict[str, int] = {}
    table = None
    con.begin()
    try:
        for entry in manifest["tables"]:
            table = entry["table"]
            if table in NOT_EXPORTED:
                continue
            if table not in present:
                con.execute(entry["ddl"])
            else:  # defaults or rows derived when the store opened: the export's rows win
                con.execute(f'DELETE FROM "{table}"')
            file = src / entry["file"]
            relation = (events_relation(src, entry) if table == EVENTS
                        else f"read_parquet('{quoted(file)}')")
            added[table] = con.execute(
                f'INSERT INTO "{table}" BY NAME SELECT * FROM {relation}'
            ).fetchall()[0][0] if relation else 0
            if added[table] != entry["rows"]:
                raise StoreError(f"{file}: {added[table]} rows, the manifest says "
                                 f"{entry['rows']}")
        con.commit()
    except StoreError:
        con.rollback()
        raise
    except duckdb.Error as exc:
        con.rollback()
        raise StoreError(f"{src}: import failed at {table}, store unchanged "
                         f"({str(exc).splitlines()[0]})") from None
    return added
