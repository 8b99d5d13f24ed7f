"""``--engine spark``: the same Ibis expressions run on PySpark and give DuckDB's answers on the
same lake — the JSON of ``stats`` and ``events``, and the daily series every analysis starts
from. Few and small on purpose: one shared local session (``spark_engine``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hybridwatch.analyses.selectors import parse_grid, parse_selector
from hybridwatch.analyses.series import daily_series
from hybridwatch.cli import cli
from hybridwatch.errors import StoreError
from hybridwatch.store import EventStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FILES = [FIXTURES / "gdelt" / "gdelt1_r_export.csv", FIXTURES / "acled" / "acled_sample.csv",
         FIXTURES / "stix" / "hybrid_bundle.json", FIXTURES / "gdelt" / "malformed.export.CSV",
         FIXTURES / "euvsdisinfo" / "euvsdisinfo_sample.csv"]


def _json(*args: str) -> dict:
    """The command's JSON, without ``run_id`` (every analysis run is recorded as a new run)."""
    done = CliRunner().invoke(cli, [*args, "--json"])
    assert done.exit_code == 0, done.output + repr(done.exception)
    return {k: v for k, v in json.loads(done.stdout).items() if k != "run_id"}


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("spark-lake")
    (root / "lake").mkdir()
    _json("ingest", *map(str, FILES), "--db", str(root / "lake"), "-q")
    return root / "lake"


def test_stats_and_events_on_spark_equal_duckdb(lake, spark_engine):
    duck = _json("stats", "--db", str(lake))
    assert duck["events"] > 20 and len(duck["by_source"]) >= 4
    assert _json("--engine", "spark", "stats", "--db", str(lake)) == duck
    for query in (["--limit", "1000"], ["--target", "UKR", "--since", "2020-01-01"],
                  ["--actor", "RUS", "--limit", "3", "--offset", "2"],
                  ["--domain", "cyber", "--source", "stix"]):
        want = _json("events", *query, "--db", str(lake))
        assert want["count"] > 0, query          # each query must select something
        assert _json("--engine", "spark", "events", *query, "--db", str(lake)) == want, query


def test_daily_series_on_spark_equal_duckdb(lake, spark_engine):
    selectors = [*map(parse_selector, ("source=acled", "target=UKR", "source=gdelt count>=2")),
                 *parse_grid("domain=military,diplomacy actor=RUS")]
    with EventStore(lake, read_only=True, engine="duckdb") as store:
        want = daily_series(store.ibis_events(), selectors)
    with EventStore(lake, read_only=True, engine="spark") as store:
        got = daily_series(store.ibis_events(), selectors)
    assert want.counts.sum() > 0
    assert np.array_equal(got.dates, want.dates) and got.labels == want.labels
    assert np.array_equal(got.counts, want.counts)
    assert np.array_equal(got.intensity, want.intensity)
    assert np.array_equal(got.events, want.events)


def test_spark_needs_a_lake(store_path, spark_engine):
    with EventStore(store_path, engine="spark") as store, \
            pytest.raises(StoreError, match="reads a Parquet lake"):
        store.ibis_events()


@pytest.fixture(scope="module")
def scenario_lake(tmp_path_factory) -> Path:
    """The demo scenario (240 days, planted couplings) ingested straight into a lake."""
    from hybridwatch.adapters import ReadOptions
    from hybridwatch.demo.scenario import generate_scenario
    from hybridwatch.workflows.ingest import ingest_file

    root = tmp_path_factory.mktemp("spark-scenario")
    files = generate_scenario(root / "scenario", random_state=7, days=240)
    (root / "lake").mkdir()
    with EventStore(root / "lake") as store:
        for path, format_name, mapping in files.inputs():
            ingest_file(store, path, format=format_name,
                        options=ReadOptions(mapping_path=mapping))
    return root / "lake"


def test_coincidence_grid_on_spark_equals_duckdb(scenario_lake, spark_engine):
    """The grid's pairs run as Spark tasks in blocks (analyses.pairs_blocks): the same JSON,
    pair for pair."""
    from hybridwatch.demo.pipeline import DEMO_GRID

    args = ["coincide", "--grid", DEMO_GRID, "--all-pairs", "--surrogates", "49",
            "--db", str(scenario_lake)]
    want = _json(*args)
    assert want["n_testable"] >= 40
    assert _json("--engine", "spark", *args) == want
    pair = ["coincide", "--a", "source=euvsdisinfo target=POL", "--b",
            "domain=military actor=RUS target=POL", "--surrogates", "49",
            "--db", str(scenario_lake)]
    assert _json("--engine", "spark", *pair) == _json(*pair)


def test_episodes_convergence_and_assess_on_spark_equal_duckdb(scenario_lake, spark_engine):
    """The episode scan's located events (theatres by ray casting), its counts per where and
    day and the events behind each episode; convergence's daily cooperation; assess's hostile
    counts per target — the store's DuckDB SQL run on Spark (``EventStore.engine_sql``): the
    same JSON. Each pair runs DuckDB first, then Spark on the lake with DuckDB's findings."""
    scan = ["episodes", "--target-group", "DEU,POL,TWN", "--seed", "7", "--surrogates", "49",
            "--db", str(scenario_lake)]
    want = _json(*scan)
    assert want["episodes"], "the scenario plants episodes"
    assert any(e["event_ids"] for e in want["episodes"])
    assert _json("--engine", "spark", *scan) == want
    for args in (["convergence"], ["assess", "--targets", "DEU,POL,TWN", "--horizon", "30d"]):
        args = [*args, "--db", str(scenario_lake)]
        assert _json("--engine", "spark", *args) == _json(*args), args


def test_backtest_refits_as_spark_tasks_equal_the_serial_backtest(spark_engine):
    """The risk backtest's refits run as one Spark task each (``store.spark.map_tasks``): the
    same result as the refits run one after another here. (The scenario lake above is too
    short for a backtest, so this runs on the risk model's own synthetic activity.)"""
    from hybridwatch.analyses.risk import assess_risk
    from hybridwatch.demo.risk_synth import synth_activity
    from hybridwatch.store.spark import map_tasks

    data = synth_activity(predictable=True, random_state=2)
    inputs = dict(dates=data.dates, targets=data.targets, domains=data.domains)
    refits = []

    def on_spark(function, items):
        refits.append(len(items))
        return map_tasks(function, items)

    tasked = assess_risk(data.counts, data.episode_starts, map_tasks=on_spark, **inputs)
    assert min(refits) > 10
    assert tasked.to_json() == assess_risk(data.counts, data.episode_starts, **inputs).to_json()


def test_executors_read_the_lake_under_a_uri(lake, spark_engine, monkeypatch):
    """``HYBRIDWATCH_SPARK_LAKE_URI``: the event files are read under that URI (here a
    ``file://`` URI, which takes the same Hadoop file-system route as ``s3a://``), the manifest
    and small tables from ``--db``; a URI where the files are not is an error, not an empty
    answer."""
    duck = _json("stats", "--db", str(lake))
    monkeypatch.setenv("HYBRIDWATCH_SPARK_LAKE_URI", lake.resolve().as_uri())
    assert _json("--engine", "spark", "stats", "--db", str(lake)) == duck
    monkeypatch.setenv("HYBRIDWATCH_SPARK_LAKE_URI", (lake.parent / "elsewhere").as_uri())
    done = CliRunner().invoke(cli, ["--engine", "spark", "stats", "--db", str(lake), "--json"])
    assert done.exit_code != 0
