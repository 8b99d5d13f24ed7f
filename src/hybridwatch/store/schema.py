"""Every table of the store, defined once: its DDL (the event, article and trade tables derived
from their Arrow schemas so the two never drift apart) and the schema version that covers them.

``TABLES`` lists every table a store at ``STORE_SCHEMA_VERSION`` holds, in creation order;
``create_tables`` creates them (a new store, a new lake). The modules that read and write a
table import its DDL from here and create nothing themselves (``tests/store/test_schema.py``
checks no ``CREATE TABLE`` of a store table lives elsewhere in ``store/``). A change — a new
table included — bumps ``STORE_SCHEMA_VERSION`` with a numbered migration in
``store.migrations`` that spells out its own SQL.
"""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from hybridwatch.model import gdelt_extra
from hybridwatch.model.schema import ARTICLE_SCHEMA, EVENT_SCHEMA
from hybridwatch.model.trade import TRADE_FLOW_SCHEMA

#: Bump when a table is added or changes shape, with a numbered migration in
#: ``store.migrations``; ``EventStore`` refuses other versions (older ones name
#: ``hybridwatch migrate``). Version 5: every table below exists in every store (before, most
#: tables from ``trade_flows`` on were created on first use, outside the version). Version 6:
#: watches' webhooks and the alert delivery log.
#: Defined in ``store.known_files`` (free of Arrow, for the quick no-op re-ingest).
from hybridwatch.store.known_files import STORE_SCHEMA_VERSION  # noqa: E402, F401

_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.float64(): "DOUBLE", pa.int64(): "BIGINT",
                 pa.timestamp("us"): "TIMESTAMP", pa.date32(): "DATE",
                 pa.list_(pa.string()): "VARCHAR[]"}


def _columns_ddl(schema: pa.Schema) -> str:
    return ",\n  ".join(
        f"{f.name} {_DUCKDB_TYPES[f.type]}{'' if f.nullable else ' NOT NULL'}" for f in schema)


META_DDL = """
CREATE TABLE IF NOT EXISTS hybridwatch_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""

#: The core tables (version 1): meta, events, articles, quarantine, ingest log.
DDL = META_DDL + f"""
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

#: Records per source (or outlet) and UTC day: ``store.source_days``.
SOURCE_DAYS_DDL = """
CREATE TABLE IF NOT EXISTS source_days (
  kind VARCHAR NOT NULL,            -- 'events' (by source) or 'articles' (by outlet)
  source VARCHAR NOT NULL,
  day DATE NOT NULL,                -- UTC
  records BIGINT NOT NULL,
  PRIMARY KEY (kind, source, day)
);
"""

#: Analysis runs and their findings: ``store.findings_store``.
FINDINGS_DDL = """
CREATE TABLE IF NOT EXISTS finding_runs (
  run_id VARCHAR PRIMARY KEY,
  kind VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL,    -- UTC
  summary VARCHAR NOT NULL,         -- JSON: the result without its items
  parameters VARCHAR,               -- JSON
  analysis_window VARCHAR,          -- JSON: the days analysed and why
  seed BIGINT,                      -- the random state the run used
  input_sha256 VARCHAR,             -- fingerprint of the data it read
  code_version VARCHAR,             -- the hybridwatch version that ran it
  pinned BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS findings (
  finding_id VARCHAR NOT NULL,      -- md5(kind ':' key): the same in every run that finds it
  run_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  position INTEGER NOT NULL,        -- order within the run
  tlp VARCHAR NOT NULL,             -- most restricted TLP 2.0 level of the item's evidence
  item VARCHAR NOT NULL,            -- JSON
  PRIMARY KEY (run_id, finding_id)
);
"""

#: Narratives, the articles assigned to them and the fitted model: ``store.narratives_store``.
NARRATIVES_DDL = """
CREATE TABLE IF NOT EXISTS narratives (
  narrative_id VARCHAR, label VARCHAR, terms VARCHAR, size BIGINT, created_at TIMESTAMP,
  model VARCHAR);
CREATE TABLE IF NOT EXISTS article_narratives (
  article_id VARCHAR, narrative_id VARCHAR, similarity DOUBLE);
CREATE TABLE IF NOT EXISTS narrative_model (
  model VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, params VARCHAR,
  representation BLOB, narratives BLOB);
"""

#: The briefings written, with the runs each used: ``store.briefing_log``.
BRIEFINGS_DDL = """
CREATE TABLE IF NOT EXISTS briefing_log (
  briefing_id INTEGER PRIMARY KEY,
  created_at TIMESTAMP NOT NULL,    -- UTC
  tlp VARCHAR NOT NULL,
  runs VARCHAR NOT NULL             -- JSON: kind -> run id used (null: not run)
);
"""

#: Analysts' reviews of findings: ``store.reviews_store``.
REVIEWS_DDL = """
CREATE TABLE IF NOT EXISTS finding_reviews (
  review_id INTEGER PRIMARY KEY,
  finding_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  run_id VARCHAR NOT NULL,          -- the run the finding was reviewed in
  verdict VARCHAR NOT NULL,         -- confirmed, rejected, needs-work
  note VARCHAR NOT NULL,
  analyst VARCHAR NOT NULL,
  reviewed_at TIMESTAMP NOT NULL    -- UTC
);
"""

