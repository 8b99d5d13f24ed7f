"""Events → time series, written once as Ibis expressions so any Ibis backend runs them.

DuckDB runs them on a laptop; the same expressions compile for Spark (``to_spark_sql``) when the data outgrows one machine. Nothing here touches a database:
callers pass an Ibis table (``EventStore.ibis_events()``) and execute the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from hybridwatch.errors import SelectorError
from hybridwatch.model.schema import EVENT_SCHEMA

#: Period names accepted by ``freq`` and the Ibis truncation unit behind each.
FREQUENCIES = {"hour": "h", "day": "D", "week": "W", "month": "M", "year": "Y"}
_FILTERABLE = set(EVENT_SCHEMA.names) - {"extra", "occurred_at", "ended_at"}


def select_events(events: ir.Table, selector: Mapping[str, Any]) -> ir.Table:
    """Rows of ``events`` whose columns equal the selector's values (a list means any of them)."""
    unknown = set(selector) - _FILTERABLE
    if unknown:
        raise SelectorError(f"cannot select on {', '.join(sorted(unknown))} "
                            f"(columns: {', '.join(sorted(_FILTERABLE))})")
    for column, wanted in selector.items():
        values = list(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]
        events = events.filter(events[column].isin(values))
    return events


def event_counts(events: ir.Table, *, freq: str = "day", by: Sequence[str] = (),
                 selector: Mapping[str, Any] | None = None) -> ir.Table:
    """Events per period (and per ``by`` columns): ``period``, ``n_events``, intensity sum/max.

    Periods with no events are absent; a series builder fills them with zeros over the span it
    analyses, because only it knows that span.
    """
    if freq not in FREQUENCIES:
        raise SelectorError(f"unknown frequency {freq!r} (one of: {', '.join(FREQUENCIES)})")
    bad = [column for column in by if column not in _FILTERABLE]
    if bad:
        raise SelectorError(f"cannot group by {', '.join(bad)}")
    if selector:
        events = select_events(events, selector)
    period = events.occurred_at.truncate(FREQUENCIES[freq]).name("period")
    grouped = events.group_by([period, *by]).aggregate(
        n_events=events.count(),
        intensity_sum=events.intensity.sum(),
        intensity_max=events.intensity.max(),
    )
    return grouped.order_by(["period", *by])


def to_spark_sql(expr: ir.Expr) -> str:
    """The Spark SQL for ``expr`` (compiled by Ibis, transpiled by sqlglot), without needing
    pyspark installed: proof that an aggregation stays portable."""
    import sqlglot

    return sqlglot.transpile(str(ibis.to_sql(expr, dialect="duckdb")), read="duckdb",
                             write="spark")[0]
