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

import duckdb
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


_ROWS = pa.schema([("source", pa.string()), ("reporter_iso3", pa.string()),
                   ("partner_iso3", pa.string()), ("flow", pa.string()),
                   ("product", pa.string()), ("period", pa.date32()),
                   ("period_freq", pa.string()), ("value_usd", pa.float64())])


def _prefix_clause(prefixes: tuple[str, ...]) -> tuple[str, list[Any]]:
    if not prefixes:
        raise SelectorError("no product selected")
    return (" OR ".join("starts_with(product, ?)" for _ in prefixes), list(prefixes))


def has_trade(store: EventStore) -> bool:
    return store.has_table("trade_flows") and bool(
        store._con.execute("SELECT count(*) FROM (SELECT 1 FROM trade_flows LIMIT 1)"
                          ).fetchall()[0][0])


@dataclass(frozen=True)
class TradeSelection:
    """The declared export and import rows of a product selection, read from the store in one
    scan; ``values`` reconciles them at a frequency without touching the store again."""

    rows: pa.Table
    prefixes: tuple[str, ...]
    source: str | None = None
    notes: tuple[str, ...] = ()

    def values(self, freq: str = "month") -> FlowValues:
        return _reconcile(self, freq)


def select_trade(store: EventStore, prefixes: tuple[str, ...], *, since: date | None = None,
                 until: date | None = None, source: str | None = None,
                 countries: tuple[str, ...] | None = None) -> TradeSelection:
    """Export and import rows of the products starting with ``prefixes`` (``since`` inclusive,
    ``until`` exclusive; ``countries``: both sides among them)."""
    if not has_trade(store):
        return TradeSelection(_ROWS.empty_table(), prefixes, source,
                              ("the store holds no trade flows (ingest a UN Comtrade or BACI "
                               "file)",))
    match, params = _prefix_clause(prefixes)
    where, wparams = [f"({match})", "flow IN ('export', 'import')"], list(params)
    if since:
        where.append("period >= ?")
        wparams.append(since)
    if until:
        where.append("period < ?")
        wparams.append(until)
    if source:
        where.append("source = ?")
        wparams.append(source)
    if countries:
        where.append("reporter_iso3 IN (SELECT unnest(?)) AND partner_iso3 IN (SELECT unnest(?))")
        wparams += [list(countries), list(countries)]
    rows = store._con.sql(f"SELECT {', '.join(_ROWS.names)} FROM trade_flows "
                         f"WHERE {' AND '.join(where)}", params=wparams).to_arrow_table()
    return TradeSelection(rows.cast(_ROWS), prefixes, source)


def flow_values(store: EventStore, prefixes: tuple[str, ...], *, freq: str = "month",
                since: date | None = None, until: date | None = None,
                source: str | None = None, countries: tuple[str, ...] | None = None
                ) -> FlowValues:
    """Reconciled bilateral values of the products starting with ``prefixes``, per ``freq``.

    One source is used (``source``, else the one with most matching rows) and one product level
    (the most detailed present), so nothing is counted twice. ``freq`` ``year`` uses annual
    declarations when the source has them, else sums the months. ``since`` inclusive, ``until``
    exclusive. ``countries`` keeps only flows whose two sides are both among them.
    """
    return select_trade(store, prefixes, since=since, until=until, source=source,
                        countries=countries).values(freq)


def _reconcile(selection: TradeSelection, freq: str) -> FlowValues:
    if freq not in ("month", "year"):
        raise SelectorError(f"freq must be month or year, not {freq!r}")
    prefixes, notes = selection.prefixes, list(selection.notes)
    con = duckdb.connect()
    try:
        con.register("rows_in", selection.rows)
        wanted = "period_freq = 'month'" if freq == "month" else "TRUE"
        sources = con.execute(
            f"SELECT source, count(*) AS n, max(length(product)) FROM rows_in WHERE {wanted} "
            "GROUP BY source ORDER BY n DESC, source").fetchall()
        if not sources:
            what = "monthly " if freq == "month" else ""
            notes.append(f"no {what}trade flows of the selected products "
                         f"({', '.join(prefixes[:8])}{' …' if len(prefixes) > 8 else ''})")
            return FlowValues(_EMPTY.empty_table(), selection.source, freq, None, (),
                              tuple(notes))
        chosen, _, level = sources[0]
        if len(sources) > 1:
            notes.append(f"trade from {', '.join(s[0] for s in sources[1:])} left out: one "
                         f"source at a time ({chosen} has the most rows; choose with --source)")
        levels = [r[0] for r in con.execute(
            f"SELECT DISTINCT length(product) FROM rows_in WHERE {wanted} AND source = ? "
            "ORDER BY 1", [chosen]).fetchall()]
        if len(levels) > 1:
            notes.append(f"rows at HS{', HS'.join(str(n) for n in levels if n != level)} left "
                         f"out: HS{level} rows are used so nothing is counted twice")
        if freq == "year":
            annual = con.execute("SELECT count(*) FROM rows_in WHERE source = ? AND "
                                 "period_freq = 'year'", [chosen]).fetchall()[0][0]
            wanted = "period_freq = 'year'" if annual else "period_freq = 'month'"
            if annual and con.execute("SELECT count(*) FROM rows_in WHERE source = ? AND "
                                      "period_freq = 'month'", [chosen]).fetchall()[0][0]:
                notes.append("monthly rows left out: the annual declarations are used")
        period = "period" if freq == "month" else "CAST(date_trunc('year', period) AS DATE)"
        table = con.sql(f"""
            WITH sel AS (
              SELECT * FROM rows_in WHERE {wanted} AND source = ? AND length(product) = ?
                AND flow IN ('import', 'export')
            ), both_sides AS (
              -- each direction's declarations side by side: the importer's (partner = exporter)
              -- and the exporter's (reporter = exporter), one aggregation instead of a join
              SELECT CASE flow WHEN 'import' THEN partner_iso3 ELSE reporter_iso3 END AS exporter,
                     CASE flow WHEN 'import' THEN reporter_iso3 ELSE partner_iso3 END AS importer,
                     product, period,
                     sum(value_usd) FILTER (WHERE flow = 'import') AS imp_v,
                     sum(value_usd) FILTER (WHERE flow = 'export') AS exp_v
              FROM sel GROUP BY ALL
            )
            SELECT exporter, importer, {period} AS period,
                   sum(coalesce(imp_v, exp_v)) AS value_usd,
                   sum(imp_v) AS import_reported_usd, sum(exp_v) AS export_reported_usd
            FROM both_sides WHERE exporter <> importer
            GROUP BY ALL ORDER BY exporter, importer, period""",
                        params=[chosen, level]).to_arrow_table()
        products = tuple(r[0] for r in con.execute(
            f"SELECT DISTINCT product FROM rows_in WHERE {wanted} AND source = ? "
            "AND length(product) = ? ORDER BY 1", [chosen, level]).fetchall())
    finally:
        con.close()
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
