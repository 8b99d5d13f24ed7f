"""Fingerprints that cover the mapping, ``--replace`` (one transaction), every rejected row
kept with its line, and stores written before these rules.

Files are written here by hand; the truth each test compares with is either written out or a
fresh store that ingested only the corrected file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import StrictModeError
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.ingest import fingerprint_file, ingest_fingerprint

HEADER = "date,id,title,countries,keywords,languages,outlets\n"


def _cases(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def case(n: int, title: str = "Case", date: str = "2024-03-01", country: str = "Poland") -> str:
    return f"{date},https://euvsdisinfo.eu/report/{n}/,{title} {n},{country},NATO,Russian,RT"


def _rows(store: EventStore, sql: str) -> list[tuple]:
    return store._con.execute(sql).fetchall()


EVENTS_SQL = "SELECT event_id, occurred_at, title, target_iso3s FROM events ORDER BY event_id"
QUARANTINE_SQL = ("SELECT rejection_id, path, format, line, record, field, reason, raw "
                  "FROM quarantine ORDER BY ALL")


# --------------------------------------------------------------------------- quarantine: every row

def test_identical_bad_rows_on_two_lines_are_two_quarantine_entries(tmp_path, store_path):
    bad = "not-a-date,https://euvsdisinfo.eu/report/x/,Broken,Poland,NATO,Russian,RT"
    src = _cases(tmp_path / "cases.csv", [case(1), bad, case(2), bad])
    done = CliRunner().invoke(cli, ["ingest", str(src), "--db", str(store_path), "--json"])
    printed = json.loads(done.stdout)["quarantined"]
    with EventStore(store_path, read_only=True) as store:
        rows = store.quarantine().to_pylist()
        stats = store.stats()
        logged = _rows(store, "SELECT quarantined FROM ingest_log")[0][0]
    assert printed == 2 == len(rows) == stats["quarantined"] == logged
    assert [(r["position"], r["line"], r["field"]) for r in rows] == [(1, 3, "date"),
                                                                      (2, 5, "date")]
    assert rows[0]["raw"].rstrip("\r\n") == rows[1]["raw"].rstrip("\r\n") == bad


def test_the_same_bad_row_in_two_files_is_kept_for_each(tmp_path, store_path):
    bad = "not-a-date,https://euvsdisinfo.eu/report/x/,Broken,Poland,NATO,Russian,RT"
    first = _cases(tmp_path / "a.csv", [case(1), bad])
    second = _cases(tmp_path / "b.csv", [case(2), bad])
    with EventStore(store_path) as store:
        reports = [ingest_file(store, first), ingest_file(store, second)]
        rows = store.quarantine().to_pylist()
    assert [r.quarantined for r in reports] == [1, 1]
    assert [(r["path"], r["line"]) for r in rows] == [(str(first), 3), (str(second), 3)]


# --------------------------------------------------------------------------- fingerprint + mapping

MAPPING = """
[source]
name = "incident_log"

