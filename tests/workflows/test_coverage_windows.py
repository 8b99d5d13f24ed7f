"""Coverage on a store: source_days at ingest, the `coverage` command, default analysis windows,
byte-identical reruns without --seed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from coverage_store import ingest_sources, two_sources

from hybridwatch.analyses.coverage import source_coverage
from hybridwatch.cli import cli
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore
from hybridwatch.workflows.coverage import analysis_window, dense_last, store_coverage

A = "source=disinfo_cases"
B = "source=stix_campaigns"


@pytest.fixture(scope="module")
def store_db(tmp_path_factory) -> tuple[Path, list]:
    directory = tmp_path_factory.mktemp("coverage")
    sources = two_sources(seed=11)
    db = directory / "store.duckdb"
    ingest_sources(db, directory, sources)
    return db, sources


def run(db: Path, *args: str) -> tuple[str, dict]:
    result = CliRunner().invoke(cli, [*args, "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return result.stdout, json.loads(result.stdout)


def test_source_days_match_the_ingested_rows(store_db):
    db, sources = store_db
    with EventStore(db, read_only=True) as store:
        table = store.source_days()
        for name, _, _, (days, records) in sources:
            mine = table.filter(np.asarray(table["source"].to_pylist()) == name)
            assert mine["day"].to_numpy().astype("datetime64[D]").tolist() == days.tolist()
            assert mine["records"].to_pylist() == records.tolist()


def test_coverage_command_reports_each_source(store_db):
    db, sources = store_db
    _, report = run(db, "coverage")
    by = {s["source"]: s for s in report["sources"]}
    assert set(by) == {"disinfo_cases", "stix_campaigns"} and report["outlets"] == []
    for name, _, _, (days, records) in sources:
        expected = source_coverage(name, days, records).to_dict()
        assert by[name] == expected
        assert {"source", "first", "last", "records", "gaps", "outliers"} <= set(by[name])
    assert by["disinfo_cases"]["weekly_cycle"]["weekday"] == "Thursday"


def test_coincide_defaults_to_the_overlap_and_reruns_identically(store_db):
    db, sources = store_db
    first, report = run(db, "coincide", "--a", A, "--b", B, "--surrogates", "199")
    again, _ = run(db, "coincide", "--a", A, "--b", B, "--surrogates", "199")
    assert first == again                                  # no --seed, byte-identical
    cases = source_coverage(*sources[0][:1], *sources[0][3])
    assert report["window"]["start"] == cases.dense_first.isoformat()
    assert report["window"]["end"] == cases.dense_last.isoformat()
    assert (report["start"], report["end"]) == (report["window"]["start"],
                                                report["window"]["end"])
    assert report["window"]["sources"] == ["disinfo_cases", "stix_campaigns"]
    assert "densely" in report["window"]["reason"]
    assert isinstance(report["random_state"], int)
    _, seeded = run(db, "coincide", "--a", A, "--b", B, "--surrogates", "199", "--seed", "5")
    assert seeded["random_state"] == 5


def test_explicit_bounds_win_with_a_warning(store_db):
    db, _ = store_db
    _, report = run(db, "coincide", "--a", A, "--b", B, "--surrogates", "99",
                    "--since", "2005-01-01", "--until", "2020-12-31")
    assert (report["start"], report["end"]) == ("2005-01-01", "2020-12-31")
    assert report["window"]["reason"] == "--since; --until"
    assert any("leaves the dense coverage of disinfo_cases" in w for w in report["warnings"])
    # the naive span: the coupling the overlap removes
    assert report["p_value"] <= 0.05


def test_short_overlap_and_shared_weekly_cycle_warn(store_db):
    db, _ = store_db
    with EventStore(db, read_only=True) as store:
        window = analysis_window(store, [{"disinfo_cases": 10}, {"disinfo_cases": 5}],
                                 since=date(2016, 1, 1), until=date(2016, 2, 1))
    assert window.n_days == 32
    assert any("< 90" in w for w in window.warnings)
    assert any("weekly cycle" in w and "Thursday" in w for w in window.warnings)


def test_no_overlap_is_an_error(store_db, tmp_path):
    db, _ = store_db
    with EventStore(db, read_only=True) as store:
        coverage = store_coverage(store)
        moved = coverage["stix_campaigns"].replace(dense_first=date(2018, 1, 1))
        with pytest.raises(SelectorError, match="never report densely at the same time"):
            analysis_window(store, [{"disinfo_cases": 1}, {"stix_campaigns": 1}],
                            coverage={**coverage, "stix_campaigns": moved})


def test_grid_reports_untestable_pairs_outside_the_bh_family(store_db):
    db, _ = store_db
    _, report = run(db, "coincide", "--grid",
                    "source=disinfo_cases,stix_campaigns ; source=stix_campaigns domain=military",
                    "--all-pairs", "--surrogates", "99")
    assert report["n_pairs"] == 6 and report["n_testable"] == 2
    assert len(report["untestable"]) == 4
    assert all(p["p_value"] is not None for p in report["pairs"])
    assert {u["reason"] for u in report["untestable"]} == {"no events in a", "no events in b"}
    assert "window" in report


def test_episodes_rerun_identically_without_a_seed(store_db):
    db, _ = store_db
    args = ("episodes", "--min-domains", "2", "--surrogates", "19", "--alpha", "0.5")
    first, report = run(db, *args)
    again, _ = run(db, *args)
    # the same output, recorded as a second run (runs are kept)
    first, again = json.loads(first), json.loads(again)
    assert first.pop("run_id") != again.pop("run_id") and first == again
    assert report["window"]["start"] >= "2015-04-01" and report["window"]["end"] <= "2017-10-31"


def test_dense_last_ignores_outliers(tmp_path):
    days, records = two_sources(3)[0][3]
    late = (np.concatenate([days, np.array(["2025-06-01"], "datetime64[D]")]),
            np.concatenate([records, [1]]))
    ingest_sources(tmp_path / "s.duckdb", tmp_path, [("cases", "information", "POL", late)])
    with EventStore(tmp_path / "s.duckdb", read_only=True) as store:
        found = dense_last(store)
    assert found.day <= date(2017, 10, 31) and found.sources == ("cases",)
    assert any("2025-06-01" in w for w in found.warnings)


def test_old_stores_get_source_days_on_read_write_open(store_db, tmp_path):
    import shutil

    db, _ = store_db
    copy = tmp_path / "old.duckdb"
    shutil.copy(db, copy)
    with EventStore(copy) as store:
        before = store.source_days()
        store._con.execute("DROP TABLE source_days")
    with EventStore(copy, read_only=True) as store:        # read-only: computed on the fly
        assert store.source_days().equals(before)
    with EventStore(copy) as store:                         # read-write: rebuilt
        assert store._con.execute("SELECT count(*) FROM source_days").fetchall()[0][0] > 0
        assert store.source_days().equals(before)


TRADE_MAPPING = """[source]
name = "trade_rows"
format = "csv"

