"""Runs are kept: no run overwrites another, a pinned run is what readers use, two runs compare
(what appeared, disappeared, moved), the CLI lists, shows, diffs and pins them, and a version-2
store (one run per kind) migrates with its run and metadata."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import StoreError
from hybridwatch.store.schema import STORE_SCHEMA_VERSION
from hybridwatch.store import EventStore, migrations
from hybridwatch.store.findings_store import (
    current_run_id, finding, finding_id, items_of, latest_run, save_run,
)
from hybridwatch.store.run_history import diff_runs, find_run, list_runs, pin_run, unpin_run


def _judgement(target: str, p: float, term: str) -> dict:
    return {"target": target, "probability": p, "phia_term": term, "confidence": "moderate",
            "statement": f"It is {term} that {target} faces an episode."}


def _assess(store: EventStore, judgements: list[dict], tlps: list[str] | None = None,
            seed: int = 1) -> str:
    return save_run(store, "assessment",
                    {"parameters": {"random_state": seed, "horizon_days": 30},
                     "provenance": {"input_sha256": "ab" * 32, "version": "9.9"},
                     "window": {"start": "2024-01-01", "end": "2024-06-30"}},
                    items_of("assessment", judgements, tlps))


@pytest.fixture
def two_runs(tmp_path: Path):
    path = tmp_path / "store.duckdb"
    with EventStore(path) as store:
        first = _assess(store, [_judgement("DEU", 0.20, "unlikely"),
                                _judgement("POL", 0.10, "highly unlikely")], seed=1)
        second = _assess(store, [_judgement("DEU", 0.35, "realistic possibility"),
                                 _judgement("TWN", 0.05, "remote chance"),
                                 _judgement("POL", 0.10, "highly unlikely")],
                         ["clear", "red", "clear"], seed=2)
    return path, first, second


def test_no_run_overwrites_another_and_the_latest_is_current(two_runs) -> None:
    path, first, second = two_runs
    with EventStore(path, read_only=True) as store:
        runs = list_runs(store, "assessment")
        assert [r.run_id for r in runs] == [second, first]          # newest first
        assert [r.current for r in runs] == [True, False]
        assert latest_run(store, "assessment").run_id == second
        old = latest_run(store, "assessment", run_id=first)
        assert [i["target"] for i in old.items] == ["DEU", "POL"]   # the first run, intact
        assert old.items[0]["probability"] == 0.20
        # metadata read from where the analysis put it
        assert (runs[1].seed, runs[1].input_sha256, runs[1].code_version) == (1, "ab" * 32,
                                                                            "9.9")
        assert runs[1].window == {"start": "2024-01-01", "end": "2024-06-30"}
        assert runs[1].parameters["horizon_days"] == 30
        # a finding's id is the same in both runs; by id, readers get the current run's
        fid = finding_id("assessment", "DEU")
        assert finding(store, fid)["probability"] == 0.35
        assert finding(store, fid)["run_id"] == second


def test_a_pinned_run_is_what_readers_use_until_unpinned(two_runs) -> None:
    path, first, second = two_runs
    with EventStore(path) as store:
        pinned = pin_run(store, first[:8])                     # a unique prefix will do
        assert pinned.pinned and pinned.current
        assert current_run_id(store, "assessment") == first
        third = _assess(store, [_judgement("USA", 0.5, "realistic possibility")], seed=3)
        # a later exploratory run does not change what readers see
        assert latest_run(store, "assessment").run_id == first
        assert finding(store, finding_id("assessment", "USA")) is None
        pin_run(store, second)                                 # one pinned run a kind
        assert [r.run_id for r in list_runs(store, "assessment") if r.pinned] == [second]
        unpin_run(store, second)
        assert current_run_id(store, "assessment") == third
        with pytest.raises(StoreError, match="no run 'abc'"):
            find_run(store, "abc")


def test_diff_says_what_appeared_disappeared_and_moved(two_runs) -> None:
    path, first, second = two_runs
    with EventStore(path, read_only=True) as store:
        found = diff_runs(store, first, second)
        assert [i["key"] for i in found["appeared"]] == ["TWN"]
        assert found["disappeared"] == []
        (deu,) = found["changed"]
        assert deu["key"] == "DEU"
        assert deu["changes"]["probability"] == {"from": 0.20, "to": 0.35}
        assert deu["changes"]["phia_term"] == {"from": "unlikely",
                                               "to": "realistic possibility"}
        assert found["unchanged"] == 1                          # POL
        back = diff_runs(store, second, first)
        assert [i["key"] for i in back["disappeared"]] == ["TWN"]
        # at GREEN the RED judgement is on neither side
        green = diff_runs(store, first, second, clearance="green")
        assert green["appeared"] == [] and green["withheld"] == {"a": 0, "b": 1}


def test_diff_refuses_runs_of_two_kinds(two_runs) -> None:
    path, first, _ = two_runs
    with EventStore(path) as store:
        other = save_run(store, "convergence", {}, items_of("convergence", [
            {"period": "2024-01", "index": 0.1}]))
        with pytest.raises(StoreError, match="different kinds"):
            diff_runs(store, first, other)


def _cli(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_findings_commands(two_runs) -> None:
    path, first, second = two_runs
    db = str(path)
    listed = _cli("findings", "list", "--kind", "assessment", "--db", db, "--json")["runs"]
    assert [r["id"] for r in listed] == [second, first]
    assert set(listed[0]) >= {"id", "kind", "created_at", "parameters", "pinned", "reviewed"}
    shown = _cli("findings", "show", first, "--db", db, "--json")
    assert shown["id"] == first and [i["target"] for i in shown["items"]] == ["DEU", "POL"]
    assert shown["seed"] == 1
    diff = _cli("findings", "diff", first, second, "--db", db, "--json")
    assert [i["key"] for i in diff["appeared"]] == ["TWN"]
    assert _cli("findings", "pin", first, "--db", db, "--json")["pinned"] is True
    assert _cli("findings", "list", "--db", db, "--json")["runs"][1]["current"] is True
    assert _cli("findings", "unpin", first, "--db", db, "--json")["pinned"] is False
    missing = CliRunner().invoke(cli, ["findings", "show", "nosuchrun", "--db", db])
    assert missing.exit_code == 4 and "no run" in missing.output
    unknown = CliRunner().invoke(cli, ["findings", "list", "--kind", "nope", "--db", db])
    assert unknown.exit_code == 4 and "unknown finding kind 'nope'" in unknown.output


#: The findings tables as version 2 wrote them (frozen: the truth the migration starts from).
V2_FINDINGS = """
CREATE TABLE finding_runs (run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL, summary VARCHAR NOT NULL);
CREATE TABLE findings (finding_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL, position INTEGER NOT NULL, tlp VARCHAR NOT NULL,
  item VARCHAR NOT NULL);
