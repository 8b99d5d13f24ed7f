"""A corrupt deflate stream inside a .zip or .gz (issue #14 §4) is an input error for that file:
exit 3, the file's records rolled back, the other files of the run still ingested."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import InputError
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLES = {  # format → a valid sample in that format
    "acled": "acled/acled_sample.csv", "eurepoc": "eurepoc/eurepoc_sample.csv",
    "euvsdisinfo": "euvsdisinfo/euvsdisinfo_sample.csv", "stix": "stix/hybrid_bundle.json",
    "misp-json": "misp/events.json", "misp-csv": "misp/attributes.csv",
    "articles-jsonl": "articles/articles.jsonl", "rss": "articles/feed_rss.xml",
    "gdelt2": "gdelt/malformed.export.CSV",
}


def _payload(sample: Path) -> bytes:
    """The sample repeated until its deflate stream is long enough to corrupt in the middle."""
    data = sample.read_bytes()
    if sample.suffix == ".json" or sample.suffix == ".xml":
        return data + b" " * 200_000 + bytes(range(32, 127)) * 2000  # junk after the document
    return data


def _corrupt(blob: bytes, start: int) -> bytes:
    middle = start + (len(blob) - start) // 2
    return blob[:middle] + bytes(b ^ 0x5A for b in blob[middle:middle + 64]) + blob[middle + 64:]


def _corrupt_zip(sample: Path, out: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(sample.name, _payload(sample))
    blob = buffer.getvalue()
    info = zipfile.ZipFile(io.BytesIO(blob)).infolist()[0]
    data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    end = data_start + info.compress_size
    out.write_bytes(blob[:data_start] + _corrupt(blob[data_start:end], 0) + blob[end:])
    return out


def _corrupt_gzip(sample: Path, out: Path) -> Path:
    out.write_bytes(_corrupt(gzip.compress(_payload(sample)), 20))
    return out


@pytest.mark.parametrize("fmt", list(SAMPLES))
@pytest.mark.parametrize("archive", ["zip", "gz"])
def test_corrupt_compressed_file_is_an_input_error_and_leaves_the_store_unchanged(
        tmp_path, fmt, archive):
    sample = FIXTURES / SAMPLES[fmt]
    make = _corrupt_zip if archive == "zip" else _corrupt_gzip
    bad = make(sample, tmp_path / f"{sample.name}.{archive}")
    with EventStore(tmp_path / "s.duckdb") as store:
        with pytest.raises(InputError, match="corrupt"):
            ingest_file(store, bad, format=fmt)
        counts = store._con.execute("SELECT (SELECT count(*) FROM events), "
                                   "(SELECT count(*) FROM articles)").fetchall()[0]
    assert counts == (0, 0)


def test_a_corrupt_file_does_not_sink_the_run(tmp_path):
    bad = _corrupt_zip(FIXTURES / SAMPLES["stix"], tmp_path / "bundle.json.zip")
    good = FIXTURES / SAMPLES["acled"]
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(cli, ["ingest", str(bad), str(good), "--db", str(db), "--json"])
    assert result.exit_code == 3
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert "corrupt" in json.dumps(files["bundle.json.zip"])
    with EventStore(db, read_only=True) as store:
        sources = {s for (s,) in store._con.execute("SELECT DISTINCT source FROM events").fetchall()}
    assert sources == {"acled"}


def test_deeply_nested_json_is_an_input_error(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text('{"type": "bundle", "objects": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with EventStore(tmp_path / "s.duckdb") as store, pytest.raises(InputError, match="nested"):
        ingest_file(store, path, format="stix")


def test_deeply_nested_jsonl_line_is_quarantined_and_the_rest_kept(tmp_path):
    sample = FIXTURES / SAMPLES["articles-jsonl"]
    path = tmp_path / "articles.jsonl"
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n" +
                    sample.read_text(encoding="utf-8"), encoding="utf-8")
    with EventStore(tmp_path / "alone.duckdb") as store:
        alone = ingest_file(store, sample, format="articles-jsonl")
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, path, format="articles-jsonl")
        reasons = [r for (r,) in store._con.execute("SELECT reason FROM quarantine").fetchall()]
    assert (report.ingested, report.quarantined) == (alone.ingested, alone.quarantined + 1)
    assert any("nested" in r for r in reasons)
