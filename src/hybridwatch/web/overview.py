"""The dashboard's overview: key judgements and how much lies behind them."""

from __future__ import annotations

from typing import Any

from hybridwatch.model.finding_kinds import kinds
from hybridwatch.store.findings_store import latest_run
from hybridwatch.store.store import EventStore
from hybridwatch.store.event_views import rollup_totals


def build_overview(store: EventStore, clearance: str) -> dict[str, Any]:
    """Counts of visible events (from the daily rollup, ``store.event_views``), the
    assessments' statements (most likely first), the last convergence period, and per finding
    kind its dashboard counter (episodes, significant pairs …) — each with the number withheld
    above ``clearance``. Counters come from the finding-kind registry: a kind's ``dashboard``
    names the key, and a kind with a significance field counts its significant items."""
    n_visible, n_withheld, first, last = rollup_totals(store, clearance)
    runs = {kind.name: latest_run(store, kind.name, clearance=clearance) for kind in kinds()}
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

    def counted(kind) -> dict[str, int] | None:
        run = runs[kind.name]
        if run is None:
            return None
        flag = kind.significant_field
        items = [i for i in run.items if flag is None or i.get(flag)]
        return {"count": len(items), "withheld": run.withheld}

    # judgements and convergence are shown above, not counted
    counted_kinds = [kind for kind in kinds() if kind.name not in ("assessment", "convergence")]
    counters = {kind.dashboard: counted(kind) for kind in counted_kinds}
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
        **counters,
        # the same, in registry order with labels, for the dashboard to list every kind run
        "counters": [{"kind": kind.name, "key": kind.dashboard, "route": kind.api_route,
                      "label": kind.dashboard_label or kind.title,
                      **(counters[kind.dashboard] or {"count": None, "withheld": 0})}
                     for kind in counted_kinds if counters[kind.dashboard] is not None
                     or not kind.optional],
        # the run of each kind shown (pinned, else the latest)
        "runs": [{"kind": kind, "run_id": run.run_id, "pinned": run.pinned,
                  "created_at": run.created_at.isoformat() + "Z"}
                 for kind, run in runs.items() if run is not None],
        "withheld": withheld,
    }
