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
from hybridwatch.store.briefing_reads import article_sample, event_sample
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


def events(store: EventStore, event_ids: Sequence[str], *, clearance: str,
           period: Period | None, limit: int) -> Evidence:
    """Up to ``limit`` of the events, one per distinct headline, each domain in turn, the most
    informative first within a domain: titled, from curated sources (STIX, EUvsDisinfo …)
    before bulk news coding (GDELT), then oldest first. Shown in date order."""
    if not event_ids:
        return Evidence()
    rows, visible, withheld = event_sample(
        store, event_ids, levels=_allowed(clearance), since=period and period.since,
        until=period and period.until, limit=limit)
    shown = [{"event_id": r[0], "date": r[1].date().isoformat(), "domain": r[2],
              "actor": public_actor(r[4], r[3], r[6]) or "", "target": r[5] or "",
              "source": r[6], "source_name": r[7] or r[6],
              "title": event_title(title=r[9], source=r[6], source_type=r[8], url=r[10]),
              "url": r[10], "link": safe_link(r[10]), "tlp": r[11]} for r in rows]
    shown.sort(key=lambda row: (row["date"], row["domain"], row["event_id"]))
    return Evidence(shown, more=visible - len(shown), withheld=withheld)


def articles(store: EventStore, article_ids: Sequence[str], *, period: Period | None,
             limit: int) -> Evidence:
    """Up to ``limit`` of the articles, one per distinct headline, taken in turn from each
    language so a sample shows every language the narrative ran in; shown in date order."""
    if not article_ids:
        return Evidence()
    rows, total = article_sample(store, article_ids, since=period and period.since,
                                 until=period and period.until, limit=limit)
    shown = [{"article_id": r[0], "date": r[1].date().isoformat(), "outlet": r[2],
              "language": r[3] or "", "title": r[4] or "(untitled)", "url": r[5],
              "link": safe_link(r[5]), "tlp": "clear"} for r in rows]
    shown.sort(key=lambda row: (row["date"], row["article_id"]))
    return Evidence(shown, more=total - len(shown))
