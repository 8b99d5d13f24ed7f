"""STIX 2.0 and 2.1 bundles: campaigns, intrusion sets, incidents, sightings and reports as events.

Which objects become events: ``campaign``, ``intrusion-set``, ``incident``, ``sighting`` and
``report``: each says that something happened (or was active) at a time. Everything else is
context: ``threat-actor``, ``identity`` and ``location`` resolve actors, targets and places;
``malware``, ``tool`` and ``attack-pattern`` are named in ``extra.uses`` of the event that uses
them (they describe capabilities, not occurrences, so counting them as events would inflate
series); marking definitions give the TLP.

=================  ==========================================================================
event field        STIX source
=================  ==========================================================================
source_record_id   ``id``; ``source_type`` is ``type``; ``title`` is ``name`` ("Sighting of X"
                   for sightings, which have no name)
occurred_at        first parseable of ``first_seen``, ``published``, ``created`` (its precision;
                   "second" for full timestamps); ``extra.time_property`` says which one. An
                   unparseable value is skipped and noted in ``extra.notes``; an object with no
                   usable time is rejected. ATT&CK intrusion sets have no ``first_seen``: their
                   time is ``created`` (when ATT&CK wrote them), not when the group began.
ended_at           ``last_seen`` (dropped with a note if before ``occurred_at``)
actor_code / name  the intrusion set or threat actor itself; for campaigns and incidents the
                   targets of ``attributed-to``; for sightings the sighted actor (or the sighted
                   campaign's actor); for reports the actors in ``object_refs``. Several actors
                   are joined with "; " in file order (never one picked), all in ``extra.actors``
actor_iso3         ``country`` (ISO2) of the actor's ``originates-from`` location, else of the
                   threat actor/identity it is ``attributed-to``; an attributed-to identity
                   whose *name* is a country counts (the bundle states it). Never guessed from
                   the actor's own name or description. Null when several actors disagree.
target_iso3s       every country among ``targets`` (location ``country``, or identity
                   ``country``/``x_country``/``located-at``; for sightings also the locations
                   in hybridwatch's targets extension, ``model.stix_findings``), in order,
                   no repeats; all
                   targets (countries or not) in ``extra.targets``
target_sector      the targeted identities' ``sectors``, joined with "; "
location_*, lat    sightings: ``where_sighted_refs``; others: ``located-at``, else the first
                   targeted location or located identity
domain             "cyber"; ``x_hybridwatch_domain`` or the first ``labels`` value that names a
                   hybrid-threat domain ("disinformation" → information) overrides it
source_name        name of the ``created_by_ref`` identity; ``source_url`` the first
                   ``external_references`` url
tlp                ``object_marking_refs`` and ``granular_markings``: TLP 2.0 and 1.0 ids
                   (WHITE → clear), or marking definitions in the bundle (``tlp`` definitions,
                   the TLP 2.0 extension, statements naming a level); the most restrictive
                   wins. Fails closed: a marking that cannot be mapped for sure (an id neither
                   published nor in the bundle, an unreadable level, an unknown definition
                   type) makes the object RED; a statement naming no level (a copyright) is not
                   a TLP marking
extra              every other property verbatim (markings, ``created_by_ref``, description,
                   aliases, kill chain ...) plus ``stix_version``, ``lifecycle`` ("active",
                   "deprecated" for ``x_mitre_deprecated``, "revoked"; kept, never dropped),
                   ``revoked_by``, ``actors``, ``targets``, ``uses``, ``notes``
=================  ==========================================================================

An id that occurs several times (versions) gives one event, from the latest ``modified``.
A bundle exported by hybridwatch carries findings besides evidence (``adapters.stix_findings``):
the objects it derived (an episode's campaign, the export's report) are not events, and the
finding runs its notes hold travel with the last batch (``Batch.findings``) for ingest to
restore into the findings store. A threat actor's country is also read from its ``located-at``
location (how STIX 2.1 places a threat actor).
Rejected one by one: entries with no ``id`` or ``type``, relationships with no ends, and events
with no usable time (locator ``object <index> (<id>)``, raw = the object as JSON). References to
ids not in the bundle are kept as ``extra.notes``. Not a bundle → ``FormatError``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from hybridwatch.adapters.base import (
    RECORD_FAULTS,
    record_error,
    Adapter,
    Batch,
    ReadOptions,
    RecordError,
    Rejection,
    RowBuilder,
)
from hybridwatch.model.stix_findings import derived_id, extension_target_refs, finding_runs
from hybridwatch.adapters.textio import decode_head, read_json
from hybridwatch.errors import FormatError
from hybridwatch.model.countries import to_iso3
from hybridwatch.model.domains import normalise_domain
from hybridwatch.model.tlp import (
    LEVEL_BY_MARKING_ID, level_from_word, levels_in_text, most_restricted,
)
from hybridwatch.model.times import parse_time
from hybridwatch.model.versions import OWN_TLP_KEY, VERSION_KEY, stix_version

SOURCE = "stix"
FLUSH_ROWS = 50_000
EVENT_TYPES = ("campaign", "intrusion-set", "incident", "sighting", "report")
ACTOR_TYPES = ("intrusion-set", "threat-actor")
TIME_PROPERTIES = ("first_seen", "published", "created")
_MAPPED = ("id", "type", "name")
_DERIVED_ONLY = (VERSION_KEY, OWN_TLP_KEY)  # ours alone: an object's own property never sets them
_BUNDLE_HEAD = re.compile(r'"type"\s*:\s*"bundle"|"id"\s*:\s*"bundle--')
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")  # STIX allows nanoseconds; strptime takes 6 digits

Obj = dict[str, Any]


class StixAdapter(Adapter):
    name = "stix"
    description = "STIX 2.0/2.1 bundle (campaigns, intrusion sets, incidents, sightings, reports)"

    def sniff(self, path: Path, head: bytes) -> int:
        text = decode_head(head).lstrip()
        return 95 if text.startswith("{") and _BUNDLE_HEAD.search(text) else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        bundle = _load_bundle(path)
        objects = bundle.get("objects") or []
        index = _Index(objects, str(bundle.get("spec_version") or ""))
        builder = RowBuilder("events", SOURCE, not_after=options.not_after())
        rejections: list[Rejection] = []
        derived = 0
        for position, obj in enumerate(objects):
            problem = _malformed(obj)
            if problem:
                rejections.append(_reject(position, obj, None, problem))
            # an id recurring with a later ``modified`` is a newer version: only that one counts;
            # what hybridwatch derived (findings, its report) is not an observation
            elif obj["type"] in EVENT_TYPES and index.by_id[obj["id"]] is obj:
                if derived_id(obj):
                    derived += 1
                else:
                    try:
                        builder.append(_event_row(obj, index))
                    except RECORD_FAULTS as caught:
                        exc = record_error(caught)
                        rejections.append(_reject(position, obj, exc.field, exc.reason))
            if len(builder) >= FLUSH_ROWS:
                yield Batch("events", builder.flush(), rejections)
                rejections = []
        bad_notes: list[tuple[int, str]] = []
        runs = finding_runs(objects, lambda o: _tlp(o, index),
                            lambda o: _creator(o, index), bad_notes)
        rejections += [_reject(at, objects[at], None, reason) for at, reason in bad_notes]
        yield Batch("events", builder.flush(), rejections, skipped=derived, findings=runs)


ADAPTERS = (StixAdapter(),)


def _load_bundle(path: Path) -> Obj:
    """The bundle as a dict: ``InputError`` if unreadable JSON, ``FormatError`` if no bundle."""
    document = read_json(path)
    if not isinstance(document, dict) or document.get("type") != "bundle":
        hint = (" (a single STIX object: wrap it in a bundle)"
                if isinstance(document, dict) and "--" in str(document.get("id", "")) else "")
        raise FormatError(path, f'not a STIX bundle (no "type": "bundle" at the top){hint}')
    if not isinstance(document.get("objects", []), list):
        raise FormatError(path, "STIX bundle whose objects is not a list")
    return document


def _malformed(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return f"not a STIX object (a JSON {type(obj).__name__})"
    for key in ("type", "id"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            return f"missing {key}"
    if obj["type"] == "relationship" and not (obj.get("source_ref") and obj.get("target_ref")):
        return "relationship without source_ref or target_ref"
    return None


def _reject(position: int, obj: Any, field: str | None, reason: str) -> Rejection:
    ident = obj.get("id") if isinstance(obj, dict) else None
    return Rejection(reason=reason, raw=json.dumps(obj, ensure_ascii=False), field=field,
                     record=f"object {position} ({ident or 'no id'})")


class _Index:
    """The bundle's objects by id and its relationships by source, for resolving references."""

    def __init__(self, objects: list[Any], bundle_version: str) -> None:
        self.bundle_version = bundle_version
        self.by_id: dict[str, Obj] = {}
        self.versions: dict[str, list[Obj]] = defaultdict(list)
        self.out: dict[str, list[Obj]] = defaultdict(list)
        for obj in objects:
            if _malformed(obj):
                continue
            self.versions[obj["id"]].append(obj)
            known = self.by_id.get(obj["id"])  # several versions of one id: the latest wins
            if known is None or (stix_version(obj) or "") > (stix_version(known) or ""):
                self.by_id[obj["id"]] = obj
            if obj["type"] == "relationship" and not obj.get("revoked"):
                self.out[obj["source_ref"]].append(obj)

    def related(self, source_id: str, relationship: str, notes: list[str]) -> list[Obj]:
        """Targets of ``relationship`` from ``source_id``; unknown ids go to ``notes``."""
        found = []
        for rel in self.out.get(source_id, ()):
            if rel.get("relationship_type") == relationship:
                found.extend(self.resolve([rel["target_ref"]], notes, via=relationship))
        return found

    def resolve(self, ids: list[Any], notes: list[str], via: str) -> list[Obj]:
        found = []
        for ident in ids:
            obj = self.by_id.get(ident) if isinstance(ident, str) else None
            if obj is None:
                notes.append(f"{via}: {ident} is not in the bundle")
            else:
                found.append(obj)
        return found


