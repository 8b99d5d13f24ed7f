"""DISARM technique tags for the store's disinformation cases and narratives.

Cases: events with ``source_type = 'disinformation_case'`` (EUvsDisinfo), tagged from their
title and EUvsDisinfo keywords. Narratives: each narrative's most typical headlines (up to
``per_narrative``) are tagged one by one; a technique is kept for the narrative when at least
two of those headlines carry it (one when the narrative has fewer than five), with the highest
confidence among them and that headline's evidence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from typing import Any

from hybridwatch.analyses.narratives_disarm import DisarmTagger
from hybridwatch.model.disarm import disarm_framework
from hybridwatch.store import EventStore
from hybridwatch.store.event_queries import events_of_type
from hybridwatch.store.narratives_store import typical_headlines


def disarm_tags(store: EventStore, *, limit: int | None = None, per_narrative: int = 50,
                tagger: DisarmTagger | None = None) -> dict[str, Any]:
    """``framework`` (version, licence), ``cases`` and ``narratives`` with their ``techniques``
    (each ``technique``, ``name``, ``tactic``, ``confidence``, ``evidence``, ``method``)."""
    tagger = tagger or DisarmTagger()
    framework = disarm_framework()
    return {"framework": {"name": "DISARM Red Framework", "version": framework.version,
                          "licence": framework.licence, "attribution": framework.attribution},
            "cases": _cases(store, tagger, limit),
            "narratives": _narratives(store, tagger, per_narrative)}


def _cases(store: EventStore, tagger: DisarmTagger, limit: int | None) -> list[dict]:
    rows = events_of_type(store, "disinformation_case", limit=limit)
    keywords = [json.loads(extra or "{}").get("keywords") or [] for *_, extra in rows]
    tags = tagger.tag([title or "" for _, title, *_ in rows], keywords)
    return [{"event_id": event_id, "title": title, "url": url,
             "occurred_at": occurred.isoformat() if occurred else None,
             "techniques": [t.to_dict() for t in found]}
            for (event_id, title, occurred, url, _), found in zip(rows, tags)]


@lru_cache(maxsize=1)
def default_tagger() -> DisarmTagger:
    """The shipped rules and classifier, fitted once per process (fitting takes seconds)."""
    return DisarmTagger()


def narrative_techniques(store: EventStore, narrative_ids: list[str], *,
                         per_narrative: int = 50, tagger: DisarmTagger | None = None
                         ) -> dict[str, list[dict]]:
    """The DISARM techniques of the given narratives (as ``disarm_tags`` finds them), by
    narrative id; a narrative without a supported technique maps to ``[]``."""
    if not narrative_ids:
        return {}
    found = {n["narrative_id"]: n["techniques"]
             for n in _narratives(store, tagger or default_tagger(), per_narrative,
                                  list(narrative_ids))}
    return {narrative_id: found.get(narrative_id, []) for narrative_id in narrative_ids}


def _narratives(store: EventStore, tagger: DisarmTagger, per_narrative: int,
                narrative_ids: list[str] | None = None) -> list[dict]:
    rows = typical_headlines(store, per_narrative, narrative_ids)
    tags = tagger.tag([title for *_, title in rows])
    by_narrative: dict[str, dict] = {}
    found: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for (narrative_id, label, terms, title), headline_tags in zip(rows, tags):
        by_narrative.setdefault(narrative_id, {"narrative_id": narrative_id, "label": label,
                                               "terms": json.loads(terms or "[]"),
                                               "headlines": 0})
        by_narrative[narrative_id]["headlines"] += 1
        for tag in headline_tags:
            found[narrative_id][tag.technique].append((tag, title))
    out = []
    for narrative_id, entry in by_narrative.items():
        needed = 2 if entry["headlines"] >= 5 else 1
        techniques = []
        for hits in found[narrative_id].values():
            if len(hits) < needed:
                continue
            best, headline = max(hits, key=lambda h: h[0].confidence)
            techniques.append({**best.to_dict(), "evidence": f"{best.evidence} — «{headline}»",
                               "headlines_tagged": len(hits)})
        techniques.sort(key=lambda t: (-t["confidence"], t["technique"]))
        out.append({**entry, "techniques": techniques})
    return out
