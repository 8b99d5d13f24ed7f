"""The article adapters: JSON lines, headline CSV (fixture, real CN state-media file), RSS."""

from __future__ import annotations

import collections
import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from hybridwatch.adapters import articles
from hybridwatch.adapters.base import Batch, ReadOptions
from hybridwatch.adapters.textio import read_head
from hybridwatch.errors import FormatError, InputError
from hybridwatch.model.schema import ARTICLE_SCHEMA, record_id_hash

FIXTURES = Path(__file__).parents[1] / "fixtures" / "articles"
DATA = (Path(__file__).parents[2] / ".." / "shared" / "data").resolve()
HEADLINES = DATA / "cn_state_media_headlines_2022" / "headlines_all.csv"

JSONL = articles.ArticlesJsonlAdapter()
CSV = articles.ArticlesCsvAdapter()
RSS = articles.RssAdapter()


def read_all(adapter, path: Path) -> tuple[list[dict], list]:
    rows, rejections = [], []
    for batch in adapter.read(path, ReadOptions()):
        assert isinstance(batch, Batch) and batch.kind == "articles"
        assert batch.table.schema.equals(ARTICLE_SCHEMA)
        rows += batch.table.to_pylist()
        rejections += batch.rejections
    return rows, rejections


@pytest.mark.parametrize("name, expected", [
    ("articles.jsonl", "articles-jsonl"), ("headlines.csv", "articles-csv"),
    ("feed_rss.xml", "rss"), ("feed_atom.xml", "rss"),
])
def test_sniff_picks_the_right_adapter(name: str, expected: str) -> None:
    path = FIXTURES / name
    scores = {a.name: a.sniff(path, read_head(path)) for a in articles.ADAPTERS}
    assert max(scores, key=scores.get) == expected
    assert sorted(scores.values())[-2] == 0  # the others say no


def test_jsonl_rows_zones_ids_and_languages() -> None:
    rows, rejections = read_all(JSONL, FIXTURES / "articles.jsonl")
    by_outlet = {r["outlet"]: r for r in rows}
    assert sorted(by_outlet) == ["BBC", "CGTN", "RT", "TASS", "Xinhua"]
    rt = by_outlet["RT"]
    assert rt["published_at"] == datetime(2024, 3, 1, 6, 30)  # +03:00 → UTC
    assert rt["source_record_id"] == "rt-0001"
    assert rt["article_id"] == record_id_hash("articles", "rt-0001")
    assert json.loads(rt["extra"]) == {"section": "business"}
    tass = by_outlet["TASS"]  # no id: the URL is the id; Cyrillic title: Russian
    assert tass["source_record_id"] == "https://example.org/tass/0002" and tass["language"] == "ru"
    xinhua = by_outlet["Xinhua"]  # neither id nor URL: md5 of outlet, UTC time, title
    assert xinhua["published_at"] == datetime(2024, 3, 2, 0, 0)
    assert xinhua["source_record_id"] == articles.fallback_record_id(
        "Xinhua", datetime(2024, 3, 2), "China calls for dialogue")
    assert xinhua["language"] == "en"  # 'en-US' → 'en'
    cgtn = by_outlet["CGTN"]
    assert cgtn["title"] is None and cgtn["text"] == "Only text, no title."
    assert by_outlet["BBC"]["published_at"] == datetime(2024, 3, 4, 23, 45)
    assert by_outlet["BBC"]["source_record_id"] == "42"

    found = {(r.line, r.field, r.reason.split(" (")[0]) for r in rejections}
    assert found == {(6, None, "not JSON"), (7, "outlet", "missing outlet"),
                     (8, "published_at", "not a date"), (9, None, "not a JSON object")}
    assert all(r.raw.startswith(("{", "[")) for r in rejections)


def test_jsonl_empty_file_is_an_input_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InputError):
        list(JSONL.read(empty, ReadOptions()))


def test_csv_fixture_fallback_and_rejections() -> None:
    rows, rejections = read_all(CSV, FIXTURES / "headlines.csv")
    assert [r["outlet"] for r in rows] == ["globaltimes", "cgtn", "xinhuanet"]
    cgtn = json.loads(rows[1]["extra"])
    assert rows[1]["published_at"] == datetime(2022, 5, 2, 1, 0)  # from scraped_at
    assert cgtn["published_fallback"] == "scraped_at" and cgtn["section"] == "WORLD"
    assert [r["language"] for r in rows] == ["en", "en", "zh"]
    assert [(r.line, r.field, r.reason.split(" (")[0]) for r in rejections] == [
        (4, "title", "article has neither title nor text"),
        (6, "published", "not a date"),
        (7, None, "expected 7 fields, found 5"),
    ]


