"""The faster `supply` internals equal the straightforward versions they replaced, on random
flows with one-sided declarations, self-trade, several products and both frequencies:
reconciliation as one aggregation (was two aggregations and a FULL OUTER JOIN), and the
diversion matrices on integer country codes (were ``np.isin`` over Python strings)."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from hybridwatch.analyses.diversion import _Flows
from hybridwatch.store.trade_store import _ROWS, TradeSelection

COUNTRIES = ["ARM", "CHN", "DEU", "KAZ", "NLD", "RUS", "TUR", "USA"]


def _random_rows(seed: int, n: int = 3000) -> pa.Table:
    rng = np.random.default_rng(seed)
    months = [date(2020 + m // 12, m % 12 + 1, 1) for m in range(36)]
    values = rng.lognormal(10, 2, n).round(0)
    return pa.table({
        "source": ["comtrade"] * n,
        "reporter_iso3": rng.choice(COUNTRIES, n).tolist(),
        "partner_iso3": rng.choice(COUNTRIES, n).tolist(),   # some rows are self-trade
        "flow": rng.choice(["import", "export"], n).tolist(),
        "product": rng.choice(["854231", "854232", "848620"], n).tolist(),
        "period": pa.array([months[i] for i in rng.integers(0, 36, n)], pa.date32()),
        "period_freq": ["month"] * n,
        "value_usd": values,
    }, schema=_ROWS)


def _reference_reconcile(rows: pa.Table, freq: str) -> pa.Table:
    """The reconciliation before: import and export sides aggregated apart, then joined."""
    period = "period" if freq == "month" else "CAST(date_trunc('year', period) AS DATE)"
    con = duckdb.connect()
    con.register("sel", rows)
    return con.sql(f"""
        WITH imp AS (
          SELECT partner_iso3 AS exporter, reporter_iso3 AS importer, product, period,
                 sum(value_usd) AS v FROM sel WHERE flow = 'import' GROUP BY ALL
        ), exp AS (
          SELECT reporter_iso3 AS exporter, partner_iso3 AS importer, product, period,
                 sum(value_usd) AS v FROM sel WHERE flow = 'export' GROUP BY ALL
        ), both_sides AS (
          SELECT exporter, importer, product, {period} AS period, i.v AS imp_v, e.v AS exp_v
          FROM imp i FULL OUTER JOIN exp e USING (exporter, importer, product, period)
          WHERE exporter <> importer
        )
        SELECT exporter, importer, period, sum(coalesce(imp_v, exp_v)) AS value_usd,
               sum(imp_v) AS import_reported_usd, sum(exp_v) AS export_reported_usd
        FROM both_sides GROUP BY ALL ORDER BY exporter, importer, period""").to_arrow_table()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("freq", ["month", "year"])
def test_reconciliation_equals_the_join_of_both_sides(seed, freq):
    rows = _random_rows(seed)
    got = TradeSelection(rows, ("85", "84")).values(freq).table.to_pylist()
    want = _reference_reconcile(rows, freq).to_pylist()
    assert len(got) == len(want) > 100
    for g, w in zip(got, want):
        assert (g["exporter"], g["importer"], g["period"]) == (w["exporter"], w["importer"],
                                                               w["period"])
        for column in ("value_usd", "import_reported_usd", "export_reported_usd"):
            if w[column] is None:   # no declaration from that side
                assert g[column] is None
            else:
                assert g[column] == pytest.approx(w[column], rel=1e-12)


def _reference_matrix(flows: pa.Table, exporters, importers, months, key, column):
    """The diversion matrix before: ``np.isin`` and ``np.unique`` over country strings."""
    exporter = np.asarray(flows["exporter"].to_pylist(), object)
    importer = np.asarray(flows["importer"].to_pylist(), object)
    days = flows["period"].cast(pa.int32()).to_numpy(zero_copy_only=False)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(int)
    keep = np.ones(exporter.size, bool)
    if exporters is not None:
        keep &= np.isin(exporter, list(exporters))
    if importers is not None:
        keep &= np.isin(importer, list(importers))
    values = flows[column].to_numpy(zero_copy_only=False).astype(float)[keep]
    finite = ~np.isnan(values)
    keys = (exporter if key == "exporter" else importer)[keep][finite]
    names, rows = np.unique(keys.astype(str), return_inverse=True) if keys.size \
        else (np.array([], str), np.array([], int))
    cols = month[keep][finite] - months[0].astype(int)
    out = np.zeros((names.size, months.size))
    seen = np.zeros((names.size, months.size), bool)
    np.add.at(out, (rows, cols), values[finite])
    seen[rows, cols] = True
    if column != "value_usd":
        out[~seen] = np.nan
    return [str(n) for n in names], out


@pytest.mark.parametrize("seed", [4, 5])
def test_diversion_matrices_equal_the_string_version(seed):
    flows = TradeSelection(_random_rows(seed), ("85", "84")).values("month").table
    table = _Flows(flows)
    months = table.months()
    cases = [(["DEU", "NLD"], ["RUS"], "importer"), (["DEU", "NLD"], None, "importer"),
             (None, ["RUS"], "exporter"), (["CHN"], ["ARM", "KAZ", "XXX"], "importer"),
             (["XXX"], None, "importer"), (None, None, "exporter")]
    for exporters, importers, key in cases:
        for column in ("value_usd", "import_reported_usd", "export_reported_usd"):
            names, got = table.matrix(exporters, importers, months, key, column)
            want_names, want = _reference_matrix(flows, exporters, importers, months, key,
                                                 column)
            assert names == want_names
            np.testing.assert_array_equal(got, want)
