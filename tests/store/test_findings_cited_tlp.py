"""A finding is never stored below what it cites (fail closed): a hand-built judgement marked
clear that cites a RED episode, or RED events, is stored RED and withheld from an AMBER reader."""

from __future__ import annotations

from hybridwatch.adapters import ReadOptions
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import FindingItem, finding_id, latest_run, save_run
from hybridwatch.workflows.ingest import ingest_file

MAPPING = """
[source]
name = "incident_log"
format = "csv"

[fields]
source_record_id = "ref"
occurred_at = { column = "day", format = "%Y-%m-%d" }
domain = { const = "cyber" }
target_iso3 = { column = "victim", system = "auto" }
tlp = "tlp"
"""


def _store(tmp_path):
    csv_path, mapping = tmp_path / "log.csv", tmp_path / "log.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    csv_path.write_text("ref,day,victim,tlp\nA,2024-01-02,DEU,clear\nB,2024-01-03,DEU,red\n",
                        encoding="utf-8")
    store = EventStore(tmp_path / "s.duckdb")
    ingest_file(store, csv_path, format="mapped", options=ReadOptions(mapping_path=mapping))
    return store


def _event_id(store, ref: str) -> str:
    [row] = [r for r in store.events(limit=None).to_pylist() if r["source_record_id"] == ref]
    return row["event_id"]


def test_a_judgement_citing_a_red_finding_is_stored_red(tmp_path):
    with _store(tmp_path) as store:
        save_run(store, "episodes", {}, [FindingItem("ep-1", {"targets": ["DEU"]}, tlp="red")])
        cites = {"target": "DEU", "evidence": [
            {"kind": "episode", "finding_id": finding_id("episodes", "ep-1")}]}
        save_run(store, "assessment", {}, [FindingItem("DEU", cites, tlp="clear"),
                                           FindingItem("POL", {"target": "POL"}, tlp="clear")])
        amber = latest_run(store, "assessment", clearance="amber")
        red = latest_run(store, "assessment", clearance="red")
    assert [i["target"] for i in amber.items] == ["POL"] and amber.withheld == 1
    assert {i["target"]: i["tlp"] for i in red.items} == {"DEU": "red", "POL": "clear"}


def test_items_citing_red_events_are_stored_red_and_clear_ones_stay_clear(tmp_path):
    with _store(tmp_path) as store:
        clear_id, red_id = _event_id(store, "A"), _event_id(store, "B")
        save_run(store, "episodes", {}, [
            FindingItem("by-ids", {"event_ids": [clear_id, red_id]}, tlp="green"),
            FindingItem("by-evidence", {"evidence": [{"kind": "event", "event_id": red_id}]}),
            FindingItem("by-dict", {"evidence": {"events": 1, "event_ids": [red_id]}}),
            FindingItem("clean", {"event_ids": [clear_id]}, tlp="green")])
        levels = {i["finding_id"]: i["tlp"]
                  for i in latest_run(store, "episodes", clearance="red").items}
    assert levels == {finding_id("episodes", "by-ids"): "red",
                      finding_id("episodes", "by-evidence"): "red",
                      finding_id("episodes", "by-dict"): "red",
                      finding_id("episodes", "clean"): "green"}
