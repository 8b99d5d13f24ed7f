"""Mapped CSV/Parquet adapter: the fixture log, the shipped mappings on real files, Parquet,
articles, and mapping errors that name the file and key."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hybridwatch.adapters.base import ReadOptions
from hybridwatch.adapters.mapped import MappedAdapter, load_mapping, shipped_mappings
from hybridwatch.errors import MappingError
from hybridwatch.model.schema import ARTICLE_SCHEMA, EVENT_SCHEMA, record_id_hash

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mapped"


def _read(path: Path, mapping: Path) -> tuple[pa.Table, list]:
    batches = list(MappedAdapter().read(path, ReadOptions(mapping_path=mapping)))
    return pa.concat_tables([b.table for b in batches]), [r for b in batches for r in b.rejections]


def test_fixture_log_events_skips_and_rejections():
    table, rejections = _read(FIXTURES / "incidents.csv", FIXTURES / "incidents.toml")
    assert table.schema.equals(EVENT_SCHEMA)
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (5, "reported", "occurred_at: not a date ('2024-02-30')"),
        (6, "severity", "intensity: not a number ('high')"),
        (7, "country", "location_iso3: unknown country 'Narnia' (auto)"),
        (9, None, "ragged row: 4 fields, header has 9"),
    ]
    assert rejections[1].raw.startswith("INC-5;2024-03-06;SEA;Sweden;high;")
    rows = table.to_pylist()
    # INC-3 has no severity: skipped by [filter]; INC-2 appears twice (same event id)
    assert [r["source_record_id"] for r in rows] == ["INC-1", "INC-2", "INC-2", "INC-8"]
    assert len({r["event_id"] for r in rows}) == 3
    first = rows[0]
    assert (first["occurred_at"], first["occurred_precision"]) == \
        (datetime(2024, 3, 1, 14, 30), "minute")
    assert rows[1]["occurred_precision"] == "day"          # second format of the list
    assert [r["domain"] for r in rows] == ["military", "infrastructure", "infrastructure", "cyber"]
    assert first["source_type"] == "AIR"                   # map applies to domain only
    assert (first["location_iso3"], first["actor_iso3"]) == ("EST", "RUS")
    assert rows[3]["location_iso3"] == "POL"               # "PL": auto reads ISO alpha-2
    assert (first["intensity"], first["intensity_kind"]) == (3.0, "other")
    assert first["title"] == "AIR: Airspace violation over Vaindloo"
    assert rows[3]["title"] == "CYB: Semicolon; inside quotes"
    assert json.loads(first["extra"]) == {"analyst_initials": "kt"}
    assert first["event_id"] == record_id_hash("incident_log", "INC-1")


def _independent_pla_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [r for r in csv.DictReader(handle) if r["pla_aircraft_sorties"].strip()]


def test_shipped_pla_sorties_on_real_file(shared_data):
    path = shared_data / "pla_taiwan_activity" / "merged_comprehensive_data_M.csv"
    truth = _independent_pla_rows(path)
    table, rejections = _read(path, shipped_mappings()["pla_sorties"])
    assert len(truth) == 1958 and rejections == []
    assert table.num_rows == len(truth)
    first_by_day = {}
    for row in truth:
        first_by_day.setdefault(row["date"], float(row["pla_aircraft_sorties"]))
    assert len(first_by_day) == 1942 == len(set(table.column("event_id").to_pylist()))
    assert sum(first_by_day.values()) == pytest.approx(sum(
        {e: v for e, v in zip(table.column("event_id").to_pylist(),
                              table.column("intensity").to_pylist())}.values()))
    rows = table.to_pylist()
    assert (rows[0]["occurred_at"], rows[0]["intensity"]) == (datetime(2015, 3, 30), 1.0)
    assert {(r["actor_iso3"], *r["target_iso3s"], r["domain"], r["intensity_kind"])
            for r in rows} == {("CHN", "TWN", "military", "sorties")}
    extras = [json.loads(r["extra"]) for r in rows if r["extra"]]
    keys = set().union(*extras)
    assert "year" not in keys and "pla_aircraft_sorties" not in keys
    assert {"miyako_transit", "Political_statement"} <= keys       # renamed / kept as is


def test_shipped_cyber_ops_reports_on_real_file(shared_data):
    path = shared_data / "ukraine_cyber_ops_curated_intel" / "threat_reports_2022_2023.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    table, rejections = _read(path, shipped_mappings()["cyber_ops_reports"])
    assert len(truth) == 301 and rejections == []
    assert table.num_rows == 301 == len(set(table.column("event_id").to_pylist()))
    first = table.to_pylist()[0]
    key = "\x1f".join(truth[0][c] for c in ("date", "source", "url", "threats"))
    assert first["source_record_id"] == hashlib.md5(key.encode()).hexdigest()
    assert (first["occurred_at"], first["source_name"], first["tlp"]) == \
        (datetime(2022, 4, 1), "Malwarebytes", "clear")
    assert first["title"] == truth[0]["threats"] and first["source_url"] == truth[0]["url"]
    assert json.loads(first["extra"]) == {"date_raw": "1 APR", "file": "April.md"}
    assert min(table.column("occurred_at").to_pylist()) == datetime(2022, 1, 14)


def test_parquet_round_trip(tmp_path):
    source = pa.table({
        "uid": pa.array([101, 102, 103], pa.int64()),
        "day": pa.array([date(2024, 1, 5), date(2024, 1, 6), date(2024, 1, 7)], pa.date32()),
        "seen": pa.array([datetime(2024, 1, 5, 10, tzinfo=timezone.utc), None, None],
                         pa.timestamp("us", tz="UTC")),
        "iso": ["DEU", "FRA", "XXY"],
        "count": pa.array([4.0, float("nan"), 1.0]),
        "note": ["a", None, "c"],
    })
    data = tmp_path / "log.parquet"
    pq.write_table(source, data)
    mapping = tmp_path / "log.toml"
    mapping.write_text('[source]\nname = "pq_log"\n[fields]\nsource_record_id = "uid"\n'
                       'occurred_at = "day"\nended_at = "seen"\ndomain = { const = "cyber" }\n'
                       'target_iso3 = { column = "iso", system = "iso3" }\nintensity = "count"\n')
    table, rejections = _read(data, mapping)
    assert [(r.record, r.field, r.reason) for r in rejections] == \
        [("row 3", "iso", "target_iso3: unknown country 'XXY' (iso3)")]
    assert json.loads(rejections[0].raw)["uid"] == 103
    rows = table.to_pylist()
    assert [(r["source_record_id"], r["occurred_at"], r["occurred_precision"]) for r in rows] == \
        [("101", datetime(2024, 1, 5), "day"), ("102", datetime(2024, 1, 6), "day")]
    assert rows[0]["ended_at"] == datetime(2024, 1, 5, 10) and rows[1]["ended_at"] is None
    assert (rows[0]["intensity"], rows[1]["intensity"]) == (4.0, None)   # NaN → null
    assert json.loads(rows[0]["extra"]) == {"note": "a"} and rows[1]["extra"] is None


def test_articles_kind(tmp_path):
    data = tmp_path / "headlines.csv"
    data.write_text("when,paper,headline,link\n2022-03-01,CGTN,Talks resume,https://x.test/1\n"
                    "2022-03-02,,No outlet,https://x.test/2\n", encoding="utf-8")
    mapping = tmp_path / "headlines.toml"
    mapping.write_text('[source]\nname = "headlines"\nkind = "articles"\n[fields]\n'
                       'source_record_id = "link"\npublished_at = "when"\noutlet = "paper"\n'
                       'title = "headline"\nurl = "link"\nlanguage = { const = "en" }\n')
    [batch] = list(MappedAdapter().read(data, ReadOptions(mapping_path=mapping)))
    assert batch.kind == "articles" and batch.table.schema.equals(ARTICLE_SCHEMA)
    [article] = batch.table.to_pylist()
    assert (article["outlet"], article["title"], article["language"]) == \
        ("CGTN", "Talks resume", "en")
    assert [(r.line, r.field, r.reason) for r in batch.rejections] == \
        [(3, "paper", "outlet: empty")]


BASE = ('[source]\nname = "t"\ndelimiter = ";"\n[fields]\nsource_record_id = "ref"\n'
        'occurred_at = "reported"\n')


@pytest.mark.parametrize("body, key, reason", [
    (BASE + 'domain = { const = "warfare" }\n', "fields.domain.const", "unknown domain 'warfare'"),
    (BASE + 'domain = "military"\n', "fields.domain", "no column 'military'"),
    (BASE + 'domain = { const = "cyber" }\nsevertiy = "severity"\n', "fields.severtiy",
     "not a field of events"),
    (BASE + 'domain = { const = "cyber", column = "category" }\n', "fields.domain",
     "give exactly one of"),
    (BASE + 'domain = { const = "cyber" }\nintensity = { column = "severity", format = "%d" }\n',
     "fields.intensity.format", "only for time fields"),
    (BASE + 'domain = { const = "cyber" }\ntarget_iso3 = { const = "Narnia" }\n',
     "fields.target_iso3.const", "unknown country 'Narnia'"),
    (BASE + 'domain = { const = "cyber" }\nintensity_kind = { const = "deaths" }\n',
     "fields.intensity_kind.const", "not a intensity kind"),
    (BASE + 'domain = { const = "cyber" }\n[filter]\nskip_if_empty = ["sev"]\n',
     "filter.skip_if_empty", "no column 'sev'"),
    (BASE, "fields.domain", "required for events but not mapped"),
    ('[source]\nformat = "csv"\n[fields]\n', "source.name", "required"),
    (BASE + 'domain = { const = "cyber" }\n[source2]\n', "source2", "unknown key"),
])
def test_mapping_errors_name_file_key_and_reason(tmp_path, body, key, reason):
    mapping = tmp_path / "bad.toml"
    mapping.write_text(body, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        list(MappedAdapter().read(FIXTURES / "incidents.csv",
                                  ReadOptions(mapping_path=mapping)))
    message = str(caught.value)
    assert message.startswith(f"{mapping}: {key}: ") and reason in message


def test_mapping_file_problems(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[source\nname = 1\n")
    with pytest.raises(MappingError, match="broken.toml: not valid TOML"):
        load_mapping(broken)
    with pytest.raises(MappingError, match="no such mapping file"):
        load_mapping(tmp_path / "absent.toml")
    with pytest.raises(MappingError, match="needs a mapping file"):
        list(MappedAdapter().read(FIXTURES / "incidents.csv", ReadOptions()))
    assert load_mapping(Path("pla_sorties")).source == "pla_sorties"  # shipped, by name
    assert MappedAdapter().sniff(FIXTURES / "incidents.csv", b"ref;reported\n") == 0
    comma = tmp_path / "comma.toml"  # the fixture is ";"-separated: the error says so
    comma.write_text('[source]\nname = "t"\n[fields]\nsource_record_id = "ref"\n'
                     'occurred_at = "reported"\ndomain = { const = "cyber" }\n')
    with pytest.raises(MappingError, match=r"no column 'ref' .* check \[source\] delimiter"):
        list(MappedAdapter().read(FIXTURES / "incidents.csv", ReadOptions(mapping_path=comma)))


def test_docs_example_mapping_reads_the_fixture(tmp_path):
    docs = Path(__file__).parents[2] / "docs" / "mapping.md"
    example = docs.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    mapping = tmp_path / "example.toml"
    mapping.write_text(example, encoding="utf-8")
    table, rejections = _read(FIXTURES / "incidents.csv", mapping)
    assert table.column("source_record_id").to_pylist() == ["INC-1", "INC-2", "INC-2"]
    assert [r.line for r in rejections] == [5, 6, 7, 9, 10]
    # its domain map has no CYB (and system = "name" would not read "PL" either)
    assert (rejections[-1].field, rejections[-1].reason.split(" (")[0]) == \
        ("category", "domain: unknown domain 'CYB'")


# -- list cells, explode, lenient countries, skip_if, conditional fields -------------------------

DYADS = (
    'ref,day,side_a,side_b,victims,status,cow,m49\n'
    '1,2024-03-01,Russia,Ukraine,"Germany+Poland",ok,255,276\n'
    '2,2024-03-02,Ukraine,Russia,"Narnia+N Korea+Germany",ok,731,408\n'
    '3,2024-03-03,Belarus,Lithuania,Bosnia,void,346,70\n'
    '4,2024-03-04,Russia,Georgia,,ok,372,268\n'
    '5,2024-03-05,"Iran (Islamic Republic of)",Russia,"GB+Korea (Democratic People\'s '
    'Republic of)",ok,630,364\n'
    '6,2024-03-06,Russia,Estonia,"Latvia+Lithuania+Latvia",ok,366,233\n'
)
DYAD_HEAD = ('[source]\nname = "dyads"\n[fields]\nsource_record_id = "ref"\n'
             'occurred_at = "day"\ndomain = { const = "cyber" }\n')


def _dyads(tmp_path: Path, fields: str, extra: str = "") -> tuple[list[dict], list, list]:
    data = tmp_path / "dyads.csv"
    data.write_text(DYADS, encoding="utf-8")
    mapping = tmp_path / "dyads.toml"
    mapping.write_text(DYAD_HEAD + fields + extra, encoding="utf-8")
    batches = list(MappedAdapter().read(data, ReadOptions(mapping_path=mapping)))
    rows = [r for b in batches for r in b.table.to_pylist()]
    return rows, [r for b in batches for r in b.rejections], [w for b in batches
                                                              for w in b.warnings]


@pytest.mark.parametrize("split, cell, targets", [
    ("+", "Germany+Poland", ["DEU", "POL"]), (",", "DE, PL,,DE", ["DEU", "POL"]),
    ("\n", "Latvia\nLithuania", ["LVA", "LTU"]), (";", "", []),
])
def test_split_a_list_cell_into_targets(tmp_path, split, cell, targets):
    data = tmp_path / "t.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["ref", "day", "victims"], ["1", "2024-03-01", cell]])
    mapping = tmp_path / "t.toml"
    mapping.write_text(DYAD_HEAD + "target_iso3 = { column = \"victims\", split = "
                       + json.dumps(split) + " }\n", encoding="utf-8")
    table, rejections = _read(data, mapping)
    assert rejections == [] and table.column("target_iso3s").to_pylist() == [targets]


def test_an_unknown_country_rejects_the_row_unless_lenient(tmp_path):
    fields = 'target_iso3 = { column = "victims", system = "name", split = "+" }\n'
    rows, rejections, warnings = _dyads(tmp_path, fields)
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (3, "victims", "target_iso3: unknown country 'Narnia' (name)")]
    lenient = fields.replace(' }', ', lenient = true }')
    rows, rejections, warnings = _dyads(tmp_path, lenient)
    assert rejections == []
    assert warnings == ["line 3: victims: target_iso3: unknown country 'Narnia' (name); "
                        "set to null (lenient)"]
    assert {r["source_record_id"]: r["target_iso3s"] for r in rows} == {
        "1": ["DEU", "POL"], "2": ["PRK", "DEU"], "3": ["BIH"], "4": [], "5": ["GBR", "PRK"],
        "6": ["LVA", "LTU"]}


def test_lenient_countries_are_counted_in_the_ingest_report(tmp_path, store_path):
    from hybridwatch.workflows.ingest import ingest_file

    data = tmp_path / "dyads.csv"
    data.write_text(DYADS, encoding="utf-8")
    mapping = tmp_path / "dyads.toml"
    mapping.write_text(DYAD_HEAD + 'target_iso3 = { column = "victims", system = "name", '
                       'split = "+", lenient = true }\nactor_iso3 = { column = "side_a", '
                       'system = "name", lenient = true }\n', encoding="utf-8")
    from hybridwatch.store import EventStore

    with EventStore(store_path) as store:
        report = ingest_file(store, data, format="mapped",
                             options=ReadOptions(mapping_path=mapping))
    assert (report.read, report.ingested, report.quarantined, report.nulled) == (6, 6, 0, 1)
    assert report.warnings == [
        "line 3: victims: target_iso3: unknown country 'Narnia' (name); set to null (lenient)"]


def test_explode_gives_one_event_per_item(tmp_path, store_path):
    rows, rejections, _ = _dyads(tmp_path, 'location_iso3 = { column = "victims", '
                                           'system = "name", split = "+", explode = true, '
                                           'lenient = true }\n')
    assert rejections == []
    got = [(r["source_record_id"], r["location_iso3"]) for r in rows]
    assert got[:6] == [("1#Germany", "DEU"), ("1#Poland", "POL"), ("2#Narnia", None),
                       ("2#N Korea", "PRK"), ("2#Germany", "DEU"), ("3#Bosnia", "BIH")]
    assert ("4", None) in got  # an empty cell: the row stays one event
    from hybridwatch.store import EventStore
    from hybridwatch.workflows.ingest import ingest_file

    mapping = tmp_path / "dyads.toml"
    with EventStore(store_path) as store:
        report = ingest_file(store, tmp_path / "dyads.csv", format="mapped",
                             options=ReadOptions(mapping_path=mapping))
    assert report.read + report.exploded == report.ingested + report.duplicates \
        + report.quarantined + report.skipped
    # "Latvia+Lithuania+Latvia": the repeated item has the same id, stored once
    assert (report.read, report.exploded, report.ingested, report.duplicates) == \
        (6, len(rows) - 6, len(rows) - 1, 1)


def test_skip_if_values(tmp_path):
    rows, _, _ = _dyads(tmp_path, "", '[filter]\nskip_if = { status = ["void", "retracted"] }\n')
    assert [r["source_record_id"] for r in rows] == ["1", "2", "4", "5", "6"]


def test_conditional_fields_give_the_other_state_of_a_dyad(tmp_path):
    fields = ('actor_iso3 = { const = "RUS" }\n'
              'target_iso3 = [{ column = "side_b", system = "name", when = { side_a = "Russia" } },'
              ' { column = "side_a", system = "name", when = { side_b = ["Russia", "RU"] } }]\n')
    rows, rejections, _ = _dyads(tmp_path, fields)
    assert rejections == []
    assert {r["source_record_id"]: r["target_iso3s"] for r in rows} == {
        "1": ["UKR"], "2": ["UKR"], "3": [], "4": ["GEO"], "5": ["IRN"], "6": ["EST"]}
    assert "side_a" not in json.loads(rows[0]["extra"] or "{}")  # read by `when`: used


def test_cow_and_m49_country_systems(tmp_path):
    rows, rejections, _ = _dyads(tmp_path, 'actor_iso3 = { column = "cow", system = "cow" }\n'
                                           'location_iso3 = { column = "m49", system = "m49" }\n')
    assert rejections == []
    assert [(r["actor_iso3"], r["location_iso3"]) for r in rows] == [
        ("DEU", "DEU"), ("PRK", "PRK"), ("BIH", "BIH"), ("GEO", "GEO"), ("IRN", "IRN"),
        ("EST", "EST")]


@pytest.mark.parametrize("fields, key, reason", [
    ('actor_iso3 = { column = "victims", split = "+" }\n', "fields.actor_iso3.split",
     "holds one value: add explode = true"),
    ('target_iso3 = { column = "victims", explode = true }\n', "fields.target_iso3.explode",
     "only with split"),
    ('title = { column = "victims", lenient = true }\n', "fields.title.lenient",
     "only for country fields"),
    ('target_iso3 = [{ column = "side_b" }, { column = "side_a" }]\n', "fields.target_iso3[0]",
     "only the last alternative may lack `when`"),
    ('target_iso3 = { column = "side_b", when = { nowhere = "x" } }\n', "fields.target_iso3",
     "no column 'nowhere'"),
    ('actor_iso3 = { column = "side_a", split = "+", explode = true }\n'
     'target_iso3 = { column = "victims", split = "+", explode = true }\n',
     "fields.target_iso3.explode", "only one field may explode"),
])
def test_bad_list_options_name_the_key(tmp_path, fields, key, reason):
    with pytest.raises(MappingError) as caught:
        _dyads(tmp_path, fields)
    assert f": {key}: " in str(caught.value) and reason in str(caught.value)
