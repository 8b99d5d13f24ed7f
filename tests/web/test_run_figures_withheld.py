"""A judgement's confidence reason may quote its run's backtest skill, a figure computed over
every event the run read. A reader who does not see the whole run (the demo store holds RED
events) keeps the words and loses the figure — in the store's reads, the API and the briefing;
a RED reader sees it (docs/security.md, "No oracle in aggregates")."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from web_helpers import bearer

from hybridwatch.outputs.briefing import write_briefing
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import create_token
from hybridwatch.store.findings_store import FindingItem, finding, latest_run, save_run
from hybridwatch.store.run_history import pin_run
from hybridwatch.web.app import create_app

REASONS = ["modest backtest skill (+0.17)", "thin data on this target (200 days of history, "
           "1 domain with enough events)"]
WITHHELD = ["modest backtest skill (its figure is withheld at this level)", REASONS[1]]


def test_the_skill_figure_in_a_reason_is_withheld_below_the_run(demo_db: Path, tmp_path: Path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, db)
    judgement = {"target": "DEU", "outcome": "a hostile multi-domain episode",
                 "probability": 0.4, "low": 0.3, "high": 0.5, "phia_term": "realistic possibility",
                 "confidence": "moderate", "confidence_reasons": REASONS,
                 "statement": "There is a realistic possibility …", "drivers": [],
                 "evidence": []}
    summary = {"horizon_days": 30, "as_of": "2024-12-30", "parameters": {}, "warnings": [],
               "caution": "Do not escalate on this alone.",
               "backtest": {"skill": 0.17, "n_forecasts": 400, "verdict": "modest"}}
    with EventStore(db) as store:
        run_id = save_run(store, "assessment", summary, [FindingItem("DEU", judgement, "amber")])
        pin_run(store, run_id)
        amber = latest_run(store, "assessment", clearance="amber")
        red = latest_run(store, "assessment", clearance="red")
        assert amber.items[0]["confidence_reasons"] == WITHHELD
        assert red.items[0]["confidence_reasons"] == REASONS
        finding_id = red.items[0]["finding_id"]
        assert finding(store, finding_id, clearance="amber")["confidence_reasons"] == WITHHELD
        assert finding(store, finding_id, clearance="red")["confidence_reasons"] == REASONS
        tokens = {level: create_token(store, role="admin" if level == "red" else "viewer", name=level,
                                     clearance=level).token
                  for level in ("amber", "red")}
        html = {level: write_briefing(store, tmp_path / level, tlp=level, pdf=False)
                .html_path.read_text(encoding="utf-8") for level in ("amber", "red")}
    assert "+0.17" not in html["amber"] and "its figure is withheld at this level" in html["amber"]
    assert "modest backtest skill (+0.17)" in html["red"]
    with TestClient(create_app(db, cache_entries=0)) as client:
        for level, expected in (("amber", WITHHELD), ("red", REASONS)):
            answer = client.get("/api/assessments", headers=bearer(tokens[level])).json()
            [item] = [i for i in answer["items"] if i["finding_id"] == finding_id]
            assert item["confidence_reasons"] == expected, level
            one = client.get(f"/api/findings/{finding_id}", headers=bearer(tokens[level]))
            assert one.json()["confidence_reasons"] == expected, level
