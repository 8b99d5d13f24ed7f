"""Gather a briefing's content from the store into one view model (a dict for the template).

Everything shown comes from the findings store's latest runs and the events, articles and ingest
log they point to; nothing is recomputed. The briefing's TLP is the reader's clearance: items
and events above it are withheld and counted. The period narrows episodes, events, articles and
time series; coincidence pairs and narrative tests cover the span they were computed on, which
the briefing states.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hybridwatch.outputs.briefing.evidence as evidence
import hybridwatch.outputs.briefing.sections as sections
from hybridwatch import __version__
from hybridwatch.model.tlp import levels_readable_at, parse_level
from hybridwatch.outputs.briefing.evidence_summary import summarise
from hybridwatch.outputs.briefing.map_svg import phia_classes, render_map
from hybridwatch.outputs.briefing.period import Period, title_period
from hybridwatch.model.finding_kinds import get_kind, kinds
from hybridwatch.store.briefing_log import last_briefing
from hybridwatch.store.findings_store import latest_run
from hybridwatch.store.reviews_store import latest_reviews
from hybridwatch.store.run_history import compare_items
from hybridwatch.workflows.model_card import model_card
from hybridwatch.store.briefing_reads import coverage_rows, withheld_event_count
from hybridwatch.store.store import EventStore

#: Evidence rows per finding in the annex (the store holds the rest; the annex says how many);
#: the body summarises every event by day, actor and domain.
EVENTS_PER_FINDING = 30
ARTICLES_PER_NARRATIVE = 8
#: Narratives listed in the annex's catalogue, largest first.
CATALOGUE_SIZE = 40
#: Changed findings listed per kind in "What changed since the last briefing".
CHANGES_PER_KIND = 10


def check_tlp(tlp: str) -> str:
    return parse_level(tlp, option="--tlp")


def build_context(store: EventStore, *, tlp: str = "amber",
                  period: Period | str | None = None) -> dict[str, Any]:
    """The view model of a briefing at ``tlp`` for ``period`` (None: everything)."""
    started = time.perf_counter()
    tlp = check_tlp(tlp)
    if isinstance(period, str):
        period = Period.parse(period)
    db = store.path.name
    runs = {kind.name: latest_run(store, kind.name, clearance=tlp) for kind in kinds()}
    as_run = runs   # the runs as computed: what changed is told without the reviews
    runs, rejected = _apply_reviews(runs, latest_reviews(store))
    catalogue = _narrative_catalogue(store)
    ctx: dict[str, Any] = {
        "tlp": tlp, "tlp_label": f"TLP:{tlp.upper()}", "period": period,
        "period_label": period.label() if period else None,
        "kind_nouns": {kind.name: kind.noun for kind in kinds()},
    }
    given = sections.SectionInput(db, period, catalogue)
    for kind in kinds():
        ctx[kind.briefing_section] = sections.build_section(kind.name, runs[kind.name], given)
    # kinds without a template block of their own, in registry order (left out until run if
    # optional)
    ctx["generic_sections"] = [
        ctx[kind.briefing_section] for kind in kinds()
        if kind.name not in sections.SECTION_BUILDERS
        and (runs[kind.name] is not None or not kind.optional)]
    ctx["catalogue"] = {"narratives": list(catalogue.values())[:CATALOGUE_SIZE],
                        "total": len(catalogue)}
    ctx["map"] = _map(ctx)
    ctx["title_period"] = title_period(period, ctx)
    ctx["annex"], evidence_ids = _annex(store, ctx, tlp, period)
    # the model behind the judgements, in the annex (templates/model_card.html.j2)
    ctx["model_card"] = model_card(store, run=runs["assessment"]) if runs["assessment"] else None
    _link_judgement_evidence(ctx)
    ctx["coverage"] = _coverage(store, tlp, period)
    withheld = {kind: (run.withheld if run else 0) for kind, run in runs.items()}
    withheld["events"] = _withheld_events(store, evidence_ids, tlp, period)
    ctx["withheld"] = withheld
    ctx["withheld_total"] = sum(withheld.values())
    ctx["changes"] = changes_since_last(store, as_run, tlp)
    ctx["rejected"] = rejected
    ctx["meta"] = _metadata(store, runs, tlp, period, started)
    return ctx


def _apply_reviews(runs: dict[str, Any], reviews: dict[str, Any]
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Each item with its latest review (None: automated, not reviewed); rejected items taken
    out, and listed with the analyst's note for the annex."""
    rejected: list[dict[str, Any]] = []
    kept_runs: dict[str, Any] = {}
    for name, run in runs.items():
        if run is None or not reviews:
            kept_runs[name] = run
            continue
        kept = []
        for item in run.items:
            review = reviews.get(item["finding_id"])
            shown = None if review is None else {
                "verdict": review.verdict, "analyst": review.analyst, "note": review.note,
                "reviewed_at": review.reviewed_at.strftime("%Y-%m-%d %H:%M UTC")}
            if shown and review.verdict == "rejected":
                rejected.append({"kind": name, "title": get_kind(name).title,
                                 "key": get_kind(name).key(item),
                                 "finding_id": item["finding_id"], **shown})
            else:
                kept.append({**item, "review": shown})
        kept_runs[name] = replace(run, items=tuple(kept))
    return kept_runs, rejected


