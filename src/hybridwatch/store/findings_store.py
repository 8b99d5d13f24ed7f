"""Findings: the results of analyses, kept in the store so briefings, the web API and STIX export
render them without recomputing.

A *run* is one execution of an analysis (``kind``: any registered finding kind, see
``model.finding_kinds``); its *items* are the findings a reader sees one by one (an episode, a
coinciding pair, a narrative, a month of the convergence index, a target's risk). Each item carries
its own TLP level — the most restricted level of the evidence behind it — so a reader with a lower
clearance gets the run without the items they may not see.

Runs are kept: a new run never overwrites another. Each records when it ran, its parameters,
the days it analysed, its seed, the fingerprint of its input and the hybridwatch version.
Readers (briefing, dashboard, API, STIX export, analyses that build on others) use the *current*
run of each kind: the pinned one where a run is pinned, else the latest
(``store.run_history`` lists, pins and compares runs).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hybridwatch import __version__
from hybridwatch.errors import StoreError
from hybridwatch.model.finding_kinds import (
    STORAGE, FindingKind, get_kind, kind_names, partial_summary, withhold_run_figures,
)
from hybridwatch.model.tlp import TLP_LEVELS, most_restricted, readable, readable_sql
from hybridwatch.store.schema import FINDINGS_DDL
from hybridwatch.store.store import EventStore

#: The current run of each kind: the pinned one, else the latest.
CURRENT_RUNS_SQL = """
SELECT run_id, kind FROM (
  SELECT run_id, kind, row_number() OVER (PARTITION BY kind
         ORDER BY pinned DESC, created_at DESC, run_id DESC) AS rank
  FROM finding_runs) WHERE rank = 1"""
RUN_COLUMNS = ("run_id", "kind", "created_at", "summary", "parameters", "analysis_window",
               "seed", "input_sha256", "code_version", "pinned")


@dataclass(frozen=True)
class FindingItem:
    """One finding of a run: ``key`` identifies it across runs (e.g. a target's ISO3)."""

    key: str
    item: dict[str, Any]
    tlp: str = "clear"


def store_kind(kind: str) -> FindingKind:
    """The registered kind called ``kind``, stored as runs (``StoreError`` naming the kinds
    otherwise: a review or a model card is not a run)."""
    try:
        declared = get_kind(kind)
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    if declared.stored_as != "runs":
        raise StoreError(f"finding kind {kind!r} is not stored as runs (it is "
                         f"{STORAGE[declared.stored_as]}); run kinds: "
                         f"{', '.join(kind_names())}")
    return declared


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
    store._con.execute(FINDINGS_DDL)


def has_findings(store: EventStore) -> bool:
    """Whether the findings tables exist (reads must work on read-only stores too)."""
    return bool(store._con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'finding_runs'"
    ).fetchall()[0][0])


def tlp_of_events(store: EventStore, event_ids: Sequence[str]) -> str:
    """The most restricted TLP level among the given events (unmarked events are clear)."""
    if not event_ids:
        return "clear"
    rows = store._con.execute(
        "SELECT DISTINCT coalesce(tlp, 'clear') FROM events WHERE event_id IN (SELECT unnest(?))",
        [list(event_ids)]).fetchall()
    return most_restricted(row[0] for row in rows)


def cited_levels(store: EventStore, items: Sequence[dict[str, Any]]) -> list[str]:
    """Per item, the most restricted TLP level of what it cites: the events of its
    ``event_ids`` and of its ``evidence`` entries' ``event_id``, and the findings of its
    ``evidence`` entries' ``finding_id`` (at the most restricted level any run stored them)."""
    cited = [_citations(item) for item in items]
    event_ids = sorted({e for events, _ in cited for e in events})
    finding_ids = sorted({f for _, findings in cited for f in findings})
    level: dict[str, list[str]] = {}
    if event_ids:
        for event_id, tlp in store._con.execute(
                "SELECT event_id, coalesce(tlp, 'clear') FROM events "
                "WHERE event_id IN (SELECT unnest(?))", [event_ids]).fetchall():
            level.setdefault(event_id, []).append(tlp)
    if finding_ids:
        for fid, tlp in store._con.execute(
                "SELECT DISTINCT finding_id, tlp FROM findings "
                "WHERE finding_id IN (SELECT unnest(?))", [finding_ids]).fetchall():
            level.setdefault(fid, []).append(tlp)
    return [most_restricted([t for ref in (*events, *findings) for t in level.get(ref, ())])
            for events, findings in cited]


