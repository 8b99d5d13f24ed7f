"""The reads behind the event views of the API and dashboard: keyset pages, counts, series, the
daily rollup; filtered by an ``EventFilter`` and a TLP clearance.

Pages use keyset pagination on ``(occurred_at, event_id)``: the cursor holds the last row's key,
so page 1,000 costs what page 1 costs (an OFFSET would scan everything before it), and DuckDB's
top-N prunes row groups by their ``occurred_at`` min/max (zonemaps). Series are one
``date_trunc`` aggregation in SQL — the same counts as ``analyses.series.event_counts``, which a
test checks — capped in periods and groups so no request can ask for a million points.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from hybridwatch.errors import SelectorError
from hybridwatch.model import gdelt_extra
from hybridwatch.model.event_titles import event_title
from hybridwatch.model.schema import EVENT_COLUMNS
from hybridwatch.model.targets import (
    TARGET_COLUMN,
    events_by_target_sql,
)
from hybridwatch.model.tlp import readable_sql
from hybridwatch.store.event_filter import EventFilter
from hybridwatch.store.event_rollups import (
    DOMAIN_DAYS, TLP_TOTALS_TABLE, rollup_for, visible_in_rollup,
)
from hybridwatch.store.store import EventStore

#: Columns of an event in a listing (``extra`` only in the single-event answer).
PAGE_COLUMNS = tuple(c for c in EVENT_COLUMNS if c != "extra")
#: Columns a series or count may be grouped by (``target_iso3``: an event counts once for each
#: target it names, events naming none under a null target).
GROUP_COLUMNS = ("domain", "target_iso3", "actor_iso3", "location_iso3", "source", "tlp")
FREQ_DAYS = {"day": 1, "week": 7, "month": 30.44, "year": 365.25}
#: The most periods one series answer may hold (a decade of days; use week/month beyond).
MAX_PERIODS = 4000
MAX_GROUPS = 50
def visible_clause(clearance: str) -> str:
    return readable_sql(clearance)


# -- pages -----------------------------------------------------------------------------------

def encode_cursor(occurred_at: datetime, event_id: str) -> str:
    raw = json.dumps([occurred_at.isoformat(), event_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, event_id = json.loads(raw)
        return datetime.fromisoformat(when), str(event_id)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise SelectorError("cursor: not a cursor this API gave out (use next_cursor "
                            "from the previous page)") from None


def event_page(store: EventStore, query: EventFilter, clearance: str, *, limit: int,
               cursor: str | None = None, descending: bool = False) -> tuple[list[dict], str | None]:
    """One page of visible events in (occurred_at, event_id) order, and the next cursor."""
    clause, params = query.where()
    clause += " AND " + visible_clause(clearance)
    if cursor:
        when, event_id = decode_cursor(cursor)
        # the first conjunct alone lets the scan skip row groups by zonemap
        op, bound = ("<", "<=") if descending else (">", ">=")
        clause += (f" AND occurred_at {bound} ? AND (occurred_at {op} ? OR "
                   f"(occurred_at = ? AND event_id {op} ?))")
        params += [when, when, when, event_id]
    direction = "DESC" if descending else "ASC"
    order = f"ORDER BY occurred_at {direction}, event_id {direction}"
    # late materialisation: find the page's row ids reading only the filter and key columns,
    # then fetch the wide rows of just those ids (3-4x faster than a top-N over every column)
    sql = (f"SELECT {', '.join(PAGE_COLUMNS)} FROM events WHERE rowid IN ("
           f"SELECT rowid FROM events WHERE {clause} {order} LIMIT {int(limit) + 1}) {order}")
    cur = store._con.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    events = [_jsonable_row(names, row) for row in rows]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(last[names.index("occurred_at")],
                                    last[names.index("event_id")])
    return events, next_cursor


def _jsonable_row(names: list[str], row: tuple) -> dict[str, Any]:
    """A row as JSON values, with ``display_title``: the event's title, else (GDELT) its CAMEO
    action and the link's headline, else its source type (``model.event_titles``)."""
    out = {}
    for name, value in zip(names, row):
        if isinstance(value, datetime):
            value = value.isoformat() + "Z"
        elif isinstance(value, float) and value != value:  # NaN is not JSON
            value = None
        out[name] = value
    if "title" in out and "source" in out:
        out["display_title"] = event_title(title=out.get("title"), source=out.get("source"),
                                           source_type=out.get("source_type"),
                                           url=out.get("source_url"))
    return out