def changes_since_last(store: EventStore, runs: dict[str, Any], tlp: str) -> dict[str, Any]:
    """What changed between the runs the last logged briefing used and those this one uses,
    per kind, seen at this briefing's clearance (a finding above it is on neither side)."""
    previous = last_briefing(store)
    if previous is None:
        return {"previous": None, "kinds": []}
    changed = []
    for kind in kinds():
        run = runs[kind.name]
        before, now = previous["runs"].get(kind.name), run.run_id if run else None
        if before == now:
            continue
        old = latest_run(store, kind.name, clearance=tlp, run_id=before) if before else None
        diff = compare_items(kind.name, old, run)
        changed.append({
            "kind": kind.name, "title": kind.title, "noun": kind.noun,
            "from": before, "to": now, "appeared": [i["key"] for i in diff["appeared"]],
            "disappeared": [i["key"] for i in diff["disappeared"]],
            "n_changed": len(diff["changed"]),
            "changed": [{"key": c["key"], "text": "; ".join(
                f"{name.replace('_', ' ')} {_value(v['from'])} → {_value(v['to'])}"
                for name, v in c["changes"].items())}
                for c in diff["changed"][:CHANGES_PER_KIND]]})
    return {"previous": {**previous, "created_at": previous["created_at"].strftime(
        "%Y-%m-%d %H:%M UTC")}, "kinds": changed}


