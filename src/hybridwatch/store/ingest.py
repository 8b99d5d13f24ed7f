"""Ingest one file into the store as one transaction: all of its good records, or nothing.

The flow per file: fingerprint → skip if already ingested → stream the reader's
batches into ``events``/``articles`` (skipping ids already stored) and its rejections into
``quarantine`` → log → commit. Any failure, a kill included, leaves the store as it was,
because DuckDB discards an uncommitted transaction (and the next writer removes the staging
folder a killed ingest left; see ``store.staging``).

The *fingerprint* of an ingest covers the file's bytes, the format it was read as and the
adapter's settings (a mapping's content): the same file read with a corrected mapping is a new
ingest. ``replace=True`` re-ingests a file in the same transaction that removes what its
earlier ingests (same path, or same bytes read the same way) stored: their records, quarantine
entries and log rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from hybridwatch.errors import FormatError, InputError, StoreError, StrictModeError
from hybridwatch.model.gdelt_extra import TABLE as GDELT_EXTRA_TABLE
from hybridwatch.model.records import Batch, Rejection, SqlSource
# FileReport and the fingerprints live with the quick look-up of known files (no Arrow there)
from hybridwatch.store.known_files import (  # noqa: F401 (re-exported)
    FileReport, fingerprint_file, ingest_fingerprint,
)
from hybridwatch.store.staging import staging_dir
from hybridwatch.store.event_counts import rebuild_event_counts
from hybridwatch.store.event_counts import refresh_after_ingest as refresh_event_counts
from hybridwatch.store.source_days import add_ingest as add_source_days
from hybridwatch.store.source_days import rebuild_source_days
from hybridwatch.store.store import EventStore
from hybridwatch.store.versions import Signer, VersionCounts, finish_versions, prepare_versions
from hybridwatch.store.versions import winner_order

#: How many warnings a report quotes (all are counted).
MAX_WARNING_EXAMPLES = 10
#: Called with the number of records read so far in the current file.
ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class IngestSource:
    """One input as the store sees it: which file, read how, and a reader of its records.

    ``read`` takes the scratch folder the ingest provides (inside its staging folder, so a
    killed ingest leaves its temporary files where the next one cleans up) and yields batches.
    Which adapter reads the file is the workflow's business (``workflows.ingest``), not the
    store's.
    """

    path: Path
    format: str
    file_sha256: str
    size: int
    settings_sha256: str | None
    read: Callable[[Path], Iterable[Batch]]
    #: the whole file as one SELECT the store runs itself (``SqlSource``), used instead of
    #: ``read`` when the adapter has one
    sql: SqlSource | None = None

    @property
    def fingerprint(self) -> str:
        return ingest_fingerprint(self.file_sha256, self.format, self.settings_sha256)


def ingest_source(store: EventStore, source: IngestSource, *, strict: bool = False,
                  replace: bool = False, progress: ProgressCallback | None = None,
                  started: datetime | None = None, signer: Signer | None = None) -> FileReport:
    """Write ``source``'s records into ``store`` in one transaction (see the module docstring).

    ``signer``: who signed the file, when its detached signature verified (the caller checks
    it): that producer's later versions may re-release their records (``store.versions``).
    With ``strict`` the first rejected record raises ``StrictModeError`` and nothing is written.
    With ``replace`` the file is read even if this fingerprint was ingested before, and what
    its earlier ingests stored is removed in the same transaction.
    """
    path = source.path
    started = started or datetime.now(timezone.utc).replace(tzinfo=None)
    fingerprint = source.fingerprint
    # a bytes-only fingerprint is an earlier version's: the same file read without settings
    known = {fingerprint} | ({source.file_sha256} if source.settings_sha256 is None else set())
    earlier = _earlier_ingests(store, path, fingerprint, source.file_sha256)
    same = [row for row in earlier if row[2] in known and row[3] == source.format]
    if same and not replace:
        return FileReport(str(path), source.format, "unchanged", ingest_id=same[0][0],
                          fingerprint=fingerprint)
    warnings = []
    if earlier and not replace:
        ids = ", ".join(f"#{row[0]}" for row in earlier)
        warnings.append(f"this file (its path or its bytes) was ingested before ({ids}) with "
                        "other content, format or mapping: records already stored are kept as "
                        "they were and the earlier quarantine entries stay; pass --replace to "
                        "replace them")

    store.begin_append(replace=replace)   # a lake: its event ids, for the dedupe below
    con = store._con
    con.begin()
    try:
        # the new id is taken before earlier ingests go, so ids are never reused
        ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log"
                                ).fetchall()[0][0]
        replaced = [row[0] for row in earlier] if replace else []
        removed = _remove_ingests(con, replaced)
        with staging_dir(store.path) as staging:
            totals, restored = _read_into(con, source, staging, ingest_id, strict, progress,
                                          warnings, signer, lake=store.lake is not None)
        if removed:
            _drop_orphan_assignments(con)
            rebuild_source_days(con)      # the replaced ingests' records are gone
            rebuild_event_counts(con)
        else:
            add_source_days(con, ingest_id)
            refresh_event_counts(con, ingest_id)
        finished = datetime.now(timezone.utc).replace(tzinfo=None)
        con.execute("INSERT INTO ingest_log BY NAME SELECT ? AS ingest_id, ? AS path, "
                    "? AS fingerprint, ? AS size_bytes, ? AS format, ? AS started_at, "
                    "? AS finished_at, ? AS read, ? AS ingested, ? AS duplicates, "
                    "? AS quarantined, ? AS skipped",
                    [ingest_id, str(path), fingerprint, source.size, source.format, started,
                     finished, totals["read"], totals["ingested"], totals["duplicates"],
                     totals["quarantined"], totals["skipped"]])
        con.commit()
    except BaseException as exc:  # KeyboardInterrupt too: the store must stay as it was
        con.rollback()
        if isinstance(exc, duckdb.Error):
            raise StoreError(f"{path}: store write failed, nothing written ({exc})") from exc
        raise
    store.end_append()                    # a lake: the new rows become files
    return FileReport(str(path), source.format, "ingested", ingest_id=ingest_id,
                      fingerprint=fingerprint, findings=restored, replaced=len(replaced),
                      removed=removed, warnings=warnings,
                      seconds=round((finished - started).total_seconds(), 3), **totals)


def _earlier_ingests(store: EventStore, path: Path, fingerprint: str, file_sha256: str
                     ) -> list[tuple[int, str, str, str]]:
    """``(ingest_id, path, fingerprint, format)`` of the ingests of this file: the same path,
    or the same bytes read the same way (this fingerprint, or an earlier version's bytes-only
    one). The log is one row a file: small, so paths are compared resolved, in Python."""
    here = path.resolve()
    rows = store._con.execute("SELECT ingest_id, path, fingerprint, format FROM ingest_log "
                             "ORDER BY ingest_id").fetchall()
    return [(i, p, f, fmt) for i, p, f, fmt in rows
            if f in (fingerprint, file_sha256) or p == str(path) or _resolved(p) == here]


def _resolved(text: str) -> Path | None:
    try:
        return Path(text).resolve()
    except (OSError, RuntimeError):
        return None


def _remove_ingests(con: duckdb.DuckDBPyConnection, ingest_ids: list[int]) -> int:
    """Delete what the ingests ``ingest_ids`` stored; returns the records (events, articles,
    trade flows) removed."""
    if not ingest_ids:
        return 0
    removed = 0
    for table in ("events", "articles", "trade_flows"):
        removed += con.execute(f"DELETE FROM {table} WHERE ingest_id IN (SELECT unnest(?))",
                               [ingest_ids]).fetchall()[0][0]
    for table in (GDELT_EXTRA_TABLE, "quarantine", "ingest_log"):
        con.execute(f"DELETE FROM {table} WHERE ingest_id IN (SELECT unnest(?))", [ingest_ids])
    return removed


def _drop_orphan_assignments(con: duckdb.DuckDBPyConnection) -> None:
    """Narrative assignments of articles a replacement removed for good (kept ids keep theirs)."""
    if con.execute("SELECT count(*) FROM information_schema.tables "
                   "WHERE table_name = 'article_narratives'").fetchall()[0][0]:
        con.execute("DELETE FROM article_narratives a WHERE NOT EXISTS "
                    "(SELECT 1 FROM articles r WHERE r.article_id = a.article_id)")


def _read_into(con: duckdb.DuckDBPyConnection, source: IngestSource, staging: Path,
               ingest_id: int, strict: bool, progress: ProgressCallback | None,
               warnings: list[str], signer: Signer | None = None, *, lake: bool = False
               ) -> tuple[dict[str, int], int]:
    """Stream the adapter's batches into the open transaction; returns the counts and the
    number of finding runs restored. A lake has no side tables: a source that needs one is
    read through the adapter there."""
    totals = {"read": 0, "ingested": 0, "duplicates": 0, "quarantined": 0, "skipped": 0,
              "exploded": 0, "nulled": 0, "updated": 0, "tightened": 0, "released": 0}
    path, format_name = source.path, source.format
    if source.sql is not None and (source.sql.side_table is None or not lake):
        source.sql.prepare(staging)
        return _read_sql_source(con, source.sql, path, format_name, ingest_id, strict,
                                progress, totals), 0
    stage = _Stage(staging)
    runs: list[dict[str, Any]] = []
    for batch in source.read(staging):
        if strict and batch.rejections:
            first = batch.rejections[0]
            raise StrictModeError(path, f"{first.reason} (--strict: nothing written)",
                                  locator=first.locator(), field=first.field)
        stage.add(batch)
        runs.extend(batch.findings)
        totals["read"] += batch.read
        totals["skipped"] += batch.skipped
        totals["exploded"] += batch.exploded
        quoted = max(MAX_WARNING_EXAMPLES - totals["nulled"], 0)
        warnings.extend(batch.warnings[:quoted])
        totals["nulled"] += len(batch.warnings)
        totals["quarantined"] += _insert_rejections(con, batch.rejections, ingest_id, path,
                                                    format_name, totals["quarantined"])
        if progress:
            progress(totals["read"])
    if totals["read"] == 0 and not runs:
        raise InputError(path, f"no records found (read as {format_name})")
    for kind, staged, rows in stage.close():
        inserted, counts = _insert_staged(con, kind, staged, ingest_id, signer)
        totals["ingested"] += inserted
        totals["duplicates"] += rows - inserted
        totals.update(updated=counts.updated, tightened=counts.tightened,
                      released=counts.released)
    restored, refused = _restore_findings(con, runs, ingest_id, path, format_name,
                                          totals["quarantined"])
    totals["quarantined"] += refused
    return totals, restored


def _read_sql_source(con: duckdb.DuckDBPyConnection, source: SqlSource, path: Path,
                     format_name: str, ingest_id: int, strict: bool,
                     progress: ProgressCallback | None, totals: dict[str, int]
                     ) -> dict[str, int]:
    """Ingest an adapter's ``SqlSource`` inside the store's connection: DuckDB runs its SELECT
    once into a temporary table (in memory up to the store's memory limit, spilled to disk
    beyond: half the time of writing and reading back a Parquet file), the rejections and
    counts come from there, and one ``INSERT … SELECT`` stores the good rows whose ids are not
    stored yet (first in file order wins), another their side-table columns. No row passes
    through Python; with ``quarantine_sql`` neither do the rejected ones."""
    rows = _STAGED
    try:
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {rows} AS {source.select(con)}")
        except duckdb.Error as exc:
            raise FormatError(path, f"cannot read as {format_name} "
                                    f"({str(exc).splitlines()[0]})") from None
        quarantine = source.quarantine_sql(con, rows)
        # distinct hashes of the good ids fewer than the good rows: two rows may share an id
        # (or, rarely, two hashes collide, and first-wins runs for nothing)
        problems_sql = ("NULL" if quarantine is not None else
                        "list([_ordinal::VARCHAR, _problem] ORDER BY _ordinal) "
                        "FILTER (WHERE _problem IS NOT NULL)")
        parsed, skipped, good, distinct, problems = con.execute(f"""
            SELECT count(*), count(*) FILTER (WHERE _problem IS NULL AND _skip IS NOT NULL),
                   count(*) FILTER (WHERE _problem IS NULL AND _skip IS NULL),
                   count(DISTINCT hash({source.key})) FILTER (WHERE _problem IS NULL
                                                              AND _skip IS NULL),
                   {problems_sql}
            FROM {rows}""").fetchall()[0]
        if quarantine is None:
            refused, rejections = source.rejections(con, [(int(o), p)
                                                          for o, p in problems or []])
            first = rejections[0] if rejections else None
        else:
            refused, rejected = quarantine
            first = _first_rejection(con, rejected)
        if strict and first is not None:
            raise StrictModeError(path, f"{first.reason} (--strict: nothing written)",
                                  locator=first.locator(), field=first.field)
        totals["read"], totals["skipped"] = parsed + refused, skipped
        totals["quarantined"] = (
            _insert_rejections(con, rejections, ingest_id, path, format_name, 0)
            if quarantine is None else
            _insert_rejections_sql(con, rejected, ingest_id, path, format_name))
    finally:
        source.close(con)
    if progress:
        progress(totals["read"])
    if totals["read"] == 0:
        raise InputError(path, f"no records found (read as {format_name})")
    table, key = _TABLE_KEYS[source.kind]
    first_only = (f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _ordinal) = 1"
                  if distinct < good else "")
    columns = ", ".join(f'"{c}"' for c in _table_columns(con, table) if c != "ingest_id")
    inserted = con.execute(
        f"INSERT INTO {table} BY NAME "
        f"SELECT {columns}, {int(ingest_id)} AS ingest_id "
        f"FROM {rows} AS n WHERE _problem IS NULL AND _skip IS NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {table} o WHERE o.{key} = n.{key}) {first_only}"
    ).fetchall()[0][0]
    if source.side_table is not None and inserted:
        # the side columns of exactly the rows just stored (the same first-wins)
        side = ", ".join(f'"{c}"' for c in source.side_columns)
        con.execute(
            f"INSERT INTO {source.side_table} BY NAME "
            f"SELECT {key}, {int(ingest_id)} AS ingest_id, {side} FROM {rows} AS n "
            f"WHERE _problem IS NULL AND _skip IS NULL AND {key} IN "
            f"(SELECT {key} FROM {table} WHERE ingest_id = {int(ingest_id)}) {first_only}")
    con.execute(f"DROP TABLE IF EXISTS {rows}")
    totals["ingested"], totals["duplicates"] = inserted, good - inserted
    return totals


#: Where a ``SqlSource``'s rows wait between its SELECT and the INSERTs: a temporary table
#: of the store's connection (DuckDB spills it to disk beyond the memory limit).
_STAGED = "temp._hw_staged"


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "AND table_schema = current_schema() ORDER BY ordinal_position", [table]).fetchall()]


def _first_rejection(con: duckdb.DuckDBPyConnection, rejected: str) -> Rejection | None:
    row = con.execute(f"SELECT line, record, field, reason, raw FROM ({rejected}) "
                      "ORDER BY line LIMIT 1").fetchall()
    if not row:
        return None
    line, record, field_name, reason, raw = row[0]
    return Rejection(reason=reason, raw=raw, line=line, record=record, field=field_name)


def _insert_rejections_sql(con: duckdb.DuckDBPyConnection, rejected: str, ingest_id: int,
                           path: Path, format_name: str) -> int:
    """``_insert_rejections`` for rejections given as a SELECT (``SqlSource.quarantine_sql``):
    numbered ``<ingest_id>:1 …`` in line order, built and inserted in SQL."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return con.execute(
        "INSERT INTO quarantine BY NAME "
        f"SELECT '{int(ingest_id)}:' || row_number() OVER (ORDER BY line) AS rejection_id, "
        f"{int(ingest_id)}::BIGINT AS ingest_id, ?::VARCHAR AS path, ?::VARCHAR AS format, "
        "line::BIGINT AS line, record, field, reason, raw, ?::TIMESTAMP AS quarantined_at "
        f"FROM ({rejected})", [str(path), format_name, now]).fetchall()[0][0]


