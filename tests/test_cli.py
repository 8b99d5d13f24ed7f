"""The CLI contract: command names, JSON keys, exit codes. Parses --json, never matches prose."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.store import EventStore

CASES = (
    "date,id,title,countries,keywords,languages,outlets\n"
    "2024-03-01,https://euvsdisinfo.eu/report/a/,Poland provokes Russia,Poland,NATO,Russian,RT\n"
    "2024-03-04,https://euvsdisinfo.eu/report/b/,Germany is not sovereign,Germany,Germany,German,Sputnik\n"
    "not-a-date,https://euvsdisinfo.eu/report/c/,Broken,Poland,NATO,Russian,RT\n"
)


def run(*args: str, env: dict | None = None) -> tuple[int, dict | str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    out = result.stdout
    try:
        payload = json.loads(out) if "--json" in args else out
    except json.JSONDecodeError:
        payload = out
    return result.exit_code, payload, result.stderr


@pytest.fixture
def cases_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text(CASES, encoding="utf-8")
    return path


def test_ingest_json_contract_and_reingest(cases_file, store_path):
    code, out, _ = run("ingest", str(cases_file), "--db", str(store_path), "--json")
    assert code == 0
    assert {k: out[k] for k in ("read", "ingested", "duplicates", "quarantined")} == \
        {"read": 3, "ingested": 2, "duplicates": 0, "quarantined": 1}
    [file_report] = out["files"]
    assert file_report["format"] == "euvsdisinfo" and file_report["status"] == "ingested"
    code, out, _ = run("ingest", str(cases_file), "--db", str(store_path), "--json")
    assert code == 0 and out["ingested"] == 0 and out["files"][0]["status"] == "unchanged"


def test_db_from_environment(cases_file, store_path):
    env = {"HYBRIDWATCH_DB": str(store_path)}
    assert run("ingest", str(cases_file), "--quiet", env=env)[0] == 0
    code, out, _ = run("stats", "--json", env=env)
    assert code == 0 and out["events"] == 2 and out["db"] == str(store_path)


def test_stats_events_quarantine_json(cases_file, store_path):
    run("ingest", str(cases_file), "--db", str(store_path), "--quiet")
    code, stats, _ = run("stats", "--db", str(store_path), "--json")
    assert code == 0
    assert (stats["events"], stats["articles"], stats["quarantined"]) == (2, 0, 1)
    assert stats["by_domain"] == {"information": 2}
    assert stats["by_source"] == {"euvsdisinfo": 2}
    assert stats["by_target"] == {"DEU": 1, "POL": 1}
    assert stats["first_event"].startswith("2024-03-01")
    assert stats["last_event"].startswith("2024-03-04")

    code, listed, _ = run("events", "--db", str(store_path), "--target", "POL", "--json")
    assert code == 0 and listed["total"] == 1
    assert listed["events"][0]["title"] == "Poland provokes Russia"
    code, listed, _ = run("events", "--db", str(store_path), "--since", "2024-03-02", "--json")
    assert [e["target_iso3s"] for e in listed["events"]] == [["DEU"]]
    code, listed, _ = run("events", "--db", str(store_path), "--domain", "cyber", "--json")
    assert listed["total"] == 0

    code, quarantined, _ = run("quarantine", "--db", str(store_path), "--json")
    [row] = quarantined["quarantined"]
    assert row["line"] == 4 and row["field"] == "date"
    assert row["raw"].startswith("not-a-date,")


def test_events_csv_output(cases_file, store_path):
    run("ingest", str(cases_file), "--db", str(store_path), "--quiet")
    code, out, _ = run("events", "--db", str(store_path), "--csv")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].startswith("event_id,source,") and len(lines) == 3


def test_usage_errors_exit_2_with_one_line(cases_file, store_path):
    run("ingest", str(cases_file), "--db", str(store_path), "--quiet")
    code, _, err = run("events", "--db", str(store_path), "--domain", "weather")
    assert code == 2 and "unknown domain 'weather'" in err
    code, _, err = run("events", "--db", str(store_path), "--since", "yesterday")
    assert code == 2 and "--since" in err


def test_failed_file_exits_3_and_other_files_still_land(cases_file, tmp_path, store_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, out, err = run("ingest", str(empty), str(cases_file), "--db", str(store_path),
                         "--json")
    assert code == 3
    assert [f["status"] for f in out["files"]] == ["failed", "ingested"]
    assert "empty" in out["files"][0]["error"] and out["ingested"] == 2


def test_strict_exits_3_and_writes_nothing(cases_file, store_path):
    code, out, err = run("ingest", str(cases_file), "--strict", "--db", str(store_path),
                         "--json")
    assert code == 3 and "line 4" in out["files"][0]["error"]
    assert run("stats", "--db", str(store_path), "--json")[1]["events"] == 0


def test_store_errors_exit_4(tmp_path):
    code, _, err = run("stats", "--db", str(tmp_path / "absent.duckdb"))
    assert code == 4 and "no store here" in err


def test_export_and_import_parquet(cases_file, tmp_path, store_path):
    run("ingest", str(cases_file), "--db", str(store_path), "--quiet")
    code, out, _ = run("export", "--parquet", str(tmp_path / "pq"), "--db", str(store_path),
                       "--json")
    assert code == 0 and out["tables"]["events"]["rows"] == 2
    other = tmp_path / "other.duckdb"
    code, out, _ = run("import", "--parquet", str(tmp_path / "pq"), "--db", str(other), "--json")
    assert code == 0 and out["added"]["events"] == 2


def test_formats_lists_every_adapter():
    code, out, _ = run("formats", "--json")
    names = {f["name"] for f in out["formats"]}
    assert {"gdelt2", "gdelt1", "acled", "stix", "misp-json", "misp-csv", "eurepoc",
            "euvsdisinfo", "articles-jsonl", "articles-csv", "rss", "mapped"} <= names


def test_console_script_runs_as_a_process(cases_file, store_path):
    exe = Path(sys.executable).with_name("hybridwatch")
    done = subprocess.run([str(exe), "ingest", str(cases_file), "--db", str(store_path), "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and json.loads(done.stdout)["ingested"] == 2


def test_kill_during_ingest_leaves_store_as_it_was(tmp_path, store_path, cases_file):
    """SIGKILL mid-ingest: the uncommitted transaction is discarded, earlier ingests survive."""
    from hybridwatch.demo.gdelt_synth import write_gdelt2_export

    big = tmp_path / "big.export.CSV"
    write_gdelt2_export(big, 1_500_000, random_state=3)
    assert run("ingest", str(cases_file), "--db", str(store_path), "--quiet")[0] == 0
    exe = Path(sys.executable).with_name("hybridwatch")
    proc = subprocess.Popen([str(exe), "ingest", str(big), "--db", str(store_path), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)  # past start-up and fingerprinting: batches are being inserted
    assert proc.poll() is None, "ingest finished before it could be killed; use a bigger file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with EventStore(store_path, read_only=True) as store:
        stats = store.stats()
        assert (stats["events"], stats["files_ingested"]) == (2, 1)
    # the killed ingest's staging folder (its Parquet and scratch files) goes when the store is
    # next opened for writing; nothing of it is left beside the store
    with EventStore(store_path):
        pass
    assert not [p.name for p in store_path.parent.iterdir() if p.name.startswith(".hybridwatch")]


def test_events_json_gives_extra_as_an_object(cases_file, store_path):
    run("ingest", str(cases_file), "--db", str(store_path), "--quiet")
    code, listed, _ = run("events", "--db", str(store_path), "--json")
    assert code == 0 and listed["events"]
    with EventStore(store_path, read_only=True) as store:
        stored = dict(store._con.execute("SELECT event_id, extra FROM events").fetchall())
    for event in listed["events"]:
        assert isinstance(event["extra"], dict)
        assert event["extra"] == json.loads(stored[event["event_id"]])  # the stored JSON text
    assert ["NATO"] in [e["extra"]["keywords"] for e in listed["events"]]


def test_a_country_name_where_a_code_is_expected(cases_file, store_path):
    """`--target Germany` means DEU; a name that is no country fails with exit 2 and says so,
    never an empty listing with exit 0."""
    run("ingest", str(cases_file), "--db", str(store_path), "--quiet")
    _, by_code, _ = run("events", "--db", str(store_path), "--target", "DEU", "--json")
    code, by_name, _ = run("events", "--db", str(store_path), "--target", "Germany", "--json")
    assert code == 0 and by_name == by_code and by_name["total"] == 1
    code, both, _ = run("events", "--db", str(store_path), "--target", "germany, Poland",
                        "--json")
    assert code == 0 and both["total"] == 2
    for bad, reason in (("Germny", "neither an ISO 3166 alpha-3 code"),
                        ("Europe", "not a country")):
        code, out, err = run("events", "--db", str(store_path), "--target", bad, "--json")
        assert code == 2 and out == "" and "--target" in err and reason in err
    code, _, err = run("assess", "--db", str(store_path), "--targets", "DEU,Germanyy")
    assert code == 2 and "--targets: 'Germanyy'" in err


def _leaf_commands(group: click.Group, path: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, (*path, name))


def test_every_command_accepts_quiet():
    from hybridwatch.cli import COMMANDS

    seen = dict(_leaf_commands(cli))
    assert {path[0] for path in seen} == set(COMMANDS)
    for path, command in seen.items():
        assert any("--quiet" in getattr(p, "opts", ()) for p in command.params), path
        result = CliRunner().invoke(cli, [*path, "--quiet", "--help"])
        assert result.exit_code == 0, (path, result.output)


def test_quiet_silences_summaries_not_data(cases_file, store_path):
    run("ingest", str(cases_file), "--db", str(store_path), "--quiet")
    code, out, err = run("events", "--db", str(store_path))
    assert code == 0 and "matching events" in err
    code, quiet_out, err = run("events", "--db", str(store_path), "--quiet")
    assert code == 0 and quiet_out == out and err == ""
    code, _, err = run("token", "list", "--db", str(store_path), "--quiet")
    assert code == 0 and err == ""
    code, _, err = run("token", "list", "--db", str(store_path))  # the flag does not linger
    assert code == 0 and "no tokens" in err
    code, _, err = run("events", "--db", str(store_path), "--quiet", "--domain", "weather")
    assert code == 2 and "unknown domain" in err  # errors still print