def _event_row(obj: Obj, index: _Index) -> dict[str, Any]:
    notes: list[str] = []  # problems found while resolving; they end up in extra.notes
    occurred_at, precision, time_property = _start(obj, notes)
    actors = _actors(obj, index, notes)
    targets = _targets(obj, index, notes)
    target_countries = [t["iso3"] for t in targets if t.get("iso3")]
    sectors = list(dict.fromkeys(s for t in targets for s in t.get("sectors", [])))
    actor_countries = {a["iso3"] for a in actors if a.get("iso3")}
    count = obj.get("count")
    counted = isinstance(count, int) and not isinstance(count, bool)
    row = {
        "source_record_id": obj["id"], "source_type": obj["type"], "title": _title(obj, index),
        "occurred_at": occurred_at, "occurred_precision": precision,
        "ended_at": _end(obj, occurred_at, notes),
        "actor_code": "; ".join(a["id"] for a in actors) or None,
        "actor_name": "; ".join(a["name"] for a in actors if a.get("name")) or None,
        "actor_iso3": actor_countries.pop() if len(actor_countries) == 1 else None,
        "target_iso3s": target_countries,
        "target_sector": "; ".join(sectors) or None,
        **_place(obj, index, targets, notes),
        "domain": _domain(obj, notes),
        "intensity": float(count) if counted else None,
        "intensity_kind": "count" if counted else None,
        "source_name": _creator_name(obj, index, notes),
        "source_url": next((r["url"] for r in obj.get("external_references") or []
                            if isinstance(r, dict) and r.get("url")), None),
        "tlp": _version_tlp(obj, index),
    }
    # STIX 2.1 requires spec_version on every object: without one (nor on the bundle) it is 2.0
    derived = {"stix_version": obj.get("spec_version") or index.bundle_version or "2.0",
               "time_property": time_property, "lifecycle": _lifecycle(obj),
               "revoked_by": [o["id"] for o in index.related(obj["id"], "revoked-by", notes)],
               "actors": actors, "targets": targets, "uses": _uses(obj, index, notes),
               VERSION_KEY: stix_version(obj)}
    own = _tlp(obj, index)
    if own != row["tlp"]:  # an earlier version in this bundle was more restricted
        derived[OWN_TLP_KEY] = own or "clear"
    derived["notes"] = notes  # last: every step above may add to it
    extra = {k: v for k, v in obj.items() if k not in _MAPPED and k not in _DERIVED_ONLY}
    extra.update({k: v for k, v in derived.items() if v not in (None, [])})
    return {**row, "extra": extra}


