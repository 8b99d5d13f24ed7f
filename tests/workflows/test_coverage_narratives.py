"""Narrative sync and convergence on coverage: stray old headlines do not stretch the window."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

TOPICS = ["sanctions hurt european industry", "nato expansion threatens security",
          "western media lies about the war", "grain deal collapse blamed on kyiv",
          "energy prices soar in germany", "biolabs conspiracy in ukraine"]


def headlines(rng: np.random.Generator, outlet: str, start: str, end: str, per_day: float,
              strays: int = 0) -> list[dict]:
    """Daily headlines of an outlet on the shared topics, plus ``strays`` old ones (2019–2021)."""
    days = np.arange(np.datetime64(start), np.datetime64(end) + 1)
    counts = rng.poisson(per_day, days.size)
    picked = list(np.repeat(days, counts))
    picked += list(rng.choice(np.arange(np.datetime64("2019-01-01"),
                                        np.datetime64("2021-12-31")), size=strays))
    return [{"id": f"{outlet}-{i}", "outlet": outlet, "published_at": f"{day}T10:00:00Z",
             "title": f"{TOPICS[int(rng.integers(len(TOPICS)))]} {outlet.lower()} report"}
            for i, day in enumerate(picked)]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("narr-coverage")
    rng = np.random.default_rng(5)
    rows = (headlines(rng, "RT", "2022-03-01", "2022-09-30", 6.0, strays=60)
            + headlines(rng, "Xinhua", "2022-04-01", "2022-10-31", 6.0)
            + headlines(rng, "BBC", "2022-03-15", "2022-10-15", 4.0, strays=5))
    path = root / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = root / "store.duckdb"
    with EventStore(db) as store:
        ingest_file(store, path, format="articles-jsonl")
    run(db, "narratives", "build")
    return db


def run(db: Path, *args: str) -> tuple[str, dict]:
    result = CliRunner().invoke(cli, [*args, "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return result.stdout, json.loads(result.stdout)


def test_coverage_lists_outlets_with_their_strays(db):
    _, report = run(db, "coverage")
    by = {o["source"]: o for o in report["outlets"]}
    assert by["RT"]["dense_first"] == "2022-03-01" and by["RT"]["n_outliers"] == 60
    assert by["Xinhua"]["n_outliers"] == 0


def test_sync_window_is_the_overlap_of_the_groups(db):
    first, report = run(db, "narratives", "sync", "--surrogates", "99")
    again, _ = run(db, "narratives", "sync", "--surrogates", "99")
    # no --seed: the same output, recorded as a second run (runs are kept)
    first, again = json.loads(first), json.loads(again)
    assert first.pop("run_id") != again.pop("run_id") and first == again
    window = report["window"]
    assert (window["start"], window["end"]) == ("2022-04-01", "2022-09-30")
    assert "RT" in window["sources"] and "Xinhua" in window["sources"]
    assert all(row["period"] >= "2022-04" for row in report["convergence"])


def test_sync_since_until_override_with_a_warning(db):
    _, report = run(db, "narratives", "sync", "--surrogates", "99", "--since", "2022-03-01",
                    "--until", "2022-10-31")
    assert (report["window"]["start"], report["window"]["end"]) == ("2022-03-01", "2022-10-31")
    assert any("leaves the dense coverage" in w for w in report["warnings"])
