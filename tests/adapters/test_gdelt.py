"""GDELT 2.0 / 1.0 adapters against the real sample exports, a hand-made malformed file, archives
and the synthetic generator."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from hybridwatch.adapters import detect_format
from hybridwatch.adapters.base import ReadOptions
from hybridwatch.adapters.gdelt import (
    GDELT1_COLUMNS,
    GDELT2_COLUMNS,
    Gdelt1Adapter,
    Gdelt2Adapter,
)
from hybridwatch.adapters.textio import read_head
from hybridwatch.demo.gdelt_synth import gdelt2_table, write_gdelt2_export
from hybridwatch.errors import FormatError, InputError
from hybridwatch.model.schema import EVENT_SCHEMA, record_id_hash

FIXTURES = Path(__file__).parents[1] / "fixtures" / "gdelt"
MALFORMED = FIXTURES / "malformed.export.CSV"


@pytest.fixture(scope="module")
def gdelt_dir(shared_data: Path) -> Path:
    return shared_data / "gdelt_samples_and_lookups"


@pytest.fixture(scope="module")
def sample2(gdelt_dir: Path) -> Path:
    return gdelt_dir / "samples" / "20191024143000.export.CSV"


@pytest.fixture(scope="module")
def sample1(gdelt_dir: Path) -> Path:
    return gdelt_dir / "samples" / "gdelt1_events_20160728_sample.tsv"


@pytest.fixture(scope="module")
def read2(sample2: Path) -> tuple[pa.Table, list]:
    """The 2.0 sample read once with default options."""
    return _read(Gdelt2Adapter(), sample2)


def _read(adapter, path: Path, **options) -> tuple[pa.Table, list]:
    batches = list(adapter.read(path, ReadOptions(**options)))
    for batch in batches:
        assert batch.kind == "events" and batch.table.schema.equals(EVENT_SCHEMA)
    table = pa.concat_tables([b.table for b in batches]) if batches else EVENT_SCHEMA.empty_table()
    return table, [r for b in batches for r in b.rejections]


def _csv_rows(path: Path) -> list[list[str]]:
    """The file's records by Python's csv module: an independent count."""
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream, delimiter="\t", quoting=csv.QUOTE_NONE))


def _by_id(table: pa.Table) -> dict[str, dict]:
    return {row["source_record_id"]: row for row in table.to_pylist()}


# -- real samples ---------------------------------------------------------------------------------

def test_gdelt2_sample_reads_every_row(sample2: Path, read2):
    rows = _csv_rows(sample2)
    table, rejections = read2
    assert len(rows) == 2111 and {len(r) for r in rows} == {61}
    assert table.num_rows == len(rows) and rejections == []
    assert table.column("source_record_id").to_pylist() == [r[0] for r in rows]  # file order
    assert set(table.column("source").to_pylist()) == {"gdelt"}
    assert set(table.column("occurred_precision").to_pylist()) == {"day"}


def test_gdelt2_sample_event_ids_match_python_md5(read2):
    table, _ = read2
    for event_id, record_id in zip(table.column("event_id").to_pylist(),
                                   table.column("source_record_id").to_pylist()):
        assert event_id == record_id_hash("gdelt", record_id)


@pytest.mark.parametrize("event_id, expected", [
    # Germany → Russia, "express intent to meet" (080), action in Germany (FIPS GM)
    ("881991441", {"actor_code": "DEU", "actor_name": "GERMANY", "actor_iso3": "DEU",
                   "target_iso3s": ["RUS"], "location_name": "Germany", "location_iso3": "DEU",
                   "lat": 51.5, "lon": 10.5, "domain": "diplomacy", "source_type": "080",
                   "intensity": 5.0, "source_name": "news.yahoo.com"}),
    # Poland → Russia, 0841 (four digits, leading zero), action in Ukraine (FIPS UP)
    ("881992316", {"actor_code": "POL", "actor_name": "WARSAW", "actor_iso3": "POL",
                   "target_iso3s": ["RUS"], "location_name": "Ukraine", "location_iso3": "UKR",
                   "lat": 49.0, "lon": 32.0, "domain": "diplomacy", "source_type": "0841",
                   "intensity": 7.0, "source_name": "www.thestar.com"}),
    # Russian government → Africa (a CAMEO region: known, not a country), economic cooperation
    ("881992400", {"actor_code": "RUSGOV", "actor_name": "RUSSIA", "actor_iso3": "RUS",
                   "target_iso3s": [], "location_name": "Petersburg, Sankt-Peterburg, Russia",
                   "location_iso3": "RUS", "lat": 59.8944, "lon": 30.2642, "domain": "economy",
                   "source_type": "061", "intensity": 6.4, "source_name": "allafrica.com"}),
    # Europe (region) → UK, action in the UK (FIPS UK)
    ("881991538", {"actor_code": "EUR", "actor_iso3": None, "target_iso3s": ["GBR"],
                   "location_iso3": "GBR", "domain": "diplomacy", "source_type": "036",
                   "intensity": 4.0}),
])
def test_gdelt2_sample_rows_normalised(read2, event_id: str, expected: dict):
    row = _by_id(read2[0])[event_id]
    assert {key: row[key] for key in expected} == expected
    assert row["occurred_at"] == datetime(2019, 10, 24)
    assert row["intensity_kind"] == "goldstein" and row["title"] is None
    assert row["source_url"].startswith("http")


def test_gdelt2_extra_holds_every_other_non_empty_column(sample2: Path, read2):
    rows = {r[0]: r for r in _csv_rows(sample2)}
    table, _ = read2
    mapped = {"GLOBALEVENTID", "SQLDATE", "Actor1Code", "Actor1Name", "EventCode",
              "GoldsteinScale", "ActionGeo_FullName", "ActionGeo_Lat", "ActionGeo_Long",
              "SOURCEURL"}
    for record_id, extra in zip(table.column("source_record_id").to_pylist(),
                                table.column("extra").to_pylist()):
        source = dict(zip(GDELT2_COLUMNS, rows[record_id]))
        wanted = {k: v for k, v in source.items() if v != "" and k not in mapped}
        assert json.loads(extra) == wanted
    first = json.loads(table.column("extra")[1].as_py())  # 881990833: THE EU → Belarus
    assert first["Actor2KnownGroupCode"] == "EEC" and first["DATEADDED"] == "20191024143000"
    assert first["EventRootCode"] == "04" and first["QuadClass"] == "1"


def test_gdelt1_sample_57_and_58_columns(sample1: Path):
    rows = _csv_rows(sample1)
    table, rejections = _read(Gdelt1Adapter(), sample1)
    assert len(rows) == 710 and sorted({len(r) for r in rows}) == [57, 58]
    assert table.num_rows == 710 and rejections == []
    by_id = _by_id(table)
    modern = by_id["564111644"]  # 58 columns, with SOURCEURL
    assert (modern["actor_iso3"], modern["location_iso3"], modern["source_type"],
            modern["intensity"], modern["source_name"]) == ("USA", "USA", "010", 0.0, "wtop.com")
    assert modern["occurred_at"] == datetime(2006, 7, 31)
    backfile = by_id["1552839"]  # 57 columns: before April 2013 there was no SOURCEURL
    assert (backfile["actor_iso3"], backfile["target_iso3s"], backfile["location_iso3"],
            backfile["domain"], backfile["source_type"], backfile["intensity"]) == (
        "CAN", ["POL"], "CAN", "political", "1312", -5.8)
    assert backfile["source_url"] is None and backfile["source_name"] is None
    assert json.loads(backfile["extra"])["DATEADDED"] == "20130203"
    assert len(GDELT1_COLUMNS) == 58


def test_sniff_and_detect(sample1: Path, sample2: Path):
    head2, head1 = read_head(sample2), read_head(sample1)
    assert Gdelt2Adapter().sniff(sample2, head2) == 95 and Gdelt1Adapter().sniff(sample2, head2) == 0
    assert Gdelt1Adapter().sniff(sample1, head1) == 95 and Gdelt2Adapter().sniff(sample1, head1) == 0
    assert Gdelt2Adapter().sniff(MALFORMED, b"event_id_cnty,event_date,year\n") == 0
    assert detect_format(sample2).name == "gdelt2"
    assert detect_format(sample1).name == "gdelt1"


# -- malformed records ------------------------------------------------------------------------------

def test_malformed_fixture_rejects_exactly_the_bad_lines():
    table, rejections = _read(Gdelt2Adapter(), MALFORMED)
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (3, "SQLDATE", "not a date ('20191399')"),
        (4, None, "expected 61 tab-separated fields, found 58"),
        (5, "Actor1CountryCode", "unknown CAMEO country code ('XYZ')"),
        (6, None, "not UTF-8 text (byte 0xff); re-save the file as UTF-8"),
        (9, "ActionGeo_CountryCode", "unknown FIPS 10-4 country code ('QQ')"),
        (10, "EventCode", "not a CAMEO event code ('999')"),
        (11, "GoldsteinScale", "not a number ('abc')"),
        (12, "GLOBALEVENTID", "missing event id"),
        (13, "ActionGeo_Lat", "out of range ('95.5')"),
    ]
    lines = MALFORMED.read_bytes().split(b"\n")
    for rejection in rejections:  # raw is the line verbatim (bad bytes shown as \xff)
        expected = lines[rejection.line - 1].decode("utf-8", errors="backslashreplace")
        assert rejection.raw == expected
    assert "RUS\\xffSIA" in rejections[3].raw
    assert table.column("source_record_id").to_pylist() == [
        "990000001", "990000002", "990000007", "990000013"]
    region = _by_id(table)["990000007"]  # CAMEO region EUR: known, so kept with no ISO3
    assert region["actor_code"] == "EUR" and region["actor_iso3"] is None
    assert json.loads(region["extra"])["Actor2Name"] == 'THE "GREEN" PARTY'
    four_digit = _by_id(table)["990000013"]
    assert (four_digit["source_type"], four_digit["domain"], four_digit["intensity"]) == (
        "0874", "diplomacy", 9.0)


def test_escaped_and_plain_json_paths_agree(sample2: Path, read2, tmp_path: Path):
    """A '"' anywhere sends the whole file through to_json; both paths give the same objects."""
    plain, _ = read2
    lines = sample2.read_bytes().rstrip(b"\n").split(b"\n")
    fields = lines[0].split(b"\t")
    fields[0], fields[16] = b"999999999", b'SAY "HELLO"\\ \x0b'
    copy = tmp_path / "quoted.export.CSV"
    copy.write_bytes(b"\n".join(lines + [b"\t".join(fields)]) + b"\n")
    escaped, rejections = _read(Gdelt2Adapter(), copy)
    assert rejections == [] and escaped.num_rows == plain.num_rows + 1
    assert escaped.slice(0, plain.num_rows).column("extra").equals(plain.column("extra"))
    assert json.loads(escaped.column("extra")[-1].as_py())["Actor2Name"] == 'SAY "HELLO"\\ \x0b'


def test_oversized_and_control_character_lines(sample2: Path, tmp_path: Path):
    lines = sample2.read_bytes().split(b"\n")[:20]
    long_fields = lines[5].split(b"\t")
    long_fields[6] = b"X" * 5000
    bad_date = lines[8].split(b"\t")
    bad_date[1] = b"2019-10-24"
    body = (lines[:5] + [b"\t".join(long_fields)] + lines[6:8] + [b"\t".join(bad_date)]
            + lines[9:12] + [lines[12].replace(b"\t", b"\x01", 1)] + lines[13:])
    path = tmp_path / "odd.export.CSV"
    path.write_bytes(b"\n".join(body) + b"\n")
    long_line = b"\t".join(long_fields)
    table, rejections = _read(Gdelt2Adapter(), path, max_record_bytes=3000)
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (6, None, f"oversized record ({len(long_line):,} bytes > 3,000 bytes)"),
        (9, "SQLDATE", "not a date ('2019-10-24')"),
        (13, None, "control character U+0001 in line"),
    ]
    assert rejections[0].raw == long_line.decode()
    assert table.num_rows == 20 - 3


def test_small_batches_keep_file_order(sample2: Path):
    batches = list(Gdelt2Adapter().read(sample2, ReadOptions(batch_rows=500)))
    assert len(batches) >= 5
    ids = [i for b in batches for i in b.table.column("source_record_id").to_pylist()]
    assert ids == [r[0] for r in _csv_rows(sample2)]


# -- whole-file problems and archives ---------------------------------------------------------------

def test_zip_reads_like_plain_file(sample2: Path, read2, tmp_path: Path):
    archive = tmp_path / "20191024143000.export.CSV.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(sample2, arcname=sample2.name)
    plain, _ = read2
    zipped_table, rejections = _read(Gdelt2Adapter(), archive)
    assert rejections == [] and zipped_table.equals(plain)
    assert detect_format(archive).name == "gdelt2"


def test_truncated_zip_is_an_input_error(sample2: Path, tmp_path: Path):
    archive = tmp_path / "cut.export.CSV.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(sample2, arcname=sample2.name)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="zip"):
        list(Gdelt2Adapter().read(archive, ReadOptions()))


def test_empty_file_is_an_input_error(tmp_path: Path):
    empty = tmp_path / "empty.export.CSV"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        list(Gdelt2Adapter().read(empty, ReadOptions()))


def test_other_formats_are_format_errors(sample1: Path, tmp_path: Path):
    acled = tmp_path / "acled.csv"
    acled.write_text("event_id_cnty,event_date,year,time_precision,disorder_type\n"
                     "UKR1,2024-02-01,2024,1,Political violence\n")
    with pytest.raises(FormatError, match="expected 61 tab-separated columns, found 1"):
        list(Gdelt2Adapter().read(acled, ReadOptions()))
    with pytest.raises(FormatError, match="found 58"):
        list(Gdelt2Adapter().read(sample1, ReadOptions()))


# -- the synthetic generator -------------------------------------------------------------------------

def test_generator_writes_valid_deterministic_exports(gdelt_dir: Path, tmp_path: Path):
    path = write_gdelt2_export(tmp_path / "a.export.CSV", 3000, random_state=7,
                               start_date=date(2024, 3, 1), days=3)
    again = write_gdelt2_export(tmp_path / "b.export.CSV", 3000, random_state=7,
                                start_date=date(2024, 3, 1), days=3)
    assert path.read_bytes() == again.read_bytes()
    assert {len(r) for r in _csv_rows(path)} == {61}
    table, rejections = _read(Gdelt2Adapter(), path)
    assert table.num_rows == 3000 and rejections == []
    # Goldstein scores agree with GDELT's published lookup for each event code
    goldstein = dict(line.split("\t") for line in
                     (gdelt_dir / "lookups" / "CAMEO.goldsteinscale.txt").read_text().splitlines()[1:])
    for code, score in zip(table.column("source_type").to_pylist(),
                           table.column("intensity").to_pylist()):
        assert float(goldstein[code]) == score
    assert table.column("location_iso3").null_count == 0
    added = {json.loads(e)["DATEADDED"][:8] for e in table.column("extra").to_pylist()}
    assert added == {"20240301", "20240302", "20240303"}


def test_generator_zip_matches_plain(tmp_path: Path):
    plain = write_gdelt2_export(tmp_path / "p.export.CSV", 2000, random_state=3)
    zipped = write_gdelt2_export(tmp_path / "p.export.CSV.zip", 2000, random_state=3, zip=True)
    with zipfile.ZipFile(zipped) as archive:
        assert archive.namelist() == ["p.export.CSV"]
        assert archive.read("p.export.CSV") == plain.read_bytes()
    assert gdelt2_table(5, random_state=1).column_names == list(GDELT2_COLUMNS)


def test_crlf_line_ends_and_byte_order_mark(sample2: Path, tmp_path: Path):
    lines = sample2.read_bytes().split(b"\n")[:6]
    lines[3] = lines[3].replace(b"\t20181024\t", b"\t2018xx24\t", 1)
    crlf = tmp_path / "crlf.export.CSV"
    crlf.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    assert Gdelt2Adapter().sniff(crlf, read_head(crlf)) == 95
    table, rejections = _read(Gdelt2Adapter(), crlf)
    assert [(r.line, r.field, r.raw) for r in rejections] == [
        (4, "SQLDATE", lines[3].decode())]  # raw without the \r
    assert table.num_rows == 5 and table.column("source_record_id")[0].as_py() == "881990832"
    assert not any(url.endswith("\r") for url in table.column("source_url").to_pylist())


def test_first_line_longer_than_the_sniffed_head_is_one_rejection(sample2: Path, tmp_path: Path):
    lines = sample2.read_bytes().split(b"\n")[:4]
    fields = lines[0].split(b"\t")
    fields[6] = b"Y" * 70_000
    path = tmp_path / "long-first.export.CSV"
    path.write_bytes(b"\n".join([b"\t".join(fields)] + lines[1:]) + b"\n")
    table, rejections = _read(Gdelt2Adapter(), path, max_record_bytes=65_536)
    assert [(r.line, r.reason[:16]) for r in rejections] == [(1, "oversized record")]
    assert table.num_rows == 3


def test_line_numbers_across_batches_with_refused_lines(tmp_path: Path):
    """Problems spread over many batches, some DuckDB refuses outright, some the SELECT rejects:
    every line number must match the file's own numbering."""
    path = write_gdelt2_export(tmp_path / "big.export.CSV", 20_000, random_state=11)
    lines = path.read_bytes().split(b"\n")[:-1]
    damage = {  # 1-based line -> new content
        2: lines[1].replace(b"\t", b"\x01", 1),          # refused: the read delimiter
        4_500: lines[4_499][:20] + b"\xc3\x28" + lines[4_499][20:],  # refused: bad UTF-8
        4_501: lines[4_500].rsplit(b"\t", 3)[0],        # rejected: 58 fields
        9_000: b"",                                     # blank: skipped
        12_345: lines[12_344].replace(b"\t2024", b"\t2o24", 1),  # rejected: date
        17_001: lines[17_000] + b"\t" + b"Z" * 3_000,   # refused: too long
        19_999: lines[19_998][:30] + b"\xff",           # refused: bad UTF-8
    }
    for number, content in damage.items():
        lines[number - 1] = content
    path.write_bytes(b"\n".join(lines) + b"\n")
    batches = list(Gdelt2Adapter().read(path, ReadOptions(batch_rows=3_000,
                                                          max_record_bytes=2_000)))
    rejections = [r for b in batches for r in b.rejections]
    assert [r.line for r in rejections] == sorted(set(damage) - {9_000})
    for rejection in rejections:
        assert rejection.raw == lines[rejection.line - 1].decode("utf-8", "backslashreplace")
    kept = [i for b in batches for i in b.table.column("source_record_id").to_pylist()]
    expected = [line.split(b"\t", 1)[0].decode() for n, line in enumerate(lines, start=1)
                if n not in damage]
    assert kept == expected and len(kept) == 20_000 - len(damage)
    assert sum(len(b.rejections) for b in batches[:-1]) > 0  # handed out along the way


