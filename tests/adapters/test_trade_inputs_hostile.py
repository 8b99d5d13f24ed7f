"""The trade inputs (UN Comtrade, CEPII BACI, the GDELT BigQuery CSV) read their files with
DuckDB's SQL; issue #14 §6: DuckDB must never expand a compressed file itself (it would, with
no limit, for a .gz), so a .gz/.zip is expanded first through the same guard as every other
adapter's, and a bomb is refused while it expands. And a header DuckDB cannot bind (a missing
required column, a name given twice) is an input error naming the file and the column.

Independent truth: the same file uncompressed — its compressed copies must give the same
counts and the same quarantined rows (line, field, reason, verbatim text)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from archives import compressed_copy
from click.testing import CliRunner

from hybridwatch.adapters import ReadOptions
from hybridwatch.cli import cli
from hybridwatch.errors import FormatError, InputError
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

TRADE = Path(__file__).resolve().parents[1] / "fixtures" / "trade"
SAMPLES = {"comtrade": TRADE / "comtrade_monthly.csv",
           "baci": TRADE / "baci_HS17_Y2021_V202401.csv",
           "gdelt-csv": TRADE.parent / "gdelt" / "gdelt1_r_export.csv"}
TABLE = {"comtrade": "trade_flows", "baci": "trade_flows", "gdelt-csv": "events"}


_compress = compressed_copy


def _ingest(folder: Path, path: Path, fmt: str, **options):
    folder.mkdir(exist_ok=True)
    with EventStore(folder / "s.duckdb") as store:
        report = ingest_file(store, path, format=fmt, options=ReadOptions(**options))
        quarantined = store._con.execute(
            "SELECT line, field, reason, raw FROM quarantine ORDER BY line").fetchall()
        stored = store._con.execute(f"SELECT count(*) FROM {TABLE[fmt]}").fetchall()[0][0]
    return report, quarantined, stored


def _sample_for(fmt: str, tmp_path: Path) -> Path:
    """A copy of the sample in ``tmp_path`` (its compressed and cut copies go beside it, never
    into the fixtures); BACI reads its country table beside the file: it comes along."""
    sample = SAMPLES[fmt]
    local = tmp_path / "src"
    local.mkdir(exist_ok=True)
    for source in (sample, *([TRADE / "country_codes_V202401.csv"] if fmt == "baci" else [])):
        (local / source.name).write_bytes(source.read_bytes())
    return local / sample.name


@pytest.mark.parametrize("fmt", list(SAMPLES))
@pytest.mark.parametrize("archive", ["gz", "zip"])
def test_compressed_trade_file_reads_like_the_plain_one(tmp_path, fmt, archive):
    sample = _sample_for(fmt, tmp_path)
    packed = _compress(sample, sample.with_name(f"{sample.name}.{archive}"), archive)
    plain_report, plain_q, plain_n = _ingest(tmp_path / "plain", sample, fmt)
    report, quarantined, stored = _ingest(tmp_path / "packed", packed, fmt)
    assert plain_n > 0 and plain_q, "the sample holds good and bad rows"
    assert (report.read, report.ingested, report.quarantined, report.skipped) == \
        (plain_report.read, plain_report.ingested, plain_report.quarantined,
         plain_report.skipped)
    assert (quarantined, stored) == (plain_q, plain_n)


@pytest.mark.parametrize("fmt", list(SAMPLES))
@pytest.mark.parametrize("archive", ["gz", "zip"])
def test_trade_bomb_is_refused_while_expanding_and_nothing_is_written(tmp_path, fmt, archive):
    sample = _sample_for(fmt, tmp_path)
    bomb = _compress(sample, sample.with_name(f"{sample.name}.{archive}"), archive, 3 << 20)
    with EventStore(tmp_path / "s.duckdb") as store:
        with pytest.raises(InputError, match="expands beyond 1.0 MiB") as caught:
            ingest_file(store, bomb, format=fmt, options=ReadOptions(max_expanded_bytes=1 << 20))
        assert caught.value.path == str(bomb)
        counts = store._con.execute("SELECT (SELECT count(*) FROM trade_flows), "
                                   "(SELECT count(*) FROM events), "
                                   "(SELECT count(*) FROM quarantine)").fetchall()[0]
    assert counts == (0, 0, 0)
    # the expanded copy went with the ingest's staging folder
    assert not [p for p in tmp_path.rglob("*") if "hybridwatch-expand" in p.name]


@pytest.mark.parametrize("fmt", ["comtrade", "baci"])
def test_default_ratio_limit_refuses_a_trade_bomb(tmp_path, fmt):
    sample = _sample_for(fmt, tmp_path)
    bomb = _compress(sample, sample.with_name(f"{sample.name}.gz"), "gz", 40 << 20)
    with EventStore(tmp_path / "s.duckdb") as store:
        with pytest.raises(InputError, match="expands more than 200:1"):
            ingest_file(store, bomb, format=fmt)


def test_duckdb_never_decompresses_by_file_name(tmp_path):
    """A plain CSV named ``.gz`` is read as the plain text it is (DuckDB guesses compression
    from the name: it would try to gunzip it, or expand a real one without limits)."""
    named = tmp_path / "comtrade.csv.gz"
    named.write_bytes(SAMPLES["comtrade"].read_bytes())
    report, _, stored = _ingest(tmp_path / "s", named, "comtrade")
    assert stored == report.ingested > 0


def _without(sample: Path, out: Path, column: str) -> Path:
    rows = list(csv.reader(sample.open(newline="", encoding="utf-8")))
    drop = rows[0].index(column)
    with out.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([r[:drop] + r[drop + 1:] for r in rows])
    return out


def _run(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("fmt,column", [("comtrade", "flowCode"), ("comtrade", "primaryValue"),
                                        ("comtrade", "period"), ("baci", "q"), ("baci", "k")])
def test_missing_required_column_is_an_input_error_naming_file_and_column(tmp_path, fmt, column):
    sample = _sample_for(fmt, tmp_path)
    bad = _without(sample, sample.with_name(f"no_{column}.csv"), column)
    good = sample
    code, out = _run("ingest", str(bad), str(good), "--format", fmt,
                     "--db", str(tmp_path / "s.duckdb"))
    assert code == 3
    files = {Path(f["path"]).name: f for f in out["files"]}
    failed = files[bad.name]
    assert failed["status"] == "failed"
    assert failed["error"].startswith(f"{bad} line 1: missing column(s) {column}")
    assert "Binder" not in failed["error"] and "DuckDB" not in failed["error"]
    assert files[good.name]["status"] == "ingested" and files[good.name]["ingested"] > 0


def test_a_column_named_twice_or_unnamed(tmp_path):
    rows = list(csv.reader(SAMPLES["comtrade"].open(newline="", encoding="utf-8")))
    header = rows[0]
    twice = tmp_path / "twice.csv"
    with twice.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([[("period" if c == "qty" else c) for c in header],
                                      *rows[1:]])
    with EventStore(tmp_path / "s.duckdb") as store:
        with pytest.raises(FormatError, match=r"line 1: column 'period' appears twice in the "
                                              r"header \(columns 6 and 32\)"):
            ingest_file(store, twice, format="comtrade")
    # an unnamed column that nothing reads does no harm: the file reads as the sample does
    unnamed = tmp_path / "unnamed.csv"
    with unnamed.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["" if c == "cmdDesc" else c for c in header],
                                      *rows[1:]])
    report, _, stored = _ingest(tmp_path / "u", unnamed, "comtrade")
    plain, _, plain_n = _ingest(tmp_path / "p", SAMPLES["comtrade"], "comtrade")
    assert (report.ingested, report.quarantined, stored) == \
        (plain.ingested, plain.quarantined, plain_n)


@pytest.mark.parametrize("fmt", list(SAMPLES))
@pytest.mark.parametrize("archive", ["gz", "zip"])
def test_corrupt_compressed_trade_file_is_an_input_error_for_that_file(tmp_path, fmt, archive):
    """A flipped byte in the deflate stream (issue #14 §4): an input error naming the file,
    nothing written, never a DuckDB or zlib traceback."""
    sample = _sample_for(fmt, tmp_path)
    packed = _compress(sample, sample.with_name(f"{sample.name}.{archive}"), archive)
    data = bytearray(packed.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
    packed.write_bytes(bytes(data))
    with EventStore(tmp_path / "s.duckdb") as store:
        with pytest.raises(InputError) as caught:
            ingest_file(store, packed, format=fmt)
        assert caught.value.path == str(packed)
        assert "corrupt" in str(caught.value)
        counts = store._con.execute("SELECT (SELECT count(*) FROM trade_flows), "
                                   "(SELECT count(*) FROM events)").fetchall()[0]
    assert counts == (0, 0)
