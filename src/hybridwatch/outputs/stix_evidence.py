"""Evidence events as STIX 2.1 objects: one object per event, with its own marking.

* An event that came from a STIX bundle is shared as **its original object** — same id, same
  properties, same producer (``created_by_ref``) and markings — rebuilt from what the adapter
  kept (``source_record_id``, ``title``, ``extra``). Custom properties (``x_…``) are dropped so
  the bundle stays standard; if what remains is not valid STIX 2.1 the event falls back to:
* any other event becomes a ``sighting`` by the exporting organisation: ``first_seen`` /
  ``last_seen`` are when it happened, ``sighting_of_ref`` the threat actor of its actor country
  (or the unknown actor), ``where_sighted_refs`` the country it happened in (else its targets),
  ``labels`` its hybrid-threat domain, ``external_references`` the source record and its URL.
  ``created``/``modified`` are when the event entered the store, so re-exports are identical.

Original campaigns, intrusion sets and incidents also get ``attributed-to`` (the actor
country) and one ``targets`` relationship per target country, which is how the importing side
recovers ``actor_iso3`` and every one of ``target_iso3s``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


from hybridwatch.model.actors import public_actor_name
from hybridwatch.model.stix_findings import STIX_ID, TARGETS_EXTENSION_ID
from hybridwatch.model.tlp import TLP2_MARKING_IDS
from hybridwatch.outputs.stix_objects import (
    Obj, actor_id, location_id, producer_identity, relationship, sdo, stix_time,
)
from hybridwatch.model.versions import OWN_TLP_KEY, VERSION_KEY
from hybridwatch.store.event_queries import events_with_ingest_time
from hybridwatch.store.store import EventStore

#: Keys the STIX adapter adds to ``extra``; everything else in it is the original object.
ADAPTER_KEYS = frozenset({"stix_version", "time_property", "lifecycle", "revoked_by", "actors",
                          "targets", "uses", "notes", VERSION_KEY, OWN_TLP_KEY})
_RELATED_TYPES = ("campaign", "intrusion-set", "incident")
_COLUMNS = ("event_id", "source", "source_record_id", "occurred_at", "occurred_precision",
            "ended_at", "actor_name", "actor_iso3", "target_iso3s", "location_iso3", "domain",
            "source_type", "intensity", "intensity_kind", "title", "source_name", "source_url",
            "tlp", "extra")


@dataclass
class Evidence:
    """The STIX side of one event: its object, the level it is marked at, what it needs."""

    event_id: str
    obj: Obj
    level: str
    verbatim: bool                                  # a partner's object: keep its markings
    added: str = ""                                 # when it entered the store (STIX time)
    related: list[Obj] = field(default_factory=list)  # relationships it comes with
    countries: set[str] = field(default_factory=set)  # locations it references
    actors: set[str | None] = field(default_factory=set)  # country actors it references
    identity: Obj | None = None                      # its producer, if not us
    row: dict[str, Any] = field(default_factory=dict, repr=False)  # the event itself


def fetch_events(store: EventStore, event_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The events with these ids, with ``ingested_at`` (when their file was ingested)."""
    if not event_ids:
        return []
    return events_with_ingest_time(store, event_ids, _COLUMNS).to_pylist()


def evidence_for(row: dict[str, Any], org_id: str, *, original: bool = True) -> Evidence:
    """The STIX object (and company) standing for one event row; ``original=False`` forces
    the sighting (for a partner's report whose contents are not all shared)."""
    level = row["tlp"] or "clear"
    found = None
    if original and row["source"] == "stix":
        original = _original(row, level)
        if original is not None:
            found = _with_relationships(row, original, level, org_id)
    found = found or _sighting(row, level, org_id)
    found.added = _stamp(row)
    found.row = row
    found.countries |= {c for c in (row["location_iso3"], *row["target_iso3s"]) if c}
    if row["actor_iso3"]:
        found.actors.add(row["actor_iso3"])
    return found


def _stamp(row: dict[str, Any]) -> str:
    return stix_time(row["ingested_at"] or row["occurred_at"])


