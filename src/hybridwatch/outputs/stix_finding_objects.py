"""Findings as STIX 2.1 objects, one builder per kind of analysis.

Every finding gets a main object and a ``note`` holding the finding's numbers (human text plus
the finding as JSON, see ``model.stix_findings``):

=================  ===========================================================================
finding            STIX
=================  ===========================================================================
episode            ``campaign`` (``first_seen``/``last_seen`` = the episode's days, ``labels`` =
                   its domains) ``targets`` each target country's ``location``; ``related-to``
                   the original STIX objects among its evidence
coinciding pair    ``grouping`` (context suspicious-activity) of the two series' actor-country
                   threat actors and target locations
narrative sync     ``grouping`` named after the narrative
assessment         the ``note`` is the statement (``object_refs``: the target's location and
                   the evidence); an ``opinion`` on it carries the probability as agreement
                   (PHIA term → opinion, see ``stix_objects.OPINION_BY_PHIA``) with the number,
                   interval and PHIA term in ``explanation``; both carry ``confidence``
convergence        one ``note`` per period on the two actor countries' threat actors
any other kind     the ``note`` alone (its registered ``display`` fields as text), referring
                   to its evidence events, else to the run's grouping
=================  ===========================================================================

The main object's type of each kind is declared in the finding-kind registry
(``model.finding_kinds``, ``stix_type``); builders for kinds with richer mappings are in
``_BUILDERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hybridwatch.model.finding_kinds import get_kind
from hybridwatch.model.stix_findings import note_content, stix_uuid
from hybridwatch.model.theatres import find_theatre, load_theatres
from hybridwatch.outputs.stix_objects import (
    REFERENCE_TIMESTAMP, Obj, actor_id, confidence_score, day_end, derived, location_id,
    opinion_of, relationship, sdo, stix_time,
)


@dataclass
class Built:
    """What one finding became: objects in order, and the references they need resolved."""

    main_id: str
    objects: list[Obj] = field(default_factory=list)
    countries: set[str] = field(default_factory=set)
    actors: set[str | None] = field(default_factory=set)


@dataclass(frozen=True)
class FindingContext:
    """What a builder needs besides the item: the run, the producer and the evidence map."""

    kind: str
    stamp: str                               # the run's time, as a STIX timestamp
    creator_id: str
    evidence_id: Callable[[str], str | None]  # event id → STIX id of its evidence object
    finding_ref: Callable[[str], str | None]  # finding id → STIX id of its main object
    narrative_label: Callable[[str], str | None]
    summary: dict[str, Any]                  # the run's summary (convergence names its pair)
    run_group_id: str                        # the run's grouping, for notes with nothing else


def build_finding(item: dict[str, Any], position: int, record_item: dict[str, Any],
                  ctx: FindingContext) -> Built:
    """The STIX objects of one finding; ``record_item`` is the item as the note's JSON."""
    fid = item["finding_id"]
    builder = _BUILDERS.get(ctx.kind, _generic)
    built, text, refs, extra = builder(item, fid, ctx)
    record = {"hybridwatch": "finding", "kind": ctx.kind, "finding_id": fid,
              "position": position, "item": record_item}
    note = sdo("note", f"finding:{fid}", ctx.stamp, created_by_ref=ctx.creator_id,
               abstract=text.split("\n")[0][:250], content=note_content(text, record),
               object_refs=list(dict.fromkeys(refs)),
               external_references=derived(f"finding/{ctx.kind}/{fid}"), **extra)
    if built.main_id == "":
        built.main_id = note["id"]
    built.objects.insert(1 if built.objects else 0, note)
    return built


def _evidence(item: dict[str, Any], ctx: FindingContext) -> list[str]:
    ids = [ctx.evidence_id(e) for e in item.get("event_ids") or []]
    for entry in item.get("evidence") or []:
        if isinstance(entry, dict):
            if entry.get("event_id"):
                ids.append(ctx.evidence_id(entry["event_id"]))
            elif entry.get("finding_id"):
                ids.append(ctx.finding_ref(entry["finding_id"]))
    return [i for i in ids if i]


