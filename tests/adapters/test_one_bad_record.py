"""One bad record never sinks a file (issue #14 §4): each crash the attacker found is now a
quarantined record (or an input error naming the file), and the good records are kept."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.model.stix_findings import derived_reference, note_content
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FAR_DATES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]


def _campaign(n: int, **fields) -> dict:
    return {"type": "campaign", "spec_version": "2.1", "name": f"c{n}",
            "id": f"campaign--00000000-0000-4000-8000-{n:012d}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            **fields}


def _bundle(path: Path, objects: list) -> Path:
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-"
                                "000000000000", "objects": objects}))
    return path


def _quarantine(store: EventStore) -> list[tuple]:
    return store._con.execute("SELECT record, field, reason FROM quarantine ORDER BY record"
                             ).fetchall()


def test_dates_beyond_utc_range_are_quarantined_in_stix(tmp_path):
    objects = [_campaign(1, first_seen="2024-02-01T00:00:00Z")]
    objects += [_campaign(2 + k, first_seen=d, created=d) for k, d in enumerate(FAR_DATES)]
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, _bundle(tmp_path / "b.json", objects))
        assert (report.ingested, report.quarantined) == (1, 2)
        assert all(field == "first_seen" for _, field, _ in _quarantine(store))


def test_dates_beyond_utc_range_are_quarantined_in_articles(tmp_path):
    path = tmp_path / "a.jsonl"
    lines = [{"outlet": "o", "title": f"t{k}", "published_at": d}
             for k, d in enumerate(["2024-02-01T00:00:00Z", *FAR_DATES])]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, path, format="articles-jsonl")
    assert (report.ingested, report.quarantined) == (1, 2)


def test_cli_since_beyond_utc_range_is_a_usage_error(tmp_path):
    db = tmp_path / "s.duckdb"
    EventStore(db).close()
    for date in FAR_DATES:
        result = CliRunner().invoke(cli, ["events", "--since", date, "--db", str(db)])
        assert result.exit_code == 2 and "out of range" in result.output
        assert "Traceback" not in result.output


def test_misp_numbers_and_wrong_shapes_where_text_and_objects_belong(tmp_path):
    good = {"uuid": "5e6b322a-0000-4000-8000-000000000001", "date": "2024-03-01",
            "info": 7, "Tag": [{"name": 5}, {"name": "tlp:green"}]}   # numeric tag names
    shapes = {"uuid": "5e6b322a-0000-4000-8000-000000000002", "date": "2024-03-02",
              "Galaxy": [{"type": "threat-actor", "GalaxyCluster": ["not an object"]}]}
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"response": [{"Event": good}, {"Event": shapes}]}))
    csv_path = tmp_path / "attributes.csv"
    csv_path.write_text("uuid,event_id,category,type,value,comment,to_ids,date,event_tag\n"
                        "5e6b322a-0000-4000-8000-000000000003,1,x,ip-dst,192.0.2.1,,1,"
                        "1709251200,5\n")
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, path, format="misp-json")
        assert (report.ingested, report.quarantined) == (1, 1)
        assert "malformed record" in _quarantine(store)[0][2]
        assert ingest_file(store, csv_path, format="misp-csv").ingested == 1
        assert store._con.execute("SELECT tlp FROM events WHERE title = '7'").fetchall() == \
            [("green",)]


def _note(n: int, record: dict) -> dict:
    return {"type": "note", "spec_version": "2.1", "id": f"note--00000000-0000-4000-8000-"
            f"{n:012d}", "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z", "object_refs": [_campaign(1)["id"]],
            "content": note_content("a finding run", record),
            "external_references": [derived_reference(f"run/{n}")]}


def test_findings_notes_with_a_bad_created_at_or_no_kind_are_quarantined(tmp_path):
    good = {"hybridwatch": "run", "kind": "episodes", "run_id": "r1",
            "created_at": "2024-01-01T00:00:00", "summary": {}}
    bad_date = {**good, "kind": "coincidences", "created_at": "yesterday"}
    no_kind = {key: value for key, value in good.items() if key != "kind"}
    bad_position = {"hybridwatch": "finding", "kind": "episodes", "finding_id": "f",
                    "position": "first", "item": {}}
    objects = [_campaign(1, first_seen="2024-02-01T00:00:00Z"), _note(1, good),
               _note(2, bad_date), _note(3, no_kind), _note(4, bad_position)]
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, _bundle(tmp_path / "b.json", objects))
        reasons = [reason for _, _, reason in _quarantine(store)]
    assert (report.ingested, report.findings, report.quarantined) == (1, 1, 3)
    assert any("created_at" in r for r in reasons) and any("no kind" in r for r in reasons)
    assert any("position" in r for r in reasons)