"""


def test_a_version_2_store_migrates_with_its_run(tmp_path: Path) -> None:
    path = tmp_path / "v2.duckdb"
    EventStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE findings; DROP TABLE finding_runs")   # created on first use in v2
    con.execute(V2_FINDINGS)
    summary = {"parameters": {"min_domains": 3}, "random_state": 7,
               "provenance": {"input_sha256": "cd" * 32, "version": "0.0.9"},
               "window": {"start": "2024-01-01", "end": "2024-03-31", "reason": "dense"}}
    con.execute("INSERT INTO finding_runs VALUES ('r1', 'episodes', ?, ?)",
                [datetime(2024, 4, 1, 12), json.dumps(summary)])
    item = {"start": "2024-02-01", "end": "2024-02-03", "targets": ["DEU"],
            "domains": ["cyber", "information"], "event_ids": []}
    fid = finding_id("episodes", "2024-02-01:2024-02-03:DEU:cyber,information")
    con.execute("INSERT INTO findings VALUES (?, 'r1', 'episodes', 0, 'amber', ?)",
                [fid, json.dumps(item)])
    con.execute("UPDATE hybridwatch_meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="hybridwatch migrate"):
        EventStore(path)
    report = migrations.migrate_store(path)
    assert (report.from_version, report.to_version) == (2, STORE_SCHEMA_VERSION)
    with EventStore(path) as store:
        (run,) = list_runs(store)
        assert (run.run_id, run.kind, run.seed, run.input_sha256, run.code_version) == (
            "r1", "episodes", 7, "cd" * 32, "0.0.9")
        assert run.window["reason"] == "dense" and run.parameters == {"min_domains": 3}
        assert not run.pinned and run.current and run.n_items == 1
        assert latest_run(store, "episodes").items[0]["tlp"] == "amber"
        # the same finding in a new run: findings now key on (run, finding)
        save_run(store, "episodes", {}, items_of("episodes", [item]))
        assert len(list_runs(store, "episodes")) == 2


def test_each_analysis_command_prints_its_run_id(tmp_path: Path) -> None:
    """`episodes --json` (a real analysis on a real fixture) prints the run it recorded."""
    from hybridwatch.demo.scenario import generate_scenario

    files = generate_scenario(tmp_path / "scenario", random_state=3, days=60)
    db = str(tmp_path / "store.duckdb")
    for source, format_name, _ in files.inputs():
        if format_name in ("gdelt2", "stix"):
            assert CliRunner().invoke(cli, ["ingest", str(source), "--format", format_name,
                                            "--db", db, "-q"]).exit_code == 0
    report = _cli("episodes", "--target-group", "DEU,POL,TWN", "--surrogates", "19",
                  "--seed", "1", "--db", db, "--json")
    again = _cli("episodes", "--target-group", "DEU,POL,TWN", "--surrogates", "19",
                 "--seed", "2", "--db", db, "--json")
    runs = _cli("findings", "list", "--kind", "episodes", "--db", db, "--json")["runs"]
    assert [r["id"] for r in runs] == [again["run_id"], report["run_id"]]
    # what a run records of itself: the seed it used, the input it read, the code version
    assert [r["seed"] for r in runs] == [2, 1]
    assert runs[0]["input_sha256"] == report["provenance"]["input_sha256"]
    assert runs[0]["code_version"] == report["provenance"]["version"]
    assert runs[0]["window"]["start"] == report["window"]["start"]
