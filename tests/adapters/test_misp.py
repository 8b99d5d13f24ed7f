"""MISP adapters: event JSON and attribute CSV, on fixtures and the four real CSV feeds."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from hybridwatch.adapters.base import Adapter, ReadOptions, Rejection
from hybridwatch.adapters.misp import MispCsvAdapter, MispJsonAdapter
from hybridwatch.adapters.stix import StixAdapter
from hybridwatch.adapters.textio import read_head
from hybridwatch.errors import FormatError, InputError
from hybridwatch.model.schema import EVENT_SCHEMA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "misp"
EVENTS_JSON = FIXTURES / "events.json"
ATTRIBUTES_CSV = FIXTURES / "attributes.csv"
FEEDS = ("Ukraine-Crisis_MalwareBazaar_ThreatHunt_Feed.csv",
         "Ukraine-Crisis_RecordedFuture_ThreatHunt_Feed.csv",
         "Ukraine-Crisis_ThreatFox_ThreatHunt_Feed.csv",
         "Ukraine-Crisis_Twitter_ThreatHunt_Feed.csv")


def _read(adapter: Adapter, path: Path) -> tuple[list[dict[str, Any]], list[Rejection]]:
    batches = list(adapter.read(path, ReadOptions()))
    for batch in batches:
        assert batch.table.schema.equals(EVENT_SCHEMA)
    rows = pa.concat_tables([b.table for b in batches]).to_pylist()
    for row in rows:
        row["extra"] = json.loads(row["extra"]) if row["extra"] else {}
    return rows, [r for b in batches for r in b.rejections]


# ---------------------------------------------------------------------------------- event JSON

def test_json_event_maps_every_field() -> None:
    rows, _ = _read(MispJsonAdapter(), EVENTS_JSON)
    ghost = next(r for r in rows if r["source_record_id"].endswith("0101"))
    assert ghost["source"] == "misp" and ghost["source_type"] == "misp-event"
    assert (ghost["occurred_at"], ghost["occurred_precision"]) == (datetime(2022, 3, 14), "day")
    assert ghost["title"] == "Ghostwriter phishing wave against Polish officials"
    assert ghost["source_name"] == "CERT-Example"  # Orgc, not Org
    assert (ghost["intensity"], ghost["intensity_kind"]) == (1.0, "threat_level")
    assert ghost["tlp"] == "amber"
    assert ghost["actor_name"] == "Ghostwriter"  # galaxy cluster and tag: one actor
    assert ghost["actor_code"] == "5f1e2d3c-0000-4000-8000-00000000ga01"
    assert ghost["actor_iso3"] == "BLR"  # the cluster's meta.country "BY"
    assert (ghost["target_iso3s"], ghost["target_sector"]) == (["POL"], "Government")
    assert ghost["domain"] == "cyber"
    assert ghost["source_url"] == "https://cert.example/reports/ghostwriter-2022-03"
    extra = ghost["extra"]
    # 4 attributes + 2 in the file object
    assert extra["attribute_counts"] == {"domain": 2, "link": 1, "ip-dst": 1, "sha256": 1,
                                         "filename": 1}
    assert extra["object_counts"] == {"file": 1}
    assert (extra["analysis"], extra["distribution"]) == ("2", "1")
    assert "tlp:amber" in extra["tags"]


def test_json_tags_set_domain_tlp_and_undefined_threat_level() -> None:
    rows, _ = _read(MispJsonAdapter(), EVENTS_JSON)
    letter = next(r for r in rows if r["source_record_id"].endswith("0102"))
    assert letter["domain"] == "information"  # DISARM galaxy tag
    # tlp:white and tlp:green: the stricter wins, but distribution 0 (this organisation only)
    # lifts it to AMBER+STRICT (issue #14: markings fail closed)
    assert letter["tlp"] == "amber+strict"
    assert letter["intensity"] is None and letter["intensity_kind"] is None  # level 4
    assert letter["target_iso3s"] == ["DEU"]  # misp-galaxy:country="germany"
    assert letter["actor_name"] is None


def test_json_rejects_bad_events_one_by_one() -> None:
    rows, rejections = _read(MispJsonAdapter(), EVENTS_JSON)
    assert len(rows) == 2
    document = json.loads(EVENTS_JSON.read_text())["response"]
    assert [(r.record, r.field) for r in rejections] == [
        ("event 2 (5f1e2d3c-0000-4000-8000-000000000103)", "date"),
        ("event 3 (no uuid)", "uuid"),
        ("event 4 (no uuid)", None),
    ]
    assert rejections[0].reason == "not a date ('2022-13-45')"
    assert [json.loads(r.raw) for r in rejections] == document[2:]


def test_json_shapes_single_event_and_list(tmp_path: Path) -> None:
    events = json.loads(EVENTS_JSON.read_text())["response"][:2]
    single = tmp_path / "single.json"
    single.write_text(json.dumps(events[0]))
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(events))
    assert [r["title"] for r in _read(MispJsonAdapter(), single)[0]] == \
        ["Ghostwriter phishing wave against Polish officials"]
    assert len(_read(MispJsonAdapter(), listed)[0]) == 2
    for path in (single, listed, EVENTS_JSON):
        assert MispJsonAdapter().sniff(path, read_head(path)) == 95
        assert StixAdapter().sniff(path, read_head(path)) == 0
    other = tmp_path / "other.json"
    other.write_text('{"name": "not misp"}')
    with pytest.raises(FormatError, match="not MISP event JSON"):
        list(MispJsonAdapter().read(other, ReadOptions()))
    broken = tmp_path / "broken.json"
    broken.write_text('{"Event": {"uuid": ')
    with pytest.raises(InputError, match="not valid JSON"):
        list(MispJsonAdapter().read(broken, ReadOptions()))


# ----------------------------------------------------------------------------- attribute CSV

def test_csv_fixture_rows_and_rejections() -> None:
    rows, rejections = _read(MispCsvAdapter(), ATTRIBUTES_CSV)
    by_id = {r["source_record_id"][-1]: r for r in rows}
    assert sorted(by_id) == ["1", "2", "3", "7"]
    assert [(r.line, r.field) for r in rejections] == [(5, "date"), (6, "source_record_id"),
                                                       (7, None)]
    assert rejections[2].reason == "expected 22 fields, got 7"
    lines = ATTRIBUTES_CSV.read_text().splitlines(keepends=True)
    assert [r.raw for r in rejections] == lines[4:7]

    unc = by_id["1"]
    assert unc["occurred_at"] == datetime(2022, 2, 28, 16, 13, 20)  # epoch 1646064800
    assert (unc["actor_name"], unc["actor_iso3"], unc["tlp"]) == ("UNC1151", None, "clear")
    assert unc["title"] == "UNC1151: domain login-gov.example"
    russia = by_id["2"]
    assert (russia["actor_name"], russia["actor_iso3"]) == ("APT29; APT28", "RUS")
    assert russia["extra"]["event_date"] == "2022-03-05"  # "05-03-2022" is DD-MM-YYYY
    assert russia["extra"]["event_date_raw"] == "05-03-2022"
    assert (russia["tlp"], russia["intensity"]) == ("amber", 2.0)
    fallback = by_id["3"]  # date "yesterday": the event date, a day, with a note
    assert (fallback["occurred_at"], fallback["occurred_precision"]) == \
        (datetime(2022, 3, 1), "day")
    assert fallback["extra"]["notes"] == \
        ["date: not epoch seconds ('yesterday'); occurred_at is event_date"]
    assert fallback["actor_name"] == "Lorec53"
    tweet = by_id["7"]
    assert tweet["domain"] == "information"  # hybridwatch:domain tag
    assert tweet["source_url"] == "https://twitter.com/example/status/1"
    assert tweet["title"] == "#disinfo: url https://news.example/fake"


def test_csv_sniff_and_missing_columns(tmp_path: Path) -> None:
    assert MispCsvAdapter().sniff(ATTRIBUTES_CSV, read_head(ATTRIBUTES_CSV)) == 95
    assert MispCsvAdapter().sniff(EVENTS_JSON, read_head(EVENTS_JSON)) == 0
    assert MispJsonAdapter().sniff(ATTRIBUTES_CSV, read_head(ATTRIBUTES_CSV)) == 0
    quoted = b'"uuid","event_id","category","type","value","comment"\n'
    assert MispCsvAdapter().sniff(ATTRIBUTES_CSV, quoted) == 95
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("uuid,event_id,category,type,value\nx,1,c,t,v\n")
    with pytest.raises(FormatError, match="missing column"):
        list(MispCsvAdapter().read(wrong, ReadOptions()))


@pytest.mark.parametrize("name", FEEDS)
def test_real_feeds_every_row_ingested(shared_data: Path, name: str) -> None:
    path = shared_data / "ukraine_cyber_ops_curated_intel" / "misp_csv" / name
    with path.open(newline="", encoding="utf-8") as handle:
        records = [r for r in csv.DictReader(handle) if any(r.values())]
    rows, rejections = _read(MispCsvAdapter(), path)
    assert rejections == []  # the four feeds are clean: nothing to reject
    assert len(rows) == len(records)  # 336, 195, 367, 611
    assert [r["source_record_id"] for r in rows] == [r["uuid"] for r in records]
    for row, record in zip(rows, records):
        epoch = datetime.fromtimestamp(int(record["date"]), tz=timezone.utc)
        assert row["occurred_at"] == epoch.replace(tzinfo=None)
    assert {r["tlp"] for r in rows} == {"clear"}  # every feed is tagged tlp:white
    assert {r["domain"] for r in rows} == {"cyber"}


def test_real_feeds_both_event_date_spellings(shared_data: Path) -> None:
    folder = shared_data / "ukraine_cyber_ops_curated_intel" / "misp_csv"
    recorded, _ = _read(MispCsvAdapter(), folder / FEEDS[1])
    # raw "05-03-2022"; every attribute's epoch date is 2022-03-05, so it is DD-MM-YYYY
    assert {r["extra"]["event_date"] for r in recorded} == {"2022-03-05"}
    assert {r["occurred_at"].date().isoformat() for r in recorded} == {"2022-03-05"}
    bazaar, _ = _read(MispCsvAdapter(), folder / FEEDS[0])
    assert {r["extra"]["event_date"] for r in bazaar} == {"2022-02-28"}
    assert all("event_date_raw" not in r["extra"] for r in bazaar)


def test_real_feed_actors_from_comments(shared_data: Path) -> None:
    path = shared_data / "ukraine_cyber_ops_curated_intel" / "misp_csv" / FEEDS[1]
    with path.open(newline="", encoding="utf-8") as handle:
        comments = [r["comment"] for r in csv.DictReader(handle)]
    rows, _ = _read(MispCsvAdapter(), path)
    assert [r["extra"]["comment"] for r in rows] == comments
    russian = [r for r in rows if r["actor_iso3"] == "RUS"]
    assert len(russian) == sum("Russia" in c for c in comments) == 31
    assert {r["actor_name"] for r in russian} == {"APT29; Turla; APT28; Sandworm"}
    unc = [r for r in rows if r["actor_name"] == "UNC1151"]
    assert len(unc) == sum(c.startswith("UNC1151") for c in comments) == 134
    assert all(r["actor_iso3"] is None for r in unc)  # the text does not name a state
