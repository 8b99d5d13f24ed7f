"""Deliver the watches' alerts to their webhooks: signed, retried, never above the clearance.

``watch run`` records alerts (``workflows.watches``); this module sends them, in three steps
so that the store is not held while a receiver is slow:

1. ``plan_deliveries(store)`` reads, per watch with a webhook, its alerts not yet delivered
   (new ones and those whose earlier deliveries failed) and builds the signed bodies. An alert
   is sent only if its level *and* its finding's level as it stands now (a cited event may have
   been tightened since: ``findings_store.levels_now``) are within the watch's clearance;
   otherwise it is *withheld*: recorded, never sent, never retried.
2. ``send_deliveries(plans, settings)`` POSTs each body (no store access): a short timeout,
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

import http.client
import ipaddress
import json
import re
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from hybridwatch import __version__
from hybridwatch.errors import SelectorError
from hybridwatch.model.tlp import TLP2_MARKING_IDS, most_restricted, readable
from hybridwatch.model.watches import Watch
from hybridwatch.model.webhooks import (
    DELIVERY_HEADER, EVENT_HEADER, PAYLOAD_TYPE, PAYLOAD_VERSION, SIGNATURE_HEADER,
    TIMESTAMP_HEADER, TLP_HEADER, address_problem, signature, url_host,
)
from hybridwatch.store.alerts_store import (
    Alert, DeliveryAttempt, pending_deliveries, record_delivery_attempts, webhook_secret,
)
from hybridwatch.store.findings_store import levels_now
from hybridwatch.store.store import EventStore

#: Environment settings read by ``watch run`` (``WebhookSettings.from_env``).
ALLOW_PRIVATE_ENV = "HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE"
TIMEOUT_ENV = "HYBRIDWATCH_WEBHOOK_TIMEOUT"
RETRIES_ENV = "HYBRIDWATCH_WEBHOOK_RETRIES"


@dataclass(frozen=True)
class WebhookSettings:
    """How deliveries are made. ``timeout_seconds``: an attempt's deadline, counted from its
    start, for connecting and for the answer's status line (each blocking read waits at most
    the time left then); ``retries``: further attempts after the first, for
    retryable failures only; ``backoff_seconds``: the wait before retry n is
    ``backoff_seconds * 2**(n-1)``, at most ``max_backoff_seconds`` (which also caps a
    ``Retry-After``); ``allow_private``: every watch may post to loopback and private
    addresses, as if saved with ``--allow-private``."""

    timeout_seconds: float = 5.0
    retries: int = 2
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    allow_private: bool = False
    max_alerts_per_body: int = 100

    def __post_init__(self) -> None:
        checks = (("--webhook-timeout", self.timeout_seconds, 0.001, 300.0),
                  ("--webhook-retries", self.retries, 0, 10),
                  ("--webhook-backoff", self.backoff_seconds, 0.0, 300.0),
                  ("max_backoff_seconds", self.max_backoff_seconds, 0.0, 3600.0),
                  ("max_alerts_per_body", self.max_alerts_per_body, 1, 10_000))
        for option, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not low <= value <= high:
                raise SelectorError(f"{option}: {value!r} is not between {low:g} and {high:g}")

    @staticmethod
    def allow_private_from_env(environ: dict[str, str]) -> bool:
        """Whether ``HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE`` is set to 1/true/yes."""
        return environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes")


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


def payload(watch: Watch, alerts: Sequence[Alert], *, delivery_id: str,
            created_at: datetime) -> dict[str, Any]:
    """The JSON document POSTed for ``alerts`` of ``watch`` (schema: ``docs/web.md``)."""
    level = most_restricted(a.tlp for a in alerts)
    return {"type": PAYLOAD_TYPE, "version": PAYLOAD_VERSION, "delivery_id": delivery_id,
            "created_at": created_at.isoformat() + "Z",
            "tlp": level, "tlp_marking_ref": TLP2_MARKING_IDS[level],
            "watch": {"watch_id": watch.watch_id, "name": watch.name, "kind": watch.kind,
                      "description": watch.describe(), "clearance": watch.clearance},
            "alerts": [a.to_dict(delivery=False) for a in alerts]}


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


@dataclass(frozen=True)
class _Answer:
    http_status: int | None
    error: str | None          # None: delivered
    retryable: bool = False
    retry_after: float | None = None


_PRINTABLE = re.compile(r"[^\x20-\x7e]")


def _clean(text: object, limit: int = 200) -> str:
    """A receiver's or the OS's words, safe for a log line: printable ASCII, cut short."""
    return _PRINTABLE.sub("?", str(text))[:limit]


def _connect(host: str, port: int, *, timeout: float, allow_private: bool
             ) -> tuple[socket.socket | None, _Answer | None]:
    """A connected socket to an address ``host`` resolves to, every one of them checked by
    ``address_problem`` first (the connection goes to the checked address: no second lookup)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return None, _Answer(None, f"cannot resolve {_clean(host, 80)} "
                                   f"({_clean(getattr(exc, 'strerror', None) or exc)})",
                             retryable=True)
    addresses = []
    for family, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        problem = address_problem(address, allow_private=allow_private)
        if problem:
            return None, _Answer(None, f"{_clean(host, 80)} resolves to {problem}")
        addresses.append((family, sockaddr))
    last: _Answer | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock, None
        except OSError as exc:
            sock.close()
            last = _network_failure(exc, timeout)
    return None, last or _Answer(None, f"{_clean(host, 80)} has no address", retryable=True)


