"""Concentration, dependence and reconciliation against hand-computed values."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from hybridwatch.analyses.concentration import concentration, concentration_trend, dependence
from hybridwatch.store import EventStore
from hybridwatch.store.trade_store import flow_values


def _flows(rows):
    exporter, importer, period, value = zip(*rows)
    return pa.table({"exporter": list(exporter), "importer": list(importer),
                     "period": pa.array(list(period), pa.date32()),
                     "value_usd": pa.array(list(value), pa.float64())})


Y1, Y2, Y3 = date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1)
FLOWS = _flows([
    # RUS 2021: DEU 60, CHN 30, KAZ 10 → shares .6 .3 .1 → HHI .36 + .09 + .01 = .46
    ("DEU", "RUS", Y1, 60.0), ("CHN", "RUS", Y1, 30.0), ("KAZ", "RUS", Y1, 10.0),
    # RUS 2022: CHN 90, KAZ 10 → HHI .81 + .01 = .82
    ("CHN", "RUS", Y2, 90.0), ("KAZ", "RUS", Y2, 10.0),
    # RUS 2023: CHN 50, KAZ 50 → a tie: HHI .5, top supplier by code (CHN before KAZ)
    ("CHN", "RUS", Y3, 50.0), ("KAZ", "RUS", Y3, 50.0),
    # KAZ 2021: DEU 25, FRA 25, CHN 50 → HHI .0625 + .0625 + .25 = .375
    ("DEU", "KAZ", Y1, 25.0), ("FRA", "KAZ", Y1, 25.0), ("CHN", "KAZ", Y1, 50.0),
])


def test_hhi_top_supplier_and_share_match_hand_computation():
    rows = {(r["importer"], r["period"]): r for r in concentration(FLOWS)}
    assert rows["RUS", "2021-01-01"]["hhi"] == pytest.approx(0.46)
    assert (rows["RUS", "2021-01-01"]["top_supplier"], rows["RUS", "2021-01-01"]["top_share"]) \
        == ("DEU", 0.6)
    assert rows["RUS", "2022-01-01"]["hhi"] == pytest.approx(0.82)
    assert rows["RUS", "2023-01-01"]["hhi"] == pytest.approx(0.5)
    assert rows["RUS", "2023-01-01"]["top_supplier"] == "CHN"
    assert rows["KAZ", "2021-01-01"]["hhi"] == pytest.approx(0.375)
    assert rows["KAZ", "2021-01-01"]["n_suppliers"] == 3
    assert [r["importer"] for r in concentration(FLOWS, importers=["KAZ"])] == ["KAZ"]


def test_hhi_trend_is_the_least_squares_slope_per_year():
    trend = {t["importer"]: t for t in concentration_trend(concentration(FLOWS))}
    # HHI .46, .82, .50 at 0, 1 and 2 years (2022 and 2024 are not leap-year aligned:
    # 365/365.25 and 730/365.25 years) → slope ≈ (.50 − .46) / 2 = .02 per year
    assert trend["RUS"]["hhi_slope_per_year"] == pytest.approx(0.02, abs=1e-3)
    assert trend["KAZ"]["hhi_slope_per_year"] is None   # one period: no trend


def test_dependence_on_actors_and_groups():
    actors = {"CHN": ("CHN",), "EU27": ("DEU", "FRA")}
    rows = {(r["importer"], r["actor"], r["period"]): r["share"]
            for r in dependence(FLOWS, actors)}
    assert rows["RUS", "CHN", "2021-01-01"] == pytest.approx(0.3)
    assert rows["RUS", "EU27", "2021-01-01"] == pytest.approx(0.6)
    assert rows["RUS", "EU27", "2022-01-01"] == 0.0
    assert rows["KAZ", "EU27", "2021-01-01"] == pytest.approx(0.5)


def test_reconciliation_prefers_the_importers_declaration_and_keeps_the_mirror(store_path,
                                                                                tmp_path):
    csv = tmp_path / "mirror.csv"
    csv.write_text(
        "period,reporterISO,partnerISO,flowCode,cmdCode,primaryValue\n"
        "202301,DEU,KAZ,X,854231,100\n"       # DEU declares exports (FOB) …
        "202301,KAZ,DEU,M,854231,110\n"       # … KAZ declares the same flow as imports (CIF)
        "202301,DEU,KAZ,X,854232,40\n"        # only DEU declares this product
        "202302,KAZ,RUS,X,854231,70\n"        # only the exporter declares
        "202302,KAZ,RUS,RX,854231,999\n"      # re-exports are not counted
        "202302,DEU,KAZ,X,8542,5000\n")       # an HS4 row beside HS6 rows: left out
    from hybridwatch.workflows.ingest import ingest_file

    with EventStore(store_path) as store:
        ingest_file(store, csv)
        values = flow_values(store, ("8542",), freq="month")
    rows = {(r["exporter"], r["importer"], str(r["period"])): r
            for r in values.table.to_pylist()}
    deu_kaz = rows["DEU", "KAZ", "2023-01-01"]
    assert deu_kaz["value_usd"] == 150.0           # 110 (KAZ's CIF) + 40 (DEU's only)
    assert deu_kaz["import_reported_usd"] == 110.0 and deu_kaz["export_reported_usd"] == 140.0
    assert rows["KAZ", "RUS", "2023-02-01"]["value_usd"] == 70.0
    assert ("DEU", "KAZ", "2023-02-01") not in rows
    assert values.product_level == 6 and any("HS4" in n for n in values.notes)


def test_annual_declarations_are_not_added_to_the_months(store_path, tmp_path):
    csv = tmp_path / "both.csv"
    csv.write_text("freqCode,period,reporterISO,partnerISO,flowCode,cmdCode,primaryValue\n"
                   "M,202301,DEU,KAZ,X,854231,10\nM,202302,DEU,KAZ,X,854231,20\n"
                   "A,2023,DEU,KAZ,X,854231,365\n")
    from hybridwatch.workflows.ingest import ingest_file

    with EventStore(store_path) as store:
        ingest_file(store, csv)
        yearly = flow_values(store, ("8542",), freq="year")
        monthly = flow_values(store, ("8542",), freq="month")
    assert yearly.table["value_usd"].to_pylist() == [365.0]
    assert any("annual declarations are used" in n for n in yearly.notes)
    assert monthly.table["value_usd"].to_pylist() == [10.0, 20.0]
