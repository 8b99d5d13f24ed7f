"""Pings: one signed body with no alerts, sent on demand to test a watch's webhook.

``hybridwatch watch webhook-test`` reads the watch and its secret (``plan_ping``), releases the
store, and sends (``send_ping``) through ``outputs.webhook_transport``, as alert deliveries
go: the same signature, headers, destination-address rule, deadline and retries. The body says
``"type": "hybridwatch.ping"`` and holds only its id, its time and the watch's own description
(``alert_webhooks.payload_watch``): no alert and nothing read from a finding. Its
``X-Hybridwatch-TLP`` is the watch's clearance (over-marking, never under: a receiver routes
the ping the way it would the watch's most restricted alerts). A ping is not an alert
delivery: nothing of it is recorded in ``alert_deliveries``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hybridwatch.model.watches import Watch
from hybridwatch.model.webhooks import PAYLOAD_VERSION, PING_TYPE, url_host
from hybridwatch.outputs.alert_webhooks import payload_watch
from hybridwatch.outputs.webhook_transport import (
    PostAttempt, SignedPost, WebhookSettings, post_signed,
)
from hybridwatch.store.alerts_store import webhook_of
from hybridwatch.store.store import EventStore

#: The ``X-Hybridwatch-Event`` of a ping.
PING_EVENT = "ping"


def ping_payload(watch: Watch, *, delivery_id: str, created_at: datetime) -> dict[str, Any]:
    """The JSON document of a ping of ``watch``'s webhook (``docs/web.md``, "Testing")."""
    return {"type": PING_TYPE, "version": PAYLOAD_VERSION, "delivery_id": delivery_id,
            "created_at": created_at.isoformat() + "Z", "watch": payload_watch(watch)}


@dataclass(frozen=True)
class PingPlan:
    """A ping ready to send: the watch it tests and the signed POST."""

    watch: Watch
    post: SignedPost


def plan_ping(store: EventStore, watch_id: int) -> PingPlan:
    """The ping of a watch's webhook, signed with its current secret (``StoreError``: no such
    watch; ``SelectorError``: it has no webhook)."""
    watch, secret = webhook_of(store, watch_id)
    assert watch.webhook_url is not None
    delivery_id = str(uuid.uuid4())
    created_at = datetime.now(timezone.utc).replace(tzinfo=None)
    body = json.dumps(ping_payload(watch, delivery_id=delivery_id, created_at=created_at),
                      ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    return PingPlan(watch, SignedPost(watch.webhook_url, body, secret, PING_EVENT, delivery_id,
                                      watch.clearance, watch.webhook_allow_private))


@dataclass(frozen=True)
class PingOutcome:
    """What became of a ping: ``delivered`` (a 2xx) or ``failed`` (the last attempt's HTTP
    status, or none, and why)."""

    watch: Watch
    delivery_id: str
    attempts: tuple[PostAttempt, ...]

    @property
    def delivered(self) -> bool:
        return self.attempts[-1].ok

    def to_dict(self) -> dict[str, Any]:
        last = self.attempts[-1].answer
        return {"watch_id": self.watch.watch_id, "watch": self.watch.name,
                "host": url_host(self.watch.webhook_url or ""),
                "delivery_id": self.delivery_id,
                "status": "delivered" if self.delivered else "failed",
                "http_status": last.http_status, "error": last.error,
                "attempts": len(self.attempts)}


def send_ping(plan: PingPlan, settings: WebhookSettings) -> PingOutcome:
    """Send the ping (no store access), retried as alert deliveries are."""
    return PingOutcome(plan.watch, plan.post.delivery_id, post_signed(plan.post, settings))