[fields]
source_record_id = "ref"
occurred_at = {{ column = "when", format = "{date_format}" }}
domain = {{ const = "cyber" }}
target_iso3 = {{ column = "victim", system = "name" }}
title = "note"
"""
TABLE = "ref,when,victim,note\nA1,03/01/2024,Germany,port outage\nA2,04/01/2024,Poland,rail hack\n"


def test_a_corrected_mapping_ingests_the_same_file_again(tmp_path, store_path):
    table = tmp_path / "incidents.csv"
    table.write_text(TABLE, encoding="utf-8")
    wrong, right = tmp_path / "wrong.toml", tmp_path / "right.toml"
    wrong.write_text(MAPPING.format(date_format="%Y-%m-%d"), encoding="utf-8")  # not the file's
    right.write_text(MAPPING.format(date_format="%d/%m/%Y"), encoding="utf-8")
    file_sha, _ = fingerprint_file(table)
    with EventStore(store_path) as store:
        first = ingest_file(store, table, format="mapped",
                            options=_mapping(wrong))
        again = ingest_file(store, table, format="mapped", options=_mapping(wrong))
        fixed = ingest_file(store, table, format="mapped", options=_mapping(right))
        log = _rows(store, "SELECT fingerprint FROM ingest_log ORDER BY ingest_id")
        events = _rows(store, "SELECT source_record_id, occurred_at::DATE::VARCHAR, target_iso3s "
                              "FROM events ORDER BY 1")
    assert (first.status, first.ingested, first.quarantined) == ("ingested", 0, 2)
    assert again.status == "unchanged" and again.ingest_id == first.ingest_id
    assert (fixed.status, fixed.ingested, fixed.quarantined) == ("ingested", 2, 0)
    assert any("--replace" in w for w in fixed.warnings)        # the old rejections remain
    assert events == [("A1", "2024-01-03", ["DEU"]), ("A2", "2024-01-04", ["POL"])]
    import hashlib
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (wrong, right)]
    assert log == [(ingest_fingerprint(file_sha, "mapped", d),) for d in digests]


def _mapping(path: Path):
    from hybridwatch.adapters import ReadOptions

    return ReadOptions(mapping_path=path)


def test_another_format_is_another_fingerprint(tmp_path, store_path):
    src = _cases(tmp_path / "cases.csv", [case(1)])
    sha, _ = fingerprint_file(src)
    assert ingest_fingerprint(sha, "euvsdisinfo", None) != ingest_fingerprint(sha, "acled", None)
    assert ingest_fingerprint(sha, "mapped", "a" * 64) != ingest_fingerprint(sha, "mapped",
                                                                             "b" * 64)


# --------------------------------------------------------------------------- --replace

def test_replace_round_trip_equals_a_fresh_ingest_of_the_corrected_file(tmp_path, store_path):
    bad = "2024-13-45,https://euvsdisinfo.eu/report/9/,Bad date,Poland,NATO,Russian,RT"
    src = tmp_path / "cases.csv"
    _cases(src, [case(1), case(2), bad, case(3)])
    other = _cases(tmp_path / "other.csv", [case(7, country="Germany")])
    with EventStore(store_path) as store:
        ingest_file(store, src)
        ingest_file(store, other)
    # corrected: case 2 retitled, the bad date fixed, case 3 withdrawn, case 4 new
    _cases(src, [case(1), case(2, title="Retitled"), case(9, date="2024-03-05"), case(4)])
    done = CliRunner().invoke(cli, ["ingest", str(src), "--replace", "--db", str(store_path),
                                    "--json"])
    assert done.exit_code == 0, done.output
    [report] = json.loads(done.stdout)["files"]
    assert (report["replaced"], report["removed"], report["ingested"]) == (1, 3, 4)
    fresh = tmp_path / "fresh.duckdb"
    with EventStore(fresh) as store:
        ingest_file(store, src)
        ingest_file(store, other)
        expected_events = _rows(store, EVENTS_SQL)
    with EventStore(store_path, read_only=True) as store:
        assert _rows(store, EVENTS_SQL) == expected_events
        assert _rows(store, "SELECT title FROM events WHERE title LIKE 'Retitled%'") == \
            [("Retitled 2",)]
        assert _rows(store, QUARANTINE_SQL) == []       # the old rejection went with its ingest
        log = _rows(store, "SELECT ingest_id, path, ingested FROM ingest_log ORDER BY 1")
    assert log == [(2, str(other), 1), (3, str(src), 4)]  # ids are never reused


def test_replace_of_a_never_ingested_file_just_ingests(tmp_path, store_path):
    src = _cases(tmp_path / "cases.csv", [case(1)])
    with EventStore(store_path) as store:
        report = ingest_file(store, src, replace=True)
    assert (report.status, report.ingested, report.replaced, report.removed) == \
        ("ingested", 1, 0, 0)


def test_a_failed_replace_changes_nothing(tmp_path, store_path):
    src = _cases(tmp_path / "cases.csv", [case(1), "bad,row"])
    with EventStore(store_path) as store:
        ingest_file(store, src)
        before = [_rows(store, sql) for sql in (EVENTS_SQL, QUARANTINE_SQL,
                                                 "SELECT * FROM ingest_log")]
        _cases(src, [case(5), "still,bad"])
        with pytest.raises(StrictModeError):
            ingest_file(store, src, replace=True, strict=True)
        after = [_rows(store, sql) for sql in (EVENTS_SQL, QUARANTINE_SQL,
                                                "SELECT * FROM ingest_log")]
    assert after == before and len(before[0]) == 1 and len(before[1]) == 1


def test_replace_keeps_assignments_of_articles_it_reinserts(tmp_path, store_path):
    lines = [{"outlet": "rt.com", "published_at": f"2024-03-0{d}T08:00:00Z",
              "title": f"headline {d}", "id": f"a{d}"} for d in (1, 2, 3)]
    src = tmp_path / "articles.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    with EventStore(store_path) as store:
        ingest_file(store, src)
        ids = [r[0] for r in _rows(store, "SELECT article_id FROM articles ORDER BY 1")]
        store._con.executemany("INSERT INTO article_narratives VALUES (?, 'n0001', 0.9)",
                              [[i] for i in ids])
        src.write_text("".join(json.dumps(x) + "\n" for x in lines[:2]), encoding="utf-8")
        report = ingest_file(store, src, replace=True)
        kept = _rows(store, "SELECT count(*) FROM article_narratives")[0][0]
    assert (report.removed, report.ingested) == (3, 2) and kept == 2


# --------------------------------------------------------------------------- earlier stores

def test_files_and_rejections_of_stores_written_before_these_rules(tmp_path, store_path):
    """Earlier versions fingerprinted the bytes alone and gave a rejection the md5 of its
    content: such a file is still "already ingested", its rejections still listed."""
    src = _cases(tmp_path / "cases.csv", [case(1), "bad,row"])
    sha, _ = fingerprint_file(src)
    with EventStore(store_path) as store:
        ingest_file(store, src)
        store._con.execute("UPDATE ingest_log SET fingerprint = ?", [sha])
        store._con.execute("UPDATE quarantine SET rejection_id = md5(raw)")
        again = ingest_file(store, src)
        [old] = store.quarantine().to_pylist()
    assert again.status == "unchanged" and again.ingest_id == 1
    assert old["position"] is None and old["line"] == 3


def test_replace_removes_the_trade_flows_of_the_earlier_ingest(tmp_path, store_path):
    fixture = Path(__file__).parents[1] / "fixtures" / "trade" / "comtrade_monthly.csv"
    lines = fixture.read_text(encoding="utf-8").splitlines(keepends=True)
    src = tmp_path / "comtrade.csv"
    src.write_text("".join(lines), encoding="utf-8")
    flows = "SELECT * EXCLUDE (ingest_id) FROM trade_flows ORDER BY ALL"
    with EventStore(store_path) as store:
        first = ingest_file(store, src)
        src.write_text("".join(lines[:3]), encoding="utf-8")   # the header and two rows
        report = ingest_file(store, src, replace=True)
        replaced = _rows(store, flows)
    with EventStore(tmp_path / "fresh.duckdb") as store:
        ingest_file(store, src)
        fresh = _rows(store, flows)
    assert first.ingested == 6 and report.removed == 6
    assert replaced == fresh and len(fresh) == report.ingested == 2
