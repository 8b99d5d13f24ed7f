"""The runs of the analyses kept in the store: list them, find one by id (or a unique prefix),
pin one per kind so readers use it instead of the latest, and compare two runs of a kind.

A diff says which findings appeared, which disappeared, and which fields moved in the findings
both runs hold (the fields the kind displays: probabilities, PHIA terms, q-values …), each seen
at the reader's clearance: a finding above it is in neither side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hybridwatch.errors import StoreError
from hybridwatch.model.finding_kinds import get_kind
from hybridwatch.store.findings_store import (
    CURRENT_RUNS_SQL, FindingRun, has_findings, latest_run, store_kind,
)
from hybridwatch.store.store import EventStore

#: Run ids may be abbreviated on the command line to at least this many characters.
MIN_PREFIX = 6


@dataclass(frozen=True)
class RunInfo:
    """One stored run, without its items."""

    run_id: str
    kind: str
    created_at: datetime
    parameters: dict[str, Any]
    window: dict[str, Any] | None
    seed: int | None
    input_sha256: str | None
    code_version: str | None
    pinned: bool
    current: bool                  # the run readers see for its kind
    n_items: int
    reviewed: bool = False         # an analyst reviewed at least one of its findings

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.run_id, "kind": self.kind,
                "created_at": self.created_at.isoformat() + "Z",
                "parameters": self.parameters, "window": self.window, "seed": self.seed,
                "input_sha256": self.input_sha256, "code_version": self.code_version,
                "pinned": self.pinned, "current": self.current, "n_items": self.n_items,
                "reviewed": self.reviewed}


def list_runs(store: EventStore, kind: str | None = None) -> list[RunInfo]:
    """Every run (of ``kind``), newest first."""
    if kind is not None:
        store_kind(kind)
    if not has_findings(store):
        return []
    rows = store._con.execute(f"""
        SELECT r.run_id, r.kind, r.created_at, r.parameters, r.analysis_window, r.seed,
               r.input_sha256, r.code_version, r.pinned, c.run_id IS NOT NULL,
               (SELECT count(*) FROM findings f WHERE f.run_id = r.run_id)
        FROM finding_runs r LEFT JOIN ({CURRENT_RUNS_SQL}) c USING (run_id)
        WHERE ? IS NULL OR r.kind = ?
        ORDER BY r.created_at DESC, r.run_id DESC""", [kind, kind]).fetchall()
    reviewed = _reviewed_runs(store)
    return [RunInfo(run_id, kind_, created, json.loads(parameters or "{}"),
                    json.loads(window) if window else None, seed, fingerprint, version,
                    bool(pinned), bool(current), int(n), run_id in reviewed)
            for run_id, kind_, created, parameters, window, seed, fingerprint, version, pinned,
            current, n in rows]


def _reviewed_runs(store: EventStore) -> set[str]:
    present = store._con.execute("SELECT count(*) FROM information_schema.tables "
                                "WHERE table_name = 'finding_reviews'").fetchall()[0][0]
    if not present:
        return set()
    return {r[0] for r in store._con.execute(
        "SELECT DISTINCT run_id FROM finding_reviews").fetchall()}


def find_run(store: EventStore, ref: str) -> RunInfo:
    """The run whose id is ``ref`` or starts with it (at least ``MIN_PREFIX`` characters)."""
    ref = ref.strip().lower()
    found = [r for r in list_runs(store) if r.run_id == ref] or (
        [r for r in list_runs(store) if r.run_id.startswith(ref)]
        if len(ref) >= MIN_PREFIX else [])
    if not found:
        raise StoreError(f"no run {ref!r} in this store (`hybridwatch findings list` lists "
                         "them; give the id or at least its first "
                         f"{MIN_PREFIX} characters)")
    if len(found) > 1:
        raise StoreError(f"run {ref!r} is ambiguous: {', '.join(r.run_id for r in found)}")
    return found[0]


def pin_run(store: EventStore, ref: str) -> RunInfo:
    """Pin a run: readers use it for its kind until it is unpinned (one pinned run a kind)."""
    run = find_run(store, ref)
    store._con.begin()
    try:
        store._con.execute("UPDATE finding_runs SET pinned = (run_id = ?) WHERE kind = ?",
                          [run.run_id, run.kind])
        store._con.commit()
    except Exception:
        store._con.rollback()
        raise
    return find_run(store, run.run_id)


def unpin_run(store: EventStore, ref: str) -> RunInfo:
    """Unpin a run: readers go back to the latest run of its kind."""
    run = find_run(store, ref)
    store._con.execute("UPDATE finding_runs SET pinned = false WHERE run_id = ?", [run.run_id])
    return find_run(store, run.run_id)


def show_run(store: EventStore, ref: str, *, clearance: str = "red") -> dict[str, Any]:
    """A run with its summary and items (those at or below ``clearance``)."""
    info = find_run(store, ref)
    run = latest_run(store, info.kind, clearance=clearance, run_id=info.run_id)
    return {**info.to_dict(), "summary": run.summary, "items": list(run.items),
            "withheld": run.withheld}


def diff_runs(store: EventStore, ref_a: str, ref_b: str, *, clearance: str = "red"
              ) -> dict[str, Any]:
    """What changed from run A to run B of one kind (see the module docstring)."""
    a, b = find_run(store, ref_a), find_run(store, ref_b)
    if a.kind != b.kind:
        raise StoreError(f"runs {a.run_id[:12]} ({a.kind}) and {b.run_id[:12]} ({b.kind}) are "
                         "of different kinds; compare two runs of one analysis")
    run_a = latest_run(store, a.kind, clearance=clearance, run_id=a.run_id)
    run_b = latest_run(store, b.kind, clearance=clearance, run_id=b.run_id)
    return {"kind": a.kind, "a": a.to_dict(), "b": b.to_dict(),
            **compare_items(a.kind, run_a, run_b)}


def compare_items(kind: str, run_a: FindingRun | None, run_b: FindingRun | None
                  ) -> dict[str, Any]:
    """Appeared, disappeared and changed findings between two runs of ``kind`` (either may be
    None: nothing); a change lists each displayed field that differs, from and to."""
    declared = get_kind(kind)
    old = {i["finding_id"]: i for i in (run_a.items if run_a else ())}
    new = {i["finding_id"]: i for i in (run_b.items if run_b else ())}
    fields = [*declared.display, "tlp"]

    def label(item: dict[str, Any]) -> dict[str, Any]:
        return {"finding_id": item["finding_id"], "key": declared.key(item),
                **{f: item.get(f) for f in fields}}

    changed = []
    for fid in (f for f in new if f in old):
        moved = {f: {"from": old[fid].get(f), "to": new[fid].get(f)} for f in fields
                 if old[fid].get(f) != new[fid].get(f)}
        if moved:
            changed.append({"finding_id": fid, "key": declared.key(new[fid]), "changes": moved})
    return {"appeared": [label(new[f]) for f in new if f not in old],
            "disappeared": [label(old[f]) for f in old if f not in new],
            "changed": changed,
            "unchanged": sum(1 for f in new if f in old) - len(changed),
            "withheld": {"a": run_a.withheld if run_a else 0,
                         "b": run_b.withheld if run_b else 0}}