def _parse_stix_time(value: Any) -> tuple[datetime, str]:
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp ({value!r})")
    return parse_time(_LONG_FRACTION.sub(r"\1", value))


def _start(obj: Obj, notes: list[str]) -> tuple[datetime, str, str]:
    for prop in TIME_PROPERTIES:
        if prop not in obj:
            continue
        try:
            stamp, precision = _parse_stix_time(obj[prop])
        except ValueError:
            notes.append(f"{prop}: not a timestamp ({obj[prop]!r})")
            continue
        return stamp, precision, prop
    raise RecordError("first_seen", "no usable time (first_seen, published, created)")


def _end(obj: Obj, occurred_at: datetime, notes: list[str]) -> datetime | None:
    if "last_seen" not in obj:
        return None
    try:
        ended_at, _ = _parse_stix_time(obj["last_seen"])
    except ValueError:
        notes.append(f"last_seen: not a timestamp ({obj['last_seen']!r})")
        return None
    if ended_at < occurred_at:
        notes.append(f"last_seen: before the start ({obj['last_seen']}), dropped")
        return None
    return ended_at


def _lifecycle(obj: Obj) -> str:
    if obj.get("revoked"):
        return "revoked"
    return "deprecated" if obj.get("x_mitre_deprecated") else "active"


