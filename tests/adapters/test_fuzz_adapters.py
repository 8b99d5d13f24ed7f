"""Property-based fuzzing of every adapter (issue #14 §4), with Hypothesis.

For each format, a real sample is mutated (bytes flipped, cut, repeated; hostile tokens put in:
quotes, NULs, BOMs, bidi marks, ``1e400``, ``0001-01-01T00:00:00+14:00``, deep brackets …).
Properties:

* reading never raises anything but the project's ``InputError`` family;
* a hostile record among good ones never loses a good one;
* through ingest, ``read + exploded = ingested + duplicates + quarantined + skipped``, and under
  ``--strict`` a refused file leaves the store unchanged.

Kept fast for the suite: a few derandomised examples per format (set ``HYBRIDWATCH_FUZZ_EXAMPLES``
to run more, e.g. 500, when hunting)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridwatch.adapters import ReadOptions, get_adapter, read_batches
from hybridwatch.errors import InputError, MappingError, StrictModeError
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: format → (sample, files that must sit beside it, mapping)
FORMATS = {
    "gdelt2": ("gdelt/malformed.export.CSV", (), None),
    "gdelt1": ("gdelt/gdelt1_malformed.tsv", (), None),
    "gdelt-csv": ("gdelt/gdelt1_r_export.csv", (), None),
    "acled": ("acled/acled_sample.csv", (), None),
    "stix": ("stix/hybrid_bundle.json", (), None),
    "misp-json": ("misp/events.json", (), None),
    "misp-csv": ("misp/attributes.csv", (), None),
    "eurepoc": ("eurepoc/eurepoc_sample.csv", (), None),
    "euvsdisinfo": ("euvsdisinfo/euvsdisinfo_sample.csv", (), None),
    "articles-jsonl": ("articles/articles.jsonl", (), None),
    "articles-csv": ("articles/headlines.csv", (), None),
    "rss": ("articles/feed_rss.xml", (), None),
    "mapped": ("mapped/incidents.csv", (), "mapped/incidents.toml"),
    "comtrade": ("trade/comtrade_monthly.csv", (), None),
    "baci": ("trade/baci_HS17_Y2021_V202401.csv", ("trade/country_codes_V202401.csv",), None),
}
EXAMPLES = int(os.environ.get("HYBRIDWATCH_FUZZ_EXAMPLES", "6"))
FUZZ = settings(max_examples=EXAMPLES, deadline=20_000, derandomize=EXAMPLES <= 20,
                database=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = [b'"', b",", b"\n", b"\r\n", b"\t", b";", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
          "\u202e\u2066".encode(), b"{", b"}", b"[", b"]", b"[" * 3000, b"1e400", b"-1e400",
          b"NaN", b"inf", b"9" * 400, b"0001-01-01T00:00:00+14:00",
          b"9999-12-31T23:59:59-12:00", b"null", b"true", b"-0", b"tlp:red", b"TLP:RED ",
          b"<![CDATA[", b"&#0;", b"=cmd|'/c calc'!A1", b"\\", b"'"]
_payload = st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=12))
_mutations = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), _payload),
                      min_size=1, max_size=6)


def _mutate(data: bytes, mutations) -> bytes:
    for where, op, payload in mutations:
        at = int(where * len(data))
        if op == 0:                               # insert
            data = data[:at] + payload + data[at:]
        elif op == 1:                             # overwrite
            data = data[:at] + payload + data[at + len(payload):]
        elif op == 2:                             # cut
            data = data[:at] + data[at + len(payload) * 4:]
        else:                                     # repeat the line around ``at``
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            data = data[:end] + data[start:end] + data[end:]
    return data


def _place(folder: Path, fmt: str, data: bytes, name: str | None = None) -> tuple[Path, ReadOptions]:
    sample, beside, mapping = FORMATS[fmt]
    for other in beside:
        shutil.copy(FIXTURES / other, folder / Path(other).name)
    path = folder / (name or Path(sample).name)
    path.write_bytes(data)
    return path, ReadOptions(mapping_path=FIXTURES / mapping if mapping else None)


def _read_ids(fmt: str, path: Path, options: ReadOptions) -> set[str]:
    """Ids of the records the adapter accepts; only the project's input errors may escape."""
    adapter = get_adapter(fmt)
    ids: set[str] = set()
    with tempfile.TemporaryDirectory() as scratch:
        options = ReadOptions(mapping_path=options.mapping_path, scratch_dir=Path(scratch))
        for batch in read_batches(adapter, path, options):
            key = {"events": "event_id", "articles": "article_id"}.get(batch.kind, "flow_id")
            if batch.table.num_rows:
                ids.update(batch.table.column(key).to_pylist())
    return ids


@pytest.mark.parametrize("fmt", list(FORMATS))
@FUZZ
@given(mutations=_mutations)
def test_mutated_input_raises_only_input_errors(fmt, mutations):
    sample = (FIXTURES / FORMATS[fmt][0]).read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        path, options = _place(Path(folder), fmt, _mutate(sample, mutations))
        try:
            _read_ids(fmt, path, options)
        except InputError:
            pass  # the file as a whole is unreadable: said with its name and reason
        except MappingError as exc:  # a header that lost the mapped columns: by design the
            assert "no column" in str(exc)  # mapping does not fit (exit 2), named as such


