"""Watches and alerts in the store: add, list and remove watches; record alerts once; list the
open ones a reader may see; acknowledge them; the webhooks of watches and the log of alert
deliveries.

An alert is unique per (watch, finding): ``record_alerts`` inserts only pairs not stored yet,
so the same episode found again by tomorrow's run does not alert twice (an acknowledged alert
stays acknowledged). Reads work on read-only stores written before the tables existed.

A watch's webhook (``watch_webhooks``: URL, private-address permission, signing secret) is a
credential: ``list_watches`` gives the URL, only ``webhook_secret`` reads the secret. An alert
of a watch with a webhook is *pending* until ``alert_deliveries`` holds a ``delivered`` (or
``withheld``) row for it; every attempt is one row (``record_delivery_attempts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from hybridwatch.errors import SelectorError, StoreError
from hybridwatch.model.tlp import most_restricted, readable
from hybridwatch.model.watches import Watch
from hybridwatch.store.findings_store import levels_now as finding_levels_now
from hybridwatch.store.schema import WATCHES_DDL, WEBHOOKS_DDL
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
    #: for an alert of a watch with a webhook: ``state`` (pending, delivered, failed,
    #: withheld), ``attempts``, ``last_attempt_at``, ``http_status``, ``error``; else None
    delivery: dict[str, Any] | None = None

    def to_dict(self, *, delivery: bool = True) -> dict[str, Any]:
        """The alert as the API and ``watch alerts --json`` give it; ``delivery=False`` leaves
        the delivery state out (the webhook payload: it is the delivery)."""
        out = {"alert_id": self.alert_id, "watch_id": self.watch_id,
               "watch": self.watch_name, "finding_id": self.finding_id, "kind": self.kind,
               "run_id": self.run_id, "tlp": self.tlp, "message": self.message,
               "raised_at": self.raised_at.isoformat() + "Z",
               "acknowledged_at": (self.acknowledged_at.isoformat() + "Z"
                                   if self.acknowledged_at else None),
               "acknowledged_by": self.acknowledged_by, "open": self.acknowledged_at is None}
        if delivery:
            out["delivery"] = self.delivery
        return out


def _present(store: EventStore) -> bool:
    return store.has_table("watches") and store.has_table("alerts")


def _webhooks_present(store: EventStore) -> bool:
    return store.has_table("watch_webhooks") and store.has_table("alert_deliveries")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def add_watch(store: EventStore, *, name: str, kind: str, target: str | None,
              domain: str | None, threshold: float | None, clearance: str,
              owner: str, webhook_url: str | None = None, webhook_allow_private: bool = False,
              webhook_secret: str | None = None) -> Watch:
    """Save a watch (its fields already checked by ``workflows.watches.new_watch``), with its
    webhook when ``webhook_url`` is given (then ``webhook_secret`` is required)."""
    if webhook_url is not None and not webhook_secret:
        raise ValueError("a webhook needs its signing secret")
    store._con.execute(WATCHES_DDL + WEBHOOKS_DDL)
    now = _now()
    store._con.begin()
    try:
        number = store._con.execute("SELECT coalesce(max(watch_id), 0) + 1 FROM watches"
                                   ).fetchall()[0][0]
        store._con.execute(f"INSERT INTO watches ({', '.join(_WATCH_COLUMNS)}) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          [number, name, kind, target, domain, threshold, clearance, owner,
                           now])
        if webhook_url is not None:
            store._con.execute("DELETE FROM watch_webhooks WHERE watch_id = ?", [number])
            store._con.execute("INSERT INTO watch_webhooks (watch_id, url, allow_private, "
                              "secret, created_at) VALUES (?, ?, ?, ?, ?)",
                              [number, webhook_url, webhook_allow_private, webhook_secret,
                               now])
        store._con.commit()
    except Exception:
        store._con.rollback()
        raise
    return Watch(int(number), name, kind, target, domain, threshold, clearance, owner, now,
                 webhook_url=webhook_url, webhook_allow_private=webhook_allow_private)


def list_watches(store: EventStore) -> list[Watch]:
    if not _present(store):
        return []
    columns = ", ".join("w." + c for c in _WATCH_COLUMNS)
    if store.has_table("watch_webhooks"):
        rows = store._con.execute(f"SELECT {columns}, h.url, coalesce(h.allow_private, false) "
                                 "FROM watches w LEFT JOIN watch_webhooks h USING (watch_id) "
                                 "ORDER BY w.watch_id").fetchall()
    else:
        rows = store._con.execute(f"SELECT {columns}, NULL, false FROM watches w "
                                 "ORDER BY w.watch_id").fetchall()
    return [Watch(*row[:-2], webhook_url=row[-2], webhook_allow_private=bool(row[-1]))
            for row in rows]


def webhook_secret(store: EventStore, watch_id: int) -> str | None:
    """The signing secret of a watch's webhook (None: the watch has no webhook)."""
    if not store.has_table("watch_webhooks"):
        return None
    rows = store._con.execute("SELECT secret FROM watch_webhooks WHERE watch_id = ?",
                             [watch_id]).fetchall()
    return rows[0][0] if rows else None


