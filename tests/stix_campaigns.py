"""One STIX 2.1 campaign as a partner would send it — identity, intrusion set, location,
campaign and its two relationships, all under one TLP marking — for tests that plant records
at chosen levels (the no-oracle tests)."""

from __future__ import annotations

from tlp_truth import TLP_IDS

ID_OF = {level: marking_id for marking_id, level in TLP_IDS.items()}
ISO2 = {"DEU": "DE", "EST": "EE", "FIN": "FI", "LVA": "LV"}


def campaign_objects(level: str, day: str, actor: str, target: str, source: str, domain: str,
                     k: int, *, name: str) -> list[dict]:
    """The objects of campaign ``k`` named ``name``: ids derive from ``level`` and ``k``."""
    ids = {kind: f"{kind}--00000000-0000-4000-8000-{level[:1]}{k:011d}"
           for kind in ("campaign", "intrusion-set", "location", "identity")}
    rels = [("attributed-to", ids["intrusion-set"]), ("targets", ids["location"])]
    base = {"spec_version": "2.1", "created": f"{day}T00:00:00.000Z",
            "modified": f"{day}T00:00:00.000Z", "object_marking_refs": [ID_OF[level]]}
    return [
        {**base, "type": "identity", "id": ids["identity"], "name": source,
         "identity_class": "organization"},
        {**base, "type": "intrusion-set", "id": ids["intrusion-set"], "name": actor},
        {**base, "type": "location", "id": ids["location"], "country": ISO2[target]},
        {**base, "type": "campaign", "id": ids["campaign"], "name": name,
         "first_seen": f"{day}T06:00:00Z", "created_by_ref": ids["identity"],
         "x_hybridwatch_domain": domain},
        *({**base, "type": "relationship", "relationship_type": kind,
           "id": f"relationship--00000000-0000-4000-8000-{level[:1]}{k:07d}{n:04d}",
           "source_ref": ids["campaign"], "target_ref": ref} for n, (kind, ref) in
          enumerate(rels))]