LINE_FORMATS = ["gdelt2", "gdelt1", "gdelt-csv", "acled", "misp-csv", "eurepoc", "euvsdisinfo",
                "articles-jsonl", "articles-csv", "mapped", "comtrade", "baci"]
#: one hostile line: no newline (a line format's record boundary), no quote (a CSV quote may
#: legitimately open a field spanning lines)
_line = st.lists(st.one_of(st.sampled_from([t for t in TOKENS if b"\n" not in t and b'"' not in t
                                            and b"\r" not in t]),
                           st.binary(max_size=10).map(
                               lambda b: b.replace(b"\n", b"").replace(b"\r", b"")
                               .replace(b'"', b""))),
                 min_size=1, max_size=12).map(b"".join)


@pytest.mark.parametrize("fmt", LINE_FORMATS)
@FUZZ
@given(line=_line, where=st.floats(0, 1))
def test_a_hostile_line_never_loses_a_good_record(fmt, line, where):
    sample = (FIXTURES / FORMATS[fmt][0]).read_bytes()
    lines = sample.splitlines(keepends=True)
    header = 0 if fmt.startswith("gdelt") and fmt != "gdelt-csv" else 1
    at = header + int(where * (len(lines) - header))
    hostile = b"".join(lines[:at] + [line + b"\n"] + lines[at:])
    with tempfile.TemporaryDirectory() as folder:
        clean_path, options = _place(Path(folder), fmt, sample)
        clean = _read_ids(fmt, clean_path, options)
        (Path(folder) / "hostile").mkdir()
        path, options = _place(Path(folder) / "hostile", fmt, hostile)
        assert clean <= _read_ids(fmt, path, options)


_json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=20), st.sampled_from(["tlp:red", "0001-01-01T00:00:00+14:00",
                                                     "campaign--x", "marking-definition--x"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(
                                ["type", "id", "name", "created", "modified", "first_seen",
                                 "object_marking_refs", "granular_markings", "uuid", "date",
                                 "Tag", "EventTag", "Attribute", "distribution", "timestamp",
                                 "Galaxy", "Orgc", "info", "content", "source_ref",
                                 "target_ref", "relationship_type"]), inner, max_size=6)),
    max_leaves=20)


@pytest.mark.parametrize("fmt", ["stix", "misp-json"])
@FUZZ
@given(value=_json_value, where=st.floats(0, 1))
def test_a_hostile_object_never_loses_a_good_one(fmt, value, where):
    sample = json.loads((FIXTURES / FORMATS[fmt][0]).read_text(encoding="utf-8"))
    items = sample["objects"] if fmt == "stix" else sample["response"] \
        if isinstance(sample, dict) and "response" in sample else sample
    hostile_items = list(items)
    hostile_items.insert(int(where * len(items)), value)
    hostile = {**sample, "objects": hostile_items} if fmt == "stix" else \
        ({"response": hostile_items} if isinstance(sample, dict) else hostile_items)
    with tempfile.TemporaryDirectory() as folder:
        clean_path, options = _place(Path(folder), fmt, json.dumps(sample).encode())
        clean = _read_ids(fmt, clean_path, options)
        (Path(folder) / "hostile").mkdir()
        path, options = _place(Path(folder) / "hostile", fmt, json.dumps(hostile).encode())
        got = _read_ids(fmt, path, options)
    if isinstance(value, dict) and value.get("id") in {o.get("id") for o in items
                                                       if isinstance(o, dict)}:
        return  # a new version of a good object's id may legitimately take its place
    assert clean <= got


def _counts(store: EventStore) -> tuple[int, ...]:
    return store._con.execute(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM articles), "
        "(SELECT count(*) FROM trade_flows), (SELECT count(*) FROM quarantine), "
        "(SELECT count(*) FROM ingest_log)").fetchall()[0]


@pytest.mark.parametrize("fmt", list(FORMATS))
@settings(FUZZ, max_examples=max(EXAMPLES // 2, 2))
@given(mutations=_mutations)
def test_ingest_accounts_for_every_record_and_strict_changes_nothing(fmt, mutations):
    sample = (FIXTURES / FORMATS[fmt][0]).read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        path, options = _place(Path(folder), fmt, _mutate(sample, mutations))
        with EventStore(Path(folder) / "s.duckdb") as store:
            before = _counts(store)
            try:
                ingest_file(store, path, format=fmt, options=options, strict=True)
            except StrictModeError:
                assert _counts(store) == before
            except (InputError, MappingError):
                assert _counts(store) == before
                return
            try:
                report = ingest_file(store, path, format=fmt, options=options, replace=True)
            except InputError:
                return
            assert report.read + report.exploded == (report.ingested + report.duplicates +
                                                     report.quarantined + report.skipped)