def webhook_of(store: EventStore, watch_id: int) -> tuple[Watch, str]:
    """A watch with a webhook, and its signing secret: ``StoreError`` if there is no such
    watch, ``SelectorError`` if it has no webhook."""
    found = [w for w in list_watches(store) if w.watch_id == watch_id]
    if not found:
        raise StoreError(f"no watch {watch_id} in this store (`hybridwatch watch list`)")
    secret = webhook_secret(store, watch_id)
    if found[0].webhook_url is None or not secret:
        raise SelectorError(f"watch {watch_id} has no webhook: remove it and add it again with "
                            "--webhook URL (`hybridwatch watch add --help`)")
    return found[0], secret


def replace_webhook_secret(store: EventStore, watch_id: int, secret: str) -> Watch:
    """Make ``secret`` the signing secret of a watch's webhook (errors as ``webhook_of``); the
    old secret is overwritten, not kept."""
    if not secret:
        raise ValueError("a webhook needs its signing secret")
    watch, _ = webhook_of(store, watch_id)
    store._con.execute("UPDATE watch_webhooks SET secret = ? WHERE watch_id = ?",
                      [secret, watch_id])
    return watch


def remove_watch(store: EventStore, watch_id: int) -> Watch:
    """Delete a watch, its alerts, its webhook and their deliveries (``StoreError`` if there is
    no such watch)."""
    found = [w for w in list_watches(store) if w.watch_id == watch_id]
    if not found:
        raise StoreError(f"no watch {watch_id} in this store (`hybridwatch watch list`)")
    store._con.begin()
    try:
        if _webhooks_present(store):
            store._con.execute("DELETE FROM alert_deliveries WHERE watch_id = ?", [watch_id])
            store._con.execute("DELETE FROM watch_webhooks WHERE watch_id = ?", [watch_id])
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


def _alert_select(store: EventStore) -> tuple[str, str]:
    """(columns, joins) reading alerts with their watch's name and delivery state."""
    columns = ", ".join("a." + c for c in _ALERT_COLUMNS) + ", w.name"
    joins = "FROM alerts a LEFT JOIN watches w USING (watch_id)"
    if _webhooks_present(store):
        columns += (", h.url IS NOT NULL, d.attempts, d.delivered, d.withheld, d.last_at, "
                    "d.last_http_status, d.last_error")
        joins += (" LEFT JOIN watch_webhooks h ON h.watch_id = a.watch_id LEFT JOIN ("
                  "SELECT alert_id, count(*) FILTER (WHERE attempt > 0) AS attempts, "
                  "bool_or(status = 'delivered') AS delivered, "
                  "bool_or(status = 'withheld') AS withheld, max(attempted_at) AS last_at, "
                  "arg_max(http_status, (attempted_at, attempt)) AS last_http_status, "
                  "arg_max(error, (attempted_at, attempt)) AS last_error "
                  "FROM alert_deliveries GROUP BY alert_id) d ON d.alert_id = a.alert_id")
    else:
        columns += ", false, NULL, NULL, NULL, NULL, NULL, NULL"
    return columns, joins


def _alert_of(row: Sequence[Any]) -> Alert:
    n = len(_ALERT_COLUMNS) + 1
    has_webhook, attempts, delivered, withheld, last_at, http_status, error = row[n:]
    delivery = None
    if has_webhook or attempts:
        state = ("delivered" if delivered else "withheld" if withheld
                 else "failed" if attempts else "pending")
        delivery = {"state": state, "attempts": int(attempts or 0),
                    "last_attempt_at": last_at.isoformat() + "Z" if last_at else None,
                    "http_status": http_status, "error": None if delivered else error}
    return Alert(*row[:n], delivery=delivery)


