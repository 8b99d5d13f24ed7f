"""Bounded decompression and record sizes checked while reading (issue #14 §6).

A bomb is a valid sample followed by a long run of bytes that compress ~1000:1, in a .zip or a
.gz, for every format that reads archives. Refused: an input error for that file naming what
was exceeded, nothing written, the other files of the run ingested. Real compressed data (the
real GDELT export zipped, the real ATT&CK bundle gzipped) passes at the default limits."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from archives import compressed_copy
from click.testing import CliRunner

from hybridwatch.adapters import ReadOptions
from hybridwatch.adapters.textio import iter_csv_records
from hybridwatch.cli import cli
from hybridwatch.errors import InputError
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLES = {
    "acled": "acled/acled_sample.csv", "eurepoc": "eurepoc/eurepoc_sample.csv",
    "euvsdisinfo": "euvsdisinfo/euvsdisinfo_sample.csv", "stix": "stix/hybrid_bundle.json",
    "misp-json": "misp/events.json", "misp-csv": "misp/attributes.csv",
    "articles-jsonl": "articles/articles.jsonl", "rss": "articles/feed_rss.xml",
    "gdelt2": "gdelt/malformed.export.CSV",
}


_bomb = compressed_copy


@pytest.mark.parametrize("fmt", list(SAMPLES))
@pytest.mark.parametrize("archive", ["zip", "gz"])
def test_expanded_size_limit_refuses_the_file_and_writes_nothing(tmp_path, fmt, archive):
    sample = FIXTURES / SAMPLES[fmt]
    bomb = _bomb(sample, tmp_path / f"{sample.name}.{archive}", archive, 3 << 20)
    options = ReadOptions(max_expanded_bytes=1 << 20)   # 1 MiB, to keep the test fast
    with EventStore(tmp_path / "s.duckdb") as store:
        with pytest.raises(InputError, match="expands beyond 1.0 MiB"):
            ingest_file(store, bomb, format=fmt, options=options)
        counts = store._con.execute("SELECT (SELECT count(*) FROM events), "
                                   "(SELECT count(*) FROM articles), "
                                   "(SELECT count(*) FROM quarantine)").fetchall()[0]
    assert counts == (0, 0, 0)


@pytest.mark.parametrize("fmt", ["stix", "acled", "gdelt2"])
def test_default_ratio_limit_refuses_a_bomb(tmp_path, fmt):
    sample = FIXTURES / SAMPLES[fmt]
    bomb = _bomb(sample, tmp_path / f"{sample.name}.gz", "gz", 40 << 20)  # ~40 KB → 40 MiB
    with EventStore(tmp_path / "s.duckdb") as store:
        with pytest.raises(InputError, match="expands more than 200:1"):
            ingest_file(store, bomb, format=fmt)


def test_cli_bomb_exits_3_and_the_other_files_are_ingested(tmp_path):
    bomb = _bomb(FIXTURES / SAMPLES["stix"], tmp_path / "bundle.json.zip", "zip", 3 << 20)
    good = FIXTURES / SAMPLES["acled"]
    result = CliRunner().invoke(cli, ["ingest", str(bomb), str(good), "--db",
                                      str(tmp_path / "s.duckdb"), "--json",
                                      "--max-expanded-size", "1MiB"])
    assert result.exit_code == 3
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert files["bundle.json.zip"]["status"] == "failed"
    assert "expands beyond 1.0 MiB" in files["bundle.json.zip"]["error"]
    assert files[good.name]["status"] == "ingested" and files[good.name]["ingested"] > 0
    bad_option = CliRunner().invoke(cli, ["ingest", str(good), "--db", str(tmp_path / "t.db"),
                                          "--max-expanded-size", "lots"])
    assert bad_option.exit_code == 2 and "not a size" in bad_option.output


def test_real_compressed_data_passes_the_default_limits(tmp_path, shared_data):
    gdelt = shared_data / "gdelt_samples_and_lookups/samples/20191024143000.export.CSV"
    zipped = tmp_path / "20191024143000.export.CSV.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(gdelt, gdelt.name)
    attack = shared_data / "mitre_attack/ics-attack-18.1.json"
    gzipped = tmp_path / "ics-attack-18.1.json.gz"
    gzipped.write_bytes(gzip.compress(attack.read_bytes()))
    for path, plain in ((zipped, gdelt), (gzipped, attack)):
        ratio = plain.stat().st_size / path.stat().st_size
        assert 3 < ratio < 50, ratio   # what real data does: far below 200:1
        with EventStore(tmp_path / f"{path.name}.duckdb") as store:
            report = ingest_file(store, path)
        with EventStore(tmp_path / f"{plain.name}.duckdb") as store:
            assert ingest_file(store, plain).ingested == report.ingested > 0


def _peak_while(action) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_oversized_csv_line_is_cut_while_reading(tmp_path):
    sample = (FIXTURES / SAMPLES["acled"]).read_text(encoding="utf-8").splitlines(True)
    path = tmp_path / "acled.csv"
    with open(path, "w", encoding="utf-8") as out:  # a 24 MiB line between two good ones
        out.writelines(sample[:2])
        out.write("x" * (24 << 20) + "\n")
        out.writelines(sample[2:])
    records: list = []
    peak = _peak_while(lambda: records.extend(iter_csv_records(path)))
    assert peak < 8 << 20, f"peak {peak:,} bytes: the line was held whole"
    bad = [r for r in records if r.problem]
    assert [r.line for r in bad] == [3] and "oversized" in bad[0].problem
    assert len(bad[0].raw) < 2 << 20
    assert [r.fields for r in records if not r.problem] == \
        [r.fields for r in iter_csv_records(FIXTURES / SAMPLES["acled"])]
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, path, format="acled")
        alone = ingest_file(store, FIXTURES / SAMPLES["acled"], format="acled")
    assert report.quarantined == alone.quarantined + 1
    assert report.ingested == alone.ingested + alone.duplicates


def test_an_unterminated_quote_does_not_swallow_the_file(tmp_path):
    header, *rows = (FIXTURES / SAMPLES["acled"]).read_text(encoding="utf-8").splitlines(True)
    path = tmp_path / "acled.csv"
    filler = "".join(f"{'y' * 1000}\n" for _ in range(3000))  # 3 MB inside an open quote
    path.write_text(header + '"never closed,' + filler + "".join(rows), encoding="utf-8")
    records = list(iter_csv_records(path))
    assert "oversized" in (records[1].problem or "")
    assert max(len(r.raw) for r in records) < 2 << 20


def test_an_oversized_jsonl_line_is_cut_while_reading(tmp_path):
    sample = FIXTURES / SAMPLES["articles-jsonl"]
    path = tmp_path / "articles.jsonl"
    path.write_bytes(b'{"outlet": "x", "title": "' + b"z" * (24 << 20) + b'"}\n' +
                     sample.read_bytes())
    with EventStore(tmp_path / "alone.duckdb") as store:
        alone = ingest_file(store, sample, format="articles-jsonl")
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, path, format="articles-jsonl")
        reason, raw = store._con.execute("SELECT reason, raw FROM quarantine WHERE line = 1"
                                        ).fetchall()[0]
    assert "oversized" in reason and len(raw) < 2 << 20
    assert (report.ingested, report.quarantined) == (alone.ingested, alone.quarantined + 1)


def test_a_bomb_inside_a_zip_is_judged_against_the_archive_size(tmp_path):
    # two-level trick: a small zip whose member is itself highly compressible
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bundle.json", b'{"type": "bundle", "objects": []}' + b" " * (40 << 20))
    path = tmp_path / "bundle.json.zip"
    path.write_bytes(buffer.getvalue())
    with EventStore(tmp_path / "s.duckdb") as store, \
            pytest.raises(InputError, match="expands more than 200:1"):
        ingest_file(store, path, format="stix")
