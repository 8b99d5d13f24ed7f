"""One result contract: a RunReport's strict JSON round trip, and ``record(store, report)``
giving each item the TLP level its kind's registered rule says (checked against the levels of
the real events in the STIX test store)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from outputs.stix_store import GRID, shared_store

from hybridwatch.errors import StoreError
from hybridwatch.model.results import RunReport
from hybridwatch.model.tlp import most_restricted
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import latest_run, tlp_of_events
from hybridwatch.workflows.findings import record, report_of, series_tlp


def test_run_report_json_is_strict_and_round_trips() -> None:
    report = RunReport("coincidences", {"parameters": {"fdr": 0.05},
                                        "warnings": ["thin data"],
                                        "window": {"start": "2024-01-01"},
                                        "statistic": float("nan"), "n": np.int64(3)},
                       ({"a": "x", "b": "y", "p_value": np.float64(0.25),
                         "q_value": float("inf")},), items_field="pairs")
    text = report.to_json()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["statistic"] is None and data["n"] == 3
    assert data["pairs"] == [{"a": "x", "b": "y", "p_value": 0.25, "q_value": None}]
    back = RunReport.from_json(text)
    assert (back.kind, back.items_field, back.parameters, back.warnings, back.window) == (
        "coincidences", "pairs", {"fdr": 0.05}, ("thin data",), {"start": "2024-01-01"})
    assert back.items[0]["q_value"] is None and back.to_json() == text
    with pytest.raises(ValueError, match="2 TLP levels for 1 items"):
        RunReport("episodes", {}, ({"x": 1},), ("clear", "red"))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    info = shared_store(tmp_path_factory)
    path = tmp_path_factory.mktemp("record") / "store.duckdb"
    shutil.copy(info["path"], path)
    return path


def test_record_applies_each_kinds_tlp_rule(store_path: Path) -> None:
    with EventStore(store_path) as store:
        red = [r[0] for r in store._con.execute(
            "SELECT event_id FROM events WHERE tlp = 'red' LIMIT 1").fetchall()]
        green = [r[0] for r in store._con.execute(
            "SELECT event_id FROM events WHERE tlp = 'green' LIMIT 2").fetchall()]
        episodes = [{"start": "2024-01-01", "end": "2024-01-02", "targets": ["DEU"],
                     "domains": ["cyber", "social"], "event_ids": red + green},
                    {"start": "2024-01-05", "end": "2024-01-06", "targets": ["POL"],
                     "domains": ["cyber", "social"], "event_ids": green}]
        done = record(store, report_of("episodes", {"episodes": episodes, "warnings": []}))
        run = latest_run(store, "episodes")
        assert run.run_id == done.run_id
        assert [i["tlp"] for i in run.items] == ["red", "green"]    # events rule
        pairs = [{"a": GRID[1], "b": GRID[0], "significant": True},
                 {"a": GRID[3], "b": GRID[2], "significant": False}]
        record(store, report_of("coincidences", {"pairs": pairs, "series": GRID}))
        expected = [most_restricted([series_tlp(store, p["a"]), series_tlp(store, p["b"])])
                    for p in pairs]
        assert [i["tlp"] for i in latest_run(store, "coincidences").items] == expected
        record(store, report_of("narrative_sync", {"narratives": [{"narrative": "n1"}]}))
        assert latest_run(store, "narrative_sync").items[0]["tlp"] == "clear"   # clear rule
        record(store, report_of("screening", {"matches": [
            {"name": "A", "entry_id": "e1", "tlp": "amber"}]}))
        assert latest_run(store, "screening").items[0]["tlp"] == "amber"        # marked rule
        with pytest.raises(StoreError, match="without their TLP level"):
            record(store, report_of("screening", {"matches": [{"name": "B",
                                                               "entry_id": "e2"}]}))
        with pytest.raises(StoreError, match=r"TLP rule \(evidence\) needs the levels"):
            record(store, report_of("assessment", {"targets": [{"target": "DEU"}]}))
        kept = record(store, report_of("assessment", {"targets": [{"target": "DEU"}]},
                                       ["amber"]))
        assert latest_run(store, "assessment").items[0]["tlp"] == "amber"
        assert kept.run_id and tlp_of_events(store, red) == "red"
        with pytest.raises(StoreError, match="has no 'pairs'"):
            report_of("coincidences", {"series": GRID})

