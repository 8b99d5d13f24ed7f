"""STIX adapter: a hand-written 2.1 fixture bundle and the two real ATT&CK bundles."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from hybridwatch.adapters.base import ReadOptions, Rejection
from hybridwatch.adapters.misp import ADAPTERS as MISP_ADAPTERS
from hybridwatch.adapters.stix import ADAPTERS, StixAdapter
from hybridwatch.adapters.textio import read_head
from hybridwatch.errors import FormatError, InputError
from hybridwatch.model.schema import EVENT_SCHEMA

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stix" / "hybrid_bundle.json"
ICS = "mitre_attack/ics-attack-18.1.json"
ENTERPRISE = "mitre_attack/enterprise-attack-groups-campaigns-software-stix20.json"


def _read(path: Path) -> tuple[list[dict[str, Any]], list[Rejection]]:
    batches = list(StixAdapter().read(path, ReadOptions()))
    for batch in batches:
        assert batch.kind == "events"
        assert batch.table.schema.equals(EVENT_SCHEMA)
    table = pa.concat_tables([b.table for b in batches])
    rows = table.to_pylist()
    for row in rows:
        row["extra"] = json.loads(row["extra"])
    return rows, [r for b in batches for r in b.rejections]


@pytest.fixture(scope="module")
def fixture_rows() -> tuple[dict[str, dict[str, Any]], list[Rejection]]:
    rows, rejections = _read(FIXTURE)
    return {r["title"]: r for r in rows}, rejections


def test_fixture_counts_events_context_and_rejections(fixture_rows) -> None:
    by_title, rejections = fixture_rows
    objects = json.loads(FIXTURE.read_text())["objects"]
    event_types = {"campaign", "intrusion-set", "incident", "sighting", "report"}
    candidates = [o for o in objects if o.get("type") in event_types]
    # every event-type object is either an event or a rejection; malware, attack patterns,
    # locations, identities are context only
    assert len(by_title) == 10
    # two rejected, one an older version of an id (a later "modified" wins)
    assert len(by_title) + 2 + 1 == len(candidates)
    assert "Typhoon Example (older version)" not in by_title
    assert {r["source_type"] for r in by_title.values()} == event_types
    assert "ExampleWiper" not in by_title and "Data Destruction" not in by_title
    reasons = {r.record: (r.field, r.reason) for r in rejections}
    assert reasons == {
        "object 20 (campaign--00000019-0000-4000-8000-000000000019)":
            ("first_seen", "no usable time (first_seen, published, created)"),
        "object 21 (no id)": (None, "missing id"),
        "object 39 (relationship--00000045-0000-4000-8000-000000000045)":
            (None, "relationship without source_ref or target_ref"),
    }
    timeless = next(r for r in rejections if r.field == "first_seen")
    assert json.loads(timeless.raw) == objects[20]


def test_campaign_resolves_actor_target_place_and_provenance(fixture_rows) -> None:
    rhine = fixture_rows[0]["Operation Rhine"]
    assert rhine["source"] == "stix"
    assert rhine["source_record_id"] == "campaign--00000011-0000-4000-8000-000000000011"
    assert rhine["occurred_at"] == datetime(2022, 3, 1)
    assert rhine["occurred_precision"] == "second"
    assert rhine["ended_at"] == datetime(2022, 4, 15, 18, 30)
    assert rhine["actor_code"] == "intrusion-set--00000009-0000-4000-8000-000000000009"
    assert rhine["actor_name"] == "Sandstorm Example"
    # intrusion set → attributed-to threat actor → originates-from location "RU"
    assert rhine["actor_iso3"] == "RUS"
    assert rhine["target_iso3s"] == ["DEU"]
    assert (rhine["location_name"], rhine["location_iso3"], rhine["lat"], rhine["lon"]) == \
        ("Germany", "DEU", 51.0, 10.0)
    assert rhine["domain"] == "cyber"
    assert rhine["tlp"] == "amber"
    assert rhine["source_name"] == "CERT Example"
    assert rhine["source_url"] == "https://cert.example/rhine"  # first reference that has a url
    extra = rhine["extra"]
    assert extra["time_property"] == "first_seen"
    assert extra["object_marking_refs"] == \
        ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
    assert extra["created_by_ref"] == "identity--00000001-0000-4000-8000-000000000001"
    assert extra["description"] == "Wiper attacks on German utilities."
    assert [u["name"] for u in extra["uses"]] == ["ExampleWiper", "Data Destruction"]
    assert extra["lifecycle"] == "active" and "notes" not in extra


def test_targets_through_identities_and_most_restrictive_tlp(fixture_rows) -> None:
    vistula = fixture_rows[0]["Operation Vistula"]
    # both targets relationships count: an identity located-at a location with country "PL",
    # and a location in Taiwan (a campaign with two targets used to count for the first only)
    assert vistula["target_iso3s"] == ["POL", "TWN"]
    assert vistula["target_sector"] == "government-national; energy"
    assert [t.get("iso3") for t in vistula["extra"]["targets"]] == ["POL", "TWN"]
    assert vistula["location_name"] == "Poland"
    assert vistula["tlp"] == "red"  # AMBER+STRICT and RED markings
    assert vistula["occurred_at"] == datetime(2022, 5, 2, 10, 20, 30, 123456)  # nanoseconds cut


def test_incident_sighting_report(fixture_rows) -> None:
    by_title = fixture_rows[0]
    incident = by_title["Strait Outage"]
    assert incident["target_iso3s"] == ["TWN"] and incident["location_iso3"] == "TWN"
    assert incident["domain"] == "infrastructure"  # x_hybridwatch_domain
    assert incident["actor_name"] == "Typhoon Example"
    assert incident["actor_iso3"] == "CHN"  # attributed-to an identity the bundle names China
    assert incident["extra"]["time_property"] == "created"
    assert incident["extra"]["kill_chain_phases"][0]["phase_name"] == "impact"

    sighting = by_title["Sighting of Operation Rhine"]
    assert (sighting["occurred_at"], sighting["ended_at"]) == \
        (datetime(2022, 3, 10, 8), datetime(2022, 3, 12, 8))
    assert (sighting["intensity"], sighting["intensity_kind"]) == (3.0, "count")
    assert sighting["location_iso3"] == "DEU"
    assert sighting["actor_name"] == "Sandstorm Example"  # the sighted campaign's actor
    assert sighting["tlp"] == "green"  # TLP 1.0 GREEN marking id

    report = by_title["Weekly hybrid threat report"]
    assert report["occurred_at"] == datetime(2023, 9, 1, 12)
    assert report["extra"]["time_property"] == "published"
    assert report["domain"] == "information"  # label "disinformation"
    assert report["tlp"] == "clear"
    assert report["actor_name"] == "Typhoon Example"


def test_problems_are_kept_as_notes_and_lifecycle_flags(fixture_rows) -> None:
    by_title = fixture_rows[0]
    deprecated = by_title["Deprecated Op"]
    assert deprecated["extra"]["lifecycle"] == "deprecated"
    assert deprecated["extra"]["time_property"] == "created"
    assert deprecated["extra"]["notes"] == ["first_seen: not a timestamp ('sometime in 2020')"]
    revoked = by_title["Old Sandstorm"]
    assert revoked["extra"]["lifecycle"] == "revoked"
    assert revoked["extra"]["revoked_by"] == ["intrusion-set--00000009-0000-4000-8000-000000000009"]
    ghost = by_title["Operation Ghost Ref"]
    assert ghost["actor_name"] is None
    assert ghost["extra"]["notes"] == [
        "attributed-to: intrusion-set--00000404-0000-4000-8000-000000000404 is not in the bundle"]
    assert ghost["tlp"] == "red"  # a TLP marking definition carried in the bundle
    assert by_title["Sandstorm Example"]["tlp"] == "green"


def test_gzip_bundle_reads_the_same(fixture_rows, tmp_path: Path) -> None:
    packed = tmp_path / "bundle.json.gz"
    packed.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    rows, rejections = _read(packed)
    assert {r["title"] for r in rows} == set(fixture_rows[0])
    assert len(rejections) == 3


def test_sniff_and_whole_file_errors(tmp_path: Path) -> None:
    adapter = ADAPTERS[0]
    assert adapter.sniff(FIXTURE, read_head(FIXTURE)) == 95
    assert adapter.sniff(FIXTURE, b'{"objects": [], "type" :"bundle"}') == 95
    assert adapter.sniff(FIXTURE, b'{"Event": {"uuid": "x"}}') == 0
    assert adapter.sniff(FIXTURE, b"uuid,event_id,category\n") == 0
    assert all(other.sniff(FIXTURE, read_head(FIXTURE)) == 0 for other in MISP_ADAPTERS)
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle", "objects": [')
    with pytest.raises(InputError, match="not valid JSON"):
        list(adapter.read(broken, ReadOptions()))
    single = tmp_path / "campaign.json"
    single.write_text('{"type": "campaign", "id": "campaign--1", "name": "x"}')
    with pytest.raises(FormatError, match="not a STIX bundle"):
        list(adapter.read(single, ReadOptions()))
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="empty"):
        list(adapter.read(empty, ReadOptions()))


@pytest.mark.parametrize("name", [ICS, ENTERPRISE])
def test_attack_bundles_ingest_every_campaign_and_intrusion_set(shared_data: Path,
                                                                name: str) -> None:
    path = shared_data / name
    objects = json.loads(path.read_text(encoding="utf-8"))["objects"]
    expected = {o["id"]: o for o in objects if o["type"] in ("campaign", "intrusion-set")}
    rows, rejections = _read(path)
    assert rejections == []
    assert {r["source_record_id"] for r in rows} == set(expected)
    assert len(rows) == len(expected)  # 24 (ICS), 239 (enterprise)
    by_id = {r["source_record_id"]: r for r in rows}
    revoked = {i for i, o in expected.items() if o.get("revoked")}
    assert {i for i, r in by_id.items() if r["extra"]["lifecycle"] == "revoked"} == revoked
    assert all(r["source_name"] == "The MITRE Corporation" for r in rows
               if expected[r["source_record_id"]].get("created_by_ref"))
    # every campaign's actors are exactly the targets of its attributed-to relationships
    attributed: dict[str, set[str]] = {}
    for rel in objects:
        if rel["type"] == "relationship" and rel["relationship_type"] == "attributed-to":
            attributed.setdefault(rel["source_ref"], set()).add(expected[rel["target_ref"]]["name"])
    for ident, row in by_id.items():
        if row["source_type"] == "campaign":
            names = set(row["actor_name"].split("; ")) if row["actor_name"] else set()
            assert names == attributed.get(ident, set()), row["title"]
    version = "2.1" if name == ICS else "2.0"
    assert {r["extra"]["stix_version"] for r in rows} == {version}


def test_attack_campaign_times_and_attribution(shared_data: Path) -> None:
    rows, _ = _read(shared_data / ICS)
    ukraine = next(r for r in rows if r["title"] == "2015 Ukraine Electric Power Attack")
    # values of the file: first_seen 2015-12-01T05:00:00.000Z, last_seen 2016-01-01T05:00:00.000Z
    assert ukraine["occurred_at"] == datetime(2015, 12, 1, 5)
    assert ukraine["ended_at"] == datetime(2016, 1, 1, 5)
    assert ukraine["actor_name"] == "Sandworm Team"
    assert ukraine["actor_code"] == "intrusion-set--381fcf73-60f6-4ab2-9991-6af3cbc35192"
    assert ukraine["source_url"] == "https://attack.mitre.org/campaigns/C0028"
    assert ukraine["tlp"] is None  # ATT&CK carries a copyright statement, not a TLP marking

    rows, _ = _read(shared_data / ENTERPRISE)
    solarwinds = next(r for r in rows if r["title"] == "SolarWinds Compromise")
    assert (solarwinds["occurred_at"], solarwinds["ended_at"]) == \
        (datetime(2019, 8, 1, 5), datetime(2021, 1, 1, 6))
    assert solarwinds["actor_name"] == "APT29"
    spacehop = next(r for r in rows if r["title"] == "SPACEHOP Activity")
    assert spacehop["actor_name"] == "APT5; Ke3chang"  # two attributions, both kept
    apt29 = next(r for r in rows if r["title"] == "APT29")
    assert apt29["extra"]["time_property"] == "created"  # intrusion sets have no first_seen
    assert apt29["actor_iso3"] is None  # not guessed from the description's "Russia"
