"""A finding's evidence summarised for the body of a briefing: who did what to whom, by day and
domain, with counts — the event-by-event list stays in the annex.

Each group names what happened in words (``model.event_titles``: a GDELT event's CAMEO action,
else the event's title), its distinct kinds listed once ("Criticize or denounce, Accuse"), so a
day with forty GDELT protest reports reads as one line with "40 events", not forty URLs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hybridwatch.model.event_titles import event_title
from hybridwatch.model.phrasing import count, join_words
from hybridwatch.model.tlp import levels_readable_at
from hybridwatch.outputs.briefing.period import Period
from hybridwatch.store.evidence_queries import EXAMPLES_PER_GROUP, evidence_groups
from hybridwatch.store.store import EventStore

#: Groups shown per finding in the body; the rest are counted.
GROUPS_SHOWN = 12


def _what(examples: list[dict[str, Any]]) -> list[str]:
    """Distinct descriptions of a group's events, in order of first appearance (titles of
    GDELT events say what the CAMEO action is, without the link's headline)."""
    seen: dict[str, None] = {}
    for e in examples:
        text = event_title(title=e["title"], source=e["source"], source_type=e["source_type"])
        seen.setdefault(text, None)
    return list(seen)


def summarise(store: EventStore, event_ids: Sequence[str], *, clearance: str,
              period: Period | None = None, limit: int = GROUPS_SHOWN) -> dict[str, Any]:
    """Rows (``day``, ``who`` "RUS → POL", ``domain``, ``n``, ``what``) for the events the
    reader may see, the totals by domain and by actor in words, and how many groups are not
    shown."""
    groups = evidence_groups(store, event_ids, levels=levels_readable_at(clearance),
                             since=period.since if period else None,
                             until=period.until if period else None)
    rows = []
    for g in groups:
        kinds = _what(g["examples"])
        shown = kinds[:EXAMPLES_PER_GROUP]
        more = len(kinds) - len(shown)
        rows.append({"day": g["day"].isoformat(), "who": f"{g['actor'] or '?'} → "
                                                         f"{g['targets'] or '?'}",
                     "domain": g["domain"], "n": g["n"], "n_text": count(g["n"], "event"),
                     "what": "; ".join(shown) + (f"; {count(more, 'other kind')}" if more else ""),
                     "sources": ", ".join(g["sources"])})
    by_domain, by_actor = Counter(), Counter()
    for g in groups:
        by_domain[g["domain"]] += g["n"]
        by_actor[g["actor"] or "?"] += g["n"]
    total = sum(by_domain.values())
    return {
        "rows": rows[:limit], "more_groups": max(len(rows) - limit, 0), "total": total,
        "total_text": count(total, "event"),
        "by_domain_text": join_words(f"{d} {n:,}" for d, n in by_domain.most_common()),
        "by_actor_text": join_words(f"{a} {n:,}" for a, n in by_actor.most_common()),
        "n_days": len({g["day"] for g in groups}),
    }
