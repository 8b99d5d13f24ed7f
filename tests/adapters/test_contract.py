"""One contract every registered adapter meets, run over each adapter's own fixture.

A new adapter gets these checks for free — and fails here until it has a fixture listed below.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridwatch.adapters import ReadOptions, adapters, detect_format
from hybridwatch.model.countries import country_name
from hybridwatch.model.domains import DOMAINS
from hybridwatch.model.schema import ARTICLE_SCHEMA, EVENT_SCHEMA, record_id_hash
from hybridwatch.model.trade import FLOWS, TRADE_FLOW_SCHEMA
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

#: adapter name → (fixture with at least one malformed record, mapping file or None)
CONTRACT_FIXTURES = {
    "gdelt2": ("gdelt/malformed.export.CSV", None),
    "gdelt1": ("gdelt/gdelt1_malformed.tsv", None),
    "gdelt-csv": ("gdelt/gdelt1_r_export.csv", None),
    "acled": ("acled/acled_sample.csv", None),
    "stix": ("stix/hybrid_bundle.json", None),
    "misp-json": ("misp/events.json", None),
    "misp-csv": ("misp/attributes.csv", None),
    "eurepoc": ("eurepoc/eurepoc_sample.csv", None),
    "euvsdisinfo": ("euvsdisinfo/euvsdisinfo_sample.csv", None),
    "articles-jsonl": ("articles/articles.jsonl", None),
    "articles-csv": ("articles/headlines.csv", None),
    "rss": ("articles/feed_rss.xml", None),
    "mapped": ("mapped/incidents.csv", "mapped/incidents.toml"),
    "comtrade": ("trade/comtrade_monthly.csv", None),
    "baci": ("trade/baci_HS17_Y2021_V202401.csv", None),
}
#: record kind → (Arrow schema, id column, store table)
KINDS = {"events": (EVENT_SCHEMA, "event_id", "events"),
         "articles": (ARTICLE_SCHEMA, "article_id", "articles"),
         "trade_flows": (TRADE_FLOW_SCHEMA, "flow_id", "trade_flows")}


def test_every_registered_adapter_has_a_contract_fixture():
    assert set(adapters()) == set(CONTRACT_FIXTURES)


def _read_all(name):
    fixture, mapping = CONTRACT_FIXTURES[name]
    options = ReadOptions(mapping_path=FIXTURES / mapping if mapping else None)
    return list(adapters()[name].read(FIXTURES / fixture, options))


@pytest.mark.parametrize("name", sorted(CONTRACT_FIXTURES))
def test_adapter_contract(name):
    adapter = adapters()[name]
    fixture, mapping = CONTRACT_FIXTURES[name]
    if mapping is None:  # mapped files are read only when a mapping is given
        assert detect_format(FIXTURES / fixture).name == name
    batches = _read_all(name)
    schema, id_column, _ = KINDS[adapter.kind]
    rows = [row for batch in batches for row in batch.table.to_pylist()]
    rejections = [r for batch in batches for r in batch.rejections]
    assert all(batch.kind == adapter.kind for batch in batches)
    assert all(batch.table.schema.equals(schema) for batch in batches)
    assert rows, "the fixture's good records are kept"
    assert rejections, "the fixture has a malformed record, and it is rejected"
    for rejection in rejections:
        assert rejection.reason and rejection.raw.strip()
        assert rejection.line is not None or rejection.record
    for row in rows:
        if adapter.kind == "trade_flows":  # no record id: the flow's key is hashed
            assert len(row[id_column]) == 32 and row["flow"] in FLOWS
            country_name(row["reporter_iso3"]), country_name(row["partner_iso3"])
            continue
        assert row[id_column] == record_id_hash(row["source"], row["source_record_id"])
        if row["extra"] is not None:
            assert isinstance(json.loads(row["extra"]), dict)
        if adapter.kind == "events":
            assert row["domain"] in DOMAINS
            for column in ("actor_iso3", "location_iso3"):
                if row[column] is not None:
                    country_name(row[column])  # raises for anything but a known ISO3 code
            assert isinstance(row["target_iso3s"], list)  # never null; [] = no target
            assert len(set(row["target_iso3s"])) == len(row["target_iso3s"])
            for code in row["target_iso3s"]:
                country_name(code)
    again = _read_all(name)
    assert [b.table for b in again] == [b.table for b in batches], "reading is deterministic"


@pytest.mark.parametrize("name", sorted(CONTRACT_FIXTURES))
def test_adapter_ingest_accounts_for_every_record(name, store_path):
    fixture, mapping = CONTRACT_FIXTURES[name]
    options = ReadOptions(mapping_path=FIXTURES / mapping if mapping else None)
    with EventStore(store_path) as store:
        report = ingest_file(store, FIXTURES / fixture, format=name, options=options)
        table = KINDS[adapters()[name].kind][2]
        stored = store._con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        quarantined = store.quarantine().num_rows
    assert report.read == report.ingested + report.duplicates + report.quarantined \
        + report.skipped
    assert stored == report.ingested and quarantined <= report.quarantined
    assert quarantined > 0
