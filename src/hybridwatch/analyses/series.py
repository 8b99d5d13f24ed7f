"""Events → time series, written once as Ibis expressions so any Ibis backend runs them.

DuckDB runs them on a laptop; the same expressions compile for Spark (``to_spark_sql``) when the
data outgrows one machine. Callers pass an Ibis table (``EventStore.ibis_events()``); the
expressions are built here and executed on whatever backend that table is bound to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from hybridwatch.analyses.selectors import LOCATED_COLUMNS, Selector, Threshold
from hybridwatch.errors import SelectorError
from hybridwatch.model.schema import EVENT_SCHEMA
from hybridwatch.model.targets import (
    TARGET_COLUMN,
    TARGETS_COLUMN,
    explode_targets,
    names_any_target,
)

#: Period names accepted by ``freq`` and the Ibis truncation unit behind each.
FREQUENCIES = {"hour": "h", "day": "D", "week": "W", "month": "M", "year": "Y"}
# target_iso3: one target of an event (model.targets), never the stored list itself
_FILTERABLE = ((set(EVENT_SCHEMA.names) - {"extra", "occurred_at", "ended_at", TARGETS_COLUMN})
               | LOCATED_COLUMNS | {TARGET_COLUMN})
#: A threshold needs this much history before its rolling percentile is trusted.
MIN_THRESHOLD_HISTORY_DAYS = 30


def select_events(events: ir.Table, selector: Selector | Mapping[str, Any]) -> ir.Table:
    """Rows of ``events`` matching the selector's filters (any of the values of each column;
    a value ending in ``*`` matches by prefix).

    ``target_iso3`` matches an event that names any of the values among its targets (it stays
    one event); on a table exploded by target (``model.targets.explode_targets``) it matches
    the row's one target."""
    filters = selector.filters if isinstance(selector, Selector) else selector.items()
    for column, wanted in filters:
        _check_filterable(events, column)
        values = list(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]
        if column == "wheres":  # a list: any of its items
            events = events.filter(ibis.or_(*[events.wheres.contains(v) for v in values]))
            continue
        if column == "theatre":  # names compare case-insensitively
            events = events.filter(events.theatre.lower().isin([str(v).lower() for v in values]))
            continue
        if column == TARGET_COLUMN:  # country codes: no prefixes (the selector checks them)
            events = events.filter(names_any_target(events, values))
            continue
        exact = [v for v in values if not str(v).endswith("*")]
        conditions = [events[column].isin(exact)] if exact else []
        conditions += [events[column].startswith(str(v)[:-1]) for v in values
                       if str(v).endswith("*")]
        events = events.filter(ibis.or_(*conditions))
    return events


def event_counts(events: ir.Table, *, freq: str = "day", by: Sequence[str] = (),
                 selector: Selector | Mapping[str, Any] | None = None) -> ir.Table:
    """Events per period (and per ``by`` columns): ``period``, ``n_events``, intensity sum/max.

    Periods with no events are absent; ``daily_series`` fills them with zeros over its span.
    Grouped by ``target_iso3``, an event counts once for each target it names (and a target
    filter of the selector then keeps the rows of the wanted targets).
    """
    if freq not in FREQUENCIES:
        raise SelectorError(f"unknown frequency {freq!r} (one of: {', '.join(FREQUENCIES)})")
    bad = [column for column in by if column not in _FILTERABLE]
    if bad:
        raise SelectorError(f"cannot group by {', '.join(bad)}")
    if TARGET_COLUMN in by:
        events = explode_targets(events)
    if selector:
        events = select_events(events, selector)
    period = events.occurred_at.truncate(FREQUENCIES[freq]).name("period")
    grouped = events.group_by([period, *by]).aggregate(
        n_events=events.count(),
        intensity_sum=events.intensity.sum(),
        intensity_max=events.intensity.max(),
    )
    return grouped.order_by(["period", *by])


@dataclass(frozen=True, eq=False)
class SeriesMatrix:
    """Daily series side by side: ``counts[t, s]`` events and ``intensity[t, s]`` (daily sum)
    of selector ``s`` on ``dates[t]``; ``events[t, s]`` says whether day t is an event day."""

    dates: np.ndarray               # datetime64[D], consecutive days
    labels: tuple[str, ...]
    counts: np.ndarray              # int64, days × series
    intensity: np.ndarray           # float64, days × series (0 where no intensity)
    events: np.ndarray              # bool, days × series

    def column(self, label: str) -> int:
        return self.labels.index(label)


