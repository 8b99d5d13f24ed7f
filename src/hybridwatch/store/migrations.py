"""Numbered store migrations: each takes a store from version N − 1 to N, in SQL.

``EventStore`` opens only stores at ``STORE_SCHEMA_VERSION``; an older store is refused with a
message naming ``hybridwatch migrate``, which calls ``migrate_store``: every pending migration
runs, in order, in ONE transaction together with the new version number, so a failure or a
kill leaves the store exactly as it was (DuckDB's DDL is transactional).

Rules for a new migration:

* every table is declared in ``store/schema.py`` (``TABLES``), and the schema version covers
  them all: a new table, like a change to an existing one, is a function ``_vN(con)`` added to
  ``MIGRATIONS`` under the version it produces, with ``STORE_SCHEMA_VERSION`` bumped to N;
* a migration is frozen once landed: it spells out its own SQL and never reads the current
  Arrow schema (which later versions change), and it works on stores of any size in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from hybridwatch.errors import StoreError
from hybridwatch.store.schema import STORE_SCHEMA_VERSION

Migration = Callable[[duckdb.DuckDBPyConnection], None]


def _v2_target_lists(con: duckdb.DuckDBPyConnection) -> None:
    """events.target_iso3 (one nullable country) → target_iso3s VARCHAR[] NOT NULL ([] = none).

    The table is rebuilt from its own DDL with the one column replaced, so column order, the
    other columns' constraints and every row stay as they were.
    """
    ddl = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'events' "
                      "AND schema_name = current_schema()").fetchall()
    if not ddl:
        raise StoreError("no events table to migrate")
    new_ddl, replaced = re.subn(r"\btarget_iso3 VARCHAR\b", "target_iso3s VARCHAR[] NOT NULL",
                                ddl[0][0], count=1)
    if not replaced:
        raise StoreError("events has no target_iso3 VARCHAR column to migrate")
    new_ddl = re.sub(r"^CREATE TABLE\s+(\S+\.)?events\b", "CREATE TABLE events__v2", new_ddl)
    columns = [row[0] for row in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'events' "
        "AND table_schema = current_schema() ORDER BY ordinal_position").fetchall()]
    select = ", ".join(v1_targets_sql("target_iso3") + " AS target_iso3s"
                       if c == "target_iso3" else f'"{c}"' for c in columns)
    con.execute(new_ddl)
    con.execute(f"INSERT INTO events__v2 SELECT {select} FROM events")
    con.execute("DROP TABLE events")
    con.execute("ALTER TABLE events__v2 RENAME TO events")


def _v3_runs_kept(con: duckdb.DuckDBPyConnection) -> None:
    """finding_runs keeps every run with its metadata and a pin; findings key on (run, finding).

    Version 2 kept one run per kind (a new run deleted the old) and keyed findings on the
    finding id alone. The tables are rebuilt: runs gain parameters, window, seed and input
    fingerprint (read from the stored summary), the code version (the provenance's where
    recorded) and ``pinned``. Stores that never stored a finding have neither table: nothing
    to do (they are created in the new shape when first used).
    """
    tables = {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema()").fetchall()}
    if "finding_runs" in tables:
        con.execute("""
            CREATE TABLE finding_runs__v3 (
              run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
              summary VARCHAR NOT NULL, parameters VARCHAR, analysis_window VARCHAR,
              seed BIGINT, input_sha256 VARCHAR, code_version VARCHAR,
              pinned BOOLEAN NOT NULL DEFAULT false)""")
        con.execute("""
            INSERT INTO finding_runs__v3
            SELECT run_id, kind, created_at, summary,
                   coalesce(json_extract(summary, '$.parameters')::VARCHAR, '{}'),
                   coalesce(json_extract(summary, '$.window'),
                            json_extract(summary, '$.parameters.window'))::VARCHAR,
                   TRY_CAST(coalesce(json_extract_string(summary, '$.random_state'),
                                     json_extract_string(summary, '$.parameters.random_state'),
                                     json_extract_string(summary, '$.provenance.seed'))
                            AS BIGINT),
                   coalesce(json_extract_string(summary, '$.input_sha256'),
                            json_extract_string(summary, '$.provenance.input_sha256')),
                   json_extract_string(summary, '$.provenance.version'), false
            FROM finding_runs""")
        con.execute("DROP TABLE finding_runs")
        con.execute("ALTER TABLE finding_runs__v3 RENAME TO finding_runs")
    if "findings" in tables:
        con.execute("""
            CREATE TABLE findings__v3 (
              finding_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
              position INTEGER NOT NULL, tlp VARCHAR NOT NULL, item VARCHAR NOT NULL,
              PRIMARY KEY (run_id, finding_id))""")
        con.execute("INSERT INTO findings__v3 SELECT finding_id, run_id, kind, position, tlp, "
                    "item FROM findings")
        con.execute("DROP TABLE findings")
        con.execute("ALTER TABLE findings__v3 RENAME TO findings")


def _v4_gdelt_extra(con: duckdb.DuckDBPyConnection) -> None:
    """gdelt_extra: GDELT events' records beside the events (``model.gdelt_extra``).

    GDELT events ingested from now on keep their unmapped columns there (the record
    verbatim), not as JSON in ``events.extra``; events stored before keep their ``extra``,
    which readers show as before.
    """
    con.execute(_V4_GDELT_EXTRA_DDL)


#: frozen: the table as version 4 made it
_V4_GDELT_EXTRA_DDL = """
CREATE TABLE IF NOT EXISTS gdelt_extra (
  event_id VARCHAR NOT NULL,
  ingest_id BIGINT,
  record VARCHAR NOT NULL  -- the event's line as it stood in the file (tab-separated
                            -- fields: 61 for GDELT 2.0, 57 or 58 for GDELT 1.0)
);
"""


#: The tables version 4 created on first use, as version 5 declares them (frozen here).
_V5_TABLES = """
CREATE TABLE IF NOT EXISTS trade_flows (
  flow_id VARCHAR NOT NULL, source VARCHAR NOT NULL, reporter_iso3 VARCHAR NOT NULL,
  partner_iso3 VARCHAR NOT NULL, flow VARCHAR NOT NULL, product VARCHAR NOT NULL,
  product_desc VARCHAR, classification VARCHAR, period DATE NOT NULL,
  period_freq VARCHAR NOT NULL, value_usd DOUBLE NOT NULL, valuation VARCHAR NOT NULL,
  quantity DOUBLE, quantity_unit VARCHAR, net_weight_kg DOUBLE, ingest_id BIGINT);