def _episode(item, fid, ctx):
    targets, domains = list(item.get("targets") or []), list(item.get("domains") or [])
    start, end = item["start"], item["end"]
    name = f"Multi-domain episode against {', '.join(targets)}, {start} to {end}"
    text = (f"{name}: {len(domains)} domains active together ({', '.join(domains)}); "
            f"p = {_g(item.get('p_value'))}, scan statistic {_g(item.get('statistic'))}, "
            f"zone {item.get('zone')}, window {item.get('window_days')} days, "
            f"{item.get('n_events')} events.")
    campaign = sdo("campaign", f"finding:{fid}", ctx.stamp, created_by_ref=ctx.creator_id,
                   name=name, description=text, first_seen=stix_time(start),
                   last_seen=day_end(end), labels=domains,
                   external_references=derived(f"finding/episodes/{fid}"))
    countries = [t for t in targets if _is_iso3(t)]
    built = Built(campaign["id"], [campaign], countries=set(countries))
    places = {t: location_id(t) for t in countries}
    for name in (t for t in targets if not _is_iso3(t)):   # a theatre: its own location
        place = theatre_location(name)
        built.objects.append(place)
        places[name] = place["id"]
    for target in targets:
        built.objects.append(relationship("targets", campaign["id"], places[target],
                                          ctx.stamp, created_by_ref=ctx.creator_id))
    evidence = _evidence(item, ctx)
    for ref in evidence:
        if ref.split("--")[0] in ("campaign", "intrusion-set", "incident", "report"):
            built.objects.append(relationship("related-to", campaign["id"], ref, ctx.stamp,
                                              created_by_ref=ctx.creator_id))
    refs = [campaign["id"], *(places[t] for t in targets), *evidence]
    return built, text, refs, {}


def _is_iso3(where: str) -> bool:
    return len(where) == 3 and where.isalpha() and where.isupper()


def theatre_location(name: str) -> Obj:
    """A named theatre (an episode's where) as a STIX location: its name, the centre of its
    polygon's bounding box, and the countries it concerns in the description."""
    try:
        theatre = find_theatre(load_theatres(), name)
    except ValueError:
        return sdo("location", "theatre:" + name, REFERENCE_TIMESTAMP, name=name,
                   region="unknown")
    west, south, east, north = theatre.bbox
    return sdo("location", "theatre:" + theatre.name, REFERENCE_TIMESTAMP, name=theatre.name,
               latitude=round((south + north) / 2, 4), longitude=round((west + east) / 2, 4),
               description=f"hybridwatch theatre; countries concerned: "
                           f"{', '.join(theatre.countries)}")


def _selector_parts(label: str) -> tuple[list[str], list[str]]:
    from hybridwatch.analyses.selectors import parse_selector

    filters = parse_selector(label).as_mapping()
    return list(filters.get("actor_iso3", ())), list(filters.get("target_iso3", ()))


def _coincidence(item, fid, ctx):
    a, b = item["a"], item["b"]
    lag = item.get("best_lag_days")
    verdict = "significant" if item.get("significant") else "not significant"
    text = (f"Coincidence: {b} precedes {a} by {lag} days: precursor rate "
            f"{_number(item.get('precursor_rate'))}, trigger rate "
            f"{_number(item.get('trigger_rate'))}, p = {_g(item.get('p_value'))}, "
            f"q = {_g(item.get('q_value'))} ({verdict} at the run's FDR).")
    actors, targets = [], []
    for label in (b, a):
        found_actors, found_targets = _selector_parts(label)
        actors += found_actors
        targets += found_targets
    actors, targets = list(dict.fromkeys(actors)), list(dict.fromkeys(targets))
    note_key = f"note--{_note_uuid(fid)}"
    members = [*(actor_id(x) for x in actors), *(location_id(t) for t in targets), note_key]
    group = sdo("grouping", f"finding:{fid}", ctx.stamp, created_by_ref=ctx.creator_id,
                name=text.split(":")[0] + f": {b} precedes {a}", description=text,
                context="suspicious-activity", object_refs=members,
                external_references=derived(f"finding/coincidences/{fid}"))
    return Built(group["id"], [group], set(targets), set(actors)), text, [group["id"]], {}