def _citations(item: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The event ids and finding ids an item cites."""
    events = {e for e in item.get("event_ids") or () if isinstance(e, str)}
    findings: set[str] = set()
    evidence = item.get("evidence") or ()
    if isinstance(evidence, dict):      # {"events": n, "event_ids": [...]} (e.g. screening)
        events |= {e for e in evidence.get("event_ids") or () if isinstance(e, str)}
        evidence = ()
    for entry in evidence:
        if isinstance(entry, dict):
            if isinstance(entry.get("event_id"), str):
                events.add(entry["event_id"])
            if isinstance(entry.get("finding_id"), str):
                findings.add(entry["finding_id"])
    return events, findings


def run_metadata(summary: dict[str, Any]) -> dict[str, Any]:
    """What a run records besides its summary, read from the summary where the analysis put it
    (results differ in where: ``parameters.random_state``, ``provenance.seed`` …)."""
    parameters = summary.get("parameters") if isinstance(summary.get("parameters"), dict) \
        else {}
    provenance = summary.get("provenance") if isinstance(summary.get("provenance"), dict) \
        else {}
    window = summary.get("window") or parameters.get("window")
    if window is None and summary.get("start"):
        window = {"start": summary.get("start"), "end": summary.get("end")}
    seed = next((v for v in (summary.get("random_state"), parameters.get("random_state"),
                             parameters.get("seed"), provenance.get("seed"),
                             provenance.get("random_state")) if isinstance(v, int)), None)
    fingerprint = summary.get("input_sha256") or provenance.get("input_sha256") \
        or provenance.get("input_fingerprint")
    return {"parameters": parameters, "window": window, "seed": seed,
            "input_sha256": fingerprint if isinstance(fingerprint, str) else None,
            "code_version": provenance.get("version") or __version__}


def save_run(store: EventStore, kind: str, summary: dict[str, Any],
             items: Sequence[FindingItem]) -> str:
    """Store a new run of ``kind`` (earlier runs are kept); returns its run id."""
    store_kind(kind)
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise StoreError(f"{kind}: two findings share a key; keys must be unique within a run")
    unknown = {item.tlp for item in items} - {None, *TLP_LEVELS}
    if unknown:
        raise StoreError(f"{kind}: not TLP 2.0 levels: {sorted(unknown)} "
                         f"(levels: {', '.join(TLP_LEVELS)})")
    ensure_findings_tables(store)
    levels = cited_levels(store, [item.item for item in items])
    created_at = datetime.now(timezone.utc).replace(tzinfo=None)
    summary_json = json.dumps(summary, sort_keys=True, allow_nan=False)
    # random bytes too: two runs with the same result in the same microsecond stay two runs
    run_id = hashlib.md5(f"{kind}:{created_at.isoformat()}:{os.urandom(8).hex()}:"
                         f"{summary_json}".encode()).hexdigest()
    meta = run_metadata(summary)
    # an item is never released below what it cites (fail closed: a workflow that forgot to
    # raise its level, or a hand-built item, still cannot carry RED evidence to an AMBER reader)
    rows = [(finding_id(kind, item.key), run_id, kind, position,
             most_restricted([item.tlp or "clear", cited]),
             json.dumps(item.item, sort_keys=True, allow_nan=False))
            for position, (item, cited) in enumerate(zip(items, levels))]
    store._con.begin()
    try:
        insert_run(store._con, run_id, kind, created_at, summary_json, meta)
        if rows:
            store._con.executemany("INSERT INTO findings (finding_id, run_id, kind, position, "
                                  "tlp, item) VALUES (?, ?, ?, ?, ?, ?)", rows)
        store._con.commit()
    except Exception:
        store._con.rollback()
        raise
    return run_id


def insert_run(con, run_id: str, kind: str, created_at: datetime, summary_json: str,
               meta: dict[str, Any], *, pinned: bool = False) -> None:
    """One ``finding_runs`` row (also used by ingest to restore a partner's run)."""
    con.execute(f"INSERT INTO finding_runs ({', '.join(RUN_COLUMNS)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, kind, created_at, summary_json,
                 json.dumps(meta.get("parameters") or {}, sort_keys=True, allow_nan=False),
                 json.dumps(meta.get("window"), sort_keys=True, allow_nan=False),
                 meta.get("seed"), meta.get("input_sha256"), meta.get("code_version"), pinned])


@dataclass(frozen=True)
class FindingRun:
    """A run of a kind as a reader with a given clearance sees it."""

    run_id: str
    kind: str
    created_at: datetime
    summary: dict[str, Any]
    items: tuple[dict[str, Any], ...]      # each with ``finding_id`` and ``tlp`` added
    withheld: int                          # items above the reader's clearance
    pinned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "kind": self.kind,
                "created_at": self.created_at.isoformat() + "Z", **self.summary,
                "pinned": self.pinned, "items": list(self.items), "withheld": self.withheld}


def current_run_id(store: EventStore, kind: str) -> str | None:
    """The run readers see of ``kind``: the pinned one, else the latest (None: never run)."""
    if not has_findings(store):
        return None
    rows = store._con.execute(f"SELECT run_id FROM ({CURRENT_RUNS_SQL}) WHERE kind = ?",
                             [kind]).fetchall()
    return rows[0][0] if rows else None


