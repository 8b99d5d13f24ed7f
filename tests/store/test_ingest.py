"""Ingest into the DuckDB store: transactions, idempotency, quarantine, strict mode, Parquet."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import duckdb
import pytest

from hybridwatch.errors import InputError, StoreError, StrictModeError
from hybridwatch.store import EventFilter, EventStore
from hybridwatch.workflows.ingest import ingest_file

EUVSDISINFO_HEADER = "date,id,title,countries,keywords,languages,outlets\n"


def _write_cases(path: Path, rows: list[str]) -> Path:
    path.write_text(EUVSDISINFO_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


GOOD = [
    "2024-03-01,https://euvsdisinfo.eu/report/a/,Poland provokes Russia,Poland,NATO,Russian,RT",
    "2024-03-02,https://euvsdisinfo.eu/report/b/,Germany is not sovereign,Germany,Germany,German,Sputnik",
]
BAD_DATE = "2024-13-45,https://euvsdisinfo.eu/report/c/,Bad date case,Poland,NATO,Russian,RT"


def _counts(path: Path) -> tuple[int, int, int]:
    with EventStore(path, read_only=True) as store:
        s = store.stats()
        return s["events"], s["quarantined"], s["files_ingested"]


def test_ingest_keeps_good_records_and_quarantines_bad_ones_verbatim(tmp_path, store_path):
    src = _write_cases(tmp_path / "cases.csv", [GOOD[0], BAD_DATE, GOOD[1]])
    with EventStore(store_path) as store:
        report = ingest_file(store, src)
        quarantined = store.quarantine().to_pylist()
        stored = store.events().to_pylist()
    assert (report.status, report.format) == ("ingested", "euvsdisinfo")
    assert (report.read, report.ingested, report.duplicates, report.quarantined) == (3, 2, 0, 1)
    assert [e["title"] for e in stored] == ["Poland provokes Russia", "Germany is not sovereign"]
    assert [e["target_iso3s"] for e in stored] == [["POL"], ["DEU"]]
    [bad] = quarantined
    assert bad["line"] == 3 and bad["field"] == "date"
    assert bad["raw"].rstrip("\r\n") == BAD_DATE
    assert bad["path"] == str(src)


def test_reingest_same_file_is_a_noop_and_fast(tmp_path, store_path):
    src = _write_cases(tmp_path / "cases.csv", GOOD)
    with EventStore(store_path) as store:
        first = ingest_file(store, src)
        started = time.perf_counter()
        again = ingest_file(store, src)
        elapsed = time.perf_counter() - started
    assert first.ingested == 2
    assert again.status == "unchanged" and again.ingested == 0 and again.read == 0
    assert again.ingest_id == first.ingest_id
    assert elapsed < 1.0
    assert _counts(store_path) == (2, 0, 1)


def test_changed_file_with_same_records_adds_only_new_ones(tmp_path, store_path):
    src = _write_cases(tmp_path / "cases.csv", GOOD)
    grown = _write_cases(tmp_path / "cases2.csv", [*GOOD, GOOD[0].replace("/a/", "/z/")])
    with EventStore(store_path) as store:
        ingest_file(store, src)
        report = ingest_file(store, grown)
    assert (report.read, report.ingested, report.duplicates) == (3, 1, 2)
    assert _counts(store_path)[0] == 3


def test_duplicate_records_within_one_file_are_stored_once_first_wins(tmp_path, store_path):
    retitled = GOOD[0].replace("Poland provokes Russia", "Later copy")
    src = _write_cases(tmp_path / "cases.csv", [GOOD[0], retitled, GOOD[1], GOOD[0]])
    with EventStore(store_path) as store:
        report = ingest_file(store, src)
        titles = {e["title"] for e in store.events().to_pylist()}
    assert (report.ingested, report.duplicates) == (2, 2)
    assert titles == {"Poland provokes Russia", "Germany is not sovereign"}


def test_strict_mode_fails_the_file_and_writes_nothing(tmp_path, store_path):
    src = _write_cases(tmp_path / "cases.csv", [GOOD[0], BAD_DATE, GOOD[1]])
    with EventStore(store_path) as store:
        with pytest.raises(StrictModeError) as caught:
            ingest_file(store, src, strict=True)
    assert "line 3" in str(caught.value) and "date" in str(caught.value)
    assert str(src) in str(caught.value)
    assert _counts(store_path) == (0, 0, 0)


def test_empty_and_unrecognised_files_raise_clear_errors(tmp_path, store_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    odd = tmp_path / "odd.txt"
    odd.write_text("hello\nworld\n")
    with EventStore(store_path) as store:
        with pytest.raises(InputError, match="empty"):
            ingest_file(store, empty)
        with pytest.raises(InputError, match="format not recognised"):
            ingest_file(store, odd)
        with pytest.raises(InputError, match="no such file"):
            ingest_file(store, tmp_path / "missing.csv")
    assert _counts(store_path) == (0, 0, 0)


def test_real_euvsdisinfo_ingest_counts_and_idempotency(shared_data, store_path):
    src = shared_data / "euvsdisinfo_cknabs" / "posts.csv"
    with open(src, newline="", encoding="utf-8") as handle:
        n_rows = sum(1 for _ in csv.DictReader(handle))
    with EventStore(store_path) as store:
        report = ingest_file(store, src)
        assert report.read == n_rows
        assert report.ingested + report.duplicates + report.quarantined == n_rows
        stored = store.count_events(EventFilter(sources=("euvsdisinfo",)))
        assert stored == report.ingested
        assert store.count_events(EventFilter(domains=("information",))) == stored
        again = ingest_file(store, src)
    assert again.status == "unchanged"
    assert _counts(store_path)[0] == stored


def test_parquet_export_import_round_trip(tmp_path, store_path):
    src = _write_cases(tmp_path / "cases.csv", [GOOD[0], BAD_DATE, GOOD[1]])
    with EventStore(store_path) as store:
        ingest_file(store, src)
        written = store.export_parquet(tmp_path / "export")["tables"]
        original = store.events(limit=None).sort_by("event_id")
    assert written["events"]["rows"] == 2 and written["quarantine"]["rows"] == 1
    other = tmp_path / "other.duckdb"
    with EventStore(other) as store:
        added = store.import_parquet(tmp_path / "export")
        # every table is restored; only these hold rows here
        assert {t: n for t, n in added.items() if n} == {"events": 2, "quarantine": 1,
                                                         "ingest_log": 1}
        assert {"articles", "trade_flows"} <= set(added)
        assert store.events(limit=None).sort_by("event_id").equals(original)
        # an import restores a store: a second one into a store holding data is refused
        with pytest.raises(StoreError, match="already holds data"):
            store.import_parquet(tmp_path / "export")
        # the imported log still recognises the file: re-ingesting it does nothing
        assert ingest_file(store, src).status == "unchanged"
    # exports of stores from before the trade_flows table existed (their manifest does not
    # list it) still import
    (tmp_path / "export" / "trade_flows.parquet").unlink()
    manifest_path = tmp_path / "export" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["tables"] = [e for e in manifest["tables"] if e["table"] != "trade_flows"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with EventStore(tmp_path / "third.duckdb") as store:
        assert store.import_parquet(tmp_path / "export")["events"] == 2


def test_store_refuses_foreign_databases(tmp_path):
    foreign = tmp_path / "foreign.duckdb"
    duckdb.connect(str(foreign)).execute("CREATE TABLE t (x INT)").close()
    with pytest.raises(StoreError, match="not a hybridwatch store"):
        EventStore(foreign)
    text = tmp_path / "notes.duckdb"
    text.write_text("just some notes\n" * 100)
    with pytest.raises(StoreError):
        EventStore(text)
    with pytest.raises(StoreError, match="no store here"):
        EventStore(tmp_path / "absent.duckdb", read_only=True)