CREATE TABLE IF NOT EXISTS media_provenance (
  media_sha256 VARCHAR NOT NULL, url VARCHAR, file VARCHAR, state VARCHAR NOT NULL,
  signer VARCHAR, claim_generator VARCHAR, verdict VARCHAR NOT NULL,
  checked_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS source_days (
  kind VARCHAR NOT NULL, source VARCHAR NOT NULL, day DATE NOT NULL, records BIGINT NOT NULL,
  PRIMARY KEY (kind, source, day));
CREATE TABLE IF NOT EXISTS finding_runs (
  run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
  summary VARCHAR NOT NULL, parameters VARCHAR, analysis_window VARCHAR, seed BIGINT,
  input_sha256 VARCHAR, code_version VARCHAR, pinned BOOLEAN NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS findings (
  finding_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  position INTEGER NOT NULL, tlp VARCHAR NOT NULL, item VARCHAR NOT NULL,
  PRIMARY KEY (run_id, finding_id));
CREATE TABLE IF NOT EXISTS narratives (
  narrative_id VARCHAR, label VARCHAR, terms VARCHAR, size BIGINT, created_at TIMESTAMP,
  model VARCHAR);
CREATE TABLE IF NOT EXISTS article_narratives (
  article_id VARCHAR, narrative_id VARCHAR, similarity DOUBLE);
CREATE TABLE IF NOT EXISTS narrative_model (
  model VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, params VARCHAR,
  representation BLOB, narratives BLOB);
CREATE TABLE IF NOT EXISTS briefing_log (
  briefing_id INTEGER PRIMARY KEY, created_at TIMESTAMP NOT NULL, tlp VARCHAR NOT NULL,
  runs VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS finding_reviews (
  review_id INTEGER PRIMARY KEY, finding_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  run_id VARCHAR NOT NULL, verdict VARCHAR NOT NULL, note VARCHAR NOT NULL,
  analyst VARCHAR NOT NULL, reviewed_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS record_markings (
  record_id VARCHAR NOT NULL, tlp VARCHAR NOT NULL, latest_version VARCHAR,
  released_version VARCHAR, released_by VARCHAR, updated_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS api_tokens (
  token_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, role VARCHAR NOT NULL,
  clearance VARCHAR NOT NULL, secret_sha256 VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
  revoked_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS audit_log (
  "at" TIMESTAMP NOT NULL, token_id VARCHAR, name VARCHAR, role VARCHAR,
  action VARCHAR NOT NULL, resource VARCHAR NOT NULL, detail VARCHAR,
  status INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS watches (
  watch_id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, target VARCHAR,
  domain VARCHAR, threshold DOUBLE, clearance VARCHAR NOT NULL, owner VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  alert_id INTEGER PRIMARY KEY, watch_id INTEGER NOT NULL, finding_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL, run_id VARCHAR NOT NULL, tlp VARCHAR NOT NULL,
  message VARCHAR NOT NULL, raised_at TIMESTAMP NOT NULL, acknowledged_at TIMESTAMP,
  acknowledged_by VARCHAR, UNIQUE (watch_id, finding_id));
CREATE TABLE IF NOT EXISTS event_day_counts (
  day DATE NOT NULL, domain VARCHAR NOT NULL, source VARCHAR NOT NULL,
  target_iso3s VARCHAR[] NOT NULL, tlp VARCHAR, n_events BIGINT NOT NULL, intensity DOUBLE);
"""


def _v5_every_table(con: duckdb.DuckDBPyConnection) -> None:
    """Every table exists: those version 4 created on first use are created if missing.

    Versions up to 4 created the trade, media-provenance, coverage, findings, narratives,
    briefing, review, marking, access, watch, alert and daily-count tables when first used,
    outside the schema version; from version 5 a store holds them all (empty until used), and a
    new table bumps the version.
    Existing tables and their rows are kept as they are.
    """
    con.execute(_V5_TABLES)


#: frozen: the tables version 6 added, as it made them
_V6_WEBHOOK_TABLES = """
CREATE TABLE IF NOT EXISTS watch_webhooks (
  watch_id INTEGER PRIMARY KEY, url VARCHAR NOT NULL, allow_private BOOLEAN NOT NULL,
  secret VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS alert_deliveries (
  delivery_id VARCHAR NOT NULL, alert_id INTEGER NOT NULL, watch_id INTEGER NOT NULL,
  url_host VARCHAR NOT NULL, attempt INTEGER NOT NULL, status VARCHAR NOT NULL,
  http_status INTEGER, error VARCHAR, attempted_at TIMESTAMP NOT NULL);
"""


def _v6_webhooks(con: duckdb.DuckDBPyConnection) -> None:
    """Webhooks of watches and the log of alert deliveries (``watch add --webhook``).

    Two new tables, empty: the watches already saved have no webhook (``watch add --webhook``
    saves watches with one), so none of their alerts is sent. ``watches`` and ``alerts`` keep
    their shape and rows.
    """
    con.execute(_V6_WEBHOOK_TABLES)


def v1_targets_sql(column: str) -> str:
    """SQL turning a version-1 ``target_iso3`` value into the version-2 list (also used to
    import Parquet exported from a version-1 store)."""
    return (f"CASE WHEN {column} IS NULL OR {column} = '' THEN []::VARCHAR[] "
            f"ELSE [{column}] END")


#: version produced → the migration from the version before it.
MIGRATIONS: dict[int, Migration] = {
    2: _v2_target_lists,
    3: _v3_runs_kept,
    4: _v4_gdelt_extra,
    5: _v5_every_table,
    6: _v6_webhooks,
}
assert sorted(MIGRATIONS) == list(range(2, STORE_SCHEMA_VERSION + 1)), \
    "MIGRATIONS must hold one migration per version up to STORE_SCHEMA_VERSION"


@dataclass(frozen=True)
class MigrationReport:
    """What ``migrate_store`` did: the version before and after, the steps applied."""

    db: str
    from_version: int
    to_version: int
    applied: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"db": self.db, "from_version": self.from_version,
                "to_version": self.to_version, "applied": list(self.applied),
                "migrated": bool(self.applied)}


def stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The store's schema version, or None if it has no hybridwatch_meta version row."""
    rows = con.execute("SELECT value FROM hybridwatch_meta WHERE key = 'schema_version'"
                       ).fetchall()
    try:
        return int(rows[0][0]) if rows else None
    except ValueError:
        return None


def version_problem(path: Path, version: int | None) -> str | None:
    """Why a store at ``version`` cannot be opened by this hybridwatch (None if it can)."""
    if version == STORE_SCHEMA_VERSION:
        return None
    if version is not None and version < STORE_SCHEMA_VERSION:
        return (f"{path}: store schema version {version} is older than version "
                f"{STORE_SCHEMA_VERSION}, which this hybridwatch reads; upgrade it with "
                f"`hybridwatch migrate --db {path}` (one transaction: it completes or changes "
                "nothing)")
    if version is not None:
        return (f"{path}: store schema version {version} is newer than version "
                f"{STORE_SCHEMA_VERSION}, which this hybridwatch reads; use a newer hybridwatch")
    return f"{path}: store has no schema version; not a store this hybridwatch can read"


def migrate_store(path: str | Path) -> MigrationReport:
    """Bring the store at ``path`` to ``STORE_SCHEMA_VERSION`` in one transaction.

    A store already at that version is left untouched. Raises ``StoreError`` (store unchanged)
    if the store cannot be opened, is newer than this hybridwatch, or a migration fails.
    """
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no store here (pass --db)")
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            raise StoreError(f"{path}: the store is in use by another process ({first})"
                             ) from None
        raise StoreError(f"{path}: cannot open store ({first})") from None
    try:
        tables = {row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        if "hybridwatch_meta" not in tables:
            raise StoreError(f"{path}: not a hybridwatch store; nothing to migrate")
        version = stored_version(con)
        if version is None or version > STORE_SCHEMA_VERSION:
            raise StoreError(version_problem(path, version) or f"{path}: unknown version")
        steps = [n for n in sorted(MIGRATIONS) if version < n <= STORE_SCHEMA_VERSION]
        if not steps:
            return MigrationReport(str(path), version, version)
        con.begin()
        try:
            for number in steps:
                MIGRATIONS[number](con)
            con.execute("UPDATE hybridwatch_meta SET value = ? WHERE key = 'schema_version'",
                        [str(STORE_SCHEMA_VERSION)])
            con.commit()
        except BaseException as exc:  # KeyboardInterrupt too: never a half-migrated store
            con.rollback()
            if isinstance(exc, (duckdb.Error, StoreError)):
                raise StoreError(f"{path}: migration to version {number} failed, store "
                                 f"unchanged ({exc})") from exc
            raise
        con.execute("CHECKPOINT")
        return MigrationReport(str(path), version, STORE_SCHEMA_VERSION,
                               tuple(f"{n - 1}→{n}: {MIGRATIONS[n].__doc__.splitlines()[0]}"
                                     for n in steps))
    finally:
        con.close()