def test_gdelt1_malformed_fixture():
    table, rejections = _read(Gdelt1Adapter(), FIXTURES / "gdelt1_malformed.tsv")
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (3, "SQLDATE", "not a date ('20120631')"),
        (4, None, "expected 57 or 58 tab-separated fields, found 61"),
        (5, "Actor2CountryCode", "unknown CAMEO country code ('QQQ')"),
        (7, "EventCode", "not a CAMEO event code ('---')"),
    ]
    assert [(r["source_record_id"], r["source_url"] is None, r["domain"])
            for r in table.to_pylist()] == [
        ("230000001", False, "diplomacy"), ("230000002", True, "military"),
        ("230000006", False, "diplomacy")]


# -- GDELT as CSV with a header (R write.csv, BigQuery exports) ---------------------------------

def _write_csv_export(rows: list[list[str]], path: Path, *, style: str) -> Path:
    """The rows as R's write.csv writes them (row names, quoted text, unquoted numbers, NA) or
    as a BigQuery export does (no row names, quotes only where needed, empty for null)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        if style == "bigquery":
            writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
            writer.writerow(GDELT1_COLUMNS)
            writer.writerows(row + [""] * (len(GDELT1_COLUMNS) - len(row)) for row in rows)
            return path
        handle.write('"",' + ",".join(f'"{c}"' for c in GDELT1_COLUMNS) + "\n")
        for number, row in enumerate(rows, start=1):
            cells = [str(number)]
            for value in row + [""] * (len(GDELT1_COLUMNS) - len(row)):
                numeric = value.replace(".", "", 1).lstrip("-").isdigit() and \
                    not (value.startswith("0") and len(value) > 1 and "." not in value)
                cells.append("NA" if value == "" else value if numeric
                             else '"' + value.replace('"', '""') + '"')
            handle.write(",".join(cells) + "\n")
    return path


@pytest.mark.parametrize("style", ["r", "bigquery"])
def test_gdelt1_csv_export_gives_the_events_of_the_tab_file(sample1: Path, tmp_path, style):
    """The 710 real GDELT 1.0 rows, re-written as an R or BigQuery CSV, read to exactly the
    events the tab-separated original gives (ids, fields, extra)."""
    rows = _csv_rows(sample1)
    export = _write_csv_export(rows, tmp_path / f"gdelt1_{style}.csv", style=style)
    assert detect_format(export).name == "gdelt-csv"
    original, _ = _read(Gdelt1Adapter(), sample1)
    from hybridwatch.adapters.gdelt_csv import GdeltCsvAdapter

    table, rejections = _read(GdeltCsvAdapter(), export)
    assert rejections == [] and table.num_rows == 710
    assert table.sort_by("event_id").equals(original.sort_by("event_id"))


def test_gdelt_csv_rejects_bad_rows_verbatim_with_their_line():
    from hybridwatch.adapters.gdelt_csv import GdeltCsvAdapter

    path = FIXTURES / "gdelt1_r_export.csv"
    table, rejections = _read(GdeltCsvAdapter(), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (4, "SQLDATE", "not a date ('20120631')"),
        (5, "Actor2CountryCode", "unknown CAMEO country code ('QQQ')"),
        (7, "EventCode", "not a CAMEO event code ('---')")]
    assert [r.raw for r in rejections] == [lines[3], lines[4], lines[6]]
    assert table.column("source_record_id").to_pylist() == ["230000001", "230000002",
                                                            "230000006"]
    assert table.column("target_iso3s").to_pylist() == [[], ["UKR"], []]


def test_gdelt_csv_without_the_key_columns_is_refused(tmp_path):
    from hybridwatch.adapters.gdelt_csv import GdeltCsvAdapter

    path = tmp_path / "partial.csv"
    path.write_text("GLOBALEVENTID,SQLDATE,Actor1Code\n1,20160101,USA\n", encoding="utf-8")
    with pytest.raises(FormatError, match="no column EventCode"):
        _read(GdeltCsvAdapter(), path)