def event_by_id(store: EventStore, event_id: str) -> dict[str, Any] | None:
    """One event with its ``extra`` (a GDELT event's from the side table, ``model.gdelt_extra``)."""
    columns = ", ".join(f"e.{c}" if c != "extra" else
                        f"{gdelt_extra.merged_extra_sql('e', 'x')} AS extra"
                        for c in EVENT_COLUMNS)
    cur = store._con.execute(f"SELECT {columns} FROM events e LEFT JOIN {gdelt_extra.TABLE} x "
                            "ON x.event_id = e.event_id WHERE e.event_id = ?", [event_id])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        return None
    event = _jsonable_row(names, rows[0])
    try:
        event["extra"] = json.loads(event["extra"]) if event["extra"] else {}
    except ValueError:
        pass  # keep the text as stored
    return event


def events_by_ids(store: EventStore, event_ids: list[str], clearance: str, *, limit: int,
                  offset: int = 0) -> tuple[list[dict], int, int]:
    """Visible events among ``event_ids`` (a page of them), visible total, and withheld count."""
    visible = visible_clause(clearance)
    counts = store._con.execute(
        f"SELECT count(*) FILTER (WHERE {visible}), count(*) FILTER (WHERE NOT {visible}) "
        "FROM events WHERE event_id IN (SELECT unnest(?))", [event_ids]).fetchall()[0]
    cur = store._con.execute(
        f"SELECT {', '.join(PAGE_COLUMNS)} FROM events WHERE event_id IN (SELECT unnest(?)) "
        f"AND {visible} ORDER BY occurred_at, event_id LIMIT {int(limit)} OFFSET {int(offset)}",
        [event_ids])
    names = [d[0] for d in cur.description]
    return [_jsonable_row(names, row) for row in cur.fetchall()], counts[0], counts[1]


def evidence_groups(store: EventStore, event_ids: list[str], clearance: str
                    ) -> list[dict[str, Any]]:
    """The visible events among ``event_ids`` grouped by domain and actor: events, first and
    last day, largest group first (the episode explorer's summary above its paged list)."""
    rows = store._con.execute(
        "SELECT domain, coalesce(actor_iso3, actor_name) AS actor, count(*)::BIGINT, "
        "min(occurred_at)::DATE, max(occurred_at)::DATE FROM events "
        f"WHERE event_id IN (SELECT unnest(?)) AND {visible_clause(clearance)} "
        "GROUP BY ALL ORDER BY 3 DESC, 1, 2 NULLS LAST", [event_ids]).fetchall()
    return [{"domain": d, "actor": a, "n_events": int(n), "first_day": f.isoformat(),
             "last_day": last.isoformat()} for d, a, n, f, last in rows]


def _source(query: EventFilter, by: str | None, rollup: bool, clearance: str
            ) -> tuple[str, str, str, str, list[Any]]:
    """(table, count expression, intensity-sum expression, condition, its parameters) for an
    aggregate of the events visible at ``clearance``: the smallest daily rollup that answers
    the query exactly (``store.event_rollups``), else the events table; by target, one row per
    (event, target) of either."""
    table, n = "events", "count(*)"
    chosen = rollup_for(query, by) if rollup else None
    if chosen:
        table, clause, params = chosen
        n = "sum(n_events)"
        clause += " AND " + visible_in_rollup(clearance)
    else:
        clause, params = query.where()
        clause += " AND " + visible_clause(clearance)
    if by == TARGET_COLUMN:
        table = events_by_target_sql(table, keep_untargeted=True) + " AS by_target"
    return table, n, "sum(intensity)", clause, params


def count_events(store: EventStore, query: EventFilter, clearance: str, *,
                 rollup: bool = False) -> tuple[int, int]:
    """(visible events matching ``query``, events withheld in the whole store: see
    ``withheld_events``)."""
    return (count_visible(store, query, clearance, rollup=rollup),
            withheld_events(store, clearance, rollup=rollup))


