"""UN Comtrade and CEPII BACI files → trade_flows: values, codings, skips and quarantine."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hybridwatch.errors import StoreError
from hybridwatch.store import EventStore
from hybridwatch.store.migrations import migrate_store
from hybridwatch.workflows.ingest import ingest_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

TRADE = FIXTURES / "trade"


def _rows(store, where="TRUE"):
    return store._con.execute(
        "SELECT source, reporter_iso3, partner_iso3, flow, product, period::VARCHAR, "
        f"period_freq, value_usd, valuation FROM trade_flows WHERE {where} "
        "ORDER BY source, reporter_iso3, partner_iso3, product").fetchall()


def test_comtrade_download_keeps_flows_skips_aggregates_and_quarantines_bad_rows(store_path):
    with EventStore(store_path) as store:
        report = ingest_file(store, TRADE / "comtrade_monthly.csv")
        rows = _rows(store)
        quarantined = store.quarantine().to_pylist()
    assert report.format == "comtrade"
    # 14 data lines: 6 kept; World partner, mode-of-transport breakdown and DX skipped;
    # 5 rejected (month 13, value n/a, unknown partner, short row, 5-digit HS code)
    assert (report.read, report.ingested, report.skipped, report.quarantined) == (14, 6, 3, 5)
    assert rows == [
        ("comtrade", "CHN", "RUS", "re-export", "903039", "2023-01-01", "month", 52000.0, "FOB"),
        ("comtrade", "DEU", "KAZ", "export", "854231", "2023-01-01", "month", 1250000.0, "FOB"),
        ("comtrade", "KAZ", "DEU", "import", "854231", "2023-01-01", "month", 1340000.0, "CIF"),
        ("comtrade", "KAZ", "RUS", "export", "854231", "2023-01-01", "month", 1100000.0, "FOB"),
        # no ISO columns: numeric M49 codes 643 and 156 resolve
        ("comtrade", "RUS", "CHN", "import", "854231", "2023-02-01", "month", 8800000.0, "CIF"),
        # Comtrade's 842 is the USA, its 490 "Other Asia, nes" (ISO column S19) is Taiwan
        ("comtrade", "USA", "TWN", "export", "848620", "2023-01-01", "month", 88000000.0, "FOB"),
    ]
    by_line = {q["line"]: (q["field"], q["reason"]) for q in quarantined}
    assert by_line == {
        10: ("period", "not a YYYYMM month ('202313')"),
        11: ("primaryValue", "not a number ('n/a')"),
        12: ("partnerISO", "unknown country code ('XYZ')"),
        13: (None, "unreadable CSV row: Expected Number of Columns: 47 Found: 17"),
        14: ("cmdCode", "not an HS code of 2, 4 or 6 digits ('85423')"),
    }
    lines = (TRADE / "comtrade_monthly.csv").read_text().splitlines()
    assert all(q["raw"] == lines[q["line"] - 1] for q in quarantined), "kept verbatim"


def test_baci_file_with_its_country_table(store_path):
    with EventStore(store_path) as store:
        report = ingest_file(store, TRADE / "baci_HS17_Y2021_V202401.csv")
        rows = _rows(store)
        reasons = sorted((q["line"], q["field"]) for q in store.quarantine().to_pylist())
    assert report.format == "baci"
    assert (report.ingested, report.skipped, report.quarantined) == (5, 1, 3)
    assert rows == [
        ("baci", "CHE", "RUS", "export", "903082", "2021-01-01", "year", 310250.0, "reconciled"),
        ("baci", "CHN", "RUS", "export", "854231", "2021-01-01", "year", 1523441.0, "reconciled"),
        ("baci", "CHN", "RUS", "export", "854232", "2021-01-01", "year", 802100.0, "reconciled"),
        # HS6 written without its leading zero (10121) is padded back to 010121
        ("baci", "FRA", "RUS", "export", "010121", "2021-01-01", "year", 5200.0, "reconciled"),
        ("baci", "USA", "TWN", "export", "848620", "2021-01-01", "year", 77000500.0, "reconciled"),
    ]
    assert reasons == [(7, "v"), (8, None), (9, "i")]


def test_reingest_is_a_no_op_and_same_flows_are_duplicates(store_path, tmp_path):
    copy = tmp_path / "again.csv"
    copy.write_text((TRADE / "comtrade_monthly.csv").read_text() + "\n")
    with EventStore(store_path) as store:
        ingest_file(store, TRADE / "comtrade_monthly.csv")
        assert ingest_file(store, TRADE / "comtrade_monthly.csv").status == "unchanged"
        again = ingest_file(store, copy)
        assert store._con.execute("SELECT count(*) FROM trade_flows").fetchall()[0][0] == 6
    assert again.ingested == 0 and again.duplicates == 6


def test_trade_table_is_created_when_an_older_store_is_migrated(store_path):
    with EventStore(store_path):
        pass
    con = duckdb.connect(str(store_path))
    con.execute("DROP TABLE trade_flows")   # a version-4 store written before the table existed
    con.execute("UPDATE hybridwatch_meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="hybridwatch migrate"):
        EventStore(store_path, read_only=True)
    migrate_store(store_path)                 # schema version 5: every store holds every table
    with EventStore(store_path, read_only=True) as store:
        assert store.has_table("trade_flows")
        assert store.stats()["trade_flows"] == 0
