"""The dashboard's overview: key judgements and how much lies behind them."""

from __future__ import annotations

from typing import Any

from hybridwatch.store.findings_store import latest_run
from hybridwatch.store.store import EventStore
from hybridwatch.web.queries import ROLLUP_TABLE, visible_clause


def build_overview(store: EventStore, clearance: str) -> dict[str, Any]:
    """Counts of visible events (from the daily rollup ``queries.build_rollup``), the assessments' statements (most likely first), the last
    convergence period, and the number of episodes, pairs and narratives — each with the
    number withheld above ``clearance``."""
    visible = visible_clause(clearance)
    n_visible, n_withheld, first, last = store.con.execute(
        f"SELECT coalesce(sum(n_events) FILTER (WHERE {visible}), 0), "
        f"coalesce(sum(n_events) FILTER (WHERE NOT {visible}), 0), "
        f"min(occurred_at) FILTER (WHERE {visible}), max(occurred_at) FILTER (WHERE {visible}) "
        f"FROM {ROLLUP_TABLE}").fetchall()[0]
    runs = {kind: latest_run(store, kind, clearance=clearance)
            for kind in ("assessment", "convergence", "episodes", "coincidences",
                         "narrative_sync")}
    withheld = n_withheld + sum(run.withheld for run in runs.values() if run)
    judgements = []
    if runs["assessment"]:
        for item in sorted(runs["assessment"].items,
                           key=lambda i: -(i.get("probability") or 0)):
            judgements.append({k: item.get(k) for k in (
                "finding_id", "target", "statement", "outcome", "probability", "low", "high",
                "phia_term", "confidence", "tlp")})
    convergence = None
    if runs["convergence"] and runs["convergence"].items:
        known = [i for i in runs["convergence"].items if i.get("index") is not None]
        latest = (known or list(runs["convergence"].items))[-1]
        summary = runs["convergence"].summary
        convergence = {"a": summary.get("a"), "b": summary.get("b"), **{
            k: latest.get(k) for k in ("period", "index", "low", "high", "confidence")}}
    assessment_summary = runs["assessment"].summary if runs["assessment"] else {}

    def counted(kind: str, significant: bool = False) -> dict[str, int] | None:
        run = runs[kind]
        if run is None:
            return None
        items = [i for i in run.items if not significant or i.get("significant")]
        return {"count": len(items), "withheld": run.withheld}

    return {
        "clearance": clearance,
        "events": {"count": int(n_visible), "withheld": int(n_withheld),
                   "first_day": first.isoformat() if first else None,
                   "last_day": last.isoformat() if last else None},
        "judgements": judgements,
        "horizon_days": assessment_summary.get("horizon_days"),
        "as_of": assessment_summary.get("as_of"),
        "caution": assessment_summary.get("caution"),
        "backtest_verdict": (assessment_summary.get("backtest") or {}).get("verdict"),
        "convergence": convergence,
        "episodes": counted("episodes"),
        "significant_pairs": counted("coincidences", significant=True),
        "synchronised_narratives": counted("narrative_sync", significant=True),
        "withheld": withheld,
    }
