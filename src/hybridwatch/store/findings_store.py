"""Findings: the results of analyses, kept in the store so briefings, the web API and STIX export
render them without recomputing.

A *run* is one execution of an analysis (``kind``: episodes, coincidences, narrative_sync,
convergence, assessment); its *items* are the findings a reader sees one by one (an episode, a
coinciding pair, a narrative, a month of the convergence index, a target's risk). Each item carries
its own TLP level — the most restricted level of the evidence behind it — so a reader with a lower
clearance gets the run without the items they may not see. Saving a run of a kind replaces the
previous run of that kind in one transaction: the store holds the latest result of each analysis.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hybridwatch.errors import StoreError
from hybridwatch.model.finding_kinds import FindingKind, get_kind
from hybridwatch.model.tlp import TLP_LEVELS, most_restricted, readable
from hybridwatch.store.store import EventStore


FINDINGS_DDL = """
CREATE TABLE IF NOT EXISTS finding_runs (
  run_id VARCHAR PRIMARY KEY,
  kind VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL,    -- UTC
  summary VARCHAR NOT NULL          -- JSON: the result without its items
);
CREATE TABLE IF NOT EXISTS findings (
  finding_id VARCHAR PRIMARY KEY,   -- md5(kind ':' key): stable across runs
  run_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  position INTEGER NOT NULL,        -- order within the run
  tlp VARCHAR NOT NULL,             -- most restricted TLP 2.0 level of the item's evidence
  item VARCHAR NOT NULL             -- JSON
);
"""


@dataclass(frozen=True)
class FindingItem:
    """One finding of a run: ``key`` identifies it across runs (e.g. a target's ISO3)."""

    key: str
    item: dict[str, Any]
    tlp: str = "clear"


def store_kind(kind: str) -> FindingKind:
    """The registered kind called ``kind`` (``StoreError`` naming the kinds otherwise)."""
    try:
        return get_kind(kind)
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def items_of(kind: str, items: Sequence[dict[str, Any]], tlps: Sequence[str | None] | None = None
             ) -> list[FindingItem]:
    """``items`` of ``kind`` as findings keyed by the kind's registered key."""
    declared = store_kind(kind)
    levels = list(tlps) if tlps is not None else ["clear"] * len(items)
    return [FindingItem(declared.key(item), item, tlp or "clear")
            for item, tlp in zip(items, levels, strict=True)]


def finding_id(kind: str, key: str) -> str:
    """Stable id of a finding, the same in every run that finds it again."""
    return hashlib.md5(f"{kind}:{key}".encode("utf-8")).hexdigest()


def ensure_findings_tables(store: EventStore) -> None:
    store.con.execute(FINDINGS_DDL)


def _has_findings(store: EventStore) -> bool:
    """Whether the findings tables exist (reads must work on read-only stores too)."""
    return bool(store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'finding_runs'"
    ).fetchall()[0][0])


def tlp_of_events(store: EventStore, event_ids: Sequence[str]) -> str:
    """The most restricted TLP level among the given events (unmarked events are clear)."""
    if not event_ids:
        return "clear"
    rows = store.con.execute(
        "SELECT DISTINCT coalesce(tlp, 'clear') FROM events WHERE event_id IN (SELECT unnest(?))",
        [list(event_ids)]).fetchall()
    return most_restricted(row[0] for row in rows)


def save_run(store: EventStore, kind: str, summary: dict[str, Any],
             items: Sequence[FindingItem]) -> str:
    """Store a run of ``kind``, replacing the previous one; returns the run id."""
    store_kind(kind)
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise StoreError(f"{kind}: two findings share a key; keys must be unique within a run")
    unknown = {item.tlp for item in items} - {None, *TLP_LEVELS}
    if unknown:
        raise StoreError(f"{kind}: not TLP 2.0 levels: {sorted(unknown)} "
                         f"(levels: {', '.join(TLP_LEVELS)})")
    created_at = datetime.now(timezone.utc).replace(tzinfo=None)
    summary_json = json.dumps(summary, sort_keys=True, allow_nan=False)
    run_id = hashlib.md5(f"{kind}:{created_at.isoformat()}:{summary_json}".encode()).hexdigest()
    rows = [(finding_id(kind, item.key), run_id, kind, position, item.tlp or "clear",
             json.dumps(item.item, sort_keys=True, allow_nan=False))
            for position, item in enumerate(items)]
    ensure_findings_tables(store)
    store.con.begin()
    try:
        store.con.execute("DELETE FROM findings WHERE kind = ?", [kind])
        store.con.execute("DELETE FROM finding_runs WHERE kind = ?", [kind])
        store.con.execute("INSERT INTO finding_runs VALUES (?, ?, ?, ?)",
                          [run_id, kind, created_at, summary_json])
        if rows:
            store.con.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?)", rows)
        store.con.commit()
    except Exception:
        store.con.rollback()
        raise
    return run_id


@dataclass(frozen=True)
class FindingRun:
    """The latest run of a kind as a reader with a given clearance sees it."""

    run_id: str
    kind: str
    created_at: datetime
    summary: dict[str, Any]
    items: tuple[dict[str, Any], ...]      # each with ``finding_id`` and ``tlp`` added
    withheld: int                          # items above the reader's clearance

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "kind": self.kind,
                "created_at": self.created_at.isoformat() + "Z", **self.summary,
                "items": list(self.items), "withheld": self.withheld}


def latest_run(store: EventStore, kind: str, *, clearance: str = "red") -> FindingRun | None:
    """The stored run of ``kind`` with only the items at or below ``clearance``; None if the
    analysis has not been run on this store."""
    if not _has_findings(store):
        return None
    runs = store.con.execute("SELECT run_id, created_at, summary FROM finding_runs "
                             "WHERE kind = ?", [kind]).fetchall()
    if not runs:
        return None
    run_id, created_at, summary = runs[0]
    rows = store.con.execute("SELECT finding_id, tlp, item FROM findings WHERE run_id = ? "
                             "ORDER BY position", [run_id]).fetchall()
    items = tuple({**json.loads(item), "finding_id": fid, "tlp": tlp}
                  for fid, tlp, item in rows if readable(tlp, clearance))
    return FindingRun(run_id, kind, created_at, json.loads(summary), items,
                      withheld=len(rows) - len(items))


def finding(store: EventStore, finding_id_: str, *, clearance: str = "red"
            ) -> dict[str, Any] | None:
    """One finding by id, or None if absent or above ``clearance``."""
    if not _has_findings(store):
        return None
    rows = store.con.execute("SELECT kind, tlp, item FROM findings WHERE finding_id = ?",
                             [finding_id_]).fetchall()
    if not rows or not readable(rows[0][1], clearance):
        return None
    kind, tlp, item = rows[0]
    return {**json.loads(item), "finding_id": finding_id_, "kind": kind, "tlp": tlp}
