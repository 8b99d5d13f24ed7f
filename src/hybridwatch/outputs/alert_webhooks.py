"""Deliver the watches' alerts to their webhooks: signed, retried, never above the clearance.

``watch run`` records alerts (``workflows.watches``); this module sends them, in three steps
so that the store is not held while a receiver is slow:

1. ``plan_deliveries(store)`` reads, per watch with a webhook, its alerts not yet delivered
   (new ones and those whose earlier deliveries failed) and builds the signed bodies. An alert
   is sent only if its level *and* its finding's level as it stands now (a cited event may have
   been tightened since: ``findings_store.levels_now``) are within the watch's clearance;
   otherwise it is *withheld*: recorded, never sent, never retried.
2. ``send_deliveries(plans, settings)`` POSTs each body (no store access) through
   ``outputs.webhook_transport`` (shared with ``watch webhook-test``'s pings): a short timeout,
   retries with exponential backoff on connection errors, timeouts, 5xx, 408 and 429 (whose
   ``Retry-After`` is honoured up to the backoff cap), none on other answers; redirects are not
   followed. Every attempt becomes an ``alert_deliveries`` row per alert of the body.
3. ``record_deliveries(store, report)`` writes those rows.

The payload holds only what the API gives a reader at the watch's clearance about these alerts
(``Alert.to_dict``: their messages, read at the watch's level with run-wide figures withheld
as ``findings_store.latest_run`` does), the watch's own description, and the body's TLP level
(the most restricted of its alerts'). No run summary, evidence, counts of withheld findings
or anything read at another level goes in. Delivery is at least once: a receiver dedupes on
``alert_id`` (or on ``X-Hybridwatch-Delivery`` within one run). Payload, headers and the
receiver's check: ``docs/web.md``, "Webhooks".
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from hybridwatch.model.tlp import TLP2_MARKING_IDS, most_restricted, readable
from hybridwatch.model.watches import Watch
from hybridwatch.model.webhooks import PAYLOAD_TYPE, PAYLOAD_VERSION, url_host
from hybridwatch.outputs.webhook_transport import (
    ALLOW_PRIVATE_ENV, RETRIES_ENV, TIMEOUT_ENV, SignedPost, WebhookSettings, post_signed,
)
from hybridwatch.store.alerts_store import (
    Alert, DeliveryAttempt, pending_deliveries, record_delivery_attempts, webhook_secret,
)
from hybridwatch.store.findings_store import levels_now
from hybridwatch.store.store import EventStore

__all__ = ["ALLOW_PRIVATE_ENV", "RETRIES_ENV", "TIMEOUT_ENV", "DeliveryOutcome", "DeliveryPlan",
           "DeliveryReport", "WebhookSettings", "deliver_pending", "payload", "payload_watch",
           "plan_deliveries", "record_deliveries", "send_deliveries", "send_delivery"]


@dataclass(frozen=True)
class DeliveryPlan:
    """One body to POST: a watch's pending alerts (at most ``max_alerts_per_body``)."""

    delivery_id: str
    watch_id: int
    watch_name: str
    url: str
    allow_private: bool
    secret: str = field(repr=False)
    alert_ids: tuple[int, ...]
    tlp: str
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one body (or of the alerts withheld from a watch's webhook)."""

    delivery_id: str
    watch_id: int
    watch_name: str
    url_host: str
    alert_ids: tuple[int, ...]
    status: str                         # delivered | failed | withheld | deferred
    attempts: tuple[DeliveryAttempt, ...]   # none when deferred
    tlp: str | None = None

    @property
    def last(self) -> DeliveryAttempt:
        return self.attempts[-1]

    def to_dict(self) -> dict[str, Any]:
        error = self.last.error if self.attempts else None
        if self.status == "deferred":
            error = "not sent: an earlier body to this webhook failed in this run"
        return {"delivery_id": self.delivery_id, "watch_id": self.watch_id,
                "watch": self.watch_name, "host": self.url_host,
                "alert_ids": list(self.alert_ids), "tlp": self.tlp, "status": self.status,
                "attempts": sum(1 for a in self.attempts if a.attempt > 0 and
                                a.alert_id == self.alert_ids[0]),
                "http_status": self.last.http_status if self.attempts else None,
                "error": error}


@dataclass(frozen=True)
class DeliveryReport:
    """The deliveries of one ``watch run``; counts are of alerts."""

    outcomes: tuple[DeliveryOutcome, ...] = ()

    def count(self, status: str) -> int:
        return sum(len(o.alert_ids) for o in self.outcomes if o.status == status)

    @property
    def attempts(self) -> list[DeliveryAttempt]:
        return [a for o in self.outcomes for a in o.attempts]

    def to_dict(self) -> dict[str, Any]:
        return {"delivered": self.count("delivered"), "failed": self.count("failed"),
                "withheld": self.count("withheld"), "deferred": self.count("deferred"),
                "deliveries": [o.to_dict() for o in self.outcomes]}


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def payload_watch(watch: Watch) -> dict[str, Any]:
    """The ``watch`` object of a body (alerts and pings alike): the watch's own description."""
    return {"watch_id": watch.watch_id, "name": watch.name, "kind": watch.kind,
            "description": watch.describe(), "clearance": watch.clearance}


def payload(watch: Watch, alerts: Sequence[Alert], *, delivery_id: str,
            created_at: datetime) -> dict[str, Any]:
    """The JSON document POSTed for ``alerts`` of ``watch`` (schema: ``docs/web.md``)."""
    level = most_restricted(a.tlp for a in alerts)
    return {"type": PAYLOAD_TYPE, "version": PAYLOAD_VERSION, "delivery_id": delivery_id,
            "created_at": created_at.isoformat() + "Z",
            "tlp": level, "tlp_marking_ref": TLP2_MARKING_IDS[level],
            "watch": payload_watch(watch), "alerts": [a.to_dict(delivery=False) for a in alerts]}


def plan_deliveries(store: EventStore, *, settings: WebhookSettings | None = None
                    ) -> tuple[list[DeliveryPlan], list[DeliveryOutcome]]:
    """(bodies to send, alerts withheld): every pending alert of every watch with a webhook.

    An alert goes into a body only if its stored level and its finding's current level are
    within the watch's clearance; the others come back as ``withheld`` outcomes (record them
    with ``record_deliveries``: they are then never sent).
    """
    settings = settings or WebhookSettings()
    plans: list[DeliveryPlan] = []
    withheld: list[DeliveryOutcome] = []
    pending = pending_deliveries(store)
    now_levels = levels_now(store, [(a.run_id, a.finding_id) for _, alerts in pending
                                    for a in alerts])
    for watch, alerts in pending:
        assert watch.webhook_url is not None
        host = url_host(watch.webhook_url)
        secret = webhook_secret(store, watch.watch_id)
        sendable: list[Alert] = []
        for alert in alerts:
            why = _withheld_because(alert, watch, now_levels.get((alert.run_id,
                                                                   alert.finding_id)))
            if why is None and not secret:
                why = "the watch's webhook has no signing secret"
            if why is None:
                sendable.append(alert)
                continue
            delivery_id = str(uuid.uuid4())
            withheld.append(DeliveryOutcome(
                delivery_id, watch.watch_id, watch.name, host, (alert.alert_id,), "withheld",
                (DeliveryAttempt(delivery_id, alert.alert_id, watch.watch_id, host, 0,
                                 "withheld", None, why, _now()),)))
        for start in range(0, len(sendable), settings.max_alerts_per_body):
            chunk = sendable[start:start + settings.max_alerts_per_body]
            delivery_id = str(uuid.uuid4())
            document = payload(watch, chunk, delivery_id=delivery_id, created_at=_now())
            assert readable(document["tlp"], watch.clearance)   # checked per alert above
            body = json.dumps(document, ensure_ascii=False, allow_nan=False,
                              separators=(",", ":")).encode("utf-8")
            plans.append(DeliveryPlan(delivery_id, watch.watch_id, watch.name,
                                      watch.webhook_url, watch.webhook_allow_private,
                                      secret or "", tuple(a.alert_id for a in chunk),
                                      document["tlp"], body))
    return plans, withheld


def _withheld_because(alert: Alert, watch: Watch, level_now: str | None) -> str | None:
    if not readable(alert.tlp, watch.clearance):
        return (f"alert is TLP:{alert.tlp.upper()}, above the watch's clearance "
                f"TLP:{watch.clearance.upper()}")
    if level_now is None:
        return "its finding is no longer in the store: its level cannot be checked"
    if not readable(level_now, watch.clearance):
        return (f"its finding is now TLP:{level_now.upper()} (what it cites was tightened), "
                f"above the watch's clearance TLP:{watch.clearance.upper()}")
    return None


def send_delivery(plan: DeliveryPlan, settings: WebhookSettings, *,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.time) -> DeliveryOutcome:
    """POST one body (``webhook_transport.post_signed``: signed afresh at each attempt, retried
    as ``settings`` say); every attempt becomes one ``DeliveryAttempt`` per alert of the body."""
    host = url_host(plan.url)
    tries = post_signed(SignedPost(plan.url, plan.body, plan.secret, "alerts", plan.delivery_id,
                                   plan.tlp, plan.allow_private),
                        settings, sleep=sleep, clock=clock)
    attempts = tuple(DeliveryAttempt(plan.delivery_id, alert_id, plan.watch_id, host, t.number,
                                     "delivered" if t.ok else "failed", t.answer.http_status,
                                     t.answer.error, t.at)
                     for t in tries for alert_id in plan.alert_ids)
    return DeliveryOutcome(plan.delivery_id, plan.watch_id, plan.watch_name, host,
                           plan.alert_ids, attempts[-1].status, attempts, plan.tlp)


def send_deliveries(plans: Sequence[DeliveryPlan], settings: WebhookSettings,
                    withheld: Sequence[DeliveryOutcome] = ()) -> DeliveryReport:
    """Send every body, one after the other; ``withheld`` outcomes join the report as they
    are. A failure of one webhook never stops the others; but once a body to a watch's
    webhook has failed without an answer that blames the body (no answer, 5xx, 408, 429, a
    refused destination), that watch's later bodies in this run are ``deferred``: not sent,
    not recorded, still pending for the next run (a receiver that is down would only make
    each of them wait out its retries)."""
    outcomes = list(withheld)
    down: set[int] = set()
    for plan in plans:
        if plan.watch_id in down:
            outcomes.append(DeliveryOutcome(plan.delivery_id, plan.watch_id, plan.watch_name,
                                            url_host(plan.url), plan.alert_ids, "deferred",
                                            (), plan.tlp))
            continue
        outcome = send_delivery(plan, settings)
        outcomes.append(outcome)
        answered = outcome.last.http_status
        if outcome.status == "failed" and (answered is None or answered >= 500
                                           or answered in (408, 429)):
            down.add(plan.watch_id)
    return DeliveryReport(tuple(outcomes))


def record_deliveries(store: EventStore, report: DeliveryReport) -> None:
    """Write every attempt of ``report`` to the store's delivery log."""
    record_delivery_attempts(store, report.attempts)


def deliver_pending(store: EventStore, settings: WebhookSettings | None = None
                    ) -> DeliveryReport:
    """Plan, send and record in one go, the store held throughout (``watch run`` releases it
    while sending: it calls the three steps itself)."""
    settings = settings or WebhookSettings()
    plans, withheld = plan_deliveries(store, settings=settings)
    report = send_deliveries(plans, settings, withheld)
    record_deliveries(store, report)
    return report
