"""DDL of the store, derived from the Arrow schemas so the two never drift apart."""

from __future__ import annotations

import pyarrow as pa

from hybridwatch.model import gdelt_extra
from hybridwatch.model.schema import ARTICLE_SCHEMA, EVENT_SCHEMA
from hybridwatch.model.trade import TRADE_FLOW_SCHEMA

#: Bump when an existing table changes shape, with a numbered migration in
#: ``store.migrations``; ``EventStore`` refuses other versions (older ones name
#: ``hybridwatch migrate``). New tables need no bump: create them IF NOT EXISTS on open.
#: Defined in ``store.known_files`` (free of Arrow, for the quick no-op re-ingest).
from hybridwatch.store.known_files import STORE_SCHEMA_VERSION  # noqa: E402, F401

_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.float64(): "DOUBLE", pa.int64(): "BIGINT",
                 pa.timestamp("us"): "TIMESTAMP", pa.date32(): "DATE",
                 pa.list_(pa.string()): "VARCHAR[]"}


def _columns_ddl(schema: pa.Schema) -> str:
    return ",\n  ".join(
        f"{f.name} {_DUCKDB_TYPES[f.type]}{'' if f.nullable else ' NOT NULL'}" for f in schema)


DDL = f"""
CREATE TABLE IF NOT EXISTS hybridwatch_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS events (
  {_columns_ddl(EVENT_SCHEMA)},
  ingest_id BIGINT
);
CREATE TABLE IF NOT EXISTS articles (
  {_columns_ddl(ARTICLE_SCHEMA)},
  ingest_id BIGINT
);
CREATE TABLE IF NOT EXISTS quarantine (
  rejection_id VARCHAR NOT NULL,    -- '<ingest_id>:<position>': every rejected record is kept,
                                    -- numbered 1, 2 … in its ingest (stores written before
                                    -- hybridwatch 0.2 hold md5 ids of records merged by content)
  ingest_id BIGINT,
  path VARCHAR NOT NULL,
  format VARCHAR,
  line BIGINT,
  record VARCHAR,
  field VARCHAR,
  reason VARCHAR NOT NULL,
  raw VARCHAR NOT NULL,
  quarantined_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS ingest_log (
  ingest_id BIGINT PRIMARY KEY,
  path VARCHAR NOT NULL,
  fingerprint VARCHAR NOT NULL,     -- sha256(sha256(file bytes) '|' format '|' mapping sha256
                                    -- or ''); earlier stores: sha256 of the file's bytes
  size_bytes BIGINT NOT NULL,
  format VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NOT NULL,
  read BIGINT NOT NULL,
  ingested BIGINT NOT NULL,
  duplicates BIGINT NOT NULL,
  quarantined BIGINT NOT NULL,
  skipped BIGINT NOT NULL
);
""" + gdelt_extra.ddl() + gdelt_extra.typed_view_sql() + ";\n"  # GDELT records beside events

#: Trade flows (UN Comtrade, CEPII BACI): a table added after schema version 1, so it needs no
#: version bump; ``EventStore`` creates it whenever it opens a store read-write.
TRADE_FLOWS_DDL = f"""
CREATE TABLE IF NOT EXISTS trade_flows (
  {_columns_ddl(TRADE_FLOW_SCHEMA)},
  ingest_id BIGINT
);
"""

#: C2PA verdicts of media (outputs/provenance.py): also added without a version bump and created
#: whenever a store is opened read-write.
MEDIA_PROVENANCE_DDL = """
CREATE TABLE IF NOT EXISTS media_provenance (
  media_sha256 VARCHAR NOT NULL,    -- sha256 of the media file's bytes
  url VARCHAR,                      -- where the media was found, when known
  file VARCHAR,                     -- the path that was verified
  state VARCHAR NOT NULL,           -- valid | invalid | untrusted-signer | no-manifest
  signer VARCHAR,                   -- common name of the C2PA signing certificate
  claim_generator VARCHAR,
  verdict VARCHAR NOT NULL,         -- JSON: the whole verdict (actions, ingredient chain ...)
  checked_at TIMESTAMP NOT NULL     -- UTC
);
"""

#: Watches and their alerts (store/alerts_store.py): new tables, so no version bump (see
#: ``store.migrations``); created whenever a store is opened read-write. An alert is unique per
#: (watch, finding): the same finding found again by a later run never alerts twice.
WATCHES_DDL = """
CREATE TABLE IF NOT EXISTS watches (
  watch_id INTEGER PRIMARY KEY,
  name VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,            -- a finding kind with a watch rule (model/watches.py)
  target VARCHAR,                   -- ISO3, or NULL: any
  domain VARCHAR,                   -- NULL: any
  threshold DOUBLE,                 -- NULL: every finding of the kind
  clearance VARCHAR NOT NULL,       -- TLP 2.0 level of the watch's reader
  owner VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL     -- UTC
);
CREATE TABLE IF NOT EXISTS alerts (
  alert_id INTEGER PRIMARY KEY,
  watch_id INTEGER NOT NULL,
  finding_id VARCHAR NOT NULL,      -- md5(kind ':' key): the same in every run that finds it
  kind VARCHAR NOT NULL,
  run_id VARCHAR NOT NULL,          -- the run that first matched
  tlp VARCHAR NOT NULL,             -- the finding's TLP level
  message VARCHAR NOT NULL,
  raised_at TIMESTAMP NOT NULL,     -- UTC
  acknowledged_at TIMESTAMP,
  acknowledged_by VARCHAR,
  UNIQUE (watch_id, finding_id)
);
"""

#: Events per UTC day, domain, source, target list and TLP level: derived from ``events`` and kept
#: current by ingest (``store.event_counts``); the API's aggregates read it instead of the events.
#: A table added without a version bump: created (and filled) whenever a store is opened
#: read-write.
EVENT_DAY_COUNTS_DDL = """
CREATE TABLE IF NOT EXISTS event_day_counts (
  day DATE NOT NULL,                -- UTC day of occurred_at
  domain VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  target_iso3s VARCHAR[] NOT NULL,  -- the events' target list as stored ([] = none)
  tlp VARCHAR,                      -- as stored: NULL = unmarked (clear)
  n_events BIGINT NOT NULL,
  intensity DOUBLE                  -- sum of the events' intensity (NULL when none has one)
);
"""
