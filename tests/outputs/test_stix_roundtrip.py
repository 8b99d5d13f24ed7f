"""Import of STIX bundles exported by hybridwatch: markings and producers kept, findings restored,
and export → import → export gives the same bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from stix_store import shared_store

from hybridwatch.model.schema import record_id_hash
from hybridwatch.outputs.stix_export import export_stix
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.findings_store import latest_run

#: The kinds the STIX test store records (tests/outputs/stix_store.py); every registered kind
#: goes through export and import in tests/test_finding_kinds.py.
STORED_KINDS = ("assessment", "convergence", "episodes", "coincidences", "narrative_sync")


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return shared_store(tmp_path_factory)


def _export(path: Path, tlp: str, target: Path) -> dict:
    with EventStore(path, read_only=True) as store:
        result = export_stix(store, tlp=tlp)
    target.write_text(result.to_json(), encoding="utf-8")
    return result.bundle


@pytest.mark.parametrize("tlp", ["green", "amber+strict", "red"])
def test_export_import_export_is_identical(info, tmp_path: Path, tlp: str) -> None:
    first = _export(info["path"], tlp, tmp_path / "first.json")
    with EventStore(tmp_path / "partner.duckdb") as store:
        report = ingest_file(store, tmp_path / "first.json")
        assert report.status == "ingested" and report.quarantined == 0
        assert report.findings == len(STORED_KINDS)
    second = _export(tmp_path / "partner.duckdb", tlp, tmp_path / "second.json")
    assert second == first  # timestamps included: they come from run and source times


def test_imported_events_keep_markings_producer_and_places(info, tmp_path: Path) -> None:
    bundle = _export(info["path"], "red", tmp_path / "bundle.json")
    objects = {o["id"]: o for o in bundle["objects"]}
    with EventStore(tmp_path / "partner.duckdb") as store:
        ingest_file(store, tmp_path / "bundle.json")
        imported = {r["source_record_id"]: r for r in store.events(limit=None).to_pylist()}
    with EventStore(info["path"], read_only=True) as store:
        originals = store._con.execute(
            "SELECT source_record_id, tlp, source_name, actor_iso3, target_iso3s FROM events "
            "WHERE source = 'stix' AND event_id IN (SELECT unnest(?))",
            [info["events"]["red"] + info["events"]["amber"]]).fetchall()
    assert originals
    for stix_id, tlp, producer, actor, target in originals:
        row = imported[stix_id]  # the partner's object keeps its id …
        assert (row["tlp"], row["source_name"]) == (tlp, producer)  # … marking and producer
        assert (row["actor_iso3"], row["target_iso3s"]) == (actor, target)
    sightings = [o for o in objects.values() if o["type"] == "sighting"]
    for sighting in sightings:
        row = imported[sighting["id"]]
        assert row["source_name"] == "hybridwatch"  # the exporting organisation
        assert row["tlp"] == "clear" and row["domain"] == sighting["labels"][0]
    # derived objects (episode campaigns, the report) are findings, not events
    assert not [i for i, o in objects.items() if o["type"] in ("campaign", "report")
                and i in imported and o.get("external_references", [{}])[0].get(
                    "source_name") == "hybridwatch"]


def test_findings_are_restored_with_their_evidence(info, tmp_path: Path) -> None:
    _export(info["path"], "amber", tmp_path / "bundle.json")
    with EventStore(tmp_path / "partner.duckdb") as store:
        ingest_file(store, tmp_path / "bundle.json")
        event_ids = {r[0] for r in store._con.execute("SELECT event_id FROM events").fetchall()}
        restored = {kind: latest_run(store, kind) for kind in STORED_KINDS}
    with EventStore(info["path"], read_only=True) as store:
        source = {kind: latest_run(store, kind, clearance="amber") for kind in STORED_KINDS}
    for kind in STORED_KINDS:
        mine, theirs = restored[kind], source[kind]
        assert (mine.run_id, mine.created_at) == (theirs.run_id, theirs.created_at)
        assert mine.summary["producer"]["name"] == "hybridwatch"
        assert {k: v for k, v in mine.summary.items() if k != "producer"} == theirs.summary
        ids = [i["finding_id"] for i in theirs.items
               if i["finding_id"] != info["assessment"]["TWN"]]  # above amber by evidence
        assert [i["finding_id"] for i in mine.items] == ids
    for episode in restored["episodes"].items:
        assert set(episode["event_ids"]) <= event_ids  # every evidence event resolves


def test_a_store_keeps_its_own_findings(info, tmp_path: Path) -> None:
    _export(info["path"], "amber", tmp_path / "bundle.json")
    own = tmp_path / "own.duckdb"
    shutil.copy(info["path"], own)
    with EventStore(own) as store:
        before = {k: latest_run(store, k).run_id for k in STORED_KINDS}
        # the store's runs are its own (no producer): a partner's runs must not replace them
        report = ingest_file(store, tmp_path / "bundle.json")
        after = {k: latest_run(store, k).run_id for k in STORED_KINDS}
        reasons = [r["reason"] for r in store.quarantine().to_pylist()]
    assert before == after
    assert report.findings == 0 and report.quarantined == len(STORED_KINDS)
    assert all("the store holds its own" in r for r in reasons)
    # the same partner's newer export replaces their earlier one
    partner = tmp_path / "partner.duckdb"
    with EventStore(partner) as store:
        ingest_file(store, tmp_path / "bundle.json")
    _export(info["path"], "red", tmp_path / "newer.json")
    with EventStore(partner) as store:
        report = ingest_file(store, tmp_path / "newer.json")
        assert report.findings == len(STORED_KINDS) and report.quarantined == 0
        assert len(latest_run(store, "episodes").items) == 5


def test_import_keys_match_the_exported_ids(info, tmp_path: Path) -> None:
    bundle = _export(info["path"], "amber", tmp_path / "bundle.json")
    with EventStore(tmp_path / "partner.duckdb") as store:
        ingest_file(store, tmp_path / "bundle.json")
        stored = {r[0] for r in store._con.execute("SELECT event_id FROM events").fetchall()}
    evidence = {o["id"] for o in bundle["objects"] if o["type"] == "sighting"}
    assert {record_id_hash("stix", i) for i in evidence} <= stored


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stix" / "hybrid_bundle.json"
PARTNER = {"campaign": "campaign--00000011-0000-4000-8000-000000000011",
           "intrusion-set": "intrusion-set--00000010-0000-4000-8000-000000000010",
           "incident": "incident--00000013-0000-4000-8000-000000000013",
           "sighting": "sighting--00000014-0000-4000-8000-000000000014",
           "report": "report--00000015-0000-4000-8000-000000000015"}


def _partner_store(path: Path, cited: list[str]) -> None:
    from hybridwatch.workflows.findings import record_episodes

    with EventStore(path) as store:
        ingest_file(store, FIXTURE)
        ids = [record_id_hash("stix", PARTNER[kind]) for kind in cited]
        record_episodes(store, {"episodes": [{
            "start": "2024-03-01", "end": "2024-03-03", "targets": ["DEU"],
            "domains": ["cyber", "information"], "p_value": 0.01, "statistic": 5.0,
            "zone": "single", "window_days": 3, "signals": [], "n_events": len(ids),
            "event_ids": ids}], "start": "2024-01-01", "end": "2024-12-31"})


def test_a_partners_objects_are_shared_as_themselves(tmp_path: Path) -> None:
    import stix2

    _partner_store(tmp_path / "a.duckdb", list(PARTNER))
    first = _export(tmp_path / "a.duckdb", "amber", tmp_path / "first.json")
    stix2.parse(json.dumps(first), allow_custom=False)
    objects = {o["id"]: o for o in first["objects"]}
    fixture = {o["id"]: o for o in json.loads(FIXTURE.read_text())["objects"]
               if isinstance(o, dict) and o.get("id")}
    report = objects[PARTNER["report"]]  # everything it holds is shared: it goes as itself
    assert report["object_refs"] == fixture[PARTNER["report"]]["object_refs"]
    assert "x_hybridwatch_domain" not in objects[PARTNER["incident"]]  # custom: dropped
    sighting = objects[PARTNER["sighting"]]  # TLP 1.0 GREEN kept, TLP 2.0 GREEN added
    assert sighting["object_marking_refs"] == [
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    creator = objects[objects[PARTNER["campaign"]]["created_by_ref"]]
    assert creator["name"] == fixture[creator["id"]]["name"]
    with EventStore(tmp_path / "b.duckdb") as store:
        ingest_file(store, tmp_path / "first.json")
    assert _export(tmp_path / "b.duckdb", "amber", tmp_path / "second.json") == first


def test_a_partners_report_with_unshared_contents_becomes_a_sighting(tmp_path: Path) -> None:
    _partner_store(tmp_path / "a.duckdb", ["report"])
    bundle = _export(tmp_path / "a.duckdb", "amber", tmp_path / "bundle.json")
    ids = {o["id"] for o in bundle["objects"]}
    assert PARTNER["report"] not in ids and PARTNER["campaign"] not in ids
    (sighting,) = [o for o in bundle["objects"] if o["type"] == "sighting"]
    assert sighting["external_references"][0]["external_id"] == PARTNER["report"]
