"""STIX 2.1 export: valid bundles, TLP 2.0 enforced object by object, findings mapped to STIX."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import stix2
from click.testing import CliRunner
from stix_store import shared_store

from hybridwatch.cli import cli
from hybridwatch.outputs.identity import stix_identity_id, stix_identity_object
from hybridwatch.outputs.stix_export import export_stix
from hybridwatch.store import EventStore

from tlp_truth import LEVELS, TLP_IDS


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return shared_store(tmp_path_factory)


@pytest.fixture(scope="module")
def bundles(info):
    with EventStore(info["path"], read_only=True) as store:
        return {level: export_stix(store, tlp=level) for level in LEVELS}


def level(obj: dict) -> str:
    """The TLP 2.0 level an object is marked with (every object must carry one)."""
    marked = [TLP_IDS[r] for r in obj.get("object_marking_refs", []) if r in TLP_IDS]
    assert marked, f"{obj['id']} carries no TLP 2.0 marking"
    return max(marked, key=LEVELS.index)


def finding_records(bundle: dict) -> dict[str, dict]:
    """finding id → the finding's JSON record, read from the notes' fenced JSON."""
    found = {}
    for obj in bundle["objects"]:
        if obj["type"] == "note" and "```json" in obj.get("content", ""):
            record = json.loads(obj["content"].split("```json\n")[1].rsplit("\n```", 1)[0])
            if record["hybridwatch"] == "finding":
                found[record["finding_id"]] = {**record, "tlp": level(obj)}
    return found


def store_levels(info) -> dict[str, str]:
    """Independent truth: each finding's level is the max of its stored level, its evidence
    events' markings and the findings it cites (computed here in SQL)."""
    with EventStore(info["path"], read_only=True) as store:
        rows = store._con.execute("SELECT finding_id, tlp, item FROM findings").fetchall()
        event_tlp = dict(store._con.execute(
            "SELECT event_id, coalesce(tlp, 'clear') FROM events").fetchall())
    stored = {fid: tlp for fid, tlp, _ in rows}
    truth = {}
    for fid, tlp, item in rows:
        item = json.loads(item)
        levels = [tlp] + [event_tlp[e] for e in item.get("event_ids", [])]
        for entry in item.get("evidence", []) if isinstance(item.get("evidence"), list) else []:
            levels.append(event_tlp.get(entry.get("event_id"), "clear"))
            levels.append(stored.get(entry.get("finding_id"), "clear"))
        truth[fid] = max(levels, key=LEVELS.index)
    return truth


@pytest.mark.parametrize("tlp", LEVELS)
def test_every_bundle_is_valid_stix_21(bundles, tlp) -> None:
    parsed = stix2.parse(bundles[tlp].to_json(), allow_custom=False)
    assert len(parsed.objects) == len(bundles[tlp].objects)
    assert all(o["spec_version"] == "2.1" for o in bundles[tlp].objects)


@pytest.mark.parametrize("tlp", LEVELS)
def test_nothing_above_the_requested_level_leaves(info, bundles, tlp) -> None:
    bundle = bundles[tlp].bundle
    ids = {o["id"] for o in bundle["objects"]}
    for obj in bundle["objects"]:
        if obj["type"] == "marking-definition":
            continue
        assert LEVELS.index(level(obj)) <= LEVELS.index(tlp), obj["id"]
    expected = {fid for fid, lv in store_levels(info).items()
                if LEVELS.index(lv) <= LEVELS.index(tlp)}
    assert set(finding_records(bundle)) == expected
    # the evidence events above the level are absent, whatever object stands for them
    with EventStore(info["path"], read_only=True) as store:
        hidden = store._con.execute(
            "SELECT source_record_id FROM events WHERE source = 'stix' AND "
            "list_position(?, coalesce(tlp, 'clear')) > ?", [list(LEVELS),
                                                             LEVELS.index(tlp) + 1]).fetchall()
    assert not ids & {r[0] for r in hidden}


@pytest.mark.parametrize("tlp", LEVELS)
def test_containers_hold_only_exported_objects_and_are_marked_at_their_maximum(
        bundles, tlp) -> None:
    objects = {o["id"]: o for o in bundles[tlp].objects}
    for obj in objects.values():
        if obj["type"] in ("report", "grouping"):
            assert set(obj["object_refs"]) <= set(objects), obj["id"]
            contents = [level(objects[r]) for r in obj["object_refs"]]
            assert LEVELS.index(level(obj)) >= max(LEVELS.index(c) for c in contents)
    reports = [o for o in objects.values() if o["type"] == "report"]
    assert len(reports) == 1
    top = max((level(o) for o in objects.values() if o["type"] != "marking-definition"),
              key=LEVELS.index)
    assert level(reports[0]) == top  # AMBER+STRICT / RED never inside a report marked lower


def test_understated_finding_is_withheld_until_its_evidence_level(info, bundles) -> None:
    twn = info["assessment"]["TWN"]  # stored clear, cites the RED episode
    for tlp in LEVELS[:-1]:
        assert twn not in finding_records(bundles[tlp].bundle)
    assert finding_records(bundles["red"].bundle)[twn]["tlp"] == "red"


