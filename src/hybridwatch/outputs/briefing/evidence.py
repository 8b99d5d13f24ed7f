"""Evidence for the annex: the events and articles behind findings, as the reader may see them.

Events above the briefing's TLP are withheld (counted, never shown); events outside the period
are left out. Articles carry no marking and are clear. Links are kept only for http(s) URLs, so
a source URL can never become a script or a local-file link in the briefing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from hybridwatch.model.actors import public_actor
from hybridwatch.model.event_titles import event_title
from hybridwatch.model.tlp import levels_readable_at
from hybridwatch.outputs.briefing.period import Period
from hybridwatch.store.store import EventStore


@dataclass(frozen=True)
class Evidence:
    """Rows to show, how many more matched, and how many the TLP withheld."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0
    withheld: int = 0


def safe_link(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (shown as text, never linked)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _allowed(clearance: str) -> list[str]:
    return list(levels_readable_at(clearance))


def _period_sql(column: str, period: Period | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if period and period.since:
        clauses.append(f"{column} >= ?")
        params.append(period.since)
    if period and period.until:
        clauses.append(f"{column} < ?")
        params.append(period.until)
    return (" AND ".join(clauses) or "TRUE"), params


def events(store: EventStore, event_ids: Sequence[str], *, clearance: str,
           period: Period | None, limit: int) -> Evidence:
    """Up to ``limit`` of the events, one per distinct headline, each domain in turn, the most
    informative first within a domain: titled, from curated sources (STIX, EUvsDisinfo …)
    before bulk news coding (GDELT), then oldest first. Shown in date order."""
    if not event_ids:
        return Evidence()
    in_period, params = _period_sql("occurred_at", period)
    allowed = _allowed(clearance)
    base = ("FROM events WHERE event_id IN (SELECT unnest(?)) AND " + in_period)
    counts = store.con.execute(
        f"SELECT count(*) FILTER (WHERE coalesce(tlp, 'clear') IN (SELECT unnest(?))), "
        f"count(*) FILTER (WHERE coalesce(tlp, 'clear') NOT IN (SELECT unnest(?))) {base}",
        [allowed, allowed, list(event_ids), *params]).fetchall()[0]
    # one row per distinct headline, then domains in turn, so every domain of an episode shows
    rows = store.con.execute(
        "SELECT event_id, occurred_at, domain, actor_iso3, actor_name, "
        "array_to_string(target_iso3s, ', '), source, "
        "source_name, source_type, title, source_url, tlp FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY domain ORDER BY title IS NULL, "
        "                               source = 'gdelt', occurred_at, event_id) AS turn FROM ("
        "    SELECT * REPLACE (coalesce(tlp, 'clear') AS tlp) "
        f"   {base} AND coalesce(tlp, 'clear') IN (SELECT unnest(?)) "
        "    QUALIFY row_number() OVER (PARTITION BY coalesce(title, event_id) "
        "                               ORDER BY occurred_at, event_id) = 1)) "
        "ORDER BY turn, domain LIMIT ?",
        [list(event_ids), *params, allowed, int(limit)]).fetchall()
    shown = [{"event_id": r[0], "date": r[1].date().isoformat(), "domain": r[2],
              "actor": public_actor(r[4], r[3], r[6]) or "", "target": r[5] or "",
              "source": r[6], "source_name": r[7] or r[6],
              "title": event_title(title=r[9], source=r[6], source_type=r[8], url=r[10]),
              "url": r[10], "link": safe_link(r[10]), "tlp": r[11]} for r in rows]
    shown.sort(key=lambda row: (row["date"], row["domain"], row["event_id"]))
    return Evidence(shown, more=counts[0] - len(shown), withheld=counts[1])


def articles(store: EventStore, article_ids: Sequence[str], *, period: Period | None,
             limit: int) -> Evidence:
    """Up to ``limit`` of the articles, one per distinct headline, taken in turn from each
    language so a sample shows every language the narrative ran in; shown in date order."""
    if not article_ids:
        return Evidence()
    in_period, params = _period_sql("published_at", period)
    base = "FROM articles WHERE article_id IN (SELECT unnest(?)) AND " + in_period
    total = store.con.execute(f"SELECT count(*) {base}",
                              [list(article_ids), *params]).fetchall()[0][0]
    rows = store.con.execute(
        "SELECT article_id, published_at, outlet, language, title, url FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY coalesce(language, '') "
        "                               ORDER BY published_at, article_id) AS turn "
        f"  {base} QUALIFY row_number() OVER (PARTITION BY coalesce(title, article_id) "
        "                                    ORDER BY published_at, article_id) = 1) "
        "ORDER BY turn, coalesce(language, ''), article_id LIMIT ?",
        [list(article_ids), *params, int(limit)]).fetchall()
    shown = [{"article_id": r[0], "date": r[1].date().isoformat(), "outlet": r[2],
              "language": r[3] or "", "title": r[4] or "(untitled)", "url": r[5],
              "link": safe_link(r[5]), "tlp": "clear"} for r in rows]
    shown.sort(key=lambda row: (row["date"], row["article_id"]))
    return Evidence(shown, more=total - len(shown))
