"""A newer version that tightens wins (issue #14 §2), played as the attack: a STIX object or a
MISP event first shared at GREEN, then again with the same id, a later version and TLP:RED.

Expected levels come from TLP 2.0 (``tests/tlp_truth.py``); versions are written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tlp_truth import TLP_IDS

from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.versions import Signer

ID_OF = {level: marking_id for marking_id, level in TLP_IDS.items()}
CAMPAIGN = "campaign--6a7b6b1c-52b5-4a36-9d0b-1d2a7d1b9c11"
ALPHA = "identity--0c2d1f60-0000-4000-8000-00000000a1fa"
DEU = {"type": "location", "spec_version": "2.1", "created": "2024-01-01T00:00:00.000Z",
       "modified": "2024-01-01T00:00:00.000Z", "country": "DE",
       "id": "location--00000000-0000-4000-8000-0000000000de"}
POL = {**DEU, "country": "PL", "id": "location--00000000-0000-4000-8000-000000000001"}


def _bundle(path: Path, *versions: tuple[str, str, str, dict], creator: str = ALPHA) -> Path:
    """A bundle holding the campaign in each (modified, level, name, target) given."""
    objects: list[dict] = [{"type": "identity", "spec_version": "2.1", "id": creator,
                            "created": "2024-01-01T00:00:00.000Z",
                            "modified": "2024-01-01T00:00:00.000Z", "name": "Alpha CERT",
                            "identity_class": "organization"}, DEU, POL]
    for k, (modified, level, name, target) in enumerate(versions):
        objects.append({"type": "campaign", "spec_version": "2.1", "id": CAMPAIGN,
                        "created": "2024-03-01T00:00:00.000Z", "modified": modified,
                        "first_seen": "2024-03-01T00:00:00Z", "name": name,
                        "created_by_ref": creator, "object_marking_refs": [ID_OF[level]]})
        objects.append({"type": "relationship", "spec_version": "2.1",
                        "id": f"relationship--00000000-0000-4000-8000-{k:012d}",
                        "created": modified, "modified": modified,
                        "relationship_type": "targets", "source_ref": CAMPAIGN,
                        "target_ref": target["id"]})
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--" + CAMPAIGN.split("--")[1],
                                "objects": objects}))
    return path


def _stored(store: EventStore) -> list[tuple]:
    return store._con.execute("SELECT tlp, title, target_iso3s FROM events WHERE source='stix'"
                             ).fetchall()


V1, V2, V3 = "2024-03-01T00:00:00.000Z", "2024-03-05T12:00:00.000Z", "2024-04-01T00:00:00.000Z"


def test_a_later_version_at_red_replaces_the_green_one(tmp_path):
    with EventStore(tmp_path / "s.duckdb") as store:
        ingest_file(store, _bundle(tmp_path / "a.json", (V1, "green", "Old name", DEU)))
        report = ingest_file(store, _bundle(tmp_path / "b.json", (V2, "red", "New name", POL)))
        assert report.updated == 1 and report.duplicates == 0
        assert _stored(store) == [("red", "New name", ["POL"])]


def test_a_later_version_never_loosens_a_marking_by_itself(tmp_path):
    with EventStore(tmp_path / "s.duckdb") as store:
        ingest_file(store, _bundle(tmp_path / "a.json", (V1, "red", "Old name", DEU)))
        report = ingest_file(store, _bundle(tmp_path / "b.json", (V2, "green", "New", POL)))
        assert report.updated == 1
        assert _stored(store) == [("red", "New", ["POL"])]   # fields move on, RED stays


def test_an_older_version_arriving_late_keeps_the_fields_but_tightens(tmp_path):
    with EventStore(tmp_path / "s.duckdb") as store:
        ingest_file(store, _bundle(tmp_path / "new.json", (V2, "green", "New", POL)))
        report = ingest_file(store, _bundle(tmp_path / "old.json", (V1, "amber", "Old", DEU)))
        assert (report.updated, report.duplicates, report.tightened) == (0, 1, 1)
        assert _stored(store) == [("amber", "New", ["POL"])]


def test_versions_in_one_bundle_keep_the_latest_fields_and_the_strictest_marking(tmp_path):
    with EventStore(tmp_path / "s.duckdb") as store:
        ingest_file(store, _bundle(tmp_path / "a.json", (V2, "green", "Latest", POL),
                                   (V1, "red", "First", DEU)))
        # relationships are objects of their own: both versions' targets stand
        assert _stored(store) == [("red", "Latest", ["POL", "DEU"])]


def test_the_strictest_marking_survives_replace_of_the_file_that_brought_it(tmp_path):
    with EventStore(tmp_path / "s.duckdb") as store:
        ingest_file(store, _bundle(tmp_path / "a.json", (V1, "green", "Old", DEU)))
        ingest_file(store, _bundle(tmp_path / "b.json", (V2, "red", "New", POL)))
        # the RED file is "corrected" to GREEN and re-ingested in place: still RED
        ingest_file(store, _bundle(tmp_path / "b.json", (V2, "green", "New", POL)), replace=True)
        assert _stored(store) == [("red", "New", ["POL"])]


def test_only_the_signed_producer_re_releases_and_only_with_a_later_version(tmp_path):
    alpha = Signer(stix_identity_id=ALPHA, org="Alpha CERT")
    bravo = Signer(stix_identity_id="identity--0c2d1f60-0000-4000-8000-0000000b7a70",
                   org="Bravo MoD")
    with EventStore(tmp_path / "s.duckdb") as store:
        ingest_file(store, _bundle(tmp_path / "a.json", (V2, "red", "Red", DEU)))
        # another signer, or the producer with an equal version: no way down
        ingest_file(store, _bundle(tmp_path / "b.json", (V3, "green", "Bravo's", DEU)),
                    signer=bravo)
        ingest_file(store, _bundle(tmp_path / "c.json", (V3, "green", "Same v", DEU)),
                    signer=alpha)
        assert _stored(store)[0][0] == "red"
        report = ingest_file(store, _bundle(tmp_path / "d.json",
                                            ("2024-05-01T00:00:00Z", "green", "Out", DEU)),
                             signer=alpha)
        assert report.released == 1 and _stored(store)[0][0] == "green"
        # a replay of the old RED version after the re-release changes nothing
        ingest_file(store, _bundle(tmp_path / "e.json", (V2, "red", "Replay", DEU)))
        assert _stored(store)[0][:2] == ("green", "Out")
        # …but a new unsigned version at AMBER still tightens
        ingest_file(store, _bundle(tmp_path / "f.json",
                                   ("2024-06-01T00:00:00Z", "amber", "Later", DEU)))
        assert _stored(store)[0][:2] == ("amber", "Later")


def _misp(path: Path, timestamp: int, tag: str, info: str) -> Path:
    path.write_text(json.dumps({"Event": {
        "uuid": "5e6b322a-9f80-4e2f-9f8f-4a0e0a0a0a0a", "date": "2024-03-01", "info": info,
        "timestamp": str(timestamp), "Orgc": {"name": "Alpha CERT"},
        "Tag": [{"name": tag}]}}))
    return path


def test_misp_uuid_and_timestamp_newer_red_wins(tmp_path):
    with EventStore(tmp_path / "s.duckdb") as store:
        ingest_file(store, _misp(tmp_path / "a.json", 1709251200, "tlp:green", "first"))
        report = ingest_file(store, _misp(tmp_path / "b.json", 1709337600, "tlp:red", "second"))
        assert report.updated == 1
        ingest_file(store, _misp(tmp_path / "c.json", 1709424000, "tlp:clear", "third"))
        assert store._con.execute("SELECT tlp, title FROM events").fetchall() == \
            [("red", "third")]


@pytest.fixture
def signed_world(tmp_path: Path) -> dict[str, Path]:
    env = {"HYBRIDWATCH_PASSPHRASE": "correct horse battery", "HYBRIDWATCH_TRUST": None,
           "HYBRIDWATCH_KEYS": None}
    runner = CliRunner()
    keys, trust = tmp_path / "alpha-keys", tmp_path / "trust"
    trust.mkdir()
    made = runner.invoke(cli, ["keys", "create", "--org", "Alpha CERT", "--dir", str(keys),
                               "--json", "--kdf-memory-mib", "1"], env=env)
    assert made.exit_code == 0, made.output
    exported = runner.invoke(cli, ["keys", "export", "--dir", str(keys), "-o",
                                   str(trust / "alpha.json")], env=env)
    assert exported.exit_code == 0, exported.output
    return {"keys": keys, "trust": trust, "identity": json.loads(made.stdout),
            "env": env}


def test_cli_re_release_needs_a_signature_that_verifies(tmp_path, signed_world):
    runner, env = CliRunner(), signed_world["env"]
    producer = signed_world["identity"]["stix_identity_id"]
    db = str(tmp_path / "s.duckdb")

    def ingest(path: Path, *extra: str) -> dict:
        result = runner.invoke(cli, ["ingest", str(path), "--db", db, "--json", *extra], env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    ingest(_bundle(tmp_path / "red.json", (V2, "red", "Red", DEU), creator=producer))
    tampered = _bundle(tmp_path / "t.json", (V3, "green", "Out", DEU), creator=producer)
    assert runner.invoke(cli, ["sign", str(tampered), "--dir", str(signed_world["keys"])],
                         env=env).exit_code == 0
    tampered.write_text(tampered.read_text().replace('"Out"', '"Tampered"'))
    ingest(tampered, "--trust", str(signed_world["trust"]))   # signature fails: unsigned
    with EventStore(db, read_only=True) as store:
        assert _stored(store)[0][:2] == ("red", "Tampered")
    later = _bundle(tmp_path / "g.json", ("2024-05-01T00:00:00Z", "green", "Out", DEU),
                    creator=producer)
    assert runner.invoke(cli, ["sign", str(later), "--dir", str(signed_world["keys"])],
                         env=env).exit_code == 0
    report = ingest(later, "--trust", str(signed_world["trust"]))
    assert report["files"][0]["released"] == 1
    with EventStore(db, read_only=True) as store:
        assert _stored(store)[0][:2] == ("green", "Out")