[fields]
source_record_id = "id"
occurred_at = { column = "date", format = "%Y-%m-%d" }
domain = { const = "economy" }
actor_iso3 = { const = "RUS" }
target_iso3 = { const = "CHN" }
intensity = "value"
intensity_kind = { const = "trade_value_usd" }
"""


def test_convergence_months_stay_inside_dense_coverage(tmp_path):
    # monthly trade rows 2016–2021 and one mistyped 1996 row: the index starts in 2016 (a row
    # dated in the future would be quarantined at ingest instead)
    months = np.arange(np.datetime64("2016-01"), np.datetime64("2022-01"))
    rows = [f"t{i},{m}-15,{1000 + 10 * i}" for i, m in enumerate(months)] + ["typo,1996-03-15,5"]
    (tmp_path / "trade.csv").write_text("id,date,value\n" + "\n".join(rows) + "\n")
    (tmp_path / "trade.toml").write_text(TRADE_MAPPING)
    db = tmp_path / "trade.duckdb"
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "trade.csv"), "--mapping",
                                      str(tmp_path / "trade.toml"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    _, report = run(db, "convergence")
    periods = [p["period"] for p in report["periods"]]
    assert periods[0] >= "2016-01" and "1996-03" not in periods
    assert report["window"]["start"] == "2016-01-15"
    _, coverage = run(db, "coverage")
    assert coverage["sources"][0]["outliers"] == [{"first": "1996-03-15", "last": "1996-03-15",
                                                   "records": 1}]


def test_parquet_import_keeps_source_days_right(store_db, tmp_path):
    db, _ = store_db
    with EventStore(db, read_only=True) as store:
        store.export_parquet(tmp_path / "export")
        expected = store.source_days()
    with EventStore(tmp_path / "restored.duckdb") as store:
        store.import_parquet(tmp_path / "export")
        assert store.source_days().equals(expected)


def test_replace_rebuilds_source_days(tmp_path):
    days, records = two_sources(4)[0][3]
    ingest_sources(tmp_path / "r.duckdb", tmp_path, [("cases", "information", "POL",
                                                      (days, records))])
    with EventStore(tmp_path / "r.duckdb") as store:   # the same file, one row fewer
        from hybridwatch.adapters import ReadOptions
        from hybridwatch.workflows.ingest import ingest_file

        csv = tmp_path / "cases.csv"
        lines = csv.read_text().splitlines()
        csv.write_text("\n".join(lines[:-1]) + "\n")
        ingest_file(store, csv, format="mapped", replace=True,
                    options=ReadOptions(mapping_path=tmp_path / "cases.toml"))
        assert sum(store.source_days()["records"].to_pylist()) == int(records.sum()) - 1
