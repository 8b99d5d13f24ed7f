"""One schema module: every table of the store is declared in ``store/schema.py`` and covered by
the schema version. A new store holds exactly the declared tables; no other module of ``store/``
creates a store table; and a store written by version 4 (which created most tables on first use)
or by version 5 (the previous version, before the webhook tables) migrates to a store with the
same tables, columns and constraints as a new one, its rows kept."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from hybridwatch.errors import StoreError
from hybridwatch.store import EventStore, migrations, schema
from hybridwatch.store.findings_store import latest_run

STORE_DIR = Path(schema.__file__).parent
#: CREATE TABLE statements outside the schema module, and why each is not a second definition
ALLOWED = {
    ("migrations.py", "*"): "migrations spell out their own, frozen SQL",
    ("lake.py", "events"): "a lake's append buffer of event ids, rebuilt from its manifest DDL",
    ("event_views.py", "*"): "the dashboard's rollup cache, in an attached in-memory database",
}

#: The tables version 4 created with a new store; the others it created on first use.
V4_AT_CREATION = ("hybridwatch_meta", "events", "articles", "quarantine", "ingest_log",
                  "gdelt_extra", "trade_flows", "media_provenance", "watches", "alerts",
                  "source_days", "event_day_counts")
#: The findings tables as version 4 wrote them (frozen here: the truth the migration starts from).
V4_FINDINGS = """
CREATE TABLE finding_runs (
  run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
  summary VARCHAR NOT NULL, parameters VARCHAR, analysis_window VARCHAR, seed BIGINT,
  input_sha256 VARCHAR, code_version VARCHAR, pinned BOOLEAN NOT NULL DEFAULT false);
CREATE TABLE findings (
  finding_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  position INTEGER NOT NULL, tlp VARCHAR NOT NULL, item VARCHAR NOT NULL,
  PRIMARY KEY (run_id, finding_id));
"""


def _tables(path: Path) -> dict[str, list[tuple]]:
    """Each table's columns: (name, type, nullable, default), in order, and its key (views
    apart: ``_views``)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT c.table_name, column_name, data_type, is_nullable, "
                           "column_default FROM information_schema.columns c "
                           "JOIN information_schema.tables t ON t.table_name = c.table_name "
                           "AND t.table_schema = c.table_schema "
                           "WHERE c.table_schema = 'main' AND t.table_type = 'BASE TABLE' "
                           "ORDER BY c.table_name, ordinal_position").fetchall()
        keys = con.execute("SELECT table_name, constraint_text FROM duckdb_constraints() "
                           "WHERE constraint_type = 'PRIMARY KEY'").fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple]] = {}
    for table, *column in rows:
        out.setdefault(table, []).append(tuple(column))
    for table, key in keys:
        out[table].append(("key", key))
    return out


def test_a_new_store_holds_exactly_the_declared_tables(tmp_path: Path) -> None:
    EventStore(tmp_path / "new.duckdb").close()
    assert set(_tables(tmp_path / "new.duckdb")) == set(schema.TABLES)
    assert list(schema.TABLES)[:5] == ["hybridwatch_meta", "events", "articles", "quarantine",
                                       "ingest_log"]


def test_no_other_store_module_creates_a_store_table() -> None:
    pattern = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                         r"[\"']?(\w+)", re.IGNORECASE)
    found = []
    for path in sorted(STORE_DIR.glob("*.py")):
        if path.name == "schema.py":
            continue
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            if (path.name, "*") in ALLOWED or (path.name, name) in ALLOWED:
                continue
            found.append(f"{path.name}: {name}")
    assert not found, f"declare these tables in store/schema.py: {found}"
    assert "events" in schema.TABLES          # the pattern finds real table names


def _views(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() "
                                          "WHERE NOT internal").fetchall()}
    finally:
        con.close()


