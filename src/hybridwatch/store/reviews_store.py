"""Analyst reviews of findings: the human in the loop.

An analyst confirms, rejects or marks as needing work one finding (an episode, a coinciding
pair, a narrative synchronisation, a judgement …), with a note. A review names the finding by
its id (the same in every run that finds it again) and records the run it was reviewed in;
the latest review of a finding is its verdict. Rejected findings leave the briefing (which
counts them, with their notes, in its annex); the STIX export carries reviews as ``opinion``
objects. Every review is also written to the audit log, with who made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hybridwatch.errors import SelectorError, StoreError
from hybridwatch.store.access_store import audit, ensure_access_tables
from hybridwatch.store.findings_store import CURRENT_RUNS_SQL, has_findings
from hybridwatch.store.schema import REVIEWS_DDL
from hybridwatch.store.store import EventStore

VERDICTS = ("confirmed", "rejected", "needs-work")
#: Notes are free text for people; long enough for a paragraph, short enough for a briefing.
MAX_NOTE = 2000



@dataclass(frozen=True)
class Review:
    review_id: int
    finding_id: str
    kind: str
    run_id: str
    verdict: str
    note: str
    analyst: str
    reviewed_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"review_id": self.review_id, "finding_id": self.finding_id, "kind": self.kind,
                "run_id": self.run_id, "verdict": self.verdict, "note": self.note,
                "analyst": self.analyst, "reviewed_at": self.reviewed_at.isoformat() + "Z"}


def _present(store: EventStore) -> bool:
    return bool(store._con.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_name = 'finding_reviews'").fetchall()[0][0])


def _resolve(store: EventStore, ref: str) -> tuple[str, str, str]:
    """(finding id, kind, run id) of the finding ``ref`` names (its id or a unique prefix of
    at least 8 characters), as its kind's current run holds it."""
    ref = ref.strip().lower()
    if not has_findings(store) or len(ref) < 8:
        raise StoreError(f"no finding {ref!r} in this store (give its id, or at least its "
                         "first 8 characters)")
    rows = store._con.execute(
        f"SELECT DISTINCT f.finding_id, f.kind, f.run_id FROM findings f "
        f"JOIN ({CURRENT_RUNS_SQL}) c USING (run_id) WHERE f.finding_id LIKE ? || '%'",
        [ref]).fetchall()
    if not rows:
        raise StoreError(f"no finding {ref!r} in the current runs of this store "
                         "(`hybridwatch findings show RUN --json` lists a run's finding ids)")
    if len(rows) > 1:
        raise StoreError(f"finding {ref!r} is ambiguous: {', '.join(r[0] for r in rows)}")
    return rows[0]


def record_review(store: EventStore, ref: str, *, verdict: str, note: str, analyst: str,
                  token_id: str | None = None, role: str | None = None) -> Review:
    """Record an analyst's verdict on a finding, and the review in the audit log."""
    verdict = verdict.strip().lower()
    if verdict not in VERDICTS:
        raise SelectorError(f"--verdict: {verdict!r} is not one of {', '.join(VERDICTS)}")
    note, analyst = note.strip(), analyst.strip()
    if not analyst:
        raise SelectorError("--analyst: say who reviewed it")
    if len(note) > MAX_NOTE:
        raise SelectorError(f"--note: {len(note)} characters; at most {MAX_NOTE}")
    if verdict != "confirmed" and not note:
        raise SelectorError(f"--note: a {verdict} verdict needs a note saying why")
    finding_id, kind, run_id = _resolve(store, ref)
    store._con.execute(REVIEWS_DDL)
    ensure_access_tables(store)   # before the transaction: a failed statement would end it
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    store._con.begin()
    try:
        number = store._con.execute("SELECT coalesce(max(review_id), 0) + 1 "
                                   "FROM finding_reviews").fetchall()[0][0]
        store._con.execute("INSERT INTO finding_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [number, finding_id, kind, run_id, verdict, note, analyst, now])
        audit(store, action="review", resource=f"findings/{finding_id}", token_id=token_id,
              name=analyst, role=role, detail={"verdict": verdict, "kind": kind,
                                               "run_id": run_id, "review_id": int(number)})
        store._con.commit()
    except Exception:
        store._con.rollback()
        raise
    return Review(int(number), finding_id, kind, run_id, verdict, note, analyst, now)


def latest_reviews(store: EventStore) -> dict[str, Review]:
    """Each reviewed finding's latest review, by finding id."""
    if not _present(store):
        return {}
    rows = store._con.execute("""
        SELECT * FROM finding_reviews
        QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY review_id DESC) = 1"""
                             ).fetchall()
    return {row[1]: Review(*row) for row in rows}


def reviews_of(store: EventStore, finding_id: str) -> list[Review]:
    """Every review of a finding, oldest first."""
    if not _present(store):
        return []
    return [Review(*row) for row in store._con.execute(
        "SELECT * FROM finding_reviews WHERE finding_id = ? ORDER BY review_id",
        [finding_id]).fetchall()]
