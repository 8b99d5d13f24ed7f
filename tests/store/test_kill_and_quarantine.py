"""Crash leftovers and quarantine completeness (issue #14 §7), retested as the attacker did it.

``kill -9`` of a real ``hybridwatch ingest`` process, several times, each while its staging
folder beside the store is being written; after each kill a second ingest runs (a real
process too). It must find the store whole — exactly the events of the ingests that finished,
the same ingest log and quarantine — and remove the killed process's staging folder.

Identical bad records: each is stored, under its own file and line, also when a second file
holds the same bad record (the issue saw 600,005 reported and 7 stored)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hybridwatch.store import EventStore
from hybridwatch.store.staging import PREFIX
from hybridwatch.workflows.ingest import ingest_file

HEADER = "date,id,title,countries,keywords,languages,outlets\n"
BAD = "not-a-date,https://euvsdisinfo.eu/report/bad/,Broken,Poland,NATO,Russian,RT\n"


def _cases(path: Path, n_good: int, n_bad: int, tag: str) -> Path:
    good = "".join(f"2024-03-{1 + i % 28:02d},https://euvsdisinfo.eu/report/{tag}-{i}/,"
                   f"Claim {tag} {i},Poland,NATO,Russian,RT\n" for i in range(n_good))
    path.write_text(HEADER + good + BAD * n_bad, encoding="utf-8")
    return path


def _exe() -> str:
    return str(Path(sys.executable).with_name("hybridwatch"))


def _state(db: Path) -> tuple:
    with EventStore(db, read_only=True) as store:
        return store._con.execute(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM quarantine), "
            "(SELECT list(path ORDER BY ingest_id) FROM ingest_log)").fetchall()[0]


def _staging(db: Path, pid: int | None = None) -> list[Path]:
    prefix = f"{PREFIX}{db.name}-" + (f"{pid}-" if pid else "")
    return [p for p in db.parent.iterdir() if p.name.startswith(prefix)]


def _written(folder: Path) -> int:
    try:
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    except OSError:   # the folder changes while it is measured
        return 0


KILLS = 3


def test_kill_9_mid_ingest_then_the_next_ingest_finds_the_store_whole(tmp_path):
    # a row-wise format: its accepted rows are staged as Parquet beside the store (the GDELT
    # export is now ingested inside the store's connection and stages nothing)
    big = _cases(tmp_path / "big.csv", 600_000, 0, "big")
    db = tmp_path / "store" / "s.duckdb"
    db.parent.mkdir()
    first = _cases(tmp_path / "first.csv", 5, 1, "first")
    done = subprocess.run([_exe(), "ingest", str(first), "--db", str(db), "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    expected = _state(db)
    assert expected[:2] == (5, 1)
    for kill in range(KILLS):
        proc = subprocess.Popen([_exe(), "ingest", str(big), "--db", str(db), "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # kill while the staging folder is being written, later on each round
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and proc.poll() is None:
                folders = _staging(db, proc.pid)
                if folders and _written(folders[0]) > (kill + 1) * (1 << 18):  # 0.25 MiB steps
                    break
                time.sleep(0.05)
            assert proc.poll() is None, "the ingest ended before it could be killed"
            assert _staging(db, proc.pid), "no staging folder to leave behind"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        left = _staging(db, proc.pid)
        assert left and _written(left[0]) > 0   # what a killed ingest leaves
        # the next ingest (another real process) cleans it and finds the store as it was
        nxt = _cases(tmp_path / f"next{kill}.csv", 3, 2, f"next{kill}")
        done = subprocess.run([_exe(), "ingest", str(nxt), "--db", str(db), "--json"],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert (report["ingested"], report["quarantined"]) == (3, 2)
        assert not _staging(db, proc.pid), "the killed ingest's staging folder is still there"
        events, quarantined, paths = _state(db)
        assert (events, quarantined) == (expected[0] + 3, expected[1] + 2)
        assert paths == [*expected[2], str(nxt)]   # the killed file is not in the log
        expected = (events, quarantined, paths)
    assert not _staging(db)


def test_identical_bad_records_are_each_stored_under_their_file_and_line(tmp_path):
    one = _cases(tmp_path / "one.csv", 2, 5, "one")      # the same bad line 5 times
    two = _cases(tmp_path / "two.csv", 1, 3, "two")      # and 3 times in another file
    with EventStore(tmp_path / "s.duckdb") as store:
        reports = [ingest_file(store, path) for path in (one, two)]
        rows = store._con.execute("SELECT path, line, raw, reason FROM quarantine "
                                 "ORDER BY path, line").fetchall()
    assert [r.quarantined for r in reports] == [5, 3]
    # every reported rejection is a row: its own file and line, the record verbatim
    assert [(Path(p).name, line) for p, line, _, _ in rows] == \
        [("one.csv", n) for n in range(4, 9)] + [("two.csv", n) for n in range(3, 6)]
    assert {raw for _, _, raw, _ in rows} == {BAD.rstrip("\n")} or \
        {raw.rstrip("\r\n") for _, _, raw, _ in rows} == {BAD.rstrip("\n")}
    assert len({reason for *_, reason in rows}) == 1


@pytest.mark.parametrize("copies", [1, 1000])
def test_reported_quarantined_equals_rows_stored(tmp_path, copies):
    path = _cases(tmp_path / "many.csv", 1, copies, "many")
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, path)
        stored = store._con.execute("SELECT count(*), count(DISTINCT line) FROM quarantine"
                                   ).fetchall()[0]
    assert report.quarantined == stored[0] == stored[1] == copies
