"""Run the analysts' watches against the stored findings and record what they raise.

``run_watches`` reads, for each watch, the current run of its kind (pinned, else latest — or
the run given in ``runs``) at the watch's clearance, so a finding above that level never
alerts through it; every matching finding becomes an alert candidate, and the store keeps only
those not alerted before (``store.alerts_store.record_alerts``). Nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hybridwatch.errors import SelectorError
from hybridwatch.model.countries import to_iso3
from hybridwatch.model.domains import normalise_domain
from hybridwatch.model.tlp import parse_level
from hybridwatch.model.watches import Watch, alert_message, rule_of
from hybridwatch.model.webhooks import check_webhook_url, new_webhook_secret
from hybridwatch.store.alerts_store import (
    Alert, AlertCandidate, add_watch, list_watches, record_alerts, replace_webhook_secret,
)
from hybridwatch.store.findings_store import latest_run
from hybridwatch.store.run_history import find_run
from hybridwatch.store.store import EventStore


def new_watch(store: EventStore, *, kind: str, target: str | None = None,
              domain: str | None = None, threshold: float | None = None,
              clearance: str = "amber", owner: str, name: str | None = None,
              webhook_url: str | None = None, webhook_secret: str | None = None,
              allow_private: bool = False, private_allowed_by_env: bool = False) -> Watch:
    """Check a watch's fields (``SelectorError`` naming the option) and save it.

    ``webhook_url``: where ``watch run`` POSTs its new alerts, signed with ``webhook_secret``
    (``model.webhooks.new_webhook_secret``; the caller shows it once). The URL must pass
    ``model.webhooks.check_webhook_url``, loopback and private addresses only with
    ``allow_private`` (saved with the watch) or ``private_allowed_by_env`` (this once: the
    environment setting must then also hold where ``watch run`` runs).
    """
    kind = kind.strip().lower()
    rule = rule_of(kind)
    iso3 = None
    if target is not None and target.strip():
        if not rule.subjects:
            raise SelectorError(f"--target: {kind} findings are not about one target country")
        try:
            iso3 = to_iso3(target.strip())
        except ValueError:
            iso3 = None
        if iso3 is None:
            raise SelectorError(f"--target: {target!r} is not a country (ISO3 code or name, "
                                "e.g. DEU or Germany)")
    dom = None
    if domain is not None and domain.strip():
        if rule.domains is None:
            raise SelectorError(f"--domain: {kind} findings have no domain")
        try:
            dom = normalise_domain(domain)
        except ValueError as exc:
            raise SelectorError(f"--domain: {exc}") from None
    if threshold is None:
        threshold = rule.default
    elif threshold != threshold:
        raise SelectorError("--threshold: not a number")
    level = parse_level(clearance, option="--tlp")
    if not owner.strip():
        raise SelectorError("--owner: say whose watch it is")
    url = None
    if webhook_url is not None:
        url = check_webhook_url(webhook_url,
                                allow_private=allow_private or private_allowed_by_env)
        if not webhook_secret:
            raise ValueError("a webhook needs its signing secret (new_webhook_secret())")
    elif allow_private:
        raise SelectorError("--allow-private: only with --webhook")
    draft = Watch(0, "", kind, iso3, dom, threshold, level, owner.strip())
    title = (name or "").strip() or draft.describe().rsplit(" (TLP", 1)[0]
    return add_watch(store, name=title, kind=kind, target=iso3, domain=dom,
                     threshold=threshold, clearance=level, owner=owner.strip(),
                     webhook_url=url, webhook_allow_private=allow_private,
                     webhook_secret=webhook_secret if url else None)


def rotate_webhook_secret(store: EventStore, watch_id: int) -> tuple[Watch, str]:
    """Give a watch's webhook a new signing secret (``new_webhook_secret``, as ``watch add``
    does) and return it with the watch: the caller shows it once. Bodies planned from now on
    are signed with it; the old secret is gone (``docs/web.md``, "Rotating the secret")."""
    secret = new_webhook_secret()
    return replace_webhook_secret(store, watch_id, secret), secret


@dataclass(frozen=True)
class WatchRunReport:
    """What one evaluation did: the new alerts, and per watch the run it read and how many of
    its findings matched (``matched`` counts repeats that did not alert again)."""

    alerts: tuple[Alert, ...]
    watches: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"alerts": [a.to_dict(delivery=False) for a in self.alerts],
                "new_alerts": len(self.alerts),
                "watches": list(self.watches)}


def run_watches(store: EventStore, *, runs: Sequence[str] = ()) -> WatchRunReport:
    """Evaluate every watch. ``runs``: run ids (or prefixes) to read instead of their kind's
    current run (the pinned one, else the latest)."""
    pinned: dict[str, str] = {}
    for ref in runs:
        found = find_run(store, ref)
        pinned[found.kind] = found.run_id
    candidates: list[AlertCandidate] = []
    per_watch: list[dict[str, Any]] = []
    for watch in list_watches(store):
        run = latest_run(store, watch.kind, clearance=watch.clearance,
                         run_id=pinned.get(watch.kind))
        if run is None:
            per_watch.append({"watch_id": watch.watch_id, "run_id": None, "matched": 0,
                              "note": f"no {watch.kind} run in this store"})
            continue
        matched = [item for item in run.items if watch.matches(item)]
        candidates += [AlertCandidate(watch.watch_id, item["finding_id"], watch.kind,
                                      run.run_id, item["tlp"], alert_message(watch, item))
                       for item in matched]
        per_watch.append({"watch_id": watch.watch_id, "run_id": run.run_id,
                          "matched": len(matched), "withheld": run.withheld})
    new = record_alerts(store, candidates)
    names = {w.watch_id: w.name for w in list_watches(store)}
    alerts = tuple(Alert(**{**a.__dict__, "watch_name": names.get(a.watch_id)}) for a in new)
    return WatchRunReport(alerts, tuple(per_watch))
