"""Watches: an analyst's standing question to the findings, and when a finding answers it.

A *watch* names a finding kind, optionally a target country and a domain, and a threshold on
the kind's watched field ("a new episode involving DEU", "convergence whose whole band rises
above 0", "a judgement on TWN at 50% or more"). ``workflows.watches`` evaluates every watch
against the current run of its kind (the pinned one, else the latest), read at the watch's
TLP clearance; each finding that matches raises one *alert*, once (``store.alerts_store``
keeps them and never raises the same finding twice for the same watch).

This module is pure: the rules per kind, the ``Watch`` value and the match test.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hybridwatch.errors import SelectorError
from hybridwatch.model.webhooks import redacted_url


@dataclass(frozen=True)
class WatchRule:
    """How watches on one finding kind compare: ``field`` ``op`` threshold.

    ``subjects``: the item fields naming target countries (a string, a list, or a series name
    such as ``"domain=cyber actor=RUS target=DEU"`` whose ISO3 tokens count); ``domains``: the
    field holding the item's domain(s). A kind without subjects (convergence, narratives)
    refuses ``--target``; without domains it refuses ``--domain``.
    """

    kind: str
    field: str
    op: str                    # "above" (value > threshold) or "below" (value <= threshold)
    default: float | None      # None: every item of the kind matches when no threshold is given
    subjects: tuple[str, ...] = ()
    domains: str | None = None
    meaning: str = ""

    def compare(self, value: object, threshold: float | None) -> bool:
        if threshold is None:
            return True
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return False   # a missing value never alerts (n/a is not "above")
        return value > threshold if self.op == "above" else value <= threshold


#: finding kind → its watch rule. Kinds not listed here cannot be watched yet.
RULES: dict[str, WatchRule] = {rule.kind: rule for rule in (
    WatchRule("episodes", "p_value", "below", None, subjects=("targets",), domains="domains",
              meaning="a new multi-domain episode (p-value at or below the threshold, if given)"),
    WatchRule("convergence", "low", "above", 0.0,
              meaning="a period whose whole convergence band lies above the threshold "
                      "(0: above its baseline median)"),
    WatchRule("assessment", "probability", "above", 0.5, subjects=("target",),
              meaning="a key judgement whose probability rises above the threshold"),
    WatchRule("coincidences", "q_value", "below", 0.05, subjects=("a", "b"),
              meaning="a coinciding pair of series with q-value at or below the threshold"),
    WatchRule("narrative_sync", "q_value", "below", 0.05,
              meaning="a synchronised narrative with q-value at or below the threshold"),
)}

_ISO3 = re.compile(r"^[A-Z]{3}$")
_TOKEN = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Watch:
    """A saved watch. ``clearance`` is the TLP level of its reader: findings above it never
    alert through this watch."""

    watch_id: int
    name: str
    kind: str
    target: str | None
    domain: str | None
    threshold: float | None
    clearance: str
    owner: str
    created_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    webhook_url: str | None = None        # where its new alerts are POSTed (model.webhooks)
    webhook_allow_private: bool = False   # that URL may be at a loopback or private address

    @property
    def rule(self) -> WatchRule:
        return rule_of(self.kind)

    def describe(self) -> str:
        rule = self.rule
        parts = [self.kind]
        if self.target:
            parts.append(f"involving {self.target}")
        if self.domain:
            parts.append(f"in {self.domain}")
        if self.threshold is not None:
            parts.append(f"{rule.field} {'>' if rule.op == 'above' else '<='} {self.threshold:g}")
        return " ".join(parts) + f" (TLP:{self.clearance.upper()})"

    def matches(self, item: dict[str, Any]) -> bool:
        """Whether ``item`` (a finding of this watch's kind) answers the watch."""
        rule = self.rule
        if self.target and self.target not in subjects_of(rule, item):
            return False
        if self.domain and self.domain not in _as_list(item.get(rule.domains or "")):
            return False
        return rule.compare(item.get(rule.field), self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return {"watch_id": self.watch_id, "name": self.name, "kind": self.kind,
                "target": self.target, "domain": self.domain, "threshold": self.threshold,
                "field": self.rule.field, "op": self.rule.op, "clearance": self.clearance,
                "owner": self.owner, "description": self.describe(),
                "created_at": self.created_at.isoformat() + "Z" if self.created_at else None,
                "webhook": redacted_url(self.webhook_url) if self.webhook_url else None,
                "webhook_allow_private": self.webhook_allow_private}


def rule_of(kind: str) -> WatchRule:
    try:
        return RULES[kind]
    except KeyError:
        raise SelectorError(f"--kind: {kind!r} cannot be watched (kinds: "
                            f"{', '.join(RULES)})") from None


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def subjects_of(rule: WatchRule, item: dict[str, Any]) -> set[str]:
    """The ISO3 codes an item is about, read from the rule's subject fields."""
    found: set[str] = set()
    for name in rule.subjects:
        for text in _as_list(item.get(name)):
            found |= {t for t in _TOKEN.findall(text) if _ISO3.match(t)}
    return found


def alert_message(watch: Watch, item: dict[str, Any]) -> str:
    """One line saying what the finding is, in the words an analyst reads in the briefing."""
    kind = watch.kind
    if kind == "episodes":
        days = item.get("start") if item.get("start") == item.get("end") \
            else f"{item.get('start')} … {item.get('end')}"
        return (f"episode {days}: "
                f"{', '.join(_as_list(item.get('targets')))} — "
                f"{', '.join(_as_list(item.get('domains')))} (p = {_num(item.get('p_value'))})")
    if kind == "convergence":
        return (f"convergence {item.get('period')}: index {_num(item.get('index'))}, band "
                f"{_num(item.get('low'))} … {_num(item.get('high'))}")
    if kind == "assessment":
        return (f"{item.get('target')}: {item.get('phia_term') or ''} "
                f"({_num(item.get('probability'))})").replace("  ", " ")
    if kind == "coincidences":
        return (f"{item.get('b')} precedes {item.get('a')} "
                f"(q = {_num(item.get('q_value'))})")
    if kind == "narrative_sync":
        return (f"narrative {item.get('narrative')} {item.get('label') or ''} "
                f"(q = {_num(item.get('q_value'))})").replace("  ", " ")
    return f"{kind} finding"


def _num(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return "n/a"
    return f"{value:.3g}"
