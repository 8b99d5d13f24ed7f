"""The store's findings as one STIX 2.1 bundle, marked object by object with TLP 2.0.

What goes in: the current run of every analysis (``findings_store``: the pinned one, else the
latest), each finding as the objects of ``stix_finding_objects``, its evidence events as the objects of ``stix_evidence``,
per run a ``grouping`` and a ``note`` with the run's parameters, one ``report`` of everything,
the producer ``identity`` and the TLP 2.0 ``marking-definition``s used.

Markings are enforced, not just written:

* an object is exported only if its level is at or below the requested TLP. A finding's level
  is the most restrictive of its stored level, its evidence events and the findings it cites —
  so a finding is never shared without its evidence, and evidence never leaks through it;
* containers (``report``, ``grouping``) are marked with the most restrictive level of what they
  hold and reference only exported objects;
* objects that came from a partner keep their own markings (the TLP 2.0 one added if absent).

Ids are uuid5 of finding ids, event ids and run kinds; timestamps come from the run and ingest
times, so exporting the same store twice gives the same bytes, and importing the bundle into an
empty store and exporting again gives the same bundle (see ``model.stix_findings``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from hybridwatch.model.stix_findings import (
    TARGETS_EXTENSION_ID, TARGETS_EXTENSION_SCHEMA, map_event_refs, note_content, stix_uuid,
)
from hybridwatch.errors import SelectorError
from hybridwatch.model.tlp import (
    TLP2_CREATED, TLP2_MARKING_IDS, TLP_LEVELS, most_restricted, parse_level, tlp2_marking, tlp_rank,
)
from hybridwatch.outputs.identity import (
    stix_identity_id, stix_identity_object, validate_org_name,
)
from hybridwatch.outputs.stix_evidence import Evidence, evidence_for, fetch_events
from hybridwatch.outputs.stix_finding_objects import FindingContext, build_finding
from hybridwatch.outputs.stix_model_card import model_card_note
from hybridwatch.outputs.stix_objects import (
    REFERENCE_TIMESTAMP, Obj, actor_id, country_actor, country_location, derived,
    producer_identity, relationship, sdo, stix_time,
)
from hybridwatch.model.finding_kinds import get_kind, kinds
from hybridwatch.store.findings_store import latest_run
from hybridwatch.store.narratives_store import narrative_labels
from hybridwatch.store.reviews_store import reviews_of
from hybridwatch.store.store import EventStore

DEFAULT_ORG = "hybridwatch"
_CONTAINERS = ("report", "grouping")


def default_org() -> str:
    """``$HYBRIDWATCH_ORG`` or "hybridwatch"."""
    return os.environ.get("HYBRIDWATCH_ORG") or DEFAULT_ORG


@dataclass(frozen=True)
class StixExport:
    """A bundle and what went into it: findings exported and withheld (above the TLP) per kind,
    objects per type, and when each object was added (for TAXII's ``date_added``)."""

    bundle: dict[str, Any]
    tlp: str
    org: str
    exported: dict[str, int]
    withheld: dict[str, int]
    added: dict[str, str] = field(repr=False)

    @property
    def objects(self) -> list[Obj]:
        return self.bundle["objects"]

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for obj in self.objects:
            found[obj["type"]] = found.get(obj["type"], 0) + 1
        return dict(sorted(found.items()))

    def to_json(self) -> str:
        # no indent: Python's C encoder only runs without one (5× faster on big bundles)
        return json.dumps(self.bundle, ensure_ascii=False)

    def to_dict(self) -> dict[str, Any]:
        """What was exported, without the bundle itself."""
        return {"bundle_id": self.bundle["id"], "tlp": self.tlp, "org": self.org,
                "objects": len(self.objects), "by_type": self.counts(),
                "findings": self.exported, "withheld": self.withheld}


def main_stix_id(kind: str, finding_id: str) -> str:
    """The id of a finding's main object (campaign, grouping or note)."""
    main = get_kind(kind).stix_type
    return f"{main}--{stix_uuid(main, 'finding:' + finding_id)}"


class _Collector:
    """Objects in bundle order with their TLP level and the date they were added."""

    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        self.levels: dict[str, str] = {}
        self.added: dict[str, str] = {}
        self.verbatim: set[str] = set()

    def add(self, obj: Obj, level: str, added: str, *, verbatim: bool = False) -> None:
        if obj["id"] in self.objects:
            return
        self.objects[obj["id"]] = obj
        self.levels[obj["id"]] = level
        self.added[obj["id"]] = added
        if verbatim:
            self.verbatim.add(obj["id"])


def export_stix(store: EventStore, *, tlp: str = "amber", org: str | None = None) -> StixExport:
    """Export the store's latest findings up to TLP level ``tlp`` as a STIX 2.1 bundle."""
    tlp = parse_level(tlp, option="--tlp")
    try:
        org = validate_org_name(org or default_org())
    except ValueError as exc:
        raise SelectorError(f"--org: {exc}") from None
    org_id = stix_identity_id(org)
    # each run as a reader cleared for ``tlp`` sees it: its items and its summary (a partial
    # one when the run read records above ``tlp``: the run's note travels with the bundle)
    runs = [run for kind in kinds()
            if (run := latest_run(store, kind.name, clearance=tlp)) is not None]
    kept, events = _findings_within(store, runs, tlp_rank(tlp))
    evidence = _evidence_objects(kept, events, org_id)
    out = _Collector()
    for level in TLP_LEVELS:
        out.add(tlp2_marking(level), "clear", TLP2_CREATED)
    out.add(producer_identity(org), "clear", REFERENCE_TIMESTAMP)
    kind_of = {item["finding_id"]: run.kind for run in runs for item in run.items}
    exported_ids = {i["finding_id"] for pairs in kept.values() for i, _ in pairs}
    labels = narrative_labels(store) if kept.get("narrative_sync") else {}
    countries: set[str] = set()
    actors: set[str | None] = set()
    for run in runs:
        producer = run.summary.get("producer") or {}
        if producer:
            out.add(producer_identity(producer["name"], producer["id"]), "clear",
                    REFERENCE_TIMESTAMP)
        ctx = FindingContext(
            kind=run.kind, stamp=stix_time(run.created_at),
            creator_id=producer.get("id") or org_id,
            evidence_id=lambda e: evidence[e].obj["id"] if e in evidence else None,
            finding_ref=lambda f: main_stix_id(kind_of[f], f) if f in exported_ids else None,
            narrative_label=labels.get, summary=run.summary,
            run_group_id=f"grouping--{stix_uuid('grouping', f'run:{run.kind}:{tlp}')}")
        for obj, level, built in _run_objects(run, kept.get(run.kind, []), ctx, evidence, tlp):
            out.add(obj, level, ctx.stamp)
            if built is not None:
                countries |= built.countries
                actors |= built.actors
        if run.kind == "assessment":   # the model behind the judgements travels with them
            # marked at the export's ceiling: the card is built from the run as read at ``tlp``,
            # and no item's level decides it (fail closed, never the level of the last item)
            out.add(model_card_note(store, run, stamp=ctx.stamp, creator_id=ctx.creator_id,
                                    group_id=ctx.run_group_id, tlp=tlp), tlp, ctx.stamp)
    for item in evidence.values():
        countries |= item.countries
        actors |= item.actors
        if item.identity:
            out.add(item.identity, "clear", REFERENCE_TIMESTAMP)
        out.add(item.obj, item.level, item.added, verbatim=item.verbatim)
        for rel in item.related:
            out.add(rel, item.level, item.added)
    for pairs in kept.values():
        for item, level in pairs:
            for review in _review_opinions(store, item, org_id):
                out.add(review, level, review["created"])
    _add_references(out, countries, {a for a in actors if a})
    _close_containers(out, org_id)
    published = max((stix_time(run.created_at) for run in runs), default=REFERENCE_TIMESTAMP)
    bundle = _bundle(out, org_id, tlp, published)
    exported = {kind: len(pairs) for kind, pairs in kept.items()}
    withheld = {run.kind: run.withheld + len(run.items) - exported.get(run.kind, 0)
                for run in runs}
    return StixExport(bundle, tlp, org, exported, withheld, dict(out.added))


Kept = dict[str, list[tuple[dict[str, Any], str]]]


def _findings_within(store: EventStore, runs, ceiling: int
                     ) -> tuple[Kept, dict[str, dict[str, Any]]]:
    """Per kind, the items (with their effective level) at or below ``ceiling``, and the
    evidence events of the candidates. The effective level is the most restricted of the
    item's own, its events' and the findings it cites."""
    finding_tlp = {item["finding_id"]: item["tlp"] for run in runs for item in run.items}
    wanted = [e for run in runs for item in run.items if tlp_rank(item["tlp"]) <= ceiling
              for e in _event_refs(item)]
    events = {row["event_id"]: row for row in fetch_events(store, wanted)}

    def level_of(item: dict[str, Any]) -> str:
        cited = [finding_tlp.get(e.get("finding_id"), "clear")
                 for e in item.get("evidence") or [] if isinstance(e, dict)]
        return most_restricted([item["tlp"], *cited,
                        *(events[e]["tlp"] for e in _event_refs(item) if e in events)])

    kept = {run.kind: [(item, level) for item in run.items if tlp_rank(item["tlp"]) <= ceiling
                       if tlp_rank(level := level_of(item)) <= ceiling] for run in runs}
    return kept, events


def _evidence_objects(kept: Kept, events: dict[str, dict[str, Any]], org_id: str
                      ) -> dict[str, Evidence]:
    """One evidence object per event cited by an exported finding, in citation order."""
    evidence: dict[str, Evidence] = {}
    for pairs in kept.values():
        for item, _ in pairs:
            for event_id in _event_refs(item):
                if event_id in events and event_id not in evidence:
                    evidence[event_id] = evidence_for(events[event_id], org_id)
    # a partner's report is shared as itself only with everything it holds; else as a sighting
    shared = {item.obj["id"] for item in evidence.values()}
    for event_id, item in evidence.items():
        if item.verbatim and item.obj["type"] in _CONTAINERS \
                and not set(item.obj.get("object_refs") or []) <= shared:
            evidence[event_id] = evidence_for(item.row, org_id, original=False)
    return evidence


def _run_objects(run, pairs: list[tuple[dict[str, Any], str]], ctx: FindingContext,
                 evidence: dict[str, Evidence], tlp: str):
    """``(object, level, Built or None)`` for a run's findings, its grouping and its note."""
    members: list[str] = []
    for position, (item, level) in enumerate(pairs):
        record_item = {k: v for k, v in item.items() if k not in ("finding_id", "tlp")}
        record_item = map_event_refs(
            record_item, lambda e: evidence[e].obj["id"] if e in evidence else e)
        label = ctx.narrative_label(item.get("narrative")) if ctx.kind == "narrative_sync" \
            else None
        if label:  # the label travels with the finding: the importing store has no narratives
            record_item.setdefault("narrative_label", label)
        built = build_finding(item, position, record_item, ctx)
        for obj in built.objects:
            yield obj, level, built
            if obj["type"] != "relationship":
                members.append(obj["id"])
    level = most_restricted(lv for _, lv in pairs)
    summary = {k: v for k, v in run.summary.items() if k != "producer"}
    note = sdo("note", f"run:{run.kind}:{tlp}", ctx.stamp, created_by_ref=ctx.creator_id,
               abstract=f"hybridwatch {run.kind}: run {run.run_id[:12]}, {ctx.stamp[:10]}",
               content=note_content(_run_text(run.kind, run.summary), {
                   "hybridwatch": "run", "kind": run.kind, "run_id": run.run_id,
                   "created_at": run.created_at.isoformat(), "summary": summary}),
               object_refs=[ctx.run_group_id], external_references=derived(f"run/{run.kind}"))
    group = sdo("grouping", f"run:{run.kind}:{tlp}", ctx.stamp, created_by_ref=ctx.creator_id,
                name=f"hybridwatch {run.kind} findings", context="suspicious-activity",
                description=f"The findings of {run.kind} run {run.run_id[:12]} ({ctx.stamp[:10]}) "
                            f"shareable at TLP:{tlp.upper()} or below.",
                object_refs=[*members, note["id"]], external_references=derived(f"run/{run.kind}"))
    yield group, level, None
    yield note, level, None


#: An analyst's verdict as a STIX opinion on the finding.
_OPINION_OF_VERDICT = {"confirmed": "agree", "rejected": "disagree", "needs-work": "neutral"}


def _review_opinions(store: EventStore, item: dict[str, Any], org_id: str) -> list[Obj]:
    """Each analyst review of an exported finding as an ``opinion`` on its main object, at
    the finding's level (the analyst's name in ``authors``, the note in ``explanation``)."""
    fid = item["finding_id"]
    opinions = []
    for review in reviews_of(store, fid):
        stamp = stix_time(review.reviewed_at)
        opinions.append(sdo(
            "opinion", f"review:{review.review_id}:{fid}", stamp, created_by_ref=org_id,
            opinion=_OPINION_OF_VERDICT[review.verdict], authors=[review.analyst],
            explanation=f"Analyst review: {review.verdict}." + (
                f" {review.note}" if review.note else ""),
            object_refs=[main_stix_id(review.kind, fid)],
            external_references=derived(f"review/{review.kind}/{fid}/{review.review_id}")))
    return opinions


def _add_references(out: _Collector, countries: set[str], actors: set[str]) -> None:
    """Add the reference objects (country locations, country actors, the unknown actor) that
    exported objects point to — found by id, so objects of a partner's bundle that point to
    ours (a re-imported sighting) bring them along too."""
    import pycountry

    codes = {c.alpha_3 for c in pycountry.countries} | countries | actors
    catalog: dict[str, tuple[Obj, list[Obj]]] = {actor_id(None): (country_actor(None), [])}
    catalog[TARGETS_EXTENSION_ID] = (_targets_extension(), [stix_identity_object("hybridwatch")])
    for iso3 in codes:
        location = country_location(iso3, _iso2(iso3))
        catalog[location["id"]] = (location, [])
        link = relationship("located-at", actor_id(iso3), location["id"], REFERENCE_TIMESTAMP)
        catalog[actor_id(iso3)] = (country_actor(iso3), [link, location])
    wanted = sorted({ref for obj in out.objects.values() for ref in _refs(obj)
                     if ref in catalog and ref not in out.objects})
    added: list[Obj] = []
    for ref in wanted:
        obj, company = catalog[ref]
        added += [obj, *company]
    # reference objects go right after markings and identities, before what points to them
    existing = list(out.objects.items())
    head = [(i, o) for i, o in existing if o["type"] in ("marking-definition", "identity")]
    out.objects.clear()
    out.objects.update(head)
    for obj in sorted({o["id"]: o for o in added}.values(), key=lambda o: (o["type"], o["id"])):
        out.add(obj, "clear", REFERENCE_TIMESTAMP)
    out.objects.update(existing)


def _targets_extension() -> Obj:
    """The extension-definition of the targets our sightings carry (model.stix_findings)."""
    return {"type": "extension-definition", "spec_version": "2.1", "id": TARGETS_EXTENSION_ID,
            "created": REFERENCE_TIMESTAMP, "modified": REFERENCE_TIMESTAMP,
            "created_by_ref": stix_identity_id("hybridwatch"),
            "name": "hybridwatch event targets", "schema": TARGETS_EXTENSION_SCHEMA,
            "version": "1.0.0", "extension_types": ["property-extension"]}


def _refs(obj: Obj) -> list[str]:
    refs = [obj.get(k) for k in ("sighting_of_ref", "source_ref", "target_ref")]
    refs += obj.get("object_refs") or []
    refs += obj.get("where_sighted_refs") or []
    refs += [key for key in obj.get("extensions") or {} if key == TARGETS_EXTENSION_ID]
    refs += [ref for ext in (obj.get("extensions") or {}).values() if isinstance(ext, dict)
             for ref in ext.get("target_refs") or []]
    return [r for r in refs if isinstance(r, str)]


def _event_refs(item: dict[str, Any]) -> list[str]:
    refs = [e for e in item.get("event_ids") or [] if isinstance(e, str)]
    refs += [e["event_id"] for e in item.get("evidence") or []
             if isinstance(e, dict) and isinstance(e.get("event_id"), str)]
    return refs


def _iso2(iso3: str) -> str | None:
    import pycountry

    country = pycountry.countries.get(alpha_3=iso3)
    return country.alpha_2 if country else None




def _run_text(kind: str, summary: dict[str, Any]) -> str:
    span = f"{summary.get('start')} to {summary.get('end')}" if summary.get("start") else ""
    parameters = summary.get("parameters")
    text = f"hybridwatch {kind} run" + (f" over {span}" if span else "") + "."
    if isinstance(parameters, dict) and parameters:
        text += " Parameters: " + ", ".join(f"{k} = {v}" for k, v in sorted(parameters.items()))
    warnings = summary.get("warnings") or []
    if warnings:
        text += "\nWarnings: " + " ".join(str(w) for w in warnings)
    return text


def _close_containers(out: _Collector, org_id: str) -> None:
    """Containers reference only exported objects and take their most restrictive level; then
    every object of ours gets its marking."""
    ids = set(out.objects)
    for obj_id, obj in out.objects.items():
        if obj["type"] in _CONTAINERS and obj.get("object_refs") and obj_id not in out.verbatim:
            refs = [r for r in obj["object_refs"] if r in ids] or [org_id]
            obj["object_refs"] = refs
            out.levels[obj_id] = most_restricted([out.levels[obj_id], *(out.levels[r] for r in refs)])
    for obj_id, obj in out.objects.items():
        if obj["type"] == "marking-definition" or obj_id in out.verbatim:
            continue
        obj["object_marking_refs"] = [TLP2_MARKING_IDS[out.levels[obj_id]]]


def _bundle(out: _Collector, org_id: str, tlp: str, stamp: str) -> dict[str, Any]:
    members = [i for i, o in out.objects.items() if o["type"] != "marking-definition"]
    report = sdo("report", f"export:{org_id}:{tlp}", stamp, created_by_ref=org_id,
                 name=f"hybridwatch findings up to TLP:{tlp.upper()}", published=stamp,
                 report_types=["threat-report"], object_refs=members,
                 description="Multi-domain episodes, coinciding series, narrative "
                             "synchronisation, convergence and risk assessments with the "
                             "evidence behind them, as computed by hybridwatch.",
                 external_references=derived("export"))
    level = most_restricted(out.levels[i] for i in members)
    report["object_marking_refs"] = [TLP2_MARKING_IDS[level]]
    out.add(report, level, stamp)
    used = {r for o in out.objects.values() for r in o.get("object_marking_refs", ())}
    objects = [o for o in out.objects.values()
               if o["type"] != "marking-definition" or o["id"] in used]
    # objects are versioned by (id, modified): that identifies the bundle's content
    digest = hashlib.sha256("\n".join(
        f"{o['id']} {o.get('modified', o.get('created'))} {o.get('object_marking_refs')}"
        for o in objects).encode()).hexdigest()
    return {"type": "bundle", "id": f"bundle--{stix_uuid('bundle', digest)}", "objects": objects}
