"""`hybridwatch supply` end to end: ingest a generated Comtrade file, ask, parse --json."""

from __future__ import annotations

import json

from click.testing import CliRunner
from trade_data import write_comtrade

from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import latest_run


def _run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_supply_json_contract_and_recorded_run(tmp_path):
    db = str(tmp_path / "hw.duckdb")
    truth = write_comtrade(tmp_path / "trade.csv", [3])[0]
    assert _run("ingest", str(tmp_path / "trade.csv"), "--db", db, "-q").exit_code == 0
    result = _run("supply", "--product", truth.product, "--destination", "RUS",
                  "--origin", "DEU,NLD,ITA", "--break", "2022-03", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"concentration", "diversion", "dependence"} <= set(report)
    assert set(report["concentration"][0]) >= {"importer", "period", "hhi", "top_supplier",
                                               "top_share"}
    assert set(report["dependence"][0]) >= {"importer", "actor", "period", "share"}
    assert set(report["diversion"][0]) >= {"via", "origin", "destination", "start",
                                           "excess_value_usd", "p_value", "q_value",
                                           "significant", "evidence"}
    flagged = {row["via"] for row in report["diversion"] if row["significant"]}
    assert set(truth.transit) <= flagged
    assert report["concentration"][0]["importer"] == "RUS"
    with EventStore(db, read_only=True) as store:
        run = latest_run(store, "supply")
    assert {item["via"] for item in run.items} == {row["via"] for row in report["diversion"]}


def test_supply_usage_errors_exit_2(tmp_path):
    db = str(tmp_path / "hw.duckdb")
    assert _run("supply", "--product", "85x", "--db", db).exit_code == 2
    assert _run("supply", "--product", "chpl:tier9", "--db", db).exit_code == 2
    assert _run("supply", "--product", "8542", "--origin", "Atlantis", "--db", db
                ).exit_code == 2


def test_supply_on_a_store_without_trade_says_so(tmp_path):
    result = _run("supply", "--product", "semiconductors", "--destination", "RUS",
                  "--db", str(tmp_path / "hw.duckdb"), "--json")
    report = json.loads(result.stdout)
    assert report["diversion"] == [] and report["concentration"] == []
    assert any("no trade flows" in w for w in report["warnings"])
    assert report["products"]["lists"][0]["version"]
