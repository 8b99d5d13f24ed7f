"""EuRepoC adapter: list-cell parsing, the hand-written fixture, and the real release 1.1 file."""

from __future__ import annotations

import ast
import csv
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from hybridwatch.adapters import detect_format
from hybridwatch.adapters.base import ReadOptions
from hybridwatch.adapters.eurepoc import EurepocAdapter, parse_list_cell
from hybridwatch.adapters.textio import read_head
from hybridwatch.errors import FormatError
from hybridwatch.model.schema import EVENT_SCHEMA

FIXTURE = Path(__file__).parents[1] / "fixtures" / "eurepoc" / "eurepoc_sample.csv"


#: Receiver "countries" of release 1.1 that are regions or organisations (besides "... (region)").
NOT_COUNTRIES = {"Africa", "Caucasus", "Eastern Europe", "ISIS", "Interpol", "North America",
                 "Northern Europe", "Not available", "South America", "UNICEF", "Unknown",
                 "United Nations", "United Nations Organization", "Western Europe",
                 "United Nations Economic and Social Council", "World Anti-Doping Agency",
                 "United Nations Environment Programme",
                 "International Association of Athletics Federations",
                 "Organization for Security and Cooperation in Europe"}


def _receiver_countries(cell: str) -> set[str]:
    names = ast.literal_eval(cell or "[]")
    return {n for n in names if not n.endswith("(region)") and n not in NOT_COUNTRIES}


def _read(path: Path) -> tuple[pa.Table, list]:
    batches = list(EurepocAdapter().read(path, ReadOptions()))
    table = pa.concat_tables([b.table for b in batches]) if batches else EVENT_SCHEMA.empty_table()
    return table, [r for b in batches for r in b.rejections]


@pytest.mark.parametrize("cell, items", [
    ("['Armenia']", ["Armenia"]),
    ("[['ASIA', 'CENTAS', 'CSTO'], ['EUROPE']]", ["ASIA", "CENTAS", "CSTO", "EUROPE"]),
    ('["Korea, Democratic People\'s Republic of"]', ["Korea, Democratic People's Republic of"]),
    ("Data theft; Hijacking with Misuse", ["Data theft", "Hijacking with Misuse"]),
    ("['Poland'", ["['Poland'"]),      # broken list syntax: falls back to the "; " split
    ("", []), ("[]", []),
])
def test_parse_list_cell(cell, items):
    assert parse_list_cell(cell) == items


def test_fixture_events_and_rejections():
    table, rejections = _read(FIXTURE)
    assert table.schema.equals(EVENT_SCHEMA)
    rows = {r["source_record_id"]: r for r in table.to_pylist()}
    assert sorted(rows) == ["9001", "9002", "9003", "9007"]
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (6, "start_date", "missing date"),
        (7, "start_date", "not a date ('2022-13-01')"),
        (8, "receiver_country", "unknown country 'Atlantis'"),
        (10, None, "ragged row: 6 fields, header has 17"),
    ]
    assert rejections[0].raw.startswith("9004,Undated leak,")

    kasat = rows["9001"]  # multi-line description: the record starts on line 2
    assert (kasat["occurred_at"], kasat["ended_at"]) == (datetime(2022, 2, 24),) * 2
    assert (kasat["actor_iso3"], kasat["target_iso3s"], kasat["domain"]) == \
        ("RUS", ["UKR", "DEU"], "cyber")                    # every receiver country
    assert (kasat["intensity"], kasat["intensity_kind"]) == (4.0, "cyber_intensity")
    assert kasat["actor_name"] == "Sandworm" and kasat["source_type"] == "Disruption"
    assert kasat["target_sector"] == "Critical infrastructure"
    assert kasat["source_url"].startswith("https://www.viasat.com/")
    extra = json.loads(kasat["extra"])
    assert extra["receiver_iso3"] == ["UKR", "DEU"]          # region dropped, order kept
    assert extra["receiver_country"] == ["Ukraine", "Germany", "Europe (region)"]
    assert len(extra["sources_url"]) == 2 and "description" in extra and "name" not in extra

    assert rows["9002"]["target_iso3s"] == ["EST"]            # the *country* receivers
    assert json.loads(rows["9003"]["extra"])["receiver_iso3"] == ["LTU", "LVA"]  # "; " cell
    assert rows["9003"]["actor_iso3"] is None and rows["9003"]["source_url"] is None
    coarse = rows["9007"]  # end before start: kept, end left null, raw end in extra
    assert coarse["ended_at"] is None and json.loads(coarse["extra"])["end_date"] == "2023-01-01"
    assert (coarse["actor_name"], coarse["actor_iso3"], coarse["target_iso3s"]) == \
        ("APT37", "PRK", ["KOR"])


def test_sniff_and_missing_columns(tmp_path):
    assert EurepocAdapter().sniff(FIXTURE, read_head(FIXTURE)) == 95
    assert detect_format(FIXTURE).name == "eurepoc"
    other = tmp_path / "other.csv"
    other.write_text("ID,name,description,start_date\n1,a,b,2022-01-01\n")
    assert EurepocAdapter().sniff(other, read_head(other)) == 0
    with pytest.raises(FormatError, match="missing column"):
        list(EurepocAdapter().read(other, ReadOptions()))


def test_real_global_database(shared_data):
    path = shared_data / "eurepoc_v1_1" / "EuRepoC_Global_Database_1.1.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    table, rejections = _read(path)
    undated = {r["ID"] for r in truth if not r["start_date"].strip()}
    assert len(truth) == 1643 and len(undated) == 16
    assert table.num_rows == 1643 - 16 and len(rejections) == 16
    assert {r.field for r in rejections} == {"start_date"}
    assert {r.raw.split(",", 1)[0] for r in rejections} == undated
    assert set(table.column("source_record_id").to_pylist()) == \
        {r["ID"] for r in truth} - undated

    dated = [r for r in truth if r["start_date"].strip()]
    no_end = sum(1 for r in dated if not r["end_date"] or r["end_date"] < r["start_date"])
    assert table.column("ended_at").null_count == no_end
    multi = sum(1 for r in dated if len(_receiver_countries(r["receiver_country"])) > 1)
    extras = [json.loads(e) for e in table.column("extra").to_pylist()]
    assert multi == 253  # one event each, every receiver country kept in extra
    assert sum(1 for e in extras if len(e["receiver_iso3"]) > 1) == multi
    # ... and named by the event, so it counts once for each of them
    assert [len(t) for t in table.column("target_iso3s").to_pylist()] == \
        [len(e["receiver_iso3"]) for e in extras]
    first = table.to_pylist()[0]  # ID 2: Azerbaijani hackers deface Armenian sites
    assert (first["source_record_id"], first["actor_iso3"], first["target_iso3s"]) == \
        ("2", "AZE", ["ARM"])
    assert first["target_sector"] == "State institutions / political system"