def _value(value: Any) -> str:
    if isinstance(value, float):
        return sections.num(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "–" if value is None else str(value)


def _narrative_catalogue(store: EventStore) -> dict[str, dict[str, Any]]:
    """Narratives by id, largest first, with example headlines; empty when none were built
    (checked first: listing would otherwise create the tables on a writable store)."""
    from hybridwatch.model.outlet_groups import load_outlet_groups
    from hybridwatch.store.narratives_store import list_narratives

    if not store.has_table("narratives"):
        return {}
    return {n["id"]: n for n in list_narratives(store, outlet_groups=load_outlet_groups(),
                                                n_examples=3)}


def _map(ctx: dict[str, Any]) -> dict[str, Any]:
    """Targets shaded by assessed probability when there is an assessment, else by the number
    of episodes that involve them."""
    judgements = ctx["assessment"].get("judgements") or []
    if judgements:
        values = {j["target"]: float(j["probability"]) for j in judgements
                  if j.get("probability") is not None}
        result = render_map(values, maximum=1.0, value_label=sections.pct,
                            legend_title="Assessed probability", classes=phia_classes())
        basis = "assessed probability of the outcome, one shade per PHIA term"
    else:
        values: dict[str, float] = {}
        for episode in ctx["episodes"].get("items") or []:
            for target in episode["targets"]:
                values[target] = values.get(target, 0) + 1
        if not values:
            return {"svg": None, "basis": None, "missing": []}
        result = render_map(values, maximum=max(5.0, max(values.values())),
                            value_label=lambda v: f"{v:.0f}", legend_title="Episodes")
        basis = "number of multi-domain episodes shown in this briefing"
    return {"svg": result.svg, "basis": basis, "missing": list(result.missing),
            "targets": [{"iso3": k, "name": sections.name_of(k), "value": v}
                        for k, v in sorted(values.items(), key=lambda kv: -kv[1])]}


def _annex(store: EventStore, ctx: dict[str, Any], tlp: str, period: Period | None
           ) -> tuple[list[dict[str, Any]], list[str]]:
    """Evidence groups, one per finding shown; the first row of an event gets its anchor."""
    groups: list[dict[str, Any]] = []
    referenced: list[str] = []
    for judgement in ctx["assessment"].get("judgements") or []:
        ids = [e["event_id"] for e in judgement["evidence"] if e.get("event_id")]
        referenced += ids
        found = evidence.events(store, ids, clearance=tlp, period=None, limit=len(ids) or 1)
        judgement["evidence_summary"] = summarise(store, ids, clearance=tlp)
        groups.append({"title": f"Key judgement: {judgement['target_name']} — "
                                f"{judgement.get('outcome', '')}",
                       "back": judgement["anchor"], "events": found, "articles": None,
                       "summary": None})
    for episode in ctx["episodes"].get("items") or []:
        referenced += episode["event_ids"]
        found = evidence.events(store, episode["event_ids"], clearance=tlp, period=period,
                                limit=EVENTS_PER_FINDING)
        episode["evidence_summary"] = summarise(store, episode["event_ids"], clearance=tlp,
                                                period=period)
        groups.append({"title": f"Episode {episode['number']}: {episode['start']} … "
                                f"{episode['end']}, {', '.join(episode['targets'])}",
                       "back": episode["anchor"], "events": found, "articles": None,
                       "summary": episode["evidence_summary"]})
    for row in ctx["narratives"].get("rows") or []:
        ids = (row.get("evidence") or {}).get("article_ids") or []
        found = evidence.articles(store, ids, period=period, limit=ARTICLES_PER_NARRATIVE)
        groups.append({"title": f"Narrative {row['narrative']}: {row['label']}",
                       "back": row["anchor"], "events": None, "articles": found,
                       "summary": None})
    seen: set[str] = set()
    for group in groups:
        for event in group["events"].rows if group["events"] else []:
            event["anchor"] = None if event["event_id"] in seen else f"e-{event['event_id']}"
            seen.add(event["event_id"])
    return groups, referenced


def _link_judgement_evidence(ctx: dict[str, Any]) -> None:
    """Point each judgement's evidence at where the briefing shows it (an episode or pair above,
    an event in the annex), else at its source URL; events are named by their annex title."""
    anchors = {item["finding_id"]: item["anchor"]
               for key in ("episodes", "coincidences")
               for item in ctx[key].get("items" if key == "episodes" else "pairs") or []}
    events = {row["event_id"]: row for group in ctx["annex"] if group["events"]
              for row in group["events"].rows}
    for judgement in ctx["assessment"].get("judgements") or []:
        linked = []
        for e in judgement["evidence"]:
            row = events.get(e.get("event_id"))
            text = (row["title"] if row else None) or e.get("title") or e.get("label") \
                or e.get("kind") or "evidence"
            href = anchors.get(e.get("finding_id")) or (f"e-{row['event_id']}" if row else None)
            linked.append({**e, "text": text, "href": href,
                           "link": None if href else evidence.safe_link(e.get("url"))})
        judgement["evidence"] = linked


def _allowed(tlp: str) -> list[str]:
    return list(levels_readable_at(tlp))


def _withheld_events(store: EventStore, event_ids: list[str], tlp: str,
                     period: Period | None) -> int:
    if not event_ids:
        return 0
    return withheld_event_count(store, event_ids, levels=_allowed(tlp),
                                since=period and period.since, until=period and period.until)


def _coverage(store: EventStore, tlp: str, period: Period | None) -> dict[str, Any]:
    """Events per source (only those the reader may see), articles per language, files read."""
    rows = coverage_rows(store, levels=_allowed(tlp), since=period and period.since,
                         until=period and period.until)
    sources, above, languages = rows["sources"], rows["above"], rows["languages"]
    files, quarantined = rows["files"], rows["quarantined"]
    return {
        "sources": [{"source": s, "events": n, "first": f, "last": last, "n_domains": d,
                     "n_targets": t, "domains": names or ""}
                    for s, n, f, last, d, t, names in sources],
        "events_above_tlp": above,
        "languages": [{"language": lang, "articles": n, "outlets": o, "first": f, "last": last}
                      for lang, n, o, f, last in languages],
        "files": [{"name": Path(p).name, "path": p, "format": fmt, "sha256": fp,
                   "size_bytes": size, "ingested": ing, "duplicates": dup, "quarantined": q,
                   "finished_at": done.strftime("%Y-%m-%d %H:%M UTC")}
                  for p, fmt, fp, size, ing, dup, q, done in files],
        "quarantined": quarantined,
    }


def _metadata(store: EventStore, runs: dict[str, Any], tlp: str, period: Period | None,
              started: float) -> dict[str, Any]:
    return {
        "version": __version__,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "db": str(store.path), "tlp": tlp,
        "period": period.to_dict() if period else None,
        "runs": [{"kind": kind, "run_id": run.run_id if run else None,
                  "pinned": run.pinned if run else False,
                  "created_at": run.created_at.strftime("%Y-%m-%d %H:%M UTC") if run else None,
                  "items": len(run.items) if run else 0, "withheld": run.withheld if run else 0,
                  "input_sha256": _input_hash(run.summary) if run else None}
                 for kind, run in runs.items()],
        "gather_seconds": round(time.perf_counter() - started, 3),
    }


def _input_hash(summary: dict[str, Any]) -> str | None:
    """The fingerprint of the data an analysis read, where the analysis recorded one."""
    provenance = summary.get("provenance") or {}
    return summary.get("input_sha256") or provenance.get("input_sha256")
