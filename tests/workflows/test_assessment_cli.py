"""`convergence`, `assess` and `backtest` on a generated demo store: the JSON contract, the
PHIA wording of each probability, evidence that exists, and findings the store keeps."""

import json

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.model.phia import phia_term
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.model.tlp import tlp_rank
from hybridwatch.store.findings_store import finding, latest_run
from hybridwatch.adapters import ReadOptions
from hybridwatch.demo.scenario import generate_scenario


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    out = tmp_path_factory.mktemp("assess")
    files = generate_scenario(out / "scenario", random_state=7, days=480)
    db = out / "store.duckdb"
    with EventStore(db) as store:
        for path, format_name, mapping in files.inputs():
            ingest_file(store, path, format=format_name, options=ReadOptions(mapping_path=mapping))
    runner = CliRunner()
    for args in (["episodes", "--target-group", "DEU,POL,TWN", "--seed", "7"],
                 ["narratives", "build", "--seed", "7"], ["narratives", "sync", "--seed", "7"]):
        result = runner.invoke(cli, args + ["--db", str(db)])
        assert result.exit_code == 0, result.output
    return db


def _json(args, db):
    result = CliRunner().invoke(cli, args + ["--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_convergence_contract(demo_db):
    report = _json(["convergence", "--a", "RUS", "--b", "CHN"], demo_db)
    assert report["periods"]
    for period in report["periods"]:
        assert set(period) >= {"period", "index", "low", "high", "components"}
        assert set(period["components"]) == {"cooperative_interaction", "narrative_alignment",
                                             "operational_cooccurrence", "technology_transfer"}
        if period["index"] is not None:
            assert period["low"] <= period["index"] + 1e-9 <= period["high"] + 2e-9
    scored = [p for p in report["periods"] if p["index"] is not None]
    assert scored and all(p["coverage"] for p in scored)
    # the demo plants rising cooperation and trade in its second half
    assert scored[-1]["components"]["cooperative_interaction"] > 0


def test_assess_contract_phia_and_evidence(demo_db):
    _json(["convergence"], demo_db)
    report = _json(["assess", "--targets", "DEU,POL,TWN", "--horizon", "30d"], demo_db)
    assert [t["target"] for t in report["targets"]] != [] and \
        {t["target"] for t in report["targets"]} == {"DEU", "POL", "TWN"}
    for item in report["targets"]:
        assert set(item) >= {"target", "probability", "low", "high", "phia_term", "confidence",
                             "drivers", "evidence"}
        assert item["low"] <= item["probability"] <= item["high"]
        assert item["phia_term"] == phia_term(item["probability"]).term
        assert item["confidence"] in ("low", "moderate", "high")
        assert any(e["kind"] == "event" for e in item["evidence"])
    # the demo's STIX incidents name targeted sectors: Germany's get their own forecasts
    german = next(t for t in report["targets"] if t["target"] == "DEU")
    assert german["sectors"] and all(s["phia_term"] == phia_term(s["probability"]).term
                                      for s in german["sectors"].values())
    backtest = report["backtest"]
    assert set(backtest) >= {"brier", "brier_climatology", "skill", "n_forecasts"}
    assert report["caution"]
    with EventStore(demo_db, read_only=True) as store:
        run = latest_run(store, "assessment")
        assert {i["target"] for i in run.items} == {"DEU", "POL", "TWN"}
        for item in run.items:
            # by default a judgement cites evidence up to AMBER, so it can be released at AMBER
            assert tlp_rank(item["tlp"]) <= tlp_rank("amber")
            for evidence in item["evidence"]:
                if "finding_id" in evidence:   # links resolve to stored findings
                    linked = finding(store, evidence["finding_id"])
                    assert linked is not None
                    assert tlp_rank(item["tlp"]) >= tlp_rank(linked["tlp"])
        assert latest_run(store, "assessment", clearance="clear").withheld == \
            sum(tlp_rank(i["tlp"]) > 0 for i in run.items)


def test_backtest_command_reports_scores(demo_db):
    report = _json(["backtest"], demo_db)
    assert set(report["by_outcome"]) == {"episode", "elevated", "pooled", "elevated_sector"}
    for scores in report["by_outcome"].values():
        assert "verdict" in scores and "reliability" in scores


def test_unknown_target_is_a_clear_error(demo_db):
    result = CliRunner().invoke(cli, ["assess", "--targets", "NZL", "--db", str(demo_db)])
    assert result.exit_code != 0 and "NZL" in result.output
