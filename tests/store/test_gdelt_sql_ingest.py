"""The SQL route of a GDELT ingest (``GdeltSqlSource``: one SELECT in the store's connection,
quarantine built in SQL, records in the ``gdelt_extra`` side table) leaves the store exactly as
the adapter route (``read``: Arrow batches, ``extra`` JSON) does: the same events as readers see
them, the same quarantine rows with the same reasons and raw text, the same counts."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from hybridwatch.adapters import ReadOptions
from hybridwatch.adapters.gdelt import GdeltSqlSource, _GdeltAdapter
from hybridwatch.demo.gdelt_synth import write_gdelt2_export
from hybridwatch.errors import StrictModeError
from hybridwatch.model import gdelt_extra
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gdelt"
#: Small enough that the planted long line is refused by DuckDB itself.
OPTIONS = ReadOptions(max_record_bytes=4_000)


def _ingest(db: Path, path: Path, sql: bool, monkeypatch, **kwargs):
    with monkeypatch.context() as patch:
        if not sql:  # the adapter route: no SqlSource
            patch.setattr(_GdeltAdapter, "sql_source", lambda self, path, options: None)
        with EventStore(db) as store:
            return ingest_file(store, path, options=OPTIONS, **kwargs)


def _state(db: Path) -> dict:
    """Everything an ingest leaves, as readers see it (times of the ingest left out)."""
    with EventStore(db, read_only=True) as store:
        events = store._con.execute(
            f"SELECT e.* EXCLUDE (extra), {gdelt_extra.merged_extra_sql('e', 'x')} "
            "FROM events e LEFT JOIN gdelt_extra x USING (event_id) ORDER BY event_id"
        ).fetchall()
        quarantine = store._con.execute(
            "SELECT rejection_id, ingest_id, path, format, line, record, field, reason, raw "
            "FROM quarantine ORDER BY rejection_id").fetchall()
        log = store._con.execute(
            "SELECT ingest_id, path, fingerprint, size_bytes, format, read, ingested, "
            "duplicates, quarantined, skipped FROM ingest_log ORDER BY ingest_id").fetchall()
        days = store._con.execute("SELECT * FROM source_days ORDER BY ALL").fetchall()
        listed = store.events(limit=None).to_pylist()
    # extra compared as JSON objects (the same keys and values; key order is the file's)
    return {"events": [(*row[:-1], json.loads(row[-1]) if row[-1] else None)
                       for row in events],
            "quarantine": quarantine, "log": log, "days": days,
            "listed": [{**e, "extra": json.loads(e["extra"]) if e["extra"] else None}
                       for e in listed]}


def _with_field(line: bytes, column: str, value: bytes) -> bytes:
    fields = line.split(b"\t")
    fields[gdelt_extra.GDELT2_COLUMNS.index(column)] = value
    return b"\t".join(fields)


def _planted(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """A generated export with bad rows planted: line -> what is wrong with it."""
    path = write_gdelt2_export(tmp_path / "planted.export.CSV", 3_000, random_state=5)
    lines = path.read_bytes().split(b"\n")[:-1]
    damage = {
        2: (lines[1].replace(b"\t", b"\x01", 1), "U+0001"),
        40: (lines[39].rsplit(b"\t", 3)[0], "58 fields"),
        41: (lines[40].replace(b"\t2024", b"\t2o24", 1), "not a date"),
        300: (lines[299][:20] + b"\xc3\x28" + lines[299][20:], "not UTF-8"),
        500: (b"", "blank"),
        777: (lines[776] + b"\t" + b"Z" * 5_000, "too long"),
        1_000: (lines[0], "duplicate of line 1: first wins"),
        1_001: (_with_field(lines[1_000], "GoldsteinScale", b"99"), "out of range"),
        1_002: (_with_field(lines[1_001], "ActionGeo_CountryCode", b"XQ"), "unknown FIPS"),
        2_999: (b"X" + lines[2_998], "not an event id"),
    }
    for number, (content, _) in damage.items():
        lines[number - 1] = content
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, {n: why for n, (_, why) in damage.items()}


def test_sql_route_equals_adapter_route_on_planted_bad_rows(tmp_path, monkeypatch):
    path, damage = _planted(tmp_path)
    old, new = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    reports = [_ingest(db, path, sql, monkeypatch) for db, sql in ((old, False), (new, True))]
    before, after = _state(old), _state(new)
    assert after == before
    # and the truth planted: every damaged line but the blank one and the duplicate (stored
    # once, not quarantined) is quarantined at its own line, raw text verbatim
    rejected = {row[4] for row in after["quarantine"]}
    assert rejected >= {n for n, why in damage.items() if why not in ("blank",)} - {1_000}
    assert all(r.read == 3_000 - 1 for r in reports)   # the blank line is no record
    assert reports[1].duplicates == 1 and reports[1].quarantined == len(rejected)
    lines = path.read_bytes().split(b"\n")
    for _, _, _, _, line, _, _, _, raw in after["quarantine"]:
        assert raw == lines[line - 1].decode("utf-8", "backslashreplace")
    with EventStore(new, read_only=True) as store:  # the SQL route kept no JSON
        assert store._con.execute("SELECT count(extra) FROM events").fetchall()[0][0] == 0
        assert store._con.execute("SELECT count(*) FROM gdelt_extra").fetchall()[0][0] == \
            reports[1].ingested


@pytest.mark.parametrize("name", ["samples/20191024143000.export.CSV",
                                  "samples/gdelt1_events_20160728_sample.tsv"])
def test_sql_route_equals_adapter_route_on_real_gdelt(shared_data, tmp_path, monkeypatch, name):
    path = shared_data / "gdelt_samples_and_lookups" / name
    old, new = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    for db, sql in ((old, False), (new, True)):
        _ingest(db, path, sql, monkeypatch)
    before, after = _state(old), _state(new)
    assert after == before and len(after["events"]) > 700


@pytest.mark.parametrize("name", ["malformed.export.CSV", "gdelt1_malformed.tsv"])
def test_sql_route_equals_adapter_route_on_the_malformed_fixtures(tmp_path, monkeypatch, name):
    old, new = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    for db, sql in ((old, False), (new, True)):
        _ingest(db, FIXTURES / name, sql, monkeypatch)
    before, after = _state(old), _state(new)
    assert after == before and after["quarantine"]


def test_strict_fails_on_the_first_rejection_and_writes_nothing(tmp_path, monkeypatch):
    path, damage = _planted(tmp_path)
    db = tmp_path / "strict.duckdb"
    with pytest.raises(StrictModeError) as raised:
        _ingest(db, path, True, monkeypatch, strict=True)
    assert "line 2" in str(raised.value)      # the first damaged line
    with EventStore(db, read_only=True) as store:
        assert store._con.execute("SELECT (SELECT count(*) FROM events) + (SELECT count(*) "
                                 "FROM gdelt_extra) + (SELECT count(*) FROM quarantine)"
                                 ).fetchall()[0][0] == 0


def test_replace_and_a_second_file_keep_side_rows_with_their_events(tmp_path, monkeypatch):
    first = write_gdelt2_export(tmp_path / "a.export.CSV", 500, random_state=1)
    second = tmp_path / "b.export.CSV"  # half of it already stored: first wins across files
    lines = first.read_bytes().split(b"\n")[:-1]
    fresh = write_gdelt2_export(tmp_path / "c.export.CSV", 500, random_state=2)
    others = [b"7" + line for line in fresh.read_bytes().split(b"\n")[:-1]]  # other ids
    second.write_bytes(b"\n".join(lines[:250] + others) + b"\n")
    db = tmp_path / "store.duckdb"
    _ingest(db, first, True, monkeypatch)
    report = _ingest(db, second, True, monkeypatch)
    assert report.duplicates == 250 and report.ingested == 500
    _ingest(db, first, True, monkeypatch, replace=True)
    with EventStore(db, read_only=True) as store:
        orphans, missing = store._con.execute(
            "SELECT (SELECT count(*) FROM gdelt_extra x WHERE NOT EXISTS (SELECT 1 FROM events "
            "e WHERE e.event_id = x.event_id AND e.ingest_id = x.ingest_id)), "
            "(SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM gdelt_extra x "
            "WHERE x.event_id = e.event_id))").fetchall()[0]
    assert (orphans, missing) == (0, 0)


@pytest.mark.parametrize("packing", ["zip", "gz"])
def test_archives_are_unpacked_for_the_sql_route_with_the_same_result(tmp_path, monkeypatch,
                                                                      packing):
    path, _ = _planted(tmp_path)
    if packing == "zip":
        packed = tmp_path / "planted.export.CSV.zip"
        with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as out:
            out.write(path, path.name)
    else:
        packed = tmp_path / "planted.export.CSV.gz"
        packed.write_bytes(gzip.compress(path.read_bytes()))
    old, new = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    _ingest(old, path, False, monkeypatch)
    _ingest(new, packed, True, monkeypatch)
    before, after = _state(old), _state(new)
    # the same rows; only the path in the log and the quarantine differs
    assert after["events"] == before["events"] and after["days"] == before["days"]
    assert [row[4:] for row in after["quarantine"]] == [row[4:] for row in before["quarantine"]]
    assert [row[5:] for row in after["log"]] == [row[5:] for row in before["log"]]
    assert not list(tmp_path.glob(".hybridwatch-ingest-*"))  # the unpacked copy is gone


def test_lakes_take_the_adapter_route(tmp_path):
    plain = write_gdelt2_export(tmp_path / "p.export.CSV", 10, random_state=1)
    assert isinstance(_GdeltAdapter.__subclasses__()[0]().sql_source(plain, OPTIONS),
                      GdeltSqlSource)
    lake = tmp_path / "lake"
    lake.mkdir()
    with EventStore(lake) as store:
        report = ingest_file(store, plain)
    with EventStore(lake, read_only=True) as store:
        extras = store.events(limit=None).column("extra").to_pylist()
    assert report.ingested == 10 and all(json.loads(x)["DATEADDED"] for x in extras)


def test_typed_view_reads_the_fields_of_both_layouts(shared_data, tmp_path):
    db = tmp_path / "store.duckdb"
    samples = shared_data / "gdelt_samples_and_lookups" / "samples"
    with EventStore(db) as store:
        ingest_file(store, samples / "20191024143000.export.CSV")
        ingest_file(store, samples / "gdelt1_events_20160728_sample.tsv")
        rows = dict(store._con.execute(
            "SELECT e.source_record_id, [t.\"NumMentions\"::VARCHAR, t.\"AvgTone\"::VARCHAR, "
            "t.\"ActionGeo_FeatureID\", t.\"Actor1Geo_ADM2Code\"] FROM gdelt_extra_typed t "
            "JOIN events e USING (event_id)").fetchall())
    # 881990833 (GDELT 2.0): THE EU → Belarus, 10 mentions, tone 0.63492063492064
    assert rows["881990833"][:3] == ["10", "0.63492063492064", "-1946324"]
    assert rows["881990833"][3] is None  # ADM2 of an empty Actor1Geo
    assert len(rows) == 2111 + 710
