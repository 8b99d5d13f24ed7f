"""EUvsDisinfo adapter: the target rule, the hand-written fixture, and the real posts.csv."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from hybridwatch.adapters import detect_format
from hybridwatch.adapters.base import ReadOptions
from hybridwatch.adapters.euvsdisinfo import EuvsdisinfoAdapter, case_targets
from hybridwatch.adapters.textio import read_head
from hybridwatch.model.schema import EVENT_SCHEMA

FIXTURE = Path(__file__).parents[1] / "fixtures" / "euvsdisinfo" / "euvsdisinfo_sample.csv"
#: The names in posts.csv that are not one country (regions, blocs, dissolved unions).
NON_COUNTRIES = {"Africa", "Baltic states", "CEE", "EU", "Europe", "Middle East",
                 "Middle East and Africa", "USSR", "Yugoslavia"}


def _read(path: Path) -> tuple[pa.Table, list]:
    batches = list(EuvsdisinfoAdapter().read(path, ReadOptions()))
    table = pa.concat_tables([b.table for b in batches]) if batches else EVENT_SCHEMA.empty_table()
    return table, [r for b in batches for r in b.rejections]


@pytest.mark.parametrize("iso3s, targets", [
    (["RUS", "DEU"], ["DEU"]), (["RUS"], ["RUS"]), (["USA", "GBR", "RUS"], ["USA", "GBR"]),
    ([], []),
])
def test_case_targets(iso3s, targets):
    assert case_targets(iso3s) == targets


def test_fixture_events_and_rejections():
    table, rejections = _read(FIXTURE)
    assert table.schema.equals(EVENT_SCHEMA)
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (6, "countries", "unknown country 'Narnia'"),
        (7, "date", "not a date ('2021-02-31')"),
        (9, None, "ragged row: 4 fields, header has 7"),
    ]
    rows = table.to_pylist()
    assert [r["target_iso3s"] for r in rows] == [["DEU"], ["RUS"], ["LTU"], [], ["USA", "GBR"],
                                                 ["POL"]]
    assert {r["actor_iso3"] for r in rows} == {"RUS"}
    assert {(r["domain"], r["source_type"]) for r in rows} == \
        {("information", "disinformation_case")}
    first = rows[0]
    assert first["source_record_id"] == first["source_url"] == \
        "https://euvsdisinfo.eu/report/german-special-services-helped-navalny/"
    assert (first["occurred_at"], first["occurred_precision"]) == (datetime(2021, 2, 18), "day")
    assert first["actor_name"] == "TASS - Russian"
    assert json.loads(first["extra"]) == {
        "countries": ["Russia", "Germany"], "target_iso3_all": ["RUS", "DEU"],
        "keywords": ["Alexei Navalny", "Vladimir Putin"], "languages": ["Russian"],
        "outlets": ["TASS - Russian"]}
    assert json.loads(rows[2]["extra"])["target_iso3_all"] == ["LTU"]      # EU, Baltic states
    assert json.loads(rows[4]["extra"])["target_iso3_all"] == ["USA", "GBR", "RUS"]
    assert rows[3]["actor_name"] is None                                   # no outlet given


def test_sniff(tmp_path):
    assert EuvsdisinfoAdapter().sniff(FIXTURE, read_head(FIXTURE)) == 95
    assert detect_format(FIXTURE).name == "euvsdisinfo"
    other = tmp_path / "other.csv"
    other.write_text("date,id,title,countries\n")
    assert EuvsdisinfoAdapter().sniff(other, read_head(other)) == 0


def test_real_posts(shared_data):
    path = shared_data / "euvsdisinfo_cknabs" / "posts.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    table, rejections = _read(path)
    assert len(truth) == 10_892
    assert (table.num_rows, rejections) == (10_892, [])
    names = [set(filter(None, r["countries"].split("+"))) for r in truth]
    no_country = sum(1 for n in names if not n - NON_COUNTRIES)
    only_russia = sum(1 for n in names if n - NON_COUNTRIES == {"Russia"})
    targets = table.column("target_iso3s").to_pylist()
    assert targets.count([]) == no_country
    assert targets.count(["RUS"]) == only_russia
    assert table.column("source_record_id").to_pylist() == [r["id"] for r in truth]
    assert targets[0] == ["DEU"]  # "Russia+Germany"
    # every case that names Germany targets DEU (710 in this file; 361 under the one-target rule)
    names_germany = sum(1 for n in names if "Germany" in n)
    assert sum("DEU" in t for t in targets) == names_germany
