"""Evidence events of a finding grouped by day, actor, target and domain, with counts.

A finding can rest on hundreds of events (a GDELT-heavy episode); a reader scans them by who did
what to whom, on which day. One query groups them; the caller words the groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hybridwatch.store.store import EventStore

#: Examples kept per group (the earliest, distinct by title and code).
EXAMPLES_PER_GROUP = 3


def evidence_groups(store: EventStore, event_ids: Sequence[str], *, levels: Sequence[str],
                    since: datetime | None = None, until: datetime | None = None
                    ) -> list[dict[str, Any]]:
    """The events among ``event_ids`` marked at one of ``levels`` (and in ``[since, until)``),
    one row per (day, actor, targets, domain): ``day``, ``actor``, ``targets``, ``domain``,
    ``n``, ``sources`` and ``examples`` (dicts of ``title``, ``source``, ``source_type``,
    ``url``), by day, then the largest group first."""
    if not event_ids:
        return []
    rows = store._con.execute(
        """
        SELECT CAST(occurred_at AS DATE) AS day,
               coalesce(actor_iso3, actor_name, '') AS actor,
               array_to_string(target_iso3s, ', ') AS targets, domain, count(*) AS n,
               list(DISTINCT source ORDER BY source) AS sources,
               list(struct_pack(title := title, source := source, source_type := source_type,
                                url := source_url)
                    ORDER BY title IS NULL, occurred_at, event_id) AS examples
        FROM events
        WHERE event_id IN (SELECT unnest(?)) AND coalesce(tlp, 'clear') IN (SELECT unnest(?))
          AND (? IS NULL OR occurred_at >= ?) AND (? IS NULL OR occurred_at < ?)
        GROUP BY ALL ORDER BY day, n DESC, actor, targets, domain""",
        [list(event_ids), list(levels), since, since, until, until]).fetchall()
    return [{"day": day, "actor": actor, "targets": targets, "domain": domain, "n": n,
             "sources": list(sources), "examples": list(examples)}
            for day, actor, targets, domain, n, sources, examples in rows]
