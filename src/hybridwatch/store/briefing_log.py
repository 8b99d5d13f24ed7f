"""The briefings written from a store, and the runs each used: so a briefing can say what
changed since the last one (``hybridwatch brief`` records each briefing it writes)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from hybridwatch.store.schema import BRIEFINGS_DDL
from hybridwatch.store.store import EventStore



def _present(store: EventStore) -> bool:
    return bool(store._con.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_name = 'briefing_log'").fetchall()[0][0])


def record_briefing(store: EventStore, tlp: str, runs: dict[str, str | None]) -> int:
    """Log a briefing written at ``tlp`` from ``runs``; returns its number."""
    store._con.execute(BRIEFINGS_DDL)
    number = store._con.execute("SELECT coalesce(max(briefing_id), 0) + 1 FROM briefing_log"
                               ).fetchall()[0][0]
    store._con.execute("INSERT INTO briefing_log VALUES (?, ?, ?, ?)",
                      [number, datetime.now(timezone.utc).replace(tzinfo=None), tlp,
                       json.dumps(runs, sort_keys=True)])
    return int(number)


def last_briefing(store: EventStore) -> dict[str, Any] | None:
    """The last briefing logged: its number, time, TLP and the runs it used (None: none yet)."""
    if not _present(store):
        return None
    rows = store._con.execute("SELECT briefing_id, created_at, tlp, runs FROM briefing_log "
                             "ORDER BY briefing_id DESC LIMIT 1").fetchall()
    if not rows:
        return None
    number, created_at, tlp, runs = rows[0]
    return {"briefing": int(number), "created_at": created_at, "tlp": tlp,
            "runs": json.loads(runs)}
