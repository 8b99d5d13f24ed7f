"""Narratives end to end on the demo scenario: ingest → cluster → synchronisation, no true labels.

The analysis modules are tested on their own elsewhere (clustering against planted articles,
synchronisation against true labels); this checks the whole chain and the CLI's JSON contract.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.demo.scenario import generate_scenario
from hybridwatch.model.schema import record_id_hash
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("narratives")
    # two years: the length `hybridwatch demo` uses (k-means once left a cluster empty there)
    files = generate_scenario(root / "scenario", random_state=7, days=730)
    db = root / "store.duckdb"
    with EventStore(db) as store:
        ingest_file(store, files.articles, format="articles-jsonl")
    truth = json.loads(files.ground_truth.read_text(encoding="utf-8"))
    return db, truth


def _run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_planted_narratives_are_found_synchronised_with_the_right_leader(demo_store):
    db, truth = demo_store
    built = _run("narratives", "build", "--db", str(db), "--json")
    assert built["narratives_total"] > 5 and built["articles_considered"] > 10_000
    listed = _run("narratives", "list", "--db", str(db), "--json")["narratives"]
    assert all({"id", "label", "terms", "size", "by_actor", "examples"} <= set(n) for n in listed)
    with EventStore(db, read_only=True) as store:
        assignment = dict(store._con.execute(
            "SELECT article_id, narrative_id FROM article_narratives").fetchall())
    synced = _run("narratives", "sync", "--a", "ru_state", "--b", "cn_state",
                  "--control", "control", "--fdr", "0.05", "--seed", "3", "--db", str(db),
                  "--json")
    rows = {row["narrative"]: row for row in synced["narratives"]}
    found = correct_leader = 0
    for planted in truth["narratives"]:
        ids = [record_id_hash("articles", a)
               for a in planted["leader_articles"] + planted["follower_articles"]]
        narratives = [assignment.get(i) for i in ids]
        majority = max(set(narratives), key=narratives.count)   # where most of them landed
        row = rows.get(majority)
        if row and row["significant"]:
            found += 1
            correct_leader += row["lead_actor"] == planted["leader"]
    assert found / len(truth["narratives"]) >= 0.8
    assert correct_leader / len(truth["narratives"]) >= 0.8
    # background narratives both actors cover are not called synchronised
    planted_homes = set()
    for planted in truth["narratives"]:
        ids = [record_id_hash("articles", a) for a in planted["leader_articles"]]
        planted_homes.update(assignment.get(i) for i in ids)
    false = [n for n, row in rows.items() if row["significant"] and n not in planted_homes]
    assert not false
    assert synced["convergence"] and {"period", "value", "low", "high", "control_value"} <= \
        set(synced["convergence"][0])