def count_visible(store: EventStore, query: EventFilter, clearance: str, *,
                  rollup: bool = False) -> int:
    """Visible events matching ``query``."""
    table, n, _, clause, params = _source(query, None, rollup, clearance)
    return int(store._con.execute(f"SELECT coalesce({n}, 0) FROM {table} WHERE {clause}",
                                  params).fetchall()[0][0])


def withheld_events(store: EventStore, clearance: str, *, rollup: bool = False) -> int:
    """The events above ``clearance`` in the whole store, never filtered.

    Why unfiltered: a count of withheld events that matches the caller's filters is an oracle
    (``actor_name=Secret`` withholding 1 and ``actor_name=Nobody`` withholding 0 reveals a RED
    actor's name, day, target and source in a few requests). One number per clearance teaches
    nothing that a filter can narrow (docs/security.md, "No oracle in aggregates")."""
    table, n, visible = ((TLP_TOTALS_TABLE, "sum(n_events)", visible_in_rollup(clearance))
                         if rollup else ("events", "count(*)", visible_clause(clearance)))
    return int(store._con.execute(
        f"SELECT coalesce({n}, 0) FROM {table} WHERE NOT {visible}").fetchall()[0][0])


def count_by(store: EventStore, query: EventFilter, clearance: str, by: str, *,
             limit: int = 300, rollup: bool = False) -> list[dict[str, Any]]:
    """Visible events per value of ``by``, largest first."""
    if by not in GROUP_COLUMNS:
        raise SelectorError(f"by: one of {', '.join(GROUP_COLUMNS)}")
    table, n, _, clause, params = _source(query, by, rollup, clearance)
    key = "coalesce(tlp, 'clear')" if by == "tlp" else by
    rows = store._con.execute(
        f"SELECT {key} AS k, {n}::BIGINT AS n FROM {table} WHERE {clause} "
        f"GROUP BY k ORDER BY n DESC, k NULLS LAST LIMIT {int(limit)}", params).fetchall()
    return [{"key": k, "n_events": n} for k, n in rows]


def actor_target_counts(store: EventStore, query: EventFilter, clearance: str, *,
                        limit: int = 200) -> tuple[list[dict[str, Any]], int]:
    """Who acts against whom: visible events per (actor country, target country, domain),
    largest first (an event naming several targets counts once for each; events without an
    actor or a target country are left out), and how many such links there are in all."""
    clause, params = query.where()
    table = events_by_target_sql("events") + " AS by_target"
    rows = store._con.execute(
        f"SELECT actor_iso3, {TARGET_COLUMN}, domain, count(*)::BIGINT AS n, "
        f"count(*) OVER ()::BIGINT AS links FROM {table} WHERE {clause} "
        f"AND {visible_clause(clearance)} AND actor_iso3 IS NOT NULL "
        f"AND {TARGET_COLUMN} IS NOT NULL AND actor_iso3 <> {TARGET_COLUMN} "
        f"GROUP BY ALL ORDER BY n DESC, actor_iso3, {TARGET_COLUMN}, domain "
        f"LIMIT {int(limit)}", params).fetchall()
    return ([{"actor": a, "target": t, "domain": d, "n_events": int(n)}
             for a, t, d, n, _ in rows], int(rows[0][4]) if rows else 0)


# -- series ----------------------------------------------------------------------------------

def span(store: EventStore, clearance: str) -> tuple[datetime | None, datetime | None]:
    """First and last visible event: a span over every event would let a withheld one at the
    edge show through the period check's answer."""
    row = store._con.execute("SELECT min(occurred_at), max(occurred_at) FROM events WHERE "
                            f"{visible_clause(clearance)}").fetchall()
    return row[0][0], row[0][1]


def check_periods(freq: str, query: EventFilter, store_span: tuple) -> int:
    """The number of periods the answer may hold; a clear error beyond ``MAX_PERIODS``."""
    if freq not in FREQ_DAYS:
        raise SelectorError(f"freq: one of {', '.join(FREQ_DAYS)}")
    first = query.since or store_span[0]
    last = query.until or (store_span[1] + timedelta(days=1) if store_span[1] else None)
    if first is None or last is None or last <= first:
        return 0
    periods = int((last - first).total_seconds() / 86400 / FREQ_DAYS[freq]) + 1
    if periods > MAX_PERIODS:
        raise SelectorError(f"freq: {freq} over {first.date()} … {last.date()} gives ~{periods} "
                            f"periods (at most {MAX_PERIODS}): use a coarser freq or narrow "
                            "since/until")
    return periods