def _network_failure(exc: BaseException, timeout: float) -> _Answer:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return _Answer(None, f"timed out after {timeout:g} s", retryable=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Answer(None, f"TLS certificate not trusted ({_clean(exc.verify_message)})")
    if isinstance(exc, ssl.SSLError):
        return _Answer(None, f"TLS failed ({_clean(exc.reason or exc)})")
    if isinstance(exc, ConnectionRefusedError):
        return _Answer(None, "connection refused", retryable=True)
    if isinstance(exc, (ConnectionError, http.client.HTTPException)):
        return _Answer(None, f"connection failed ({_clean(type(exc).__name__)}: "
                             f"{_clean(exc, 120)})", retryable=True)
    return _Answer(None, f"network error ({_clean(getattr(exc, 'strerror', None) or exc)})",
                   retryable=True)


def post_once(url: str, body: bytes, headers: dict[str, str], *, timeout: float,
              allow_private: bool) -> _Answer:
    """One POST of ``body`` to ``url``; never raises for what the network or receiver does."""
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout
    sock, failed = _connect(host, port, timeout=timeout, allow_private=allow_private)
    if sock is None:
        assert failed is not None
        return failed
    connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
    conn = connection_class(host, port, timeout=timeout)
    conn.sock = sock             # connected to the checked address: http.client will not dial
    try:
        if https:
            conn.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn.request("POST", path, body=body, headers=headers)
        conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
        answer = conn.getresponse()
        status = answer.status
        retry_after = answer.getheader("Retry-After", "")
        reason = answer.reason
    except (OSError, http.client.HTTPException) as exc:
        return _network_failure(exc, timeout)
    finally:
        conn.close()
    if 200 <= status < 300:
        return _Answer(status, None)
    words = f"HTTP {status}" + (f" {_clean(reason, 60)}" if reason else "")
    if 300 <= status < 400:
        return _Answer(status, f"{words}: redirects are not followed")
    retryable = status >= 500 or status in (408, 429)
    wait = float(retry_after) if retry_after.strip().isdigit() else None
    return _Answer(status, words, retryable=retryable, retry_after=wait)


def send_delivery(plan: DeliveryPlan, settings: WebhookSettings, *,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.time) -> DeliveryOutcome:
    """POST one body, retrying as ``settings`` say; each attempt is signed afresh (its own
    timestamp) over the same body and delivery id."""
    host = url_host(plan.url)
    allow_private = plan.allow_private or settings.allow_private
    attempts: list[DeliveryAttempt] = []
    for number in range(1, settings.retries + 2):
        timestamp = str(int(clock()))
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": f"hybridwatch/{__version__}",
                   EVENT_HEADER: "alerts", DELIVERY_HEADER: plan.delivery_id,
                   TLP_HEADER: plan.tlp.upper(), TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: signature(plan.secret, timestamp, plan.body)}
        answer = post_once(plan.url, plan.body, headers, timeout=settings.timeout_seconds,
                           allow_private=allow_private)
        status = "delivered" if answer.error is None else "failed"
        at = _now()
        attempts += [DeliveryAttempt(plan.delivery_id, alert_id, plan.watch_id, host, number,
                                     status, answer.http_status, answer.error, at)
                     for alert_id in plan.alert_ids]
        if answer.error is None or not answer.retryable or number > settings.retries:
            break
        wait = settings.backoff_seconds * 2 ** (number - 1)
        if answer.retry_after is not None:
            wait = max(wait, answer.retry_after)
        sleep(min(wait, settings.max_backoff_seconds))
    return DeliveryOutcome(plan.delivery_id, plan.watch_id, plan.watch_name, host,
                           plan.alert_ids, attempts[-1].status, tuple(attempts), plan.tlp)


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
