"""The guardrails on judgements, each on a store whose truth is known.

* no judgement without cited evidence: a target whose every event is TLP:RED gets none at an
  AMBER evidence ceiling, and every judgement made cites evidence;
* no skill → base-rate wording: on activity whose future is independent of its past, every
  judgement is the base rate with its count; where skill is demonstrated it is the model's;
* no private individuals: a person named in an event's actor field and title becomes no
  actor or entity in the briefing, the STIX export or the model card.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from hybridwatch.adapters import ReadOptions
from hybridwatch.analyses.risk import assess_risk
from hybridwatch.analyses.risk_features import DailyCells
from hybridwatch.cli import cli
from hybridwatch.demo.risk_synth import synth_activity
from hybridwatch.model.phia import phia_term
from hybridwatch.outputs.briefing.context import build_context
from hybridwatch.outputs.stix_export import export_stix
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import FindingItem, latest_run, save_run
from hybridwatch.workflows.guardrails import base_rate_judgement
from hybridwatch.workflows.ingest import ingest_file

TARGETS = ["DEU", "POL", "LTU", "EST"]
DOMAINS = ["cyber", "military", "information"]
PERSON = "Ivan Petrov"
MAPPING = """
[source]
name = "incident_log"
format = "csv"
[fields]
source_record_id = "id"
occurred_at = { column = "date", format = "%Y-%m-%d" }
domain = "domain"
target_iso3 = "target"
actor_name = "actor"
source_type = { const = "incident" }
title = "title"
tlp = "tlp"
"""


@pytest.fixture(scope="module")
def store_db(tmp_path_factory):
    """Independent days (no skill can exist); Estonia's events all RED; a person in the actor
    field and title of Germany's cyber incidents in the last month."""
    synth = synth_activity(n_days=800, n_targets=len(TARGETS), n_domains=len(DOMAINS),
                           predictable=False, random_state=5, start="2021-01-01")
    root = tmp_path_factory.mktemp("guard")
    day, target, domain = np.nonzero(synth.counts)
    n = synth.counts[day, target, domain]
    day, target, domain = (np.repeat(v, n) for v in (day, target, domain))
    rows = ["id,date,domain,target,actor,title,tlp"]
    for i, (d, t, k) in enumerate(zip(day, target, domain)):
        rows.append(f"e{i},{synth.dates[d]},{DOMAINS[k]},{TARGETS[t]},,"
                    f"{DOMAINS[k]} incident,{'red' if TARGETS[t] == 'EST' else 'clear'}")
    person_days = synth.dates[-30:-10]
    for i, d in enumerate(person_days):
        rows.append(f"p{i},{d},cyber,DEU,{PERSON},\"{PERSON}, a dock worker, questioned over "
                    f"the port attack\",clear")
    (root / "log.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (root / "log.toml").write_text(MAPPING, encoding="utf-8")
    db = root / "store.duckdb"
    with EventStore(db) as store:
        ingest_file(store, root / "log.csv", format="mapped",
                    options=ReadOptions(mapping_path=root / "log.toml"))
        person_ids = [r[0] for r in store._con.execute(
            "SELECT event_id FROM events WHERE actor_name = ?", [PERSON]).fetchall()]
        starts = np.argwhere(synth.episode_starts)
        items = [FindingItem(f"{d}:{t}", {"start": str(synth.dates[d]),
                                          "end": str(synth.dates[d]),
                                          "targets": [TARGETS[t]], "domains": DOMAINS,
                                          "p_value": 0.001, "event_ids": []})
                 for d, t in starts if TARGETS[t] != "EST"]
        items.append(FindingItem("person", {"start": str(person_days[0]),
                                            "end": str(person_days[-1]), "targets": ["DEU"],
                                            "domains": ["cyber"], "p_value": 0.001,
                                            "event_ids": person_ids}))
        save_run(store, "episodes", {"parameters": {"include_cooperative": False}}, items)
    result = CliRunner().invoke(cli, ["assess", "--as-of", str(synth.dates[-1]),
                                      "--evidence-tlp", "amber", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return db, json.loads(result.stdout)


def test_no_judgement_without_cited_evidence(store_db):
    _, report = store_db
    judged = {item["target"] for item in report["targets"]}
    assert "EST" not in judged and {"DEU", "POL", "LTU"} <= judged
    assert all(item["evidence"] for item in report["targets"])
    [entry] = report["no_judgement"]
    assert entry["target"] == "EST" and "TLP:AMBER" in entry["reason"]
    assert any("no judgement for EST" in w for w in report["warnings"])
    # with every level citable, Estonia's RED events are evidence and it is judged
    db, _ = store_db
    result = CliRunner().invoke(cli, ["assess", "--evidence-tlp", "red", "--db", str(db),
                                      "--json", "--as-of", report["as_of"]])
    assert "EST" in {t["target"] for t in json.loads(result.stdout)["targets"]}
    CliRunner().invoke(cli, ["assess", "--evidence-tlp", "amber", "--db", str(db),
                             "--as-of", report["as_of"]])          # restore the AMBER run


def test_no_skill_means_base_rate_wording(store_db):
    _, report = store_db
    scores = report["backtest"]
    assert scores["n_forecasts"] > 0 and not scores["demonstrated"]
    k, n = scores["n_positive"], scores["n_forecasts"]
    for item in report["targets"]:
        assert item["wording"] == "base rate"
        assert item["probability"] == pytest.approx(k / n)
        assert item["low"] <= item["probability"] <= item["high"]
        assert item["phia_term"] == phia_term(k / n).term
        assert item["statement"].startswith("Base rate only:")
        assert f"{k:,} of {n:,} past forecasts" in item["statement"]
        assert "model_probability" in item        # the model's figure is kept, not worded
        for domain in item["domains"].values():
            assert domain["wording"] == "base rate" or \
                report["backtest"]["by_outcome"]["elevated"]["demonstrated"]


def test_demonstrated_skill_keeps_the_models_wording():
    synth = synth_activity(n_days=1825, n_targets=20, n_domains=6, predictable=True,
                           random_state=0)
    result = assess_risk(DailyCells.from_dense(synth.counts.astype(float)),
                         DailyCells.from_dense(synth.episode_starts.astype(float)),
                         dates=synth.dates, targets=synth.targets, domains=synth.domains)
    scores = result.backtest["episode"]
    assert scores.demonstrated
    forecast = result.targets[0].episode
    item = {"target": "T00", "probability": forecast.probability, "low": forecast.low,
            "high": forecast.high, "phia_term": phia_term(forecast.probability).term,
            "statement": "model words"}
    kept = base_rate_judgement(item, scores.to_dict(), horizon_days=30, fallback_rate=0.1)
    assert kept["wording"] == "model" and kept["probability"] == forecast.probability
    assert kept["statement"] == "model words"


def test_no_private_individual_becomes_an_actor_or_entity(store_db):
    db, _ = store_db
    with EventStore(db, read_only=True) as store:
        ctx = build_context(store, tlp="amber")
        rows = [row for group in ctx["annex"] if group["events"] is not None
                for row in group["events"].rows]
        person_rows = [row for row in rows if PERSON in row["title"]]
        assert person_rows, "the person's incidents are evidence in the annex"
        assert all(PERSON not in row["actor"] for row in rows)
        bundle = export_stix(store, tlp="amber").bundle
        card = latest_run(store, "assessment")
    entities = [o for o in bundle["objects"]
                if o["type"] in ("threat-actor", "intrusion-set", "identity", "campaign",
                                 "location")]
    assert entities
    for obj in entities:
        assert PERSON.lower() not in json.dumps(obj).lower(), obj["type"]
    described = [o for o in bundle["objects"] if PERSON in (o.get("description") or "")]
    assert described, "the title is quoted as evidence text"
    for obj in described:
        assert f"actor {PERSON}" not in obj["description"]
    assert PERSON not in json.dumps(card.summary)
    notes = [o for o in bundle["objects"] if o["type"] == "note"
             and "hybridwatch risk model: model card" in o.get("abstract", "")]
    assert len(notes) == 1 and PERSON not in notes[0]["content"]
