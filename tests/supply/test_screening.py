"""Screening: list formats, transliteration, and precision/recall on a labelled variant list
(tests/fixtures/screening: invented parties in the real OpenSanctions and US CSL layouts)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybridwatch.adapters.screening_lists import read_screening_list
from hybridwatch.analyses.screening import ScreeningIndex, name_keys
from hybridwatch.cli import cli
from hybridwatch.errors import FormatError

SCREENING = Path(__file__).resolve().parents[1] / "fixtures" / "screening"
LISTS = [SCREENING / "targets.simple.csv", SCREENING / "consolidated_screening_list.csv"]


def test_both_list_formats_are_read_with_programme_and_date():
    opensanctions, csl = (read_screening_list(p) for p in LISTS)
    assert (opensanctions.format, len(opensanctions.entries), opensanctions.skipped) == \
        ("opensanctions", 7, 1)
    first = opensanctions.entries[0]
    assert first.aliases == ("ООО Квазитрон", "Kvazitron OOO")
    assert first.programme == "EU Council Regulation 833/2014 - Annex IV"
    assert first.listed_on.startswith("2023-02-25")
    assert csl.format == "us-csl" and len(csl.entries) == 3
    zhukova = csl.entries[1]
    assert zhukova.list_name.startswith("Specially Designated Nationals")
    assert zhukova.programme == "RUSSIA-EO14024" and zhukova.listed_on == "2022-05-08"
    assert "Жукова Юлия Александровна" in zhukova.aliases


def test_a_file_that_is_no_list_is_refused(tmp_path):
    other = tmp_path / "x.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match="not a screening list"):
        read_screening_list(other)


def test_transliteration_keys():
    assert name_keys("ООО «Квазитрон»") == name_keys("Kvazitron LLC")
    assert name_keys("Щербаковский")[1] == name_keys("Scherbakovskiy")[1]
    # Chinese characters to pinyin, legal form dropped; spacing of syllables does not matter
    assert name_keys("深圳金海星电子有限公司")[1] == name_keys("Shenzhen Jin Hai Xing Dianzi")[1]


def _labelled():
    with (SCREENING / "variants.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _precision_recall(min_score: float) -> tuple[float, float]:
    index = ScreeningIndex(e for p in LISTS for e in read_screening_list(p).entries)
    true_pos = false_pos = false_neg = 0
    for row in _labelled():
        found = {m.entry_id for m in index.screen(row["name"], min_score=min_score)}
        expected = {row["expected"]} if row["expected"] else set()
        true_pos += len(found & expected)
        false_pos += len(found - expected)
        false_neg += len(expected - found)
    return true_pos / max(true_pos + false_pos, 1), true_pos / (true_pos + false_neg)


def test_precision_and_recall_on_labelled_spelling_variants():
    # 36 variants of 10 listed parties, 16 look-alike or unrelated names (docs/supply-chains.md)
    precision, recall = _precision_recall(0.85)
    assert precision >= 0.95 and recall >= 0.9
    strict_precision, strict_recall = _precision_recall(0.95)
    assert strict_precision >= precision and strict_recall <= recall


def test_screen_cli_over_a_names_file(tmp_path):
    names = tmp_path / "shipments.csv"
    names.write_text("date,importer,exporter\n2024-01-05,ООО Квазитрон,Acme GmbH\n"
                     "2024-02-01,Ural Polimikron,Acme GmbH\n2024-03-01,Kvazitron Ltd,Acme\n")
    result = CliRunner().invoke(cli, ["screen", *sum((["--list", str(p)] for p in LISTS), []),
                                      "--names", str(names), "--column", "importer",
                                      "--db", str(tmp_path / "hw.duckdb"), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_name = {m["name"]: m for m in report["matches"]}
    assert set(by_name) == {"ООО Квазитрон", "Ural Polimikron", "Kvazitron Ltd"}
    match = by_name["ООО Квазитрон"]
    assert set(match) >= {"name", "listed_name", "list", "programme", "score", "evidence"}
    assert match["listed_name"] == "Kvazitron LLC" and match["score"] == 1.0
    assert match["evidence"] == {"file": str(names), "line": 2}
    assert "leads" in report["caution"]


def test_screen_cli_over_the_events_actor_names(tmp_path):
    """Without --names the events' actor names are screened; evidence names the events."""
    db = str(tmp_path / "hw.duckdb")
    gdelt = SCREENING.parent / "gdelt" / "malformed.export.CSV"
    listed = tmp_path / "targets.simple.csv"
    listed.write_text("id,schema,name,aliases,countries,sanctions,dataset,first_seen\n"
                      "x-1,Organization,Франция Холдинг,France,fr,Test programme,test_list,"
                      "2024-01-01\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(gdelt), "--db", db, "-q"]).exit_code == 0
    result = runner.invoke(cli, ["screen", "--list", str(listed), "--db", db, "--json"],
                           catch_exceptions=False)
    report = json.loads(result.stdout)
    assert [m["name"] for m in report["matches"]] == ["FRANCE"]   # through the alias
    match = report["matches"][0]
    assert match["evidence"]["events"] == 1 and len(match["evidence"]["event_ids"]) == 1
    assert report["names_from"] == "events.actor_name"