def series(store: EventStore, query: EventFilter, clearance: str, *, freq: str,
           by: str | None, max_groups: int, rollup: bool = False,
           intensity: bool = False, withheld: int | None = None) -> dict[str, Any]:
    """Visible events per period (and per ``by`` value; beyond the ``max_groups`` largest the
    rest is summed as ``(other)``): ``periods`` (ISO dates of the periods' starts, those with
    events), ``groups`` and ``counts[group][period]``; with ``intensity`` also the sums; and
    ``withheld``, the store's events above ``clearance`` (never filtered: ``withheld_events``;
    pass it when known)."""
    if by is not None and by not in GROUP_COLUMNS:
        raise SelectorError(f"by: one of {', '.join(GROUP_COLUMNS)}")
    table, n, total, clause, params = _source(query, by, rollup, clearance)
    key = "NULL" if by is None else ("coalesce(tlp, 'clear')" if by == "tlp" else by)
    weight = "n_events" if n == "sum(n_events)" else "1"  # the rollup: rows weigh their events
    sql = f"""
        WITH f AS (SELECT date_trunc('{freq}', occurred_at) AS period, {key} AS k, intensity,
                          {weight} AS w
                   FROM {table} WHERE {clause}),
             top AS (SELECT k FROM f GROUP BY k ORDER BY sum(w) DESC, k NULLS LAST
                     LIMIT {int(max_groups)})
        SELECT period, CASE WHEN k IN (SELECT k FROM top) OR (k IS NULL AND EXISTS
                                 (SELECT 1 FROM top WHERE k IS NULL)) THEN k
                            ELSE '(other)' END AS g,
               sum(w)::BIGINT AS n, sum(intensity) AS s
        FROM f GROUP BY ALL ORDER BY period, g NULLS LAST"""
    if by is None:  # one series: no ranking of groups
        sql = (f"SELECT date_trunc('{freq}', occurred_at) AS period, NULL AS g, "
               f"{n}::BIGINT AS n, {total} AS s FROM {table} WHERE {clause} "
               "GROUP BY ALL ORDER BY period")
    rows = store._con.execute(sql, params).fetchall()
    if withheld is None:  # the store's events above the clearance, whatever the query
        withheld = withheld_events(store, clearance, rollup=rollup)
    # dense and columnar: one row of counts per group, aligned with ``periods`` (a quarter of
    # the bytes of one object per point, and what a chart draws directly)
    periods = sorted({p.isoformat()[:10] for p, *_ in rows})
    column = {p: i for i, p in enumerate(periods)}
    groups = sorted({g for _, g, _, _ in rows}, key=lambda k: (k is None, k == "(other)",
                                                              str(k)))
    row_of = {g: i for i, g in enumerate(groups)}
    counts = [[0] * len(periods) for _ in groups]
    sums: list[list[float | None]] = [[None] * len(periods) for _ in groups]
    for p, g, n, total in rows:
        i, j = row_of[g], column[p.isoformat()[:10]]
        counts[i][j] = int(n)
        sums[i][j] = None if total is None or total != total else round(float(total), 6)
    return {"freq": freq, "by": by, "periods": periods, "groups": groups, "counts": counts,
            "intensity_sum": sums if intensity else None, "withheld": int(withheld)}


def rollup_totals(store: EventStore, clearance: str) -> tuple[int, int, Any, Any]:
    """From the daily rollups: events visible at ``clearance``, events withheld above it, and
    the first and last visible day."""
    visible = visible_in_rollup(clearance)
    return tuple(store._con.execute(
        f"SELECT coalesce(sum(n_events) FILTER (WHERE {visible}), 0), "
        f"coalesce(sum(n_events) FILTER (WHERE NOT {visible}), 0), "
        f"min(occurred_at) FILTER (WHERE {visible}), max(occurred_at) FILTER (WHERE {visible}) "
        f"FROM {DOMAIN_DAYS.table}").fetchall()[0])