#: Each versioned record's most restrictive marking and releases: ``store.versions``.
MARKINGS_DDL = """
CREATE TABLE IF NOT EXISTS record_markings (
  record_id VARCHAR NOT NULL,       -- event_id
  tlp VARCHAR NOT NULL,             -- the most restrictive marking seen (or re-released)
  latest_version VARCHAR,           -- the latest version seen (model.versions)
  released_version VARCHAR,         -- the version of the last signed re-release, if any
  released_by VARCHAR,              -- who signed it (STIX identity id)
  updated_at TIMESTAMP NOT NULL
);
"""

#: API tokens and the audit log: ``store.access_store``.
ACCESS_DDL = """
CREATE TABLE IF NOT EXISTS api_tokens (
  token_id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  role VARCHAR NOT NULL,
  clearance VARCHAR NOT NULL,      -- highest TLP 2.0 level this token reads
  secret_sha256 VARCHAR NOT NULL,  -- hex SHA-256 of the secret part; the secret is never stored
  created_at TIMESTAMP NOT NULL,   -- UTC
  revoked_at TIMESTAMP             -- UTC; NULL while the token is valid
);
CREATE TABLE IF NOT EXISTS audit_log (
  "at" TIMESTAMP NOT NULL,         -- UTC
  token_id VARCHAR,
  name VARCHAR,
  role VARCHAR,
  action VARCHAR NOT NULL,         -- read, export, token.create, token.revoke, denied ...
  resource VARCHAR NOT NULL,       -- e.g. /api/events, episodes/<finding_id>
  detail VARCHAR,                  -- JSON: filters, counts returned and withheld
  status INTEGER NOT NULL          -- HTTP status of the answer
);
"""


#: Watches and their alerts (store/alerts_store.py). An alert is unique per (watch, finding):
#: the same finding found again by a later run never alerts twice.
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

#: Webhooks of watches and the log of their deliveries (store/alerts_store.py, version 6). A
#: watch's webhook is a credential (a URL path often is a bearer secret, and the HMAC key signs
#: for hybridwatch): it lives apart from ``watches`` and is never exported, like ``api_tokens``.
#: ``alert_deliveries`` has one row per attempt; an alert with a ``delivered`` or ``withheld``
#: row is never sent again.
WEBHOOKS_DDL = """
CREATE TABLE IF NOT EXISTS watch_webhooks (
  watch_id INTEGER PRIMARY KEY,
  url VARCHAR NOT NULL,             -- http(s) URL the watch's new alerts are POSTed to
  allow_private BOOLEAN NOT NULL,   -- its host may be loopback or a private network
  secret VARCHAR NOT NULL,          -- the HMAC-SHA256 key signing each body (shown once)
  created_at TIMESTAMP NOT NULL     -- UTC
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
  delivery_id VARCHAR NOT NULL,     -- one POST body (X-Hybridwatch-Delivery), kept over retries
  alert_id INTEGER NOT NULL,
  watch_id INTEGER NOT NULL,
  url_host VARCHAR NOT NULL,        -- host[:port] of the webhook (never its path or query)
  attempt INTEGER NOT NULL,         -- 1, 2 … within the delivery; 0: withheld, never sent
  status VARCHAR NOT NULL,          -- delivered | failed | withheld
  http_status INTEGER,              -- the receiver's answer, NULL when none came
  error VARCHAR,                    -- why it failed or was withheld
  attempted_at TIMESTAMP NOT NULL   -- UTC
);
"""

#: Events per UTC day, domain, source, target list and TLP level: derived from ``events`` and kept
#: current by ingest (``store.event_counts``); the API's aggregates read it instead of the events.
#: Rebuilt when a store opened read-write finds it does not add up to the events.
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

def _split(ddl: str) -> dict[str, str]:
    """``{table: its CREATE statement}`` of a DDL text of several statements."""
    out = {}
    for statement in re.split(r"(?=CREATE TABLE IF NOT EXISTS )", ddl):
        match = re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", statement)
        if match:
            out[match.group(1)] = statement.strip()
    return out


#: Every table of the store, in creation order: name → its DDL.
TABLES: dict[str, str] = {
    name: sql for ddl in (DDL, TRADE_FLOWS_DDL, MEDIA_PROVENANCE_DDL, SOURCE_DAYS_DDL,
                          FINDINGS_DDL, NARRATIVES_DDL, BRIEFINGS_DDL, REVIEWS_DDL,
                          MARKINGS_DDL, ACCESS_DDL, WATCHES_DDL, WEBHOOKS_DDL,
                          EVENT_DAY_COUNTS_DDL)
    for name, sql in _split(ddl).items()}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of the schema that is missing (a new store or lake)."""
    con.execute("\n".join(TABLES.values()))
