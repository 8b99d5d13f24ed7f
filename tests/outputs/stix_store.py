"""A small store for the STIX tests: 60 days of the demo scenario (GDELT, EUvsDisinfo and the
STIX bundle whose events carry TLP markings up to RED) and one run of every analysis.

Episodes and coincidences are recorded through the real workflows (``record_episodes`` /
``record_coincidences`` compute each finding's TLP from its events); the episodes are picked so
that every TLP level occurs. The assessment follows the documented item shape; its TWN item is
handed to the store as *clear* although it cites the RED episode — the store raises it to RED
(``save_run`` fails closed on what an item cites) and the export must withhold it below RED. Built in about two seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.findings_store import FindingItem, finding_id, save_run
from hybridwatch.workflows.findings import (
    episode_key, record_coincidences, record_episodes, record_narrative_sync,
)

GRID = ["domain=cyber actor=RUS target=DEU", "source=euvsdisinfo target=DEU",
        "domain=cyber actor=CHN target=TWN", "domain=military actor=RUS target=POL"]


def _ids(store: EventStore, where: str, n: int) -> list[str]:
    return [r[0] for r in store._con.execute(
        f"SELECT event_id FROM events WHERE {where} ORDER BY occurred_at, event_id LIMIT {n}"
    ).fetchall()]


def _episode(start: str, end: str, targets: list[str], domains: list[str],
             event_ids: list[str]) -> dict[str, Any]:
    return {"start": start, "end": end, "targets": targets, "domains": domains,
            "p_value": 0.004, "statistic": 12.5, "zone": "single", "window_days": 3,
            "signals": [], "n_events": len(event_ids), "event_ids": event_ids}


def build_store(directory: Path) -> dict[str, Any]:
    """Build the store in ``directory``; returns its path and the ids the tests look for."""
    from hybridwatch.demo.scenario import generate_scenario

    # raw random markings: these tests need restricted evidence inside the planted episodes
    files = generate_scenario(directory / "scenario", random_state=3, days=60,
                              releasable_planted=False)
    path = directory / "store.duckdb"
    with EventStore(path) as store:
        for source, format_name, _ in files.inputs():
            if format_name in ("gdelt2", "stix", "euvsdisinfo"):
                ingest_file(store, source, format=format_name)
        red = _ids(store, "tlp = 'red'", 1)
        strict = _ids(store, "tlp = 'amber+strict'", 1)
        amber = _ids(store, "tlp = 'amber' AND source_type = 'campaign'", 2)
        green = _ids(store, "tlp = 'green' AND source_type = 'campaign'", 2)
        gdelt = _ids(store, "source = 'gdelt' AND source_url IS NOT NULL", 6)
        episodes = {
            "red": _episode("2024-01-10", "2024-01-12", ["TWN"], ["cyber", "military"],
                            red + gdelt[:2]),
            "strict": _episode("2024-01-15", "2024-01-16", ["POL"], ["cyber", "information"],
                               strict + gdelt[2:3]),
            "amber": _episode("2024-01-20", "2024-01-22", ["DEU", "POL"],
                              ["cyber", "information", "social"], amber + green[:1]),
            "green": _episode("2024-02-01", "2024-02-02", ["DEU"], ["cyber", "diplomacy"],
                              green + gdelt[3:4]),
            "clear": _episode("2024-02-10", "2024-02-11", ["DEU"], ["diplomacy", "social"],
                              gdelt[4:6]),
        }
        record_episodes(store, {"episodes": list(episodes.values()), "start": "2024-01-01",
                                "end": "2024-02-29", "parameters": {"min_domains": 2},
                                "warnings": [], "provenance": {"version": "test"}})
        pairs = [{"a": GRID[1], "b": GRID[0], "best_lag_days": 1, "precursor_rate": 0.5,
                  "trigger_rate": 0.4, "p_precursor": 0.01, "p_trigger": 0.02, "p_value": 0.01,
                  "q_value": 0.04, "significant": True},
                 {"a": GRID[3], "b": GRID[2], "best_lag_days": 0, "precursor_rate": 0.1,
                  "trigger_rate": 0.1, "p_precursor": 0.6, "p_trigger": 0.7, "p_value": 0.6,
                  "q_value": 0.8, "significant": False}]
        record_coincidences(store, {"series": GRID, "pairs": pairs, "start": "2024-01-01",
                                    "end": "2024-02-29", "n_surrogates": 99, "fdr": 0.05})
        record_narrative_sync(store, {"too_little_data": False, "parameters": {"lag_days": 7},
                                      "narratives": [{
                                          "narrative": "n0001", "lead_actor": "ru_state",
                                          "lag_days": 2, "p_value": 0.02, "q_value": 0.03,
                                          "significant": True, "beyond_control": True,
                                          "evidence": {"article_ids": ["a1", "a2"]}}]})
        ep = {name: finding_id("episodes", episode_key(e)) for name, e in episodes.items()}
        assessment = [
            FindingItem("DEU", _assessment("DEU", 0.62, "likely", "moderate", [
                {"kind": "episode", "finding_id": ep["green"], "label": "green episode"},
                {"kind": "event", "event_id": gdelt[0], "label": "diplomacy"}]), "green"),
            FindingItem("TWN", _assessment("TWN", 0.07, "remote chance", "low", [
                {"kind": "episode", "finding_id": ep["red"], "label": "red episode"}]),
                "clear"),  # understated on purpose: its evidence is RED
        ]
        save_run(store, "assessment", {"horizon_days": 30, "as_of": "2024-02-29",
                                       "parameters": {}, "warnings": []}, assessment)
        periods = [FindingItem(p, {"period": p, "index": index, "low": None if index is None
                                   else index - 0.1, "high": None if index is None
                                   else index + 0.1, "components": {"narrative_alignment": index},
                                   "coverage": [], "confidence": "low"})
                   for p, index in (("2024-01", 0.2), ("2024-02", None))]
        save_run(store, "convergence", {"a": "RUS", "b": "CHN", "freq": "month",
                                        "weights": {"narrative_alignment": 1.0},
                                        "components": ["narrative_alignment"], "warnings": [],
                                        "parameters": {}}, periods)
    return {"path": path, "episodes": ep, "events": {"red": red, "strict": strict,
                                                      "amber": amber, "green": green,
                                                      "gdelt": gdelt},
            "assessment": {t: finding_id("assessment", t) for t in ("DEU", "TWN")}}


def _assessment(target: str, p: float, term: str, confidence: str,
                evidence: list[dict[str, Any]]) -> dict[str, Any]:
    return {"target": target, "outcome": "at least one hostile multi-domain episode",
            "probability": p, "low": p / 2, "high": min(1.0, p * 1.5), "phia_term": term,
            "confidence": confidence,
            "statement": f"It is {term} that {target} faces a hostile multi-domain episode.",
            "drivers": [{"name": "recent_episodes", "value": 1.0, "contribution": 0.4}],
            "evidence": evidence, "domains": {"cyber": {"probability": p, "phia_term": term}}}


_SHARED: dict[str, Any] = {}


def shared_store(tmp_path_factory) -> dict[str, Any]:
    """One store per test session for every STIX test module (read it, never write to it)."""
    if "info" not in _SHARED:
        _SHARED["info"] = build_store(tmp_path_factory.mktemp("stix-store"))
    return _SHARED["info"]
