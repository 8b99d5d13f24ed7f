"""Supplier concentration and dependence from reconciled bilateral trade values.

``concentration``: per importer and period, the Herfindahl–Hirschman index of its suppliers'
shares (HHI = Σ sᵢ², 0 … 1; ×10,000 gives the antitrust scale), the top supplier and its share,
and per importer a least-squares trend of the HHI per year. ``dependence``: the share of an
importer's imports that comes from an actor (a country or a group such as EU27).
Input is a table with ``exporter, importer, period, value_usd`` (``store.trade_store``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa


def _con(flows: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("flows", flows)
    return con


def concentration(flows: pa.Table, *, importers: Sequence[str] | None = None
                  ) -> list[dict[str, Any]]:
    """HHI, top supplier and its share per importer and period (periods with imports only)."""
    con = _con(flows)
    where = "value_usd > 0"
    params: list[Any] = []
    if importers:
        where += " AND importer IN (SELECT unnest(?))"
        params.append(list(importers))
    rows = con.execute(f"""
        WITH s AS (SELECT importer, period, exporter, sum(value_usd) AS v FROM flows
                   WHERE {where} GROUP BY ALL),
        t AS (SELECT *, sum(v) OVER w AS total,
                     row_number() OVER (w ORDER BY v DESC, exporter) AS rank
              FROM s WINDOW w AS (PARTITION BY importer, period))
        SELECT importer, period, sum((v / total) ^ 2) AS hhi,
               any_value(exporter) FILTER (WHERE rank = 1) AS top_supplier,  -- ties: A before B
               max(v) / any_value(total) AS top_share, count(*) AS n_suppliers,
               any_value(total) AS total
        FROM t GROUP BY importer, period ORDER BY importer, period""", params).fetchall()
    con.close()
    return [{"importer": r[0], "period": r[1].isoformat(), "hhi": round(r[2], 6),
             "top_supplier": r[3], "top_share": round(r[4], 6), "n_suppliers": r[5],
             "imports_usd": round(r[6], 2)} for r in rows]


def concentration_trend(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per importer: first and last HHI and the least-squares HHI slope per year (null with
    fewer than three periods: too little data for a trend)."""
    by_importer: dict[str, list[tuple[np.datetime64, float]]] = {}
    for row in rows:
        by_importer.setdefault(row["importer"], []).append(
            (np.datetime64(row["period"], "D"), row["hhi"]))
    out = []
    for importer, points in sorted(by_importer.items()):
        points.sort()
        years = np.array([(p - points[0][0]).astype(float) / 365.25 for p, _ in points])
        hhi = np.array([h for _, h in points])
        slope = float(np.polyfit(years, hhi, 1)[0]) if len(points) >= 3 else None
        out.append({"importer": importer, "first_period": str(points[0][0]),
                    "last_period": str(points[-1][0]), "hhi_first": round(hhi[0], 6),
                    "hhi_last": round(hhi[-1], 6),
                    "hhi_slope_per_year": None if slope is None else round(slope, 6),
                    "n_periods": len(points)})
    return out


def dependence(flows: pa.Table, actors: Mapping[str, Sequence[str]], *,
               importers: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Share of each importer's imports (per period) from each actor; an actor is a name and
    its member countries (``{"CHN": ["CHN"], "EU27": [...]}``). An importer that belongs to
    an actor group is not its own supplier: its share excludes nothing but its own (absent)
    flows, so EU27 members' dependence on EU27 is intra-EU trade."""
    con = _con(flows)
    # built in DuckDB: an Arrow table from Python lists would import pandas (a second or so)
    con.execute("CREATE TEMP TABLE members AS SELECT unnest(?::VARCHAR[]) AS actor, "
                "unnest(?::VARCHAR[]) AS country",
                [[a for a, ms in actors.items() for _ in ms],
                 [c for ms in actors.values() for c in ms]])
    where, params = "value_usd > 0", []
    if importers:
        where += " AND importer IN (SELECT unnest(?))"
        params.append(list(importers))
    rows = con.execute(f"""
        WITH f AS (SELECT importer, period, exporter, value_usd FROM flows WHERE {where}),
        totals AS (SELECT importer, period, sum(value_usd) AS total FROM f GROUP BY ALL),
        actor_names AS (SELECT DISTINCT actor FROM members),
        grid AS (SELECT t.importer, t.period, t.total, a.actor FROM totals t, actor_names a),
        from_actor AS (SELECT f.importer, f.period, m.actor, sum(f.value_usd) AS v
                       FROM f JOIN members m ON m.country = f.exporter GROUP BY ALL)
        SELECT g.importer, g.actor, g.period, coalesce(fa.v, 0) / g.total AS share,
               coalesce(fa.v, 0) AS value_usd
        FROM grid g LEFT JOIN from_actor fa USING (importer, period, actor)
        ORDER BY g.importer, g.actor, g.period""", params).fetchall()
    con.close()
    return [{"importer": r[0], "actor": r[1], "period": r[2].isoformat(),
             "share": round(r[3], 6), "value_usd": round(r[4], 2)} for r in rows]
