"""A Parquet lake as a store (``store.lake``): ``--db DIR`` reads the folder ``export --parquet``
writes, with events partitioned by source and year, and ``ingest --db DIR`` appends to it. The
truth is a DuckDB store given the same files in the same order."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import StoreError
from hybridwatch.store import EventStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIRST = [FIXTURES / "gdelt" / "gdelt1_r_export.csv", FIXTURES / "acled" / "acled_sample.csv"]
LATER = [FIXTURES / "stix" / "hybrid_bundle.json", FIXTURES / "gdelt" / "malformed.export.CSV",
         FIXTURES / "euvsdisinfo" / "euvsdisinfo_sample.csv"]


def _run(*args: str) -> dict:
    done = CliRunner().invoke(cli, [*args, "--json"])
    assert done.exit_code == 0, done.output + str(done.exception)
    return json.loads(done.stdout)


def _same_stats(a: dict, b: dict) -> None:
    assert {k: v for k, v in a.items() if k != "db"} == {k: v for k, v in b.items() if k != "db"}


def test_a_lake_reads_and_appends_like_a_store(tmp_path):
    truth, start = tmp_path / "truth.duckdb", tmp_path / "start.duckdb"
    lake = tmp_path / "lake"
    _run("ingest", *map(str, FIRST), "--db", str(start), "-q")
    _run("export", "--parquet", str(lake), "--db", str(start))
    _run("ingest", *map(str, FIRST), "--db", str(truth), "-q")
    _same_stats(_run("stats", "--db", str(lake)), _run("stats", "--db", str(truth)))

    # appending: the same files again change nothing; new ones are added, duplicates dropped
    again = _run("ingest", *map(str, FIRST), "--db", str(lake), "-q")
    assert [f["status"] for f in again["files"]] == ["unchanged", "unchanged"]
    added = _run("ingest", *map(str, LATER), "--db", str(lake), "-q")
    expected = _run("ingest", *map(str, LATER), "--db", str(truth), "-q")
    for got, want in zip(added["files"], expected["files"]):
        assert {k: got[k] for k in ("status", "read", "ingested", "duplicates", "quarantined")} \
            == {k: want[k] for k in ("status", "read", "ingested", "duplicates", "quarantined")}
    assert added["ingested"] > 0
    _same_stats(_run("stats", "--db", str(lake)), _run("stats", "--db", str(truth)))
    listed = _run("events", "--limit", "1000", "--db", str(lake))
    assert listed == _run("events", "--limit", "1000", "--db", str(truth))
    def rejected(db: Path) -> list[dict]:   # when each was quarantined differs, by design
        return [{k: v for k, v in row.items() if k != "quarantined_at"}
                for row in _run("quarantine", "--db", str(db))["quarantined"]]

    assert rejected(lake) == rejected(truth)

    # every listed event file sits in the partition of its rows' source and year
    manifest = json.loads((lake / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["tables"] if e["table"] == "events")
    assert entry["partitioning"] == ["source", "year"]
    assert entry["rows"] == listed["total"]
    for file in entry["files"]:
        rows = duckdb.sql(f"SELECT DISTINCT source, year FROM '{lake / file}'").fetchall()
        assert [f"events/source={rows[0][0]}/year={rows[0][1]}"] == \
            ["/".join(Path(file).parts[:3])] and len(rows) == 1
    # a file no manifest lists (a killed append) is never read
    stray = lake / "events" / "source=gdelt" / "year=2019" / "part-stray.parquet"
    stray.parent.mkdir(parents=True, exist_ok=True)
    duckdb.sql(f"COPY (SELECT * FROM '{lake / entry['files'][0]}') TO '{stray}'")
    _same_stats(_run("stats", "--db", str(lake)), _run("stats", "--db", str(truth)))

    # the lake restores into a store like any export
    restored = tmp_path / "restored.duckdb"
    _run("import", "--parquet", str(lake), "--db", str(restored))
    _same_stats(_run("stats", "--db", str(restored)), _run("stats", "--db", str(truth)))


def test_a_lake_refuses_replace_and_a_second_writer(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    _run("ingest", str(FIRST[0]), "--db", str(lake), "-q")
    done = CliRunner().invoke(cli, ["ingest", str(FIRST[0]), "--replace", "--db", str(lake)])
    assert "--replace is not supported on a lake" in done.output
    with EventStore(lake):
        with pytest.raises(StoreError, match="in use by another writer"):
            EventStore(lake)
        with EventStore(lake, read_only=True) as reader:   # readers are never locked out
            assert reader.count_events() > 0
    with pytest.raises(StoreError, match="not a hybridwatch lake"):
        EventStore(tmp_path, read_only=True)