def test_csv_without_date_column_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "no_date.csv"
    path.write_text("outlet,title\nRT,Headline\n")
    with pytest.raises(FormatError, match="date column"):
        list(CSV.read(path, ReadOptions()))


def test_rss_items_dates_and_text() -> None:
    rows, rejections = read_all(RSS, FIXTURES / "feed_rss.xml")
    assert [r["outlet"] for r in rows] == ["Demo Wire", "Demo Wire"]
    first, russian = rows
    assert first["source_record_id"] == "wire-1"
    assert first["published_at"] == datetime(2024, 3, 5, 13, 30)  # +0100 → UTC
    assert first["text"] == "Container terminals & logistics systems were disrupted."
    assert first["language"] == "en"  # feed's en-gb
    assert json.loads(first["extra"])["tags"] == ["cyber"]
    assert russian["language"] == "ru" and russian["title"].startswith("Учения")
    assert russian["source_record_id"] == "https://wire.example.org/a/2"  # no guid: link
    assert [(r.record, r.field) for r in rejections] == [("item 3", "published_at")]
    assert "Undated item is rejected" in rejections[0].raw and rejections[0].raw.startswith("<item")


def test_atom_entries_updated_fallback_and_chinese() -> None:
    rows, rejections = read_all(RSS, FIXTURES / "feed_atom.xml")
    assert [r["outlet"] for r in rows] == ["Demo Atom News"] * 2
    drills, chinese = rows
    assert drills["published_at"] == datetime(2024, 3, 7, 1, 0)  # +08:00 → UTC
    assert drills["text"] == "Ships were seen."
    assert chinese["language"] == "zh" and chinese["title"] == "台湾海峡军演"
    assert chinese["published_at"] == datetime(2024, 3, 8, 1, 0)
    assert json.loads(chinese["extra"])["published_fallback"] == "updated"
    assert [(r.record, r.field) for r in rejections] == [("item 3", "published_at")]


def test_not_a_feed_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.xml"
    path.write_text("<html><body>not a feed")
    with pytest.raises(FormatError):
        list(RSS.read(path, ReadOptions()))


def csv_rows_with_start_lines(path: Path) -> tuple[list[dict], list[int]]:
    """Rows as dicts and the line each starts on (some headlines span lines inside quotes)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows, starts, previous_end = [], [], reader.line_num
        for fields in reader:
            rows.append(dict(zip(header, fields)))
            starts.append(previous_end + 1)
            previous_end = reader.line_num
    return rows, starts


@pytest.mark.skipif(not DATA.is_dir(), reason="shared data folder absent")
def test_real_cn_state_media_headlines() -> None:
    truth, start_lines = csv_rows_with_start_lines(HEADLINES)
    assert len(truth) == 39_500
    no_title = [line for line, r in zip(start_lines, truth) if not r["title"].strip()]
    rows, rejections = read_all(CSV, HEADLINES)

    # exactly the rows without a headline are rejected, and nothing else
    assert len(rows) == len(truth) - len(no_title) == 38_752
    assert sorted(r.line for r in rejections) == no_title
    reasons = {(r.field, r.reason) for r in rejections}
    assert reasons == {("title", "article has neither title nor text")}

    kept = [r for r in truth if r["title"].strip()]
    per_outlet = collections.Counter(r["outlet"] for r in rows)
    assert per_outlet == collections.Counter(r["outlet"] for r in kept)
    assert per_outlet == {"cgtn": 13_816, "xinhuanet": 10_972, "globaltimes": 5_847,
                          "chinadaily": 4_566, "bbc": 3_551}
    assert {r["language"] for r in rows} == {"en"}
    assert {r["source"] for r in rows} == {"articles"}
    # the file dedups on (outlet, title, published) with raw titles; ids use stripped titles, so
    # 51 re-scraped headlines differing only in trailing spaces share one id
    keys = {(r["outlet"], r["published"], r["title"].strip()) for r in kept}
    assert len({r["article_id"] for r in rows}) == len(keys) == 38_701
    # one row has no parsed date: it falls back to scraped_at (and it has no title either)
    undated = [line for line, r in zip(start_lines, truth) if not r["published"].strip()]
    assert len(undated) == 1 and undated[0] in no_title