def test_episode_is_a_campaign_with_targets_and_its_evidence(info, bundles) -> None:
    objects = {o["id"]: o for o in bundles["amber"].objects}
    fid = info["episodes"]["amber"]
    campaign = objects["campaign--" + str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                     f"hybridwatch:campaign:finding:{fid}"))]
    assert (campaign["first_seen"], campaign["last_seen"]) == \
        ("2024-01-20T00:00:00.000Z", "2024-01-22T23:59:59.999Z")
    assert campaign["labels"] == ["cyber", "information", "social"]
    targets = [objects[r["target_ref"]] for r in objects.values()
               if r["type"] == "relationship" and r["source_ref"] == campaign["id"]
               and r["relationship_type"] == "targets"]
    assert sorted(t["country"] for t in targets) == ["DE", "PL"]
    record = finding_records(bundles["amber"].bundle)[fid]
    # evidence from a partner's STIX bundle keeps its id, producer and markings
    with EventStore(info["path"], read_only=True) as store:
        rows = store._con.execute(
            "SELECT event_id, source_record_id, source_name, tlp FROM events "
            "WHERE event_id IN (SELECT unnest(?))", [info["events"]["amber"]]).fetchall()
    for _, stix_id, producer, tlp in rows:
        assert stix_id in record["item"]["event_ids"]
        original = objects[stix_id]
        assert level(original) == tlp
        assert objects[original["created_by_ref"]]["name"] == producer


def test_other_events_are_sightings_pointing_back_to_their_source(info, bundles) -> None:
    objects = bundles["clear"].objects
    with EventStore(info["path"], read_only=True) as store:
        rows = store._con.execute(
            "SELECT source_record_id, source_url, occurred_at, actor_iso3 FROM events "
            "WHERE event_id IN (SELECT unnest(?))", [info["events"]["gdelt"][4:6]]).fetchall()
    sightings = {o["external_references"][0]["external_id"]: o for o in objects
                 if o["type"] == "sighting"}
    for record_id, url, occurred_at, actor in rows:
        sighting = sightings[record_id]
        assert sighting["external_references"][0]["url"] == url
        assert sighting["first_seen"].startswith(occurred_at.strftime("%Y-%m-%dT%H:%M:%S"))
        actor_obj = next(o for o in objects if o["id"] == sighting["sighting_of_ref"])
        assert actor in actor_obj["name"] if actor else actor_obj["name"] == "Unknown actor"


def test_assessment_carries_probability_phia_and_confidence(info, bundles) -> None:
    objects = bundles["amber"].objects
    fid = info["assessment"]["DEU"]
    opinion = next(o for o in objects if o["type"] == "opinion"
                   and o["external_references"][0]["external_id"].endswith(fid))
    note = next(o for o in objects if o["id"] == opinion["object_refs"][0])
    assert opinion["opinion"] == "agree"  # "likely"
    assert opinion["confidence"] == note["confidence"] == 50  # moderate
    assert "62%" in opinion["explanation"] and "likely" in opinion["explanation"]
    episode = "campaign--" + str(uuid.uuid5(
        uuid.NAMESPACE_URL, f"hybridwatch:campaign:finding:{info['episodes']['green']}"))
    assert episode in note["object_refs"]
    assert any(o["type"] == "location" and o["id"] in note["object_refs"]
               and o["country"] == "DE" for o in objects)


def test_producer_identity_and_deterministic_bytes(info, bundles, monkeypatch) -> None:
    objects = bundles["red"].objects
    ours = stix_identity_id("hybridwatch")
    identity = next(o for o in objects if o["id"] == ours)
    assert {k: v for k, v in identity.items() if k != "object_marking_refs"} == \
        stix_identity_object("hybridwatch")
    derived = [o for o in objects if any(r["source_name"] == "hybridwatch"
                                          for r in o.get("external_references", []))]
    assert len(derived) > 10 and all(o["created_by_ref"] == ours for o in derived)
    partners = {o["created_by_ref"] for o in objects if o["type"] == "campaign"} - {ours}
    assert partners and all(any(i["id"] == p for i in objects) for p in partners)
    monkeypatch.setenv("HYBRIDWATCH_ORG", "CERT Example")
    with EventStore(info["path"], read_only=True) as store:
        again = export_stix(store, tlp="red", org="hybridwatch")
        other = export_stix(store, tlp="red")
    assert again.to_json() == bundles["red"].to_json()
    assert any(o["id"] == stix_identity_id("CERT Example") for o in other.objects)


def test_cli_export_stix_and_parquet(info, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "bundle.json"
    result = runner.invoke(cli, ["export", "stix", "--db", str(info["path"]), "--tlp", "amber",
                                 "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    bundle = json.loads(out.read_text())
    assert summary["objects"] == len(bundle["objects"]) and summary["tlp"] == "amber"
    assert summary["withheld"]["episodes"] == 2
    result = runner.invoke(cli, ["export", "stix", "--db", str(info["path"]), "--tlp", "pink"])
    assert result.exit_code == 2 and "pink" in result.output
    result = runner.invoke(cli, ["export", "--parquet", str(tmp_path / "pq"), "--db",
                                 str(info["path"]), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["tables"]["events"]["rows"] > 0
