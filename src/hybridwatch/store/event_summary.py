"""What ``stats`` says about the events, and the ``events`` listing, as Ibis expressions: one
definition that DuckDB and Spark both run (``EventStore.ibis_events`` picks the engine)."""

from __future__ import annotations

from typing import Any

from hybridwatch.model.targets import TARGETS_COLUMN, names_any_target

UNKNOWN = "(unknown)"


def _counts(table: Any, key: Any) -> dict[str, int]:
    """``{key: rows}``, most rows first, then by key (the order ``stats`` prints)."""
    keys = table.select(k=key)
    rows = keys.group_by("k").aggregate(n=keys.count()).to_pyarrow().to_pylist()
    merged: dict[str, int] = {}
    for row in rows:
        k = UNKNOWN if row["k"] is None else row["k"]
        merged[k] = merged.get(k, 0) + row["n"]
    return dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))


def event_summary(events: Any) -> dict[str, Any]:
    """``events``, ``first_event``, ``last_event``, ``by_domain``, ``by_source``, ``by_target``
    of an Ibis events table. An event counts once for each target it names; events naming
    none count under ``(unknown)``."""
    untargeted = (events[TARGETS_COLUMN].length() == 0).ifelse(1, 0)
    one = events.aggregate(n=events.count(), first=events.occurred_at.min(),
                           last=events.occurred_at.max(), untargeted=untargeted.sum()
                           ).to_pyarrow().to_pylist()[0]
    targets = events.select(t=events[TARGETS_COLUMN].unnest())
    by_target = _counts(targets, targets.t)
    if one["untargeted"]:
        by_target[UNKNOWN] = by_target.get(UNKNOWN, 0) + one["untargeted"]
        by_target = dict(sorted(by_target.items(), key=lambda kv: (-kv[1], kv[0])))
    return {
        "events": one["n"],
        "first_event": one["first"].isoformat() if one["first"] else None,
        "last_event": one["last"].isoformat() if one["last"] else None,
        "by_domain": _counts(events, events.domain),
        "by_source": _counts(events, events.source),
        "by_target": by_target,
    }


def filter_events(events: Any, where: Any) -> Any:
    """The rows of ``events`` an ``EventFilter`` keeps: the Ibis form of ``EventFilter.where``
    (each field any of its values, fields combined with AND)."""
    import ibis

    from hybridwatch.model.tlp import TLP_LEVELS

    if where.domains:
        events = events.filter(events.domain.isin(list(where.domains)))
    if where.targets:
        events = events.filter(names_any_target(events, where.targets))
    if where.actors:
        events = events.filter(events.actor_iso3.isin(list(where.actors)))
    if where.sources:
        events = events.filter(events.source.isin(list(where.sources))
                               | events.source_name.isin(list(where.sources)))
    if where.actor_name:
        events = events.filter(events.actor_name.ilike(f"%{where.actor_name}%")
                               | (events.actor_code == where.actor_name))
    if where.since:
        events = events.filter(events.occurred_at >= ibis.timestamp(where.since))
    if where.until:
        events = events.filter(events.occurred_at < ibis.timestamp(where.until))
    if where.tlp:
        levels = [level for level in where.tlp if level in TLP_LEVELS]
        marked = events.tlp.isin(levels) if levels else ibis.literal(False)
        events = events.filter(events.tlp.isnull() | marked if "clear" in where.tlp
                               else marked)
    return events
