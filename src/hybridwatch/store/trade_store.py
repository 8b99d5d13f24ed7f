"""Named queries over ``trade_flows``: reconciled bilateral values of a product selection.

A flow from exporter E to importer I can be declared twice: by E as an export (FOB) and by I as
an import (CIF). ``flow_values`` keeps both per product and period and reconciles them the way
BACI starts from: the importer's declaration when there is one (customs check imports more
closely), else the exporter's mirror declaration. Both stay in the result so the mirror gap can
be read as a signal. Re-exports and re-imports are not counted (they would count goods twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from hybridwatch.errors import SelectorError
from hybridwatch.store.store import EventStore


@dataclass(frozen=True)
class FlowValues:
    """Reconciled values: one row per exporter, importer and period (``table``), with what was
    chosen to build it."""

    table: pa.Table       # exporter, importer, period, value_usd, import_reported_usd, export_reported_usd
    source: str | None
    freq: str
    product_level: int | None
    products: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "freq": self.freq, "product_level": self.product_level,
                "products_seen": len(self.products), "rows": self.table.num_rows}


_EMPTY = pa.schema([("exporter", pa.string()), ("importer", pa.string()),
                    ("period", pa.date32()), ("value_usd", pa.float64()),
                    ("import_reported_usd", pa.float64()),
                    ("export_reported_usd", pa.float64())])


def _prefix_clause(prefixes: tuple[str, ...]) -> tuple[str, list[Any]]:
    if not prefixes:
        raise SelectorError("no product selected")
    return (" OR ".join("starts_with(product, ?)" for _ in prefixes), list(prefixes))


def has_trade(store: EventStore) -> bool:
    return store.has_table("trade_flows") and bool(
        store.con.execute("SELECT count(*) FROM (SELECT 1 FROM trade_flows LIMIT 1)"
                          ).fetchall()[0][0])


def flow_values(store: EventStore, prefixes: tuple[str, ...], *, freq: str = "month",
                since: date | None = None, until: date | None = None,
                source: str | None = None, countries: tuple[str, ...] | None = None
                ) -> FlowValues:
    """Reconciled bilateral values of the products starting with ``prefixes``, per ``freq``.

    One source is used (``source``, else the one with most matching rows) and one product level
    (the most detailed present), so nothing is counted twice; monthly rows sum to years when
    ``freq`` is ``year``. ``since`` inclusive, ``until`` exclusive. ``countries`` keeps only
    flows whose two sides are both among them.
    """
    if freq not in ("month", "year"):
        raise SelectorError(f"freq must be month or year, not {freq!r}")
    if not has_trade(store):
        return FlowValues(_EMPTY.empty_table(), None, freq, None, (),
                          ("the store holds no trade flows (ingest a UN Comtrade or BACI file)",))
    match, params = _prefix_clause(prefixes)
    where, wparams = [f"({match})", "flow IN ('export', 'import')"], list(params)
    if since:
        where.append("period >= ?")
        wparams.append(since)
    if until:
        where.append("period < ?")
        wparams.append(until)
    if freq == "month":
        where.append("period_freq = 'month'")
    if countries:
        where.append("reporter_iso3 IN (SELECT unnest(?)) AND partner_iso3 IN (SELECT unnest(?))")
        wparams += [list(countries), list(countries)]
    base = " AND ".join(where)
    sources = store.con.execute(
        f"SELECT source, count(*) AS n, max(length(product)) FROM trade_flows WHERE {base} "
        "GROUP BY source ORDER BY n DESC, source", wparams).fetchall()
    notes: list[str] = []
    if source:
        sources = [s for s in sources if s[0] == source]
    if not sources:
        what = "monthly " if freq == "month" else ""
        return FlowValues(_EMPTY.empty_table(), source, freq, None, (),
                          (f"no {what}trade flows of the selected products "
                           f"({', '.join(prefixes[:8])}{' …' if len(prefixes) > 8 else ''})",))
    chosen, _, level = sources[0]
    if len(sources) > 1 and not source:
        notes.append(f"trade from {', '.join(s[0] for s in sources[1:])} left out: one source "
                     f"at a time ({chosen} has the most rows; choose with --source)")
    levels = store.con.execute(
        f"SELECT DISTINCT length(product) FROM trade_flows WHERE {base} AND source = ?",
        wparams + [chosen]).fetchall()
    if len(levels) > 1:
        notes.append(f"rows at HS{', HS'.join(str(n[0]) for n in sorted(levels) if n[0] != level)}"
                     f" left out: HS{level} rows are used so nothing is counted twice")
    period = "period" if freq == "month" else "CAST(date_trunc('year', period) AS DATE)"
    sql = f"""
        WITH sel AS (
          SELECT * FROM trade_flows WHERE {base} AND source = ? AND length(product) = ?
        ), imp AS (
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
        FROM both_sides GROUP BY ALL ORDER BY exporter, importer, period"""
    table = store.con.sql(sql, params=wparams + [chosen, level]).to_arrow_table()
    products = tuple(r[0] for r in store.con.execute(
        f"SELECT DISTINCT product FROM trade_flows WHERE {base} AND source = ? "
        "AND length(product) = ? ORDER BY 1", wparams + [chosen, level]).fetchall())
    return FlowValues(table.cast(_EMPTY), chosen, freq, level, products, tuple(notes))


def pair_monthly_values(store: EventStore, a: str, b: str, prefixes: tuple[str, ...]
                        ) -> list[tuple[date, float]]:
    """Month, reconciled value of the selected products between ``a`` and ``b`` (both
    directions together), months with trade only."""
    values = flow_values(store, prefixes, freq="month", countries=(a, b))
    if values.table.num_rows == 0:
        return []
    totals = values.table.group_by("period").aggregate([("value_usd", "sum")])
    return sorted(zip(totals["period"].to_pylist(), totals["value_usd_sum"].to_pylist()))