def _v4_store(path: Path) -> Path:
    """A version-4 store: the tables it created at once, findings tables created on first use
    with one run, nothing else (no reviews, narratives, tokens …)."""
    EventStore(path).close()
    con = duckdb.connect(str(path))
    for table in set(schema.TABLES) - set(V4_AT_CREATION):
        con.execute(f'DROP TABLE "{table}"')
    con.execute(V4_FINDINGS)
    con.execute("INSERT INTO finding_runs VALUES ('run-1', 'narrative_sync', ?, "
                "'{\"warnings\": []}', '{}', NULL, 7, 'abc', '0.1.0', false)",
                [datetime(2024, 3, 1)])
    con.execute("INSERT INTO findings VALUES ('f1', 'run-1', 'narrative_sync', 0, 'clear', "
                "'{\"narrative\": \"n0001\"}')")
    con.execute("INSERT INTO events (event_id, source, source_record_id, occurred_at, "
                "occurred_precision, domain, target_iso3s, ingest_id) VALUES "
                "('e1', 'test', 'e1', ?, 'day', 'cyber', ['DEU'], 1)", [datetime(2024, 3, 1)])
    con.execute("UPDATE hybridwatch_meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    return path


def test_a_version_4_store_migrates_to_every_table(tmp_path: Path) -> None:
    old = _v4_store(tmp_path / "v4.duckdb")
    assert set(_tables(old)) == set(V4_AT_CREATION) | {"finding_runs", "findings"}
    with pytest.raises(StoreError, match="version 4 is older"):
        EventStore(old, read_only=True)
    report = migrations.migrate_store(old)
    assert (report.from_version, report.to_version) == (4, schema.STORE_SCHEMA_VERSION)
    assert report.applied[0].startswith("4→5: Every table exists")
    EventStore(tmp_path / "new.duckdb").close()
    assert _tables(old) == _tables(tmp_path / "new.duckdb")   # same columns, types, keys
    assert _views(old) == _views(tmp_path / "new.duckdb")
    with EventStore(old, read_only=True) as store:
        run = latest_run(store, "narrative_sync")
        assert run.run_id == "run-1" and [i["finding_id"] for i in run.items] == ["f1"]
        assert store._con.execute("SELECT event_id FROM events").fetchall() == [("e1",)]
        assert store._con.execute("SELECT count(*) FROM finding_reviews").fetchall() == [(0,)]
    assert migrations.migrate_store(old).applied == ()        # already current


def test_the_frozen_migration_declares_what_the_schema_does() -> None:
    """The v5 and v6 migrations' SQL (frozen) create every table the schema declares beyond the
    ones version 4 always created (checked column by column above on a real store)."""
    frozen = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)",
                            migrations._V5_TABLES + migrations._V6_WEBHOOK_TABLES))
    assert set(schema.TABLES) - set(V4_AT_CREATION) <= frozen <= set(schema.TABLES)


#: The tables version 6 added (webhooks of watches, the delivery log).
V6_ADDED = ("watch_webhooks", "alert_deliveries")


def _v5_store(path: Path) -> Path:
    """A version-5 store (the previous version): every table but the two version 6 added, with a
    watch and its alert."""
    EventStore(path).close()
    con = duckdb.connect(str(path))
    for table in V6_ADDED:
        con.execute(f'DROP TABLE "{table}"')
    con.execute("INSERT INTO watches VALUES (1, 'DEU episodes', 'episodes', 'DEU', NULL, NULL, "
                "'amber', 'ana', ?)", [datetime(2024, 3, 1)])
    con.execute("INSERT INTO alerts VALUES (1, 1, 'f1', 'episodes', 'run-1', 'amber', "
                "'episode 2024-03-01: DEU', ?, NULL, NULL)", [datetime(2024, 3, 2)])
    con.execute("UPDATE hybridwatch_meta SET value = '5' WHERE key = 'schema_version'")
    con.close()
    return path


def test_a_version_5_store_migrates_to_the_webhook_tables(tmp_path: Path) -> None:
    from hybridwatch.store.alerts_store import list_alerts, list_watches

    old = _v5_store(tmp_path / "v5.duckdb")
    assert not set(V6_ADDED) & set(_tables(old))
    with pytest.raises(StoreError, match="version 5 is older"):
        EventStore(old, read_only=True)
    report = migrations.migrate_store(old)
    assert (report.from_version, report.to_version) == (5, 6) == (5, schema.STORE_SCHEMA_VERSION)
    assert report.applied == ("5→6: Webhooks of watches and the log of alert deliveries "
                              "(``watch add --webhook``).",)
    EventStore(tmp_path / "new.duckdb").close()
    assert _tables(old) == _tables(tmp_path / "new.duckdb")   # same columns, types, keys
    with EventStore(old) as store:
        [watch] = list_watches(store)
        assert (watch.watch_id, watch.target, watch.webhook_url) == (1, "DEU", None)
        alerts, total, _ = list_alerts(store, clearance="red")
        assert total == 1 and alerts[0].message == "episode 2024-03-01: DEU"
        assert alerts[0].delivery is None                     # no webhook: nothing to deliver
        assert store._con.execute("SELECT count(*) FROM alert_deliveries").fetchall() == [(0,)]
    assert migrations.migrate_store(old).applied == ()        # already current