def _note_uuid(fid: str) -> str:
    return stix_uuid("note", f"finding:{fid}")


def _narrative(item, fid, ctx):
    narrative = item.get("narrative")
    label = item.get("narrative_label") or ctx.narrative_label(narrative) or narrative
    text = (f"Narrative synchronisation: {label} ({narrative}): {item.get('lead_actor')} leads "
            f"by {item.get('lag_days')} days; p = {_g(item.get('p_value'))}, q = "
            f"{_g(item.get('q_value'))}; beyond the control outlets: "
            f"{'yes' if item.get('beyond_control') else 'no'}.")
    group = sdo("grouping", f"finding:{fid}", ctx.stamp, created_by_ref=ctx.creator_id,
                name=f"Narrative synchronisation: {label}", description=text,
                context="suspicious-activity", object_refs=[f"note--{_note_uuid(fid)}"],
                external_references=derived(f"finding/narrative_sync/{fid}"))
    return Built(group["id"], [group]), text, [group["id"]], {}


def _percent(value: Any) -> str:
    return f"{float(value):.0%}" if isinstance(value, (int, float)) else "n/a"


def _assessment(item, fid, ctx):
    target = item["target"]
    statement = item.get("statement") or f"{target}: {item.get('outcome')}"
    term, confidence = item.get("phia_term"), item.get("confidence")
    text = (f"{statement}\nProbability {_percent(item.get('probability'))} (interval "
            f"{_percent(item.get('low'))}–{_percent(item.get('high'))}), PHIA: {term}; "
            f"confidence: {confidence}. Outcome: {item.get('outcome')}.")
    drivers = [f"{d.get('name')}: {_short(d.get('value'))} (contribution "
               f"{_short(d.get('contribution'))})"
               for d in item.get("drivers") or [] if isinstance(d, dict)]
    if drivers:
        text += "\nDrivers: " + "; ".join(drivers) + "."
    note_id = f"note--{_note_uuid(fid)}"
    opinion = sdo("opinion", f"finding:{fid}", ctx.stamp, created_by_ref=ctx.creator_id,
                  opinion=opinion_of(term, item.get("probability")),
                  explanation=text.replace("\n", " "), object_refs=[note_id],
                  confidence=confidence_score(confidence),
                  external_references=derived(f"finding/assessment/{fid}"))
    built = Built("", [opinion], countries={target})
    refs = [location_id(target), *_evidence(item, ctx)]
    return built, text, refs, {"confidence": confidence_score(confidence)}


def _g(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, (int, float)) else "n/a"


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _number(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "n/a"


def _convergence(item, fid, ctx):
    a, b = item.get("a") or ctx.summary.get("a"), item.get("b") or ctx.summary.get("b")
    components = item.get("components") or {}
    text = (f"Convergence {a}–{b}, {item.get('period')}: index {_number(item.get('index'))} "
            f"(interval {_number(item.get('low'))}–{_number(item.get('high'))}); "
            f"confidence: {item.get('confidence')}; components: "
            + ", ".join(f"{k} {_number(v)}" for k, v in components.items()) + ".")
    actors = [x for x in (a, b) if x]
    built = Built("", [], actors=set(actors))
    return built, text, [actor_id(x) for x in actors] or [ctx.run_group_id], \
        {"confidence": confidence_score(item.get("confidence"))}


def _generic(item, fid, ctx):
    declared = get_kind(ctx.kind)
    fields = "; ".join(f"{name.replace('_', ' ')}: {_field(item.get(name))}"
                       for name in declared.display if item.get(name) is not None)
    text = f"{declared.title}: {declared.key(item)}" + (f"\n{fields}." if fields else "")
    if ctx.summary.get("caution"):
        text += f"\n{ctx.summary['caution']}"
    return Built(""), text, _evidence(item, ctx) or [ctx.run_group_id], {}


def _field(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return _short(value)


_BUILDERS: dict[str, Callable] = {
    "episodes": _episode, "coincidences": _coincidence, "narrative_sync": _narrative,
    "assessment": _assessment, "convergence": _convergence,
}