def daily_series(events: ir.Table, selectors: Sequence[Selector], *,
                 start: date | None = None, end: date | None = None) -> SeriesMatrix:
    """Build one daily series per selector over [start, end] (by default from the first to the
    last day on which any selected series has an event).

    One query for all selectors, reading the events once: the events are joined with a small
    table of the selectors (``selector_table``) on a predicate that says whether an event
    matches a selector's filters, and the matches are counted per selector and day. Only the
    non-empty days come back.
    """
    if not selectors:
        raise SelectorError("no series to build")
    if start and end and end < start:
        raise SelectorError(f"the period ends ({end}) before it starts ({start})")
    window = events
    if start:
        window = window.filter(window.occurred_at >= ibis.timestamp(str(start)))
    if end:
        window = window.filter(window.occurred_at < ibis.timestamp(str(end)) + ibis.interval(days=1))
    table = series_counts(window, selectors).to_pyarrow()
    periods = table["period"].to_numpy().astype("datetime64[D]")
    if not table.num_rows and not (start and end):
        raise SelectorError("no events match these selectors: nothing to build a span from "
                            "(pass --since and --until)")
    first = np.datetime64(start, "D") if start else periods.min()
    last = np.datetime64(end, "D") if end else periods.max()
    dates = np.arange(first, last + 1)
    counts = np.zeros((dates.size, len(selectors)), np.int64)
    intensity = np.zeros((dates.size, len(selectors)), np.float64)
    if table.num_rows:
        day = (periods - dates[0]).astype(np.int64)
        column = table["series"].to_numpy()
        counts[day, column] = table["n_events"].to_numpy()
        intensity[day, column] = np.nan_to_num(table["intensity_sum"].to_numpy(
            zero_copy_only=False).astype(float))
    flags = np.column_stack([_event_days(counts[:, i], intensity[:, i], s.threshold)
                             for i, s in enumerate(selectors)])
    return SeriesMatrix(dates, tuple(s.label for s in selectors), counts, intensity, flags)


#: Scalar columns tried, in this order, as the equality key of the selector join.
_KEY_PREFERENCE = ("domain", "source", "actor_iso3", "location_iso3", "source_type")


def series_counts(events: ir.Table, selectors: Sequence[Selector]) -> ir.Table:
    """Events per ``series`` (the selector's position) and UTC day: ``series``, ``period``,
    ``n_events``, ``intensity_sum`` — one aggregation over one join of ``events`` with
    ``selector_table(selectors)``, on any Ibis backend.

    An event counts once in every series whose selector it matches. When every selector filters
    one scalar column on exact values (``domain`` in a grid such as ``domain=cyber,military
    target=DEU,POL``), that column is an equality key of the join (a hash join: an event meets
    only the selectors of its domain); the other filters are the join's residual predicate.
    """
    selectors = list(selectors)
    for selector in selectors:
        for column, _ in selector.filters:
            _check_filterable(events, column)
    table, key, spec = selector_table(events, selectors)
    sel = ibis.memtable(table)
    predicates = []
    if key is not None:
        predicates.append(events[key] == sel[f"{key}__key"])
    for column, parts in spec.items():
        predicates.append(_matches(events, sel, column, parts))
    joined = (events.join(sel, predicates, how="inner") if predicates
              else events.cross_join(sel))
    period = joined.occurred_at.truncate("D").name("period")
    return joined.group_by([joined.series, period]).aggregate(
        n_events=joined.count(), intensity_sum=joined.intensity.sum())



def _check_filterable(events: ir.Table, column: str) -> None:
    if column not in _FILTERABLE:
        raise SelectorError(f"cannot select on {column} "
                            f"(columns: {', '.join(sorted(_FILTERABLE))})")
    if column in LOCATED_COLUMNS and column not in events.columns:
        raise SelectorError(f"selecting on {column} needs the located events "
                            "(EventStore.ibis_events(located=True))")


def _kind(events: ir.Table, column: str) -> str:
    """How a filter on ``column`` matches: ``list`` (any item of a list column: ``wheres``,
    the targets of an unexploded table), ``lower`` (case-insensitive: ``theatre``) or
    ``scalar`` (equal, or by prefix for a value ending in ``*``)."""
    if column == "wheres" or (column == TARGET_COLUMN and TARGET_COLUMN not in events.columns):
        return "list"
    return "lower" if column == "theatre" else "scalar"


