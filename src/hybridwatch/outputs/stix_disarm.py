"""DISARM technique tags as STIX 2.1: attack-patterns, campaigns, OpenCTI narratives, ``uses``.

- Each technique used becomes an ``attack-pattern`` with the DISARM bundle's own id (so it
  merges with a DISARM import in OpenCTI), ``kill_chain_phases`` named ``"disarm"`` (the bundle
  says ``"mitre-attack"``), and an external reference ``DISARM``/``T…``.
- Each tagged disinformation case becomes a ``campaign`` (id derived from the event id); each
  tagged narrative becomes OpenCTI's ``narrative`` object (a custom SDO under OpenCTI's
  extension definition: name, description, aliases, narrative_types).
- ``uses`` relationships from the campaign or narrative to the attack-pattern carry the tag's
  confidence (0–100) and, in the description, the text that triggered it.
"""

from __future__ import annotations

from typing import Any

from hybridwatch.model.disarm import disarm_framework
from hybridwatch.outputs.stix_objects import producer_identity, relationship, sdo, stix_time

#: OpenCTI's STIX extension definition (its custom ``narrative`` SDO lives under it)
OPENCTI_EXTENSION = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba"
DISARM_URL = "https://github.com/DISARMFoundation/DISARMframeworks/blob/main/generated_pages/techniques/{}.md"

Obj = dict[str, Any]


def attack_pattern(technique_id: str, timestamp: str, creator: str) -> Obj:
    framework = disarm_framework()
    t = framework.techniques[technique_id]
    return {"type": "attack-pattern", "spec_version": "2.1", "id": t.stix_id,
            "created": timestamp, "modified": timestamp, "created_by_ref": creator,
            "name": t.name, "description": t.summary,
            "kill_chain_phases": [{"kill_chain_name": framework.kill_chain_name,
                                   "phase_name": t.phase}],
            "external_references": [{"source_name": "DISARM", "external_id": t.id,
                                     "url": DISARM_URL.format(t.id)}],
            "x_disarm_licence": f"{framework.licence}; {framework.attribution}"}


def disarm_objects(cases: list[dict], narratives: list[dict], *, producer: str,
                   generated_at) -> list[Obj]:
    """STIX objects for tagged ``cases`` (each ``event_id``, ``title``, ``occurred_at``,
    ``url``, ``techniques``) and ``narratives`` (each ``narrative_id``, ``label``, ``terms``,
    ``techniques``); a technique is each tag's dict (``technique``, ``confidence``,
    ``evidence``, ``method``)."""
    stamp = stix_time(generated_at)
    identity = producer_identity(producer)
    creator = identity["id"]
    objects: list[Obj] = [identity]
    used: set[str] = set()

    def uses(source_id: str, tag: dict) -> Obj:
        used.add(tag["technique"])
        return relationship("uses", source_id, disarm_framework().techniques[tag["technique"]]
                            .stix_id, stamp, created_by_ref=creator,
                            confidence=round(100 * float(tag["confidence"])),
                            description=f"{tag['method']}: {tag['evidence']}")

    for case in cases:
        if not case["techniques"]:
            continue
        campaign = sdo("campaign", f"disinformation-case:{case['event_id']}", stamp,
                       created_by_ref=creator, name=case["title"] or case["event_id"],
                       first_seen=stix_time(case["occurred_at"]) if case.get("occurred_at")
                       else None,
                       external_references=[{"source_name": "EUvsDisinfo", "url": case["url"]}]
                       if case.get("url") else None)
        objects.append(campaign)
        objects += [uses(campaign["id"], tag) for tag in case["techniques"]]
    for narrative in narratives:
        if not narrative["techniques"]:
            continue
        obj = sdo("narrative", f"narrative:{narrative['narrative_id']}", stamp,
                  created_by_ref=creator, name=narrative["label"],
                  description="Terms: " + ", ".join(narrative.get("terms") or []),
                  aliases=[narrative["narrative_id"]],
                  extensions={OPENCTI_EXTENSION: {"extension_type": "new-sdo"}})
        objects.append(obj)
        objects += [uses(obj["id"], tag) for tag in narrative["techniques"]]
    objects += [attack_pattern(t, stamp, creator) for t in sorted(used)]
    return objects