class _Stage:
    """Accepted rows of one file, streamed to a Parquet file per table before one INSERT.

    Why: DuckDB keeps the rows of an open transaction in memory when they arrive in many small
    INSERTs, so memory grew with the file; a single INSERT … SELECT from Parquet writes row
    groups straight to the store and keeps memory flat whatever the file size. ``_row`` keeps
    file order, so the first of several records with one id wins.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._writers: dict[str, tuple[pq.ParquetWriter, Path]] = {}
        self._rows: dict[str, int] = {}

    def add(self, batch: Batch) -> None:
        if batch.table.num_rows == 0:
            return
        if batch.kind not in self._writers:
            target = self.directory / f"{batch.kind}.parquet"
            schema = batch.table.schema.append(pa.field("_row", pa.int64()))
            self._writers[batch.kind] = (pq.ParquetWriter(target, schema, compression="lz4"),
                                         target)
            self._rows[batch.kind] = 0
        writer, _ = self._writers[batch.kind]
        first = self._rows[batch.kind]
        rows = pa.array(range(first, first + batch.table.num_rows), pa.int64())
        writer.write_table(batch.table.append_column("_row", rows))
        self._rows[batch.kind] += batch.table.num_rows

    def close(self) -> list[tuple[str, Path, int]]:
        """``(kind, parquet path, rows)`` for every table that got rows."""
        staged = []
        for kind, (writer, target) in self._writers.items():
            writer.close()
            staged.append((kind, target, self._rows[kind]))
        return staged


#: The table and the id column of each kind of record an adapter yields.
_TABLE_KEYS = {"events": ("events", "event_id"), "articles": ("articles", "article_id"),
               "trade_flows": ("trade_flows", "flow_id")}


def _insert_staged(con: duckdb.DuckDBPyConnection, kind: str, staged: Path,
                   ingest_id: int, signer: Signer | None = None
                   ) -> tuple[int, VersionCounts]:
    """Insert the staged rows whose ids are not stored yet (of several with one id, the file
    keeps the latest version, else the first in file order). Events also go through
    ``store.versions``: a later version replaces the stored one, markings only tighten."""
    table, key = _TABLE_KEYS[kind]
    source = f"read_parquet('{_sql_text(staged)}')"
    counts = prepare_versions(con, source, signer) if kind == "events" else VersionCounts()
    repeated = con.execute(f"SELECT count(*) - count(DISTINCT {key}) FROM {source}"
                           ).fetchall()[0][0]
    order = winner_order() if kind == "events" else "_row"
    first_only = (f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {order}) = 1"
                  if repeated else "")
    inserted = con.execute(
        f"INSERT INTO {table} BY NAME "
        f"SELECT * EXCLUDE (_row), {int(ingest_id)} AS ingest_id FROM {source} AS n "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} o WHERE o.{key} = n.{key}) {first_only}"
    ).fetchall()[0][0]
    if kind == "events":
        counts = finish_versions(con, counts)
    return inserted, counts


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")


def _insert_rejections(con: duckdb.DuckDBPyConnection, rejections: list[Rejection],
                       ingest_id: int, path: Path, format_name: str, before: int) -> int:
    """Keep each rejected record verbatim with its line or record; its id is
    ``<ingest_id>:<position>``, its position among the file's rejections (``before`` + 1 …).
    Identical rows on two lines are two entries, so the stored count is the one ``ingest``
    reports."""
    if not rejections:
        return 0
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    n = len(rejections)
    rows = pa.table({
        "rejection_id": [f"{ingest_id}:{k}" for k in range(before + 1, before + n + 1)],
        "ingest_id": pa.array([ingest_id] * n, pa.int64()),
        "path": [str(path)] * n,
        "format": [format_name] * n,
        "line": pa.array([r.line for r in rejections], pa.int64()),
        "record": pa.array([r.record for r in rejections], pa.string()),
        "field": pa.array([r.field for r in rejections], pa.string()),
        "reason": [r.reason for r in rejections],
        "raw": [r.raw for r in rejections],
        "quarantined_at": pa.array([now] * n, pa.timestamp("us")),
    })
    con.register("incoming_rejections", rows)
    try:
        con.execute("INSERT INTO quarantine BY NAME SELECT * FROM incoming_rejections")
    finally:
        con.unregister("incoming_rejections")
    return n


def _restore_findings(con: duckdb.DuckDBPyConnection, runs: list[dict[str, Any]],
                      ingest_id: int, path: Path, format_name: str,
                      before: int) -> tuple[int, int]:
    """Restore finding runs carried by the file (ids, times and items as exported).

    A partner's runs of an analysis are kept beside each other like the store's own runs, but
    never mixed with another source's: a run is restored only if every stored run of its kind
    came from the same producer (earlier imports of theirs); if the store holds its own runs
    of the kind, or another producer's, the incoming run is quarantined with the reason. The
    same run exported again (e.g. at another TLP) replaces its earlier copy. Returns
    (runs restored, runs quarantined).
    """
    if not runs:
        return 0, 0
    from hybridwatch.model.finding_kinds import kind_names
    from hybridwatch.store.findings_store import insert_run, run_metadata
    from hybridwatch.store.schema import FINDINGS_DDL

    con.execute(FINDINGS_DDL)
    restored, refused = 0, []
    for run in runs:
        kind = run["kind"]
        producer = (run["summary"].get("producer") or {}).get("id")
        holders = {(json.loads(summary).get("producer") or {}).get("id") for (summary,) in
                   con.execute("SELECT summary FROM finding_runs WHERE kind = ?",
                               [kind]).fetchall()}
        problem = None
        if kind not in kind_names():
            problem = f"unknown finding kind {kind!r}"
        elif holders and holders != {producer}:
            whose = "its own" if None in holders else "another producer's"
            problem = (f"{kind} findings not restored: the store holds {whose} {kind} runs and "
                       "does not mix them with a partner's (ingest into a separate store to "
                       "keep both)")
        if problem:
            refused.append(Rejection(reason=problem, raw=json.dumps(run, sort_keys=True),
                                     record=f"findings run {kind} ({run['run_id']})"))
            continue
        con.execute("DELETE FROM findings WHERE run_id = ?", [run["run_id"]])
        con.execute("DELETE FROM finding_runs WHERE run_id = ?", [run["run_id"]])
        insert_run(con, run["run_id"], kind, datetime.fromisoformat(run["created_at"]),
                   json.dumps(run["summary"], sort_keys=True), run_metadata(run["summary"]))
        rows = [(i["finding_id"], run["run_id"], kind, i["position"], i["tlp"],
                 json.dumps(i["item"], sort_keys=True)) for i in run["items"]]
        if rows:
            con.executemany("INSERT INTO findings (finding_id, run_id, kind, position, tlp, "
                            "item) VALUES (?, ?, ?, ?, ?, ?)", rows)
        restored += 1
    return restored, _insert_rejections(con, refused, ingest_id, path, format_name, before)
