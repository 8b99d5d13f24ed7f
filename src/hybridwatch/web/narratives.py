"""Narrative labels and per-group article counts for the synchronisation view."""

from __future__ import annotations

from typing import Any

from hybridwatch.store.narratives_store import narrative_exists, narrative_outlet_counts
from hybridwatch.store.store import EventStore


def narrative_labels(store: EventStore) -> dict[str, dict[str, Any]]:
    """narrative id → {label, terms, size, by_actor} (empty if none were built)."""
    from hybridwatch.model.outlet_groups import load_outlet_groups
    from hybridwatch.store.narratives_store import list_narratives

    return {n["id"]: {"label": n["label"], "terms": n["terms"], "size": n["size"],
                      "by_actor": n["by_actor"]}
            for n in list_narratives(store, outlet_groups=load_outlet_groups(), n_examples=0)}


def narrative_series(store: EventStore, narrative_id: str, freq: str) -> dict[str, Any] | None:
    """Articles of ``narrative_id`` per period and outlet group; None if there is no such
    narrative. Outlets outside every group count as ``other``."""
    from hybridwatch.model.outlet_groups import load_outlet_groups, outlet_group

    if not narrative_exists(store, narrative_id):
        return None
    rows, all_periods = narrative_outlet_counts(store, narrative_id, freq)
    groups = load_outlet_groups()
    counts: dict[tuple[str, str], int] = {}
    for period, outlet, n in rows:
        key = (period.date().isoformat(), outlet_group(outlet, groups) or "other")
        counts[key] = counts.get(key, 0) + n
    names = sorted({g for _, g in counts})
    # every period from the first to the last, zeros included: a gap is a day without articles
    periods = [p.date().isoformat() for p in all_periods]
    points = [{"period": p, "group": g, "n_articles": counts.get((p, g), 0)}
              for p in periods for g in names]
    return {"narrative": narrative_id, "freq": freq, "groups": names, "points": points}
