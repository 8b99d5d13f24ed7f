"""`--as-of` on `assess` and `backtest`, and the default as_of that stray records do not move.

The store is generated here (not by the demo): an incident log in CSV with its own mapping,
two targets × two domains reported daily from 2021-01-01 to 2023-06-30, optionally with stray
records — one dated 1982, one mistyped into the 2090s (after the day it was ingested), one in
2026 after a 2½-year silence. The expected numbers are counted from the generated rows with
Python dates, independently of the store and its SQL.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hybridwatch.adapters import ReadOptions
from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.workflows.as_of import default_as_of

FIRST, LAST = date(2021, 1, 1), date(2023, 6, 30)
STRAYS = [("S-1982", date(1982, 5, 17), "EST", "cyber"),
          ("S-2091", date(2091, 2, 3), "LVA", "cyber"),       # 2021 typed as 2091
          ("S-2026", date(2026, 1, 12), "EST", "military")]   # far beyond the log's coverage
MAPPING = """
[source]
name = "incident_log"
format = "csv"

[fields]
source_record_id = "ref"
occurred_at = { column = "day", format = "%Y-%m-%d" }
domain = { column = "kind", map = { CYB = "cyber", MIL = "military" } }
target_iso3 = { column = "victim", system = "auto" }
title = "{kind} incident {ref}"
"""


def _rows(seed: int = 11) -> list[tuple[str, date, str, str]]:
    """(ref, day, target, domain): Poisson counts per day, target and domain, the last day
    always reported (so the dense coverage ends exactly on LAST)."""
    rng = np.random.default_rng(seed)
    rows = []
    n_days = (LAST - FIRST).days + 1
    for target, rate in (("EST", 1.2), ("LVA", 0.7)):
        for kind, domain in (("CYB", "cyber"), ("MIL", "military")):
            counts = rng.poisson(rate * (1.0 if kind == "CYB" else 0.5), n_days)
            counts[-1] = max(counts[-1], 1)
            for offset in np.flatnonzero(counts):
                for _ in range(counts[offset]):
                    rows.append((f"R{len(rows)}", FIRST + timedelta(days=int(offset)), target,
                                 domain))
    return rows


def _store(tmp_path: Path, rows) -> Path:
    csv_path, mapping = tmp_path / "incidents.csv", tmp_path / "incidents.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    code = {"cyber": "CYB", "military": "MIL"}
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["ref", "day", "victim", "kind"])
        writer.writerows((ref, day.isoformat(), target, code[domain])
                         for ref, day, target, domain in rows)
    db = tmp_path / "store.duckdb"
    with EventStore(db) as store:
        ingest_file(store, csv_path, format="mapped",
                    options=ReadOptions(mapping_path=mapping))
    return db


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory):
    return _store(tmp_path_factory.mktemp("clean"), _rows())


@pytest.fixture(scope="module")
def stray_db(tmp_path_factory):
    return _store(tmp_path_factory.mktemp("stray"), _rows() + STRAYS)


def _invoke(args, db):
    return CliRunner().invoke(cli, args + ["--db", str(db)])


def _json(args, db):
    result = _invoke(args + ["--json"], db)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_default_as_of_is_the_last_densely_covered_day(clean_db):
    report = _json(["assess"], clean_db)
    assert report["as_of"] == LAST.isoformat()
    assert report["as_of_choice"]["method"] == "dense_last"
    assert report["as_of_choice"]["n_outliers"] == 0
    assert "incident_log" in report["as_of_choice"]["reason"]


def test_stray_records_do_not_move_the_default_as_of_and_are_named(stray_db):
    with EventStore(stray_db, read_only=True) as store:
        chosen = default_as_of(store)
    assert chosen.day == LAST
    assert chosen.latest_event == date(2026, 1, 12)
    # the 2091 record never reached the events: ingest quarantined it, dated after its ingest
    # time; the record dated after the coverage is named (the 1982 one is before it: as_of
    # is not about the start)
    with EventStore(stray_db, read_only=True) as store:
        [rejected] = store.quarantine().to_pylist()
    assert rejected["raw"].startswith("S-2091,2091-02-03")
    assert rejected["reason"].startswith("dated after its ingest time (2091-02-03")
    assert chosen.n_outliers == 1
    assert {(o["source_record_id"], o["date"]) for o in chosen.outliers} == \
        {("S-2026", "2026-01-12")}
    why = {o["source_record_id"]: o["why"] for o in chosen.outliers}
    assert "gap" in why["S-2026"]
    warning = chosen.warning()
    assert "S-2026" in warning and "'incident_log'" in warning
    report = _json(["assess"], stray_db)
    assert report["as_of"] == LAST.isoformat()
    assert any("S-2026" in w for w in report["warnings"])
    # the strays left out, the assessment is the one of the clean log up to as_of
    # (the 1982 record lengthens Estonia's history, so only Latvia's numbers are compared)
    latvia = next(t for t in report["targets"] if t["target"] == "LVA")
    assert latvia["recent_counts"] == _recent_counts(_rows(), "LVA", LAST)


def _recent_counts(rows, target: str, as_of: date, days: int = 30) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, day, t, domain in rows:
        if t == target and as_of - timedelta(days=days) < day <= as_of:
            counts[domain] = counts.get(domain, 0) + 1
    return counts


def test_as_of_reads_only_the_data_up_to_that_day(clean_db):
    rows = _rows()
    as_of = date(2022, 9, 14)
    report = _json(["assess", "--as-of", as_of.isoformat()], clean_db)
    assert report["as_of"] == as_of.isoformat()
    assert report["as_of_choice"]["method"] == "explicit"
    full = _json(["assess"], clean_db)
    for target in ("EST", "LVA"):
        item = next(t for t in report["targets"] if t["target"] == target)
        assert item["recent_counts"] == _recent_counts(rows, target, as_of)
        assert item["recent_counts"] != next(
            t for t in full["targets"] if t["target"] == target)["recent_counts"]
        first = min(day for _, day, t, _ in rows if t == target)
        assert item["history_days"] == (as_of - first).days + 1
        cited = [e["date"] for e in item["evidence"] if e["kind"] == "event"]
        assert cited and max(cited) <= as_of.isoformat()
        # the latest events on or before as_of are the ones cited
        assert max(cited) == max(day for _, day, t, _ in rows if t == target
                                 and day <= as_of).isoformat()
    backtest = _json(["backtest", "--as-of", as_of.isoformat()], clean_db)
    assert backtest["as_of"] == as_of.isoformat()
    assert backtest["by_outcome"]["elevated"]["n_forecasts"] < \
        _json(["backtest"], clean_db)["by_outcome"]["elevated"]["n_forecasts"]


@pytest.mark.parametrize("text, message", [
    ("2023-02-30", "day is out of range"), ("2023-13-01", "month must be in 1..12"),
    ("30/06/2023", "use YYYY-MM-DD"), ("1999-12-31", "before the first hostile event"),
])
def test_bad_as_of_is_a_clear_error(clean_db, text, message):
    for command in ("assess", "backtest"):
        result = _invoke([command, "--as-of", text], clean_db)
        assert result.exit_code != 0
        assert "--as-of" in result.output and message in result.output, result.output


def test_as_of_after_the_data_says_the_days_count_as_quiet(clean_db):
    report = _json(["assess", "--as-of", "2023-08-29"], clean_db)
    assert report["as_of"] == "2023-08-29"
    assert "60 day(s) after the latest hostile event (2023-06-30)" in \
        report["as_of_choice"]["reason"]
    assert all(not t["recent_counts"] for t in report["targets"])