def _title(obj: Obj, index: _Index) -> str | None:
    if obj["type"] == "sighting":
        sighted = index.by_id.get(obj.get("sighting_of_ref", ""), {})
        return f"Sighting of {sighted.get('name') or obj.get('sighting_of_ref')}"
    return obj.get("name")


def _actors(obj: Obj, index: _Index, notes: list[str]) -> list[dict[str, Any]]:
    """The actors an event names, each with id, type, name and (if the bundle states it) iso3."""
    kind = obj["type"]
    if kind in ACTOR_TYPES:
        found = [obj]
    elif kind == "sighting":
        sighted = index.resolve([obj.get("sighting_of_ref")], notes, via="sighting_of_ref")
        found = [s for s in sighted if s["type"] in ACTOR_TYPES]
        for campaign in (s for s in sighted if s["type"] == "campaign"):
            found += _attributed_actors(campaign, index, notes)
    elif kind == "report":
        refs = index.resolve(obj.get("object_refs") or [], notes, via="object_refs")
        found = [r for r in refs if r["type"] in ACTOR_TYPES]
    else:
        found = _attributed_actors(obj, index, notes)
    unique = list({a["id"]: a for a in found}.values())
    described = ({"id": a["id"], "type": a["type"], "name": a.get("name"),
                  "iso3": _actor_country(a, index, notes)} for a in unique)
    return [{k: v for k, v in d.items() if v is not None} for d in described]


def _attributed_actors(obj: Obj, index: _Index, notes: list[str]) -> list[Obj]:
    return [a for a in index.related(obj["id"], "attributed-to", notes)
            if a["type"] in (*ACTOR_TYPES, "identity")]


def _actor_country(actor: Obj, index: _Index, notes: list[str]) -> str | None:
    """Where the bundle says the actor comes from: its own or its sponsor's origin location."""
    for candidate in (actor, *index.related(actor["id"], "attributed-to", notes)):
        places = index.related(candidate["id"], "originates-from", notes)
        if candidate["type"] == "threat-actor":  # STIX 2.1 places threat actors with located-at
            places += index.related(candidate["id"], "located-at", notes)
        for place in places:
            if iso3 := _country_of(place, index, notes):
                return iso3
        if candidate["type"] == "identity":
            try:  # an actor attributed to an identity named after a state: the bundle says so
                if iso3 := to_iso3(candidate.get("name"), "name"):
                    return iso3
            except ValueError:
                pass
    return None


def _country_of(obj: Obj, index: _Index, notes: list[str]) -> str | None:
    """ISO3 of a location or identity (``country``/``x_country``, else its ``located-at``)."""
    value = obj.get("country") or obj.get("x_country")
    if value:
        try:
            return to_iso3(str(value))
        except ValueError as exc:
            notes.append(f"{obj['id']}: {exc}")
            return None
    if obj["type"] == "identity":
        for place in index.related(obj["id"], "located-at", notes):
            if iso3 := _country_of(place, index, notes):
                return iso3
    return None


def _targets(obj: Obj, index: _Index, notes: list[str]) -> list[dict[str, Any]]:
    targets = []
    related = index.related(obj["id"], "targets", notes)
    if obj["type"] == "sighting" and extension_target_refs(obj):
        # hybridwatch's sightings name their targets in an extension (an SRO cannot be the
        # source of a targets relationship)
        related = related + index.resolve(extension_target_refs(obj), notes,
                                          via="targets extension")
    for target in related:
        entry: dict[str, Any] = {"id": target["id"], "type": target["type"],
                                 "name": target.get("name")}
        if target["type"] in ("location", "identity"):
            entry["iso3"] = _country_of(target, index, notes)
        if target.get("sectors"):
            entry["sectors"] = [str(s) for s in target["sectors"]]
        targets.append({k: v for k, v in entry.items() if v is not None})
    return targets