def selector_table(events: ir.Table, selectors: Sequence[Selector]
                   ) -> tuple[pa.Table, str | None, dict[str, tuple[int, ...]]]:
    """The selectors as rows of an Arrow table, for ``series_counts``' join.

    Columns: ``series`` (the selector's position); per filtered column ``c``: ``c__on`` (this
    selector filters ``c``), ``c__in`` (its exact values, a list) and ``c__p<L>`` (its prefixes
    of length L, a list: a value ``19*`` matches when the first two characters are ``19``);
    and ``<key>__key`` when a key column was chosen (one row per selector and key value).
    Returns the table, the key column (or None) and per other filtered column the prefix
    lengths used."""
    wanted = [dict(s.filters) for s in selectors]
    columns = sorted({c for w in wanted for c in w})
    key = next((c for c in (*_KEY_PREFERENCE, *columns)
                if c in columns and c in events.columns and _kind(events, c) == "scalar"
                and events[c].type().is_string()
                and all(c in w and not any(str(v).endswith("*") for v in w[c])
                        for w in wanted)), None)
    spec: dict[str, tuple[int, ...]] = {}
    for column in columns:
        if column == key:
            continue
        lengths = {len(str(v)) - 1 for w in wanted for v in w.get(column, ())
                   if str(v).endswith("*")}
        spec[column] = tuple(sorted(lengths)) if _kind(events, column) == "scalar" else ()
    rows: dict[str, list] = {"series": []}
    if key is not None:
        rows[f"{key}__key"] = []
    for column, lengths in spec.items():
        rows[f"{column}__on"], rows[f"{column}__in"] = [], []
        for length in lengths:
            rows[f"{column}__p{length}"] = []
    for i, w in enumerate(wanted):
        for key_value in (list(dict.fromkeys(map(str, w[key]))) if key is not None else [None]):
            rows["series"].append(i)
            if key is not None:
                rows[f"{key}__key"].append(key_value)
            for column, lengths in spec.items():
                values = [str(v) for v in w.get(column, ())]
                rows[f"{column}__on"].append(column in w)
                kind = _kind(events, column)
                exact = [v for v in values if kind != "scalar" or not v.endswith("*")]
                if kind == "lower":
                    exact = [v.lower() for v in exact]
                rows[f"{column}__in"].append(exact or None)
                for length in lengths:
                    rows[f"{column}__p{length}"].append(
                        [v[:-1] for v in values if v.endswith("*") and len(v) - 1 == length]
                        or None)
    types = {"series": pa.int64()}
    for name in rows:
        if name.endswith("__on"):
            types[name] = pa.bool_()
        elif name != "series":
            base = name.rsplit("__", 1)[0]
            item = pa.string()
            if (_kind(events, base) == "scalar" and name.endswith("__in")
                    and not events[base].type().is_string()):
                item = events[base].type().to_pyarrow()
            types[name] = item if name.endswith("__key") else pa.list_(item)
    return (pa.table({name: pa.array(values, types[name]) if not name.endswith("__in")
                      or types[name].value_type == pa.string()
                      else pa.array([None if v is None else pa.array(v).cast(
                          types[name].value_type).to_pylist() for v in values], types[name])
                      for name, values in rows.items()}),
            key, spec)


def _matches(events: ir.Table, sel: ir.Table, column: str, lengths: tuple[int, ...]
             ) -> ir.BooleanValue:
    """The join predicate of one filtered column: true when the selector does not filter it,
    else when the event's value is one of the selector's values or has one of its prefixes."""
    kind = _kind(events, column)
    if kind == "list":
        listed = events[TARGETS_COLUMN if column == TARGET_COLUMN else column]
        parts = [sel[f"{column}__in"].intersect(listed).length() > 0]
    else:
        value = events[column].lower() if kind == "lower" else events[column]
        parts = [sel[f"{column}__in"].contains(value)]
        parts += [sel[f"{column}__p{n}"].contains(events[column].substr(0, n)) for n in lengths]
    return ~sel[f"{column}__on"] | ibis.or_(*parts).fill_null(False)


def _event_days(counts: np.ndarray, intensity: np.ndarray, threshold: Threshold | None
                ) -> np.ndarray:
    """Which days are events: any event, or the threshold on counts or intensity."""
    if threshold is None:
        return counts > 0
    values = counts.astype(float) if threshold.measure == "count" else intensity
    if threshold.percentile is not None:
        bound = rolling_percentile(values, threshold.percentile, threshold.window_days)
    else:
        bound = np.full(values.shape, threshold.value)
    with np.errstate(invalid="ignore"):
        above = values >= bound if threshold.inclusive else values > bound
    return above & ~np.isnan(bound)


def rolling_percentile(values: np.ndarray, percentile: float, window_days: int) -> np.ndarray:
    """The ``percentile`` of the previous ``window_days`` values at each day (NaN until
    ``MIN_THRESHOLD_HISTORY_DAYS`` of history exist): a trailing window, so no look-ahead."""
    n = values.size
    padded = np.concatenate([np.full(window_days, np.nan), values.astype(float)])
    windows = np.lib.stride_tricks.sliding_window_view(padded[:-1], window_days)[:n]
    history = np.minimum(np.arange(n), window_days)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bound = np.nanpercentile(windows, percentile, axis=1)
    bound[history < MIN_THRESHOLD_HISTORY_DAYS] = np.nan
    return bound


def to_spark_sql(expr: ir.Expr) -> str:
    """The Spark SQL for ``expr`` (compiled by Ibis, transpiled by sqlglot), without needing
    pyspark installed: proof that an aggregation stays portable."""
    import sqlglot

    return sqlglot.transpile(str(ibis.to_sql(expr, dialect="duckdb")), read="duckdb",
                             write="spark")[0]
