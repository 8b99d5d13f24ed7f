"""Ingest runs a trade file's SELECT inside the store (``SqlSource``): the rows, counts and
quarantine equal what the adapter's own Arrow batches (``read``) give, and the first of two rows
with one flow id in file order is the one kept."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from hybridwatch.adapters import ReadOptions, get_adapter
from hybridwatch.model.trade import TRADE_FLOW_SCHEMA
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

TRADE = Path(__file__).resolve().parents[1] / "fixtures" / "trade"
FILES = {"comtrade": TRADE / "comtrade_monthly.csv",
         "baci": TRADE / "baci_HS17_Y2021_V202401.csv"}


def _batches(name: str, path: Path):
    batches = list(get_adapter(name).read(path, ReadOptions()))
    rows = pa.concat_tables([b.table for b in batches]).to_pylist()
    rejections = [(r.line, r.field, r.reason, r.raw) for b in batches for r in b.rejections]
    return rows, rejections, sum(b.read for b in batches), sum(b.skipped for b in batches)


def _stored(store: EventStore):
    rows = store._con.sql(f"SELECT {', '.join(TRADE_FLOW_SCHEMA.names)} FROM trade_flows"
                             ).to_arrow_table().cast(TRADE_FLOW_SCHEMA).to_pylist()
    quarantined = [(q["line"], q["field"], q["reason"], q["raw"])
                   for q in store.quarantine().to_pylist()]
    return rows, quarantined


@pytest.mark.parametrize("name", sorted(FILES))
def test_sql_ingest_equals_the_adapters_batches(name, store_path):
    rows, rejections, read, skipped = _batches(name, FILES[name])
    with EventStore(store_path) as store:
        report = ingest_file(store, FILES[name])
        stored, quarantined = _stored(store)
    key = lambda r: r["flow_id"]  # noqa: E731
    assert sorted(stored, key=key) == sorted(rows, key=key)
    assert sorted(quarantined) == sorted(rejections)
    assert (report.read, report.skipped, report.quarantined) == (read, skipped,
                                                                 len(rejections))


def test_first_row_of_a_repeated_flow_wins_and_stored_flows_are_duplicates(store_path, tmp_path):
    lines = FILES["comtrade"].read_text().splitlines()
    header, first = lines[0], lines[1]           # DEU exports 854231 to KAZ, 1,250,000 USD
    later = first.replace(",1250000,1250000,", ",7,7,")
    assert later != first
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("\n".join([header, first, later, first]) + "\n")
    again = tmp_path / "again.csv"
    again.write_text("\n".join([header, later, lines[2]]) + "\n")
    with EventStore(store_path) as store:
        one = ingest_file(store, repeated)
        two = ingest_file(store, again)
        values = store._con.execute("SELECT reporter_iso3, partner_iso3, value_usd, ingest_id "
                                   "FROM trade_flows ORDER BY ingest_id, reporter_iso3"
                                   ).fetchall()
    assert (one.read, one.ingested, one.duplicates) == (3, 1, 2)
    assert (two.read, two.ingested, two.duplicates) == (2, 1, 1)
    assert values == [("DEU", "KAZ", 1250000.0, 1), ("KAZ", "DEU", 1340000.0, 2)]


def test_strict_ingest_of_a_trade_file_writes_nothing(store_path):
    from hybridwatch.errors import StrictModeError

    with EventStore(store_path) as store:
        with pytest.raises(StrictModeError, match="line 10"):
            ingest_file(store, FILES["comtrade"], strict=True)
        assert store._con.execute("SELECT count(*) FROM trade_flows").fetchall()[0][0] == 0
        assert store.quarantine().num_rows == 0
