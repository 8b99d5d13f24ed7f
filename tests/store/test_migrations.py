"""Store migrations: old stores are refused with the way out, `hybridwatch migrate` upgrades them
in one transaction, and a failing step leaves the store exactly as it was."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import StoreError
from hybridwatch.store import EventFilter, EventStore, migrations
from hybridwatch.store.schema import STORE_SCHEMA_VERSION

#: The events table as version 1 wrote it (frozen here: the truth the migration must start from).
V1_EVENTS = """
CREATE TABLE events (
  event_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_record_id VARCHAR NOT NULL,
  occurred_at TIMESTAMP NOT NULL, occurred_precision VARCHAR NOT NULL, ended_at TIMESTAMP,
  actor_code VARCHAR, actor_name VARCHAR, actor_iso3 VARCHAR, target_iso3 VARCHAR,
  target_sector VARCHAR, location_name VARCHAR, location_iso3 VARCHAR, lat DOUBLE, lon DOUBLE,
  domain VARCHAR NOT NULL, source_type VARCHAR, intensity DOUBLE, intensity_kind VARCHAR,
  title VARCHAR, source_name VARCHAR, source_url VARCHAR, tlp VARCHAR, extra VARCHAR,
  ingest_id BIGINT
)"""
V1_ROWS = [  # event_id, target_iso3, title, intensity
    ("e1", "DEU", "cyber attack on a port", 3.5),
    ("e2", None, "naval exercise", None),
    ("e3", "POL", "disinformation", -2.0),
]


def _v1_store(path: Path) -> Path:
    """A version-1 store: today's tables, with the events table as version 1 had it."""
    EventStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE events")
    con.execute(V1_EVENTS)
    for event_id, target, title, intensity in V1_ROWS:
        con.execute("INSERT INTO events (event_id, source, source_record_id, occurred_at, "
                    "occurred_precision, domain, target_iso3, title, intensity, ingest_id) "
                    "VALUES (?, 'test', ?, ?, 'day', 'cyber', ?, ?, ?, 1)",
                    [event_id, event_id, datetime(2024, 3, 1), target, title, intensity])
    con.execute("UPDATE hybridwatch_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    return path


def _snapshot(path: Path) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                              "WHERE table_name = 'events' ORDER BY ordinal_position").fetchall()
        rows = con.execute("SELECT * FROM events ORDER BY event_id").fetchall()
        version = con.execute("SELECT value FROM hybridwatch_meta "
                              "WHERE key = 'schema_version'").fetchall()
    finally:
        con.close()
    return columns, rows, version


@pytest.mark.parametrize("read_only", [True, False])
def test_an_older_store_is_refused_with_the_command_that_upgrades_it(store_path, read_only):
    _v1_store(store_path)
    with pytest.raises(StoreError, match=r"version 1 is older .* `hybridwatch migrate --db "):
        EventStore(store_path, read_only=read_only)


def test_a_newer_store_is_refused(store_path):
    EventStore(store_path).close()
    con = duckdb.connect(str(store_path))
    con.execute("UPDATE hybridwatch_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        EventStore(store_path, read_only=True)
    with pytest.raises(StoreError, match="newer"):
        migrations.migrate_store(store_path)


def test_migrate_command_upgrades_every_row_and_keeps_the_rest(store_path):
    _v1_store(store_path)
    before_columns, before_rows, _ = _snapshot(store_path)
    result = CliRunner().invoke(cli, ["migrate", "--db", str(store_path), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["from_version"], report["to_version"], report["migrated"]) == \
        (1, STORE_SCHEMA_VERSION, True)
    columns, rows, version = _snapshot(store_path)
    assert version == [(str(STORE_SCHEMA_VERSION),)]
    # the one column replaced in place, every other column as it was, in the same order
    at = [c for c, _ in before_columns].index("target_iso3")
    assert columns[at] == ("target_iso3s", "VARCHAR[]")
    assert columns[:at] + columns[at + 1:] == before_columns[:at] + before_columns[at + 1:]
    expected = {"e1": ["DEU"], "e2": [], "e3": ["POL"]}
    for before, after in zip(before_rows, rows):
        assert after[at] == expected[after[0]]
        assert after[:at] + after[at + 1:] == before[:at] + before[at + 1:]
    with EventStore(store_path, read_only=True) as store:
        assert store.count_events(EventFilter(targets=("DEU",))) == 1
        assert store.stats()["by_target"] == {"DEU": 1, "POL": 1, "(unknown)": 1}
    with pytest.raises(duckdb.ConstraintException), duckdb.connect(str(store_path)) as con:
        con.execute("UPDATE events SET target_iso3s = NULL WHERE event_id = 'e1'")  # never null
    again = CliRunner().invoke(cli, ["migrate", "--db", str(store_path), "--json"])
    assert json.loads(again.stdout)["migrated"] is False  # a current store is left alone


def test_a_failing_step_leaves_the_store_exactly_as_it_was(store_path, monkeypatch):
    _v1_store(store_path)
    before = _snapshot(store_path)

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        """A step that fails half-way, after the step before it changed the table."""
        con.execute("UPDATE events SET title = 'half-migrated'")
        con.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(migrations, "STORE_SCHEMA_VERSION", STORE_SCHEMA_VERSION + 1)
    monkeypatch.setitem(migrations.MIGRATIONS, STORE_SCHEMA_VERSION + 1, broken)
    with pytest.raises(StoreError, match="failed, store unchanged"):
        migrations.migrate_store(store_path)
    assert _snapshot(store_path) == before


def test_migrate_names_what_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="no store here"):
        migrations.migrate_store(tmp_path / "missing.duckdb")
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE t (x INT)")
    result = CliRunner().invoke(cli, ["migrate", "--db", str(other)])
    assert result.exit_code == 4 and "not a hybridwatch store" in result.output
