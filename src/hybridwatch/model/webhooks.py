"""Webhooks of watches: which URLs a watch may post to, and how a body is signed.

A watch may name a webhook (``watch add --webhook URL``); ``outputs.alert_webhooks`` POSTs
the watch's new alerts there, signed with a secret made for the watch. This module is pure
(no network, no clock, no environment): the URL rule, the destination-address rule, the
signature and its reference check. Receivers verify as ``verify_signature`` does
(``docs/web.md``, "Webhooks").

The destination rule (``address_problem``) refuses, whatever the settings, addresses no
receiver should be at — unspecified (``0.0.0.0``, ``::``), multicast, link-local (where cloud
metadata services answer: ``169.254.169.254``) and reserved ranges — and, unless the watch was
saved with ``--allow-private`` (or ``HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE=1`` is set where
``watch run`` runs), loopback, private (RFC 1918, ``fc00::/7``), shared (``100.64.0.0/10``)
and every other non-global address: a watch must not turn ``watch run`` into a probe of the
network it runs in. A host name is checked on every address it resolves to, when it is sent
to (``outputs.alert_webhooks`` connects to the address it checked, so the name cannot
re-resolve elsewhere in between).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from urllib.parse import urlsplit

from hybridwatch.errors import SelectorError

#: Request headers of a delivery.
SIGNATURE_HEADER = "X-Hybridwatch-Signature"   # "sha256=<hex HMAC-SHA256>"
TIMESTAMP_HEADER = "X-Hybridwatch-Timestamp"   # Unix seconds (UTC), part of the signed string
DELIVERY_HEADER = "X-Hybridwatch-Delivery"     # the body's id, the same on its retries
TLP_HEADER = "X-Hybridwatch-TLP"               # the body's TLP 2.0 level, e.g. "AMBER"
EVENT_HEADER = "X-Hybridwatch-Event"           # "alerts", or "ping" (``watch webhook-test``)

#: What the payload's ``type`` says and its schema version (``docs/web.md``).
PAYLOAD_TYPE = "hybridwatch.alerts"
PAYLOAD_VERSION = 1
#: A ping's ``type``: a signed body with no alerts, sent on demand to test a webhook.
PING_TYPE = "hybridwatch.ping"

#: The longest URL a watch may name, and the secret's prefix (recognisable in a leak scan).
MAX_URL_LENGTH = 2048
SECRET_PREFIX = "hwwh_"
#: A receiver accepts a timestamp at most this far from its clock (replays older are refused).
DEFAULT_TOLERANCE_SECONDS = 300

_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_LOCAL_NAMES = re.compile(r"(^|\.)localhost\.?$", re.IGNORECASE)


def check_webhook_url(url: str, *, allow_private: bool, option: str = "--webhook") -> str:
    """The URL a watch may post to, or ``SelectorError`` naming ``option`` and the reason.

    http or https only; a host and nothing else in the authority (no ``user:password@``: a
    credential in a URL ends up in logs); no fragment; a host that is an IP address (or
    ``localhost``) must pass ``address_problem``. Host names are checked again, on what they
    resolve to, each time they are sent to.
    """
    text = url.strip()
    if not text:
        raise SelectorError(f"{option}: give an http or https URL")
    if len(text) > MAX_URL_LENGTH:
        raise SelectorError(f"{option}: URL longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(text):
        raise SelectorError(f"{option}: spaces or control characters in the URL "
                            "(percent-encode them)")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise SelectorError(f"{option}: not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise SelectorError(f"{option}: scheme {parts.scheme or '(none)'!r} refused: http or "
                            "https only")
    if "@" in parts.netloc:
        raise SelectorError(f"{option}: credentials in the URL refused (they end up in logs); "
                            "the receiver checks the X-Hybridwatch-Signature header instead")
    if not parts.hostname:
        raise SelectorError(f"{option}: no host in the URL")
    if port == 0:
        raise SelectorError(f"{option}: port 0 is no port")
    if parts.fragment or text.endswith("#"):
        raise SelectorError(f"{option}: a fragment (#…) is never sent; leave it out")
    host = parts.hostname
    if _LOCAL_NAMES.search(host):
        problem = address_problem(ipaddress.ip_address("127.0.0.1"),
                                  allow_private=allow_private)
    else:
        try:
            problem = address_problem(ipaddress.ip_address(host), allow_private=allow_private)
        except ValueError:
            problem = None    # a name: checked on its addresses when sent to
    if problem:
        raise SelectorError(f"{option}: {host} is {problem}")
    return text


def address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *,
                    allow_private: bool) -> str | None:
    """Why a webhook may not be sent to ``address`` (None: it may). See the module docstring
    for the rule; the answer reads after "HOST is …"."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified:
        return "an unspecified address (refused)"
    if address.is_multicast:
        return "a multicast address (refused)"
    if address.is_link_local:
        return "a link-local address (refused: cloud metadata services answer there)"
    if address.is_loopback:
        kind = "a loopback address"
    elif address.is_global:
        return None
    elif address.is_reserved:
        return "a reserved address (refused)"
    else:
        kind = "a private address"
    if allow_private:
        return None
    return (f"{kind} ({address}): refused unless the watch is saved with --allow-private "
            "(or HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE=1 where `watch run` runs)")


def new_webhook_secret() -> str:
    """A fresh signing secret: ``hwwh_`` and 43 URL-safe characters (256 random bits). The
    HMAC key is the whole string's UTF-8 bytes."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signed_bytes(timestamp: str | int, body: bytes) -> bytes:
    """What the signature covers: the timestamp header's value, a ``.``, the raw body."""
    return str(timestamp).encode("ascii") + b"." + body


def signature(secret: str, timestamp: str | int, body: bytes) -> str:
    """The ``X-Hybridwatch-Signature`` value: ``sha256=`` and the hex HMAC-SHA256, keyed with
    the secret, of ``signed_bytes(timestamp, body)``."""
    digest = hmac.new(secret.encode("utf-8"), signed_bytes(timestamp, body), hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(secret: str, *, timestamp: str, body: bytes, signature_header: str,
                     now: float, tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """Whether a received body is hybridwatch's and fresh: the reference receiver check.

    ``timestamp`` and ``signature_header`` are the headers' values, ``body`` the raw bytes
    received (before any JSON parsing), ``now`` the receiver's clock (Unix seconds). A
    timestamp further than ``tolerance_seconds`` from ``now`` is refused (a replay); within
    the window a receiver also drops a ``X-Hybridwatch-Delivery`` id it has processed.
    """
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_seconds:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"),
                               signature_header.strip().encode("ascii", "replace"))


def url_host(url: str) -> str:
    """``host[:port]`` of a URL, for logs and the delivery record (never its path or query,
    which often carry a receiver's token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def redacted_url(url: str) -> str:
    """The URL as listings show it: scheme and host, the path elided (``https://h.example/…``)."""
    parts = urlsplit(url)
    rest = "/…" if (parts.path not in ("", "/") or parts.query) else "/"
    return f"{parts.scheme}://{url_host(url)}{rest}"