def _place(obj: Obj, index: _Index, targets: list[dict[str, Any]],
           notes: list[str]) -> dict[str, Any]:
    """Where it happened: sighted-where, else located-at, else the first targeted place."""
    if obj["type"] == "sighting":
        places = index.resolve(obj.get("where_sighted_refs") or [], notes, via="where_sighted_refs")
    else:
        places = index.related(obj["id"], "located-at", notes)
        places = places or [index.by_id[t["id"]] for t in targets
                            if t["type"] in ("location", "identity")]
    for place in places:
        if place["type"] == "identity":  # an identity is somewhere through its located-at
            place = next(iter(index.related(place["id"], "located-at", notes)), place)
        iso3 = _country_of(place, index, notes)
        lat, lon = place.get("latitude"), place.get("longitude")
        if iso3 or place["type"] == "location":
            numeric = isinstance(lat, (int, float)) and isinstance(lon, (int, float))
            return {"location_name": place.get("name") or place.get("city"),
                    "location_iso3": iso3, "lat": float(lat) if numeric else None,
                    "lon": float(lon) if numeric else None}
    return {}


def _uses(obj: Obj, index: _Index, notes: list[str]) -> list[dict[str, str]]:
    return [{"id": u["id"], "type": u["type"], "name": u.get("name", "")}
            for u in index.related(obj["id"], "uses", notes)]


def _domain(obj: Obj, notes: list[str]) -> str:
    explicit = obj.get("x_hybridwatch_domain")
    if isinstance(explicit, str):
        try:
            return normalise_domain(explicit)
        except ValueError as exc:
            notes.append(f"x_hybridwatch_domain: {exc}")
    for label in obj.get("labels") or []:
        try:
            return normalise_domain(str(label))
        except ValueError:
            continue
    return "cyber"


def _creator_name(obj: Obj, index: _Index, notes: list[str]) -> str | None:
    ref = obj.get("created_by_ref")
    if not ref:
        return None
    creator = index.resolve([ref], notes, via="created_by_ref")
    return creator[0].get("name") if creator else None


def _creator(obj: Obj, index: _Index) -> dict[str, str] | None:
    """The producer identity of ``obj`` as ``{"id", "name"}``, if the bundle names it."""
    creator = index.by_id.get(obj.get("created_by_ref") or "")
    if creator and creator.get("name"):
        return {"id": creator["id"], "name": str(creator["name"])}
    return None


def _version_tlp(obj: Obj, index: _Index) -> str | None:
    """The most restrictive marking among every version of ``obj``'s id in the bundle: a later
    version does not loosen a marking by itself (only a signed re-release does, at ingest)."""
    levels = [_tlp(version, index) for version in index.versions.get(obj["id"], [obj])]
    marked = [level for level in levels if level is not None]
    return most_restricted(marked) if marked else None


def _tlp(obj: Obj, index: _Index) -> str | None:
    """The most restrictive TLP level among the object's markings, None if it has none.

    Fails closed: a marking that cannot be mapped with certainty makes the object RED.
    Object-level and granular markings count alike (the object takes its most restrictive).
    """
    refs = obj.get("object_marking_refs") or []
    refs = [refs] if isinstance(refs, str) else list(refs) if isinstance(refs, list) else [refs]
    granular = obj.get("granular_markings")
    for marking in granular if isinstance(granular, list) else [granular] if granular else []:
        refs.append(marking.get("marking_ref") if isinstance(marking, dict) else marking)
    levels = [level for ref in refs if (level := _level_of_marking(ref, index)) != _NOT_TLP]
    return most_restricted(levels) if levels else None


_NOT_TLP = "not-tlp"  # a marking known to say nothing about sharing (a copyright statement)


def _level_of_marking(ref: object, index: _Index) -> str:
    """The TLP level a marking reference stands for; RED when it cannot be mapped for sure."""
    if not isinstance(ref, str):
        return "red"
    if ref in LEVEL_BY_MARKING_ID:
        return LEVEL_BY_MARKING_ID[ref]
    marking = index.by_id.get(ref)
    if not marking or marking.get("type") != "marking-definition":
        return "red"  # not in the bundle and not a published TLP id: unknown
    definition = marking.get("definition")
    definition = definition if isinstance(definition, dict) else {}
    for extension in (marking.get("extensions") or {}).values():
        if isinstance(extension, dict) and "tlp_2_0" in extension:
            return level_from_word(extension["tlp_2_0"]) or "red"
    kind = str(marking.get("definition_type") or "").strip().lower()
    if kind == "tlp":
        return level_from_word(definition.get("tlp")) or "red"
    named = levels_in_text(definition.get("statement")) + levels_in_text(marking.get("name"))
    if named:
        return most_restricted(named)
    return _NOT_TLP if kind == "statement" else "red"
