"""Narratives on the demo scenario: planted narratives are recovered (both languages), ids stay
stable when new articles arrive, and the stored tables read back."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hybridwatch.demo.scenario import generate_scenario
from hybridwatch.model.outlet_groups import load_outlet_groups
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.narratives_store import article_assignments, list_narratives
from hybridwatch.workflows.narrative_build import build_narratives, load_model


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> dict:
    """The seed-7 scenario's articles split at 70% (by publication time), and its truth."""
    root = tmp_path_factory.mktemp("narratives")
    files = generate_scenario(root, random_state=7)
    lines = files.articles.read_text(encoding="utf-8").splitlines()  # sorted by time
    cut = int(len(lines) * 0.7)
    first, rest = root / "first.jsonl", root / "rest.jsonl"
    first.write_text("\n".join(lines[:cut]) + "\n", encoding="utf-8")
    rest.write_text("\n".join(lines[cut:]) + "\n", encoding="utf-8")
    truth = json.loads(files.ground_truth.read_text(encoding="utf-8"))
    return {"root": root, "first": first, "rest": rest, "n": len(lines),
            "narratives": truth["narratives"]}


@pytest.fixture(scope="module")
def incremental(scenario) -> dict:
    """Build on the first 70%, then update with the rest; snapshots after each step."""
    with EventStore(scenario["root"] / "store.duckdb") as store:
        ingest_file(store, scenario["first"], format="articles-jsonl")
        first_build = build_narratives(store, random_state=0)
        before = article_assignments(store)
        ids_before = [n["id"] for n in list_narratives(store, outlet_groups=load_outlet_groups())]
        ingest_file(store, scenario["rest"], format="articles-jsonl")
        update = build_narratives(store, random_state=0)
        after = article_assignments(store)
        listing = list_narratives(store, outlet_groups=load_outlet_groups())
        record_ids = dict(store._con.execute(
            "SELECT source_record_id, article_id FROM articles").fetchall())
        model = load_model(store)
        languages = dict(store._con.execute("SELECT article_id, language FROM articles").fetchall())
    return {"languages": languages, "first": first_build, "update": update, "before": before, "after": after,
            "ids_before": ids_before, "listing": listing, "record_ids": record_ids,
            "model": model}


def test_planted_narratives_recovered_across_languages(scenario, incremental):
    sizes = Counter(incremental["after"].values())
    bilingual = 0
    for story in scenario["narratives"]:
        planted = [incremental["record_ids"][i]
                   for i in story["leader_articles"] + story["follower_articles"]]
        found = Counter(incremental["after"].get(a) for a in planted)
        narrative, hits = found.most_common(1)[0]
        assert narrative is not None
        recall, purity = hits / len(planted), hits / sizes[narrative]
        # measured (seed 7): biolabs 0.96/1.0, nato 0.80/1.0, taiwan 0.93/0.72
        assert recall >= 0.7, (story["id"], recall, found.most_common(4))
        assert purity >= 0.6, (story["id"], purity)
        # Russian planted headlines (transliterated n-grams) join the English ones
        languages = {incremental["languages"][a] for a in planted
                     if incremental["after"].get(a) == narrative}
        bilingual += {"en", "ru"} <= languages
    # biolabs and taiwan: yes ("биолабораторий"→"biolaboratoriy"); nato: "НАТО — провокация"
    # shares too little with the English templates and forms its own small narrative
    assert bilingual >= 2


def test_incremental_update_keeps_ids(incremental):
    before, after = incremental["before"], incremental["after"]
    assert incremental["first"].refit and not incremental["update"].refit
    assert all(after[a] == n for a, n in before.items())  # earlier assignments unchanged
    assert set(incremental["ids_before"]) <= {n["id"] for n in incremental["listing"]}
    update = incremental["update"]
    # most new articles are background stories already known: they join existing narratives
    assert update.assigned_existing > 0.8 * update.articles_considered
    numbers = sorted(int(n[1:]) for n in incremental["model"].narrative_ids)
    assert numbers == list(range(1, len(numbers) + 1))  # ids n0001… consecutive, none reused
    assert set(update.new_narratives).isdisjoint(incremental["ids_before"])


def test_listing_shape_and_counts(scenario, incremental):
    listing = incremental["listing"]
    assigned = len(incremental["after"])
    assert sum(n["size"] for n in listing) == assigned
    assert assigned + incremental["update"].unassigned == scenario["n"]
    for narrative in listing:
        assert sum(narrative["by_actor"].values()) == narrative["size"]
        assert set(narrative["by_actor"]) <= {"ru_state", "cn_state", "control"}
        assert narrative["label"] and narrative["terms"]
        assert 1 <= len(narrative["examples"]) <= 3
        titles = [e["title"] for e in narrative["examples"]]
        assert len(set(titles)) == len(titles)  # distinct headlines
        assert {"title", "outlet", "published_at", "article_id"} <= set(narrative["examples"][0])
    biolab = [n for n in listing if "biolab" in n["terms"]]
    assert len(biolab) == 1 and set(biolab[0]["by_actor"]) == {"ru_state", "cn_state"}


def test_build_with_nothing_new_is_a_no_op(tmp_path: Path):
    with EventStore(tmp_path / "empty.duckdb") as store:
        result = build_narratives(store)
        assert result.articles_considered == 0 and result.narratives_total == 0
        assert list_narratives(store, outlet_groups={}) == []
        _ingest_two(store, tmp_path)
        with pytest.raises(ValueError, match="unknown text model"):
            build_narratives(store, model="word2vec")


def test_read_only_store_without_narratives_lists_nothing(tmp_path: Path):
    path = tmp_path / "ro.duckdb"
    with EventStore(path) as store:
        _ingest_two(store, tmp_path)
    with EventStore(path, read_only=True) as store:
        assert list_narratives(store, outlet_groups={}) == []
        assert load_model(store) is None


def _ingest_two(store: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    rows = [{"id": f"x{i}", "outlet": "RT", "published_at": "2024-01-01T10:00:00+00:00",
             "title": f"Headline number {i}", "language": "en"} for i in range(2)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    ingest_file(store, path, format="articles-jsonl")