def latest_run(store: EventStore, kind: str, *, clearance: str = "red",
               run_id: str | None = None) -> FindingRun | None:
    """The current run of ``kind`` (pinned, else latest) — or the run ``run_id`` — with only
    the items at or below ``clearance``; None if the analysis has not been run on this store."""
    if not has_findings(store):
        return None
    run_id = run_id or current_run_id(store, kind)
    runs = store._con.execute("SELECT run_id, created_at, summary, pinned FROM finding_runs "
                             "WHERE kind = ? AND run_id = ?", [kind, run_id]).fetchall()
    if not runs:
        return None
    run_id, created_at, summary, pinned = runs[0]
    rows = store._con.execute("SELECT finding_id, tlp, item FROM findings WHERE run_id = ? "
                             "ORDER BY position", [run_id]).fetchall()
    parsed = [json.loads(item) for _, _, item in rows]
    levels = current_levels(store, [tlp for _, tlp, _ in rows], parsed)
    items = tuple({**item, "finding_id": fid, "tlp": level}
                  for (fid, _, _), item, level in zip(rows, parsed, levels)
                  if readable(level, clearance))
    withheld = len(rows) - len(items)
    summary = json.loads(summary)
    if not sees_whole_run(store, store_kind(kind), clearance, withheld):
        items = tuple(withhold_run_figures(store_kind(kind), item) for item in items)
        summary = partial_summary(store_kind(kind), summary, items)
    return FindingRun(run_id, kind, created_at, summary, items, withheld=withheld,
                      pinned=bool(pinned))


def current_levels(store: EventStore, stored: Sequence[str], items: Sequence[dict[str, Any]]
                   ) -> list[str]:
    """Each item's level as it stands now: its stored level, raised to what it cites now. A
    later version may have tightened an event a GREEN finding cites to RED (``store.versions``);
    the finding, built from that event (its days, targets …), follows it up."""
    cited = cited_levels(store, items)
    return [most_restricted([level, now]) for level, now in zip(stored, cited)]


def levels_now(store: EventStore, refs: Sequence[tuple[str, str]]
               ) -> dict[tuple[str, str], str]:
    """Each ``(run_id, finding_id)``'s level as it stands now (``current_levels``): the level
    its run stored, raised to what it cites now. Pairs not in the store are left out."""
    if not refs or not has_findings(store):
        return {}
    rows = store._con.execute(
        "SELECT run_id, finding_id, tlp, item FROM findings "
        "WHERE run_id || chr(0) || finding_id IN (SELECT unnest(?))",
        [sorted({f"{run}\x00{fid}" for run, fid in refs})]).fetchall()
    parsed = [json.loads(item) for _, _, _, item in rows]
    levels = current_levels(store, [tlp for _, _, tlp, _ in rows], parsed)
    return {(run, fid): level for (run, fid, _, _), level in zip(rows, levels)}


def holds_above(store: EventStore, clearance: str) -> bool:
    """Whether the store holds any event a reader at ``clearance`` may not see."""
    return bool(store._con.execute(
        f"SELECT EXISTS (SELECT 1 FROM events WHERE NOT {readable_sql(clearance)})"
    ).fetchall()[0][0])


def sees_whole_run(store: EventStore, kind: FindingKind, clearance: str, withheld: int) -> bool:
    """Whether a reader at ``clearance`` may see the run's whole summary: it sees every item,
    and nothing the run may have read is above it. A run reads the store's events (all but
    the kinds whose sources carry no marking, TLP rule ``clear``), so a store holding events
    above the clearance gets the reader ``partial_summary`` (no oracle in aggregates: a total
    such as ``n_events`` would count records the reader may not see)."""
    if withheld:
        return False
    return kind.tlp_rule == "clear" or not holds_above(store, clearance)


def finding(store: EventStore, finding_id_: str, *, clearance: str = "red"
            ) -> dict[str, Any] | None:
    """One finding by id as its kind's current run holds it, or None if absent there or above
    ``clearance``."""
    if not has_findings(store):
        return None
    rows = store._con.execute(
        f"SELECT f.kind, f.tlp, f.item, f.run_id FROM findings f JOIN ({CURRENT_RUNS_SQL}) c "
        "USING (run_id) WHERE f.finding_id = ?", [finding_id_]).fetchall()
    if not rows:
        return None
    kind, tlp, item, run_id = rows[0]
    parsed = json.loads(item)
    [level] = current_levels(store, [tlp], [parsed])
    if not readable(level, clearance):
        return None
    # as in ``latest_run``: run-wide figures only for a reader who sees the whole run (here
    # judged failing closed: any event above the clearance, or any of the run's items)
    above = store._con.execute("SELECT count(*) FROM findings WHERE run_id = ? AND "
                               f"NOT {readable_sql(clearance)}", [run_id]).fetchall()[0][0]
    if not sees_whole_run(store, store_kind(kind), clearance, above):
        parsed = withhold_run_figures(store_kind(kind), parsed)
    return {**parsed, "finding_id": finding_id_, "kind": kind, "tlp": level, "run_id": run_id}