def _sighting(row: dict[str, Any], level: str, org_id: str) -> Evidence:
    first_seen = stix_time(row["occurred_at"])
    last_seen = stix_time(row["ended_at"]) if row["ended_at"] else first_seen
    places = [row["location_iso3"]] if row["location_iso3"] else list(row["target_iso3s"])
    reference = {"source_name": row["source"], "external_id": row["source_record_id"]}
    if row["source_url"]:
        reference["url"] = row["source_url"]
    if row["source_name"]:
        reference["description"] = row["source_name"]
    obj = sdo("sighting", "event:" + row["event_id"], _stamp(row), created_by_ref=org_id,
              first_seen=first_seen, last_seen=last_seen, count=1,
              sighting_of_ref=actor_id(row["actor_iso3"]),
              where_sighted_refs=[location_id(p) for p in places] or None,
              description=_describe(row), labels=[row["domain"]],
              external_references=[reference],
              extensions={TARGETS_EXTENSION_ID: {
                  "extension_type": "property-extension",
                  "target_refs": [location_id(t) for t in row["target_iso3s"]]}}
              if row["target_iso3s"] else None)
    return Evidence(row["event_id"], obj, level, verbatim=False,
                    countries=set(places) | set(row["target_iso3s"]),
                    actors={row["actor_iso3"]})


def _describe(row: dict[str, Any]) -> str:
    parts = [row["title"] or row["source_type"] or "event"]
    who = public_actor_name(row["actor_name"], row.get("source")) or row["actor_iso3"]
    facts = [f"domain {row['domain']}", f"type {row['source_type']}" if row["source_type"] else "",
             f"actor {who}" if who else "",
             f"target {', '.join(row['target_iso3s'])}" if row["target_iso3s"] else "",
             f"time known to the {row['occurred_precision']}"]
    if row["intensity"] is not None:
        facts.append(f"{row['intensity_kind'] or 'intensity'} {row['intensity']:g}")
    return f"{parts[0]} ({'; '.join(f for f in facts if f)})"


def _original(row: dict[str, Any], level: str) -> Obj | None:
    """The event's own STIX object as it came in (custom properties dropped), or None if it
    cannot be rebuilt as valid STIX 2.1."""
    ident, kind = row["source_record_id"], row["source_type"]
    if not (kind and STIX_ID.match(ident) and ident.startswith(kind + "--")):
        return None
    try:
        extra = json.loads(row["extra"] or "{}")
    except ValueError:
        return None
    obj: Obj = {"type": kind, "spec_version": "2.1", "id": ident}
    if kind != "sighting" and row["title"] is not None:
        obj["name"] = row["title"]
    obj.update({k: v for k, v in extra.items()
                if k not in ADAPTER_KEYS and not k.startswith("x_") and k != "spec_version"})
    markings = list(obj.get("object_marking_refs") or [])
    if TLP2_MARKING_IDS[level] not in markings:  # always carry the TLP 2.0 level explicitly
        markings.append(TLP2_MARKING_IDS[level])
    obj["object_marking_refs"] = markings
    return obj if _valid(obj) else None


def _valid(obj: Obj) -> bool:
    import stix2
    from stix2.exceptions import STIXError

    try:
        stix2.parse(obj, allow_custom=False, version="2.1")
    except (STIXError, ValueError, TypeError):
        return False
    return True


def _with_relationships(row: dict[str, Any], obj: Obj, level: str, org_id: str) -> Evidence:
    evidence = Evidence(row["event_id"], obj, level, verbatim=True)
    creator = obj.get("created_by_ref")
    if creator and row["source_name"]:
        evidence.identity = producer_identity(row["source_name"], creator)
    if obj["type"] in _RELATED_TYPES:
        # the object's own time, not the ingest's: re-importing must not change the links
        stamp = stix_time(obj.get("modified") or obj.get("created") or row["occurred_at"])
        if row["actor_iso3"]:
            evidence.actors.add(row["actor_iso3"])
            evidence.related.append(relationship("attributed-to", obj["id"],
                                                 actor_id(row["actor_iso3"]), stamp,
                                                 created_by_ref=org_id))
        for target in row["target_iso3s"]:  # one relationship per target it names
            evidence.countries.add(target)
            evidence.related.append(relationship("targets", obj["id"], location_id(target),
                                                 stamp, created_by_ref=org_id))
    return evidence
