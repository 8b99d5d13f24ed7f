"""Watches and alerts in the store: add, list and remove watches; record alerts once; list the
open ones a reader may see; acknowledge them.

An alert is unique per (watch, finding): ``record_alerts`` inserts only pairs not stored yet,
so the same episode found again by tomorrow's run does not alert twice (an acknowledged alert
stays acknowledged). Reads work on read-only stores written before the tables existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hybridwatch.errors import SelectorError, StoreError
from hybridwatch.model.tlp import readable_sql
from hybridwatch.model.watches import Watch
from hybridwatch.store.schema import WATCHES_DDL
from hybridwatch.store.store import EventStore

_WATCH_COLUMNS = ("watch_id", "name", "kind", "target", "domain", "threshold", "clearance",
                  "owner", "created_at")
_ALERT_COLUMNS = ("alert_id", "watch_id", "finding_id", "kind", "run_id", "tlp", "message",
                  "raised_at", "acknowledged_at", "acknowledged_by")


@dataclass(frozen=True)
class Alert:
    alert_id: int
    watch_id: int
    finding_id: str
    kind: str
    run_id: str
    tlp: str
    message: str
    raised_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    watch_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "watch_id": self.watch_id,
                "watch": self.watch_name, "finding_id": self.finding_id, "kind": self.kind,
                "run_id": self.run_id, "tlp": self.tlp, "message": self.message,
                "raised_at": self.raised_at.isoformat() + "Z",
                "acknowledged_at": (self.acknowledged_at.isoformat() + "Z"
                                    if self.acknowledged_at else None),
                "acknowledged_by": self.acknowledged_by, "open": self.acknowledged_at is None}


def _present(store: EventStore) -> bool:
    return store.has_table("watches") and store.has_table("alerts")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def add_watch(store: EventStore, *, name: str, kind: str, target: str | None,
              domain: str | None, threshold: float | None, clearance: str,
              owner: str) -> Watch:
    """Save a watch (its fields already checked by ``workflows.watches.new_watch``)."""
    store._con.execute(WATCHES_DDL)
    number = store._con.execute("SELECT coalesce(max(watch_id), 0) + 1 FROM watches"
                               ).fetchall()[0][0]
    now = _now()
    store._con.execute(f"INSERT INTO watches ({', '.join(_WATCH_COLUMNS)}) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [number, name, kind, target, domain, threshold, clearance, owner, now])
    return Watch(int(number), name, kind, target, domain, threshold, clearance, owner, now)


def list_watches(store: EventStore) -> list[Watch]:
    if not _present(store):
        return []
    rows = store._con.execute(f"SELECT {', '.join(_WATCH_COLUMNS)} FROM watches "
                             "ORDER BY watch_id").fetchall()
    return [Watch(*row) for row in rows]


def remove_watch(store: EventStore, watch_id: int) -> Watch:
    """Delete a watch and its alerts (``StoreError`` if there is no such watch)."""
    found = [w for w in list_watches(store) if w.watch_id == watch_id]
    if not found:
        raise StoreError(f"no watch {watch_id} in this store (`hybridwatch watch list`)")
    store._con.begin()
    try:
        store._con.execute("DELETE FROM alerts WHERE watch_id = ?", [watch_id])
        store._con.execute("DELETE FROM watches WHERE watch_id = ?", [watch_id])
        store._con.commit()
    except Exception:
        store._con.rollback()
        raise
    return found[0]


@dataclass(frozen=True)
class AlertCandidate:
    """A finding that matched a watch, before deduplication."""

    watch_id: int
    finding_id: str
    kind: str
    run_id: str
    tlp: str
    message: str


def record_alerts(store: EventStore, candidates: Sequence[AlertCandidate]) -> list[Alert]:
    """Store the candidates not alerted before (per watch and finding) in one transaction;
    returns the new alerts."""
    if not candidates:
        return []
    store._con.execute(WATCHES_DDL)
    now = _now()
    store._con.begin()
    try:
        start = store._con.execute("SELECT coalesce(max(alert_id), 0) FROM alerts"
                                  ).fetchall()[0][0]
        known = {(w, f) for w, f in store._con.execute(
            "SELECT watch_id, finding_id FROM alerts WHERE watch_id IN (SELECT unnest(?))",
            [sorted({c.watch_id for c in candidates})]).fetchall()}
        fresh: list[AlertCandidate] = []
        for c in candidates:
            if (c.watch_id, c.finding_id) not in known:
                known.add((c.watch_id, c.finding_id))
                fresh.append(c)
        rows = [(start + i + 1, c.watch_id, c.finding_id, c.kind, c.run_id, c.tlp, c.message,
                 now, None, None) for i, c in enumerate(fresh)]
        if rows:
            store._con.executemany(f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        store._con.commit()
    except Exception:
        store._con.rollback()
        raise
    return [Alert(*row) for row in rows]


def list_alerts(store: EventStore, *, clearance: str, include_acknowledged: bool = False,
                limit: int = 100, offset: int = 0) -> tuple[list[Alert], int, int]:
    """(alerts, total, withheld): the alerts a reader at ``clearance`` may see, newest first;
    ``withheld`` counts those above the clearance."""
    if not _present(store):
        return [], 0, 0
    open_only = "" if include_acknowledged else "AND a.acknowledged_at IS NULL"
    visible = readable_sql(clearance, "a.tlp")
    base = f"FROM alerts a LEFT JOIN watches w USING (watch_id) WHERE true {open_only}"
    total, withheld = store._con.execute(
        f"SELECT count(*) FILTER (WHERE {visible}), count(*) FILTER (WHERE NOT ({visible})) "
        f"{base}").fetchall()[0]
    rows = store._con.execute(
        f"SELECT {', '.join('a.' + c for c in _ALERT_COLUMNS)}, w.name {base} AND {visible} "
        "ORDER BY a.alert_id DESC LIMIT ? OFFSET ?", [limit, offset]).fetchall()
    return [Alert(*row) for row in rows], int(total), int(withheld)


def _one_alert(store: EventStore, alert_id: int, clearance: str) -> Alert | None:
    if not _present(store):
        return None
    rows = store._con.execute(
        f"SELECT {', '.join('a.' + c for c in _ALERT_COLUMNS)}, w.name FROM alerts a "
        f"LEFT JOIN watches w USING (watch_id) WHERE a.alert_id = ? "
        f"AND {readable_sql(clearance, 'a.tlp')}", [alert_id]).fetchall()
    return Alert(*rows[0]) if rows else None


def acknowledge_alert(store: EventStore, alert_id: int, *, by: str, clearance: str) -> Alert:
    """Mark an alert acknowledged (``StoreError`` if absent or above ``clearance``; acknowledging
    twice keeps the first acknowledgement)."""
    if not by.strip():
        raise SelectorError("say who acknowledges the alert")
    if _one_alert(store, alert_id, clearance) is None:
        raise StoreError(f"no alert {alert_id} within your clearance")
    store._con.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? "
                      "WHERE alert_id = ? AND acknowledged_at IS NULL",
                      [_now(), by.strip(), alert_id])
    done = _one_alert(store, alert_id, clearance)
    assert done is not None
    return done