def list_alerts(store: EventStore, *, clearance: str, include_acknowledged: bool = False,
                limit: int = 100, offset: int = 0) -> tuple[list[Alert], int, int]:
    """(alerts, total, withheld): the alerts a reader at ``clearance`` may see, newest first,
    each at its level now (``levels_now``); ``withheld`` counts those above the clearance."""
    if not _present(store):
        return [], 0, 0
    open_only = "" if include_acknowledged else "WHERE a.acknowledged_at IS NULL"
    columns, joins = _alert_select(store)
    every = levels_now(store, [_alert_of(row) for row in store._con.execute(
        f"SELECT {columns} {joins} {open_only} ORDER BY a.alert_id DESC").fetchall()])
    shown = [alert for alert in every if readable(alert.tlp, clearance)]
    return shown[offset:offset + limit], len(shown), len(every) - len(shown)


def _one_alert(store: EventStore, alert_id: int, clearance: str) -> Alert | None:
    if not _present(store):
        return None
    columns, joins = _alert_select(store)
    rows = store._con.execute(f"SELECT {columns} {joins} WHERE a.alert_id = ?",
                              [alert_id]).fetchall()
    found = levels_now(store, [_alert_of(row) for row in rows])
    return found[0] if found and readable(found[0].tlp, clearance) else None


def levels_now(store: EventStore, alerts: list[Alert]) -> list[Alert]:
    """``alerts`` at their level now: the level each was raised at, raised to its finding's
    level now (what the finding cites may have been marked higher since:
    ``findings_store.levels_now``), so an alert never shows more than its finding would."""
    now = finding_levels_now(store, [(a.run_id, a.finding_id) for a in alerts])
    return [replace(a, tlp=most_restricted([a.tlp, now.get((a.run_id, a.finding_id))]))
            for a in alerts]


def pending_deliveries(store: EventStore) -> list[tuple[Watch, list[Alert]]]:
    """Per watch with a webhook, its alerts not delivered yet (nor withheld), oldest first:
    new ones and those whose earlier deliveries failed. Acknowledged alerts are sent too (an
    acknowledgement in hybridwatch says nothing of the receiver)."""
    if not (_present(store) and _webhooks_present(store)):
        return []
    columns, joins = _alert_select(store)
    pending: dict[int, list[Alert]] = {}
    for row in store._con.execute(    # one query for every watch's alerts
            f"SELECT {columns} {joins} WHERE h.url IS NOT NULL AND NOT EXISTS ("
            "SELECT 1 FROM alert_deliveries x WHERE x.alert_id = a.alert_id "
            "AND x.status IN ('delivered', 'withheld')) ORDER BY a.watch_id, a.alert_id"
            ).fetchall():
        alert = _alert_of(row)
        pending.setdefault(alert.watch_id, []).append(alert)
    return [(watch, pending[watch.watch_id]) for watch in list_watches(store)
            if watch.webhook_url is not None and watch.watch_id in pending]


@dataclass(frozen=True)
class DeliveryAttempt:
    """One attempt to deliver one alert (a row of ``alert_deliveries``). ``attempt`` 0 with
    ``status`` withheld: the alert was not sent, ``error`` says why."""

    delivery_id: str
    alert_id: int
    watch_id: int
    url_host: str
    attempt: int
    status: str                 # delivered | failed | withheld
    http_status: int | None
    error: str | None
    attempted_at: datetime      # UTC, naive


def record_delivery_attempts(store: EventStore, attempts: Sequence[DeliveryAttempt]) -> None:
    """Append attempts to the delivery log, in one transaction. Attempts for alerts (or
    watches) removed meanwhile are dropped."""
    if not attempts:
        return
    store._con.execute(WATCHES_DDL + WEBHOOKS_DDL)
    store._con.begin()
    try:
        known = {row[0] for row in store._con.execute(
            "SELECT alert_id FROM alerts WHERE alert_id IN (SELECT unnest(?))",
            [sorted({a.alert_id for a in attempts})]).fetchall()}
        rows = [(a.delivery_id, a.alert_id, a.watch_id, a.url_host, a.attempt, a.status,
                 a.http_status, a.error, a.attempted_at)
                for a in attempts if a.alert_id in known]
        if rows:
            store._con.executemany(
                "INSERT INTO alert_deliveries (delivery_id, alert_id, watch_id, url_host, "
                "attempt, status, http_status, error, attempted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        store._con.commit()
    except Exception:
        store._con.rollback()
        raise


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
