"""Named reads the briefing renders: samples of the evidence behind a finding, and the coverage
table (events per source, articles per language, files read), each within a period and at the
TLP levels the reader may see (``levels``: from ``model.tlp.levels_readable_at``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hybridwatch.model.targets import count_distinct_targets_sql
from hybridwatch.store.store import EventStore

READABLE = "coalesce(tlp, 'clear') IN (SELECT unnest(?))"
NOT_READABLE = "coalesce(tlp, 'clear') NOT IN (SELECT unnest(?))"


def period_sql(column: str, since: datetime | None, until: datetime | None
               ) -> tuple[str, list[Any]]:
    """``since <= column < until`` as SQL with parameters (either bound may be missing)."""
    clauses, params = ["TRUE"], []
    if since:
        clauses.append(f"{column} >= ?")
        params.append(since)
    if until:
        clauses.append(f"{column} < ?")
        params.append(until)
    return " AND ".join(clauses), params


def event_sample(store: EventStore, event_ids: Sequence[str], *, levels: Sequence[str],
                 since: datetime | None, until: datetime | None, limit: int
                 ) -> tuple[list[tuple], int, int]:
    """Up to ``limit`` of the events, one per distinct headline, each domain in turn, the most
    informative first within a domain (titled, curated sources before GDELT, then oldest);
    with how many of them the reader may see and how many are withheld. Rows: ``(event_id,
    occurred_at, domain, actor_iso3, actor_name, targets, source, source_name, source_type,
    title, source_url, tlp)``."""
    in_period, params = period_sql("occurred_at", since, until)
    levels = list(levels)
    base = "FROM events WHERE event_id IN (SELECT unnest(?)) AND " + in_period
    visible, withheld = store._con.execute(
        f"SELECT count(*) FILTER (WHERE {READABLE}), count(*) FILTER (WHERE {NOT_READABLE}) "
        f"{base}", [levels, levels, list(event_ids), *params]).fetchall()[0]
    # one row per distinct headline, then domains in turn, so every domain of an episode shows
    rows = store._con.execute(
        "SELECT event_id, occurred_at, domain, actor_iso3, actor_name, "
        "array_to_string(target_iso3s, ', '), source, "
        "source_name, source_type, title, source_url, tlp FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY domain ORDER BY title IS NULL, "
        "                               source = 'gdelt', occurred_at, event_id) AS turn FROM ("
        "    SELECT * REPLACE (coalesce(tlp, 'clear') AS tlp) "
        f"   {base} AND {READABLE} "
        "    QUALIFY row_number() OVER (PARTITION BY coalesce(title, event_id) "
        "                               ORDER BY occurred_at, event_id) = 1)) "
        "ORDER BY turn, domain LIMIT ?",
        [list(event_ids), *params, levels, int(limit)]).fetchall()
    return rows, visible, withheld


def article_sample(store: EventStore, article_ids: Sequence[str], *, since: datetime | None,
                   until: datetime | None, limit: int) -> tuple[list[tuple], int]:
    """Up to ``limit`` of the articles, one per distinct headline, taken in turn from each
    language; with how many there are. Rows: ``(article_id, published_at, outlet, language,
    title, url)``."""
    in_period, params = period_sql("published_at", since, until)
    base = "FROM articles WHERE article_id IN (SELECT unnest(?)) AND " + in_period
    total = store._con.execute(f"SELECT count(*) {base}",
                              [list(article_ids), *params]).fetchall()[0][0]
    rows = store._con.execute(
        "SELECT article_id, published_at, outlet, language, title, url FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY coalesce(language, '') "
        "                               ORDER BY published_at, article_id) AS turn "
        f"  {base} QUALIFY row_number() OVER (PARTITION BY coalesce(title, article_id) "
        "                                    ORDER BY published_at, article_id) = 1) "
        "ORDER BY turn, coalesce(language, ''), article_id LIMIT ?",
        [list(article_ids), *params, int(limit)]).fetchall()
    return rows, total


def withheld_event_count(store: EventStore, event_ids: Sequence[str], *,
                         levels: Sequence[str], since: datetime | None,
                         until: datetime | None) -> int:
    """How many of the events in the period the reader may not see."""
    clause, params = period_sql("occurred_at", since, until)
    return store._con.execute(
        "SELECT count(DISTINCT event_id) FROM events WHERE event_id IN (SELECT unnest(?)) "
        f"AND {NOT_READABLE} AND {clause}",
        [list(event_ids), list(levels), *params]).fetchall()[0][0]


def coverage_rows(store: EventStore, *, levels: Sequence[str], since: datetime | None,
                  until: datetime | None) -> dict[str, Any]:
    """The raw rows of the briefing's coverage table: ``sources`` (source, events, first,
    last, domains, targets, domain names) of readable events, ``above`` (events withheld),
    ``languages`` (language, articles, outlets, first, last), ``files`` (the ingest log; hash
    and size None for a file holding events the reader may not see) and ``quarantined``.""" 
    clause, params = period_sql("occurred_at", since, until)
    levels = list(levels)
    sources = store._con.execute(
        "SELECT source, count(*), min(occurred_at)::DATE, max(occurred_at)::DATE, "
        f"count(DISTINCT domain), {count_distinct_targets_sql()}, "
        "string_agg(DISTINCT domain, ', ' ORDER BY domain) FROM events "
        f"WHERE {READABLE} AND {clause} "
        "GROUP BY source ORDER BY count(*) DESC, source", [levels, *params]).fetchall()
    # the events withheld: one number for the whole store, never narrowed by the period (a
    # count of hidden events in a chosen period would date them: docs/security.md)
    above = store._con.execute(f"SELECT count(*) FROM events WHERE {NOT_READABLE}",
                              [levels]).fetchall()[0][0]
    a_clause, a_params = period_sql("published_at", since, until)
    languages = store._con.execute(
        "SELECT coalesce(language, '?'), count(*), count(DISTINCT outlet), "
        f"min(published_at)::DATE, max(published_at)::DATE FROM articles WHERE {a_clause} "
        "GROUP BY ALL ORDER BY count(*) DESC", a_params).fetchall()
    # a file holding events above the reader's clearance: its hash and size would tell them
    # apart (and their length), so both are withheld and only its visible records counted; a
    # file with nothing visible is not listed
    files = store._con.execute(
        "WITH hidden AS (SELECT ingest_id, count(*) AS n FROM events "
        f"WHERE {NOT_READABLE} GROUP BY ingest_id) "
        "SELECT path, format, CASE WHEN h.n IS NULL THEN fingerprint END, "
        "CASE WHEN h.n IS NULL THEN size_bytes END, greatest(ingested - coalesce(h.n, 0), 0), "
        "duplicates, quarantined, finished_at FROM ingest_log l LEFT JOIN hidden h "
        "USING (ingest_id) WHERE h.n IS NULL OR ingested > h.n ORDER BY ingest_id",
        [levels]).fetchall()
    quarantined = store._con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
    return {"sources": sources, "above": above, "languages": languages, "files": files,
            "quarantined": quarantined}
