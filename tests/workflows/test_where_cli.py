"""The CLI of "where": `theatres`, and `episodes` naming theatres and counting hostile events."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hybridwatch.cli import cli
from where_scenario import generate


def run(*args: str, env: dict | None = None) -> tuple[int, dict | str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, (json.loads(result.stdout) if "--json" in args and
                              result.exit_code == 0 else result.stdout + result.stderr)


def test_theatres_lists_the_table_and_refuses_a_bad_override(tmp_path: Path) -> None:
    code, payload = run("theatres", "--json")
    assert code == 0
    assert {"Taiwan Strait", "Baltic Sea"} <= {t["name"] for t in payload["theatres"]}
    bad = tmp_path / "bad.toml"
    bad.write_text('[[theatre]]\nname = "X"\ncountries = ["XXX"]\nbbox = [0, 0, 1, 1]\n',
                   encoding="utf-8")
    code, text = run("theatres", "--json", env={"HYBRIDWATCH_THEATRES": str(bad)})
    assert code == 3 and "bad.toml" in text and "countries" in text


def test_episodes_takes_theatre_names_and_reports_the_dimension(tmp_path: Path) -> None:
    scenario = generate(tmp_path, seed=2, days=200)
    db = str(tmp_path / "s.duckdb")
    for path, name in scenario.background + scenario.plant_files:
        assert run("ingest", str(path), "--format", name, "--db", db)[0] == 0
    code, report = run("episodes", "--db", db, "--json", "--targets", "DEU,pol,taiwan strait",
                       "--target-group", "DEU,POL,Taiwan Strait", "--min-series-events", "5",
                       "--seed", "2", "--surrogates", "99")
    assert code == 0, report
    assert report["counted"] == "hostile events"
    assert report["parameters"]["target_groups"] == [["DEU", "POL", "Taiwan Strait"]]
    kinds = {(s["where"], s["where_kind"]) for e in report["episodes"] for s in e["signals"]}
    assert ("Taiwan Strait", "theatre") in kinds
    code, text = run("episodes", "--db", db, "--targets", "DEU,Taiwan Straits")
    assert code == 2 and "unknown theatre 'Taiwan Straits'" in text
