"""`hybridwatch narratives articles ID`: a narrative's articles with group, language and score,
on a store built from the trilingual fixture (stories told by RT, Xinhua and BBC)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FIXTURE = Path(__file__).parents[1] / "fixtures" / "narratives" / "trilingual.toml"
OUTLET = {"ru": "https://russian.rt.com/news/{}", "zh": "https://www.xinhuanet.com/{}.htm",
          "en": "https://www.bbc.co.uk/news/{}"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("narrative_articles")
    doc = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
    rows, story_of = [], {}
    for story, by_language in doc["stories"].items():
        for language, titles in by_language.items():
            for k, title in enumerate(titles):
                url = OUTLET[language].format(f"{story}-{k}")
                story_of[url] = story
                # only a URL, no outlet: the outlet is its domain, grouped by domain
                rows.append({"url": url, "title": title, "language": language,
                             "published_at": f"2024-03-{1 + k:02d}T10:00:00Z"})
    path = root / "articles.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    db = root / "store.duckdb"
    with EventStore(db) as store:
        ingest_file(store, path, format="articles-jsonl")
    result = CliRunner().invoke(cli, ["narratives", "build", "--model", "concepts", "--db", str(db),
                                      "--json"])
    assert result.exit_code == 0, result.output
    return db, story_of


def _articles(db: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["narratives", "articles", *args, "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_articles_of_a_narrative_carry_group_language_and_similarity(built):
    db, story_of = built
    listed = json.loads(CliRunner().invoke(
        cli, ["narratives", "list", "--db", str(db), "--json"]).stdout)["narratives"]
    biggest = listed[0]
    out = _articles(db, biggest["id"])
    assert out["narrative"] == biggest["id"] and out["count"] == biggest["size"]
    first = out["articles"][0]
    assert set(first) == {"article_id", "url", "title", "language", "outlet", "actor_group",
                          "published_at", "similarity"}
    sims = [a["similarity"] for a in out["articles"]]
    assert sims == sorted(sims, reverse=True) and 0 < sims[-1] <= sims[0] <= 1.0001
    groups = {a["outlet"]: a["actor_group"] for a in out["articles"]}
    assert groups.get("russian.rt.com", "ru_state") == "ru_state"
    assert groups.get("xinhuanet.com", "cn_state") == "cn_state"
    assert groups.get("bbc.co.uk", "control") == "control"
    # one story across three languages: its articles are in all three
    stories = [story_of[a["url"]] for a in out["articles"]]
    top = max(set(stories), key=stories.count)
    assert {a["language"] for a, s in zip(out["articles"], stories) if s == top} == \
        {"en", "ru", "zh"}
    assert len(_articles(db, biggest["id"], "--limit", "2")["articles"]) == 2


def test_unknown_narrative_is_a_clear_error(built):
    db, _ = built
    result = CliRunner().invoke(cli, ["narratives", "articles", "n9999", "--db", str(db)])
    assert result.exit_code != 0
    assert "no narrative 'n9999'" in result.output


def test_techniques_command_tags_cases_and_narratives_and_writes_stix(built, tmp_path):
    db, _ = built
    cases = Path(__file__).parents[1] / "fixtures" / "euvsdisinfo" / "euvsdisinfo_sample.csv"
    with EventStore(db) as store:
        ingest_file(store, cases, format="euvsdisinfo")
    stix_path = tmp_path / "disarm.json"
    result = CliRunner().invoke(cli, ["narratives", "techniques", "--db", str(db), "--json",
                                      "--stix", str(stix_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["framework"]["licence"] == "CC BY-SA 4.0"
    assert report["cases"] and all({"event_id", "title", "techniques"} <= set(c)
                                   for c in report["cases"])
    tagged = [t for c in report["cases"] + report["narratives"] for t in c["techniques"]]
    assert tagged and all(t["evidence"] and 0.5 <= t["confidence"] <= 1 for t in tagged)
    # the biolabs story (ru, zh, en headlines in one narrative) shows conspiracy narratives
    assert any(t["technique"] == "T0022" for n in report["narratives"] for t in n["techniques"])
    bundle = json.loads(stix_path.read_text(encoding="utf-8"))
    kinds = {o["type"] for o in bundle["objects"]}
    assert {"attack-pattern", "relationship", "identity"} <= kinds
    assert report["stix"]["objects"] == len(bundle["objects"])
